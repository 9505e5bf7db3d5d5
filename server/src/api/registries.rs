//! The registries Berth talks to (auth state, quota, request counts) and the event stream.

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::token::Caller;
use crate::registry::RegistryStatus;
use crate::web::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_registries))
        .routes(routes!(events))
}

/// A registry's pull quota, as its last answer's rate-limit headers told it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegistryQuota {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// The window the quota counts over, in seconds.
    pub window_seconds: Option<u64>,
    pub observed_at: DateTime<Utc>,
}

/// How many requests of one kind got one HTTP status (0: no response at all).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RequestCount {
    /// `token`, `manifest_head`, `manifest_get`, `tag_list`, `blob` or `vendor_api`.
    pub kind: String,
    pub status: u16,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Registry {
    /// The registry host.
    pub registry: String,
    pub quota: Option<RegistryQuota>,
    /// Set while a 429 holds.
    pub limited_until: Option<DateTime<Utc>>,
    /// Whether the last authentication succeeded; `null` before the first one.
    pub auth_ok: Option<bool>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub requests: Vec<RequestCount>,
    pub bytes_received: u64,
}

impl From<RegistryStatus> for Registry {
    fn from(status: RegistryStatus) -> Self {
        Registry {
            registry: status.registry,
            quota: status.quota.map(|quota| RegistryQuota {
                limit: quota.limit,
                remaining: quota.remaining,
                window_seconds: quota.window_seconds,
                observed_at: quota.observed_at,
            }),
            limited_until: status.limited_until,
            auth_ok: status.stats.auth_ok,
            last_error: status.stats.last_error,
            last_error_at: status.stats.last_error_at,
            requests: status
                .stats
                .requests
                .into_iter()
                .map(|count| RequestCount {
                    kind: count.kind.as_str().to_owned(),
                    status: count.status,
                    count: count.count,
                })
                .collect(),
            bytes_received: status.stats.bytes_received,
        }
    }
}

/// The registries Berth has talked to since it started, with quota and request counts.
#[utoipa::path(get, path = "/registries", tag = "registries",
    responses((status = 200, description = "The registries", body = Vec<Registry>)))]
async fn list_registries(_caller: Caller, State(state): State<AppState>) -> Json<Vec<Registry>> {
    Json(
        state
            .engine
            .registry_status()
            .into_iter()
            .map(Registry::from)
            .collect(),
    )
}

/// The dashboard's live events as Server-Sent Events: `service_state`, `deploy_finished`,
/// `check_finished`, and a `heartbeat` every 10 seconds. Each `data:` is one JSON object
/// whose `type` repeats the event name.
#[utoipa::path(get, path = "/events", tag = "events",
    responses((status = 200, description = "An endless event stream", content_type = "text/event-stream", body = String)))]
async fn events(_caller: Caller, state: State<AppState>) -> impl IntoResponse {
    crate::web::event_stream(state).await
}
