//! The schema migrations, embedded in the binary.
//!
//! Listed here by hand rather than by `sqlx::migrate!` (and rows are read by hand-written
//! `FromRow` impls rather than the derive): those macros live in sqlx's macro crate, which
//! compiles a second copy of sqlx (with its SQLite driver), tokio, url, chrono and their
//! dependencies for the compiler's host, about a minute of CPU in every cold build.
//!
//! Each entry is what `migrate!` would have produced from the same file (version,
//! description, SQL, and so the same checksum), so databases migrated by earlier builds stay
//! valid; the test below holds the list to the `migrations/` folder, as sqlx reads it.

use std::borrow::Cow;

use futures::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::migrate::{MigrateError, Migration, MigrationSource, MigrationType, Migrator};

/// `(version, description, SQL)` of `migrations/<file>`.
macro_rules! migration {
    ($version:literal, $description:literal, $file:literal) => {
        (
            $version,
            $description,
            include_str!(concat!("../../../migrations/", $file)),
        )
    };
}

/// Every file of `migrations/`, in order: `NNNN_description_words.sql`.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    migration!(1, "services", "0001_services.sql"),
    migration!(2, "deploys", "0002_deploys.sql"),
    migration!(3, "scans", "0003_scans.sql"),
    migration!(4, "sessions", "0004_sessions.sql"),
    migration!(5, "api tokens", "0005_api_tokens.sql"),
    migration!(6, "notifications", "0006_notifications.sql"),
    migration!(7, "services version", "0007_services_version.sql"),
    migration!(8, "one value edits", "0008_one_value_edits.sql"),
];

/// The migrator for [`MIGRATIONS`], with sqlx's defaults (locking on, each migration in a
/// transaction unless its first line says `-- no-transaction`, as sqlx reads files).
pub async fn migrator() -> Result<Migrator, MigrateError> {
    Migrator::new(Embedded).await
}

/// [`MIGRATIONS`] as a source sqlx reads, as it would read the folder.
#[derive(Debug)]
struct Embedded;

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        let migrations = MIGRATIONS
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    Cow::Borrowed(sql),
                    sql.starts_with("-- no-transaction"),
                )
            })
            .collect();
        Box::pin(std::future::ready(Ok(migrations)))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// What sqlx itself reads from the folder at run time: the reference for every field.
    async fn from_folder() -> Migrator {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
        Migrator::new(folder.as_path())
            .await
            .expect("sqlx reads the migrations folder")
    }

    #[tokio::test]
    async fn the_list_is_the_migrations_folder_field_for_field() {
        let listed = migrator().await.expect("the embedded migrations resolve");
        let folder = from_folder().await;
        let summary = |migrator: &Migrator| {
            migrator
                .iter()
                .map(|m| {
                    (
                        m.version,
                        m.description.to_string(),
                        m.migration_type,
                        m.sql.to_string(),
                        m.checksum.to_vec(),
                        m.no_tx,
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            summary(&listed),
            summary(&folder),
            "store/migrations.rs must list every file in migrations/, as sqlx reads it"
        );
    }
}
