//! The `services` table: what discovery found, and where each service stands.

use std::path::PathBuf;
use std::sync::Arc;

use app::model::{ServiceSummary, SyncState};
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Row};

use super::{Store, StoreError, query_error};

/// A service as discovery reports it. Upserting one never touches its state, pin or
/// exclusion: those belong to the engine and to people.
#[derive(Debug, Clone, Default)]
pub struct NewService {
    pub project: String,
    pub name: String,
    pub image: String,
    pub current_tag: Option<String>,
    pub source: String,
    pub compose_files: Vec<PathBuf>,
    pub project_dir: Option<PathBuf>,
    pub unmanageable: Option<String>,
    pub container_id: Option<String>,
    pub container_status: Option<String>,
}

/// Everything the engine keeps about a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRecord {
    pub id: i64,
    pub project: String,
    pub name: String,
    pub image: String,
    pub current_tag: Option<String>,
    pub current_digest: Option<String>,
    pub best_candidate: Option<String>,
    pub state: SyncState,
    pub pinned_tag: Option<String>,
    pub excluded: bool,
    pub unmanageable: Option<String>,
    pub detail: Option<String>,
    pub last_checked_at: Option<DateTime<Utc>>,
}

impl ServiceRecord {
    /// `project/name`: the selector the engine's actions take, never ambiguous, and how
    /// logs and errors name the service.
    pub fn selector(&self) -> String {
        format!("{}/{}", self.project, self.name)
    }
}

struct ServiceRow {
    id: i64,
    project: String,
    name: String,
    image: String,
    current_tag: Option<String>,
    current_digest: Option<String>,
    best_candidate: Option<String>,
    state: String,
    pinned_tag: Option<String>,
    excluded: bool,
    unmanageable: Option<String>,
    detail: Option<String>,
    last_checked_at: Option<DateTime<Utc>>,
}

// By hand, not derived: the derive is in sqlx's macro crate (migrations.rs says why not).
impl<'r> FromRow<'r, SqliteRow> for ServiceRow {
    fn from_row(row: &'r SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(ServiceRow {
            id: row.try_get("id")?,
            project: row.try_get("project")?,
            name: row.try_get("name")?,
            image: row.try_get("image")?,
            current_tag: row.try_get("current_tag")?,
            current_digest: row.try_get("current_digest")?,
            best_candidate: row.try_get("best_candidate")?,
            state: row.try_get("state")?,
            pinned_tag: row.try_get("pinned_tag")?,
            excluded: row.try_get("excluded")?,
            unmanageable: row.try_get("unmanageable")?,
            detail: row.try_get("detail")?,
            last_checked_at: row.try_get("last_checked_at")?,
        })
    }
}

const COLUMNS: &str = "id, project, name, image, current_tag, current_digest, best_candidate, state, \
     pinned_tag, excluded, unmanageable, detail, last_checked_at";

impl TryFrom<ServiceRow> for ServiceRecord {
    type Error = StoreError;

    fn try_from(row: ServiceRow) -> Result<Self, StoreError> {
        let state = SyncState::parse(&row.state).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "service {} has unknown state {:?}",
                row.id, row.state
            ))
        })?;
        Ok(ServiceRecord {
            id: row.id,
            project: row.project,
            name: row.name,
            image: row.image,
            current_tag: row.current_tag,
            current_digest: row.current_digest,
            best_candidate: row.best_candidate,
            state,
            pinned_tag: row.pinned_tag,
            excluded: row.excluded,
            unmanageable: row.unmanageable,
            detail: row.detail,
            last_checked_at: row.last_checked_at,
        })
    }
}

impl From<&ServiceRecord> for ServiceSummary {
    fn from(record: &ServiceRecord) -> Self {
        ServiceSummary {
            id: record.id,
            project: record.project.clone(),
            name: record.name.clone(),
            image: record.image.clone(),
            current_tag: record.current_tag.clone(),
            current_digest: record.current_digest.clone(),
            best_candidate: record.best_candidate.clone(),
            state: record.state,
            last_checked_at: record.last_checked_at,
        }
    }
}

impl Store {
    /// Every service, ordered by project then name.
    pub async fn list_services(&self) -> Result<Vec<ServiceSummary>, StoreError> {
        Ok(self
            .all_services()
            .await?
            .iter()
            .map(ServiceSummary::from)
            .collect())
    }

