//! Azure ACR with an Entra (AAD) identity, per Azure/acr `docs/AAD-OAuth.md`: an Entra access
//! token for Azure Resource Manager, exchanged at `POST /oauth2/exchange` for an ACR refresh
//! token. The helper prints that refresh token as an identity token (user `<token>`); the
//! daemon trades it at the registry's challenge realm for access tokens. The admin user, or a
//! service principal as plain Basic, needs no helper at all.

use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use url::Url;

use crate::{IDENTITY_TOKEN_USER, Login};

/// The audience ACR's exchange expects the Entra token for.
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";
/// How long a refresh token is trusted when its own `exp` cannot be read.
const UNREADABLE_EXPIRY_LIFETIME: chrono::Duration = chrono::Duration::hours(1);
/// The exchange's answer is a few KB; anything far larger is not ACR.
const ANSWER_LIMIT: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum AcrError {
    #[error("missing configuration key {key}")]
    ReadSettings { key: &'static str },
    #[error("building the Entra ID service-principal credential")]
    BuildIdentity {
        #[source]
        source: azure_core::Error,
    },
    #[error("registry address {registry:?} is not a host")]
    ParseRegistry {
        registry: String,
        #[source]
        source: url::ParseError,
    },
    #[error("getting an Entra ID token for {ARM_SCOPE}")]
    GetEntraToken {
        #[source]
        source: azure_core::Error,
    },
    #[error("POST {url} failed")]
    RequestExchange {
        url: Url,
        #[source]
        source: reqwest::Error,
    },
    #[error("POST {url} answered HTTP {status}")]
    ExchangeStatus { url: Url, status: u16 },
    #[error("POST {url}: reading the answer failed")]
    ReadExchangeAnswer {
        url: Url,
        #[source]
        source: reqwest::Error,
    },
    #[error("POST {url}: the answer is over {ANSWER_LIMIT} bytes")]
    ExchangeAnswerTooLarge { url: Url },
    #[error("POST {url}: the answer is not {{\"refresh_token\": …}} JSON")]
    DecodeExchangeAnswer {
        url: Url,
        #[source]
        source: serde_json::Error,
    },
}

/// A service principal from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`.
pub struct ServicePrincipal {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
}

impl ServicePrincipal {
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<ServicePrincipal, AcrError> {
        let required = |key| var(key).ok_or(AcrError::ReadSettings { key });
        Ok(ServicePrincipal {
            tenant_id: required("AZURE_TENANT_ID")?,
            client_id: required("AZURE_CLIENT_ID")?,
            client_secret: required("AZURE_CLIENT_SECRET")?,
        })
    }
}

/// The exchange of an Entra identity for a registry's refresh token.
pub struct AcrExchange {
    registry: String,
    exchange_url: Url,
    tenant_id: String,
    identity: Arc<dyn TokenCredential>,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct ExchangeAnswer {
    refresh_token: String,
}

impl AcrExchange {
    /// `base` is the registry's endpoint (`https://<name>.azurecr.io/`).
    pub fn new(
        registry: &str,
        base: &Url,
        tenant_id: &str,
        identity: Arc<dyn TokenCredential>,
        http: reqwest::Client,
    ) -> Result<AcrExchange, AcrError> {
        let exchange_url =
            base.join("oauth2/exchange")
                .map_err(|source| AcrError::ParseRegistry {
                    registry: registry.to_owned(),
                    source,
                })?;
        Ok(AcrExchange {
            registry: registry.to_owned(),
            exchange_url,
            tenant_id: tenant_id.to_owned(),
            identity,
            http,
        })
    }

    /// The exchange at `https://<registry>/` for `principal`.
    pub fn service_principal(
        registry: &str,
        principal: &ServicePrincipal,
    ) -> Result<AcrExchange, AcrError> {
        // azure_core's HTTP client is built with no crypto provider of its own (the workspace
        // manifest says why), so ring must be the process default.
        let _ring_was_installed = rustls::crypto::ring::default_provider().install_default();
        let identity = azure_identity::ClientSecretCredential::new(
            &principal.tenant_id,
            principal.client_id.clone(),
            azure_core::credentials::Secret::new(principal.client_secret.clone()),
            None,
        )
        .map_err(|source| AcrError::BuildIdentity { source })?;
        let base = Url::parse(&format!("https://{registry}/")).map_err(|source| {
            AcrError::ParseRegistry {
                registry: registry.to_owned(),
                source,
            }
        })?;
        AcrExchange::new(
            registry,
            &base,
            &principal.tenant_id,
            identity,
            reqwest::Client::new(),
        )
    }

    /// An Entra token, exchanged for the registry's refresh token.
    pub async fn login(&self) -> Result<Login, AcrError> {
        let entra = self
            .identity
            .get_token(&[ARM_SCOPE], None)
            .await
            .map_err(|source| AcrError::GetEntraToken { source })?;
        let form = [
            ("grant_type", "access_token"),
            ("service", self.registry.as_str()),
            ("tenant", self.tenant_id.as_str()),
            ("access_token", entra.token.secret()),
        ];
        let url = &self.exchange_url;
        let mut response = self
            .http
            .post(url.clone())
            .form(&form)
            .send()
            .await
            .map_err(|source| AcrError::RequestExchange {
                url: url.clone(),
                source,
            })?;
        if !response.status().is_success() {
            return Err(AcrError::ExchangeStatus {
                url: url.clone(),
                status: response.status().as_u16(),
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) =
            response
                .chunk()
                .await
                .map_err(|source| AcrError::ReadExchangeAnswer {
                    url: url.clone(),
                    source,
                })?
        {
            body.extend_from_slice(&chunk);
            if body.len() > ANSWER_LIMIT {
                return Err(AcrError::ExchangeAnswerTooLarge { url: url.clone() });
            }
        }
        let answer: ExchangeAnswer =
            serde_json::from_slice(&body).map_err(|source| AcrError::DecodeExchangeAnswer {
                url: url.clone(),
                source,
            })?;
        let expires_at = jwt_expiry(&answer.refresh_token)
            .unwrap_or_else(|| Utc::now() + UNREADABLE_EXPIRY_LIFETIME);
        Ok(Login {
            server_url: self.registry.clone(),
            username: IDENTITY_TOKEN_USER.to_owned(),
            secret: answer.refresh_token,
            expires_at,
        })
    }
}

/// The `exp` claim of a JWT, read without verifying it: only to know when to ask again.
fn jwt_expiry(token: &str) -> Option<DateTime<Utc>> {
    let payload = token.split('.').nth(1)?;
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&payload).ok()?;
    DateTime::from_timestamp(claims.get("exp")?.as_i64()?, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refresh_tokens_expiry_is_its_exp_claim() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"exp":1700000000,"grant_type":"refresh_token"}"#);
        let token = format!("eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln");
        assert_eq!(
            jwt_expiry(&token),
            DateTime::from_timestamp(1_700_000_000, 0)
        );
        assert_eq!(jwt_expiry("opaque-token"), None);
        assert_eq!(
            jwt_expiry("a.bm90IGpzb24.c"),
            None,
            "a payload that is not JSON"
        );
    }

    #[test]
    fn a_missing_service_principal_key_is_named() {
        let error = ServicePrincipal::from_env(|key| {
            (key != "AZURE_CLIENT_SECRET").then(|| "x".to_owned())
        })
        .err()
        .expect("the secret is missing");
        assert_eq!(
            error.to_string(),
            "missing configuration key AZURE_CLIENT_SECRET"
        );
    }
}
