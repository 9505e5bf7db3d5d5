//! One deploy of one service, start to verdict:
//!
//! 1. take the service's lock (a second deploy of it is refused, never interleaved), then
//!    wait for the files it may write (rollouts that share a compose file or `.env` queue);
//! 2. open a revision and mark the service `Deploying`, before anything is touched;
//! 3. plan the compose edit (one value) and store it with the revision, then write it
//!    atomically;
//! 4. `compose pull SERVICE`, `compose up -d --no-deps SERVICE` (`--force-recreate` for a
//!    rollback), their output kept in the revision's log;
//! 5. verify (see [`super::health`]); verified: record the new tag and digest, `Synced`.
//!
//! A failure before `up` reverts the edit and leaves the old container running. A failure of
//! `up` or of verification restores the old value and image, recreates and verifies it,
//! ignores the failed tag, and records the revision as rolled back with the reason and the
//! container's last log lines.
//!
//! A rollout runs as a task of its own ([`Rollout::run`]): whoever asked for it may stop
//! waiting (a client that disconnects, a request that times out) without cutting it off
//! between stopping the old container and starting the new one.

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::model::SyncState;
use chrono::{DateTime, Utc};
use tokio_util::task::TaskTracker;

use super::compose::{CommandLog, ComposeApi, ComposeError, ComposeTarget};
use super::failpoint;
use super::health::{self, HealthPolicy};
use super::locks::DeployLocks;
use super::login_folder::{LoginFolder, LoginFolderError, host_docker_config};
use super::retry::Retries;
use super::scanning::{self, ScannedDeploy, Scanning};
use super::undo::Progress;
use crate::clock::Clock;
use crate::discovery::compose_file::{self, ComposeFileError, ComposeProject, ImageEdit};
use crate::discovery::docker::{DockerApi, DockerError};
use crate::events::{Event, EventBus};
use crate::registry::{ImageRef, RegistryApi, RegistryError, RegistryLogin};
use crate::store::{NewRevision, Store, StoreError, Verdict};

/// How many of the container's last log lines a failed revision keeps.
const LOG_LINES_ON_FAILURE: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    #[error(
        "{project}/{service} is already being deployed; try again when that deploy has finished"
    )]
    Busy { project: String, service: String },
    #[error("recording the deploy failed")]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployKind {
    Deploy,
    /// A rollback: the same steps, with `--force-recreate`, the target pinned while it runs.
    Rollback,
}

impl DeployKind {
    fn as_str(self) -> &'static str {
        match self {
            DeployKind::Deploy => "deploy",
            DeployKind::Rollback => "rollback",
        }
    }
}

