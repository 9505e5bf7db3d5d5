//! The `revisions` table: one row per deploy or rollback, opened before anything is
//! touched and closed with a verdict, so an open row after a crash says a deploy was cut off.

pub use app::model::Verdict;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Row};

use super::{Store, StoreError, query_error};

/// A revision as it starts.
#[derive(Debug, Clone)]
pub struct NewRevision<'a> {
    pub service_id: i64,
    /// `deploy` or `rollback`.
    pub kind: &'a str,
    pub tag: &'a str,
    pub previous_tag: Option<&'a str>,
    pub index_digest: Option<&'a str>,
    pub pushed_at: Option<DateTime<Utc>>,
    pub actor: &'a str,
    pub started_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revision {
    pub id: i64,
    pub service_id: i64,
    pub kind: String,
    pub tag: String,
    pub previous_tag: Option<String>,
    pub index_digest: Option<String>,
    pub platform_digest: Option<String>,
    pub pushed_at: Option<DateTime<Utc>>,
    pub compose_edit: Option<String>,
    pub compose_diff: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub verdict: VerdictText,
    pub reason: Option<String>,
    pub log: String,
    pub actor: String,
}

// By hand, not derived: the derive is in sqlx's macro crate (migrations.rs says why not).
impl<'r> FromRow<'r, SqliteRow> for Revision {
    fn from_row(row: &'r SqliteRow) -> Result<Self, sqlx::Error> {
        let verdict: String = row.try_get("verdict")?;
        Ok(Revision {
            id: row.try_get("id")?,
            service_id: row.try_get("service_id")?,
            kind: row.try_get("kind")?,
            tag: row.try_get("tag")?,
            previous_tag: row.try_get("previous_tag")?,
            index_digest: row.try_get("index_digest")?,
            platform_digest: row.try_get("platform_digest")?,
            pushed_at: row.try_get("pushed_at")?,
            compose_edit: row.try_get("compose_edit")?,
            compose_diff: row.try_get("compose_diff")?,
            started_at: row.try_get("started_at")?,
            finished_at: row.try_get("finished_at")?,
            verdict: VerdictText::try_from(verdict).map_err(|source| {
                sqlx::Error::ColumnDecode {
                    index: "verdict".to_owned(),
                    source: Box::new(source),
                }
            })?,
            reason: row.try_get("reason")?,
            log: row.try_get("log")?,
            actor: row.try_get("actor")?,
        })
    }
}

/// The stored verdict, checked on read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct VerdictText(pub Verdict);

impl TryFrom<String> for VerdictText {
    type Error = StoreError;

    fn try_from(text: String) -> Result<Self, StoreError> {
        Verdict::parse(&text)
            .map(VerdictText)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown revision verdict {text:?}")))
    }
}

const COLUMNS: &str = "id, service_id, kind, tag, previous_tag, index_digest, platform_digest, pushed_at, \
     compose_edit, compose_diff, started_at, finished_at, verdict, reason, log, actor";

impl Store {
    pub async fn open_revision(&self, revision: &NewRevision<'_>) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO revisions (service_id, kind, tag, previous_tag, index_digest, pushed_at,
                 actor, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(revision.service_id)
        .bind(revision.kind)
        .bind(revision.tag)
        .bind(revision.previous_tag)
        .bind(revision.index_digest)
        .bind(revision.pushed_at)
        .bind(revision.actor)
        .bind(revision.started_at)
        .fetch_one(&self.pool)
        .await
        .map_err(query_error("open revision"))
    }

    /// Keep the planned compose edit with the revision before it is applied, so a restart
    /// after a crash can revert it.
    pub async fn record_edit(
        &self,
        id: i64,
        edit_json: &str,
        diff: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE revisions SET compose_edit = ?, compose_diff = ? WHERE id = ?")
            .bind(edit_json)
            .bind(diff)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(query_error("record compose edit"))?;
        Ok(())
    }

    pub async fn append_revision_log(&self, id: i64, text: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE revisions SET log = log || ? WHERE id = ?")
            .bind(text)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(query_error("append to deploy log"))?;
        Ok(())
    }