    /// Every service's record, ordered by project then name.
    pub async fn service_records(&self) -> Result<Vec<ServiceRecord>, StoreError> {
        Ok(self.all_services().await?.to_vec())
    }

    /// From memory while `services_version` has not moved (see `services_cache`).
    async fn all_services(&self) -> Result<Arc<[ServiceRecord]>, StoreError> {
        let version: i64 = sqlx::query_scalar("SELECT version FROM services_version")
            .fetch_one(&self.pool)
            .await
            .map_err(query_error("read the services version"))?;
        if let Some(records) = self.services_cache.get(version) {
            return Ok(records);
        }
        let rows: Vec<ServiceRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM services ORDER BY project, name"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("list services"))?;
        let records = rows
            .into_iter()
            .map(ServiceRecord::try_from)
            .collect::<Result<Arc<[_]>, _>>()?;
        self.services_cache.put(version, records.clone());
        Ok(records)
    }

    pub async fn service(&self, id: i64) -> Result<Option<ServiceRecord>, StoreError> {
        let row: Option<ServiceRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM services WHERE id = ?"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(query_error("read service"))?;
        row.map(ServiceRecord::try_from).transpose()
    }

    /// Insert a service, or refresh what discovery knows about it. Returns its id. The
    /// current tag stays as it is while a deploy of the service is open: the compose file
    /// already names the candidate then, which is not running until it verified.
    pub async fn upsert_service(&self, service: &NewService) -> Result<i64, StoreError> {
        upsert(&self.pool, service).await
    }

    /// [`Store::upsert_service`] for every service a cycle discovered, in one transaction:
    /// one commit (and one fsync) instead of one per service. The ids come back in order.
    pub async fn upsert_services(&self, services: &[NewService]) -> Result<Vec<i64>, StoreError> {
        let mut transaction = self
            .pool
            .begin()
            .await
            .map_err(query_error("begin upserting services"))?;
        let mut ids = Vec::with_capacity(services.len());
        for service in services {
            ids.push(upsert(&mut *transaction, service).await?);
        }
        transaction
            .commit()
            .await
            .map_err(query_error("commit upserted services"))?;
        Ok(ids)
    }

    /// Every service's check of one cycle, in one transaction. Returns, per check, whether
    /// the service's state or detail changed. While a deploy of a service is open (its
    /// revision `in_progress`), its state belongs to that rollout: a check records its
    /// candidate and explanation but leaves the state alone.
    pub async fn record_checks(&self, checks: &[CheckRecord<'_>]) -> Result<Vec<bool>, StoreError> {
        let mut transaction = self
            .pool
            .begin()
            .await
            .map_err(query_error("begin recording checks"))?;
        let mut changed = Vec::with_capacity(checks.len());
        for check in checks {
            changed.push(record(&mut transaction, check).await?);
        }
        transaction
            .commit()
            .await
            .map_err(query_error("commit recorded checks"))?;
        Ok(changed)
    }

    pub async fn set_state(
        &self,
        id: i64,
        state: SyncState,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE services SET state = ?, detail = ? WHERE id = ?")
            .bind(state.as_str())
            .bind(detail)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(query_error("set service state"))?;
        Ok(())
    }

    /// [`Store::set_state`] for a change a person makes (a pin, an unpin), which must not
    /// overwrite the state of a deploy under way: that belongs to its rollout. Returns whether
    /// the state was set.
    pub async fn set_state_unless_deploying(
        &self,
        id: i64,
        state: SyncState,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE services SET state = ?, detail = NULL WHERE id = ?
                 AND NOT EXISTS (SELECT 1 FROM revisions
                                 WHERE service_id = services.id AND verdict = 'in_progress')",
        )
        .bind(state.as_str())
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(query_error("set service state"))?;
        Ok(result.rows_affected() > 0)
    }

    /// A deploy verified: the service now runs `tag` at `digest`.
    pub async fn set_deployed(
        &self,
        id: i64,
        tag: &str,
        digest: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE services SET current_tag = ?, current_digest = ?, best_candidate = NULL,
                 state = 'synced', detail = NULL WHERE id = ?",
        )
        .bind(tag)
        .bind(digest)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(query_error("record deployed tag"))?;
        Ok(())
    }

    /// Record that every service was checked at `at`.
    pub async fn mark_all_checked(&self, at: DateTime<Utc>) -> Result<u64, StoreError> {
        let result = sqlx::query("UPDATE services SET last_checked_at = ?")
            .bind(at)
            .execute(&self.pool)
            .await
            .map_err(query_error("mark services checked"))?;
        Ok(result.rows_affected())
    }
}

