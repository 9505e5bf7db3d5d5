//! One check cycle: discover, read each compose project once, ask each registry each
//! question once, rank, decide, record the whole cycle in one transaction, deploy.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Serialize;

use super::decision::{self, Action, Prepared, ServiceReport};
use super::{Engine, EngineError, error_chain};
use crate::config::Config;
use crate::deploy::rollout::DeployOutcome;
use crate::discovery::compose_file::{self, ComposeProject, ServiceImage};
use crate::discovery::{self, DiscoveredService, Source};
use crate::events::Event;
use crate::ranking::{Policy, PolicyOptions};
use crate::registry::ImageRef;
use crate::store::{CheckRecord, NewService, ServiceRecord};

/// How many services are deployed at once.
const DEPLOY_CONCURRENCY: usize = 2;

/// What a cycle found and did, service by service.
#[derive(Debug, Clone, Serialize)]
pub struct CycleReport {
    pub checked_at: DateTime<Utc>,
    pub dry_run: bool,
    pub services: Vec<ServiceReport>,
}

impl Engine {
    /// One cycle over every discovered service. With `dry_run`, nothing is written: not the
    /// compose files, not the containers, not the store.
    pub async fn check_all(&self, dry_run: bool) -> Result<CycleReport, EngineError> {
        self.check(dry_run, |_| true).await
    }

    /// A cycle over the discovered services `wanted` keeps (by their image reference).
    #[tracing::instrument(name = "check", skip_all, fields(dry_run))]
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
        let prepared: Vec<Prepared> = self
            .prepare(discovered, &config, dry_run)
            .await?
            .into_iter()
            .filter(|item| {
                item.image
                    .as_ref()
                    .is_ok_and(|(_, reference)| wanted(reference))
            })
            .collect();
        let lookups = self.look_up(&prepared).await;

        let mut reports = Vec::with_capacity(prepared.len());
        let mut explanations = Vec::with_capacity(prepared.len());
        let mut deploys = Vec::new();
        for item in &prepared {
            let (mut report, explanation) = decision::decide(item, &lookups, &config);
            if !dry_run
                && let (Action::Deploy { tag }, Some(request)) =
                    (&report.action, decision::deploy_request(item, &report))
                && !self.rollout.is_busy(request.service_id)
            {
                match self
                    .rollout
                    .retries
                    .held(request.service_id, tag, checked_at)
                {
                    Some(held) => {
                        report.action = Action::RetryLater {
                            tag: tag.clone(),
                            reason: held.reason,
                            retry_at: held.retry_at,
                        };
                    }
                    None => deploys.push((reports.len(), tag.clone(), request)),
                }
            }
            reports.push(report);
            explanations.push(explanation);
        }
        if !dry_run {
            self.record(&prepared, &reports, &explanations, checked_at)
                .await?;
        }

        let outcomes: Vec<_> =
            futures::stream::iter(deploys)
                .map(|(index, tag, request)| async move {
                    (index, tag, self.rollout.run(request).await)
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

    /// Every discovered service with its image read (each compose project parsed once),
    /// its store row (all upserted in one transaction) and its tag policy.
    async fn prepare(
        &self,
        discovered: Vec<DiscoveredService>,
        config: &Config,
        dry_run: bool,
    ) -> Result<Vec<Prepared>, EngineError> {
        let known = self.store.service_records().await?;
        let images = read_images(&discovered).await;
        let ids: Vec<Option<i64>> = if dry_run {
            discovered
                .iter()
                .map(|service| record_of(&known, service).map(|record| record.id))
                .collect()
        } else {
            let rows: Vec<NewService> = discovered
                .iter()
                .zip(&images)
                .map(|(service, image)| new_service(service, image))
                .collect();
            self.store
                .upsert_services(&rows)
                .await?
                .into_iter()
                .map(Some)
                .collect()
        };
        let mut ignored = if ids.iter().any(Option::is_some) {
            self.store.ignored_tags_by_service().await?
        } else {
            HashMap::new()
        };
        Ok(discovered
            .into_iter()
            .zip(images)
            .zip(ids)
            .map(|((discovered, image), service_id)| {
                let existing = record_of(&known, &discovered);
                let ignored = service_id
                    .and_then(|id| ignored.remove(&id))
                    .unwrap_or_default();
                Prepared {
                    policy: policy_of(&discovered, config, ignored),
                    service_id,
                    pinned: existing.and_then(|record| record.pinned_tag.clone()),
                    excluded: existing.is_some_and(|record| record.excluded),
                    discovered,
                    image,
                }
            })
            .collect())
    }

    /// The cycle's findings, stored in one transaction, then announced: a dashboard that
    /// reads on an event sees what the event says. A state event goes out only for a state
    /// that changed, and never for a service a rollout owns (the store leaves those alone).
    async fn record(
        &self,
        prepared: &[Prepared],
        reports: &[ServiceReport],
        explanations: &[Option<String>],
        at: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        let mut checks = Vec::with_capacity(reports.len());
        let mut states = Vec::with_capacity(reports.len());
        let mut events = Vec::new();
        for ((item, report), explanation) in prepared.iter().zip(reports).zip(explanations) {
            let Some(id) = item.service_id else { continue };
            // A held deploy keeps the detail its failure set, so its state does not change.
            let detail = match &report.action {
                Action::Unmanageable { reason }
                | Action::Error { reason }
                | Action::RetryLater { reason, .. } => Some(reason.as_str()),
                _ => None,
            };
            let state = match report.action {
                // The rollout records Deploying itself, once it holds the lock.
                Action::Deploy { .. } => app::model::SyncState::UpdateAvailable,
                ref action => action.state(),
            };
            checks.push(CheckRecord {
                id,
                state,
                best_candidate: report.best_candidate.as_deref(),
                explanation: explanation.as_deref(),
                detail,
                at,
            });
            states.push(Event::ServiceState {
                service_id: id,
                project: report.project.clone(),
                service: report.service.clone(),
                state,
                detail: detail.map(str::to_owned),
            });
            events.extend(decision::update_available(id, item, report));
        }
        let changed = self.store.record_checks(&checks).await?;
        let states = states
            .into_iter()
            .zip(changed)
            .filter_map(|(event, changed)| changed.then_some(event));
        for event in states.chain(events) {
            self.events.publish(event);
        }
        Ok(())
    }
}

fn record_of<'k>(
    known: &'k [ServiceRecord],
    service: &DiscoveredService,
) -> Option<&'k ServiceRecord> {
    known
        .iter()
        .find(|record| record.project == service.project && record.name == service.service)
}

