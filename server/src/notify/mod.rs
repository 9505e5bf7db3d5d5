//! Notifications: engine events told to people, once per service and version, on the
//! channels the env file names (see [`settings`] and [`channel`]).
//!
//! The notifier is one more subscriber on the event bus. It runs in its own tasks with its
//! own queues: the engine publishes and moves on, whatever the receivers do. Each
//! notification is claimed in the store per channel before it is sent (the dedupe key is
//! channel, kind, service, version), so a repeated event — "update available" every cycle,
//! or after a restart — is not sent again. A failed send is retried with exponential
//! backoff; after the last attempt it is logged and the claim is given back, so the event
//! can go out when it happens again.

pub mod channel;
pub mod channels;
mod dispatcher;
pub mod message;
pub mod settings;

use crate::config::Config;
use crate::events::EventBus;
use crate::store::Store;

pub use dispatcher::{Notifier, NotifierHandle};
pub use message::{Kind, Notification};
pub use settings::NotifySettings;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{key}: {reason}")]
    ParseChannel { key: String, reason: String },
    #[error("{key}={value:?}: {reason}")]
    InvalidSetting {
        key: &'static str,
        value: String,
        reason: String,
    },
    #[error("building the HTTP client for notifications failed")]
    BuildClient(#[source] reqwest::Error),
    #[error("formatting the {channel} message failed: {reason}")]
    Format {
        channel: &'static str,
        reason: String,
    },
    #[error("sending to {channel} at {host} failed")]
    Send {
        channel: &'static str,
        host: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{channel} at {host} answered HTTP {status}: {body}")]
    Refused {
        channel: &'static str,
        host: String,
        status: u16,
        body: String,
    },
    #[error("sending email through {host} failed")]
    Smtp {
        host: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },
    #[error("the notification store failed")]
    Store(#[from] crate::store::StoreError),
}

/// Start notifying on the channels `config` names; `None` when it names none.
pub fn start(
    config: &Config,
    events: &EventBus,
    store: Store,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
    shutdown: tokio_util::sync::CancellationToken,
) -> Result<Option<NotifierHandle>, NotifyError> {
    let settings = NotifySettings::from_config(config)?;
    if settings.channels.is_empty() {
        return Ok(None);
    }
    let names: Vec<String> = settings
        .channels
        .iter()
        .map(|channel| format!("{} ({})", channel.name, channel.kind.label()))
        .collect();
    tracing::info!(channels = %names.join(", "), "notifications on");
    Notifier::new(settings, store, clock)?
        .start(events, shutdown)
        .map(Some)
}