/// What one check found about one service.
#[derive(Debug, Clone)]
pub struct CheckRecord<'a> {
    pub id: i64,
    pub state: SyncState,
    pub best_candidate: Option<&'a str>,
    pub explanation: Option<&'a str>,
    pub detail: Option<&'a str>,
    pub at: DateTime<Utc>,
}

async fn upsert<'e>(
    executor: impl sqlx::SqliteExecutor<'e>,
    service: &NewService,
) -> Result<i64, StoreError> {
    let compose_files = serde_json::to_string(&service.compose_files)
        .map_err(|error| StoreError::Corrupt(error.to_string()))?;
    sqlx::query_scalar(
        "INSERT INTO services (project, name, image, current_tag, source, compose_files,
             project_dir, unmanageable, container_id, container_status)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (project, name) DO UPDATE SET image = excluded.image,
             current_tag = CASE WHEN EXISTS (SELECT 1 FROM revisions
                     WHERE service_id = services.id AND verdict = 'in_progress')
                 THEN services.current_tag ELSE excluded.current_tag END,
             source = excluded.source,
             compose_files = excluded.compose_files, project_dir = excluded.project_dir,
             unmanageable = excluded.unmanageable, container_id = excluded.container_id,
             container_status = excluded.container_status
         RETURNING id",
    )
    .bind(&service.project)
    .bind(&service.name)
    .bind(&service.image)
    .bind(&service.current_tag)
    .bind(&service.source)
    .bind(compose_files)
    .bind(
        service
            .project_dir
            .as_ref()
            .map(|dir| dir.display().to_string()),
    )
    .bind(&service.unmanageable)
    .bind(&service.container_id)
    .bind(&service.container_status)
    .fetch_one(executor)
    .await
    .map_err(query_error("upsert service"))
}

