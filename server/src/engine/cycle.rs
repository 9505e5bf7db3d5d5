//! One check cycle: discover, ask each repository once, rank, decide, record, deploy.

use std::collections::{BTreeMap, HashMap};

use app::model::SyncState;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Serialize;

use super::{Engine, EngineError, error_chain};
use crate::config::{Config, UpdateMode};
use crate::deploy::rollout::{DeployKind, DeployOutcome, DeployRequest, tag_of};
use crate::discovery::compose_file::{self, ServiceImage};
use crate::discovery::{self, DiscoveredService, Source};
use crate::events::Event;
use crate::ranking::{self, Candidate, Policy, PolicyOptions};
use crate::registry::{Cause, ImageRef, RegistryError, RemoteTag};
use crate::store::{NewService, ServiceRecord};

/// How many repositories are asked about at once (per cycle, across registries).
const REGISTRY_CONCURRENCY: usize = 8;
/// How many services are deployed at once.
const DEPLOY_CONCURRENCY: usize = 2;

/// What a cycle found and did, service by service.
#[derive(Debug, Clone, Serialize)]
pub struct CycleReport {
    pub checked_at: DateTime<Utc>,
    pub dry_run: bool,
    pub services: Vec<ServiceReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceReport {
    pub project: String,
    pub service: String,
    pub image: Option<String>,
    pub current_tag: Option<String>,
    pub best_candidate: Option<String>,
    #[serde(flatten)]
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    UpToDate,
    /// Would deploy (dry run) — or, once done, see the outcome variants.
    Deploy {
        tag: String,
    },
    Notify {
        tag: String,
    },
    Pinned {
        tag: String,
    },
    Excluded,
    Unmanageable {
        reason: String,
    },
    Error {
        reason: String,
    },
    Deployed {
        tag: String,
    },
    DeployFailed {
        tag: String,
        reason: String,
    },
    RolledBack {
        tag: String,
        reason: String,
    },
}

impl Action {
    fn state(&self) -> SyncState {
        match self {
            Action::UpToDate | Action::Deployed { .. } => SyncState::Synced,
            Action::Deploy { .. } => SyncState::Deploying,
            Action::Notify { .. } => SyncState::UpdateAvailable,
            Action::Pinned { .. } => SyncState::Pinned,
            Action::Excluded => SyncState::Excluded,
            Action::Unmanageable { .. } | Action::Error { .. } => SyncState::Unknown,
            Action::DeployFailed { .. } | Action::RolledBack { .. } => SyncState::Failed,
        }
    }
}

/// A discovered service with its image read and its store row.
struct Prepared {
    discovered: DiscoveredService,
    image: Result<(ServiceImage, ImageRef), String>,
    service_id: Option<i64>,
    pinned: Option<String>,
    excluded: bool,
    ignored: Vec<String>,
}

impl Engine {
    /// One cycle over every discovered service. With `dry_run`, nothing is written: not the
    /// compose files, not the containers, not the store.
    pub async fn check_all(&self, dry_run: bool) -> Result<CycleReport, EngineError> {
        self.check(dry_run, |_| true).await
    }

