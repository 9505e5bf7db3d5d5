//! Open sessions kept in memory, so a page view, a server function or an SSE connection
//! does not cost a database query. Sessions are only opened and closed by this process
//! ([`super::Auth::login`] and [`super::Auth::logout`]), which keep this in step; expiry is
//! checked on every use. Bounded: when full it is emptied, and the store answers again.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

const MAX_SESSIONS: usize = 1024;

#[derive(Debug, Default)]
pub struct OpenSessions {
    /// By token hash: the user's email and when the session expires.
    sessions: Mutex<HashMap<String, (String, DateTime<Utc>)>>,
}

impl OpenSessions {
    /// The session's user, if it is known here and open at `now`.
    pub fn user(&self, token_hash: &str, now: DateTime<Utc>) -> Option<String> {
        let mut sessions = self.lock();
        match sessions.get(token_hash) {
            Some((email, expires)) if *expires > now => Some(email.clone()),
            Some(_) => {
                sessions.remove(token_hash);
                None
            }
            None => None,
        }
    }

    pub fn opened(&self, token_hash: &str, email: &str, expires: DateTime<Utc>) {
        let mut sessions = self.lock();
        if sessions.len() >= MAX_SESSIONS {
            sessions.clear();
        }
        sessions.insert(token_hash.to_owned(), (email.to_owned(), expires));
    }

    pub fn closed(&self, token_hash: &str) {
        self.lock().remove(token_hash);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, DateTime<Utc>)>> {
        // Every write is one step, so a panic elsewhere leaves the map consistent.
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_known_until_it_expires_or_closes() {
        let sessions = OpenSessions::default();
        let now = Utc::now();
        sessions.opened("a", "ops@example.com", now + chrono::Duration::seconds(60));
        assert_eq!(sessions.user("a", now).as_deref(), Some("ops@example.com"));
        assert_eq!(
            sessions.user("a", now + chrono::Duration::seconds(61)),
            None
        );
        assert_eq!(
            sessions.user("a", now),
            None,
            "an expired session is forgotten"
        );

        sessions.opened("b", "ops@example.com", now + chrono::Duration::seconds(60));
        sessions.closed("b");
        assert_eq!(sessions.user("b", now), None);
    }
}