/// One check: the state and detail only when they change and no rollout owns the service
/// (which is what the returned flag says), the rest always.
async fn record(
    transaction: &mut sqlx::SqliteConnection,
    check: &CheckRecord<'_>,
) -> Result<bool, StoreError> {
    let changed = sqlx::query(
        "UPDATE services SET state = ?, detail = ? WHERE id = ?
             AND (state IS NOT ? OR detail IS NOT ?)
             AND NOT EXISTS (SELECT 1 FROM revisions
                             WHERE service_id = services.id AND verdict = 'in_progress')",
    )
    .bind(check.state.as_str())
    .bind(check.detail)
    .bind(check.id)
    .bind(check.state.as_str())
    .bind(check.detail)
    .execute(&mut *transaction)
    .await
    .map_err(query_error("record check state"))?
    .rows_affected()
        > 0;
    sqlx::query(
        "UPDATE services SET best_candidate = ?, explanation = ?, last_checked_at = ? WHERE id = ?",
    )
    .bind(check.best_candidate)
    .bind(check.explanation)
    .bind(check.at)
    .bind(check.id)
    .execute(&mut *transaction)
    .await
    .map_err(query_error("record check"))?;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::temp_database;

    #[tokio::test]
    async fn the_list_in_memory_follows_changes_from_this_and_other_processes() {
        let (_folder, url) = temp_database();
        let serve = Store::open(&url).await.unwrap();
        // A second pool on the same file: what `berth engine deploy` opens beside serve.
        let cli = Store::open(&url).await.unwrap();
        let id = serve
            .upsert_service(&NewService {
                project: "shop".into(),
                name: "web".into(),
                image: "127.0.0.1:5000/web".into(),
                current_tag: Some("1.0.0".into()),
                source: "config".into(),
                ..NewService::default()
            })
            .await
            .unwrap();
        let tag = |records: Vec<ServiceSummary>| records[0].current_tag.clone();
        assert_eq!(
            tag(serve.list_services().await.unwrap()).as_deref(),
            Some("1.0.0")
        );
        assert_eq!(
            tag(serve.list_services().await.unwrap()).as_deref(),
            Some("1.0.0")
        );

        cli.set_deployed(id, "1.1.0", None).await.unwrap();
        assert_eq!(
            tag(serve.list_services().await.unwrap()).as_deref(),
            Some("1.1.0")
        );

        serve.set_pin(id, Some("1.1.0")).await.unwrap();
        assert_eq!(
            cli.service_records().await.unwrap()[0]
                .pinned_tag
                .as_deref(),
            Some("1.1.0")
        );
        assert_eq!(
            serve.service_records().await.unwrap()[0]
                .pinned_tag
                .as_deref(),
            Some("1.1.0")
        );

        sqlx::query("DELETE FROM services")
            .execute(&cli.pool)
            .await
            .unwrap();
        assert!(serve.list_services().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn services_round_trip_in_order_and_keep_their_state() {
        let (_folder, url) = temp_database();
        let store = Store::open(&url).await.unwrap();
        assert!(store.list_services().await.unwrap().is_empty());
        let mut ids = Vec::new();
        for (project, name) in [("shop", "web"), ("blog", "app"), ("shop", "api")] {
            ids.push(
                store
                    .upsert_service(&NewService {
                        project: project.into(),
                        name: name.into(),
                        image: format!("127.0.0.1:5000/{name}"),
                        current_tag: Some("1.0.0".into()),
                        source: "config".into(),
                        ..NewService::default()
                    })
                    .await
                    .unwrap(),
            );
        }
        let names: Vec<_> = store
            .list_services()
            .await
            .unwrap()
            .into_iter()
            .map(|s| format!("{}/{}", s.project, s.name))
            .collect();
        assert_eq!(names, ["blog/app", "shop/api", "shop/web"]);

        // Discovery running again does not reset what the engine recorded.
        store
            .set_state(ids[0], SyncState::Failed, Some("pull failed"))
            .await
            .unwrap();
        store
            .upsert_service(&NewService {
                project: "shop".into(),
                name: "web".into(),
                image: "127.0.0.1:5000/web".into(),
                ..NewService::default()
            })
            .await
            .unwrap();
        let web = store.service(ids[0]).await.unwrap().unwrap();
        assert_eq!(web.state, SyncState::Failed);
        assert_eq!(web.detail.as_deref(), Some("pull failed"));

        // Re-opening the same file applies no migration twice and keeps the data.
        store.close().await;
        let reopened = Store::open(&url).await.unwrap();
        assert_eq!(reopened.list_services().await.unwrap().len(), 3);
    }

    #[tokio::test]
    async fn a_cycle_is_upserted_and_recorded_in_batches_that_match_one_by_one() {
        let (_folder, url) = temp_database();
        let store = Store::open(&url).await.unwrap();
        let service = |name: &str| NewService {
            project: "shop".into(),
            name: name.into(),
            image: format!("127.0.0.1:5000/{name}"),
            current_tag: Some("1.0.0".into()),
            source: "config".into(),
            ..NewService::default()
        };
        let existing = store.upsert_service(&service("web")).await.unwrap();
        let ids = store
            .upsert_services(&[service("api"), service("web"), service("db")])
            .await
            .unwrap();
        assert_eq!(ids.len(), 3);
        assert_eq!(ids[1], existing, "an upsert keeps a known service's id");
        assert_eq!(store.service_records().await.unwrap().len(), 3);

        store
            .ignore_tag(ids[0], "2.0.0", "rolled back", "test", Utc::now())
            .await
            .unwrap();
        store
            .ignore_tag(ids[0], "1.9.0", "rolled back", "test", Utc::now())
            .await
            .unwrap();
        let ignored = store.ignored_tags_by_service().await.unwrap();
        assert_eq!(
            ignored.get(&ids[0]).map(Vec::as_slice),
            Some(&["1.9.0".to_owned(), "2.0.0".to_owned()][..])
        );
        assert_eq!(ignored.get(&ids[1]), None);

        let at = Utc::now();
        let check = |id, state, best_candidate| CheckRecord {
            id,
            state,
            best_candidate,
            explanation: Some("{}"),
            detail: None,
            at,
        };
        store
            .record_checks(&[
                check(ids[0], SyncState::UpdateAvailable, Some("1.1.0")),
                check(ids[2], SyncState::Synced, None),
            ])
            .await
            .unwrap();
        let api = store.service(ids[0]).await.unwrap().unwrap();
        assert_eq!(
            (api.state, api.best_candidate.as_deref()),
            (SyncState::UpdateAvailable, Some("1.1.0"))
        );
        assert!(api.last_checked_at.is_some());
        let web = store.service(ids[1]).await.unwrap().unwrap();
        assert_eq!(
            web.last_checked_at, None,
            "a service not in the batch is untouched"
        );
    }
}
