//! The REST API v1 (issue 8) over HTTP, against the whole server in-process with a real
//! SQLite store: tokens and scopes, problem+json for bad input, every endpoint, and a real
//! deploy and rollback of a compose project through the API.

mod deploy_flow;
mod server;

use std::path::Path;

use app::model::SyncState;
use berth::api::token::TokenScope;
use berth::store::NewService;
use reqwest::Method;
use serde_json::{Value, json};
use server::{Answer, ApiServer};
use testkit::{Component, require};

/// A server whose engine discovers nothing by itself: the tests put services in the store.
async fn store_only_server(dir: &Path) -> ApiServer {
    let env = dir.join(".updater.env");
    std::fs::write(&env, "DISCOVER_FROM_LABELS=false\nCHECK_INTERVAL=6h\n").unwrap();
    let (engine, store) = crate::deploy::harness::engine(&env, dir).await;
    ApiServer::start(engine, store, &env).await
}

fn components_present() -> bool {
    require(&[Component::Docker, Component::Compose])
}

/// Two services: `shop/web` has 2.0.0 available over 1.0.0, `shop/db` is up to date.
async fn seed(server: &ApiServer) -> (i64, i64) {
    let store = &server.store;
    let add = |name: &str, image: &str, tag: &str| NewService {
        project: "shop".into(),
        name: name.into(),
        image: image.into(),
        current_tag: Some(tag.into()),
        source: "config".into(),
        ..NewService::default()
    };
    let web = store
        .upsert_service(&add("web", "registry.test:5000/shop/web", "1.0.0"))
        .await
        .unwrap();
    let db = store
        .upsert_service(&add("db", "registry.test:5000/shop/db", "16"))
        .await
        .unwrap();
    let now = chrono::Utc::now();
    store
        .record_check(
            web,
            SyncState::UpdateAvailable,
            Some("2.0.0"),
            None,
            None,
            now,
        )
        .await
        .unwrap();
    store
        .record_check(db, SyncState::Synced, None, None, None, now)
        .await
        .unwrap();
    (web, db)
}

