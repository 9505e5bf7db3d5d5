//! The engine as the dashboard's [`app::backend::Backend`].

use std::sync::Arc;

use app::backend::Backend;
use app::error::AppError;
use app::model::{
    CheckReport, ContainerAction, ContainerView, DeployReport, RegistryInfo, RevisionEntry,
    ServiceDetail, ServiceSummary, Verdict,
};
use async_trait::async_trait;

use crate::containers::{Containers, ContainersError};
use crate::deploy::rollout::DeployOutcome;
use crate::engine::{Engine, error_chain};
use crate::registry::RegistryStatus;
use crate::store::{Revision, ServiceRecord};

pub struct EngineBackend {
    engine: Arc<Engine>,
    containers: Option<Containers>,
}

impl EngineBackend {
    pub fn new(engine: Arc<Engine>) -> EngineBackend {
        EngineBackend {
            engine,
            containers: None,
        }
    }

    /// Turn on the container section of the service page (status, logs, Start, Stop, Prune).
    pub fn with_containers(mut self, containers: Containers) -> EngineBackend {
        self.containers = Some(containers);
        self
    }

    fn containers(&self) -> Result<&Containers, AppError> {
        self.containers.as_ref().ok_or_else(|| {
            AppError::Engine("container control is not connected to a Docker engine".into())
        })
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
        Ok(record.selector())
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
            summary: ServiceSummary::from(&record),
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
    ) -> Result<DeployReport, AppError> {
        if to.trim().is_empty() {
            return Err(AppError::InvalidInput("to: a tag is required".into()));
        }
        let selector = self.selector(service_id).await?;
        let outcome = self
            .engine
            .rollback(&selector, Some(to), actor)
            .await
            .map_err(|error| to_app_error(&error))?;
        Ok(deploy_report(to.to_owned(), outcome))
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

    async fn deploy_now(&self, service_id: i64, actor: &str) -> Result<DeployReport, AppError> {
        let selector = self.selector(service_id).await?;
        let outcome = self
            .engine
            .deploy_service(&selector, None, actor)
            .await
            .map_err(|error| to_app_error(&error))?;
        // The engine chose the tag (the best candidate): the revision it wrote names it.
        let revisions = self
            .engine
            .store()
            .revisions(service_id)
            .await
            .map_err(|error| to_app_error(&error))?;
        let tag = revisions
            .into_iter()
            .find(|revision| revision.id == revision_id(&outcome))
            .map(|revision| revision.tag)
            .unwrap_or_default();
        Ok(deploy_report(tag, outcome))
    }

    async fn containers(
        &self,
        service_id: i64,
        lines: usize,
    ) -> Result<Vec<ContainerView>, AppError> {
        let record = self.record(service_id).await?;
        let reports = self
            .containers()?
            .report(&record, lines)
            .await
            .map_err(|error| to_app_error(&error))?;
        Ok(reports
            .into_iter()
            .map(|report| ContainerView {
                name: report.name,
                status: report.status,
                health: report.health,
                logs: report.logs,
            })
            .collect())
    }

    async fn control(
        &self,
        service_id: i64,
        action: ContainerAction,
        actor: &str,
    ) -> Result<String, AppError> {
        let record = self.record(service_id).await?;
        let containers = self.containers()?;
        let fail = |error: ContainersError| to_app_error(&error);
        let (kind, answer) = match action {
            ContainerAction::Start => {
                let count = containers.start(&record).await.map_err(fail)?;
                ("container_start", format!("Started {count} container(s)"))
            }
            ContainerAction::Stop => {
                let count = containers.stop(&record).await.map_err(fail)?;
                ("container_stop", format!("Stopped {count} container(s)"))
            }
            ContainerAction::Prune => {
                let report = containers.prune(&record).await.map_err(fail)?;
                let mut answer = format!(
                    "Removed {} image(s), kept {}",
                    report.removed.len(),
                    report.kept.join(", ")
                );
                if !report.skipped.is_empty() {
                    let skipped: Vec<&str> = report
                        .skipped
                        .iter()
                        .map(|(name, _)| name.as_str())
                        .collect();
                    answer.push_str(&format!("; in use, not removed: {}", skipped.join(", ")));
                }
                ("images_pruned", answer)
            }
        };
        self.engine
            .store()
            .audit(
                Some(service_id),
                kind,
                actor,
                &serde_json::json!({ "answer": answer }),
                chrono::Utc::now(),
            )
            .await
            .map_err(|error| to_app_error(&error))?;
        Ok(answer)
    }

    async fn registries(&self) -> Result<Vec<RegistryInfo>, AppError> {
        Ok(self
            .engine
            .registry_status()
            .into_iter()
            .map(registry_info)
            .collect())
    }
}

fn deploy_report(tag: String, outcome: DeployOutcome) -> DeployReport {
    let (verdict, reason) = match outcome {
        DeployOutcome::Verified { .. } => (Verdict::Verified, None),
        DeployOutcome::Failed { reason, .. } => (Verdict::Failed, Some(reason)),
        DeployOutcome::RolledBack { reason, .. } => (Verdict::RolledBack, Some(reason)),
    };
    DeployReport {
        tag,
        verdict,
        reason,
    }
}

fn revision_id(outcome: &DeployOutcome) -> i64 {
    match outcome {
        DeployOutcome::Verified { revision_id, .. }
        | DeployOutcome::Failed { revision_id, .. }
        | DeployOutcome::RolledBack { revision_id, .. } => *revision_id,
    }
}

fn registry_info(status: RegistryStatus) -> RegistryInfo {
    let quota = status.quota.as_ref();
    RegistryInfo {
        registry: status.registry,
        auth_ok: status.stats.auth_ok,
        last_error: status.stats.last_error,
        last_error_at: status.stats.last_error_at,
        quota_limit: quota.and_then(|quota| quota.limit),
        quota_remaining: quota.and_then(|quota| quota.remaining),
        quota_window_seconds: quota.and_then(|quota| quota.window_seconds),
        limited_until: status.limited_until,
        requests: status.stats.requests.iter().map(|count| count.count).sum(),
    }
}
