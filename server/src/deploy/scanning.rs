//! Trivy in the deploy path: the optional gate before a candidate is deployed
//! (`SCAN_GATE`), and the scan of what was deployed (`TRIVY_ENABLED`), stored with its
//! revision. Scans go through the one-at-a-time queue; the scan after a deploy runs in the
//! background, so it never holds up the engine.

use std::collections::HashSet;
use std::sync::Arc;

use crate::config::Config;
use crate::events::{Event, EventBus};
use crate::registry::ImageRef;
use crate::registry::registries::is_loopback;
use crate::scan::config::ScanConfigError;
use crate::scan::gate::{self, GateDecision, GateLevel};
use crate::scan::queue::{DEFAULT_CAPACITY, ScanQueue};
use crate::scan::report::SeverityCounts;
use crate::scan::trivy::TrivyScanner;
use crate::scan::{Finding, RegistryCredentials, ScanConfig, ScanError, ScanTarget};
use crate::store::Store;

#[derive(Clone)]
pub struct Scanning {
    pub queue: ScanQueue,
    /// `TRIVY_ENABLED`: scan each verified deploy.
    pub after_deploy: bool,
    /// `SCAN_GATE`: refuse candidates that bring new findings at or above this level.
    pub gate: Option<GateLevel>,
    /// `SCAN_GATE_ON_ERROR=deploy`: let a candidate through when its scan cannot run.
    pub deploy_when_gate_fails: bool,
}

impl Scanning {
    /// Trivy in the deploy path when `TRIVY_ENABLED` or `SCAN_GATE` asks for it; the queue's
    /// worker runs on the current tokio runtime.
    pub fn from_config(config: &Config) -> Result<Option<Scanning>, ScanConfigError> {
        let scan = ScanConfig::from_config(config)?;
        if !scan.scan_after_deploy && scan.gate.is_none() {
            return Ok(None);
        }
        let (queue, _worker) =
            ScanQueue::start(Arc::new(TrivyScanner::new(scan.clone())), DEFAULT_CAPACITY);
        Ok(Some(Scanning {
            queue,
            after_deploy: scan.scan_after_deploy,
            gate: scan.gate,
            deploy_when_gate_fails: scan.deploy_when_gate_fails,
        }))
    }

    /// Scan the candidate (from its registry: it is not pulled yet) and the running image
    /// (from the local engine), and decide.
    /// `credentials` (user and password) are Berth's login to the candidate's registry.
    pub async fn gate(
        &self,
        level: GateLevel,
        candidate: &str,
        running: &str,
        credentials: Option<(String, String)>,
    ) -> Result<GateDecision, ScanError> {
        let mut candidate_target = ScanTarget::registry_image(candidate);
        if let Some((username, password)) = credentials {
            candidate_target = candidate_target
                .with_credentials(RegistryCredentials::Basic { username, password });
        }
        if ImageRef::parse(candidate).is_ok_and(|reference| is_loopback(&reference.registry)) {
            candidate_target = candidate_target.insecure_registry();
        }
        gate::check_candidate(
            level,
            &self.queue,
            &candidate_target,
            Some(&ScanTarget::image(running)),
        )
        .await
    }

    /// Queue a scan of the deployed `image`, store it with the revision when it ends, and
    /// publish its counts with how many findings the previous verified revision's scan did
    /// not have.
    pub fn after_deploy(&self, store: &Store, events: &EventBus, deployed: ScannedDeploy) {
        if !self.after_deploy {
            return;
        }
        let pending = match self.queue.submit(ScanTarget::image(&deployed.image)) {
            Ok(pending) => pending,
            Err(error) => {
                tracing::warn!(%error, image = deployed.image, "the scan after the deploy was not queued");
                return;
            }
        };
        let store = store.clone();
        let events = events.clone();
        tokio::spawn(async move {
            let image = deployed.image.clone();
            match pending.outcome().await {
                Ok(outcome) => {
                    if let Err(error) = store
                        .insert_scan(deployed.service_id, Some(deployed.revision_id), &outcome)
                        .await
                    {
                        tracing::warn!(%error, image, "storing the scan failed");
                    }
                    let before = previous_findings(&store, &deployed).await;
                    events.publish(findings_event(&deployed, &outcome.report.findings, before));
                }
                Err(error) => tracing::warn!(%error, image, "the scan after the deploy failed"),
            }
        });
    }
}

/// The deploy a scan belongs to.
#[derive(Debug, Clone)]
pub struct ScannedDeploy {
    pub service_id: i64,
    pub revision_id: i64,
    pub project: String,
    pub service: String,
    pub image: String,
}

/// The `scan_findings` event for `findings`; `before` are the findings of the image that
/// ran before (`None`: unknown, so every finding counts as new).
pub fn findings_event(
    deployed: &ScannedDeploy,
    findings: &[Finding],
    before: Option<Vec<Finding>>,
) -> Event {
    let counts = SeverityCounts::of(findings);
    let known: HashSet<_> = before.iter().flatten().map(Finding::identity).collect();
    let new_findings = findings
        .iter()
        .filter(|finding| !known.contains(&finding.identity()))
        .count();
    Event::ScanFindings {
        service_id: deployed.service_id,
        project: deployed.project.clone(),
        service: deployed.service.clone(),
        image: deployed.image.clone(),
        critical: counts.critical,
        high: counts.high,
        medium: counts.medium,
        low: counts.low,
        unknown: counts.unknown,
        new_findings: u32::try_from(new_findings).unwrap_or(u32::MAX),
    }
}

/// The findings of the newest scan of the verified revision before this one, if any.
async fn previous_findings(store: &Store, deployed: &ScannedDeploy) -> Option<Vec<Finding>> {
    let revisions = store.revisions(deployed.service_id).await.ok()?;
    let previous = revisions.iter().find(|revision| {
        revision.id < deployed.revision_id && revision.verdict.0 == crate::store::Verdict::Verified
    })?;
    let scan = store
        .revision_scans(previous.id)
        .await
        .ok()?
        .into_iter()
        .next()?;
    let outcome: crate::scan::ScanOutcome = serde_json::from_str(&scan.outcome).ok()?;
    Some(outcome.report.findings)
}
