//! API tokens and the [`Caller`] extractor that checks them: every handler of the API takes
//! a `Caller`, so no route answers without a valid bearer token, and the request's method
//! decides the scope it needs (GET and HEAD read; everything else writes).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use chrono::{DateTime, Utc};

use crate::clock::{Clock, SystemClock};

use super::problem::ApiError;
use crate::web::AppState;

/// What a token may do: `read` only reads (GET), `write` does everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TokenScope {
    Read,
    Write,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Write => "write",
        }
    }

    pub fn parse(text: &str) -> Option<TokenScope> {
        match text {
            "read" => Some(TokenScope::Read),
            "write" => Some(TokenScope::Write),
            _ => None,
        }
    }
}

/// A token as listed: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub scope: TokenScope,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A token just created: the only moment its secret exists outside the caller's hands.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    pub token: ApiToken,
    pub secret: String,
}

/// The token a request came with, checked against the store and the request's method.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub scope: TokenScope,
    /// A `berth` command on this host, with the server's local secret.
    pub local: bool,
}

impl Caller {
    /// Who the audit trail says acted.
    pub fn actor(&self) -> String {
        if self.local {
            self.name.clone()
        } else {
            format!("token:{}", self.name)
        }
    }
}

/// The header a local command names its user in (`cli:alice`); heeded only with the local
/// secret.
pub const LOCAL_ACTOR_HEADER: &str = "x-berth-actor";

/// A user name as the audit trail may show it: short, no spaces or control characters.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_' | '.' | '@'))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or(ApiError::MissingToken)?;
        let secret = header
            .to_str()
            .ok()
            .and_then(|value| {
                let (scheme, token) = value.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|token| !token.is_empty())
            .ok_or(ApiError::MalformedToken)?;
        if state.api.is_local_secret(secret) {
            // A `berth` command on this host: the audit trail names who ran it.
            let who = parts
                .headers
                .get(LOCAL_ACTOR_HEADER)
                .and_then(|value| value.to_str().ok())
                .filter(|who| is_plain_name(who))
                .unwrap_or("cli");
            return Ok(Caller {
                name: format!("{who} via berth serve"),
                scope: TokenScope::Write,
                local: true,
            });
        }
        let token = state
            .store
            .authenticate_api_token(secret, SystemClock.now())
            .await?
            .ok_or(ApiError::RejectToken)?;
        let reads = matches!(parts.method, Method::GET | Method::HEAD);
        if token.scope == TokenScope::Read && !reads {
            return Err(ApiError::ReadOnlyToken {
                name: token.name,
                method: parts.method.to_string(),
            });
        }
        Ok(Caller {
            name: token.name,
            scope: token.scope,
            local: false,
        })
    }
}
