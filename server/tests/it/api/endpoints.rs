//! The read endpoints, answered from the store.

use super::{components_present, seed, store_only_server};
use berth::api::token::TokenScope;
use serde_json::json;

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
