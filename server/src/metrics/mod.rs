//! `/metrics` in the Prometheus text format.
//!
//! Two kinds of source: counters moved by a subscriber on the event bus (checks and their
//! duration, deploys and rollbacks by outcome, registry auth failures), and state read when the page is scraped
//! (services by state and the latest scans from the store; requests, quotas and rate limits
//! from the registry client). `METRICS_ENABLED` and `METRICS_TOKEN` say who may read it.

mod counters;
mod endpoint;
mod exposition;
mod scrape;
mod settings;
mod subscriber;

pub use settings::MetricsSettings;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::events::EventBus;
use crate::store::StoreError;
use crate::web::AppState;

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("{key}={value:?}: {reason}")]
    ParseSetting {
        key: &'static str,
        value: String,
        reason: String,
    },
    #[error("METRICS_TOKEN: {reason}")]
    CheckToken { reason: String },
    #[error("reading the services for /metrics")]
    ReadServices(#[source] StoreError),
    #[error("reading the latest scan of service {service_id} for /metrics")]
    ReadScans {
        service_id: i64,
        #[source]
        source: StoreError,
    },
}

/// The counters and settings `/metrics` renders. `Default` is an open endpoint with every
/// counter at zero; [`Metrics::start`] makes the counters move.
#[derive(Clone, Default)]
pub struct Metrics {
    settings: Arc<MetricsSettings>,
    counters: Arc<counters::Counters>,
}

impl Metrics {
    /// Read `METRICS_ENABLED` and `METRICS_TOKEN`; a bad value is an error naming the key.
    pub fn from_config(config: &Config) -> Result<Metrics, MetricsError> {
        Ok(Metrics::new(MetricsSettings::from_config(config)?))
    }

    pub fn new(settings: MetricsSettings) -> Metrics {
        Metrics {
            settings: Arc::new(settings),
            counters: Arc::default(),
        }
    }

    pub fn settings(&self) -> &MetricsSettings {
        &self.settings
    }

    /// Subscribe to `events` now (so nothing published after this call is missed) and count
    /// from them until `shutdown` is cancelled. Call it once per `Metrics`: a second
    /// subscriber would count every event twice.
    pub fn start(&self, events: &EventBus, shutdown: CancellationToken) {
        tokio::spawn(subscriber::run(
            events.subscribe(),
            self.counters.clone(),
            shutdown,
        ));
    }

    fn snapshot(&self) -> counters::Snapshot {
        self.counters.snapshot()
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(endpoint::scrape))
}
