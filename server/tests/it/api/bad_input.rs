//! Bad input answers 4xx problem+json naming the input.

use super::server::Answer;
use super::{components_present, seed, store_only_server};
use berth::api::token::TokenScope;
use reqwest::Method;
use serde_json::{Value, json};

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
