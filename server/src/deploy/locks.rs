//! One deploy at a time per service: a manual rollback while an automatic deploy of the same
//! service runs is refused with a clear message instead of interleaving.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

#[derive(Debug, Default, Clone)]
pub struct ServiceLocks {
    locks: Arc<Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>>,
}

impl ServiceLocks {
    /// The service's lock, or `None` when a deploy of it is already running.
    pub fn try_acquire(&self, service_id: i64) -> Option<OwnedMutexGuard<()>> {
        let lock = {
            let mut locks = self
                .locks
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            locks.entry(service_id).or_default().clone()
        };
        lock.try_lock_owned().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_deploy_of_the_same_service_is_refused_until_the_first_ends() {
        let locks = ServiceLocks::default();
        let first = locks.try_acquire(1).expect("free");
        assert!(locks.try_acquire(1).is_none(), "must not interleave");
        assert!(
            locks.try_acquire(2).is_some(),
            "other services are independent"
        );
        drop(first);
        assert!(locks.try_acquire(1).is_some());
    }
}
