//! What Berth asked each registry and what came back: requests by kind and status, bytes
//! received, and the last error, for `/metrics`, the API, the dashboard and the benchmark.

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
