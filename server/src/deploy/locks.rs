//! Who may deploy what, and when.
//!
//! - One rollout per service: a second deploy or rollback of a service while one runs is
//!   refused with a clear message, never interleaved.
//! - One rollout per file: services that share a compose file (or the project's `.env`) are
//!   deployed one after the other. The second waits, then plans its edit on the file as the
//!   first left it, so a revert always finds the value it wrote.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

#[derive(Debug, Default, Clone)]
pub struct DeployLocks {
    services: KeyedLocks<i64>,
    files: KeyedLocks<PathBuf>,
}

/// Held while a service's rollout runs.
#[derive(Debug)]
pub struct ServiceGuard {
    _held: OwnedMutexGuard<()>,
}

/// Held while a rollout may write the files it names.
#[derive(Debug)]
pub struct FilesGuard {
    _held: Vec<OwnedMutexGuard<()>>,
}

impl DeployLocks {
    /// The service's lock, or `None` when a rollout of it is already running.
    pub fn try_service(&self, service_id: i64) -> Option<ServiceGuard> {
        self.services
            .get(&service_id)
            .try_lock_owned()
            .ok()
            .map(|held| ServiceGuard { _held: held })
    }

    /// Is a rollout of the service running (or waiting for its files)?
    pub fn is_busy(&self, service_id: i64) -> bool {
        self.services.get(&service_id).try_lock().is_err()
    }

    /// Wait until no other rollout holds any of `files`, then hold them all. Paths are
    /// compared after resolving symlinks, and taken in one order, so two rollouts that share
    /// files can never each hold one the other waits for.
    pub async fn files(&self, files: impl IntoIterator<Item = PathBuf>) -> FilesGuard {
        let resolved: BTreeSet<PathBuf> = files
            .into_iter()
            .map(|path| std::fs::canonicalize(&path).unwrap_or(path))
            .collect();
        let mut guards = Vec::with_capacity(resolved.len());
        for path in resolved {
            guards.push(self.files.get(&path).lock_owned().await);
        }
        FilesGuard { _held: guards }
    }
}

/// One async mutex per key, made on first use.
#[derive(Debug)]
struct KeyedLocks<K>(Arc<Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>>);

impl<K> Default for KeyedLocks<K> {
    fn default() -> Self {
        KeyedLocks(Arc::default())
    }
}

impl<K> Clone for KeyedLocks<K> {
    fn clone(&self) -> Self {
        KeyedLocks(self.0.clone())
    }
}

impl<K: Hash + Eq + Clone> KeyedLocks<K> {
    fn get(&self, key: &K) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        locks.entry(key.clone()).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_second_rollout_of_the_same_service_is_refused_until_the_first_ends() {
        let locks = DeployLocks::default();
        let first = locks.try_service(1).expect("free");
        assert!(locks.try_service(1).is_none(), "must not interleave");
        assert!(locks.is_busy(1));
        assert!(
            locks.try_service(2).is_some(),
            "other services are independent"
        );
        drop(first);
        assert!(!locks.is_busy(1));
        assert!(locks.try_service(1).is_some());
    }

    #[tokio::test]
    async fn rollouts_that_share_a_file_wait_for_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let compose = dir.path().join("compose.yml");
        std::fs::write(&compose, "services: {}\n").unwrap();
        let link = dir.path().join("link.yml");
        std::os::unix::fs::symlink(&compose, &link).unwrap();
        let locks = DeployLocks::default();

        let first = locks
            .files([compose.clone(), dir.path().join(".env")])
            .await;
        let second = tokio::time::timeout(Duration::from_millis(50), locks.files([link.clone()]));
        assert!(
            second.await.is_err(),
            "the same file through a symlink must wait"
        );
        let other = dir.path().join("other.yml");
        tokio::time::timeout(Duration::from_millis(50), locks.files([other]))
            .await
            .expect("another file is independent");

        let waiting = tokio::spawn({
            let locks = locks.clone();
            async move { locks.files([link]).await }
        });
        drop(first);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the waiting rollout goes on once the first ends")
            .unwrap();
    }
}
