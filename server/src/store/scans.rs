//! The `scans` table: each Trivy scan with the revision it belongs to.

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Row};

use super::{Store, StoreError, query_error};
use crate::scan::ScanOutcome;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredScan {
    pub id: i64,
    pub service_id: i64,
    pub revision_id: Option<i64>,
    pub image: String,
    pub started_at: DateTime<Utc>,
    pub risk_score: i64,
    pub summary: String,
    pub outcome: String,
}

// By hand, not derived: the derive is in sqlx's macro crate (migrations.rs says why not).
impl<'r> FromRow<'r, SqliteRow> for StoredScan {
    fn from_row(row: &'r SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(StoredScan {
            id: row.try_get("id")?,
            service_id: row.try_get("service_id")?,
            revision_id: row.try_get("revision_id")?,
            image: row.try_get("image")?,
            started_at: row.try_get("started_at")?,
            risk_score: row.try_get("risk_score")?,
            summary: row.try_get("summary")?,
            outcome: row.try_get("outcome")?,
        })
    }
}

impl Store {
    pub async fn insert_scan(
        &self,
        service_id: i64,
        revision_id: Option<i64>,
        outcome: &ScanOutcome,
    ) -> Result<i64, StoreError> {
        let summary = to_json(&outcome.report.summary.counts)?;
        let full = to_json(outcome)?;
        sqlx::query_scalar(
            "INSERT INTO scans (service_id, revision_id, image, started_at, risk_score, summary, outcome)
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(service_id)
        .bind(revision_id)
        .bind(&outcome.target)
        .bind(outcome.started_at)
        .bind(i64::try_from(outcome.report.summary.risk_score).unwrap_or(i64::MAX))
        .bind(summary)
        .bind(full)
        .fetch_one(&self.pool)
        .await
        .map_err(query_error("store scan"))
    }

    /// The scans of one revision, newest first.
    pub async fn revision_scans(&self, revision_id: i64) -> Result<Vec<StoredScan>, StoreError> {
        sqlx::query_as(
            "SELECT id, service_id, revision_id, image, started_at, risk_score, summary, outcome
             FROM scans WHERE revision_id = ? ORDER BY id DESC",
        )
        .bind(revision_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("list scans"))
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::Corrupt(error.to_string()))
}
