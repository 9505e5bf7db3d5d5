//! Trivy in the deploy path: the optional gate before a candidate is deployed
//! (`SCAN_GATE`), and the scan of what was deployed (`TRIVY_ENABLED`), stored with its
//! revision. Scans go through the one-at-a-time queue; the scan after a deploy runs in the
//! background, so it never holds up the engine.

use std::sync::Arc;

use crate::config::Config;
use crate::registry::ImageRef;
use crate::registry::registries::is_loopback;
use crate::scan::config::ScanConfigError;
use crate::scan::gate::{self, GateDecision, GateLevel};
use crate::scan::queue::{DEFAULT_CAPACITY, ScanQueue};
use crate::scan::trivy::TrivyScanner;
use crate::scan::{ScanConfig, ScanError, ScanTarget};
use crate::store::Store;

#[derive(Clone)]
pub struct Scanning {
    pub queue: ScanQueue,
    /// `TRIVY_ENABLED`: scan each verified deploy.
    pub after_deploy: bool,
    /// `SCAN_GATE`: refuse candidates that bring new findings at or above this level.
    pub gate: Option<GateLevel>,
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
        }))
    }

    /// Scan the candidate (from its registry: it is not pulled yet) and the running image
    /// (from the local engine), and decide.
    pub async fn gate(
        &self,
        level: GateLevel,
        candidate: &str,
        running: &str,
    ) -> Result<GateDecision, ScanError> {
        let mut candidate_target = ScanTarget::registry_image(candidate);
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

    /// Queue a scan of the deployed `image` and store it with the revision when it ends.
    pub fn after_deploy(&self, store: &Store, service_id: i64, revision_id: i64, image: &str) {
        if !self.after_deploy {
            return;
        }
        let pending = match self.queue.submit(ScanTarget::image(image)) {
            Ok(pending) => pending,
            Err(error) => {
                tracing::warn!(%error, image, "the scan after the deploy was not queued");
                return;
            }
        };
        let store = store.clone();
        let image = image.to_owned();
        tokio::spawn(async move {
            match pending.outcome().await {
                Ok(outcome) => {
                    if let Err(error) = store
                        .insert_scan(service_id, Some(revision_id), &outcome)
                        .await
                    {
                        tracing::warn!(%error, image, "storing the scan failed");
                    }
                }
                Err(error) => tracing::warn!(%error, image, "the scan after the deploy failed"),
            }
        });
    }
}
