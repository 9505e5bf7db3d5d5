//! The SQLite store (sqlx): opened with WAL and foreign keys on, migrated at start.
//! A failed migration stops start-up with the reason.

mod api_tokens;
mod audit;
mod ignored;
mod migrations;
mod notifications;
mod revisions;
mod scans;
mod services;
mod services_cache;
mod sessions;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

pub use audit::AuditEntry;
pub use revisions::{NewRevision, Revision, Verdict};
pub use scans::StoredScan;
pub use services::{CheckRecord, NewService, ServiceRecord};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DATABASE_URL {url:?} is not a valid SQLite URL")]
    ParseUrl {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot open the database {url}")]
    Open {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("database migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("database query failed: {operation}")]
    Query {
        operation: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("the database holds a value Berth cannot read: {0}")]
    Corrupt(String),
}

/// SQLite's page cache per connection, in KiB.
const CACHE_KIB: u32 = 512;

/// A handle to the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    services_cache: Arc<services_cache::ServicesCache>,
}

impl Store {
    /// Open (creating the file if needed) and migrate.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|source| StoreError::ParseUrl {
                url: url.to_owned(),
                source,
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            // SQLite caches up to 2 MiB of pages per connection by default, and each of the
            // pool's four kept its own: at 1,000 services (a 4 MB services table, rewritten
            // every cycle) that was most of Berth's heap. A miss costs one read from the
            // kernel's page cache, microseconds.
            .pragma("cache_size", format!("-{CACHE_KIB}"));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                url: url.to_owned(),
                source,
            })?;
        migrations::migrator()
            .await
            .map_err(StoreError::Migrate)?
            .run(&pool)
            .await
            .map_err(StoreError::Migrate)?;
        Ok(Store {
            pool,
            services_cache: Arc::default(),
        })
    }

    /// Close the pool, flushing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn query_error(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { operation, source }
}

/// A database file in a fresh temporary folder, for unit tests: the folder (which removes the
/// file when dropped) and the `sqlite://` URL to open it with.
#[cfg(test)]
pub(crate) fn temp_database() -> (tempfile::TempDir, String) {
    let folder = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", folder.path().join("berth.db").display());
    (folder, url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_connection_caches_at_most_the_configured_pages() {
        let (_folder, url) = temp_database();
        let store = Store::open(&url).await.unwrap();
        // Hold several connections at once, so the pool opens more than one.
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(store.pool.acquire().await.unwrap());
        }
        for connection in &mut held {
            let (cache_size,): (i64,) = sqlx::query_as("PRAGMA cache_size")
                .fetch_one(&mut **connection)
                .await
                .unwrap();
            assert_eq!(cache_size, -i64::from(CACHE_KIB));
        }
    }
}
