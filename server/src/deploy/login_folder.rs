//! Berth's registry login, handed to one compose run: a private docker config folder (mode
//! 0700, removed when the run is over) whose `config.json` holds the login to the one
//! registry that run pulls from, and nothing else. Compose is pointed at it with
//! `DOCKER_CONFIG`, so the host's own `~/.docker/config.json` is neither read nor changed.
//!
//! Docker looks for its CLI plugins (`docker compose` is one) under
//! `$DOCKER_CONFIG/cli-plugins` first: the folder links that name to the host's plugin
//! folder, so the compose plugin is found as before.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::json;

use crate::registry::reference::DOCKER_HUB;
use crate::registry::secret::TOKEN_USER;
use crate::registry::{Credentials, RegistryLogin};

/// Where docker keeps Docker Hub's login in `config.json`.
const DOCKER_HUB_SERVER: &str = "https://index.docker.io/v1/";

#[derive(Debug, thiserror::Error)]
pub enum LoginFolderError {
    #[error("cannot create a private docker config folder for the login to {registry}")]
    Create {
        registry: String,
        #[source]
        source: std::io::Error,
    },
}

/// The folder; removed when dropped.
#[derive(Debug)]
pub struct LoginFolder {
    dir: tempfile::TempDir,
}

impl LoginFolder {
    /// A folder holding `login`, its plugins folder linked to the one under `host_config`
    /// (the docker config folder docker would use without Berth).
    pub fn create(
        login: &RegistryLogin,
        host_config: &Path,
    ) -> Result<LoginFolder, LoginFolderError> {
        let error = |source| LoginFolderError::Create {
            registry: login.registry.clone(),
            source,
        };
        let dir = tempfile::Builder::new()
            .prefix("berth-login-")
            .permissions(fs::Permissions::from_mode(0o700))
            .tempdir()
            .map_err(error)?;
        let config = config_json(login).to_string();
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(dir.path().join("config.json"))
            .and_then(|mut file| file.write_all(config.as_bytes()))
            .map_err(error)?;
        let plugins = host_config.join("cli-plugins");
        if plugins.is_dir() {
            std::os::unix::fs::symlink(&plugins, dir.path().join("cli-plugins")).map_err(error)?;
        }
        Ok(LoginFolder { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The docker config folder docker uses when `DOCKER_CONFIG` is not set by Berth: the
/// process's own `DOCKER_CONFIG`, else `~/.docker`.
pub fn host_docker_config() -> PathBuf {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => std::env::var_os("HOME")
            .map_or_else(|| PathBuf::from("/root"), PathBuf::from)
            .join(".docker"),
    }
}

fn config_json(login: &RegistryLogin) -> serde_json::Value {
    let server = if login.registry == DOCKER_HUB {
        DOCKER_HUB_SERVER
    } else {
        login.registry.as_str()
    };
    let encode = |text: String| base64::engine::general_purpose::STANDARD.encode(text);
    let entry = match &login.credentials {
        Credentials::Anonymous => json!({}),
        Credentials::Basic { username, password } => {
            json!({ "auth": encode(format!("{username}:{}", password.expose())) })
        }
        Credentials::RefreshToken(token) => json!({
            "auth": encode(format!("{TOKEN_USER}:")),
            "identitytoken": token.expose(),
        }),
    };
    json!({ "auths": { server: entry } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Secret;

    #[test]
    fn the_folder_is_private_holds_the_one_login_and_finds_the_plugins() {
        let host = tempfile::tempdir().unwrap();
        fs::create_dir(host.path().join("cli-plugins")).unwrap();
        let login = RegistryLogin {
            registry: "127.0.0.1:5000".into(),
            credentials: Credentials::Basic {
                username: "robot".into(),
                password: Secret::new("s3cret"),
            },
        };
        let folder = LoginFolder::create(&login, host.path()).unwrap();
        let path = folder.path().to_owned();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let config_file = path.join("config.json");
        assert_eq!(
            fs::metadata(&config_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let config: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&config_file).unwrap()).unwrap();
        let auth = config["auths"]["127.0.0.1:5000"]["auth"].as_str().unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth)
            .unwrap();
        assert_eq!(decoded, b"robot:s3cret");
        assert_eq!(config["auths"].as_object().unwrap().len(), 1);
        assert!(path.join("cli-plugins").is_dir());

        drop(folder);
        assert!(!path.exists(), "removed after the run");
    }

    #[test]
    fn docker_hub_and_refresh_tokens_are_written_as_docker_does() {
        let login = RegistryLogin {
            registry: DOCKER_HUB.into(),
            credentials: Credentials::RefreshToken(Secret::new("refresh")),
        };
        let config = config_json(&login);
        let entry = &config["auths"][DOCKER_HUB_SERVER];
        assert_eq!(entry["identitytoken"], "refresh");
        assert_eq!(
            login.credentials.user_and_password(),
            Some((TOKEN_USER.to_owned(), "refresh".to_owned()))
        );
    }
}
