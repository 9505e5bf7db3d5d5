//! `/metrics` in the Prometheus text format (issue #11).

use axum::Router;

use crate::web::AppState;

/// The counters and gauges `/metrics` renders.
#[derive(Clone, Default)]
pub struct Metrics {}

pub fn router() -> Router<AppState> {
    Router::new()
}