    pub async fn close_revision(
        &self,
        id: i64,
        verdict: Verdict,
        reason: Option<&str>,
        platform_digest: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE revisions SET verdict = ?, reason = ?, platform_digest = COALESCE(?, platform_digest),
                 finished_at = ? WHERE id = ?",
        )
        .bind(verdict.as_str())
        .bind(reason)
        .bind(platform_digest)
        .bind(at)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(query_error("close revision"))?;
        Ok(())
    }

    /// A service's revisions, newest first.
    pub async fn revisions(&self, service_id: i64) -> Result<Vec<Revision>, StoreError> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM revisions WHERE service_id = ? ORDER BY id DESC"
        ))
        .bind(service_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("list revisions"))
    }

    /// Revisions that were opened and never closed: deploys a crash cut off.
    pub async fn open_revisions(&self) -> Result<Vec<Revision>, StoreError> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM revisions WHERE verdict = 'in_progress' ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("list open revisions"))
    }

    /// The newest verified revision of a service, other than `except_id`.
    pub async fn last_verified_revision(
        &self,
        service_id: i64,
        except_id: i64,
    ) -> Result<Option<Revision>, StoreError> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM revisions WHERE service_id = ? AND verdict = 'verified' AND id != ?
             ORDER BY id DESC LIMIT 1"
        ))
        .bind(service_id)
        .bind(except_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("find last verified revision"))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::store::{NewService, temp_database};

    async fn store_with_service() -> (tempfile::TempDir, Store, i64) {
        let (folder, url) = temp_database();
        let store = Store::open(&url).await.unwrap();
        let service = store
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
        (folder, store, service)
    }

    #[tokio::test]
    async fn a_revision_reads_back_every_field_it_was_written_with() {
        let (_folder, store, service) = store_with_service().await;
        let started = Utc.with_ymd_and_hms(2026, 11, 23, 5, 0, 0).unwrap();
        let pushed = Utc.with_ymd_and_hms(2026, 11, 22, 12, 30, 0).unwrap();
        let id = store
            .open_revision(&NewRevision {
                service_id: service,
                kind: "deploy",
                tag: "1.1.0",
                previous_tag: Some("1.0.0"),
                index_digest: Some("sha256:aa"),
                pushed_at: Some(pushed),
                actor: "engine",
                started_at: started,
            })
            .await
            .unwrap();
        store.record_edit(id, "{}", "-1.0.0\n+1.1.0").await.unwrap();
        store.append_revision_log(id, "pulled\n").await.unwrap();
        let finished = started + chrono::Duration::seconds(42);
        store
            .close_revision(id, Verdict::Verified, None, Some("sha256:bb"), finished)
            .await
            .unwrap();

        let revisions = store.revisions(service).await.unwrap();
        assert_eq!(
            revisions,
            [Revision {
                id,
                service_id: service,
                kind: "deploy".into(),
                tag: "1.1.0".into(),
                previous_tag: Some("1.0.0".into()),
                index_digest: Some("sha256:aa".into()),
                platform_digest: Some("sha256:bb".into()),
                pushed_at: Some(pushed),
                compose_edit: Some("{}".into()),
                compose_diff: "-1.0.0\n+1.1.0".into(),
                started_at: started,
                finished_at: Some(finished),
                verdict: VerdictText(Verdict::Verified),
                reason: None,
                log: "pulled\n".into(),
                actor: "engine".into(),
            }]
        );
    }

    #[tokio::test]
    async fn a_verdict_berth_does_not_know_is_an_error_that_names_it() {
        let (_folder, store, service) = store_with_service().await;
        let id = store
            .open_revision(&NewRevision {
                service_id: service,
                kind: "deploy",
                tag: "1.1.0",
                previous_tag: None,
                index_digest: None,
                pushed_at: None,
                actor: "engine",
                started_at: Utc::now(),
            })
            .await
            .unwrap();
        sqlx::query("UPDATE revisions SET verdict = 'exploded' WHERE id = ?")
            .bind(id)
            .execute(&store.pool)
            .await
            .unwrap();

        let error = store.revisions(service).await.unwrap_err();
        let chain = crate::engine::error_chain(&error);
        assert!(
            chain.contains("column verdict")
                && chain.contains("unknown revision verdict \"exploded\""),
            "{chain}"
        );
    }
}
