//! The engine as the dashboard's [`app::backend::Backend`].

use std::sync::Arc;

use app::backend::Backend;
use app::error::AppError;
use app::model::{
    CheckReport, RevisionEntry, RollbackReport, ServiceDetail, ServiceSummary, Verdict,
};
use async_trait::async_trait;

use crate::deploy::rollout::DeployOutcome;
use crate::engine::{Engine, error_chain};
use crate::store::{Revision, ServiceRecord};

pub struct EngineBackend {
    engine: Arc<Engine>,
}

impl EngineBackend {
    pub fn new(engine: Arc<Engine>) -> EngineBackend {
        EngineBackend { engine }
    }

    async fn record(&self, service_id: i64) -> Result<ServiceRecord, AppError> {
        self.engine
            .store()
            .service(service_id)
            .await
            .map_err(|error| to_app_error(&error))?
            .ok_or_else(|| AppError::NotFound(format!("service {service_id}")))
    }

    /// The engine's actions take a selector; `project/name` is never ambiguous.
    async fn selector(&self, service_id: i64) -> Result<String, AppError> {
        let record = self.record(service_id).await?;
        Ok(format!("{}/{}", record.project, record.name))
    }
}

/// Engine errors reach the browser as their message chain, which never holds a secret.
fn to_app_error(error: &dyn std::error::Error) -> AppError {
    tracing::warn!(error = %error_chain(error), "dashboard request failed");
    AppError::Engine(error_chain(error))
}

fn revision_entry(revision: Revision) -> RevisionEntry {
    RevisionEntry {
        id: revision.id,
        kind: revision.kind,
        tag: revision.tag,
        previous_tag: revision.previous_tag,
        index_digest: revision.index_digest,
        platform_digest: revision.platform_digest,
        started_at: revision.started_at,
        finished_at: revision.finished_at,
        verdict: revision.verdict.0,
        reason: revision.reason,
        actor: revision.actor,
        log: revision.log,
    }
}

#[async_trait]
impl Backend for EngineBackend {
    async fn list_services(&self) -> Result<Vec<ServiceSummary>, AppError> {
        self.engine
            .store()
            .list_services()
            .await
            .map_err(|error| to_app_error(&error))
    }

    async fn check_now(&self) -> Result<CheckReport, AppError> {
        let report = self
            .engine
            .check_all(false)
            .await
            .map_err(|error| to_app_error(&error))?;
        Ok(CheckReport {
            checked_at: report.checked_at,
            services_checked: report.services.len(),
        })
    }

    async fn service_detail(&self, service_id: i64) -> Result<ServiceDetail, AppError> {
        let record = self.record(service_id).await?;
        let store = self.engine.store();
        let revisions = store
            .revisions(service_id)
            .await
            .map_err(|error| to_app_error(&error))?;
        let ignored_tags = store
            .ignored_tags(service_id)
            .await
            .map_err(|error| to_app_error(&error))?;
        Ok(ServiceDetail {
            // The store's own conversion; the fields below are the ones a summary leaves out.
            summary: ServiceSummary::from(record.clone()),
            current_digest: record.current_digest,
            pinned_tag: record.pinned_tag,
            excluded: record.excluded,
            detail: record.detail,
            revisions: revisions.into_iter().map(revision_entry).collect(),
            ignored_tags,
        })
    }

    async fn rollback(
        &self,
        service_id: i64,
        to: &str,
        actor: &str,
    ) -> Result<RollbackReport, AppError> {
        if to.trim().is_empty() {
            return Err(AppError::InvalidInput("to: a tag is required".into()));
        }
        let selector = self.selector(service_id).await?;
        let outcome = self
            .engine
            .rollback(&selector, Some(to), actor)
            .await
            .map_err(|error| to_app_error(&error))?;
        let (verdict, reason) = match outcome {
            DeployOutcome::Verified { .. } => (Verdict::Verified, None),
            DeployOutcome::Failed { reason, .. } => (Verdict::Failed, Some(reason)),
            DeployOutcome::RolledBack { reason, .. } => (Verdict::RolledBack, Some(reason)),
        };
        Ok(RollbackReport {
            tag: to.to_owned(),
            verdict,
            reason,
        })
    }

    async fn pin(&self, service_id: i64, actor: &str) -> Result<String, AppError> {
        let selector = self.selector(service_id).await?;
        self.engine
            .pin(&selector, None, actor)
            .await
            .map_err(|error| to_app_error(&error))
    }

    async fn unpin(&self, service_id: i64, actor: &str) -> Result<(), AppError> {
        let selector = self.selector(service_id).await?;
        self.engine
            .unpin(&selector, actor)
            .await
            .map_err(|error| to_app_error(&error))
    }

    async fn unignore(&self, service_id: i64, tag: &str, actor: &str) -> Result<(), AppError> {
        let selector = self.selector(service_id).await?;
        self.engine
            .unignore(&selector, tag, actor)
            .await
            .map(|_was_ignored| ())
            .map_err(|error| to_app_error(&error))
    }
}
