//! Tokens and scopes: the document is public, every other route needs a live token, and a
//! read token cannot write.

use super::server::Answer;
use super::{components_present, seed, store_only_server};
use berth::api::token::TokenScope;
use reqwest::Method;
use serde_json::{Value, json};

/// Every operation the OpenAPI document lists, with `1` for each path parameter.
fn operations(document: &Value) -> Vec<(Method, String, bool)> {
    let mut operations = Vec::new();
    let parameter = regex::Regex::new(r"\{[^}]+\}").unwrap();
    for (path, item) in document["paths"].as_object().unwrap() {
        let concrete = parameter.replace_all(path, "1").into_owned();
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