/// Every operation the OpenAPI document lists, with `1` for each path parameter.
fn operations(document: &Value) -> Vec<(Method, String, bool)> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        let concrete = regex::Regex::new(r"\{[^}]+\}")
            .unwrap()
            .replace_all(path, "1")
            .into_owned();
        for (method, operation) in item.as_object().unwrap() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let has_body = operation.get("requestBody").is_some();
            operations.push((method, concrete.clone(), has_body));
        }
    }
    operations
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_is_public_and_every_other_route_needs_a_live_token() {
    if !components_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = store_only_server(dir.path()).await;
    seed(&server).await;

    let document = server
        .call(Method::GET, "/openapi.json", None, None)
        .await
        .ok(200)
        .clone();
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3.1"),
        "{document}"
    );
    let operations = operations(&document);
    let listed: Vec<String> = operations
        .iter()
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    for expected in [
        "GET /updates",
        "GET /updates/summary",
        "POST /updates/scan",
        "GET /updates/scan/1",
        "GET /updates/container/1",
        "GET /updates/dry-run",
        "POST /updates/pin/1",
        "DELETE /updates/pin/1",
        "GET /updates/exclusions",
        "POST /updates/exclusions",
        "DELETE /updates/exclusions/1",
        "GET /services",
        "GET /services/1",
        "GET /services/1/revisions",
        "POST /services/1/deploy",
        "POST /services/1/rollback",
        "POST /services/1/pin",
        "DELETE /services/1/pin",
        "POST /services/1/ignored",
        "DELETE /services/1/ignored/1",
        "GET /registries",
        "GET /events",
    ] {
        assert!(
            listed.contains(&expected.to_owned()),
            "{expected} is not in {listed:?}"
        );
    }
    println!("the document lists {} operations", operations.len());

    let read = server.token("monitoring", TokenScope::Read).await;
    let revoked = server.token("old-ci", TokenScope::Write).await;
    server
        .store
        .revoke_api_token("old-ci", chrono::Utc::now())
        .await
        .unwrap();
    for (method, path, has_body) in &operations {
        let body = has_body.then(|| json!({}));
        let none = server.call(method.clone(), path, None, body.clone()).await;
        let detail = none.problem(401, "unauthorized");
        assert!(
            detail.contains("Authorization: Bearer"),
            "{method} {path}: {detail}"
        );
        server
            .call(
                method.clone(),
                path,
                Some("berth_not-a-token"),
                body.clone(),
            )
            .await
            .problem(401, "unauthorized");
        server
            .call(method.clone(), path, Some(&revoked), body.clone())
            .await
            .problem(401, "unauthorized");
        if *method != Method::GET {
            let detail = server
                .call(method.clone(), path, Some(&read), body)
                .await
                .problem(403, "insufficient-scope");
            assert!(detail.contains("monitoring"), "{detail}");
        }
    }
    // A header that is not `Bearer <token>` is refused too, and says so.
    let answer = Answer::read(
        server
            .request(Method::GET, "/services", None)
            .header("Authorization", format!("Basic {read}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    answer.problem(401, "unauthorized");
    // The read token reads.
    server.get("/services", &read).await.ok(200);
    let tokens = server.store.api_tokens().await.unwrap();
    let monitoring = tokens.iter().find(|t| t.name == "monitoring").unwrap();
    assert!(
        monitoring.last_used_at.is_some(),
        "using a token records when"
    );
    assert!(
        tokens
            .iter()
            .find(|t| t.name == "old-ci")
            .unwrap()
            .last_used_at
            .is_none(),
        "a revoked token is never marked used"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn update_intelligence_answers_from_the_store() {
    if !components_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = store_only_server(dir.path()).await;
    let (web, db) = seed(&server).await;
    let token = server.token("monitoring", TokenScope::Read).await;

    let updates = server.get("/updates", &token).await;
    let updates = updates.ok(200).as_array().unwrap().clone();
    assert_eq!(updates.len(), 1, "{updates:#?}");
    assert_eq!(updates[0]["service_id"], web);
    assert_eq!(updates[0]["current_tag"], "1.0.0");
    assert_eq!(updates[0]["available_tag"], "2.0.0");

    let summary = server.get("/updates/summary", &token).await.ok(200).clone();
    assert_eq!(
        (
            summary["total"].as_u64(),
            summary["updates_available"].as_u64(),
            summary["synced"].as_u64()
        ),
        (Some(2), Some(1), Some(1)),
        "{summary}"
    );

    // `{container_id}` takes a service id, a name, or project/name.
    for selector in [web.to_string(), "web".into(), "shop%2Fweb".into()] {
        let answer = server
            .get(&format!("/updates/container/{selector}"), &token)
            .await;
        assert_eq!(answer.ok(200)["service_id"], web, "{selector}");
    }
    let db_answer = server
        .get(&format!("/updates/container/{db}"), &token)
        .await;
    assert_eq!(db_answer.ok(200)["update_available"], false);
    let detail = server
        .get("/updates/container/nope", &token)
        .await
        .problem(404, "unknown-service");
    assert!(detail.contains("\"nope\""), "{detail}");

    let plan = server.get("/updates/dry-run", &token).await.ok(200).clone();
    let plan = plan.as_array().unwrap();
    assert_eq!(plan.len(), 2);
    assert!(
        plan.iter().all(|entry| entry["plan"] == "check"),
        "{plan:#?}"
    );

    let services = server.get("/services", &token).await.ok(200).clone();
    let names: Vec<&str> = services
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["db", "web"]);
    let one = server
        .get(&format!("/services/{web}"), &token)
        .await
        .ok(200)
        .clone();
    assert_eq!(
        (one["state"].as_str(), one["ignored_tags"].clone()),
        (Some("update_available"), json!([]))
    );
    let revisions = server
        .get(&format!("/services/{web}/revisions"), &token)
        .await;
    assert_eq!(revisions.ok(200), &json!([]));
    let registries = server.get("/registries", &token).await;
    assert!(registries.ok(200).is_array());
    server
        .get("/updates/scan/0123456789abcdef", &token)
        .await
        .problem(404, "unknown-scan");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_answers_4xx_problems_naming_the_input() {
    if !components_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = store_only_server(dir.path()).await;
    let (web, _db) = seed(&server).await;
    let token = server.token("ci", TokenScope::Write).await;
    let call = |method: Method, path: String, body: Option<Value>| {
        let server = &server;
        let token = token.clone();
        async move { server.call(method, &path, Some(&token), body).await }
    };

    let detail = call(Method::GET, "/services/424242".into(), None)
        .await
        .problem(404, "unknown-service");
    assert!(detail.contains("424242"), "{detail}");
    let detail = call(
        Method::POST,
        "/services/424242/deploy".into(),
        Some(json!({})),
    )
    .await
    .problem(404, "unknown-service");
    assert!(detail.contains("424242"), "{detail}");
    let detail = call(Method::GET, "/services/abc".into(), None)
        .await
        .problem(400, "invalid-parameter");
    assert!(detail.contains("abc"), "{detail}");

    // Malformed JSON, a wrong type, an unknown field, a missing field, no JSON at all.
    let raw = |body: &'static str, content_type: Option<&'static str>| {
        let mut request = server
            .request(
                Method::POST,
                &format!("/services/{web}/deploy"),
                Some(&token),
            )
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        async move { Answer::read(request.send().await.unwrap()).await }
    };
    raw("{\"tag\": ", Some("application/json"))
        .await
        .problem(400, "invalid-body");
    let detail = raw("{\"tag\": 7}", Some("application/json"))
        .await
        .problem(422, "invalid-body");
    assert!(detail.contains("tag"), "{detail}");
    let detail = raw("{\"tg\": \"1.0\"}", Some("application/json"))
        .await
        .problem(422, "invalid-body");
    assert!(detail.contains("tg"), "{detail}");
    raw("tag=1.0", None)
        .await
        .problem(415, "unsupported-media-type");
    let detail = call(
        Method::POST,
        format!("/services/{web}/ignored"),
        Some(json!({})),
    )
    .await
    .problem(422, "invalid-body");
    assert!(detail.contains("tag"), "{detail}");

    // A tag Docker would refuse never reaches the engine.
    let answer = call(
        Method::POST,
        format!("/services/{web}/deploy"),
        Some(json!({"tag": "1.0 ; rm -rf /"})),
    )
    .await;
    let detail = answer.problem(422, "invalid-tag");
    assert_eq!(answer.body["field"], "tag");
    assert!(detail.starts_with("tag: "), "{detail}");
    let answer = call(
        Method::POST,
        format!("/services/{web}/rollback"),
        Some(json!({"to": ""})),
    )
    .await;
    answer.problem(422, "invalid-tag");
    assert_eq!(answer.body["field"], "to");

    let answer = call(
        Method::POST,
        "/updates/exclusions".into(),
        Some(json!({"image": "registry.test:5000/nobody/runs-this"})),
    )
    .await;
    answer.problem(404, "unknown-image");
    assert_eq!(answer.body["field"], "image");
    call(Method::DELETE, format!("/updates/exclusions/{web}"), None)
        .await
        .problem(404, "unknown-exclusion");
    call(
        Method::DELETE,
        format!("/services/{web}/ignored/9.9.9"),
        None,
    )
    .await
    .problem(404, "unknown-ignored-tag");
    call(Method::GET, "/no-such-thing".into(), None)
        .await
        .problem(404, "not-found");
    call(Method::PUT, "/services".into(), None)
        .await
        .problem(405, "method-not-allowed");
}

#[tokio::test(flavor = "multi_thread")]
async fn pins_ignores_and_exclusions_are_recorded_with_the_token_as_actor() {
    if !components_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = store_only_server(dir.path()).await;
    let (web, db) = seed(&server).await;
    let token = server.token("ci", TokenScope::Write).await;
    let call = |method: Method, path: String, body: Option<Value>| {
        let server = &server;
        let token = token.clone();
        async move { server.call(method, &path, Some(&token), body).await }
    };

    // maintenant's pin: the running version.
    let pinned = call(Method::POST, "/updates/pin/web".into(), None).await;
    assert_eq!(
        pinned.ok(200),
        &json!({"service_id": web, "pinned_tag": "1.0.0"})
    );
    let record = server.store.service(web).await.unwrap().unwrap();
    assert_eq!(record.pinned_tag.as_deref(), Some("1.0.0"));
    let unpinned = call(Method::DELETE, format!("/updates/pin/{web}"), None).await;
    assert_eq!(unpinned.ok(200)["pinned_tag"], Value::Null);
    // Berth's pin: any tag.
    let pinned = call(
        Method::POST,
        format!("/services/{web}/pin"),
        Some(json!({"tag": "1.5.0"})),
    )
    .await;
    assert_eq!(pinned.ok(200)["pinned_tag"], "1.5.0");
    let plan = server.get("/updates/dry-run", &token).await.ok(200).clone();
    assert!(
        plan.as_array()
            .unwrap()
            .iter()
            .any(|e| e["service_id"] == web && e["plan"] == "pinned"),
        "{plan}"
    );
    call(Method::DELETE, format!("/services/{web}/pin"), None)
        .await
        .ok(200);
    assert_eq!(
        server.store.service(web).await.unwrap().unwrap().pinned_tag,
        None
    );

    let ignored = call(
        Method::POST,
        format!("/services/{web}/ignored"),
        Some(json!({"tag": "2.0.0"})),
    )
    .await;
    assert_eq!(ignored.ok(201), &json!({"service_id": web, "tag": "2.0.0"}));
    let detail = server
        .get(&format!("/services/{web}"), &token)
        .await
        .ok(200)
        .clone();
    assert_eq!(detail["ignored_tags"], json!(["2.0.0"]));
    call(
        Method::DELETE,
        format!("/services/{web}/ignored/2.0.0"),
        None,
    )
    .await
    .ok(204);
    assert!(server.store.ignored_tags(web).await.unwrap().is_empty());

    // An exclusion by image (a tag is ignored) excludes the services that run it.
    let created = call(
        Method::POST,
        "/updates/exclusions".into(),
        Some(json!({"image": "registry.test:5000/shop/db:16"})),
    )
    .await;
    assert_eq!(
        created.ok(201),
        &json!([{"id": db, "image": "registry.test:5000/shop/db", "project": "shop", "service": "db"}])
    );
    assert!(server.store.service(db).await.unwrap().unwrap().excluded);
    let listed = server.get("/updates/exclusions", &token).await;
    assert_eq!(listed.ok(200).as_array().unwrap().len(), 1);
    call(Method::DELETE, format!("/updates/exclusions/{db}"), None)
        .await
        .ok(204);
    assert!(!server.store.service(db).await.unwrap().unwrap().excluded);
    assert_eq!(
        server.get("/updates/exclusions", &token).await.ok(200),
        &json!([])
    );

    let mut kinds = Vec::new();
    for id in [web, db] {
        for entry in server.store.audit_log(id).await.unwrap() {
            assert_eq!(entry.actor, "token:ci", "{entry:?}");
            kinds.push(entry.kind);
        }
    }
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "exclude", "ignore", "include", "pin", "pin", "unignore", "unpin", "unpin"
        ]
    );
}
