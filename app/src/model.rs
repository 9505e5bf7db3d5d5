//! Wire types shared by the server and the browser.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a service stands relative to its registry (DESIGN.md, "The loop").
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
    pub best_candidate: Option<String>,
    pub state: SyncState,
    pub last_checked_at: Option<DateTime<Utc>>,
}

/// What "Check now" answers: when the check ran and how many services it looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    pub checked_at: DateTime<Utc>,
    pub services_checked: usize,
}
