//! What Berth counts itself, from the event bus: check cycles and their duration, deploys
//! and rollbacks by outcome, registry auth failures, and events the subscriber missed. They start at zero with the
//! process, as Prometheus counters do; everything read from the store or the registry
//! client at scrape time lives in `scrape`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Upper bounds of the check-duration histogram, in seconds. A cycle that only asks the
/// registries takes well under a second; one that deploys waits for health (tens of s).
pub const CHECK_DURATION_BUCKETS: [f64; 11] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// The verdicts a finished deploy or rollback can have; each series exists from the start,
/// at zero, so `rate()` and alerts see the first one.
pub const OUTCOMES: [&str; 3] = ["verified", "failed", "rolled_back"];

/// Whether a revision was a deploy of a new version or a rollback to an old one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RevisionKind {
    Deploy,
    Rollback,
}

impl RevisionKind {
    /// Read the store's and the event's spelling (`deploy`, `rollback`).
    pub fn parse(text: &str) -> Option<RevisionKind> {
        match text {
            "deploy" => Some(RevisionKind::Deploy),
            "rollback" => Some(RevisionKind::Rollback),
            _ => None,
        }
    }
}

/// Observations counted into buckets with fixed upper bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub bounds: &'static [f64],
    /// Per bucket, not cumulative; one more than `bounds`, the last for `+Inf`.
    pub counts: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
            count: 0,
        }
    }

    pub fn observe(&mut self, value: f64) {
        let bucket = self
            .bounds
            .iter()
            .position(|bound| value <= *bound)
            .unwrap_or(self.bounds.len());
        self.counts[bucket] += 1;
        self.sum += value;
        self.count += 1;
    }

    /// `(upper bound, observations at or below it)` for each bucket, ending with `+Inf`.
    pub fn cumulative(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        let bounds = self.bounds.iter().copied().chain([f64::INFINITY]);
        bounds.zip(self.counts.iter().scan(0, |total, count| {
            *total += count;
            Some(*total)
        }))
    }
}

/// The counters at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub checks: u64,
    pub check_duration: Histogram,
    pub last_check_at: Option<DateTime<Utc>>,
    /// Finished revisions by kind and verdict.
    pub revisions: BTreeMap<(RevisionKind, String), u64>,
    /// Refused or unobtainable registry credentials, by registry.
    pub auth_failures: BTreeMap<String, u64>,
    /// Events the subscriber fell too far behind to read.
    pub events_missed: u64,
}

impl Default for Snapshot {
    fn default() -> Self {
        let revisions = [RevisionKind::Deploy, RevisionKind::Rollback]
            .into_iter()
            .flat_map(|kind| OUTCOMES.map(|outcome| ((kind, outcome.to_owned()), 0)))
            .collect();
        Snapshot {
            checks: 0,
            check_duration: Histogram::new(&CHECK_DURATION_BUCKETS),
            last_check_at: None,
            revisions,
            auth_failures: BTreeMap::new(),
            events_missed: 0,
        }
    }
}

/// The live counters, shared by the subscriber that writes and the handler that reads.
#[derive(Debug, Default)]
pub struct Counters {
    state: Mutex<Snapshot>,
}

impl Counters {
    fn lock(&self) -> std::sync::MutexGuard<'_, Snapshot> {
        // A panic elsewhere while holding the lock leaves plain numbers, still worth reading.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn snapshot(&self) -> Snapshot {
        self.lock().clone()
    }

    pub fn record_check(&self, at: DateTime<Utc>, duration: Duration) {
        let mut state = self.lock();
        state.checks += 1;
        state.check_duration.observe(duration.as_secs_f64());
        state.last_check_at = Some(state.last_check_at.map_or(at, |last| last.max(at)));
    }

    pub fn record_revision(&self, kind: RevisionKind, verdict: &str) {
        *self
            .lock()
            .revisions
            .entry((kind, verdict.to_owned()))
            .or_default() += 1;
    }

    pub fn record_auth_failure(&self, registry: &str) {
        *self
            .lock()
            .auth_failures
            .entry(registry.to_owned())
            .or_default() += 1;
    }

    pub fn record_missed(&self, events: u64) {
        self.lock().events_missed += events;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_that_holds_them() {
        let mut histogram = Histogram::new(&[1.0, 5.0]);
        for value in [0.5, 1.0, 3.0, 7.0] {
            histogram.observe(value);
        }
        let cumulative: Vec<_> = histogram.cumulative().collect();
        assert_eq!(cumulative, [(1.0, 2), (5.0, 3), (f64::INFINITY, 4)]);
        assert_eq!(histogram.count, 4);
        assert!((histogram.sum - 11.5).abs() < 1e-9);
    }

    #[test]
    fn every_kind_and_outcome_starts_at_zero() {
        let snapshot = Counters::default().snapshot();
        assert_eq!(snapshot.revisions.len(), 6);
        assert!(snapshot.revisions.values().all(|count| *count == 0));
    }

    #[test]
    fn a_revision_counts_under_its_kind_and_verdict() {
        let counters = Counters::default();
        counters.record_revision(RevisionKind::Rollback, "verified");
        counters.record_revision(RevisionKind::Deploy, "rolled_back");
        counters.record_revision(RevisionKind::Deploy, "rolled_back");
        let revisions = counters.snapshot().revisions;
        assert_eq!(
            revisions[&(RevisionKind::Rollback, "verified".to_owned())],
            1
        );
        assert_eq!(
            revisions[&(RevisionKind::Deploy, "rolled_back".to_owned())],
            2
        );
        assert_eq!(revisions[&(RevisionKind::Deploy, "verified".to_owned())], 0);
    }
}
