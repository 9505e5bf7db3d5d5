//! The `users` and `sessions` tables. Only hashes are stored: argon2 PHC strings for
//! passwords, SHA-256 hex of the random session tokens (a stolen database holds no cookie).

use chrono::{DateTime, Utc};

use super::{Store, StoreError, query_error};

/// Where a user came from: the env file, or generated at first start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSource {
    Config,
    Generated,
}

impl UserSource {
    fn as_str(self) -> &'static str {
        match self {
            UserSource::Config => "config",
            UserSource::Generated => "generated",
        }
    }
}

impl Store {
    /// Make the configured users exactly `users` (email, argon2 hash): add and update them,
    /// and remove configured users that are no longer configured (their sessions go too).
    /// Once any user is configured, a generated first-start admin is removed as well.
    pub async fn replace_configured_users(
        &self,
        users: &[(String, String)],
    ) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(query_error("begin replacing users"))?;
        sqlx::query("DELETE FROM users")
            .execute(&mut *tx)
            .await
            .map_err(query_error("remove old users"))?;
        for (email, hash) in users {
            sqlx::query("INSERT INTO users (email, password_hash, source) VALUES (?, ?, ?)")
                .bind(email)
                .bind(hash)
                .bind(UserSource::Config.as_str())
                .execute(&mut *tx)
                .await
                .map_err(query_error("add a configured user"))?;
        }
        tx.commit()
            .await
            .map_err(query_error("commit replacing users"))
    }

    /// The email of the generated admin, if one exists.
    pub async fn generated_admin(&self) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT email FROM users WHERE source = ? LIMIT 1")
            .bind(UserSource::Generated.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("find the generated admin"))
    }

    /// Remove every configured user, keeping a generated admin (no user is configured now).
    pub async fn remove_configured_users(&self) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM users WHERE source = ?")
            .bind(UserSource::Config.as_str())
            .execute(&self.pool)
            .await
            .map_err(query_error("remove configured users"))?;
        Ok(())
    }

    pub async fn add_generated_admin(&self, email: &str, hash: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO users (email, password_hash, source) VALUES (?, ?, ?)")
            .bind(email)
            .bind(hash)
            .bind(UserSource::Generated.as_str())
            .execute(&self.pool)
            .await
            .map_err(query_error("add the generated admin"))?;
        Ok(())
    }

    /// Replace a user's stored hash, e.g. with one made with today's settings at login.
    pub async fn set_password_hash(&self, email: &str, hash: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET password_hash = ? WHERE email = ?")
            .bind(hash)
            .bind(email)
            .execute(&self.pool)
            .await
            .map_err(query_error("replace a password hash"))?;
        Ok(())
    }

    pub async fn password_hash(&self, email: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT password_hash FROM users WHERE email = ?")
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("read a password hash"))
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        email: &str,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, email, created_at, expires_at) VALUES (?, ?, ?, ?)",
        )
        .bind(token_hash)
        .bind(email)
        .bind(created_at)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(query_error("create a session"))?;
        Ok(())
    }

    /// The user of a session that has not expired at `now`.
    /// The user and expiry of a session open at `now`.
    pub async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        sqlx::query_as(
            "SELECT email, expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("look up a session"))
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(query_error("delete a session"))?;
        Ok(())
    }

    /// Forget sessions that expired before `now`.
    pub async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(query_error("delete expired sessions"))?;
        Ok(result.rows_affected())
    }
}
