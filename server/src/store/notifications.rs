//! The `notifications_sent` table: which notification each channel was given, so the same
//! event for the same service and version is sent once, across cycles and restarts.

use chrono::{DateTime, Utc};

use super::{Store, StoreError, query_error};

impl Store {
    /// Claim `key` (channel, kind, subject, version) for sending: `true` when it was not sent (nor claimed) before. The claim
    /// is one atomic insert, so two notifiers on one database cannot both send it.
    pub async fn claim_notification(
        &self,
        key: [&str; 4],
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT OR IGNORE INTO notifications_sent (channel, kind, subject, version, sent_at)
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(key[0])
        .bind(key[1])
        .bind(key[2])
        .bind(key[3])
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(query_error("claim notification"))?;
        Ok(inserted.rows_affected() == 1)
    }

    /// Give a claim back after every attempt to send failed, so the event may be sent when
    /// it happens again.
    pub async fn release_notification(&self, key: [&str; 4]) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM notifications_sent
             WHERE channel = ? AND kind = ? AND subject = ? AND version = ?",
        )
        .bind(key[0])
        .bind(key[1])
        .bind(key[2])
        .bind(key[3])
        .execute(&self.pool)
        .await
        .map_err(query_error("release notification"))?;
        Ok(())
    }
}
