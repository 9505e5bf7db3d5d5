//! `berth doctor`: read the configuration and say, one line per check, what works and what
//! does not, each line naming its subject (a key, a file, a service, a registry, a tool):
//!
//! ```text
//! FAIL CHEK_INTERVAL: unknown key; did you mean CHECK_INTERVAL?
//! ok   compose file /srv/shop/compose.yml: parsed, has services (COMPOSE_FILE_PATH_SHOP)
//! FAIL registry 127.0.0.1:5000: Harbor: bad credentials: the registry refused them (HTTP 401) …
//! ```
//!
//! Doctor keeps going where `berth serve` would stop: a key with a bad value is reported
//! and left at its default so every other check still runs. Nothing it prints holds a
//! secret: keys are named, values are shown only for settings that are not credentials,
//! and registry errors never carry credentials (registry/error.rs).

mod checks;
pub mod keys;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::config::env_file::{self, EnvFileError};
use crate::config::{Config, ConfigError, DEFAULT_ENV_FILE};
use crate::discovery::config_map::{self, ConfigMapError};
use crate::registry::Registries;
use crate::registry::registries::RegistriesError;
use crate::scan::ScanConfig;
use crate::scan::config::ScanConfigError;

/// How long one check may take: long enough for a slow registry's token dance, short
/// enough that a dead host does not leave the user staring at nothing.
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub status: Status,
    /// What was checked: a key, `compose file PATH`, `service NAME/SVC`, `registry HOST`…
    pub subject: String,
    pub detail: String,
}

impl Finding {
    pub fn ok(subject: impl Into<String>, detail: impl Into<String>) -> Finding {
        Finding::new(Status::Ok, subject, detail)
    }

    pub fn warn(subject: impl Into<String>, detail: impl Into<String>) -> Finding {
        Finding::new(Status::Warn, subject, detail)
    }

    pub fn fail(subject: impl Into<String>, detail: impl Into<String>) -> Finding {
        Finding::new(Status::Fail, subject, detail)
    }

    fn new(status: Status, subject: impl Into<String>, detail: impl Into<String>) -> Finding {
        Finding {
            status,
            subject: subject.into(),
            detail: detail.into(),
        }
    }

    /// Anything but a FAIL: a warning does not make doctor exit non-zero.
    pub fn passed(&self) -> bool {
        self.status != Status::Fail
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.status {
            Status::Ok => "ok  ",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        };
        write!(formatter, "{label} {}: {}", self.subject, self.detail)
    }
}

/// Every finding, in the order the checks ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub passed: bool,
    pub checks: Vec<Finding>,
}

impl Report {
    fn new(checks: Vec<Finding>) -> Report {
        Report {
            passed: checks.iter().all(Finding::passed),
            checks,
        }
    }

    /// The findings about `subject` (exactly as the report names it).
    pub fn about(&self, subject: &str) -> Vec<&Finding> {
        self.checks
            .iter()
            .filter(|finding| finding.subject == subject)
            .collect()
    }

    /// One line per finding, as `berth doctor` prints it.
    pub fn to_text(&self) -> String {
        self.checks
            .iter()
            .map(|finding| format!("{finding}\n"))
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct DoctorOptions {
    /// The limit of each single check.
    pub check_timeout: Duration,
}

impl Default for DoctorOptions {
    fn default() -> DoctorOptions {
        DoctorOptions {
            check_timeout: DEFAULT_CHECK_TIMEOUT,
        }
    }
}

/// Check the configuration read from `env_file` (default `.updater.env`) and the process
/// environment, as `berth serve` would read it, and everything it points at.
pub async fn diagnose(env_file: Option<&Path>, options: &DoctorOptions) -> Report {
    let mut findings = Vec::new();
    let config = load_config(env_file, &mut findings);
    let limit = options.check_timeout;

    let configured = async {
        let Some(config) = &config else {
            return Vec::new();
        };
        let mut findings = Vec::new();
        let registries = Registries::from_config(config)
            .map_err(|error| findings.push(registries_problem(error)))
            .ok();
        match config_map::configured_projects(config) {
            Ok(projects) if projects.is_empty() => findings.push(no_projects(config)),
            Ok(projects) => {
                findings.extend(checks::projects(&projects, registries.as_ref(), limit).await);
            }
            Err(error) => findings.push(config_map_problem(error)),
        }
        findings
    };
    let (configured, docker, compose) = tokio::join!(
        configured,
        checks::docker_engine(limit),
        checks::compose_cli(limit)
    );
    findings.extend(configured);
    findings.push(docker);
    findings.push(compose);
    let scan_config = match &config {
        Some(config) => ScanConfig::from_config(config),
        None => Ok(ScanConfig::default()),
    };
    match scan_config {
        Ok(scan_config) => findings.push(checks::trivy(&scan_config)),
        Err(ScanConfigError::ReadKey { key, value, reason }) => {
            findings.push(Finding::fail(
                key,
                format!("{value:?} is not valid: {reason}"),
            ));
        }
    }
    Report::new(findings)
}

/// Read the env file and build the configuration; each problem becomes a finding. A bad
/// value is dropped and loading tried again, so the rest is checked with its default.
fn load_config(explicit: Option<&Path>, findings: &mut Vec<Finding>) -> Option<Config> {
    let path = explicit.map_or_else(|| PathBuf::from(DEFAULT_ENV_FILE), Path::to_owned);
    let subject = format!("env file {}", path.display());
    let mut file_values = match env_file::read(&path) {
        Ok(Some(values)) => {
            findings.push(Finding::ok(
                &subject,
                format!("read, {} key(s)", values.len()),
            ));
            values
        }
        Ok(None) if explicit.is_some() => {
            findings.push(Finding::fail(&subject, "does not exist"));
            BTreeMap::new()
        }
        Ok(None) => {
            findings.push(Finding::warn(
                &subject,
                "does not exist; only the environment and defaults are checked",
            ));
            BTreeMap::new()
        }
        Err(error) => {
            findings.push(Finding::fail(&subject, env_file_problem(&error)));
            return None;
        }
    };
    // Only the file's keys are spell-checked: the environment holds much that is not Berth's.
    findings.extend(keys::check_keys(file_values.keys().map(String::as_str)));

    // The environment wins over the file, as in `Config::load`. Variables that are not
    // UTF-8 cannot be Berth's, so they are left out rather than aborting the run.
    let mut environment: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)))
        .collect();
    // Each round removes one bad key; there are only a handful of parsed keys.
    for _ in 0..16 {
        match Config::from_sources(path.clone(), file_values.clone(), environment.clone()) {
            Ok(config) => return Some(config),
            Err(ConfigError::InvalidValue { key, value, reason }) => {
                findings.push(Finding::fail(
                    key,
                    format!("{value:?} is not valid: {reason} (the default is used for the other checks)"),
                ));
                file_values.remove(key);
                environment.remove(key);
            }
            Err(other) => {
                findings.push(Finding::fail(&subject, other.to_string()));
                return None;
            }
        }
    }
    None
}

