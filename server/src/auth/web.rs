//! The HTTP side of login: `POST /login`, `POST /logout`, and the layer that turns away
//! requests without a session (pages go to the login page, server functions get 401).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use app::backend::CurrentUser;
use app::error::AppError;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use serde::Deserialize;

use super::{Auth, LoginError, SESSION_COOKIE};
use crate::engine::error_chain;
use crate::web::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
}

/// Paths served without a session: the login page and what it needs, health, and the
/// parts that check their own credentials (API tokens, metrics token, webhook secret).
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/login" | "/logout" | "/healthz" | "/favicon.ico" | "/metrics"
    ) || ["/pkg/", "/api/", "/hooks/"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

/// Server functions and the event stream answer 401; pages redirect to the login page.
fn is_programmatic(path: &str) -> bool {
    path.starts_with("/rpc/") || path == "/events"
}

pub async fn require_session(
    State(auth): State<Auth>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if is_public(&path) {
        return next.run(request).await;
    }
    let user = match session_token(request.headers()) {
        Some(token) => auth.user(&token).await,
        None => Ok(None),
    };
    match user {
        Ok(Some(email)) => {
            request.extensions_mut().insert(CurrentUser { email });
            next.run(request).await
        }
        Ok(None) if is_programmatic(&path) => {
            let body = serde_json::to_string(&AppError::Unauthorized).unwrap_or_default();
            (
                StatusCode::UNAUTHORIZED,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response()
        }
        Ok(None) => {
            let wanted = request
                .uri()
                .path_and_query()
                .map_or("/", |path| path.as_str());
            Redirect::to(&format!("/login?next={}", encode(wanted))).into_response()
        }
        Err(error) => {
            tracing::error!(error = %error_chain(&error), "checking a session failed");
            (StatusCode::SERVICE_UNAVAILABLE, "the session store failed").into_response()
        }
    }
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

async fn login(
    State(auth): State<Auth>,
    headers: HeaderMap,
    request_peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let from = client_address(request_peer);
    let Ok(Form(form)) = form else {
        return Redirect::to("/login?error=form").into_response();
    };
    let next = safe_next(form.next.as_deref());
    match auth.login(&form.email, &form.password, from).await {
        Ok(token) => {
            let cookie = auth.session_cookie(&token, is_https(&headers));
            with_cookie(Redirect::to(next), &cookie)
        }
        Err(LoginError::WrongCredentials) => {
            Redirect::to(&format!("/login?error=wrong&next={}", encode(next))).into_response()
        }
        Err(LoginError::Throttled(wait)) => Redirect::to(&format!(
            "/login?error=throttled&wait={}&next={}",
            wait.as_secs().max(1),
            encode(next)
        ))
        .into_response(),
        Err(LoginError::Auth(error)) => {
            tracing::error!(error = %error_chain(&error), "login failed");
            (StatusCode::SERVICE_UNAVAILABLE, "the session store failed").into_response()
        }
    }
}

async fn logout(State(auth): State<Auth>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers)
        && let Err(error) = auth.logout(&token).await
    {
        tracing::error!(error = %error_chain(&error), "logout failed");
        return (StatusCode::SERVICE_UNAVAILABLE, "the session store failed").into_response();
    }
    with_cookie(
        Redirect::to("/login?error=logged-out"),
        &auth.cleared_cookie(is_https(&headers)),
    )
}

fn with_cookie(redirect: Redirect, cookie: &str) -> Response {
    let mut response = redirect.into_response();
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|token| !token.is_empty())
}

/// Behind a TLS-terminating proxy the request arrives over plain HTTP with this header.
fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https"))
}

fn client_address(peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>) -> IpAddr {
    peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.0.ip())
}

/// Only a local path may follow a login: never another site (an open redirect).
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path
        }
        _ => "/",
    }
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_follow_a_login() {
        assert_eq!(safe_next(Some("/services/3")), "/services/3");
        for hostile in ["//evil.example", "https://evil.example", "/\\evil", "evil"] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=light; berth_session=abc123; x=y"),
        );
        assert_eq!(session_token(&headers).as_deref(), Some("abc123"));
        headers.insert(header::COOKIE, HeaderValue::from_static("berth_session="));
        assert_eq!(session_token(&headers), None);
    }

    #[test]
    fn pages_need_a_session_and_the_login_page_does_not() {
        for open in [
            "/login",
            "/healthz",
            "/pkg/berth.wasm",
            "/api/v1/updates",
            "/hooks/registry",
        ] {
            assert!(is_public(open), "{open}");
        }
        for closed in [
            "/",
            "/services/1",
            "/rpc/checks/run",
            "/events",
            "/registries",
        ] {
            assert!(!is_public(closed), "{closed}");
        }
    }
}
