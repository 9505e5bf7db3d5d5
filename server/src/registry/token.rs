//! Bearer tokens from a registry's token service (distribution `token.md`, `oauth.md`), and
//! the cache of `Authorization` values per scope, kept until the token expires.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use serde::Deserialize;

use super::body::read_capped;
use super::error::Cause;
use super::secret::{Credentials, Secret};
use super::stats::{RequestKind, StatsRecorder};

/// Tokens are dropped this long before they expire, so none is sent just as it lapses.
const EXPIRY_SLACK: Duration = Duration::from_secs(15);
/// The spec's default and minimum lifetime when the answer names none.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// How long a Basic header is reused before the provider is asked again (ECR renews).
pub const BASIC_LIFETIME: Duration = Duration::from_secs(600);

/// `Authorization` header values per scope, for one registry.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (Secret, Instant)>>,
}

impl TokenCache {
    pub fn get(&self, scope: &str) -> Option<Secret> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries
            .get(scope)
            .filter(|(_, expires)| *expires > Instant::now())
            .map(|(header, _)| header.clone())
    }

    pub fn put(&self, scope: &str, header: Secret, lifetime: Duration) {
        let expires = Instant::now()
            + lifetime
                .saturating_sub(EXPIRY_SLACK)
                .max(Duration::from_secs(1));
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.retain(|_, (_, expiry)| *expiry > Instant::now());
        entries.insert(scope.to_owned(), (header, expires));
    }

    pub fn forget(&self, scope: &str) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.remove(scope);
    }
}

/// `Basic base64(user:password)`.
pub fn basic_header(username: &str, password: &Secret) -> Secret {
    let encoded = base64::engine::general_purpose::STANDARD
        .encode(format!("{username}:{}", password.expose()));
    Secret::new(format!("Basic {encoded}"))
}

#[derive(Deserialize)]
struct TokenAnswer {
    token: Option<String>,
    access_token: Option<String>,
    expires_in: Option<u64>,
}

/// Ask the token service for a token covering `scopes`: a POST with the refresh token for
/// OAuth2 credentials, else a GET, with Basic credentials when there are any. The request,
/// its status and the bytes of its answer are counted in `stats`.
pub async fn fetch_bearer(
    http: &reqwest::Client,
    stats: &StatsRecorder,
    realm: &url::Url,
    service: Option<&str>,
    scopes: &[String],
    credentials: &Credentials,
    body_limit: u64,
) -> Result<(Secret, Duration), Cause> {
    let request = match credentials {
        Credentials::RefreshToken(refresh_token) => {
            let mut form: Vec<(&str, &str)> = vec![
                ("grant_type", "refresh_token"),
                ("client_id", "berth"),
                ("refresh_token", refresh_token.expose()),
            ];
            form.extend(service.map(|service| ("service", service)));
            form.extend(scopes.iter().map(|scope| ("scope", scope.as_str())));
            http.post(realm.clone()).form(&form)
        }
        Credentials::Basic { username, password } => token_get(http, realm, service, scopes)
            .header(
                http::header::AUTHORIZATION,
                basic_header(username, password).expose(),
            ),
        Credentials::Anonymous => token_get(http, realm, service, scopes),
    };
    let response = request.send().await;
    stats.request(
        RequestKind::Token,
        response
            .as_ref()
            .ok()
            .map(|response| response.status().as_u16()),
    );
    let response = response.map_err(Cause::from_transport)?;
    let status = response.status();
    if status == http::StatusCode::UNAUTHORIZED || status == http::StatusCode::FORBIDDEN {
        return Err(Cause::BadCredentials {
            status: status.as_u16(),
        });
    }
    if !status.is_success() {
        return Err(Cause::UnexpectedStatus {
            status: status.as_u16(),
        });
    }
    let body = read_capped(response, body_limit)
        .await
        .map_err(|error| match error {
            super::body::BodyError::ReadTooLarge { limit } => Cause::BodyTooLarge { limit },
            super::body::BodyError::Read(source) => Cause::from_transport(source),
        })?;
    stats.received(body.len() as u64);
    let answer: TokenAnswer =
        serde_json::from_slice(&body).map_err(|error| Cause::InvalidAnswer {
            reason: format!("token service answer is not token JSON: {error}"),
        })?;
    let token = answer
        .token
        .or(answer.access_token)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| Cause::InvalidAnswer {
            reason: "token service answer holds neither token nor access_token".into(),
        })?;
    let lifetime = answer
        .expires_in
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TOKEN_LIFETIME)
        .max(DEFAULT_TOKEN_LIFETIME);
    Ok((Secret::new(format!("Bearer {token}")), lifetime))
}

fn token_get(
    http: &reqwest::Client,
    realm: &url::Url,
    service: Option<&str>,
    scopes: &[String],
) -> reqwest::RequestBuilder {
    let mut url = realm.clone();
    {
        let mut query = url.query_pairs_mut();
        if let Some(service) = service {
            query.append_pair("service", service);
        }
        for scope in scopes {
            query.append_pair("scope", scope);
        }
    }
    http.get(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_headers_expire() {
        let cache = TokenCache::default();
        cache.put(
            "repository:a:pull",
            Secret::new("Bearer x"),
            Duration::from_secs(300),
        );
        assert_eq!(
            cache
                .get("repository:a:pull")
                .map(|s| s.expose().to_owned())
                .as_deref(),
            Some("Bearer x")
        );
        assert!(cache.get("repository:b:pull").is_none());
        cache.put("repository:c:pull", Secret::new("Bearer y"), Duration::ZERO);
        std::thread::sleep(Duration::from_millis(1100));
        assert!(
            cache.get("repository:c:pull").is_none(),
            "an expired token is not reused"
        );
        cache.forget("repository:a:pull");
        assert!(cache.get("repository:a:pull").is_none());
    }

    #[test]
    fn basic_header_is_base64_of_user_colon_password() {
        assert_eq!(
            basic_header("Aladdin", &Secret::new("open sesame")).expose(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }
}
