//! The `services` table in memory, for as long as `services_version` does not move.
//!
//! Every dashboard overview, API list and metrics scrape reads every service. Read from
//! SQLite through sqlx, 200 services were a third of an overview's CPU time; from here they
//! cost one one-row query. The version is bumped by triggers (migration 0007), so a change
//! made by another process on the same file, a CLI deploy say, is seen at the next read.

use std::sync::{Arc, Mutex, PoisonError};

use super::services::ServiceRecord;

#[derive(Debug, Default)]
pub(super) struct ServicesCache {
    held: Mutex<Option<(i64, Arc<[ServiceRecord]>)>>,
}

impl ServicesCache {
    /// The records read at `version`, if those are the ones held.
    pub(super) fn get(&self, version: i64) -> Option<Arc<[ServiceRecord]>> {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.as_ref()
            .filter(|(at, _)| *at == version)
            .map(|(_, records)| records.clone())
    }

    /// Hold `records`, read after the version was read as `version`. A change that commits
    /// in between moves the version past it, so the next read fetches again: never stale,
    /// at worst one read too many.
    pub(super) fn put(&self, version: i64, records: Arc<[ServiceRecord]>) {
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) = Some((version, records));
    }
}
