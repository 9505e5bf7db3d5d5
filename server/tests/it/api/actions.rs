//! Pins, ignores and exclusions, recorded with the token as the actor.

use super::{components_present, seed, store_only_server};
use berth::api::token::TokenScope;
use reqwest::Method;
use serde_json::{Value, json};

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
