//! Azure ACR with an Entra (AAD) identity, per Azure/acr `docs/AAD-OAuth.md`: an AAD access
//! token for Azure Resource Manager, exchanged at `POST /oauth2/exchange` for an ACR refresh
//! token, which the client then trades at the challenge's realm (`/oauth2/token`,
//! `grant_type=refresh_token`) for a registry access token. The admin user, or a service
//! principal as plain Basic, needs none of this (see routing.rs).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use azure_core::credentials::TokenCredential;
use serde::Deserialize;
use url::Url;

use super::{AuthError, AuthProvider, VendorHttp, read_json};
use crate::registry::secret::{Credentials, Secret};

const SERVICE: &str = "Azure ACR";
/// The audience ACR's exchange expects the AAD token for.
const ARM_SCOPE: &str = "https://management.azure.com/.default";
/// ACR refresh tokens live about three hours; reuse one for an hour.
const REFRESH_TOKEN_REUSE: Duration = Duration::from_secs(3600);

pub struct AcrCredentials {
    registry: String,
    exchange_url: Url,
    tenant_id: String,
    identity: Arc<dyn TokenCredential>,
    cached: Mutex<Option<(Secret, Instant)>>,
}

#[derive(Deserialize)]
struct ExchangeAnswer {
    refresh_token: String,
}

impl AcrCredentials {
    /// `base` is the registry's endpoint (`https://<name>.azurecr.io/`).
    pub fn new(
        registry: &str,
        base: &Url,
        tenant_id: &str,
        identity: Arc<dyn TokenCredential>,
    ) -> Result<AcrCredentials, AuthError> {
        let exchange_url =
            base.join("oauth2/exchange")
                .map_err(|error| AuthError::VendorAnswer {
                    service: SERVICE,
                    reason: error.to_string(),
                })?;
        Ok(AcrCredentials {
            registry: registry.to_owned(),
            exchange_url,
            tenant_id: tenant_id.to_owned(),
            identity,
            cached: Mutex::new(None),
        })
    }

    /// A service principal from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`.
    pub fn service_principal(
        registry: &str,
        tenant_id: &str,
        client_id: &str,
        client_secret: &Secret,
    ) -> Result<AcrCredentials, AuthError> {
        // azure_core's HTTP client is built with no crypto provider of its own (the workspace
        // manifest says why), so ring, the one every other client here uses, must be the
        // process default. Installing it again is harmless: the first one stays.
        let _ring_was_installed = rustls::crypto::ring::default_provider().install_default();
        let identity = azure_identity::ClientSecretCredential::new(
            tenant_id,
            client_id.to_owned(),
            azure_core::credentials::Secret::new(client_secret.expose().to_owned()),
            None,
        )
        .map_err(|error| AuthError::CloudSdk {
            service: SERVICE,
            reason: error.to_string(),
        })?;
        let base = Url::parse(&format!("https://{registry}/")).map_err(|error| {
            AuthError::VendorAnswer {
                service: SERVICE,
                reason: error.to_string(),
            }
        })?;
        AcrCredentials::new(registry, &base, tenant_id, identity)
    }
}

#[async_trait::async_trait]
impl AuthProvider for AcrCredentials {
    fn name(&self) -> &'static str {
        SERVICE
    }

    async fn credentials(&self, http: &VendorHttp) -> Result<Credentials, AuthError> {
        if let Some((token, fetched)) = self
            .cached
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            && fetched.elapsed() < REFRESH_TOKEN_REUSE
        {
            return Ok(Credentials::RefreshToken(token.clone()));
        }
        let aad = self
            .identity
            .get_token(&[ARM_SCOPE], None)
            .await
            .map_err(|error| AuthError::CloudSdk {
                service: "Azure Entra ID",
                reason: error.to_string(),
            })?;
        let form = [
            ("grant_type", "access_token"),
            ("service", self.registry.as_str()),
            ("tenant", self.tenant_id.as_str()),
            ("access_token", aad.token.secret()),
        ];
        let response = http
            .send(http.client().post(self.exchange_url.clone()).form(&form))
            .await
            .map_err(|source| AuthError::RequestVendorApi {
                service: SERVICE,
                source,
            })?;
        let answer: ExchangeAnswer = read_json(SERVICE, http, response).await?;
        let token = Secret::new(answer.refresh_token);
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((token.clone(), Instant::now()));
        Ok(Credentials::RefreshToken(token))
    }
}
