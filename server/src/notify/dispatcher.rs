//! The notifier's tasks: one reads the event bus, dedupes through the store and queues;
//! one per channel sends, retrying with exponential backoff. A slow or dead channel holds up
//! only its own queue, never the engine or the other channels.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::NotifyError;
use super::channels::{ChannelSender, Deliver};
use super::message::Notification;
use super::settings::NotifySettings;
use crate::clock::Clock;
use crate::engine::error_chain;
use crate::events::{Event, EventBus};
use crate::store::Store;

/// How many notifications may wait per channel; beyond that new ones are dropped (and
/// their claim given back) rather than holding anything up.
const QUEUE_CAPACITY: usize = 256;

enum Job {
    Send(Box<Notification>, [String; 4]),
    /// Answered once every job queued before it is done.
    Flush(oneshot::Sender<()>),
}

/// A channel as the dispatcher sees it: its name and where its jobs go.
struct Lane {
    name: String,
    queue: mpsc::Sender<Job>,
}

/// The notifier before it starts: its channels, each behind the [`Deliver`] port.
pub struct Notifier {
    channels: Vec<(String, Arc<dyn Deliver>)>,
    attempts: u32,
    backoff: Duration,
    store: Store,
    clock: Arc<dyn Clock>,
}

/// A running notifier.
#[derive(Clone)]
pub struct NotifierHandle {
    control: mpsc::Sender<oneshot::Sender<()>>,
}

impl NotifierHandle {
    /// Wait until every event published before this call has been handled: sent, skipped
    /// as already sent, or given up after its last attempt.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.control.send(done).await.is_ok() {
            let _stopped_meanwhile = wait.await;
        }
    }
}

impl Notifier {
    pub fn new(
        settings: NotifySettings,
        store: Store,
        clock: Arc<dyn Clock>,
    ) -> Result<Notifier, NotifyError> {
        let http = ChannelSender::http_client()?;
        let channels = settings
            .channels
            .into_iter()
            .map(|channel| {
                let sender: Arc<dyn Deliver> =
                    Arc::new(ChannelSender::new(channel.kind, http.clone()));
                (channel.name, sender)
            })
            .collect();
        Ok(Notifier {
            channels,
            attempts: settings.attempts,
            backoff: settings.backoff,
            store,
            clock,
        })
    }

    /// Subscribe to `events` now (nothing published after this returns is missed) and run
    /// until `shutdown`.
    pub fn start(
        self,
        events: &EventBus,
        shutdown: CancellationToken,
    ) -> Result<NotifierHandle, NotifyError> {
        let receiver = events.subscribe();
        let mut lanes = Vec::with_capacity(self.channels.len());
        for (name, deliver) in self.channels {
            let (queue, jobs) = mpsc::channel(QUEUE_CAPACITY);
            let worker = Worker {
                name: name.clone(),
                deliver,
                attempts: self.attempts,
                backoff: self.backoff,
                store: self.store.clone(),
                shutdown: shutdown.clone(),
            };
            tokio::spawn(worker.run(jobs));
            lanes.push(Lane { name, queue });
        }
        let (control, requests) = mpsc::channel(8);
        let dispatcher = Dispatcher {
            lanes,
            store: self.store,
            clock: self.clock,
        };
        tokio::spawn(dispatcher.run(receiver, requests, shutdown));
        Ok(NotifierHandle { control })
    }
}

struct Dispatcher {
    lanes: Vec<Lane>,
    store: Store,
    clock: Arc<dyn Clock>,
}

