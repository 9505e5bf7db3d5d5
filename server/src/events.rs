//! The in-process event bus. Everything that happens in the engine is published here once;
//! the SSE stream, notifications and metrics subscribe to it.
//!
//! Subscribers parse these by their `type`: variants and fields are only ever added, never
//! renamed or removed.

use app::model::SyncState;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::broadcast;

/// How many events a slow subscriber may fall behind before it starts missing some.
const CAPACITY: usize = 1024;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A check cycle finished.
    CheckFinished {
        at: DateTime<Utc>,
        services_checked: usize,
        /// How long the cycle took, deploys included.
        duration_ms: u64,
    },
    /// A service changed state (a badge on the dashboard).
    ServiceState {
        service_id: i64,
        project: String,
        service: String,
        state: SyncState,
        detail: Option<String>,
    },
    /// A check found a tag that ranks above the running one (published every cycle it is
    /// still there; subscribers that tell people dedupe it).
    UpdateAvailable {
        service_id: i64,
        project: String,
        service: String,
        current_tag: String,
        candidate_tag: String,
        /// The candidate's digest, when the check learnt it (the tag list alone does not).
        candidate_digest: Option<String>,
        /// `auto` (a deploy follows) or `notify` (waits for a person).
        mode: String,
    },
    /// A deploy or rollback began: the revision is open and nothing is touched yet.
    DeployStarted {
        service_id: i64,
        revision_id: i64,
        project: String,
        service: String,
        from_tag: Option<String>,
        to_tag: String,
        /// `deploy` or `rollback`.
        kind: String,
        /// Who asked: `berth` for the engine itself, else the user or token name.
        actor: String,
    },
    /// A deploy or rollback ended.
    DeployFinished {
        service_id: i64,
        revision_id: i64,
        tag: String,
        /// `verified`, `failed` (nothing changed on the host) or `rolled_back`.
        verdict: String,
        reason: Option<String>,
        /// `deploy` or `rollback`.
        kind: String,
        actor: String,
        project: String,
        service: String,
        /// The digest now running, when verified. (The tag that ran before is in the
        /// `deploy_started` event of the same revision.)
        digest: Option<String>,
    },
    /// A Trivy scan of a service's image finished: after a verified deploy (counts of every
    /// finding of the image), or at the scan gate refusing a candidate (counts of the new
    /// findings that refused it).
    ScanFindings {
        service_id: i64,
        project: String,
        service: String,
        image: String,
        critical: u32,
        high: u32,
        medium: u32,
        low: u32,
        unknown: u32,
        /// Findings the image brings that the one before it did not have.
        new_findings: u32,
    },
    /// A registry refused Berth's credentials (or they could not be obtained).
    RegistryAuthFailed { registry: String, error: String },
}

impl Event {
    /// The SSE `event:` name of this event.
    pub fn name(&self) -> &'static str {
        match self {
            Event::CheckFinished { .. } => "check_finished",
            Event::ServiceState { .. } => "service_state",
            Event::UpdateAvailable { .. } => "update_available",
            Event::DeployStarted { .. } => "deploy_started",
            Event::DeployFinished { .. } => "deploy_finished",
            Event::ScanFindings { .. } => "scan_findings",
            Event::RegistryAuthFailed { .. } => "registry_auth_failed",
        }
    }
}

#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus {
            sender: broadcast::channel(CAPACITY).0,
        }
    }
}

impl EventBus {
    /// Publish an event; having no subscriber is normal and not an error.
    pub fn publish(&self, event: Event) {
        let _no_subscribers_is_fine = self.sender.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}
