//! The REST API under `/api/v1`: maintenant's update-intelligence endpoints and
//! Berth's own actions, behind bearer tokens, with errors as problem+json.
//!
//! Every route is registered together with its OpenAPI description (utoipa-axum's
//! `OpenApiRouter`), so the document at `/api/v1/openapi.json` is made from the routes that
//! exist and cannot drift from them. The document itself is public; everything else needs a
//! token (see [`token::Caller`]).

mod extract;
mod model;
mod openapi;
pub mod problem;
mod registries;
mod scans;
mod services;
pub mod token;
mod updates;

use axum::Router;
use axum::http::{Method, Uri};
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;

use crate::web::AppState;

/// State the API keeps between requests: the scans it started, and the secret a local
/// `berth` command presents to act through this server (see `writer_lock`).
#[derive(Clone, Default)]
pub struct ApiState {
    scans: scans::ScanBook,
    local_secret: Option<crate::registry::Secret>,
}

impl ApiState {
    /// Accept `secret` from local commands (it is in the writer lock's file).
    pub fn with_local_secret(mut self, secret: crate::registry::Secret) -> ApiState {
        self.local_secret = Some(secret);
        self
    }

    /// Compared as SHA-256 digests, so the time the comparison takes says nothing about how
    /// much of the secret a guess got right.
    fn is_local_secret(&self, presented: &str) -> bool {
        use sha2::{Digest, Sha256};
        self.local_secret.as_ref().is_some_and(|secret| {
            !secret.is_empty()
                && Sha256::digest(secret.expose().as_bytes())
                    == Sha256::digest(presented.as_bytes())
        })
    }
}

/// The API's routes and its OpenAPI document, built from the same registrations.
fn parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, document) = OpenApiRouter::with_openapi(openapi::base())
        .merge(updates::routes())
        .merge(scans::routes())
        .merge(services::routes())
        .merge(registries::routes())
        .split_for_parts();
    (router, openapi::complete(document))
}

/// The OpenAPI 3.1 document of the API, as served at `/api/v1/openapi.json`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    parts().1
}

pub fn router() -> Router<AppState> {
    let (router, document) = parts();
    let document = std::sync::Arc::new(document);
    router
        .route(
            "/openapi.json",
            get(move || {
                let document = document.clone();
                async move { axum::Json(document.as_ref().clone()) }
            }),
        )
        .method_not_allowed_fallback(|method: Method| async move {
            problem::ApiError::MethodNotAllowed {
                method: method.to_string(),
            }
        })
        .fallback(|uri: Uri| async move { problem::ApiError::UnknownRoute(uri.path().to_owned()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_local_secret_is_taken_and_none_without_one() {
        let api = ApiState::default().with_local_secret(crate::registry::Secret::new("s3cret"));
        assert!(api.is_local_secret("s3cret"));
        for guess in ["s3cre", "s3cret ", "", "S3CRET"] {
            assert!(!api.is_local_secret(guess), "{guess:?}");
        }
        assert!(!ApiState::default().is_local_secret(""));
        let empty = ApiState::default().with_local_secret(crate::registry::Secret::new(""));
        assert!(!empty.is_local_secret(""), "an empty secret opens nothing");
    }
}
