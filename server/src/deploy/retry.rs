//! Deploys that failed with nothing on the host changed (a compose file Berth cannot write, a
//! registry login or a pull that does not work, a scan gate that cannot scan): the failure
//! need not be the candidate's, so its tag is not ignored, but the checks hold it back with a
//! pause that doubles at each failure. A broken precondition then gives one failed revision
//! and one notification, not one per cycle. Kept in memory: a restart tries again at once,
//! and a deploy a person asks for is never held.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};

/// The pause after the first failure; each further failure doubles it.
const FIRST_PAUSE: TimeDelta = TimeDelta::minutes(5);
/// The longest pause: a precondition fixed in the meantime is found within this.
const LONGEST_PAUSE: TimeDelta = TimeDelta::hours(6);

/// Why and until when a candidate is held back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub reason: String,
    pub retry_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct Retries {
    entries: Arc<Mutex<HashMap<(i64, String), Entry>>>,
}

#[derive(Debug, Clone)]
struct Entry {
    failures: u32,
    held: Held,
}

impl Retries {
    /// A deploy of `tag` to the service failed with nothing changed: hold it back.
    pub fn failed(&self, service_id: i64, tag: &str, reason: &str, now: DateTime<Utc>) -> Held {
        let mut entries = self.lock();
        let failures = entries
            .get(&(service_id, tag.to_owned()))
            .map_or(1, |entry| entry.failures + 1);
        let pause = (1..failures)
            .try_fold(FIRST_PAUSE, |pause, _| pause.checked_mul(2))
            .map_or(LONGEST_PAUSE, |pause| pause.min(LONGEST_PAUSE));
        let held = Held {
            reason: reason.to_owned(),
            retry_at: now + pause,
        };
        entries.insert(
            (service_id, tag.to_owned()),
            Entry {
                failures,
                held: held.clone(),
            },
        );
        held
    }

    /// Whether a check should leave the candidate alone for now.
    pub fn held(&self, service_id: i64, tag: &str, now: DateTime<Utc>) -> Option<Held> {
        self.lock()
            .get(&(service_id, tag.to_owned()))
            .filter(|entry| now < entry.held.retry_at)
            .map(|entry| entry.held.clone())
    }

    /// The service runs a verified version: its failures are history.
    pub fn clear(&self, service_id: i64) {
        self.lock().retain(|(id, _), _| *id != service_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(i64, String), Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_doubles_per_failure_up_to_its_longest_and_ends_with_a_verified_deploy() {
        let retries = Retries::default();
        let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let first = retries.failed(1, "1.1.0", "cannot write", start);
        assert_eq!(first.retry_at - start, FIRST_PAUSE);
        assert_eq!(
            retries.held(1, "1.1.0", start + TimeDelta::minutes(4)),
            Some(first.clone())
        );
        assert_eq!(
            retries.held(1, "1.1.0", first.retry_at),
            None,
            "its time came"
        );
        assert_eq!(
            retries.held(1, "1.2.0", start),
            None,
            "another tag is not held"
        );
        assert_eq!(
            retries.held(2, "1.1.0", start),
            None,
            "another service neither"
        );

        let second = retries.failed(1, "1.1.0", "cannot write", first.retry_at);
        assert_eq!(second.retry_at - first.retry_at, FIRST_PAUSE * 2);
        let mut at = second.retry_at;
        for _ in 0..20 {
            at = retries.failed(1, "1.1.0", "cannot write", at).retry_at;
        }
        let last = retries.failed(1, "1.1.0", "cannot write", at);
        assert_eq!(last.retry_at - at, LONGEST_PAUSE);

        retries.clear(1);
        assert_eq!(retries.held(1, "1.1.0", at), None);
    }
}
