//! What Berth asked each registry and what came back: requests by kind and status, bytes
//! received, and the last error, for `/metrics`, the API, the dashboard and the benchmark.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// The kinds of request Berth sends to a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A bearer token from the registry's auth realm.
    Token,
    ManifestHead,
    ManifestGet,
    TagList,
    Blob,
    /// A vendor's own API (Docker Hub, Harbor, ECR, …), e.g. for push times.
    VendorApi,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Token => "token",
            RequestKind::ManifestHead => "manifest_head",
            RequestKind::ManifestGet => "manifest_get",
            RequestKind::TagList => "tag_list",
            RequestKind::Blob => "blob",
            RequestKind::VendorApi => "vendor_api",
        }
    }
}

/// How many requests of one kind got one HTTP status (0: no response at all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestCount {
    pub kind: RequestKind,
    pub status: u16,
    pub count: u64,
}

/// A registry's traffic and health as seen from Berth.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegistryStats {
    /// Whether the last authentication succeeded; `None` before the first one.
    pub auth_ok: Option<bool>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub requests: Vec<RequestCount>,
    pub bytes_received: u64,
}

impl RegistryStats {
    /// Requests of `kind`, whatever their status.
    pub fn count(&self, kind: RequestKind) -> u64 {
        self.requests
            .iter()
            .filter(|count| count.kind == kind)
            .map(|count| count.count)
            .sum()
    }

    /// Every request sent, of any kind and status.
    pub fn total(&self) -> u64 {
        self.requests.iter().map(|count| count.count).sum()
    }
}

/// Where one registry's [`RegistryStats`] are gathered while Berth runs. It lives with the
/// registry's rate-limit gate, so the counts survive a configuration re-read as the limits do.
#[derive(Debug, Default)]
pub struct StatsRecorder {
    state: Mutex<Tally>,
}

#[derive(Debug, Default)]
struct Tally {
    auth_ok: Option<bool>,
    last_error: Option<String>,
    last_error_at: Option<DateTime<Utc>>,
    requests: BTreeMap<(RequestKind, u16), u64>,
    bytes_received: u64,
}

impl StatsRecorder {
    fn lock(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One request sent; `status` is `None` when no answer came (refused, timed out).
    pub fn request(&self, kind: RequestKind, status: Option<u16>) {
        *self
            .lock()
            .requests
            .entry((kind, status.unwrap_or(0)))
            .or_default() += 1;
    }

    /// Body bytes read from an answer.
    pub fn received(&self, bytes: u64) {
        let mut tally = self.lock();
        tally.bytes_received = tally.bytes_received.saturating_add(bytes);
    }

    /// The outcome of answering an auth challenge (or of fetching credentials).
    pub fn authenticated(&self, ok: bool) {
        self.lock().auth_ok = Some(ok);
    }

    /// A failed operation. The text must hold no secret: registry errors never do (their
    /// credentials are `Secret`s and their URLs carry none).
    pub fn failed(&self, message: String) {
        let mut tally = self.lock();
        tally.last_error = Some(message);
        tally.last_error_at = Some(Utc::now());
    }

    pub fn snapshot(&self) -> RegistryStats {
        let tally = self.lock();
        RegistryStats {
            auth_ok: tally.auth_ok,
            last_error: tally.last_error.clone(),
            last_error_at: tally.last_error_at,
            requests: tally
                .requests
                .iter()
                .map(|(&(kind, status), &count)| RequestCount {
                    kind,
                    status,
                    count,
                })
                .collect(),
            bytes_received: tally.bytes_received,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_kind_and_status() {
        let recorder = StatsRecorder::default();
        recorder.request(RequestKind::ManifestHead, Some(200));
        recorder.request(RequestKind::ManifestHead, Some(200));
        recorder.request(RequestKind::ManifestHead, Some(404));
        recorder.request(RequestKind::Token, None);
        recorder.received(10);
        recorder.received(5);
        let stats = recorder.snapshot();
        assert_eq!(
            stats.requests,
            vec![
                RequestCount {
                    kind: RequestKind::Token,
                    status: 0,
                    count: 1
                },
                RequestCount {
                    kind: RequestKind::ManifestHead,
                    status: 200,
                    count: 2
                },
                RequestCount {
                    kind: RequestKind::ManifestHead,
                    status: 404,
                    count: 1
                },
            ]
        );
        assert_eq!(stats.count(RequestKind::ManifestHead), 3);
        assert_eq!(stats.total(), 4);
        assert_eq!(stats.bytes_received, 15);
        assert_eq!(stats.auth_ok, None);
        assert_eq!(stats.last_error, None);
    }

    #[test]
    fn the_last_auth_outcome_and_error_are_kept() {
        let recorder = StatsRecorder::default();
        recorder.authenticated(false);
        recorder.authenticated(true);
        recorder.failed("first".into());
        recorder.failed("second".into());
        let stats = recorder.snapshot();
        assert_eq!(stats.auth_ok, Some(true));
        assert_eq!(stats.last_error.as_deref(), Some("second"));
        assert!(stats.last_error_at.is_some());
    }
}
