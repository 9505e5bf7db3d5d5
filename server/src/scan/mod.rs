//! Vulnerability scanning with the real `trivy` binary, and its reports.
//!
//! The engine sees scanning through the narrow [`Scanner`] trait: [`trivy::TrivyScanner`]
//! runs the binary; [`queue::ScanQueue`] puts any scanner behind a one-at-a-time queue so a
//! scan never holds up the engine's loop; [`gate`] compares a candidate's findings with the
//! running image's. Without a `trivy` binary, scanning reports itself unavailable and every
//! scan fails with [`ScanError::Unavailable`]; nothing else depends on it.

pub mod config;
pub mod export;
pub mod gate;
pub mod queue;
pub mod report;
pub mod trivy;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use config::ScanConfig;
pub use report::{Finding, ScanReport, Severity};

/// Something that scans images: the real Trivy runner, the queue in front of it, or a test
/// double.
#[async_trait]
pub trait Scanner: Send + Sync {
    async fn scan(&self, target: &ScanTarget) -> Result<ScanOutcome, ScanError>;

    /// Whether scans can run at all, and if not, why (shown in the dashboard).
    fn availability(&self) -> Availability;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Availability {
    Available,
    Unavailable { reason: String },
}

/// What to scan, and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanTarget {
    pub subject: ScanSubject,
    /// Registry credentials, handed to Trivy in its own environment variables.
    pub credentials: Option<RegistryCredentials>,
    /// Let Trivy talk plain HTTP / unverified TLS to the registry (`TRIVY_INSECURE`), for a
    /// loopback or LAN registry without a certificate.
    pub insecure_registry: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanSubject {
    /// An image by reference, looked for in the local Docker engine first, then the
    /// registry (Trivy's default order): the right choice for the image a service runs.
    Image(String),
    /// An image by reference, from the registry only: for a candidate not pulled yet.
    RegistryImage(String),
    /// An image archive (`docker save` tar) or an OCI image layout folder (`--input`).
    Archive(PathBuf),
}

impl ScanTarget {
    pub fn image(reference: impl Into<String>) -> ScanTarget {
        ScanTarget::of(ScanSubject::Image(reference.into()))
    }

    pub fn registry_image(reference: impl Into<String>) -> ScanTarget {
        ScanTarget::of(ScanSubject::RegistryImage(reference.into()))
    }

    pub fn archive(path: impl Into<PathBuf>) -> ScanTarget {
        ScanTarget::of(ScanSubject::Archive(path.into()))
    }

    pub fn with_credentials(mut self, credentials: RegistryCredentials) -> ScanTarget {
        self.credentials = Some(credentials);
        self
    }

    pub fn insecure_registry(mut self) -> ScanTarget {
        self.insecure_registry = true;
        self
    }

    /// The image reference or archive path, for messages and records.
    pub fn display_name(&self) -> String {
        match &self.subject {
            ScanSubject::Image(reference) | ScanSubject::RegistryImage(reference) => {
                reference.clone()
            }
            ScanSubject::Archive(path) => path.display().to_string(),
        }
    }

    fn of(subject: ScanSubject) -> ScanTarget {
        ScanTarget {
            subject,
            credentials: None,
            insecure_registry: false,
        }
    }
}

/// Credentials for the registry holding the image. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub enum RegistryCredentials {
    /// `TRIVY_USERNAME` / `TRIVY_PASSWORD`.
    Basic { username: String, password: String },
    /// `TRIVY_REGISTRY_TOKEN`: a bearer token (ECR, GCP access tokens and the like).
    Token(String),
}

impl fmt::Debug for RegistryCredentials {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryCredentials::Basic { username, .. } => formatter
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            RegistryCredentials::Token(_) => formatter.write_str("Token(<redacted>)"),
        }
    }
}

/// One finished scan, ready to store with a revision (serde) and to export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanOutcome {
    /// The image reference or archive path that was scanned.
    pub target: String,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub report: ScanReport,
    /// The report exactly as Trivy printed it: the JSON download.
    pub raw_json: String,
}

impl ScanOutcome {
    /// Parse Trivy's output for `target`; the raw text is kept as it is.
    pub fn from_trivy_output(
        target: String,
        started_at: DateTime<Utc>,
        duration: Duration,
        raw_json: String,
    ) -> Result<ScanOutcome, ScanError> {
        let report = ScanReport::parse(raw_json.as_bytes()).map_err(ScanError::ParseReport)?;
        Ok(ScanOutcome {
            target,
            started_at,
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            report,
            raw_json,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("scanning is unavailable: {reason}")]
    Unavailable { reason: String },
    #[error("refusing to scan {target:?}: {reason}")]
    CheckTarget { target: String, reason: String },
    #[error("starting {program}")]
    Spawn {
        program: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("waiting for trivy to finish")]
    Wait(#[source] std::io::Error),
    #[error("trivy did not finish within {}s and was stopped", timeout.as_secs())]
    Timeout { timeout: Duration },
    #[error("trivy exited with {status}: {stderr}")]
    Exit { status: String, stderr: String },
    #[error("trivy printed a report that is not UTF-8")]
    DecodeOutput(#[source] std::string::FromUtf8Error),
    #[error("reading trivy's report")]
    ParseReport(#[source] report::ReportError),
    #[error("the scan queue is full ({capacity} scans waiting); try again later")]
    Enqueue { capacity: usize },
    #[error("the scan queue stopped before this scan finished")]
    AwaitQueue,
}
