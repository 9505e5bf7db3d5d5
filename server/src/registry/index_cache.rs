//! Indexes by digest. A digest names its content, so an entry never goes stale; the cache is
//! only bounded, so a registry with endless rebuilds cannot grow it without limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::manifest::Index;

const MAX_ENTRIES: usize = 4096;

#[derive(Debug, Default)]
pub struct IndexCache {
    entries: Mutex<HashMap<String, Arc<Index>>>,
}

impl IndexCache {
    pub fn get(&self, digest: &str) -> Option<Arc<Index>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(digest)
            .cloned()
    }

    pub fn put(&self, digest: &str, index: Index) -> Arc<Index> {
        let index = Arc::new(index);
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= MAX_ENTRIES {
            // Simple and bounded: refetching an index is one GET.
            entries.clear();
        }
        entries.insert(digest.to_owned(), index.clone());
        index
    }
}
