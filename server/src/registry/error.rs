//! The registry layer's error: which registry and provider failed, doing what, and why.
//! Messages never carry a secret: credentials live in [`super::secret::Secret`], whose
//! Debug and Display print `***`, and URLs here never hold credentials.

use std::fmt;

use chrono::{DateTime, Utc};

use super::auth::AuthError;

/// A registry operation that failed.
#[derive(Debug, thiserror::Error)]
#[error("registry {registry} ({provider}): {operation}: {cause}")]
pub struct RegistryError {
    /// The registry host as written in the image reference (`docker.io`, `127.0.0.1:5000`).
    pub registry: String,
    /// The auth provider in charge of that registry (`Docker Hub`, `Harbor`, `docker config`…).
    pub provider: &'static str,
    pub operation: Operation,
    #[source]
    pub cause: Cause,
}

impl RegistryError {
    /// When the registry is rate-limited, the moment it may be asked again.
    pub fn limited_until(&self) -> Option<DateTime<Utc>> {
        match self.cause {
            Cause::Limited { until } => Some(until),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self.cause, Cause::NotFound)
    }
}

/// What Berth was doing when the registry failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    ListTags { repository: String },
    ResolveDigest { reference: String },
    FetchManifest { reference: String },
    FetchConfig { digest: String },
    PushTimes { repository: String },
    Authenticate,
}

impl fmt::Display for Operation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operation::ListTags { repository } => write!(formatter, "listing tags of {repository}"),
            Operation::ResolveDigest { reference } => {
                write!(formatter, "resolving the digest of {reference}")
            }
            Operation::FetchManifest { reference } => {
                write!(formatter, "fetching manifest {reference}")
            }
            Operation::FetchConfig { digest } => {
                write!(formatter, "fetching image config {digest}")
            }
            Operation::PushTimes { repository } => {
                write!(formatter, "reading push times of {repository}")
            }
            Operation::Authenticate => write!(formatter, "authenticating"),
        }
    }
}

/// Why it failed.
#[derive(Debug, thiserror::Error)]
pub enum Cause {
    #[error("credentials were refused (HTTP {status})")]
    BadCredentials { status: u16 },
    #[error("not found")]
    NotFound,
    #[error("rate limited until {until}")]
    Limited { until: DateTime<Utc> },
    #[error("unreachable: {}", error_chain(source))]
    Unreachable {
        #[source]
        source: reqwest::Error,
    },
    #[error("timed out")]
    Timeout,
    #[error("too many redirects (a redirect loop?)")]
    RedirectLoop,
    #[error("digest mismatch: the registry said {expected}, the body hashes to {actual}")]
    DigestMismatch { expected: String, actual: String },
    #[error("answer body larger than the {limit}-byte cap")]
    BodyTooLarge { limit: u64 },
    #[error("invalid answer: {reason}")]
    InvalidAnswer { reason: String },
    #[error("unexpected HTTP status {status}")]
    UnexpectedStatus { status: u16 },
    #[error("unsupported authentication challenge {scheme:?}")]
    UnsupportedChallenge { scheme: String },
    #[error("no manifest for platform {platform} (the index has {available})")]
    NoMatchingPlatform { platform: String, available: String },
    #[error(
        "plain HTTP is refused for {url}: only loopback hosts and INSECURE_REGISTRIES may use it"
    )]
    InsecureUrl { url: String },
    #[error("getting credentials failed: {source}")]
    Credentials {
        #[source]
        source: AuthError,
    },
}

impl Cause {
    /// Classify a transport error: timeouts and redirect loops are told apart from plain
    /// unreachability so the user knows what to look at.
    pub fn from_transport(error: reqwest::Error) -> Cause {
        if error.is_timeout() {
            Cause::Timeout
        } else if error.is_redirect() {
            Cause::RedirectLoop
        } else {
            Cause::Unreachable { source: error }
        }
    }
}

/// `outer: inner: innermost`, because reqwest's own message hides the reason
/// ("error sending request") in its sources.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        source = inner.source();
    }
    text
}
