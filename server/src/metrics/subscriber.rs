//! The event-bus subscriber that moves the counters: one task for the life of the server,
//! reading every event the engine publishes (the bus is the one source that notifications,
//! SSE and metrics share).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;

use crate::events::Event;

use super::counters::{Counters, RevisionKind};

/// Read events until `shutdown` is cancelled or the bus closes.
pub async fn run(
    mut events: broadcast::Receiver<Event>,
    counters: Arc<Counters>,
    shutdown: CancellationToken,
) {
    loop {
        let received = tokio::select! {
            () = shutdown.cancelled() => return,
            received = events.recv() => received,
        };
        match received {
            Ok(event) => apply(&counters, event),
            Err(RecvError::Lagged(missed)) => {
                // Counted, so a scrape shows the counters are low rather than hiding it.
                tracing::warn!(
                    missed,
                    "metrics fell behind the event bus; events were missed"
                );
                counters.record_missed(missed);
            }
            Err(RecvError::Closed) => return,
        }
    }
}

fn apply(counters: &Counters, event: Event) {
    match event {
        Event::CheckFinished {
            at, duration_ms, ..
        } => counters.record_check(at, Duration::from_millis(duration_ms)),
        Event::DeployFinished { kind, verdict, .. } => {
            counters.record_revision(revision_kind(&kind), &verdict);
        }
        Event::RegistryAuthFailed { registry, .. } => counters.record_auth_failure(&registry),
        // States and scans are read from the store at scrape time; an available update
        // shows as a service state.
        Event::ServiceState { .. }
        | Event::UpdateAvailable { .. }
        | Event::DeployStarted { .. }
        | Event::ScanFindings { .. } => {}
    }
}

/// An unknown kind counts as a deploy: an uncounted revision would hide a failure.
fn revision_kind(kind: &str) -> RevisionKind {
    RevisionKind::parse(kind).unwrap_or_else(|| {
        tracing::warn!(kind, "metrics count a revision of unknown kind as a deploy");
        RevisionKind::Deploy
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_move_the_counters_they_stand_for() {
        let counters = Counters::default();
        let at = chrono::Utc::now();
        apply(
            &counters,
            Event::CheckFinished {
                at,
                services_checked: 3,
                duration_ms: 1500,
            },
        );
        apply(
            &counters,
            Event::RegistryAuthFailed {
                registry: "ghcr.io".into(),
                error: "denied".into(),
            },
        );
        let snapshot = counters.snapshot();
        assert_eq!(snapshot.checks, 1);
        assert_eq!(snapshot.last_check_at, Some(at));
        assert!((snapshot.check_duration.sum - 1.5).abs() < 1e-9);
        assert_eq!(snapshot.auth_failures["ghcr.io"], 1);
    }
}
