//! Dashboard users, sessions and login.
//!
//! Users come from the configuration (hashed with argon2 as they load) or, with none
//! configured, are one generated admin. A login creates a random session token: the browser
//! keeps it in an HttpOnly, SameSite=Strict cookie, the store keeps only its SHA-256.
//! Every page and server function but the login page requires a session ([`web`]).

mod open_sessions;
mod throttle;
mod users;
pub mod web;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::config::Config;
use crate::store::{Store, StoreError};

pub use users::GENERATED_ADMIN;

/// The cookie that carries the session token.
pub const SESSION_COOKIE: &str = "berth_session";
const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{key}: {reason}")]
    ConfigureUser { key: String, reason: String },
    #[error("SESSION_TTL: {0}")]
    ConfigureSessionTtl(String),
    #[error("hashing a password failed: {0}")]
    HashPassword(String),
    #[error("storing the users failed")]
    StoreUsers(#[source] StoreError),
    #[error("the session store failed")]
    StoreSession(#[source] StoreError),
}

/// Why a login was refused.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("wrong email or password")]
    WrongCredentials,
    #[error("too many failed logins from this address; try again in {} s", .0.as_secs().max(1))]
    Throttled(Duration),
    #[error(transparent)]
    Auth(#[from] AuthError),
}

#[derive(Clone)]
pub struct Auth {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    session_ttl: Duration,
    /// Set the cookie's `Secure` flag even without `X-Forwarded-Proto: https`.
    secure_cookies: bool,
    throttle: throttle::Throttle,
    sessions: open_sessions::OpenSessions,
}

impl Auth {
    /// Load the users into the store; with none configured, make sure a generated admin
    /// exists and log its password the one time it is created.
    pub async fn start(
        config: &Config,
        store: Store,
        clock: Arc<dyn Clock>,
    ) -> Result<Auth, AuthError> {
        if let Some(password) = users::load(config, &store).await? {
            tracing::warn!(
                email = GENERATED_ADMIN,
                "no dashboard user is configured, so Berth created one. Its password is printed \
                 this once and stored only as a hash: {password}  (set AUTH_USERS or \
                 ADMIN_EMAIL/ADMIN_PASSWORD in the env file to choose your own)"
            );
        }
        let session_ttl = match config.get("SESSION_TTL") {
            None => DEFAULT_SESSION_TTL,
            Some(text) => crate::config::duration::parse(text)
                .map_err(|error| AuthError::ConfigureSessionTtl(error.to_string()))?,
        };
        let secure_cookies = config.get("SECURE_COOKIES").map(str::trim) == Some("true")
            || config
                .get("PUBLIC_URL")
                .is_some_and(|url| url.starts_with("https://"));
        Ok(Auth::new(store, clock, session_ttl, secure_cookies))
    }

    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        session_ttl: Duration,
        secure_cookies: bool,
    ) -> Auth {
        Auth {
            inner: Arc::new(Inner {
                store,
                clock,
                session_ttl,
                secure_cookies,
                throttle: throttle::Throttle::default(),
                sessions: open_sessions::OpenSessions::default(),
            }),
        }
    }

    /// Check the password and open a session; returns the token for the cookie.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        from: IpAddr,
    ) -> Result<String, LoginError> {
        let now = self.inner.clock.now();
        self.inner
            .throttle
            .admit(from, now)
            .map_err(LoginError::Throttled)?;
        let email = email.trim().to_ascii_lowercase();
        let stored = self
            .inner
            .store
            .password_hash(&email)
            .await
            .map_err(AuthError::StoreSession)?;
        let password = password.to_owned();
        // An unknown email costs a hash check too, so timing does not tell who exists. A
        // match on a hash made with older settings gets a fresh one to store.
        let checked = tokio::task::spawn_blocking(move || match stored {
            Some(hash) if users::verify(&password, &hash) => Some(
                users::outdated(&hash)
                    .then(|| users::hash(&password).ok())
                    .flatten(),
            ),
            Some(_) => None,
            None => {
                let _same_cost = users::verify(&password, DUMMY_HASH);
                None
            }
        })
        .await
        .unwrap_or(None);
        let Some(rehashed) = checked else {
            self.inner.throttle.failed(from, now);
            tracing::warn!(%email, %from, "failed dashboard login");
            return Err(LoginError::WrongCredentials);
        };
        self.inner.throttle.succeeded(from);
        if let Some(rehashed) = rehashed {
            self.inner
                .store
                .set_password_hash(&email, &rehashed)
                .await
                .map_err(AuthError::StoreSession)?;
        }
        let token = random_token();
        let expires = now + chrono::Duration::from_std(self.inner.session_ttl).unwrap_or_default();
        let hash = token_hash(&token);
        self.inner
            .store
            .create_session(&hash, &email, now, expires)
            .await
            .map_err(AuthError::StoreSession)?;
        self.inner.sessions.opened(&hash, &email, expires);
        tracing::info!(%email, %from, "dashboard login");
        Ok(token)
    }

    /// The user a session token belongs to, if the session is open.
    pub async fn user(&self, token: &str) -> Result<Option<String>, AuthError> {
        let hash = token_hash(token);
        let now = self.inner.clock.now();
        if let Some(email) = self.inner.sessions.user(&hash, now) {
            return Ok(Some(email));
        }
        // Sessions opened before a restart are only in the store.
        let session = self
            .inner
            .store
            .session_user(&hash, now)
            .await
            .map_err(AuthError::StoreSession)?;
        if let Some((email, expires)) = &session {
            self.inner.sessions.opened(&hash, email, *expires);
        }
        Ok(session.map(|(email, _)| email))
    }

    pub async fn logout(&self, token: &str) -> Result<(), AuthError> {
        let hash = token_hash(token);
        self.inner.sessions.closed(&hash);
        let store = &self.inner.store;
        store
            .delete_session(&hash)
            .await
            .map_err(AuthError::StoreSession)?;
        store
            .delete_expired_sessions(self.inner.clock.now())
            .await
            .map_err(AuthError::StoreSession)?;
        Ok(())
    }

    /// `Set-Cookie` for a new session.
    pub fn session_cookie(&self, token: &str, https: bool) -> String {
        format!(
            "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
            self.inner.session_ttl.as_secs(),
            self.secure_flag(https)
        )
    }

    /// `Set-Cookie` that removes the session cookie.
    pub fn cleared_cookie(&self, https: bool) -> String {
        format!(
            "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
            self.secure_flag(https)
        )
    }

    fn secure_flag(&self, https: bool) -> &'static str {
        if https || self.inner.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    }
}

