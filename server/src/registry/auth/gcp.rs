//! Google GCR / Artifact Registry: user `oauth2accesstoken`, password an OAuth2 access token,
//! either given (`GCP_ACCESS_TOKEN`) or minted by gcp_auth from a service-account key
//! (`GCP_SERVICE_ACCOUNT_JSON`, the key itself or its path). gcp_auth caches and renews
//! the token.

use gcp_auth::TokenProvider;

use super::{AuthError, AuthProvider, VendorHttp};
use crate::registry::secret::{Credentials, Secret};

const SERVICE: &str = "GCP";
/// GCP's user name for an access token.
pub const ACCESS_TOKEN_USER: &str = "oauth2accesstoken";
/// Enough for pulls from both GCR and Artifact Registry.
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

enum TokenSource {
    Given(Secret),
    ServiceAccount(Box<gcp_auth::CustomServiceAccount>),
}

pub struct GcpCredentials {
    source: TokenSource,
}

impl GcpCredentials {
    pub fn access_token(token: Secret) -> GcpCredentials {
        GcpCredentials {
            source: TokenSource::Given(token),
        }
    }

    /// From a service-account key: the JSON itself, or the path of the file holding it.
    pub fn service_account(key: &str) -> Result<GcpCredentials, AuthError> {
        let account = if key.trim_start().starts_with('{') {
            gcp_auth::CustomServiceAccount::from_json(key)
        } else {
            gcp_auth::CustomServiceAccount::from_file(key)
        }
        // gcp_auth's errors describe the file or JSON, never the private key.
        .map_err(|error| AuthError::CloudSdk {
            service: SERVICE,
            reason: format!("GCP_SERVICE_ACCOUNT_JSON: {error}"),
        })?;
        Ok(GcpCredentials {
            source: TokenSource::ServiceAccount(Box::new(account)),
        })
    }
}

#[async_trait::async_trait]
impl AuthProvider for GcpCredentials {
    fn name(&self) -> &'static str {
        SERVICE
    }

    async fn credentials(&self, _http: &VendorHttp) -> Result<Credentials, AuthError> {
        let token = match &self.source {
            TokenSource::Given(token) => token.clone(),
            // gcp_auth mints (and caches) the token over its own HTTP client, so these calls
            // are not in the registry's request counts.
            TokenSource::ServiceAccount(account) => {
                let token = account
                    .token(&[SCOPE])
                    .await
                    .map_err(|error| AuthError::CloudSdk {
                        service: SERVICE,
                        reason: crate::registry::error::error_chain(&error),
                    })?;
                Secret::new(token.as_str())
            }
        };
        Ok(Credentials::Basic {
            username: ACCESS_TOKEN_USER.to_owned(),
            password: token,
        })
    }
}
