//! Wire types shared by the server and the browser. Timestamps cross the wire as chrono
//! writes them; the browser reads them with [`crate::time`]'s small parser.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a service stands relative to its registry (docs/ARCHITECTURE.md, "The loop").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SyncState {
    Synced,
    UpdateAvailable,
    Deploying,
    Verifying,
    Failed,
    Pinned,
    Excluded,
    Unknown,
}

impl SyncState {
    /// Every state, in the order the dashboard lists them.
    pub const ALL: [SyncState; 8] = [
        SyncState::Synced,
        SyncState::UpdateAvailable,
        SyncState::Deploying,
        SyncState::Verifying,
        SyncState::Failed,
        SyncState::Pinned,
        SyncState::Excluded,
        SyncState::Unknown,
    ];

    /// The name stored in the database and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Synced => "synced",
            SyncState::UpdateAvailable => "update_available",
            SyncState::Deploying => "deploying",
            SyncState::Verifying => "verifying",
            SyncState::Failed => "failed",
            SyncState::Pinned => "pinned",
            SyncState::Excluded => "excluded",
            SyncState::Unknown => "unknown",
        }
    }

    pub fn parse(text: &str) -> Option<SyncState> {
        SyncState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
    }

    /// The label a person reads on a badge (colour is never the only signal).
    pub fn label(self) -> &'static str {
        match self {
            SyncState::Synced => "Synced",
            SyncState::UpdateAvailable => "Update available",
            SyncState::Deploying => "Deploying…",
            SyncState::Verifying => "Verifying",
            SyncState::Failed => "Out of sync",
            SyncState::Pinned => "Pinned",
            SyncState::Excluded => "Excluded",
            SyncState::Unknown => "Unknown",
        }
    }
}

/// One managed (or detected) compose service as the overview shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSummary {
    pub id: i64,
    pub project: String,
    pub name: String,
    /// The image repository, without the tag (`registry/namespace/name`).
    pub image: String,
    pub current_tag: Option<String>,
    /// The platform digest the service runs (`sha256:…`), when known.
    pub current_digest: Option<String>,
    pub best_candidate: Option<String>,
    pub state: SyncState,
    #[cfg_attr(
        feature = "hydrate",
        serde(default, deserialize_with = "crate::time::deserialize_option")
    )]
    pub last_checked_at: Option<DateTime<Utc>>,
}

impl ServiceSummary {
    /// The registry host part of the image (`docker.io` when the image names none).
    pub fn registry(&self) -> &str {
        match self.image.split_once('/') {
            Some((host, _)) if host.contains(['.', ':']) || host == "localhost" => host,
            _ => "docker.io",
        }
    }
}

/// `sha256:0123456789ab…` → `0123456789ab`, as the cards show a digest.
pub fn short_digest(digest: &str) -> &str {
    let hex = digest.split_once(':').map_or(digest, |(_, hex)| hex);
    &hex[..hex.len().min(12)]
}

/// What "Check now" answers: when the check ran and how many services it looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    #[cfg_attr(
        feature = "hydrate",
        serde(deserialize_with = "crate::time::deserialize")
    )]
    pub checked_at: DateTime<Utc>,
    pub services_checked: usize,
}

/// How a deploy or rollback ended (the `revisions` table's verdict).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    InProgress,
    Verified,
    Failed,
    RolledBack,
}

impl Verdict {
    pub const ALL: [Verdict; 4] = [
        Verdict::InProgress,
        Verdict::Verified,
        Verdict::Failed,
        Verdict::RolledBack,
    ];

    /// The name stored in the database and used in CSS classes.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::InProgress => "in_progress",
            Verdict::Verified => "verified",
            Verdict::Failed => "failed",
            Verdict::RolledBack => "rolled_back",
        }
    }

    pub fn parse(text: &str) -> Option<Verdict> {
        Verdict::ALL
            .into_iter()
            .find(|verdict| verdict.as_str() == text)
    }

    /// The label a person reads (colour is never the only signal).
    pub fn label(self) -> &'static str {
        match self {
            Verdict::InProgress => "In progress",
            Verdict::Verified => "Verified",
            Verdict::Failed => "Failed",
            Verdict::RolledBack => "Rolled back",
        }
    }
}

/// One deploy or rollback of a service, as the service page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionEntry {
    pub id: i64,
    /// `deploy` or `rollback`.
    pub kind: String,
    pub tag: String,
    pub previous_tag: Option<String>,
    pub index_digest: Option<String>,
    pub platform_digest: Option<String>,
    #[cfg_attr(
        feature = "hydrate",
        serde(deserialize_with = "crate::time::deserialize")
    )]
    pub started_at: DateTime<Utc>,
    #[cfg_attr(
        feature = "hydrate",
        serde(default, deserialize_with = "crate::time::deserialize_option")
    )]
    pub finished_at: Option<DateTime<Utc>>,
    pub verdict: Verdict,
    pub reason: Option<String>,
    pub actor: String,
    pub log: String,
}

/// Everything the service page shows about one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDetail {
    pub summary: ServiceSummary,
    pub current_digest: Option<String>,
    pub pinned_tag: Option<String>,
    pub excluded: bool,
    /// Why the service is in its state (a failed deploy's reason, for example).
    pub detail: Option<String>,
    /// Newest first.
    pub revisions: Vec<RevisionEntry>,
    pub ignored_tags: Vec<String>,
}

impl ServiceDetail {
    /// The revision whose tag runs now: the newest verified one with the current tag.
    pub fn running_revision(&self) -> Option<i64> {
        let current = self.summary.current_tag.as_deref()?;
        self.revisions
            .iter()
            .find(|r| r.verdict == Verdict::Verified && r.tag == current)
            .map(|r| r.id)
    }
}

/// What a deploy or a rollback ended with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployReport {
    pub tag: String,
    pub verdict: Verdict,
    pub reason: Option<String>,
}

/// The data of a `service_state` event on `/events` (other fields are ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceStateEvent {
    pub service_id: i64,
    pub state: SyncState,
}

/// One registry as the registries page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryInfo {
    pub registry: String,
    /// Whether the last authentication succeeded; `None` before Berth has asked.
    pub auth_ok: Option<bool>,
    pub last_error: Option<String>,
    #[cfg_attr(
        feature = "hydrate",
        serde(default, deserialize_with = "crate::time::deserialize_option")
    )]
    pub last_error_at: Option<DateTime<Utc>>,
    pub quota_limit: Option<u64>,
    pub quota_remaining: Option<u64>,
    pub quota_window_seconds: Option<u64>,
    /// Set while a 429 holds.
    #[cfg_attr(
        feature = "hydrate",
        serde(default, deserialize_with = "crate::time::deserialize_option")
    )]
    pub limited_until: Option<DateTime<Utc>>,
    pub requests: u64,
}

/// A container of a service: its status and its last log lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerView {
    pub name: String,
    /// `running`, `exited`, `restarting`, …
    pub status: String,
    pub health: Option<String>,
    pub logs: String,
}

/// What the operator can do to a service's containers from its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContainerAction {
    Start,
    Stop,
    /// Remove all but the two newest local images of the service's repository.
    Prune,
}
