//! Credentials known up front: anonymous, or a user and secret from the configuration
//! (DOCR's API token, a GHCR PAT, a pre-made SWR login key…).

use super::{AuthError, AuthProvider, VendorHttp};
use crate::registry::secret::Credentials;

/// A provider whose credentials never change.
#[derive(Debug, Clone)]
pub struct FixedCredentials {
    name: &'static str,
    credentials: Credentials,
}

impl FixedCredentials {
    pub fn anonymous(name: &'static str) -> FixedCredentials {
        FixedCredentials {
            name,
            credentials: Credentials::Anonymous,
        }
    }

    pub fn new(name: &'static str, credentials: Credentials) -> FixedCredentials {
        FixedCredentials { name, credentials }
    }
}

#[async_trait::async_trait]
impl AuthProvider for FixedCredentials {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn credentials(&self, _http: &VendorHttp) -> Result<Credentials, AuthError> {
        Ok(self.credentials.clone())
    }
}
