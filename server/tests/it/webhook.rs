//! Registry webhooks: a real `docker-registry` notifies Berth of a push, and the
//! pushed tag is deployed and verified without waiting for CHECK_INTERVAL (set to an hour).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::Registry;

use crate::api::server::ApiServer;
use crate::deploy::harness::{Project, components_present, engine, env_file, push};

const COMPOSE: &str =
    "services:\n  app:\n    image: {registry}/team/app:1.0.0\n    restart: \"no\"\n";
const SECRET: &str = "hook-s3cret";

/// The registry config section that sends every event to `url` with the shared secret.
fn notifications(url: &str) -> String {
    format!(
        "notifications:\n  endpoints:\n    - name: berth\n      url: {url}\n      \
         headers:\n        Authorization: [\"Bearer {SECRET}\"]\n      \
         timeout: 5s\n      threshold: 3\n      backoff: 1s\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_push_is_deployed_and_verified_without_waiting_for_the_interval() {
    if !components_present() {
        return;
    }
    // Berth first (the registry's config needs its address), on an env file that already
    // holds the secret: the web server reads it at start.
    let state = tempfile::tempdir().unwrap();
    let settings =
        format!("CHECK_INTERVAL=1h\nWEBHOOK_SECRET={SECRET}\nDISCOVER_FROM_LABELS=false\n");
    let env = state.path().join(".updater.env");
    std::fs::write(&env, &settings).unwrap();
    let (engine, store) = engine(&env, state.path()).await;
    let server = ApiServer::start(engine, store, &env).await;
    let hook = server.base.replace("/api/v1", "/hooks/registry");

    let registry = Registry::start_with(&notifications(&hook));
    push(&registry, "1.0.0");
    let project = Project::new("webhook", COMPOSE, &registry.host());
    project.up();
    // The engine re-reads the env file every cycle: now it manages the project.
    env_file(state.path(), "WEBHOOK", &project.compose_file, &settings);

    let pushed = Instant::now();
    push(&registry, "1.1.0");
    let push_took = pushed.elapsed();
    let deadline = pushed + Duration::from_secs(120);
    let verified_after = loop {
        let records = server.store.service_records().await.unwrap();
        let deployed = records.iter().find(|service| {
            service.name == "app" && service.current_tag.as_deref() == Some("1.1.0")
        });
        if let Some(service) = deployed {
            let revisions = server.store.revisions(service.id).await.unwrap();
            if revisions
                .iter()
                .any(|r| r.tag == "1.1.0" && r.verdict.0 == berth::store::Verdict::Verified)
            {
                break pushed.elapsed();
            }
        }
        assert!(
            Instant::now() < deadline,
            "1.1.0 was not deployed within 120 s of the push (CHECK_INTERVAL is 1h); \
             registry log:\n{}",
            registry.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    println!(
        "push to verified: {verified_after:?} (the skopeo push itself took {push_took:?}; \
         CHECK_INTERVAL=1h)"
    );
    let log = registry.log();
    assert!(
        !log.contains("retryingsink: error writing events"),
        "the registry had to retry its notifications: {log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_endpoint_checks_the_secret_and_names_what_is_wrong_with_a_body() {
    if !components_present() {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let env = state.path().join(".updater.env");
    std::fs::write(
        &env,
        format!("WEBHOOK_SECRET={SECRET}\nDISCOVER_FROM_LABELS=false\n"),
    )
    .unwrap();
    let (engine, store) = engine(&env, state.path()).await;
    let server = ApiServer::start(engine, store, &env).await;
    let hook = server.base.replace("/api/v1", "/hooks/registry");
    let client = reqwest::Client::new();
    let send = |url: String, authorization: Option<String>, body: Value| {
        let client = client.clone();
        async move {
            let mut request = client.post(url).json(&body);
            if let Some(value) = authorization {
                request = request.header("authorization", value);
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let distribution = json!({"events": [{"action": "push", "target": {
        "repository": "team/app", "tag": "2.0.0", "digest": "sha256:ab",
        "mediaType": "application/vnd.oci.image.manifest.v1+json"}, "request": {"host": "r"}}]});

    let (status, body) = send(hook.clone(), None, distribution.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = send(
        hook.clone(),
        Some("Bearer wrong".into()),
        distribution.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, body) = send(hook.clone(), Some(format!("Bearer {SECRET}")), distribution).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["checking"], json!(["team/app"]));

    // Docker Hub cannot set headers: the secret rides in the query.
    let hub = json!({"push_data": {"tag": "latest"}, "repository": {"repo_name": "nginx"}});
    let (status, body) = send(format!("{hook}?token={SECRET}"), None, hub).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["checking"], json!(["library/nginx"]));

    // Harbor sends its "Auth Header" value as it is.
    let harbor = json!({"type": "PUSH_ARTIFACT", "event_data": {
        "resources": [{"tag": "3.0.0", "digest": "sha256:cd"}],
        "repository": {"repo_full_name": "team/app"}}});
    let (status, body) = send(hook.clone(), Some(SECRET.into()), harbor).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    let (status, body) = send(
        hook.clone(),
        Some(SECRET.into()),
        json!({"events": [{"action": "push", "target": {"tag": "1"}}]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("events[0].target.repository"),
        "{body}"
    );
    let (status, body) = send(hook.clone(), Some(SECRET.into()), json!({"hello": 1})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("Harbor"), "{body}");
}
