//! The engine: the reconcile loop that the dashboard, the API and the CLI drive or watch.
//!
//! A check cycle discovers the services, asks each registry about each unique repository
//! once, ranks the candidates, and deploys (or only reports, by mode) what it picks. The
//! scheduler runs one cycle every `CHECK_INTERVAL`, and on demand; the env file is re-read
//! every cycle.

mod actions;
mod cycle;
mod decision;
mod lookups;
mod recovery;
mod targeted;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock::Clock;
use crate::config::{Config, ConfigError};
use crate::deploy::compose::ComposeApi;
use crate::deploy::health::HealthPolicy;
use crate::deploy::locks::DeployLocks;
use crate::deploy::retry::Retries;
use crate::deploy::rollout::Rollout;
use crate::deploy::scanning::Scanning;
use crate::discovery::DiscoveryError;
use crate::discovery::docker::DockerApi;
use crate::events::EventBus;
use crate::registry::RegistryApi;
use crate::store::{Store, StoreError};

pub use actions::ActionError;
pub use cycle::CycleReport;
pub use decision::{Action, ServiceReport};
pub use recovery::Recovered;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("reading the configuration failed")]
    LoadConfig(#[source] ConfigError),
    #[error("discovering services failed")]
    Discover(#[source] DiscoveryError),
    #[error("the store failed")]
    Store(#[from] StoreError),
}

/// The external systems the engine drives, each behind its port.
#[derive(Clone)]
pub struct Adapters {
    pub docker: Arc<dyn DockerApi>,
    pub compose: Arc<dyn ComposeApi>,
    pub registry: Arc<dyn RegistryApi>,
}

/// A handle on the engine; clones share everything (the rollouts' tasks and locks too).
#[derive(Clone)]
pub struct Engine {
    store: Store,
    events: EventBus,
    clock: Arc<dyn Clock>,
    /// The env file named with `--env-file`, if any; re-read every cycle.
    env_file: Option<PathBuf>,
    adapters: Adapters,
    rollout: Arc<Rollout>,
}

impl Engine {
    pub fn new(
        store: Store,
        events: EventBus,
        clock: Arc<dyn Clock>,
        env_file: Option<PathBuf>,
        adapters: Adapters,
        health: HealthPolicy,
    ) -> Engine {
        let rollout = Rollout {
            store: store.clone(),
            docker: adapters.docker.clone(),
            compose: adapters.compose.clone(),
            registry: adapters.registry.clone(),
            events: events.clone(),
            clock: clock.clone(),
            health,
            locks: DeployLocks::default(),
            tasks: TaskTracker::new(),
            retries: Retries::default(),
            scanning: None,
        };
        Engine {
            store,
            events,
            clock,
            env_file,
            adapters,
            rollout: Arc::new(rollout),
        }
    }

    /// Turn on Trivy in the deploy path (the gate, and the scan after each deploy).
    pub fn with_scanning(mut self, scanning: Scanning) -> Engine {
        self.rollout = Arc::new(Rollout {
            scanning: Some(scanning),
            ..(*self.rollout).clone()
        });
        self
    }

    /// At shutdown: let running deploys and rollbacks reach their verdict, for at most
    /// `limit` (a rollout still running then is converged by the next start's recovery).
    pub async fn finish_rollouts(&self, limit: Duration) {
        let left = self.rollout.finish(limit).await;
        if left > 0 {
            tracing::warn!(
                running = left,
                "stopping with deploys still running; the next start will recover them"
            );
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn events(&self) -> &EventBus {
        &self.events
    }

    /// Each registry's auth state, quota and request counts as the engine's registry
    /// adapter reports them.
    pub fn registry_status(&self) -> Vec<crate::registry::RegistryStatus> {
        self.adapters.registry.status()
    }

    fn load_config(&self) -> Result<Config, EngineError> {
        Config::load(self.env_file.as_deref()).map_err(EngineError::LoadConfig)
    }

    /// Run a cycle every `interval` until `shutdown` is cancelled. A failed cycle is logged
    /// and the next one runs on schedule: one bad answer never stops the loop.
    pub async fn run_scheduler(self: Arc<Self>, interval: Duration, shutdown: CancellationToken) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = ticker.tick() => {}
            }
            if let Err(error) = self.check_all(false).await {
                tracing::warn!(error = %error_chain(&error), "scheduled check failed");
            }
            // The cycle's reports, tag lists and rows are freed by now: without this an idle
            // Berth holds its last cycle's peak (see `heap`).
            tokio::task::spawn_blocking(crate::heap::release_freed_pages);
        }
    }
}

/// An error and its sources on one line, for logs and the dashboard.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
