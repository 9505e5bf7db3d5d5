//! The `events` table: an audit log of what people (and Berth) did to a service.

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Row};

use super::{Store, StoreError, query_error};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub service_id: Option<i64>,
    pub kind: String,
    pub actor: String,
    pub detail: String,
}

// By hand, not derived: the derive is in sqlx's macro crate (migrations.rs says why not).
impl<'r> FromRow<'r, SqliteRow> for AuditEntry {
    fn from_row(row: &'r SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(AuditEntry {
            id: row.try_get("id")?,
            at: row.try_get("at")?,
            service_id: row.try_get("service_id")?,
            kind: row.try_get("kind")?,
            actor: row.try_get("actor")?,
            detail: row.try_get("detail")?,
        })
    }
}

impl Store {
    pub async fn audit(
        &self,
        service_id: Option<i64>,
        kind: &str,
        actor: &str,
        detail: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO events (at, service_id, kind, actor, detail) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(at)
        .bind(service_id)
        .bind(kind)
        .bind(actor)
        .bind(detail.to_string())
        .execute(&self.pool)
        .await
        .map_err(query_error("append to the event log"))?;
        Ok(())
    }

    /// A service's audit log, newest first.
    pub async fn audit_log(&self, service_id: i64) -> Result<Vec<AuditEntry>, StoreError> {
        sqlx::query_as(
            "SELECT id, at, service_id, kind, actor, detail FROM events WHERE service_id = ? ORDER BY id DESC",
        )
        .bind(service_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("read the event log"))
    }

    pub async fn set_pin(&self, service_id: i64, tag: Option<&str>) -> Result<(), StoreError> {
        sqlx::query("UPDATE services SET pinned_tag = ? WHERE id = ?")
            .bind(tag)
            .bind(service_id)
            .execute(&self.pool)
            .await
            .map_err(query_error("set pin"))?;
        Ok(())
    }

    pub async fn set_excluded(&self, service_id: i64, excluded: bool) -> Result<(), StoreError> {
        sqlx::query("UPDATE services SET excluded = ? WHERE id = ?")
            .bind(excluded)
            .bind(service_id)
            .execute(&self.pool)
            .await
            .map_err(query_error("set exclusion"))?;
        Ok(())
    }
}
