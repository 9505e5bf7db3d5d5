//! Registry push webhooks: check the affected services at once (issue #11).

use axum::Router;

use crate::web::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
