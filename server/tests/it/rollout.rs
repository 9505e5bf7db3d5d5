//! Deploys that hold in real conditions, on the real engine, compose CLI and registry: a client
//! that stops waiting, two services of one compose file deployed in one cycle, and check
//! cycles running while a deploy is verified.

use std::time::{Duration, Instant};

use berth::api::token::TokenScope;
use berth::engine::Action;
use berth::store::{Revision, Verdict};
use futures::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use testkit::{ImageSpec, Registry};
use tokio_util::sync::CancellationToken;

use crate::api::server::{ApiServer, take_events};
use crate::deploy::harness::{
    Project, action_of, components_present, engine, env_file, push, running_and_expected,
};

/// `sleep` as PID 1 ignores SIGTERM, so compose waits the whole grace period before it
/// kills the old container: the window a client's disconnect used to cut a deploy in.
const SLOW_TO_STOP: &str = "services:\n  app:\n    image: {registry}/team/app:1.0.0\n    restart: \"no\"\n    stop_grace_period: 4s\n";

/// Wait until the service's newest revision has a verdict; that revision.
async fn verdict_of_newest(store: &berth::store::Store, service_id: i64) -> Revision {
    let clock = Instant::now();
    loop {
        let revisions = store.revisions(service_id).await.unwrap();
        if let Some(newest) = revisions.first()
            && newest.verdict.0 != Verdict::InProgress
        {
            return newest.clone();
        }
        assert!(
            clock.elapsed() < Duration::from_secs(180),
            "no verdict after 3 minutes: {revisions:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_whose_client_stops_waiting_still_ends_verified() {
    if !components_present() {
        return;
    }
    let registry = Registry::start();
    push(&registry, "1.0.0");
    let project = Project::new("hangup", SLOW_TO_STOP, &registry.host());
    project.up();
    push(&registry, "1.1.0");
    let state = tempfile::tempdir().unwrap();
    let env = env_file(
        state.path(),
        "HANGUP",
        &project.compose_file,
        "UPDATE_MODE=notify\n",
    );
    let (engine, store) = engine(&env, state.path()).await;
    engine.check_all(false).await.unwrap();
    let service_id = store.service_records().await.unwrap()[0].id;
    let server = ApiServer::start(engine, store.clone(), &env).await;
    let token = server.token("ci", TokenScope::Write).await;

    // A client (or a proxy) that gives up mid-way through the old container's stop.
    let sent = server
        .request(
            Method::POST,
            &format!("/services/{service_id}/deploy"),
            Some(&token),
        )
        .json(&json!({"tag": "1.1.0"}))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(
        sent.as_ref().is_err_and(reqwest::Error::is_timeout),
        "the deploy must outlast the client: {sent:?}"
    );

    let revision = verdict_of_newest(&store, service_id).await;
    assert_eq!(
        (revision.verdict.0, revision.tag.as_str()),
        (Verdict::Verified, "1.1.0"),
        "{revision:#?}"
    );
    let image = format!("{}/team/app:1.1.0", registry.host());
    let (running, expected) = running_and_expected(&project.name, "app", &image).await;
    assert_eq!(running, expected, "the new version runs");
    let service = store.service(service_id).await.unwrap().unwrap();
    assert_eq!(
        (service.state, service.current_tag.as_deref()),
        (app::model::SyncState::Synced, Some("1.1.0"))
    );
}

const TWO_SERVICES: &str = "services:\n  app:\n    image: {registry}/team/app:1.0.0\n    restart: \"no\"\n  worker:\n    image: {registry}/team/worker:1.0.0\n    restart: \"no\"\n";

#[tokio::test(flavor = "multi_thread")]
async fn two_services_of_one_file_deploy_one_after_the_other_and_each_verdict_holds() {
    if !components_present() {
        return;
    }
    let registry = Registry::start();
    let worker = |tag: &str, spec: ImageSpec| registry.push_image("team/worker", tag, &spec);
    push(&registry, "1.0.0");
    worker("1.0.0", ImageSpec::new("worker 1.0.0"));
    let project = Project::new("sharedfile", TWO_SERVICES, &registry.host());
    project.up();
    let state = tempfile::tempdir().unwrap();
    let env = env_file(
        state.path(),
        "SHAREDFILE",
        &project.compose_file,
        "DOCKERHUB_REPOSITORY_MAP_SHAREDFILE=app=team/app,worker=team/worker\n",
    );
    let (engine, store) = engine(&env, state.path()).await;

    // Twice, so that the two deploys meet in either order: each round the app's new tag
    // works and the worker's exits at once (and is rolled back, then ignored).
    for round in ["1.1.0", "1.2.0"] {
        push(&registry, round);
        worker(
            round,
            ImageSpec::new(format!("worker {round}")).cmd(&["sh", "-c", "exit 3"]),
        );
        let report = engine.check_all(false).await.unwrap();
        assert_eq!(
            action_of(&report, "app"),
            &Action::Deployed { tag: round.into() },
            "{report:#?}"
        );
        assert!(
            matches!(action_of(&report, "worker"), Action::RolledBack { tag, .. } if tag == round),
            "{report:#?}"
        );

        let text = project.read("compose.yml");
        assert!(text.contains(&format!("team/app:{round}")), "{text}");
        assert!(text.contains("team/worker:1.0.0"), "{text}");
        let host = registry.host();
        let (running, expected) =
            running_and_expected(&project.name, "app", &format!("{host}/team/app:{round}")).await;
        assert_eq!(running, expected, "the app runs {round}");
        let (running, expected) = running_and_expected(
            &project.name,
            "worker",
            &format!("{host}/team/worker:1.0.0"),
        )
        .await;
        assert_eq!(running, expected, "the worker runs 1.0.0 again");
    }
    for service in store.service_records().await.unwrap() {
        for revision in store.revisions(service.id).await.unwrap() {
            let reason = revision.reason.clone().unwrap_or_default();
            assert!(
                !reason.contains("changed by someone else") && !reason.contains("not overwritten"),
                "{revision:#?}"
            );
        }
    }
}

/// Every `service_state` of `service_id` on the stream, until `deploy_finished` of it has
/// come and `after` has passed since.
async fn states_until_after_verdict(
    response: reqwest::Response,
    service_id: i64,
    after: Duration,
) -> Vec<String> {
    let mut stream = response.bytes_stream();
    let mut text = String::new();
    let mut states = Vec::new();
    let mut deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    loop {
        let chunk = match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(chunk)) => chunk.unwrap(),
            Ok(None) => panic!("the event stream ended: {states:?}"),
            Err(_) => return states,
        };
        text.push_str(&String::from_utf8_lossy(&chunk));
        for (event, data) in take_events(&mut text) {
            let data: Value = serde_json::from_str(&data).unwrap();
            if data["service_id"] != json!(service_id) {
                continue;
            }
            match event.as_str() {
                "service_state" => states.push(data["state"].as_str().unwrap().to_owned()),
                "deploy_finished" => deadline = tokio::time::Instant::now() + after,
                _ => {}
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn check_cycles_during_a_deploy_leave_its_states_to_it() {
    if !components_present() {
        return;
    }
    let registry = Registry::start();
    push(&registry, "1.0.0");
    let project = Project::new("owner", SLOW_TO_STOP, &registry.host());
    project.up();
    push(&registry, "1.1.0");
    let state = tempfile::tempdir().unwrap();
    // HEALTH_STABLE=4: several cycles fall inside the verification.
    let env = env_file(
        state.path(),
        "OWNER",
        &project.compose_file,
        "UPDATE_MODE=notify\nHEALTH_STABLE=4\n",
    );
    let (engine, store) = engine(&env, state.path()).await;
    engine.check_all(false).await.unwrap();
    let service_id = store.service_records().await.unwrap()[0].id;
    let engine = std::sync::Arc::new(engine);
    let shutdown = CancellationToken::new();
    let _stop_scheduler = shutdown.clone().drop_guard();
    tokio::spawn(
        engine
            .clone()
            .run_scheduler(Duration::from_secs(1), shutdown.clone()),
    );
    let server = ApiServer::start_shared(engine, store.clone(), &env).await;
    let token = server.token("ci", TokenScope::Write).await;
    let events = server
        .request(Method::GET, "/events", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let watcher = tokio::spawn(states_until_after_verdict(
        events,
        service_id,
        Duration::from_secs(3),
    ));

    let deployed = server
        .call(
            Method::POST,
            &format!("/services/{service_id}/deploy"),
            Some(&token),
            Some(json!({"tag": "1.1.0"})),
        )
        .await;
    assert_eq!(deployed.ok(200)["verdict"], "verified", "{deployed:#?}");
    assert_eq!(
        watcher.await.unwrap(),
        ["Deploying", "Verifying", "Synced"],
        "the rollout's states, in order, and nothing from the cycles around them"
    );
}

/// `chattr +i` for the test's length: even root cannot replace the file.
struct Immutable(std::path::PathBuf);

impl Immutable {
    fn set(path: &std::path::Path) -> Immutable {
        let done = std::process::Command::new("chattr")
            .arg("+i")
            .arg(path)
            .status()
            .unwrap();
        assert!(done.success(), "chattr +i {}", path.display());
        Immutable(path.to_owned())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(&self.0)
            .status();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_compose_file_berth_cannot_write_fails_once_then_waits_its_turn() {
    if !components_present() {
        return;
    }
    let registry = Registry::start();
    push(&registry, "1.0.0");
    let compose = "services:\n  app:\n    image: {registry}/team/app:1.0.0\n    restart: \"no\"\n";
    let project = Project::new("readonly", compose, &registry.host());
    project.up();
    push(&registry, "1.1.0");
    let state = tempfile::tempdir().unwrap();
    let env = env_file(state.path(), "READONLY", &project.compose_file, "");
    let (engine, store) = engine(&env, state.path()).await;
    let mut events = engine.events().subscribe();
    let _locked = Immutable::set(&project.compose_file);

    let first = engine.check_all(false).await.unwrap();
    assert!(
        matches!(action_of(&first, "app"), Action::DeployFailed { tag, .. } if tag == "1.1.0"),
        "{first:#?}"
    );
    for _ in 0..3 {
        let again = engine.check_all(false).await.unwrap();
        assert!(
            matches!(action_of(&again, "app"), Action::RetryLater { tag, .. } if tag == "1.1.0"),
            "held back, not tried every cycle: {again:#?}"
        );
    }
    let service = store.service_records().await.unwrap().remove(0);
    let revisions = store.revisions(service.id).await.unwrap();
    assert_eq!(revisions.len(), 1, "one failed revision: {revisions:#?}");
    assert!(
        store.ignored_tags(service.id).await.unwrap().is_empty(),
        "not the candidate's fault: not ignored"
    );
    let mut finished = 0;
    while let Ok(event) = events.try_recv() {
        if let berth::events::Event::DeployFinished { .. } = event {
            finished += 1;
        }
    }
    assert_eq!(finished, 1, "one deploy_finished, so one notification");
}