/// A line that is not `KEY=VALUE` is not quoted back: it may be a pasted secret.
fn env_file_problem(error: &EnvFileError) -> String {
    match error {
        EnvFileError::Parse { line, reason, .. } if reason.starts_with("expected KEY=VALUE") => {
            format!("line {line} is not KEY=VALUE (its text is not shown: it may hold a secret)")
        }
        EnvFileError::Parse { line, reason, .. } => format!("line {line}: {reason}"),
        EnvFileError::Read { source, .. } => format!("cannot read it: {source}"),
    }
}

fn registries_problem(error: RegistriesError) -> Finding {
    match error {
        RegistriesError::ReadKey { key, value, reason } => {
            Finding::fail(key, format!("{value:?} is not valid: {reason}"))
        }
        other @ RegistriesError::BuildHttpClient(_) => {
            Finding::fail("registries", crate::registry::error::error_chain(&other))
        }
    }
}

fn config_map_problem(error: ConfigMapError) -> Finding {
    let key = match &error {
        ConfigMapError::ParseEntry { key, .. } | ConfigMapError::MissingComposeFile { key, .. } => {
            key.clone()
        }
    };
    Finding::fail(key, error.to_string())
}

fn no_projects(config: &Config) -> Finding {
    let subject = "services";
    if config.get("DISCOVER_FROM_LABELS") == Some("false") {
        Finding::warn(
            subject,
            "no COMPOSE_FILE_PATH_<NAME> keys and DISCOVER_FROM_LABELS=false: Berth manages nothing",
        )
    } else {
        Finding::ok(
            subject,
            "none named in the env file; Berth manages what it finds through compose labels",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_start_with_a_fixed_width_status() {
        assert_eq!(
            Finding::ok("trivy", "found").to_string(),
            "ok   trivy: found"
        );
        assert_eq!(
            Finding::fail("CHEK_INTERVAL", "unknown key").to_string(),
            "FAIL CHEK_INTERVAL: unknown key"
        );
        assert_eq!(Finding::warn("x", "y").to_string(), "warn x: y");
    }

    #[test]
    fn a_warning_passes_and_a_failure_does_not() {
        assert!(Report::new(vec![Finding::ok("a", "b"), Finding::warn("c", "d")]).passed);
        assert!(!Report::new(vec![Finding::ok("a", "b"), Finding::fail("c", "d")]).passed);
    }

    #[test]
    fn a_malformed_line_is_not_echoed() {
        let error = EnvFileError::Parse {
            path: PathBuf::from(".updater.env"),
            line: 3,
            reason: "expected KEY=VALUE, found \"hunter2\"".to_owned(),
        };
        let text = env_file_problem(&error);
        assert!(text.starts_with("line 3 is not KEY=VALUE"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn a_bad_value_is_named_and_the_rest_still_loads() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join(".updater.env");
        std::fs::write(&path, "CHECK_INTERVAL=soon\nUPDATE_MODE=notify\n").unwrap();
        let mut findings = Vec::new();
        let config = load_config(Some(&path), &mut findings).expect("loaded without the bad key");
        assert_eq!(config.get("UPDATE_MODE"), Some("notify"));
        let failure = findings
            .iter()
            .find(|finding| finding.subject == "CHECK_INTERVAL")
            .expect("a finding about CHECK_INTERVAL");
        assert_eq!(failure.status, Status::Fail);
    }
}
