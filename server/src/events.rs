//! The in-process event bus. Everything that happens in the engine is published here once;
//! the SSE stream, and later notifications and metrics, subscribe to it.

use app::model::SyncState;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::broadcast;

/// How many events a slow subscriber may fall behind before it starts missing some.
const CAPACITY: usize = 1024;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A check cycle finished.
    CheckFinished {
        at: DateTime<Utc>,
        services_checked: usize,
    },
    /// A service changed state (a badge on the dashboard).
    ServiceState {
        service_id: i64,
        project: String,
        service: String,
        state: SyncState,
        detail: Option<String>,
    },
    /// A deploy or rollback ended.
    DeployFinished {
        service_id: i64,
        revision_id: i64,
        tag: String,
        verdict: String,
        reason: Option<String>,
    },
}

impl Event {
    /// The SSE `event:` name of this event.
    pub fn name(&self) -> &'static str {
        match self {
            Event::CheckFinished { .. } => "check_finished",
            Event::ServiceState { .. } => "service_state",
            Event::DeployFinished { .. } => "deploy_finished",
        }
    }
}

#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus {
            sender: broadcast::channel(CAPACITY).0,
        }
    }
}

impl EventBus {
    /// Publish an event; having no subscriber is normal and not an error.
    pub fn publish(&self, event: Event) {
        let _no_subscribers_is_fine = self.sender.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}
