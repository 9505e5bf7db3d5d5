//! Huawei Cloud SWR: the documented long-term login. The user is `<region>@<AK>` and the
//! password is the login key, lowercase hex of HMAC-SHA256 keyed by the secret key over the
//! access key ("Obtaining a Long-Term Valid Login Command"); or a pre-made
//! `SWR_USERNAME` / `SWR_LOGIN_KEY` pair.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{AuthError, AuthProvider, VendorHttp};
use crate::config::Config;
use crate::registry::secret::{Credentials, Secret};

/// The SWR login key for an access key pair.
pub fn login_key(access_key: &str, secret_key: &Secret) -> Secret {
    // HMAC accepts a key of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret_key.expose().as_bytes())
        .expect("HMAC takes any key length");
    mac.update(access_key.as_bytes());
    Secret::new(hex::encode(mac.finalize().into_bytes()))
}

/// Whether `registry` is an SWR host (`swr.<region>.myhuaweicloud.com` and its mirrors).
pub fn is_swr_host(registry: &str) -> bool {
    registry.starts_with("swr.")
        && (registry.contains(".myhuaweicloud.") || registry.contains(".otc.t-systems."))
}

#[derive(Debug, Clone)]
pub struct SwrCredentials {
    credentials: Credentials,
}

impl SwrCredentials {
    /// From `SWR_USERNAME`/`SWR_LOGIN_KEY`, else `SWR_REGION` + `SWR_ACCESS_KEY`/`SWR_SECRET_KEY`
    /// (the region defaults to the one in the registry host).
    pub fn from_config(registry: &str, config: &Config) -> Result<SwrCredentials, AuthError> {
        if let (Some(username), Some(key)) =
            (config.get("SWR_USERNAME"), config.get("SWR_LOGIN_KEY"))
        {
            return Ok(SwrCredentials {
                credentials: Credentials::Basic {
                    username: username.to_owned(),
                    password: Secret::new(key),
                },
            });
        }
        let region = config
            .get("SWR_REGION")
            .or_else(|| {
                registry
                    .strip_prefix("swr.")
                    .and_then(|rest| rest.split('.').next())
            })
            .ok_or(AuthError::MissingKey { key: "SWR_REGION" })?;
        let access_key = config.get("SWR_ACCESS_KEY").ok_or(AuthError::MissingKey {
            key: "SWR_ACCESS_KEY",
        })?;
        let secret_key =
            Secret::new(config.get("SWR_SECRET_KEY").ok_or(AuthError::MissingKey {
                key: "SWR_SECRET_KEY",
            })?);
        Ok(SwrCredentials {
            credentials: Credentials::Basic {
                username: format!("{region}@{access_key}"),
                password: login_key(access_key, &secret_key),
            },
        })
    }
}

#[async_trait::async_trait]
impl AuthProvider for SwrCredentials {
    fn name(&self) -> &'static str {
        "Huawei SWR"
    }

    async fn credentials(&self, _http: &VendorHttp) -> Result<Credentials, AuthError> {
        Ok(self.credentials.clone())
    }
}
