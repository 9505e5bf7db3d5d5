//! The API's wire types. They mirror the store's records but are the API's own, so the
//! OpenAPI document describes exactly what is sent and the dashboard's types can change freely.

use app::model::{SyncState, Verdict};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::store::{Revision, ServiceRecord};

/// Where a service stands relative to its registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceState {
    Synced,
    UpdateAvailable,
    Deploying,
    Verifying,
    Failed,
    Pinned,
    Excluded,
    Unknown,
}

impl From<SyncState> for ServiceState {
    fn from(state: SyncState) -> Self {
        match state {
            SyncState::Synced => ServiceState::Synced,
            SyncState::UpdateAvailable => ServiceState::UpdateAvailable,
            SyncState::Deploying => ServiceState::Deploying,
            SyncState::Verifying => ServiceState::Verifying,
            SyncState::Failed => ServiceState::Failed,
            SyncState::Pinned => ServiceState::Pinned,
            SyncState::Excluded => ServiceState::Excluded,
            SyncState::Unknown => ServiceState::Unknown,
        }
    }
}

/// How a deploy or rollback ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevisionVerdict {
    InProgress,
    Verified,
    Failed,
    RolledBack,
}

impl From<Verdict> for RevisionVerdict {
    fn from(verdict: Verdict) -> Self {
        match verdict {
            Verdict::InProgress => RevisionVerdict::InProgress,
            Verdict::Verified => RevisionVerdict::Verified,
            Verdict::Failed => RevisionVerdict::Failed,
            Verdict::RolledBack => RevisionVerdict::RolledBack,
        }
    }
}

/// A compose service Berth knows.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Service {
    pub id: i64,
    pub project: String,
    pub name: String,
    /// The image repository, without the tag.
    pub image: String,
    pub current_tag: Option<String>,
    pub current_digest: Option<String>,
    /// The tag the last check ranked best.
    pub best_candidate: Option<String>,
    pub state: ServiceState,
    pub pinned_tag: Option<String>,
    pub excluded: bool,
    /// Why Berth cannot manage the service, if it cannot.
    pub unmanageable: Option<String>,
    /// Why the service is in its state (a failed deploy's reason, for example).
    pub detail: Option<String>,
    pub last_checked_at: Option<DateTime<Utc>>,
}

impl From<ServiceRecord> for Service {
    fn from(record: ServiceRecord) -> Self {
        Service {
            id: record.id,
            project: record.project,
            name: record.name,
            image: record.image,
            current_tag: record.current_tag,
            current_digest: record.current_digest,
            best_candidate: record.best_candidate,
            state: record.state.into(),
            pinned_tag: record.pinned_tag,
            excluded: record.excluded,
            unmanageable: record.unmanageable,
            detail: record.detail,
            last_checked_at: record.last_checked_at,
        }
    }
}

/// A service with its ignored tags.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceDetail {
    #[serde(flatten)]
    pub service: Service,
    /// Tags the ranking skips for this service (a rollback adds the ones it stepped over).
    pub ignored_tags: Vec<String>,
}

/// One deploy or rollback.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RevisionEntry {
    pub id: i64,
    pub service_id: i64,
    /// `deploy` or `rollback`.
    pub kind: String,
    pub tag: String,
    pub previous_tag: Option<String>,
    pub index_digest: Option<String>,
    pub platform_digest: Option<String>,
    pub pushed_at: Option<DateTime<Utc>>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub verdict: RevisionVerdict,
    pub reason: Option<String>,
    /// Who asked: `berth`, `token:<name>`, a dashboard user …
    pub actor: String,
    /// The change made to the compose file, as a unified diff.
    pub compose_diff: String,
    pub log: String,
}

impl From<Revision> for RevisionEntry {
    fn from(revision: Revision) -> Self {
        RevisionEntry {
            id: revision.id,
            service_id: revision.service_id,
            kind: revision.kind,
            tag: revision.tag,
            previous_tag: revision.previous_tag,
            index_digest: revision.index_digest,
            platform_digest: revision.platform_digest,
            pushed_at: revision.pushed_at,
            started_at: revision.started_at,
            finished_at: revision.finished_at,
            verdict: revision.verdict.0.into(),
            reason: revision.reason,
            actor: revision.actor,
            compose_diff: revision.compose_diff,
            log: revision.log,
        }
    }
}
