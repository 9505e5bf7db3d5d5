//! Configuration: the process environment plus the env file (`.updater.env` by default),
//! with the environment winning, as with docker compose's `.env`. One struct per concern.
//! The env file is the original tool's format, so an existing file keeps working.

pub mod duration;
pub mod env_file;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The env file read when `--env-file` is not given: `.updater.env` in the working directory.
pub const DEFAULT_ENV_FILE: &str = ".updater.env";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    ReadEnvFile(#[from] env_file::EnvFileError),
    #[error("env file {0} does not exist (it was named with --env-file)")]
    MissingEnvFile(PathBuf),
    #[error("{key}={value:?}: {reason}")]
    InvalidValue {
        key: &'static str,
        value: String,
        reason: String,
    },
}

/// Everything Berth reads at start, split by the part of the program that uses it.
#[derive(Debug, Clone)]
pub struct Config {
    /// The env file this configuration came from (it may not exist).
    pub env_file: PathBuf,
    pub server: ServerConfig,
    pub engine: EngineConfig,
    /// Every key from the file and the environment, for the modules that read their own.
    values: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `LISTEN_ADDR`, default `127.0.0.1:8080`: localhost only unless asked otherwise.
    pub listen_addr: SocketAddr,
    /// `DATABASE_URL`, default `sqlite://<env file's folder>/berth.db`.
    pub database_url: String,
    /// `LEPTOS_SITE_ROOT`: the folder holding `pkg/` (the WASM, JS and CSS).
    pub site_root: PathBuf,
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// `CHECK_INTERVAL`, default 5 minutes.
    pub check_interval: Duration,
    /// `UPDATE_MODE`: deploy what a check finds (`auto`, the default) or only report it.
    pub update_mode: UpdateMode,
    /// `HEALTH_TIMEOUT`, default 60 s: how long a new container may take to become healthy.
    pub health_timeout: Duration,
    /// `HEALTH_STABLE`, default 10 s: how long it must then stay up without a restart.
    pub health_stable: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateMode {
    Auto,
    Notify,
}

impl UpdateMode {
    pub fn parse(text: &str) -> Result<UpdateMode, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(UpdateMode::Auto),
            "notify" => Ok(UpdateMode::Notify),
            _ => Err("expected auto or notify".to_owned()),
        }
    }
}

impl Config {
    /// Load from the process environment and the env file: `explicit_env_file` if given
    /// (it must exist), else `.updater.env` in the working directory (optional).
    pub fn load(explicit_env_file: Option<&Path>) -> Result<Config, ConfigError> {
        let env_file = explicit_env_file
            .map(Path::to_owned)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_ENV_FILE));
        let file_values = env_file::read(&env_file)?;
        if file_values.is_none() && explicit_env_file.is_some() {
            return Err(ConfigError::MissingEnvFile(env_file));
        }
        Config::from_sources(env_file, file_values.unwrap_or_default(), std::env::vars())
    }

    /// Build from already-read sources; the process environment wins over the file.
    pub fn from_sources(
        env_file: PathBuf,
        file_values: BTreeMap<String, String>,
        environment: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut values = file_values;
        values.extend(environment);
        let server = ServerConfig {
            listen_addr: parse_key(&values, "LISTEN_ADDR", "127.0.0.1:8080", |text| {
                text.parse::<SocketAddr>()
                    .map_err(|error| format!("{error}; expected HOST:PORT, e.g. 127.0.0.1:8080"))
            })?,
            database_url: values
                .get("DATABASE_URL")
                .cloned()
                .unwrap_or_else(|| default_database_url(&env_file)),
            site_root: values
                .get("LEPTOS_SITE_ROOT")
                .map(PathBuf::from)
                .unwrap_or_else(default_site_root),
        };
        let engine = EngineConfig {
            check_interval: parse_key(&values, "CHECK_INTERVAL", "300", parse_duration)?,
            update_mode: parse_key(&values, "UPDATE_MODE", "auto", UpdateMode::parse)?,
            health_timeout: parse_key(&values, "HEALTH_TIMEOUT", "60", parse_duration)?,
            health_stable: parse_key(&values, "HEALTH_STABLE", "10", parse_duration)?,
        };
        Ok(Config {
            env_file,
            server,
            engine,
            values,
        })
    }

    /// A raw key, for modules that read their own settings.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// A raw key whose empty value counts as unset: `KEY=` left in an env file from a
    /// template, for keys that choose a provider or a program.
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|value| !value.is_empty())
    }

    /// Every key that starts with `prefix`, with the rest of the key and its value
    /// (`COMPOSE_FILE_PATH_SHOP=…` under `COMPOSE_FILE_PATH_` gives `("SHOP", "…")`).
    pub fn with_prefix<'c>(
        &'c self,
        prefix: &'c str,
    ) -> impl Iterator<Item = (&'c str, &'c str)> + 'c {
        self.values
            .range(prefix.to_owned()..)
            .take_while(move |(key, _)| key.starts_with(prefix))
            .map(move |(key, value)| (&key[prefix.len()..], value.as_str()))
    }

    /// Every key, for `berth doctor`'s spelling check.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    duration::parse(text).map_err(|error| error.to_string())
}

fn parse_key<T>(
    values: &BTreeMap<String, String>,
    key: &'static str,
    default: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    let text = values.get(key).map(String::as_str).unwrap_or(default);
    parse(text).map_err(|reason| ConfigError::InvalidValue {
        key,
        value: text.to_owned(),
        reason,
    })
}

/// `berth.db` next to the env file, so one folder holds a host's whole Berth state.
fn default_database_url(env_file: &Path) -> String {
    let folder = env_file
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    format!("sqlite://{}", folder.join("berth.db").display())
}

/// The site folder beside the binary: `<exe dir>/site` (the container image) or
/// `<exe dir>/../site` (a cargo target folder, where the binary is in `debug/` or `release/`).
fn default_site_root() -> PathBuf {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_owned));
    exe_dir
        .iter()
        .flat_map(|dir| [dir.join("site"), dir.join("../site")])
        .find(|candidate| candidate.join("pkg").is_dir())
        .unwrap_or_else(|| PathBuf::from("site"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(file: &[(&str, &str)], env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let own = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        Config::from_sources(
            PathBuf::from("/srv/berth/.updater.env"),
            own(file).into_iter().collect(),
            own(env),
        )
    }

    #[test]
    fn defaults_are_local_and_next_to_the_env_file() {
        let config = config(&[], &[]).unwrap();
        assert_eq!(config.server.listen_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(config.server.database_url, "sqlite:///srv/berth/berth.db");
        assert_eq!(config.engine.check_interval, Duration::from_secs(300));
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let config = config(&[("CHECK_INTERVAL", "6h")], &[("CHECK_INTERVAL", "30m")]).unwrap();
        assert_eq!(config.engine.check_interval, Duration::from_secs(1800));
        assert_eq!(config.get("CHECK_INTERVAL"), Some("30m"));
    }

    #[test]
    fn a_bad_value_is_named_with_its_key() {
        let error = config(&[("LISTEN_ADDR", "localhost")], &[]).unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("LISTEN_ADDR=\"localhost\": "),
            "{message}"
        );
        let error = config(&[("CHECK_INTERVAL", "soon")], &[]).unwrap_err();
        assert!(
            error.to_string().starts_with("CHECK_INTERVAL=\"soon\": "),
            "{error}"
        );
    }

    #[test]
    fn a_named_env_file_must_exist() {
        let error = Config::load(Some(Path::new("/nonexistent/berth.env"))).unwrap_err();
        assert!(matches!(error, ConfigError::MissingEnvFile(_)), "{error}");
    }
}
