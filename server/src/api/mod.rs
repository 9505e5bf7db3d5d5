//! The REST API under `/api/v1` (issue #8).

use axum::Router;

use crate::web::AppState;

/// State the API keeps between requests (scans it started, …).
#[derive(Clone, Default)]
pub struct ApiState {}

pub fn router() -> Router<AppState> {
    Router::new()
}
