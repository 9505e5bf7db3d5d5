//! The `ignored_tags` table: tags a service must not move to (after a rollback, a failed
//! deploy, or by hand), each with why and who.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{Store, StoreError, query_error};

impl Store {
    pub async fn ignore_tag(
        &self,
        service_id: i64,
        tag: &str,
        reason: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO ignored_tags (service_id, tag, reason, actor, created_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (service_id, tag) DO UPDATE SET reason = excluded.reason, actor = excluded.actor",
        )
        .bind(service_id)
        .bind(tag)
        .bind(reason)
        .bind(actor)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(query_error("ignore tag"))?;
        Ok(())
    }

    /// Returns whether the tag was ignored.
    pub async fn unignore_tag(&self, service_id: i64, tag: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM ignored_tags WHERE service_id = ? AND tag = ?")
            .bind(service_id)
            .bind(tag)
            .execute(&self.pool)
            .await
            .map_err(query_error("un-ignore tag"))?;
        Ok(result.rows_affected() > 0)
    }

    pub async fn ignored_tags(&self, service_id: i64) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar("SELECT tag FROM ignored_tags WHERE service_id = ? ORDER BY tag")
            .bind(service_id)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("list ignored tags"))
    }

    /// Every service's ignored tags in one query (a check cycle needs them all).
    pub async fn ignored_tags_by_service(&self) -> Result<HashMap<i64, Vec<String>>, StoreError> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT service_id, tag FROM ignored_tags ORDER BY service_id, tag")
                .fetch_all(&self.pool)
                .await
                .map_err(query_error("list ignored tags"))?;
        let mut by_service: HashMap<i64, Vec<String>> = HashMap::new();
        for (service_id, tag) in rows {
            by_service.entry(service_id).or_default().push(tag);
        }
        Ok(by_service)
    }
}