/// A valid argon2 hash of a random string, for the equal-cost check of unknown emails.
const DUMMY_HASH: &str = "$argon2id$v=19$m=47104,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$ppqsMrKi+bHI31K9LC9dwiZyIunzRLe5Wejp3ENb2A0";

/// 32 random bytes, base64url: unguessable, and safe in a cookie.
fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use argon2::password_hash::{PasswordHasher, SaltString};

    #[test]
    fn the_unknown_email_check_costs_what_a_real_one_does() {
        assert!(!users::outdated(DUMMY_HASH));
    }

    #[tokio::test]
    async fn a_login_replaces_a_hash_made_with_older_settings() {
        let (_folder, url) = crate::store::temp_database();
        let store = Store::open(&url).await.unwrap();
        // What an earlier Berth stored: the argon2 crate's defaults (19 MiB, two passes).
        let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
        let older = argon2::Argon2::default()
            .hash_password(b"old password", &salt)
            .unwrap()
            .to_string();
        store
            .add_generated_admin(GENERATED_ADMIN, &older)
            .await
            .unwrap();
        let auth = Auth::new(
            store.clone(),
            Arc::new(SystemClock),
            DEFAULT_SESSION_TTL,
            false,
        );
        let from = IpAddr::from([127, 0, 0, 1]);

        auth.login(GENERATED_ADMIN, "old password", from)
            .await
            .unwrap();
        let stored = store.password_hash(GENERATED_ADMIN).await.unwrap().unwrap();
        assert_ne!(stored, older);
        assert!(!users::outdated(&stored), "{stored}");
        auth.login(GENERATED_ADMIN, "old password", from)
            .await
            .expect("the fresh hash verifies the same password");
        assert!(matches!(
            auth.login(GENERATED_ADMIN, "wrong", from).await,
            Err(LoginError::WrongCredentials)
        ));
    }
}