impl Dispatcher {
    async fn run(
        self,
        mut events: tokio::sync::broadcast::Receiver<Event>,
        mut flushes: mpsc::Receiver<oneshot::Sender<()>>,
        shutdown: CancellationToken,
    ) {
        loop {
            tokio::select! {
                // Events first: a flush must see every event published before it.
                biased;
                () = shutdown.cancelled() => return,
                received = events.recv() => match received {
                    Ok(event) => self.dispatch(&event).await,
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "notifications fell behind the event bus; events were missed");
                    }
                    Err(RecvError::Closed) => return,
                },
                Some(done) = flushes.recv() => self.flush(done).await,
            }
        }
    }

    async fn dispatch(&self, event: &Event) {
        let Some(notification) = Notification::from_event(event, self.clock.now()) else {
            return;
        };
        for lane in &self.lanes {
            let key = [
                lane.name.clone(),
                notification.kind.as_str().to_owned(),
                notification.dedupe_subject(),
                notification.version.clone(),
            ];
            match self
                .store
                .claim_notification(key_refs(&key), self.clock.now())
                .await
            {
                Ok(true) => {}
                Ok(false) => continue,
                Err(error) => {
                    tracing::warn!(channel = lane.name, error = %error_chain(&error), "cannot record a notification; not sending it");
                    continue;
                }
            }
            let job = Job::Send(Box::new(notification.clone()), key.clone());
            if lane.queue.try_send(job).is_err() {
                tracing::warn!(
                    channel = lane.name,
                    kind = notification.kind.as_str(),
                    "the channel's queue is full; notification dropped"
                );
                release(&self.store, &key).await;
            }
        }
    }

    /// Queue a marker behind every channel's jobs; answer when all have reached it,
    /// without holding up the dispatching of new events meanwhile.
    async fn flush(&self, done: oneshot::Sender<()>) {
        let mut markers = Vec::with_capacity(self.lanes.len());
        for lane in &self.lanes {
            let (lane_done, wait) = oneshot::channel();
            if lane.queue.send(Job::Flush(lane_done)).await.is_ok() {
                markers.push(wait);
            }
        }
        tokio::spawn(async move {
            for marker in markers {
                let _stopped_meanwhile = marker.await;
            }
            let _caller_gone = done.send(());
        });
    }
}

struct Worker {
    name: String,
    deliver: Arc<dyn Deliver>,
    attempts: u32,
    backoff: Duration,
    store: Store,
    shutdown: CancellationToken,
}

impl Worker {
    async fn run(self, mut jobs: mpsc::Receiver<Job>) {
        while let Some(job) = jobs.recv().await {
            match job {
                Job::Send(notification, key) => self.send(&notification, &key).await,
                Job::Flush(done) => {
                    let _caller_gone = done.send(());
                }
            }
        }
    }

    /// Send with up to `attempts` tries, waiting `backoff`, then twice that, and so on.
    async fn send(&self, notification: &Notification, key: &[String; 4]) {
        let mut wait = self.backoff;
        for attempt in 1..=self.attempts {
            let error = match self.deliver.deliver(notification).await {
                Ok(()) => {
                    tracing::info!(
                        channel = self.name,
                        kind = notification.kind.as_str(),
                        subject = notification.subject,
                        attempt,
                        "notification sent"
                    );
                    return;
                }
                Err(error) => error_chain(&error),
            };
            if attempt == self.attempts {
                tracing::warn!(channel = self.name, kind = notification.kind.as_str(), subject = notification.subject, attempts = self.attempts, %error, "notification not sent; giving up");
                break;
            }
            tracing::info!(channel = self.name, attempt, %error, retry_in = ?wait, "notification failed; retrying");
            tokio::select! {
                () = self.shutdown.cancelled() => break,
                () = tokio::time::sleep(wait) => {}
            }
            wait = wait.saturating_mul(2);
        }
        release(&self.store, key).await;
    }
}

async fn release(store: &Store, key: &[String; 4]) {
    if let Err(error) = store.release_notification(key_refs(key)).await {
        tracing::warn!(error = %error_chain(&error), "cannot release a notification claim");
    }
}

fn key_refs(key: &[String; 4]) -> [&str; 4] {
    [&key[0], &key[1], &key[2], &key[3]]
}
