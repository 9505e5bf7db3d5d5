//! Crash recovery. A revision still `in_progress` at start means Berth was stopped in the
//! middle of a deploy. For each, look at the compose file, the containers and the store,
//! and converge: if the new version runs and verifies, finish the deploy; otherwise put the
//! old compose file back and make sure the old version runs. No service stays `Deploying`,
//! and no revision stays open.

use app::model::SyncState;

use super::{Engine, EngineError, error_chain};
use crate::deploy::compose::ComposeTarget;
use crate::deploy::health;
use crate::deploy::rollout::repo_digest_for;
use crate::discovery::compose_file::ImageEdit;
use crate::store::{Revision, ServiceRecord, Verdict};

/// What recovery did with one cut-off deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovered {
    /// The new version was running and verified: the deploy is finished.
    Finished { service: String, tag: String },
    /// The old version was restored (or had never been left).
    Restored {
        service: String,
        tag: String,
        reason: String,
    },
}

const INTERRUPTED: &str = "Berth stopped during this deploy";

impl Engine {
    pub async fn recover(&self) -> Result<Vec<Recovered>, EngineError> {
        let mut recovered = Vec::new();
        for revision in self.store.open_revisions().await? {
            let Some(record) = self.store.service(revision.service_id).await? else {
                continue;
            };
            let outcome = self.recover_one(&record, &revision).await?;
            tracing::warn!(service = %record.name, tag = %revision.tag, ?outcome, "recovered a deploy that was cut off");
            recovered.push(outcome);
        }
        Ok(recovered)
    }

    /// Close a cut-off revision whose edit was never made (or cannot be read), leaving the
    /// host as it is.
    async fn close_untouched(
        &self,
        record: &ServiceRecord,
        revision: &Revision,
        reason: String,
    ) -> Result<Recovered, EngineError> {
        let now = self.clock.now();
        self.store
            .close_revision(revision.id, Verdict::Failed, Some(&reason), None, now)
            .await?;
        self.store
            .set_state(record.id, SyncState::Unknown, Some(&reason))
            .await?;
        Ok(Recovered::Restored {
            service: record.name.clone(),
            tag: revision.previous_tag.clone().unwrap_or_default(),
            reason,
        })
    }

    async fn recover_one(
        &self,
        record: &ServiceRecord,
        revision: &Revision,
    ) -> Result<Recovered, EngineError> {
        let now = self.clock.now();
        let edit = match revision
            .compose_edit
            .as_deref()
            .map(serde_json::from_str::<ImageEdit>)
        {
            Some(Ok(edit)) => edit,
            // Written by an older Berth, which kept whole files: nothing to compare with.
            Some(Err(error)) => {
                let reason = format!(
                    "{INTERRUPTED}; its compose edit was recorded in a form this version cannot \
                     read ({error}): check {} and the running container by hand",
                    record.selector()
                );
                return self.close_untouched(record, revision, reason).await;
            }
            // Cut off before the compose file was touched: nothing on the host changed.
            None => {
                let reason = format!("{INTERRUPTED}, before any change");
                return self.close_untouched(record, revision, reason).await;
            }
        };

        // Is the new version what runs now, and does it verify?
        if let Ok(Some(image)) = self.adapters.docker.local_image(&edit.new_image).await {
            let mut container = None;
            let verified = health::verify(
                self.adapters.docker.as_ref(),
                &record.project,
                &record.name,
                &image.id,
                &self.rollout.health,
                None,
                &mut container,
            )
            .await;
            if verified.is_ok() && edit.apply().is_ok() {
                let digest = repo_digest_for(&image.repo_digests, &edit.new_image);
                self.store
                    .close_revision(revision.id, Verdict::Verified, None, digest.as_deref(), now)
                    .await?;
                self.store
                    .set_deployed(record.id, &revision.tag, digest.as_deref())
                    .await?;
                return Ok(Recovered::Finished {
                    service: record.name.clone(),
                    tag: revision.tag.clone(),
                });
            }
        }

        // Otherwise: the old compose file back (a no-op if it was never replaced), and the
        // old version running.
        let mut reason = format!("{INTERRUPTED}; the previous version was restored");
        if let Err(error) = edit.revert() {
            reason = format!(
                "{INTERRUPTED}; restoring the compose file failed: {}",
                error_chain(&error)
            );
        } else if let Err(problem) = self.ensure_running(record, &edit).await {
            reason = format!("{INTERRUPTED}; {problem}");
        }
        self.store
            .close_revision(revision.id, Verdict::RolledBack, Some(&reason), None, now)
            .await?;
        self.store
            .set_state(record.id, SyncState::Failed, Some(&reason))
            .await?;
        Ok(Recovered::Restored {
            service: record.name.clone(),
            tag: revision.previous_tag.clone().unwrap_or_default(),
            reason,
        })
    }

    /// Recreate the service from the (restored) compose file unless its container already
    /// runs the old image.
    async fn ensure_running(&self, record: &ServiceRecord, edit: &ImageEdit) -> Result<(), String> {
        let old = self
            .adapters
            .docker
            .local_image(&edit.old_image)
            .await
            .map_err(|error| error_chain(&error))?
            .ok_or_else(|| {
                format!(
                    "the previous image {} is not in the local engine",
                    edit.old_image
                )
            })?;
        let containers = self
            .adapters
            .docker
            .compose_containers()
            .await
            .map_err(|error| error_chain(&error))?;
        let container = containers
            .iter()
            .find(|c| c.project == record.project && c.service == record.name);
        let running_old = match container {
            Some(container) if container.image_id == old.id => self
                .adapters
                .docker
                .container_state(&container.id)
                .await
                .is_ok_and(|state| state.running),
            _ => false,
        };
        if running_old {
            return Ok(());
        }
        let discovered = self
            .discovered(record)
            .await
            .map_err(|error| error_chain(&error))?;
        let target = ComposeTarget {
            project: record.project.clone(),
            files: discovered.compose.files.clone(),
            project_dir: discovered.compose.project_dir.clone(),
            docker_config: None,
        };
        self.adapters
            .compose
            .up(&target, &record.name, true)
            .await
            .map(|_| ())
            .map_err(|error| {
                format!(
                    "recreating the previous version failed: {}",
                    error_chain(&error)
                )
            })
    }
}
