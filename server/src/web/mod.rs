//! HTTP: the Leptos dashboard (SSR + hydration), its static files, `/healthz` and the
//! `/events` SSE stream. The caller binds the listener, so tests can serve on port 0.

mod events;
mod health;

/// The `/events` SSE handler, also served by the REST API under `/api/v1/events`.
pub use events::stream as event_stream;

use std::sync::Arc;

use app::backend::SharedBackend;
use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::engine::Engine;
use crate::events::EventBus;
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the HTTP server failed")]
    Serve(#[source] std::io::Error),
}

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub backend: SharedBackend,
    pub events: EventBus,
    pub engine: Arc<Engine>,
    pub store: Store,
    /// The configuration read at start; each concern reads its own keys from it.
    pub config: Arc<Config>,
    pub auth: crate::auth::Auth,
    pub api: crate::api::ApiState,
    pub metrics: crate::metrics::Metrics,
    /// Cancelled at shutdown, so long-lived streams (SSE) end and the server can stop.
    pub shutdown: CancellationToken,
}

pub fn leptos_options(site_root: &std::path::Path, addr: std::net::SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(Arc::<str>::from("berth"))
        .site_root(Arc::<str>::from(site_root.to_string_lossy().as_ref()))
        .site_pkg_dir(Arc::<str>::from("pkg"))
        .site_addr(addr)
        .build()
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let backend = state.backend.clone();
    let provide_backend = move || provide_context(backend.clone());
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/events", get(events::stream))
        .merge(crate::auth::web::router())
        .nest("/api/v1", crate::api::router())
        .merge(crate::metrics::router())
        .merge(crate::webhooks::router())
        .leptos_routes_with_context(&state, routes, provide_backend, {
            let options = state.leptos_options.clone();
            move || app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        // Outermost: nothing but the public paths is reached without a session.
        .layer(axum::middleware::from_fn_with_state(
            state.auth.clone(),
            crate::auth::web::require_session,
        ))
        .with_state(state)
}

pub async fn bind(addr: std::net::SocketAddr) -> Result<TcpListener, WebError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| WebError::Bind { addr, source })
}

/// Serve until `shutdown` is cancelled, then finish in-flight requests and return.
pub async fn serve(listener: TcpListener, state: AppState) -> Result<(), WebError> {
    let shutdown = state.shutdown.clone();
    // The peer address is what failed logins are counted against.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .map_err(WebError::Serve)
}
