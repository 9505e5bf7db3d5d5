//! The engine: the check loop that every other part (dashboard, API, CLI) drives or watches.
//!
//! A check cycle asks, for every managed service, what the registry offers and what to do
//! about it. The scheduler runs one cycle every `CHECK_INTERVAL`, and on demand.

use std::sync::Arc;
use std::time::Duration;

use app::model::CheckReport;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::events::{Event, EventBus};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("check cycle failed")]
    Check(#[source] StoreError),
}

pub struct Engine {
    store: Store,
    events: EventBus,
    clock: Arc<dyn Clock>,
}

impl Engine {
    pub fn new(store: Store, events: EventBus, clock: Arc<dyn Clock>) -> Engine {
        Engine {
            store,
            events,
            clock,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn events(&self) -> &EventBus {
        &self.events
    }

    /// One check cycle over every service the store knows.
    pub async fn check_all(&self) -> Result<CheckReport, EngineError> {
        let checked_at = self.clock.now();
        let services_checked = self
            .store
            .mark_all_checked(checked_at)
            .await
            .map_err(EngineError::Check)?;
        let report = CheckReport {
            checked_at,
            services_checked: usize::try_from(services_checked).unwrap_or(usize::MAX),
        };
        self.events.publish(Event::CheckFinished {
            at: report.checked_at,
            services_checked: report.services_checked,
        });
        Ok(report)
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
            if let Err(error) = self.check_all().await {
                tracing::warn!(error = %error_chain(&error), "scheduled check failed");
            }
        }
    }
}

/// An error and its sources on one line, for logs.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