#[derive(Debug, Clone)]
pub struct DeployRequest {
    pub service_id: i64,
    pub project: String,
    pub service: String,
    pub compose: ComposeProject,
    pub tag: String,
    pub index_digest: Option<String>,
    pub pushed_at: Option<DateTime<Utc>>,
    pub kind: DeployKind,
    pub actor: String,
    pub probe_url: Option<String>,
    /// For a rollback: the tags that ranked above its target when it was asked for, ignored
    /// once it verifies, so the service stays there until a newer tag appears.
    pub ranked_above: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployOutcome {
    Verified {
        revision_id: i64,
        digest: Option<String>,
    },
    /// Nothing changed on the host (the old container still runs).
    Failed { revision_id: i64, reason: String },
    /// The new version was started, failed, and the previous one was restored.
    RolledBack { revision_id: i64, reason: String },
}

/// A step that failed, in words for the revision and the dashboard.
#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error("planning the compose edit: {0}")]
    Plan(#[source] ComposeFileError),
    #[error("writing the compose edit: {0}")]
    Apply(#[source] ComposeFileError),
    #[error("pull: {0}")]
    Pull(#[source] ComposeError),
    #[error("up: {0}")]
    Up(#[source] ComposeError),
    /// Compose can exit 0 from a pull that fetched nothing (seen with a missing layer).
    #[error("pull: compose finished, but the image {0} is not in the local engine")]
    MissingImage(String),
    #[error("inspecting the image: {0}")]
    Image(#[source] DockerError),
    #[error("verification: {0}")]
    Verify(#[source] health::HealthError),
    #[error("logging in to the registry: {0}")]
    Login(#[source] RegistryError),
    #[error("handing the registry login to compose: {0}")]
    LoginFolder(#[source] LoginFolderError),
}

#[derive(Clone)]
pub struct Rollout {
    pub store: Store,
    pub docker: Arc<dyn DockerApi>,
    pub compose: Arc<dyn ComposeApi>,
    /// Where compose's and Trivy's registry logins come from.
    pub registry: Arc<dyn RegistryApi>,
    pub events: EventBus,
    pub clock: Arc<dyn Clock>,
    pub health: HealthPolicy,
    pub locks: DeployLocks,
    /// Every rollout task, so that shutdown can let them reach their verdict.
    pub tasks: TaskTracker,
    /// Candidates held back after a failure that changed nothing.
    pub retries: Retries,
    /// Trivy, when the configuration turns it on.
    pub scanning: Option<Scanning>,
}

impl Rollout {
    /// Run the rollout as a task of its own and wait for its verdict. Dropping the returned
    /// future stops the waiting, never the rollout.
    pub async fn run(
        self: &Arc<Self>,
        request: DeployRequest,
    ) -> Result<DeployOutcome, RolloutError> {
        let rollout = self.clone();
        self.tasks
            .spawn(async move { rollout.deploy(&request).await })
            .await
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
    }

    /// Is a rollout of the service running (or waiting its turn)?
    pub fn is_busy(&self, service_id: i64) -> bool {
        self.locks.is_busy(service_id)
    }

    /// Let the running rollouts reach their verdict, for at most `limit`; returns how many
    /// were still running then (the next start recovers those).
    pub async fn finish(&self, limit: Duration) -> usize {
        self.tasks.close();
        if !self.tasks.is_empty() {
            tracing::info!(
                running = self.tasks.len(),
                "waiting for running deploys to reach their verdict"
            );
        }
        match tokio::time::timeout(limit, self.tasks.wait()).await {
            Ok(()) => 0,
            Err(_) => self.tasks.len(),
        }
    }

    #[tracing::instrument(name = "rollout", skip_all, fields(
        project = %request.project, service = %request.service, tag = %request.tag,
        kind = request.kind.as_str(), actor = %request.actor))]
    async fn deploy(&self, request: &DeployRequest) -> Result<DeployOutcome, RolloutError> {
        let Some(_service) = self.locks.try_service(request.service_id) else {
            return Err(RolloutError::Busy {
                project: request.project.clone(),
                service: request.service.clone(),
            });
        };
        let files = request.compose.files.iter().cloned();
        let _files = self
            .locks
            .files(files.chain([request.compose.env_file()]))
            .await;
        let started = Instant::now();
        let operator_pin = match request.kind {
            DeployKind::Rollback => {
                let record = self.store.service(request.service_id).await?;
                self.store
                    .set_pin(request.service_id, Some(&request.tag))
                    .await?;
                record.and_then(|record| record.pinned_tag)
            }
            DeployKind::Deploy => None,
        };
        let mut progress = Progress::default();
        let outcome = match self.deploy_locked(request, &mut progress).await {
            Err(RolloutError::Store(error)) => {
                self.undo_after_store_error(request, &progress, error).await
            }
            outcome => outcome,
        };
        if request.kind == DeployKind::Rollback {
            self.finish_rollback(request, operator_pin.as_deref(), &outcome)
                .await?;
        }
        self.note_verdict(request, &outcome, started.elapsed());
        outcome
    }

    /// The rollback's own pin goes, and once it verified, the tags that ranked above its
    /// target are ignored. A service a person had pinned stays pinned: at the rollback's
    /// target once that verified (a pin left on the tag rolled back from would deploy it
    /// again at the next check), at the person's tag otherwise.
    async fn finish_rollback(
        &self,
        request: &DeployRequest,
        operator_pin: Option<&str>,
        outcome: &Result<DeployOutcome, RolloutError>,
    ) -> Result<(), RolloutError> {
        let verified = matches!(outcome, Ok(DeployOutcome::Verified { .. }));
        let pin = match operator_pin {
            Some(_) if verified => Some(request.tag.as_str()),
            pin => pin,
        };
        self.store.set_pin(request.service_id, pin).await?;
        if verified {
            let reason = format!("ranked above {} at a rollback", request.tag);
            let now = self.clock.now();
            for tag in &request.ranked_above {
                self.store
                    .ignore_tag(request.service_id, tag, &reason, &request.actor, now)
                    .await?;
            }
        }
        Ok(())
    }

    /// Hold back a candidate whose deploy changed nothing, and log the verdict.
    fn note_verdict(
        &self,
        request: &DeployRequest,
        outcome: &Result<DeployOutcome, RolloutError>,
        took: Duration,
    ) {
        let kind = request.kind.as_str();
        let seconds = took.as_secs_f64();
        match outcome {
            Ok(DeployOutcome::Verified { .. }) => {
                self.retries.clear(request.service_id);
                tracing::info!(seconds, verdict = "verified", "{kind} finished");
            }
            Ok(DeployOutcome::Failed { reason, .. }) => {
                let now = self.clock.now();
                let held = self
                    .retries
                    .failed(request.service_id, &request.tag, reason, now);
                tracing::warn!(seconds, verdict = "failed", %reason, retry_at = %held.retry_at, "{kind} finished");
            }
            Ok(DeployOutcome::RolledBack { reason, .. }) => {
                tracing::warn!(seconds, verdict = "rolled back", %reason, "{kind} finished");
            }
            Err(error) => {
                let error = crate::engine::error_chain(error);
                tracing::error!(seconds, %error, "{kind} could not be recorded");
            }
        }
    }

    async fn deploy_locked(
        &self,
        request: &DeployRequest,
        progress: &mut Progress,
    ) -> Result<DeployOutcome, RolloutError> {
        let previous = blocking(compose_file::read_service_image, request)
            .await
            .ok();
        let previous_tag = previous.as_ref().and_then(|image| tag_of(&image.resolved));
        tracing::info!(
            from = previous_tag.as_deref().unwrap_or("(unknown)"),
            to = %request.tag,
            "{} started",
            request.kind.as_str()
        );
        let revision_id = self
            .store
            .open_revision(&NewRevision {
                service_id: request.service_id,
                kind: request.kind.as_str(),
                tag: &request.tag,
                previous_tag: previous_tag.as_deref(),
                index_digest: request.index_digest.as_deref(),
                pushed_at: request.pushed_at,
                actor: &request.actor,
                started_at: self.clock.now(),
            })
            .await?;
        progress.revision_id = Some(revision_id);
        self.events.publish(Event::DeployStarted {
            service_id: request.service_id,
            revision_id,
            project: request.project.clone(),
            service: request.service.clone(),
            from_tag: previous_tag.clone(),
            to_tag: request.tag.clone(),
            kind: request.kind.as_str().to_owned(),
            actor: request.actor.clone(),
        });
        self.set_state(request, SyncState::Deploying, None).await?;
        failpoint::reached("deploying").await;

        let tag = request.tag.clone();
        let edit = match blocking(
            move |compose, service| compose_file::plan_tag_change(compose, service, &tag),
            request,
        )
        .await
        {
            Ok(edit) => edit,
            Err(error) => {
                return self
                    .fail(request, revision_id, &StepError::Plan(error))
                    .await;
            }
        };
        let login = match self.login(&edit.new_image).await {
            Ok(login) => login,
            Err(error) => return self.fail(request, revision_id, &error).await,
        };
        if let Some(refusal) = self
            .gate(request, revision_id, &edit, login.as_ref())
            .await?
        {
            return Ok(refusal);
        }
        let folder = match login
            .as_ref()
            .map(|login| LoginFolder::create(login, &host_docker_config()))
            .transpose()
        {
            Ok(folder) => folder,
            Err(error) => {
                return self
                    .fail(request, revision_id, &StepError::LoginFolder(error))
                    .await;
            }
        };
        let edit_json =
            serde_json::to_string(&edit).map_err(|error| StoreError::Corrupt(error.to_string()))?;
        self.store
            .record_edit(revision_id, &edit_json, &edit.diff)
            .await?;
        if let Err(error) = run_blocking({
            let edit = edit.clone();
            move || edit.apply()
        })
        .await
        {
            return self
                .fail(request, revision_id, &StepError::Apply(error))
                .await;
        }
        progress.applied = Some(edit.clone());
        failpoint::reached("edited").await;

        let mut target = target_of(request);
        target.docker_config = folder.as_ref().map(|folder| folder.path().to_owned());
        match self.compose.pull(&target, &request.service).await {
            Ok(log) => self.log(revision_id, &log).await?,
            Err(error) => {
                return self
                    .revert_and_fail(request, revision_id, &edit, StepError::Pull(error))
                    .await;
            }
        }
        let image_id = match self.docker.local_image(&edit.new_image).await {
            Ok(Some(image)) => image.id,
            Ok(None) => {
                let error = StepError::MissingImage(edit.new_image.clone());
                return self
                    .revert_and_fail(request, revision_id, &edit, error)
                    .await;
            }
            Err(error) => {
                return self
                    .revert_and_fail(request, revision_id, &edit, StepError::Image(error))
                    .await;
            }
        };
        failpoint::reached("pulled").await;
        let force = request.kind == DeployKind::Rollback;
        let up = self.compose.up(&target, &request.service, force).await;
        progress.recreated = true;
        match up {
            Ok(log) => self.log(revision_id, &log).await?,
            Err(error) => {
                return self
                    .roll_back(request, revision_id, &edit, StepError::Up(error), None)
                    .await;
            }
        }

        failpoint::reached("up").await;
        self.set_state(request, SyncState::Verifying, None).await?;
        let mut container = None;
        let verified = health::verify(
            self.docker.as_ref(),
            &request.project,
            &request.service,
            &image_id,
            &self.health,
            request.probe_url.as_deref(),
            &mut container,
        )
        .await;
        failpoint::reached("verifying").await;
        if let Err(error) = verified {
            return self
                .roll_back(
                    request,
                    revision_id,
                    &edit,
                    StepError::Verify(error),
                    container,
                )
                .await;
        }
        let digest = self.platform_digest(&edit.new_image).await;
        let now = self.clock.now();
        self.store
            .close_revision(revision_id, Verdict::Verified, None, digest.as_deref(), now)
            .await?;
        self.store
            .set_deployed(request.service_id, &request.tag, digest.as_deref())
            .await?;
        self.publish_state(request, SyncState::Synced, None);
        self.publish_finished(
            request,
            revision_id,
            Verdict::Verified,
            None,
            digest.clone(),
        );
        if let Some(scanning) = &self.scanning {
            scanning.after_deploy(
                &self.store,
                &self.events,
                ScannedDeploy {
                    service_id: request.service_id,
                    revision_id,
                    project: request.project.clone(),
                    service: request.service.clone(),
                    image: edit.new_image.clone(),
                },
            );
        }
        Ok(DeployOutcome::Verified {
            revision_id,
            digest,
        })
    }

    /// With `SCAN_GATE` on, scan the candidate before anything is touched; a refusal is
    /// recorded (with the new findings), the tag ignored, and the old version left running.
    /// A scan that fails refuses too (a broken scanner must not wave a candidate through),
    /// without ignoring the tag.
    async fn gate(
        &self,
        request: &DeployRequest,
        revision_id: i64,
        edit: &ImageEdit,
        login: Option<&RegistryLogin>,
    ) -> Result<Option<DeployOutcome>, RolloutError> {
        let Some((scanning, level)) = self
            .scanning
            .as_ref()
            .and_then(|scanning| scanning.gate.map(|level| (scanning, level)))
        else {
            return Ok(None);
        };
        let credentials = login.and_then(|login| login.credentials.user_and_password());
        let gated = scanning.gate(level, &edit.new_image, &edit.old_image, credentials);
        let reason = match gated.await {
            Ok(decision) if decision.allows() => {
                let text = format!("scan gate: {}\n", decision.explanation());
                self.store.append_revision_log(revision_id, &text).await?;
                return Ok(None);
            }
            Ok(decision) => {
                // What the candidate would bring that is not running now.
                let candidate = ScannedDeploy {
                    service_id: request.service_id,
                    revision_id,
                    project: request.project.clone(),
                    service: request.service.clone(),
                    image: edit.new_image.clone(),
                };
                self.events.publish(scanning::findings_event(
                    &candidate,
                    &decision.new_findings,
                    None,
                ));
                let details = serde_json::to_string_pretty(&decision).unwrap_or_default();
                let text = format!("scan gate decision:\n{details}\n");
                self.store.append_revision_log(revision_id, &text).await?;
                format!("scan gate ({}): {}", level.as_str(), decision.explanation())
            }
            Err(error) if scanning.deploy_when_gate_fails => {
                let text = format!(
                    "scan gate ({}) unavailable: the scan failed: {}; deploying anyway \
                     (SCAN_GATE_ON_ERROR=deploy)\n",
                    level.as_str(),
                    crate::engine::error_chain(&error)
                );
                tracing::warn!("{}", text.trim_end());
                self.store.append_revision_log(revision_id, &text).await?;
                return Ok(None);
            }
            Err(error) => {
                // Not the candidate's fault: refused this time, never ignored, so it is tried
                // again once scans work.
                let reason = format!(
                    "scan gate ({}) unavailable: the scan failed: {}; {} is tried again later",
                    level.as_str(),
                    crate::engine::error_chain(&error),
                    request.tag
                );
                return Ok(Some(self.fail_with(request, revision_id, reason).await?));
            }
        };
        self.store
            .ignore_tag(
                request.service_id,
                &request.tag,
                &reason,
                "berth",
                self.clock.now(),
            )
            .await?;
        Ok(Some(self.fail_with(request, revision_id, reason).await?))
    }

    /// Nothing on the host changed (or it was reverted): record why, leave the old version.
    async fn fail(
        &self,
        request: &DeployRequest,
        revision_id: i64,
        error: &StepError,
    ) -> Result<DeployOutcome, RolloutError> {
        self.fail_with(request, revision_id, error.to_string())
            .await
    }

    async fn revert_and_fail(
        &self,
        request: &DeployRequest,
        revision_id: i64,
        edit: &ImageEdit,
        error: StepError,
    ) -> Result<DeployOutcome, RolloutError> {
        let reverted = run_blocking({
            let edit = edit.clone();
            move || edit.revert()
        })
        .await;
        let error = match reverted {
            Ok(()) => error.to_string(),
            Err(revert) => format!("{error}; restoring the compose file also failed: {revert}"),
        };
        self.fail_with(request, revision_id, error).await
    }

    /// Record the failure, leave the service on its old version, and say so.
    async fn fail_with(
        &self,
        request: &DeployRequest,
        revision_id: i64,
        reason: String,
    ) -> Result<DeployOutcome, RolloutError> {
        self.store
            .close_revision(
                revision_id,
                Verdict::Failed,
                Some(&reason),
                None,
                self.clock.now(),
            )
            .await?;
        self.set_state(request, SyncState::Failed, Some(&reason))
            .await?;
        self.publish_finished(
            request,
            revision_id,
            Verdict::Failed,
            Some(reason.clone()),
            None,
        );
        Ok(DeployOutcome::Failed {
            revision_id,
            reason,
        })
    }

    /// The new version was started and failed: restore the previous compose file and image,
    /// recreate and verify it, and ignore the failed tag.
    async fn roll_back(
        &self,
        request: &DeployRequest,
        revision_id: i64,
        edit: &ImageEdit,
        error: StepError,
        container: Option<String>,
    ) -> Result<DeployOutcome, RolloutError> {
        let mut reason = error.to_string();
        let lines = match container {
            Some(id) => self
                .docker
                .container_logs(&id, LOG_LINES_ON_FAILURE)
                .await
                .ok(),
            None => None,
        };
        if let Some(lines) = lines {
            let text = format!(
                "\n--- last {LOG_LINES_ON_FAILURE} log lines of the failed container ---\n{lines}"
            );
            self.store.append_revision_log(revision_id, &text).await?;
        }
        if let Err(revert) = run_blocking({
            let edit = edit.clone();
            move || edit.revert()
        })
        .await
        {
            return self
                .fail_with(
                    request,
                    revision_id,
                    format!("{reason}; restoring the compose file failed: {revert}"),
                )
                .await;
        }
        let target = target_of(request);
        let restored = match self.compose.up(&target, &request.service, true).await {
            Ok(log) => {
                self.log(revision_id, &log).await?;
                self.verify_restored(request, &edit.old_image).await
            }
            Err(up) => Err(format!("recreating the previous version failed: {up}")),
        };
        if let Err(restore) = restored {
            reason = format!("{reason}; {restore}");
        }
        let now = self.clock.now();
        self.store
            .ignore_tag(
                request.service_id,
                &request.tag,
                &format!("deploy failed: {reason}"),
                "berth",
                now,
            )
            .await?;
        self.store
            .close_revision(revision_id, Verdict::RolledBack, Some(&reason), None, now)
            .await?;
        let detail = format!("{} failed and was rolled back: {reason}", request.tag);
        self.set_state(request, SyncState::Failed, Some(&detail))
            .await?;
        self.publish_finished(
            request,
            revision_id,
            Verdict::RolledBack,
            Some(reason.clone()),
            None,
        );
        Ok(DeployOutcome::RolledBack {
            revision_id,
            reason,
        })
    }

    async fn verify_restored(
        &self,
        request: &DeployRequest,
        old_image: &str,
    ) -> Result<(), String> {
        let image = match self.docker.local_image(old_image).await {
            Ok(Some(image)) => image,
            Ok(None) => {
                return Err(format!(
                    "the previous image {old_image} is no longer in the local engine"
                ));
            }
            Err(error) => return Err(format!("inspecting the previous image failed: {error}")),
        };
        let mut container = None;
        health::verify(
            self.docker.as_ref(),
            &request.project,
            &request.service,
            &image.id,
            &self.health,
            request.probe_url.as_deref(),
            &mut container,
        )
        .await
        .map(|_| ())
        .map_err(|error| format!("the restored previous version did not verify either: {error}"))
    }

    /// Berth's login to the registry of `image`, when it has keys of its own for it.
    async fn login(&self, image: &str) -> Result<Option<RegistryLogin>, StepError> {
        let Ok(reference) = ImageRef::parse(image) else {
            // Compose will say what is wrong with the reference.
            return Ok(None);
        };
        self.registry
            .pull_login(&reference)
            .await
            .map_err(StepError::Login)
    }

    /// The digest the engine pulled for `image`'s repository.
    async fn platform_digest(&self, image: &str) -> Option<String> {
        let local = self.docker.local_image(image).await.ok().flatten()?;
        repo_digest_for(&local.repo_digests, image)
    }

    async fn log(&self, revision_id: i64, log: &CommandLog) -> Result<(), StoreError> {
        self.store
            .append_revision_log(revision_id, &format!("$ {}\n{}\n", log.command, log.output))
            .await
    }

    pub(super) async fn set_state(
        &self,
        request: &DeployRequest,
        state: SyncState,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        self.store
            .set_state(request.service_id, state, detail)
            .await?;
        self.publish_state(request, state, detail.map(str::to_owned));
        Ok(())
    }

    fn publish_state(&self, request: &DeployRequest, state: SyncState, detail: Option<String>) {
        self.events.publish(Event::ServiceState {
            service_id: request.service_id,
            project: request.project.clone(),
            service: request.service.clone(),
            state,
            detail,
        });
    }

    pub(super) fn publish_finished(
        &self,
        request: &DeployRequest,
        revision_id: i64,
        verdict: Verdict,
        reason: Option<String>,
        digest: Option<String>,
    ) {
        self.events.publish(Event::DeployFinished {
            service_id: request.service_id,
            revision_id,
            tag: request.tag.clone(),
            verdict: verdict.as_str().to_owned(),
            reason,
            kind: request.kind.as_str().to_owned(),
            actor: request.actor.clone(),
            project: request.project.clone(),
            service: request.service.clone(),
            digest,
        });
    }
}

pub(super) fn target_of(request: &DeployRequest) -> ComposeTarget {
    ComposeTarget {
        project: request.project.clone(),
        files: request.compose.files.clone(),
        project_dir: request.compose.project_dir.clone(),
        docker_config: None,
    }
}

/// The digest among a local image's RepoDigests (`repo@sha256:…`) that belongs to `image`'s
/// repository.
pub fn repo_digest_for(repo_digests: &[String], image: &str) -> Option<String> {
    let repository = image
        .rsplit_once(':')
        .map_or(image, |(repository, _)| repository);
    repo_digests.iter().find_map(|entry| {
        entry
            .strip_prefix(&format!("{repository}@"))
            .map(str::to_owned)
    })
}

/// The tag of an image reference (`repo:tag`, not a registry port).
pub fn tag_of(image: &str) -> Option<String> {
    let name = image.split('@').next().unwrap_or(image);
    let (_, last) = name.rsplit_once('/').unwrap_or(("", name));
    last.split_once(':').map(|(_, tag)| tag.to_owned())
}

/// Compose-file work is small, blocking file I/O: keep it off the async workers.
pub(super) async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ComposeFileError> + Send + 'static,
) -> Result<T, ComposeFileError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce(&ComposeProject, &str) -> Result<T, ComposeFileError> + Send + 'static,
    request: &DeployRequest,
) -> Result<T, ComposeFileError> {
    let compose = request.compose.clone();
    let service = request.service.clone();
    run_blocking(move || work(&compose, &service)).await
}

#[cfg(test)]
mod tests {
    use super::tag_of;

    #[test]
    fn tags_are_read_past_a_registry_port() {
        assert_eq!(
            tag_of("127.0.0.1:5000/team/app:1.2.0").as_deref(),
            Some("1.2.0")
        );
        assert_eq!(tag_of("127.0.0.1:5000/team/app").as_deref(), None);
        assert_eq!(tag_of("nginx:1.25@sha256:abc").as_deref(), Some("1.25"));
    }
}