    /// A cycle over the discovered services `wanted` keeps (by their image reference).
    pub(super) async fn check(
        &self,
        dry_run: bool,
        wanted: impl Fn(&ImageRef) -> bool,
    ) -> Result<CycleReport, EngineError> {
        let config = self.load_config()?;
        let checked_at = self.clock.now();
        let started = std::time::Instant::now();
        let discovered = discovery::discover(&config, self.adapters.docker.as_ref())
            .await
            .map_err(EngineError::Discover)?;
        // Read the store once per cycle, not once per service.
        let known = self.store.service_records().await?;
        let mut prepared = Vec::with_capacity(discovered.len());
        for service in discovered {
            let item = self.prepare(service, &known, dry_run).await?;
            if item
                .image
                .as_ref()
                .is_ok_and(|(_, reference)| wanted(reference))
            {
                prepared.push(item);
            }
        }
        let tags = self.fetch_tags(&prepared).await;

        let mut reports = Vec::with_capacity(prepared.len());
        let mut deploys = Vec::new();
        for item in &prepared {
            let (report, explanation) = decide(item, &tags, &config);
            if !dry_run {
                if let Some(id) = item.service_id {
                    let detail = match &report.action {
                        Action::Unmanageable { reason } | Action::Error { reason } => {
                            Some(reason.as_str())
                        }
                        _ => None,
                    };
                    let state = match report.action {
                        // The rollout records Deploying itself, once it holds the lock.
                        Action::Deploy { .. } => SyncState::UpdateAvailable,
                        ref action => action.state(),
                    };
                    self.store
                        .record_check(
                            id,
                            state,
                            report.best_candidate.as_deref(),
                            explanation.as_deref(),
                            detail,
                            checked_at,
                        )
                        .await?;
                    self.events.publish(Event::ServiceState {
                        service_id: id,
                        project: report.project.clone(),
                        service: report.service.clone(),
                        state,
                        detail: detail.map(str::to_owned),
                    });
                    if let Some(event) = update_available(id, item, &report) {
                        self.events.publish(event);
                    }
                }
                if let (Action::Deploy { tag }, Some(request)) =
                    (&report.action, deploy_request(item, &report))
                {
                    deploys.push((reports.len(), tag.clone(), request));
                }
            }
            reports.push(report);
        }

        let outcomes: Vec<_> = futures::stream::iter(deploys)
            .map(|(index, tag, request)| async move {
                (index, tag, self.rollout.deploy(&request).await)
            })
            .buffer_unordered(DEPLOY_CONCURRENCY)
            .collect()
            .await;
        for (index, tag, outcome) in outcomes {
            reports[index].action = match outcome {
                Ok(DeployOutcome::Verified { .. }) => Action::Deployed { tag },
                Ok(DeployOutcome::Failed { reason, .. }) => Action::DeployFailed { tag, reason },
                Ok(DeployOutcome::RolledBack { reason, .. }) => Action::RolledBack { tag, reason },
                Err(error) => Action::DeployFailed {
                    tag,
                    reason: error_chain(&error),
                },
            };
        }

        self.events.publish(Event::CheckFinished {
            at: checked_at,
            services_checked: reports.len(),
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
        Ok(CycleReport {
            checked_at,
            dry_run,
            services: reports,
        })
    }

    async fn prepare(
        &self,
        discovered: DiscoveredService,
        known: &[ServiceRecord],
        dry_run: bool,
    ) -> Result<Prepared, EngineError> {
        let image = if let Some(reason) = &discovered.unmanageable {
            Err(reason.clone())
        } else {
            read_image(&discovered).await
        };
        let (repository, current_tag) = match &image {
            Ok((_, reference)) => (reference.name(), reference.tag.clone()),
            Err(_) => (
                discovered
                    .container
                    .as_ref()
                    .map(|container| container.image.clone())
                    .unwrap_or_default(),
                None,
            ),
        };
        let existing = known.iter().find(|record| {
            record.project == discovered.project && record.name == discovered.service
        });
        let service_id = if dry_run {
            existing.as_ref().map(|record| record.id)
        } else {
            let container = discovered.container.as_ref();
            Some(
                self.store
                    .upsert_service(&NewService {
                        project: discovered.project.clone(),
                        name: discovered.service.clone(),
                        image: repository,
                        current_tag,
                        source: match discovered.source {
                            Source::Config => "config",
                            Source::Labels => "labels",
                        }
                        .to_owned(),
                        compose_files: discovered.compose.files.clone(),
                        project_dir: Some(discovered.compose.project_dir.clone()),
                        unmanageable: discovered.unmanageable.clone(),
                        container_id: container.map(|c| c.id.clone()),
                        container_status: None,
                    })
                    .await?,
            )
        };
        let ignored = match service_id {
            Some(id) => self.store.ignored_tags(id).await?,
            None => Vec::new(),
        };
        Ok(Prepared {
            service_id,
            pinned: existing
                .as_ref()
                .and_then(|record| record.pinned_tag.clone()),
            excluded: existing.as_ref().is_some_and(|record| record.excluded),
            ignored,
            discovered,
            image,
        })
    }

    /// Each unique repository is asked about once per cycle, however many services use it,
    /// several at a time, so one slow registry does not hold up the others.
    async fn fetch_tags(
        &self,
        prepared: &[Prepared],
    ) -> HashMap<String, Result<Vec<RemoteTag>, String>> {
        let mut repositories: BTreeMap<String, ImageRef> = BTreeMap::new();
        for item in prepared {
            if let Ok((_, reference)) = &item.image {
                repositories
                    .entry(reference.name())
                    .or_insert_with(|| reference.clone());
            }
        }
        futures::stream::iter(repositories)
            .map(|(name, reference)| async move {
                let tags = self.adapters.registry.list_tags(&reference).await;
                let tags = tags.map_err(|error| {
                    if is_auth_failure(&error) {
                        self.events.publish(Event::RegistryAuthFailed {
                            registry: error.registry.clone(),
                            error: error_chain(&error),
                        });
                    }
                    error_chain(&error)
                });
                (name, tags)
            })
            .buffer_unordered(REGISTRY_CONCURRENCY)
            .collect()
            .await
    }
}

async fn read_image(discovered: &DiscoveredService) -> Result<(ServiceImage, ImageRef), String> {
    let compose = discovered.compose.clone();
    let service = discovered.service.clone();
    let image =
        tokio::task::spawn_blocking(move || compose_file::read_service_image(&compose, &service))
            .await
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
            .map_err(|error| error_chain(&error))?;
    let reference = ImageRef::parse(&image.resolved)
        .map_err(|error| format!("image {:?}: {error}", image.resolved))?;
    Ok((image, reference))
}

/// The decision for one service, and the ranking's explanation as JSON.
fn decide(
    item: &Prepared,
    tags: &HashMap<String, Result<Vec<RemoteTag>, String>>,
    config: &Config,
) -> (ServiceReport, Option<String>) {
    let discovered = &item.discovered;
    let mut report = ServiceReport {
        project: discovered.project.clone(),
        service: discovered.service.clone(),
        image: None,
        current_tag: None,
        best_candidate: None,
        action: Action::UpToDate,
    };
    let (image, reference) = match &item.image {
        Ok(found) => found,
        Err(reason) => {
            report.action = match &discovered.unmanageable {
                Some(_) => Action::Unmanageable {
                    reason: reason.clone(),
                },
                None => Action::Error {
                    reason: reason.clone(),
                },
            };
            return (report, None);
        }
    };
    report.image = Some(image.resolved.clone());
    let current = tag_of(&image.resolved).unwrap_or_else(|| "latest".to_owned());
    report.current_tag = Some(current.clone());
    if item.excluded {
        report.action = Action::Excluded;
        return (report, None);
    }
    if let Some(pinned) = &item.pinned {
        report.action = if *pinned == current {
            Action::Pinned {
                tag: pinned.clone(),
            }
        } else {
            Action::Deploy {
                tag: pinned.clone(),
            }
        };
        return (report, None);
    }
    let remote = match tags.get(&reference.name()) {
        Some(Ok(remote)) => remote,
        Some(Err(reason)) => {
            report.action = Action::Error {
                reason: format!("registry: {reason}"),
            };
            return (report, None);
        }
        None => return (report, None),
    };
    let options = PolicyOptions {
        allow: config
            .get("ALLOW_TAGS")
            .into_iter()
            .chain(discovered.filter.as_deref())
            .filter(|pattern| !pattern.trim().is_empty())
            .map(str::to_owned)
            .collect(),
        ignored_tags: item.ignored.clone(),
        ..PolicyOptions::default()
    };
    let policy = match Policy::from_options(&options) {
        Ok(policy) => policy,
        Err(error) => {
            report.action = Action::Error {
                reason: format!("tag policy: {}", error_chain(&error)),
            };
            return (report, None);
        }
    };
    let candidates: Vec<Candidate> = remote
        .iter()
        .map(|tag| Candidate {
            tag: tag.name.clone(),
            pushed_at: tag.pushed_at,
            digest: None,
        })
        .collect();
    let pick = ranking::pick(&current, &candidates, &policy);
    let explanation = serde_json::to_string(&pick).ok();
    if let Some(chosen) = pick.chosen {
        report.best_candidate = Some(chosen.clone());
        // A service found only through labels was never named by a person: it is reported,
        // not deployed, unless its `berth.mode` label or DISCOVERED_UPDATE_MODE says auto.
        let default_mode = match discovered.source {
            Source::Config => config.engine.update_mode,
            Source::Labels => config
                .get("DISCOVERED_UPDATE_MODE")
                .and_then(|mode| UpdateMode::parse(mode).ok())
                .unwrap_or(UpdateMode::Notify),
        };
        let mode = discovered
            .mode
            .as_deref()
            .and_then(|mode| UpdateMode::parse(mode).ok())
            .unwrap_or(default_mode);
        report.action = match mode {
            UpdateMode::Auto => Action::Deploy { tag: chosen },
            UpdateMode::Notify => Action::Notify { tag: chosen },
        };
    }
    (report, explanation)
}

/// Credentials refused, or not obtainable: a person has to act, unlike a timeout.
fn is_auth_failure(error: &RegistryError) -> bool {
    matches!(
        error.cause,
        Cause::BadCredentials { .. } | Cause::Credentials { .. }
    )
}

/// The event for a service whose check found a better tag (not for a pinned one: that is
/// a person's choice being carried out, not news).
fn update_available(service_id: i64, item: &Prepared, report: &ServiceReport) -> Option<Event> {
    let (tag, mode) = match &report.action {
        Action::Deploy { tag } if item.pinned.is_none() => (tag, "auto"),
        Action::Notify { tag } => (tag, "notify"),
        _ => return None,
    };
    Some(Event::UpdateAvailable {
        service_id,
        project: report.project.clone(),
        service: report.service.clone(),
        current_tag: report.current_tag.clone().unwrap_or_default(),
        candidate_tag: tag.clone(),
        candidate_digest: None,
        mode: mode.to_owned(),
    })
}

fn deploy_request(item: &Prepared, report: &ServiceReport) -> Option<DeployRequest> {
    let Action::Deploy { tag } = &report.action else {
        return None;
    };
    let discovered = &item.discovered;
    Some(DeployRequest {
        service_id: item.service_id?,
        project: discovered.project.clone(),
        service: discovered.service.clone(),
        compose: discovered.compose.clone(),
        tag: tag.clone(),
        index_digest: None,
        pushed_at: None,
        kind: if item.pinned.is_some() {
            DeployKind::Rollback
        } else {
            DeployKind::Deploy
        },
        actor: "berth".to_owned(),
        probe_url: discovered.probe_http.clone(),
    })
}
