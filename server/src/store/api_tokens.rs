//! The `api_tokens` table: bearer tokens for the REST API, kept as the SHA-256 of the token.
//!
//! A token is 32 random bytes, so its hash is as good as a password hash for lookup: nobody
//! can guess a pre-image, and finding the row by hash compares no secret byte by byte.

use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Row};

use super::{Store, StoreError, query_error};
// The token types live with the API that checks them; the store only keeps rows.
use crate::api::token::{ApiToken, CreatedToken, TokenScope};

struct TokenRow {
    id: i64,
    name: String,
    scope: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

// By hand, not derived: the derive is in sqlx's macro crate (migrations.rs says why not).
impl<'r> FromRow<'r, SqliteRow> for TokenRow {
    fn from_row(row: &'r SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(TokenRow {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            scope: row.try_get("scope")?,
            created_at: row.try_get("created_at")?,
            last_used_at: row.try_get("last_used_at")?,
            revoked_at: row.try_get("revoked_at")?,
        })
    }
}

impl TryFrom<TokenRow> for ApiToken {
    type Error = StoreError;

    fn try_from(row: TokenRow) -> Result<Self, StoreError> {
        let scope = TokenScope::parse(&row.scope).ok_or_else(|| {
            StoreError::Corrupt(format!("API token {} has scope {:?}", row.id, row.scope))
        })?;
        Ok(ApiToken {
            id: row.id,
            name: row.name,
            scope,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        })
    }
}

const COLUMNS: &str = "id, name, scope, created_at, last_used_at, revoked_at";
/// Tokens start with this, so a leaked one is recognisable in a scanner or a log.
const PREFIX: &str = "berth_";

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl Store {
    /// Create a token named `name`. A name is unique among all tokens, revoked ones included,
    /// so the audit trail's `token:<name>` always means one token.
    pub async fn create_api_token(
        &self,
        name: &str,
        scope: TokenScope,
        now: DateTime<Utc>,
    ) -> Result<CreatedToken, StoreError> {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let secret = format!("{PREFIX}{}", hex::encode(bytes));
        let row: TokenRow = sqlx::query_as(&format!(
            "INSERT INTO api_tokens (name, token_sha256, scope, created_at) VALUES (?, ?, ?, ?) \
             RETURNING {COLUMNS}"
        ))
        .bind(name)
        .bind(hash(&secret))
        .bind(scope.as_str())
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(query_error("create API token"))?;
        Ok(CreatedToken {
            token: row.try_into()?,
            secret,
        })
    }

    /// Every token, oldest first.
    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let rows: Vec<TokenRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_tokens ORDER BY id"))
                .fetch_all(&self.pool)
                .await
                .map_err(query_error("list API tokens"))?;
        rows.into_iter().map(ApiToken::try_from).collect()
    }

    /// The live (not revoked) token whose secret is `secret`, marked as used `now`.
    pub async fn authenticate_api_token(
        &self,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiToken>, StoreError> {
        let row: Option<TokenRow> = sqlx::query_as(&format!(
            "UPDATE api_tokens SET last_used_at = ? \
             WHERE token_sha256 = ? AND revoked_at IS NULL RETURNING {COLUMNS}"
        ))
        .bind(now)
        .bind(hash(secret))
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("check API token"))?;
        row.map(ApiToken::try_from).transpose()
    }

    /// Revoke the token named `name_or_id` (its name, or the numeric id `berth token list`
    /// shows; a name wins over an id). Returns the token, or `None` if none matches; revoking
    /// twice keeps the first moment.
    pub async fn revoke_api_token(
        &self,
        name_or_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiToken>, StoreError> {
        let id: Option<i64> = name_or_id.parse().ok();
        let row: Option<TokenRow> = sqlx::query_as(&format!(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?1) \
             WHERE id = (SELECT id FROM api_tokens WHERE name = ?2 OR id = ?3 \
                         ORDER BY name = ?2 DESC LIMIT 1) \
             RETURNING {COLUMNS}"
        ))
        .bind(now)
        .bind(name_or_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("revoke API token"))?;
        row.map(ApiToken::try_from).transpose()
    }
}
