//! Google GCR / Artifact Registry with a service-account key (`GCP_SERVICE_ACCOUNT_JSON`,
//! the key itself or the path of its file): gcp_auth signs a JWT assertion and trades it at
//! the key's `token_uri` for an OAuth2 access token, the password of user
//! `oauth2accesstoken`. (A given `GCP_ACCESS_TOKEN` needs no helper.)

use gcp_auth::TokenProvider;

use crate::Login;

/// GCP's user name for an access token.
pub const ACCESS_TOKEN_USER: &str = "oauth2accesstoken";
/// Enough for pulls from both GCR and Artifact Registry.
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

#[derive(Debug, thiserror::Error)]
pub enum GcpError {
    #[error("missing configuration key GCP_SERVICE_ACCOUNT_JSON")]
    ReadSettings,
    // gcp_auth's errors describe the file or JSON, never the private key.
    #[error("reading the service-account key in GCP_SERVICE_ACCOUNT_JSON")]
    ReadServiceAccount {
        #[source]
        source: gcp_auth::Error,
    },
    #[error("minting an access token for the service account")]
    MintToken {
        #[source]
        source: gcp_auth::Error,
    },
}

/// `key` is the service-account key's JSON, or the path of the file holding it.
pub async fn login(registry: &str, key: &str) -> Result<Login, GcpError> {
    let account = if key.trim_start().starts_with('{') {
        gcp_auth::CustomServiceAccount::from_json(key)
    } else {
        gcp_auth::CustomServiceAccount::from_file(key)
    }
    .map_err(|source| GcpError::ReadServiceAccount { source })?;
    let token = account
        .token(&[SCOPE])
        .await
        .map_err(|source| GcpError::MintToken { source })?;
    Ok(Login {
        server_url: registry.to_owned(),
        username: ACCESS_TOKEN_USER.to_owned(),
        secret: token.as_str().to_owned(),
        expires_at: token.expires_at(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_key_that_is_not_a_service_account_is_refused_by_name() {
        let error = login("gcr.io", r#"{"type":"authorized_user"}"#)
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("GCP_SERVICE_ACCOUNT_JSON"),
            "{error}"
        );
        let missing = login("gcr.io", "/nonexistent/key.json").await.unwrap_err();
        assert!(matches!(missing, GcpError::ReadServiceAccount { .. }));
    }
}
