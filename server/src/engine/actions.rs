//! What people ask the engine to do to one service: deploy now, roll back, pin and unpin,
//! ignore and un-ignore a tag, exclude and include. Each is recorded in the event log with
//! who did it.

use app::model::SyncState;
use serde_json::json;

use super::{Engine, EngineError, error_chain};
use crate::deploy::rollout::{DeployKind, DeployOutcome, DeployRequest, tag_of};
use crate::discovery::{self, DiscoveredService};
use crate::ranking::{self, Candidate, Policy, PolicyOptions};
use crate::registry::ImageRef;
use crate::store::{ServiceRecord, Verdict};

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("no service is named {0:?}; `berth status` lists them")]
    FindService(String),
    #[error("{name:?} is ambiguous: it names {}; use project/service", candidates.join(", "))]
    AmbiguousService {
        name: String,
        candidates: Vec<String>,
    },
    #[error("{0} is not (or no longer) discovered: its compose project cannot be found")]
    Discover(String),
    #[error("{service} cannot be managed: {reason}")]
    Unmanageable { service: String, reason: String },
    #[error("{service} has no verified revision to roll back to")]
    NoRollbackTarget { service: String },
    #[error("{service} has no newer tag to deploy")]
    NothingToDeploy { service: String },
    #[error("asking the registry about {service} failed: {reason}")]
    Registry { service: String, reason: String },
    #[error(transparent)]
    Deploy(#[from] crate::deploy::rollout::RolloutError),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<crate::store::StoreError> for ActionError {
    fn from(error: crate::store::StoreError) -> Self {
        ActionError::Engine(EngineError::Store(error))
    }
}

impl Engine {
    /// A service by `name` or `project/name`.
    pub async fn find_service(&self, selector: &str) -> Result<ServiceRecord, ActionError> {
        let records = self.store.service_records().await?;
        let mut matches: Vec<ServiceRecord> = match selector.split_once('/') {
            Some((project, name)) => records
                .into_iter()
                .filter(|r| r.project == project && r.name == name)
                .collect(),
            None => records.into_iter().filter(|r| r.name == selector).collect(),
        };
        if matches.len() > 1 {
            return Err(ActionError::AmbiguousService {
                name: selector.to_owned(),
                candidates: matches
                    .iter()
                    .map(|r| format!("{}/{}", r.project, r.name))
                    .collect(),
            });
        }
        matches
            .pop()
            .ok_or_else(|| ActionError::FindService(selector.to_owned()))
    }

    pub(super) async fn discovered(
        &self,
        record: &ServiceRecord,
    ) -> Result<DiscoveredService, ActionError> {
        let config = self.load_config()?;
        let found = discovery::discover(&config, self.adapters.docker.as_ref())
            .await
            .map_err(EngineError::Discover)?
            .into_iter()
            .find(|s| s.project == record.project && s.service == record.name)
            .ok_or_else(|| ActionError::Discover(record.selector()))?;
        if let Some(reason) = &found.unmanageable {
            return Err(ActionError::Unmanageable {
                service: record.name.clone(),
                reason: reason.clone(),
            });
        }
        Ok(found)
    }

    /// Deploy `tag` (or the best candidate of a fresh check) to the service now.
    pub async fn deploy_service(
        &self,
        selector: &str,
        tag: Option<&str>,
        actor: &str,
    ) -> Result<DeployOutcome, ActionError> {
        let record = self.find_service(selector).await?;
        let tag = match tag {
            Some(tag) => tag.to_owned(),
            None => {
                let report = self.check_all(true).await?;
                report
                    .services
                    .into_iter()
                    .find(|s| s.project == record.project && s.service == record.name)
                    .and_then(|s| s.best_candidate)
                    .ok_or_else(|| ActionError::NothingToDeploy {
                        service: record.name.clone(),
                    })?
            }
        };
        let discovered = self.discovered(&record).await?;
        self.audit(&record, "deploy_requested", actor, json!({ "tag": tag }))
            .await?;
        let request = request_for(&record, &discovered, &tag, DeployKind::Deploy, actor);
        Ok(self.rollout.run(request).await?)
    }

    /// Roll back to `to` (default: the newest verified revision older than the running one):
    /// pin it, deploy it with `--force-recreate`, and on success clear the pin and ignore every
    /// tag that ranked above it, so the service stays there until a newer tag appears (the
    /// rollout does the bookkeeping, so it holds when the caller stops waiting).
    pub async fn rollback(
        &self,
        selector: &str,
        to: Option<&str>,
        actor: &str,
    ) -> Result<DeployOutcome, ActionError> {
        let record = self.find_service(selector).await?;
        let target = match to {
            Some(tag) => tag.to_owned(),
            None => default_rollback_target(
                &self.store.revisions(record.id).await?,
                record.current_tag.as_deref(),
            )
            .ok_or_else(|| ActionError::NoRollbackTarget {
                service: record.name.clone(),
            })?,
        };
        let discovered = self.discovered(&record).await?;
        let above = self.tags_ranked_above(&record, &target).await?;
        self.audit(
            &record,
            "rollback_requested",
            actor,
            json!({ "to": target, "ignoring": above }),
        )
        .await?;
        let mut request = request_for(&record, &discovered, &target, DeployKind::Rollback, actor);
        request.ranked_above = above;
        Ok(self.rollout.run(request).await?)
    }

