//! Credentials from docker's own `config.json`, found and used as the docker CLI does:
//! `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`; `credHelpers[host]`, then
//! `credsStore`, run as `docker-credential-<name> get` with the server URL on stdin; then
//! `auths[host]` (`auth` = base64 `user:password`, or `identitytoken`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine;
use serde::Deserialize;

use super::helper_process::{self, HelperAnswer};
use super::{AuthError, AuthProvider, VendorHttp};
use crate::registry::reference::DOCKER_HUB;
use crate::registry::secret::{Credentials, Secret};

/// The key docker uses for Docker Hub in `auths` and with helpers.
const DOCKER_HUB_SERVER: &str = "https://index.docker.io/v1/";

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
}

/// Docker's credentials for one registry host.
#[derive(Debug, Clone)]
pub struct DockerConfigCredentials {
    path: PathBuf,
    registry: String,
    /// The `PATH` helpers are looked up in (the configuration's, which is the process
    /// environment unless a test says otherwise).
    search_path: Option<String>,
}

impl DockerConfigCredentials {
    /// For `registry` (as in an image reference), from the config in `config_dir`
    /// (`DOCKER_CONFIG`), else `~/.docker`.
    pub fn new(registry: &str, config_dir: Option<&str>) -> DockerConfigCredentials {
        let dir = config_dir
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker")))
            .unwrap_or_else(|| PathBuf::from(".docker"));
        DockerConfigCredentials {
            path: dir.join("config.json"),
            registry: registry.to_owned(),
            search_path: None,
        }
    }

    /// Look helper programs up in `search_path` instead of the process's `PATH`.
    pub fn with_search_path(mut self, search_path: Option<&str>) -> DockerConfigCredentials {
        self.search_path = search_path.map(str::to_owned);
        self
    }

    fn read_error(&self, reason: impl ToString) -> AuthError {
        AuthError::ReadDockerConfig {
            path: self.path.display().to_string(),
            reason: reason.to_string(),
        }
    }

    async fn read_config(&self) -> Result<ConfigFile, AuthError> {
        match tokio::fs::read(&self.path).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| self.read_error(error)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile::default()),
            Err(error) => Err(self.read_error(error)),
        }
    }

    /// The server name docker stores and passes to helpers for this registry.
    fn server_name(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_SERVER
        } else {
            &self.registry
        }
    }
}

#[async_trait::async_trait]
impl AuthProvider for DockerConfigCredentials {
    fn name(&self) -> &'static str {
        "docker config"
    }

    fn is_host_login(&self) -> bool {
        true
    }

    async fn credentials(&self, _http: &VendorHttp) -> Result<Credentials, AuthError> {
        let config = self.read_config().await?;
        let helper = config
            .cred_helpers
            .get(self.server_name())
            .or(config.cred_helpers.get(&self.registry));
        if let Some(helper) = helper.or(config.creds_store.as_ref())
            && let Some(credentials) =
                run_helper(helper, self.server_name(), self.search_path.as_deref()).await?
        {
            return Ok(credentials);
        }
        let entry = config
            .auths
            .iter()
            .find(|(key, _)| normalise_server(key) == normalise_server(self.server_name()))
            .map(|(_, entry)| entry);
        match entry {
            Some(entry) => entry_credentials(entry).map_err(|reason| self.read_error(reason)),
            None => Ok(Credentials::Anonymous),
        }
    }
}

/// `https://host/v1/` and `host` name the same server.
fn normalise_server(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = key.split('/').next().unwrap_or(key);
    if host == "index.docker.io" || host == "registry-1.docker.io" {
        DOCKER_HUB
    } else {
        host
    }
}

fn entry_credentials(entry: &AuthEntry) -> Result<Credentials, String> {
    if let Some(token) = entry
        .identitytoken
        .as_deref()
        .filter(|token| !token.is_empty())
    {
        return Ok(Credentials::RefreshToken(Secret::new(token)));
    }
    if let Some(auth) = entry.auth.as_deref().filter(|auth| !auth.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| "an `auth` value is not base64".to_owned())?;
        let decoded =
            String::from_utf8(decoded).map_err(|_| "an `auth` value is not UTF-8".to_owned())?;
        let (username, password) = decoded
            .split_once(':')
            .ok_or_else(|| "an `auth` value is not user:password".to_owned())?;
        return Ok(Credentials::Basic {
            username: username.to_owned(),
            password: Secret::new(password),
        });
    }
    match (&entry.username, &entry.password) {
        (Some(username), Some(password)) => Ok(Credentials::Basic {
            username: username.clone(),
            password: Secret::new(password.as_str()),
        }),
        _ => Ok(Credentials::Anonymous),
    }
}

/// `docker-credential-<helper> get`, server URL on stdin. "credentials not found" is
/// `None` (anonymous), as docker treats it; any other failure is an error.
async fn run_helper(
    helper: &str,
    server: &str,
    search_path: Option<&str>,
) -> Result<Option<Credentials>, AuthError> {
    let fail = |reason: String| AuthError::RunCredentialHelper {
        helper: helper.to_owned(),
        reason,
    };
    let program = format!("docker-credential-{helper}");
    // On Unix a PATH set on the command is also where the program is looked up.
    let search_path = search_path.map(|path| ("PATH", path));
    let output = helper_process::run(program.as_ref(), &["get"], server.as_bytes(), search_path)
        .await
        .map_err(|error| fail(error.to_string()))?;
    if !output.status.success() {
        let said = helper_process::said(&output);
        if said.to_ascii_lowercase().contains("credentials not found") {
            return Ok(None);
        }
        return Err(fail(format!("{}: {said}", output.status)));
    }
    let answer: HelperAnswer = serde_json::from_slice(&output.stdout)
        .map_err(|error| fail(format!("answer is not helper JSON: {error}")))?;
    Ok(Some(answer.credentials()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auths_entries_decode_like_docker() {
        let entry = |json: &str| entry_credentials(&serde_json::from_str(json).unwrap());
        assert_eq!(
            entry(r#"{"auth":"dXNlcjpwYTpzcw=="}"#).unwrap(),
            Credentials::Basic {
                username: "user".into(),
                password: Secret::new("pa:ss")
            },
            "the password may hold a colon"
        );
        assert_eq!(
            entry(r#"{"identitytoken":"refresh"}"#).unwrap(),
            Credentials::RefreshToken(Secret::new("refresh"))
        );
        assert_eq!(entry(r#"{}"#).unwrap(), Credentials::Anonymous);
        assert!(entry(r#"{"auth":"not base64!"}"#).is_err());
        assert!(
            entry(r#"{"auth":"bm9jb2xvbg=="}"#).is_err(),
            "user:password is required"
        );
    }

    #[test]
    fn server_keys_name_the_same_registry_in_any_form() {
        assert_eq!(normalise_server("https://index.docker.io/v1/"), DOCKER_HUB);
        assert_eq!(
            normalise_server("registry.example:5000"),
            "registry.example:5000"
        );
        assert_eq!(
            normalise_server("https://registry.example:5000/v2/"),
            "registry.example:5000"
        );
        let hub = DockerConfigCredentials::new(DOCKER_HUB, Some("/nonexistent"));
        assert_eq!(hub.server_name(), "https://index.docker.io/v1/");
    }
}
