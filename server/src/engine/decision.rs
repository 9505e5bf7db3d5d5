//! What a cycle decides for one service, from what its registry said: the action, and the
//! ranking's explanation kept beside it.

use app::model::SyncState;
use serde::Serialize;

use super::lookups::{Lookups, Wants};
use crate::config::{Config, UpdateMode};
use crate::deploy::rollout::{DeployKind, DeployRequest, tag_of};
use crate::discovery::compose_file::ServiceImage;
use crate::discovery::{DiscoveredService, Source};
use crate::events::Event;
use crate::ranking::{self, Candidate, Policy};
use crate::registry::ImageRef;

/// A discovered service with its image read, its store row and its tag policy.
pub(super) struct Prepared {
    pub discovered: DiscoveredService,
    pub image: Result<(ServiceImage, ImageRef), String>,
    pub service_id: Option<i64>,
    pub pinned: Option<String>,
    pub excluded: bool,
    pub policy: Result<Policy, String>,
}

impl Prepared {
    /// What the registry must be asked for this service, if anything.
    pub fn wants(&self) -> Option<Wants<'_>> {
        let (image, reference) = self.image.as_ref().ok()?;
        if self.excluded || self.pinned.is_some() {
            return None;
        }
        let policy = self.policy.as_ref().ok()?;
        let current = current_tag(image);
        Some(if ranking::follows_digest_only(&current, policy) {
            Wants::Digest {
                reference,
                image: &image.resolved,
                // What runs is what is compared: a `docker pull` without `up` moves the
                // local tag, not the container.
                running: self
                    .discovered
                    .container
                    .as_ref()
                    .map(|container| container.image_id.as_str())
                    .filter(|id| !id.is_empty()),
            }
        } else {
            Wants::Tags(reference)
        })
    }
}

/// What a cycle found and did, service by service.
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
    /// A floating tag (`latest`, `stable`) now names another image than the one running.
    /// Reported in either update mode: redeploying the same tag cannot be rolled back by
    /// tag, so it waits for a person.
    NewDigest {
        tag: String,
        digest: String,
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
    /// A deploy of `tag` failed with nothing changed; the checks try again at `retry_at`.
    RetryLater {
        tag: String,
        reason: String,
        retry_at: chrono::DateTime<chrono::Utc>,
    },
}

impl Action {
    pub(super) fn state(&self) -> SyncState {
        match self {
            Action::UpToDate | Action::Deployed { .. } => SyncState::Synced,
            Action::Deploy { .. } => SyncState::Deploying,
            Action::Notify { .. } | Action::NewDigest { .. } => SyncState::UpdateAvailable,
            Action::Pinned { .. } => SyncState::Pinned,
            Action::Excluded => SyncState::Excluded,
            Action::Unmanageable { .. } | Action::Error { .. } => SyncState::Unknown,
            Action::DeployFailed { .. } | Action::RolledBack { .. } | Action::RetryLater { .. } => {
                SyncState::Failed
            }
        }
    }
}

fn current_tag(image: &ServiceImage) -> String {
    tag_of(&image.resolved).unwrap_or_else(|| "latest".to_owned())
}

/// The decision for one service, and the ranking's explanation as JSON.
pub(super) fn decide(
    item: &Prepared,
    lookups: &Lookups,
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
    let current = current_tag(image);
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
    let policy = match &item.policy {
        Ok(policy) => policy,
        Err(reason) => {
            report.action = Action::Error {
                reason: reason.clone(),
            };
            return (report, None);
        }
    };
    if let Some(Wants::Digest { image, running, .. }) = item.wants() {
        report.action = match lookups.digest(image, running) {
            Some(Ok(check)) if check.up_to_date => Action::UpToDate,
            Some(Ok(check)) => {
                report.best_candidate = Some(current.clone());
                Action::NewDigest {
                    tag: current,
                    digest: check.digest.clone(),
                }
            }
            Some(Err(reason)) => Action::Error {
                reason: reason.clone(),
            },
            None => Action::UpToDate,
        };
        return (report, None);
    }
    let remote = match lookups.tags(reference) {
        Some(Ok(remote)) => remote,
        Some(Err(reason)) => {
            report.action = Action::Error {
                reason: format!("registry: {reason}"),
            };
            return (report, None);
        }
        None => return (report, None),
    };
    let candidates: Vec<Candidate> = remote
        .iter()
        .map(|tag| Candidate {
            tag: tag.name.clone(),
            pushed_at: tag.pushed_at,
            digest: None,
        })
        .collect();
    let pick = ranking::pick(&current, &candidates, policy);
    // Kept until the cycle's single write, for every service: without the shrink, each held
    // the serializer's doubled buffer, a third unused (1.2 MB of heap at 1,000 services).
    let explanation = serde_json::to_string(&pick).ok().map(|mut json| {
        json.shrink_to_fit();
        json
    });
    if let Some(chosen) = pick.chosen {
        report.best_candidate = Some(chosen.clone());
        report.action = match update_mode(discovered, config) {
            UpdateMode::Auto => Action::Deploy { tag: chosen },
            UpdateMode::Notify => Action::Notify { tag: chosen },
        };
    }
    (report, explanation)
}

/// A service found only through labels was never named by a person: it is reported, not
/// deployed, unless its `berth.mode` label or DISCOVERED_UPDATE_MODE says auto.
fn update_mode(discovered: &DiscoveredService, config: &Config) -> UpdateMode {
    let default_mode = match discovered.source {
        Source::Config => config.engine.update_mode,
        Source::Labels => config
            .get("DISCOVERED_UPDATE_MODE")
            .and_then(|mode| UpdateMode::parse(mode).ok())
            .unwrap_or(UpdateMode::Notify),
    };
    discovered
        .mode
        .as_deref()
        .and_then(|mode| UpdateMode::parse(mode).ok())
        .unwrap_or(default_mode)
}

/// The event for a service whose check found a better tag or a new digest (not for a
/// pinned one: that is a person's choice being carried out, not news).
pub(super) fn update_available(
    service_id: i64,
    item: &Prepared,
    report: &ServiceReport,
) -> Option<Event> {
    let (tag, digest, mode) = match &report.action {
        Action::Deploy { tag } if item.pinned.is_none() => (tag, None, "auto"),
        Action::Notify { tag } => (tag, None, "notify"),
        Action::NewDigest { tag, digest } => (tag, Some(digest.clone()), "notify"),
        _ => return None,
    };
    Some(Event::UpdateAvailable {
        service_id,
        project: report.project.clone(),
        service: report.service.clone(),
        current_tag: report.current_tag.clone().unwrap_or_default(),
        candidate_tag: tag.clone(),
        candidate_digest: digest,
        mode: mode.to_owned(),
    })
}

pub(super) fn deploy_request(item: &Prepared, report: &ServiceReport) -> Option<DeployRequest> {
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
        ranked_above: Vec::new(),
    })
}
