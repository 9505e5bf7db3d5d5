//! The REST API v1 over HTTP, against the whole server in-process with a real
//! SQLite store: tokens and scopes, problem+json for bad input, every endpoint, and a real
//! deploy and rollback of a compose project through the API.

mod actions;
mod auth;
mod bad_input;
mod cli;
mod deploy_flow;
mod endpoints;
pub mod server;

use std::path::Path;

use app::model::SyncState;
use berth::store::{CheckRecord, NewService};
use server::ApiServer;
use testkit::{Component, require};

/// A server whose engine discovers nothing by itself: the tests put services in the store.
pub async fn store_only_server(dir: &Path) -> ApiServer {
    let env = dir.join(".updater.env");
    std::fs::write(&env, "DISCOVER_FROM_LABELS=false\nCHECK_INTERVAL=6h\n").unwrap();
    let (engine, store) = crate::deploy::harness::engine(&env, dir).await;
    ApiServer::start(engine, store, &env).await
}

pub fn components_present() -> bool {
    require(&[Component::Docker, Component::Compose])
}

/// Two services: `shop/web` has 2.0.0 available over 1.0.0, `shop/db` is up to date.
pub async fn seed(server: &ApiServer) -> (i64, i64) {
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
    let check = |id, state, best_candidate| CheckRecord {
        id,
        state,
        best_candidate,
        explanation: None,
        detail: None,
        at: now,
    };
    store
        .record_checks(&[
            check(web, SyncState::UpdateAvailable, Some("2.0.0")),
            check(db, SyncState::Synced, None),
        ])
        .await
        .unwrap();
    (web, db)
}
