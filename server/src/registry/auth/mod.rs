//! Auth providers: one per registry kind, each its own file. A provider turns configuration
//! into [`Credentials`] (renewing them when they expire) and, where the vendor has an API
//! for it, reads tag push times the registry API does not give. The logins that need a cloud
//! SDK are made by a helper program ([`cloud_helper`]).

pub mod cloud_helper;
pub mod docker_config;
pub mod docker_hub;
pub mod fixed;
pub mod harbor;
pub mod helper_process;
pub mod routing;
pub mod swr;
pub mod vendor_http;

pub use routing::provider_for;
pub use vendor_http::VendorHttp;

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::reference::ImageRef;
use super::secret::Credentials;

/// When each tag of a repository was pushed.
pub type PushTimes = HashMap<String, DateTime<Utc>>;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("reading docker config {path}: {reason}")]
    ReadDockerConfig { path: String, reason: String },
    #[error("credential helper docker-credential-{helper}: {reason}")]
    RunCredentialHelper { helper: String, reason: String },
    #[error("missing configuration key {key}")]
    MissingKey { key: &'static str },
    #[error("incomplete configuration: {problem}")]
    Misconfigured { problem: String },
    #[error("{service} request failed: {source}")]
    RequestVendorApi {
        service: &'static str,
        #[source]
        source: reqwest::Error,
    },
    #[error("{service} answered HTTP {status}")]
    VendorStatus { service: &'static str, status: u16 },
    #[error("{service} gave an invalid answer: {reason}")]
    VendorAnswer {
        service: &'static str,
        reason: String,
    },
    #[error(
        "{program} {action}: {source} (set CLOUD_CREDENTIAL_HELPER to the helper's path, or install it beside berth)"
    )]
    StartCloudHelper {
        program: String,
        action: String,
        #[source]
        source: helper_process::HelperProcessError,
    },
    #[error("{program} {action}: {source}")]
    RunCloudHelper {
        program: String,
        action: String,
        #[source]
        source: helper_process::HelperProcessError,
    },
    #[error("{program} {action}: {status}: {said}")]
    CloudHelperFailed {
        program: String,
        action: String,
        status: std::process::ExitStatus,
        said: String,
    },
    #[error("{program} {action}: its answer is not the protocol's JSON: {source}")]
    ReadCloudHelperAnswer {
        program: String,
        action: String,
        #[source]
        source: serde_json::Error,
    },
}

/// What the client asks of a registry's provider.
#[async_trait::async_trait]
pub trait AuthProvider: Send + Sync {
    /// The name errors and logs use: `Docker Hub`, `Harbor`, `docker config`…
    fn name(&self) -> &'static str;

    /// Credentials to answer the registry's challenge with; renewed here when they expire.
    async fn credentials(&self, http: &VendorHttp) -> Result<Credentials, AuthError>;

    /// True when the credentials are the host's own docker logins, which docker and Trivy
    /// read by themselves: Berth then hands them nothing.
    fn is_host_login(&self) -> bool {
        false
    }

    /// Push times from the vendor's API, if it has one; `None` when it does not. `tags` is
    /// the repository's tag list, for a provider that keeps push times between checks.
    async fn push_times(
        &self,
        _http: &VendorHttp,
        _image: &ImageRef,
        _tags: &[String],
    ) -> Result<Option<PushTimes>, AuthError> {
        Ok(None)
    }
}

/// Map a non-success answer of a vendor API to an error.
pub(crate) fn check_status(
    service: &'static str,
    response: reqwest::Response,
) -> Result<reqwest::Response, AuthError> {
    if response.status().is_success() {
        Ok(response)
    } else {
        Err(AuthError::VendorStatus {
            service,
            status: response.status().as_u16(),
        })
    }
}

/// Read a JSON answer of a vendor API (capped like every other registry body).
pub(crate) async fn read_json<T: serde::de::DeserializeOwned>(
    service: &'static str,
    http: &VendorHttp,
    response: reqwest::Response,
) -> Result<T, AuthError> {
    let response = check_status(service, response)?;
    let body = super::body::read_capped(response, super::body::DEFAULT_BODY_LIMIT)
        .await
        .map_err(|error| AuthError::VendorAnswer {
            service,
            reason: error.to_string(),
        })?;
    http.received(body.len() as u64);
    serde_json::from_slice(&body).map_err(|error| AuthError::VendorAnswer {
        service,
        reason: error.to_string(),
    })
}
