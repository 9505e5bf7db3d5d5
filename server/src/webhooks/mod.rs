//! Registry push webhooks: `POST /hooks/registry` takes a CNCF distribution registry's
//! notifications, Docker Hub's webhooks and Harbor's, checks the shared secret
//! (`WEBHOOK_SECRET`), and checks just the services whose repository was pushed — at once,
//! instead of at the next `CHECK_INTERVAL`. The answer comes before the check runs (a
//! registry waits for it); pushes that arrive while a check runs are batched into the next.

mod coalesce;
pub mod payload;
mod secret;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;

use crate::web::AppState;
use coalesce::Coalescer;

/// Where registries send their push events.
pub const PATH: &str = "/hooks/registry";

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("registry webhooks are off: set WEBHOOK_SECRET in the env file")]
    NotConfigured,
    #[error(
        "the webhook secret is missing or wrong: send it as `Authorization: Bearer <secret>` \
         or `?token=<secret>`"
    )]
    Unauthorized,
    #[error("bad webhook body: {0}")]
    ParseBody(#[source] payload::PayloadError),
}

impl IntoResponse for WebhookError {
    fn into_response(self) -> Response {
        let status = match self {
            WebhookError::NotConfigured => StatusCode::SERVICE_UNAVAILABLE,
            WebhookError::Unauthorized => StatusCode::UNAUTHORIZED,
            WebhookError::ParseBody(_) => StatusCode::BAD_REQUEST,
        };
        let message = crate::engine::error_chain(&self);
        (status, Json(json!({ "error": message }))).into_response()
    }
}

pub fn router() -> Router<AppState> {
    let coalescer = Arc::new(Coalescer::default());
    Router::new().route(
        PATH,
        post(move |state, query, headers, body| receive(state, query, headers, body, coalescer)),
    )
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn receive(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
    body: Bytes,
    coalescer: Arc<Coalescer>,
) -> Result<Response, WebhookError> {
    let expected = state
        .config
        .get("WEBHOOK_SECRET")
        .filter(|secret| !secret.trim().is_empty())
        .ok_or(WebhookError::NotConfigured)?;
    let authorization = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    if !secret::verify(expected.trim(), authorization, query.token.as_deref()) {
        return Err(WebhookError::Unauthorized);
    }
    let announcement = payload::parse(&body).map_err(WebhookError::ParseBody)?;
    let mut repositories: Vec<String> = announcement
        .pushes
        .iter()
        .map(|push| push.repository.clone())
        .collect();
    repositories.sort();
    repositories.dedup();
    tracing::info!(
        source = announcement.source,
        pushes = ?announcement.pushes.iter().map(|p| format!("{}:{}", p.repository, p.tag)).collect::<Vec<_>>(),
        ignored = announcement.ignored,
        "registry webhook received"
    );
    if repositories.is_empty() {
        let body = json!({ "checking": [], "ignored": announcement.ignored });
        return Ok((StatusCode::OK, Json(body)).into_response());
    }
    coalescer.check(state.engine.clone(), repositories.clone());
    let body = json!({ "checking": repositories, "ignored": announcement.ignored });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}
