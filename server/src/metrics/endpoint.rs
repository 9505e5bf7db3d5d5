//! `GET /metrics`: the page, behind the optional bearer token.

use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::engine::error_chain;
use crate::web::AppState;

use super::exposition;
use super::settings::{ENABLED_KEY, MetricsSettings, TOKEN_KEY};

pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let settings = state.metrics.settings();
    if !settings.enabled {
        return (
            StatusCode::NOT_FOUND,
            format!("/metrics is turned off ({ENABLED_KEY}=false)\n"),
        )
            .into_response();
    }
    if let Err(reason) = authorize(settings, &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(WWW_AUTHENTICATE, "Bearer realm=\"berth metrics\"")],
            format!("{reason}\n"),
        )
            .into_response();
    }
    let registries = state.engine.registry_status();
    match super::scrape::render(state.metrics.snapshot(), &state.store, &registries).await {
        Ok(page) => ([(CONTENT_TYPE, exposition::CONTENT_TYPE)], page).into_response(),
        Err(error) => {
            let message = error_chain(&error);
            tracing::warn!(error = %message, "/metrics failed");
            (StatusCode::INTERNAL_SERVER_ERROR, format!("{message}\n")).into_response()
        }
    }
}

/// With a token configured, the request must carry `Authorization: Bearer <token>`.
fn authorize(settings: &MetricsSettings, headers: &HeaderMap) -> Result<(), String> {
    let Some(expected) = &settings.token else {
        return Ok(());
    };
    let Some(header) = headers.get(AUTHORIZATION) else {
        return Err(format!(
            "/metrics needs an Authorization: Bearer header ({TOKEN_KEY} is set)"
        ));
    };
    let presented = header
        .to_str()
        .ok()
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match presented {
        Some(token) if same_secret(token, expected) => Ok(()),
        Some(_) => Err(format!("the bearer token does not match {TOKEN_KEY}")),
        None => Err("the Authorization header is not of the form \"Bearer <token>\"".to_owned()),
    }
}

/// Compare digests rather than the texts, so the time taken says nothing about how much of
/// a guess was right (digests are of equal length; the comparison visits every byte).
fn same_secret(presented: &str, expected: &str) -> bool {
    let presented = Sha256::digest(presented.as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    presented
        .iter()
        .zip(expected.iter())
        .fold(0u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(token: Option<&str>) -> MetricsSettings {
        MetricsSettings {
            enabled: true,
            token: token.map(str::to_owned),
        }
    }

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[test]
    fn without_a_token_every_request_is_let_in() {
        assert!(authorize(&settings(None), &HeaderMap::new()).is_ok());
    }

    #[test]
    fn with_a_token_only_the_right_bearer_is_let_in() {
        let settings = settings(Some("s3cret"));
        assert!(authorize(&settings, &with_authorization("Bearer s3cret")).is_ok());
        assert!(authorize(&settings, &with_authorization("bearer s3cret")).is_ok());
        for wrong in ["Bearer s3cre", "Bearer s3cret2", "Basic s3cret", "s3cret"] {
            let error = authorize(&settings, &with_authorization(wrong)).unwrap_err();
            assert!(!error.contains("s3cret"), "{wrong}: {error}");
        }
        let missing = authorize(&settings, &HeaderMap::new()).unwrap_err();
        assert!(missing.contains("METRICS_TOKEN"), "{missing}");
    }
}