    /// Every tag the registry offers now that ranks above `target`.
    async fn tags_ranked_above(
        &self,
        record: &ServiceRecord,
        target: &str,
    ) -> Result<Vec<String>, ActionError> {
        let reference = ImageRef::parse(&record.image).map_err(|error| ActionError::Registry {
            service: record.name.clone(),
            reason: error.to_string(),
        })?;
        let tags = self
            .adapters
            .registry
            .list_tags(&reference)
            .await
            .map_err(|error| ActionError::Registry {
                service: record.name.clone(),
                reason: error_chain(&error),
            })?;
        let candidates: Vec<Candidate> = tags
            .into_iter()
            .map(|tag| Candidate {
                tag: tag.name,
                pushed_at: tag.pushed_at,
                digest: None,
            })
            .collect();
        let config = self.load_config()?;
        let options = PolicyOptions {
            allow: config
                .get("ALLOW_TAGS")
                .map(str::to_owned)
                .into_iter()
                .collect(),
            ..PolicyOptions::default()
        };
        let policy = Policy::from_options(&options).map_err(|error| ActionError::Registry {
            service: record.name.clone(),
            reason: format!("tag policy: {}", error_chain(&error)),
        })?;
        Ok(ranking::tags_ranked_above(target, &candidates, &policy))
    }

    pub async fn pin(
        &self,
        selector: &str,
        tag: Option<&str>,
        actor: &str,
    ) -> Result<String, ActionError> {
        let record = self.find_service(selector).await?;
        let tag = match tag {
            Some(tag) => tag.to_owned(),
            None => record
                .current_tag
                .clone()
                .or_else(|| tag_of(&record.image))
                .unwrap_or_else(|| "latest".to_owned()),
        };
        self.store.set_pin(record.id, Some(&tag)).await?;
        self.store
            .set_state_unless_deploying(record.id, SyncState::Pinned)
            .await?;
        self.audit(&record, "pin", actor, json!({ "tag": tag }))
            .await?;
        Ok(tag)
    }

    pub async fn unpin(&self, selector: &str, actor: &str) -> Result<(), ActionError> {
        let record = self.find_service(selector).await?;
        self.store.set_pin(record.id, None).await?;
        // Until the next check says otherwise, it stands where it stood before the pin.
        let state = if record.best_candidate.is_some() {
            SyncState::UpdateAvailable
        } else {
            SyncState::Synced
        };
        self.store
            .set_state_unless_deploying(record.id, state)
            .await?;
        self.audit(&record, "unpin", actor, json!({})).await?;
        Ok(())
    }

    pub async fn ignore(&self, selector: &str, tag: &str, actor: &str) -> Result<(), ActionError> {
        let record = self.find_service(selector).await?;
        self.store
            .ignore_tag(record.id, tag, "ignored by hand", actor, self.clock.now())
            .await?;
        self.audit(&record, "ignore", actor, json!({ "tag": tag }))
            .await
    }

    /// Returns whether the tag was ignored before.
    pub async fn unignore(
        &self,
        selector: &str,
        tag: &str,
        actor: &str,
    ) -> Result<bool, ActionError> {
        let record = self.find_service(selector).await?;
        let was = self.store.unignore_tag(record.id, tag).await?;
        self.audit(&record, "unignore", actor, json!({ "tag": tag }))
            .await?;
        Ok(was)
    }

    pub async fn set_excluded(
        &self,
        selector: &str,
        excluded: bool,
        actor: &str,
    ) -> Result<(), ActionError> {
        let record = self.find_service(selector).await?;
        self.store.set_excluded(record.id, excluded).await?;
        let kind = if excluded { "exclude" } else { "include" };
        self.audit(&record, kind, actor, json!({})).await
    }

    async fn audit(
        &self,
        record: &ServiceRecord,
        kind: &str,
        actor: &str,
        detail: serde_json::Value,
    ) -> Result<(), ActionError> {
        self.store
            .audit(Some(record.id), kind, actor, &detail, self.clock.now())
            .await?;
        Ok(())
    }
}

/// The newest verified revision other than the running one; failing that, what ran before
/// Berth's first verified deploy (that version was running, so it is a known state).
fn default_rollback_target(
    revisions: &[crate::store::Revision],
    current: Option<&str>,
) -> Option<String> {
    // Revisions come newest first; the oldest verified one is the first Berth made.
    let verified = || {
        revisions
            .iter()
            .filter(|r| r.verdict.0 == Verdict::Verified)
    };
    verified()
        .find(|r| Some(r.tag.as_str()) != current)
        .map(|r| r.tag.clone())
        .or_else(|| verified().next_back().and_then(|r| r.previous_tag.clone()))
}

fn request_for(
    record: &ServiceRecord,
    discovered: &DiscoveredService,
    tag: &str,
    kind: DeployKind,
    actor: &str,
) -> DeployRequest {
    DeployRequest {
        service_id: record.id,
        project: record.project.clone(),
        service: record.name.clone(),
        compose: discovered.compose.clone(),
        tag: tag.to_owned(),
        index_digest: None,
        pushed_at: None,
        kind,
        actor: actor.to_owned(),
        probe_url: discovered.probe_http.clone(),
        ranked_above: Vec::new(),
    }
}
