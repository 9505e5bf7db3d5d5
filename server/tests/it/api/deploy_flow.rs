//! A real deploy and rollback through the API: a compose project on the real Docker engine,
//! fed by a real registry, driven over HTTP with a write token, watched over SSE.

use std::time::{Duration, Instant};

use berth::api::token::TokenScope;
use futures::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use testkit::Registry;

use super::server::{ApiServer, take_events};
use crate::deploy::harness::{
    Project, components_present, engine, env_file, push, running_and_expected,
};

const COMPOSE: &str =
    "services:\n  app:\n    image: {registry}/team/app:1.0.0\n    restart: \"no\"\n";

/// Read `/events` until a `deploy_finished` event arrives; its data.
async fn next_deploy_finished(response: reqwest::Response) -> Value {
    let mut stream = response.bytes_stream();
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        for (event, data) in take_events(&mut text) {
            if event == "deploy_finished" {
                return serde_json::from_str(&data).unwrap();
            }
        }
    }
    panic!("the event stream ended without a deploy_finished event: {text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_token_scans_deploys_and_rolls_back_a_compose_service() {
    if !components_present() {
        return;
    }
    let registry = Registry::start();
    push(&registry, "1.0.0");
    let project = Project::new("apiflow", COMPOSE, &registry.host());
    project.up();
    push(&registry, "1.1.0");
    let state = tempfile::tempdir().unwrap();
    // Notify mode: the check records the update and leaves the deploy to the API.
    let env = env_file(
        state.path(),
        "APIFLOW",
        &project.compose_file,
        "UPDATE_MODE=notify\n",
    );
    let (engine, store) = engine(&env, state.path()).await;
    engine.check_all(false).await.unwrap();
    let server = ApiServer::start(engine, store, &env).await;
    let token = server.token("ci", TokenScope::Write).await;
    let reader = server.token("dashboard-tv", TokenScope::Read).await;

    // A scan runs in the background and reports what a check would do.
    let started = server
        .call(Method::POST, "/updates/scan", Some(&token), None)
        .await;
    let scan_id = started.ok(202)["scan_id"].as_str().unwrap().to_owned();
    let clock = Instant::now();
    let scan = loop {
        let scan = server
            .get(&format!("/updates/scan/{scan_id}"), &reader)
            .await;
        let scan = scan.ok(200).clone();
        if scan["status"] != "running" {
            break scan;
        }
        assert!(
            clock.elapsed() < Duration::from_secs(120),
            "the scan never finished: {scan}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    println!("scan finished in {:?}", clock.elapsed());
    assert_eq!(scan["status"], "finished", "{scan}");
    assert_eq!(
        (
            &scan["results"][0]["service"],
            &scan["results"][0]["action"],
            &scan["results"][0]["tag"]
        ),
        (&json!("app"), &json!("notify"), &json!("1.1.0")),
        "{scan}"
    );

    let updates = server.get("/updates", &reader).await.ok(200).clone();
    assert_eq!(updates[0]["available_tag"], "1.1.0", "{updates}");
    let service_id = updates[0]["service_id"].as_i64().unwrap();

    // The read token cannot act on the real service either.
    for (path, body) in [
        (format!("/services/{service_id}/deploy"), json!({})),
        (
            format!("/services/{service_id}/rollback"),
            json!({"to": "1.0.0"}),
        ),
        (format!("/services/{service_id}/pin"), json!({})),
        (
            "/updates/exclusions".to_owned(),
            json!({"image": registry.host() + "/team/app"}),
        ),
    ] {
        server
            .call(Method::POST, &path, Some(&reader), Some(body))
            .await
            .problem(403, "insufficient-scope");
    }

    let events = server
        .request(Method::GET, "/events", Some(&reader))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let watcher = tokio::spawn(next_deploy_finished(events));

    let clock = Instant::now();
    let deployed = server
        .call(
            Method::POST,
            &format!("/services/{service_id}/deploy"),
            Some(&token),
            Some(json!({})),
        )
        .await;
    println!("deploy through the API took {:?}", clock.elapsed());
    let deployed = deployed.ok(200).clone();
    assert_eq!(
        (&deployed["tag"], &deployed["verdict"]),
        (&json!("1.1.0"), &json!("verified")),
        "{deployed}"
    );
    let image = |tag: &str| format!("{}/team/app:{tag}", registry.host());
    let (running, expected) = running_and_expected(&project.name, "app", &image("1.1.0")).await;
    assert_eq!(running, expected, "the container runs 1.1.0");
    let event = watcher.await.unwrap();
    assert_eq!(
        (&event["service_id"], &event["tag"]),
        (&json!(service_id), &json!("1.1.0")),
        "{event}"
    );

    let clock = Instant::now();
    let rolled = server
        .call(
            Method::POST,
            &format!("/services/{service_id}/rollback"),
            Some(&token),
            Some(json!({"to": "1.0.0"})),
        )
        .await;
    println!("rollback through the API took {:?}", clock.elapsed());
    let rolled = rolled.ok(200).clone();
    assert_eq!(
        (&rolled["tag"], &rolled["verdict"]),
        (&json!("1.0.0"), &json!("verified")),
        "{rolled}"
    );
    let (running, expected) = running_and_expected(&project.name, "app", &image("1.0.0")).await;
    assert_eq!(running, expected, "the container runs 1.0.0 again");
    assert!(project.read("compose.yml").contains("team/app:1.0.0"));

    let service = server
        .get(&format!("/services/{service_id}"), &reader)
        .await
        .ok(200)
        .clone();
    assert_eq!(
        (&service["current_tag"], &service["ignored_tags"]),
        (&json!("1.0.0"), &json!(["1.1.0"])),
        "{service}"
    );
    let revisions = server
        .get(&format!("/services/{service_id}/revisions"), &reader)
        .await
        .ok(200)
        .clone();
    let summary: Vec<(String, String, String)> = revisions
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_owned(),
                r["tag"].as_str().unwrap().to_owned(),
                r["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("rollback".into(), "1.0.0".into(), "token:ci".into()),
            ("deploy".into(), "1.1.0".into(), "token:ci".into())
        ]
    );

    // Nothing newer than what is ignored: deploying without a tag says so.
    server
        .call(
            Method::POST,
            &format!("/services/{service_id}/deploy"),
            Some(&token),
            Some(json!({})),
        )
        .await
        .problem(409, "nothing-to-deploy");
}
