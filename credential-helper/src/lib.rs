//! `berth-credential-helper`: the credential exchanges of the cloud registries, as a program
//! of its own. The daemon runs it when a credential is due (every few hours per registry),
//! so the cloud SDKs (aws-sdk-ecr, azure_identity, gcp_auth) are neither compiled into nor
//! mapped by the long-running `berth` process.
//!
//! The protocol is Docker's credential-helper protocol, with two additions:
//!
//! - `berth-credential-helper <ecr|acr|gcp> get`: the registry host on stdin; on stdout
//!   `{"ServerURL", "Username", "Secret"}` as Docker's helpers print it (`Username` `<token>`
//!   makes `Secret` an identity token, as for ACR), plus `ExpiresAt` (RFC 3339), so the
//!   daemon knows when to run it again.
//! - `berth-credential-helper ecr push-times`: `{"ServerURL", "Repository"}` on stdin;
//!   `{"Tags": {"<tag>": "<RFC 3339 push time>"}}` on stdout.
//!
//! Configuration comes from the environment, under the keys of Berth's env file
//! (`AWS_REGION`, `AZURE_TENANT_ID`, `GCP_SERVICE_ACCOUNT_JSON`, …): the daemon passes its
//! env file's keys on. On failure the program exits non-zero with the reason on stderr;
//! secrets are never printed there.

pub mod acr;
pub mod ecr;
pub mod gcp;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The user name that marks `Secret` as an identity (refresh) token, as in Docker's protocol.
pub const IDENTITY_TOKEN_USER: &str = "<token>";

/// The answer to `get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    #[serde(rename = "ServerURL")]
    pub server_url: String,
    #[serde(rename = "Username")]
    pub username: String,
    #[serde(rename = "Secret")]
    pub secret: String,
    /// When the credential stops working; the daemon runs the helper again before then.
    #[serde(rename = "ExpiresAt")]
    pub expires_at: DateTime<Utc>,
}

/// What `push-times` reads on stdin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushTimesQuery {
    #[serde(rename = "ServerURL")]
    pub server_url: String,
    #[serde(rename = "Repository")]
    pub repository: String,
}

/// The answer to `push-times`: when each tag of the repository was pushed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PushTimes {
    #[serde(rename = "Tags")]
    pub tags: BTreeMap<String, DateTime<Utc>>,
}

/// `https://host:port/path` or `host/path`, as a server URL may come on stdin → `host:port`.
pub fn registry_host(server_url: &str) -> &str {
    let text = server_url.trim();
    let text = text.split_once("://").map_or(text, |(_, rest)| rest);
    text.split('/').next().unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_url_in_any_form_names_its_host() {
        for form in [
            "123.dkr.ecr.eu-west-1.amazonaws.com",
            "https://123.dkr.ecr.eu-west-1.amazonaws.com",
            "https://123.dkr.ecr.eu-west-1.amazonaws.com/v2/\n",
        ] {
            assert_eq!(registry_host(form), "123.dkr.ecr.eu-west-1.amazonaws.com");
        }
    }

    #[test]
    fn a_login_prints_as_dockers_helpers_print_theirs() {
        let login = Login {
            server_url: "r.example".into(),
            username: "AWS".into(),
            secret: "pw".into(),
            expires_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        };
        assert_eq!(
            serde_json::to_string(&login).unwrap(),
            r#"{"ServerURL":"r.example","Username":"AWS","Secret":"pw","ExpiresAt":"2023-11-14T22:13:20Z"}"#
        );
    }

    #[test]
    fn push_times_print_as_the_daemon_reads_them() {
        let mut times = PushTimes::default();
        times.tags.insert(
            "1.0".into(),
            DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        );
        // server/src/registry/auth/cloud_helper.rs reads this form (its tests use it too).
        assert_eq!(
            serde_json::to_string(&times).unwrap(),
            r#"{"Tags":{"1.0":"2023-11-14T22:13:20Z"}}"#
        );
        let query: PushTimesQuery =
            serde_json::from_str(r#"{"ServerURL":"r.example","Repository":"team/app"}"#).unwrap();
        assert_eq!(query.repository, "team/app");
    }
}
