//! When the store fails in the middle of a rollout, the host is put back as for any other
//! failure: the compose edit reverted and, if the new container was started, the previous
//! version recreated. Then whatever the store still takes is recorded; what it does not (the
//! revision stays open) the next start's recovery records.

use super::rollout::{
    DeployOutcome, DeployRequest, Rollout, RolloutError, run_blocking, target_of,
};
use crate::discovery::compose_file::ImageEdit;
use crate::engine::error_chain;
use crate::store::{StoreError, Verdict};

/// How far a rollout got: what the undo must take back.
#[derive(Debug, Default)]
pub struct Progress {
    pub revision_id: Option<i64>,
    /// The compose edit, once written.
    pub applied: Option<ImageEdit>,
    /// Whether `compose up` ran (the old container may be gone).
    pub recreated: bool,
}

impl Rollout {
    pub(super) async fn undo_after_store_error(
        &self,
        request: &DeployRequest,
        progress: &Progress,
        error: StoreError,
    ) -> Result<DeployOutcome, RolloutError> {
        let mut reason = format!("recording the deploy failed: {}", error_chain(&error));
        if let Some(edit) = &progress.applied {
            let reverted = run_blocking({
                let edit = edit.clone();
                move || edit.revert()
            })
            .await;
            match reverted {
                Err(revert) => reason.push_str(&format!(
                    "; restoring the compose file failed too: {}",
                    error_chain(&revert)
                )),
                Ok(()) if progress.recreated => {
                    let target = target_of(request);
                    match self.compose.up(&target, &request.service, true).await {
                        Ok(_) => reason.push_str("; the previous version was recreated"),
                        Err(up) => reason.push_str(&format!(
                            "; recreating the previous version failed: {}",
                            error_chain(&up)
                        )),
                    }
                }
                Ok(()) => reason.push_str("; the compose file was restored"),
            }
        }
        tracing::error!(%reason, "the store failed during a rollout; the host was put back");
        let Some(revision_id) = progress.revision_id else {
            return Err(RolloutError::Store(error));
        };
        let (verdict, outcome) = if progress.recreated {
            let outcome = DeployOutcome::RolledBack {
                revision_id,
                reason: reason.clone(),
            };
            (Verdict::RolledBack, outcome)
        } else {
            let outcome = DeployOutcome::Failed {
                revision_id,
                reason: reason.clone(),
            };
            (Verdict::Failed, outcome)
        };
        self.store
            .close_revision(revision_id, verdict, Some(&reason), None, self.clock.now())
            .await?;
        self.set_state(request, app::model::SyncState::Failed, Some(&reason))
            .await?;
        self.publish_finished(request, revision_id, verdict, Some(reason), None);
        Ok(outcome)
    }
}
