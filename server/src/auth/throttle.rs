//! Failed logins slowed down per address: after a few failures an address must wait,
//! doubling each time, before it may try again. Memory only: a restart forgives.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Failures an address may make before it has to wait.
const FREE_FAILURES: u32 = 3;
const FIRST_WAIT: Duration = Duration::from_secs(1);
const LONGEST_WAIT: Duration = Duration::from_secs(300);
/// A quiet address is forgotten after this long.
const FORGET_AFTER: Duration = Duration::from_secs(3600);

#[derive(Debug, Default)]
pub struct Throttle {
    addresses: Mutex<HashMap<IpAddr, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: DateTime<Utc>,
    blocked_until: DateTime<Utc>,
}

impl Throttle {
    /// `Err(wait)` while `address` must wait before trying again.
    pub fn admit(&self, address: IpAddr, now: DateTime<Utc>) -> Result<(), Duration> {
        let addresses = self.lock();
        match addresses.get(&address) {
            Some(failures) if failures.blocked_until > now => Err((failures.blocked_until - now)
                .to_std()
                .unwrap_or(FIRST_WAIT)),
            _ => Ok(()),
        }
    }

    pub fn failed(&self, address: IpAddr, now: DateTime<Utc>) {
        let mut addresses = self.lock();
        addresses.retain(|_, failures| {
            (now - failures.last).to_std().unwrap_or_default() < FORGET_AFTER
        });
        let failures = addresses.entry(address).or_insert(Failures {
            count: 0,
            last: now,
            blocked_until: now,
        });
        failures.count += 1;
        failures.last = now;
        if failures.count > FREE_FAILURES {
            let doublings = (failures.count - FREE_FAILURES - 1).min(16);
            let wait = FIRST_WAIT.saturating_mul(1 << doublings).min(LONGEST_WAIT);
            failures.blocked_until = now + chrono::Duration::from_std(wait).unwrap_or_default();
        }
    }

    pub fn succeeded(&self, address: IpAddr) {
        self.lock().remove(&address);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Failures>> {
        self.addresses
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_waits_longer_after_each_failure_and_others_are_unaffected() {
        let throttle = Throttle::default();
        let attacker: IpAddr = "192.0.2.1".parse().unwrap();
        let user: IpAddr = "192.0.2.2".parse().unwrap();
        let start = Utc::now();
        for _ in 0..FREE_FAILURES {
            assert!(throttle.admit(attacker, start).is_ok());
            throttle.failed(attacker, start);
        }
        assert!(throttle.admit(attacker, start).is_ok());
        throttle.failed(attacker, start);
        assert_eq!(throttle.admit(attacker, start), Err(Duration::from_secs(1)));
        throttle.failed(attacker, start);
        assert_eq!(throttle.admit(attacker, start), Err(Duration::from_secs(2)));
        assert!(throttle.admit(user, start).is_ok());
        let later = start + chrono::Duration::seconds(3);
        assert!(throttle.admit(attacker, later).is_ok());
        throttle.succeeded(attacker);
        throttle.failed(attacker, later);
        assert!(throttle.admit(attacker, later).is_ok());
    }
}