/// The tag policy: `ALLOW_TAGS`, the service map's filter, and the service's ignored tags.
fn policy_of(
    discovered: &DiscoveredService,
    config: &Config,
    ignored_tags: Vec<String>,
) -> Result<Policy, String> {
    let options = PolicyOptions {
        allow: config
            .get("ALLOW_TAGS")
            .into_iter()
            .chain(discovered.filter.as_deref())
            .filter(|pattern| !pattern.trim().is_empty())
            .map(str::to_owned)
            .collect(),
        ignored_tags,
        ..PolicyOptions::default()
    };
    Policy::from_options(&options).map_err(|error| format!("tag policy: {}", error_chain(&error)))
}

fn new_service(
    discovered: &DiscoveredService,
    image: &Result<(ServiceImage, ImageRef), String>,
) -> NewService {
    let (repository, current_tag) = match image {
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
    NewService {
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
        container_id: discovered.container.as_ref().map(|c| c.id.clone()),
        container_status: None,
    }
}

/// Every service's image, in the order given. Each compose project is read and parsed
/// once, on a blocking thread: a cycle over fifty services of one file parses it once,
/// not fifty times.
async fn read_images(
    discovered: &[DiscoveredService],
) -> Vec<Result<(ServiceImage, ImageRef), String>> {
    let mut projects: HashMap<ComposeProject, Vec<usize>> = HashMap::new();
    for (index, service) in discovered.iter().enumerate() {
        if service.unmanageable.is_none() {
            projects
                .entry(service.compose.clone())
                .or_default()
                .push(index);
        }
    }
    let requests: Vec<(ComposeProject, Vec<usize>, Vec<String>)> = projects
        .into_iter()
        .map(|(project, indexes)| {
            let names = indexes
                .iter()
                .map(|&index| discovered[index].service.clone())
                .collect();
            (project, indexes, names)
        })
        .collect();
    let read = tokio::task::spawn_blocking(move || {
        requests
            .into_iter()
            .map(|(project, indexes, names)| {
                let images = compose_file::read_service_images(&project, &names);
                (indexes, images)
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()));

    let mut images: Vec<Result<(ServiceImage, ImageRef), String>> = discovered
        .iter()
        .map(|service| Err(service.unmanageable.clone().unwrap_or_default()))
        .collect();
    for (indexes, read) in read {
        match read {
            Ok(per_service) => {
                for (index, image) in indexes.into_iter().zip(per_service) {
                    images[index] = image
                        .map_err(|error| error_chain(&error))
                        .and_then(with_reference);
                }
            }
            Err(error) => {
                let reason = error_chain(&error);
                for index in indexes {
                    images[index] = Err(reason.clone());
                }
            }
        }
    }
    images
}

fn with_reference(image: ServiceImage) -> Result<(ServiceImage, ImageRef), String> {
    let reference = ImageRef::parse(&image.resolved)
        .map_err(|error| format!("image {:?}: {error}", image.resolved))?;
    Ok((image, reference))
}
