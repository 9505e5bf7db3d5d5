//! Scanning settings, read from the env file / environment keys:
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `TRIVY_ENABLED` | scan each image after it is deployed | `false` |
//! | `TRIVY_PATH` | the `trivy` binary | `trivy` on `PATH` |
//! | `TRIVY_CACHE_DIR` | Trivy's cache folder (`--cache-dir`) | Trivy's own |
//! | `TRIVY_SEVERITIES` | comma list, e.g. `HIGH,CRITICAL` (`--severity`) | all |
//! | `TRIVY_IGNORE_UNFIXED` | leave out findings without a fix (`--ignore-unfixed`) | `false` |
//! | `TRIVY_SERVER_URL` | a Trivy server to use in client mode (`--server`) | none |
//! | `TRIVY_TIMEOUT` | seconds or a duration (`10m`); the scan is stopped after it | `10m` |
//! | `TRIVY_SCANNERS` | comma list of `vuln,secret,misconfig,license` (`--scanners`) | Trivy's own |
//! | `TRIVY_OFFLINE` | never download databases (`--skip-db-update --offline-scan`) | `false` |
//! | `SCAN_GATE` | `off`, `new-critical` or `new-high` | `off` |
//! | `SCAN_GATE_ON_ERROR` | when the gate's scan cannot run: `wait` (refuse, try later) or `deploy` | `wait` |

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{Config, duration};

use super::gate::GateLevel;
use super::report::Severity;

/// What `TRIVY_TIMEOUT` is when unset: above Trivy's own 5 minutes, because the first scan
/// of a host also downloads the vulnerability database.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

const KNOWN_SCANNERS: [&str; 4] = ["vuln", "secret", "misconfig", "license"];

#[derive(Debug, thiserror::Error)]
pub enum ScanConfigError {
    #[error("{key}={value:?}: {reason}")]
    ReadKey {
        key: &'static str,
        value: String,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanConfig {
    /// `TRIVY_ENABLED`: scan after each deploy. On-demand scans work either way.
    pub scan_after_deploy: bool,
    /// `TRIVY_PATH`; `None` looks for `trivy` on `PATH`.
    pub binary: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
    /// Empty: every severity.
    pub severities: Vec<Severity>,
    pub ignore_unfixed: bool,
    pub server_url: Option<String>,
    pub timeout: Duration,
    /// Empty: Trivy's default scanners.
    pub scanners: Vec<String>,
    pub offline: bool,
    /// `SCAN_GATE`; `None` is off.
    pub gate: Option<GateLevel>,
    /// `SCAN_GATE_ON_ERROR=deploy`: a gate scan that cannot run lets the candidate through
    /// (the default waits and tries again later).
    pub deploy_when_gate_fails: bool,
}

impl Default for ScanConfig {
    fn default() -> ScanConfig {
        ScanConfig {
            scan_after_deploy: false,
            binary: None,
            cache_dir: None,
            severities: Vec::new(),
            ignore_unfixed: false,
            server_url: None,
            timeout: DEFAULT_TIMEOUT,
            scanners: Vec::new(),
            offline: false,
            gate: None,
            deploy_when_gate_fails: false,
        }
    }
}

impl ScanConfig {
    pub fn from_config(config: &Config) -> Result<ScanConfig, ScanConfigError> {
        ScanConfig::from_lookup(|key| config.get(key))
    }

    /// Read from any key lookup (the configuration, or a test's table).
    pub fn from_lookup<'a>(
        lookup: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<ScanConfig, ScanConfigError> {
        // An empty value counts as unset, as `KEY=` does in the original env file.
        let get = |key: &str| lookup(key).map(str::trim).filter(|value| !value.is_empty());
        let defaults = ScanConfig::default();
        Ok(ScanConfig {
            scan_after_deploy: read_key(&get, "TRIVY_ENABLED", parse_bool)?.unwrap_or(false),
            binary: get("TRIVY_PATH").map(PathBuf::from),
            cache_dir: get("TRIVY_CACHE_DIR").map(PathBuf::from),
            severities: read_key(&get, "TRIVY_SEVERITIES", parse_severities)?.unwrap_or_default(),
            ignore_unfixed: read_key(&get, "TRIVY_IGNORE_UNFIXED", parse_bool)?.unwrap_or(false),
            server_url: read_key(&get, "TRIVY_SERVER_URL", parse_server_url)?,
            timeout: read_key(&get, "TRIVY_TIMEOUT", parse_timeout)?.unwrap_or(defaults.timeout),
            scanners: read_key(&get, "TRIVY_SCANNERS", parse_scanners)?.unwrap_or_default(),
            offline: read_key(&get, "TRIVY_OFFLINE", parse_bool)?.unwrap_or(false),
            gate: read_key(&get, "SCAN_GATE", parse_gate)?.flatten(),
            deploy_when_gate_fails: read_key(&get, "SCAN_GATE_ON_ERROR", parse_on_error)?
                .unwrap_or(false),
        })
    }
}

/// Parse `key` if it is set; a value that does not parse is an error naming the key.
fn read_key<'a, T>(
    get: &impl Fn(&str) -> Option<&'a str>,
    key: &'static str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, ScanConfigError> {
    get(key)
        .map(|value| {
            parse(value).map_err(|reason| ScanConfigError::ReadKey {
                key,
                value: value.to_owned(),
                reason,
            })
        })
        .transpose()
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err("expected true or false".to_owned()),
    }
}

fn comma_list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

fn parse_severities(value: &str) -> Result<Vec<Severity>, String> {
    comma_list(value)
        .map(|item| {
            item.parse::<Severity>().map_err(|_| {
                format!(
                    "{item:?} is not a severity; expected UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL"
                )
            })
        })
        .collect()
}

fn parse_scanners(value: &str) -> Result<Vec<String>, String> {
    comma_list(value)
        .map(|item| {
            let item = item.to_ascii_lowercase();
            if KNOWN_SCANNERS.contains(&item.as_str()) {
                Ok(item)
            } else {
                Err(format!(
                    "{item:?} is not a Trivy scanner; expected some of {}",
                    KNOWN_SCANNERS.join(", ")
                ))
            }
        })
        .collect()
}

fn parse_timeout(value: &str) -> Result<Duration, String> {
    let timeout = duration::parse(value).map_err(|error| error.to_string())?;
    if timeout.is_zero() {
        return Err("a scan needs more than no time; e.g. 600 or 10m".to_owned());
    }
    Ok(timeout)
}

fn parse_server_url(value: &str) -> Result<String, String> {
    let url =
        url::Url::parse(value).map_err(|error| format!("{error}; expected http(s)://HOST:PORT"))?;
    match url.scheme() {
        "http" | "https" => Ok(value.to_owned()),
        other => Err(format!("scheme {other:?}; expected http or https")),
    }
}

fn parse_gate(value: &str) -> Result<Option<GateLevel>, String> {
    if value.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    value.parse::<GateLevel>().map(Some)
}

/// `deploy` is true, `wait` false.
fn parse_on_error(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "deploy" => Ok(true),
        "wait" => Ok(false),
        _ => Err("expected wait or deploy".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<ScanConfig, ScanConfigError> {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        ScanConfig::from_lookup(|key| {
            owned
                .iter()
                .find(|(candidate, _)| candidate == key)
                .map(|(_, value)| value.as_str())
        })
    }

    #[test]
    fn the_gate_waits_when_its_scan_cannot_run_unless_told_to_deploy() {
        assert!(!read(&[]).unwrap().deploy_when_gate_fails);
        assert!(
            read(&[("SCAN_GATE_ON_ERROR", "deploy")])
                .unwrap()
                .deploy_when_gate_fails
        );
        assert!(
            !read(&[("SCAN_GATE_ON_ERROR", "wait")])
                .unwrap()
                .deploy_when_gate_fails
        );
        let error = read(&[("SCAN_GATE_ON_ERROR", "maybe")]).unwrap_err();
        assert!(error.to_string().contains("SCAN_GATE_ON_ERROR"), "{error}");
    }

    #[test]
    fn nothing_set_means_defaults_with_the_gate_off() {
        assert_eq!(read(&[]).unwrap(), ScanConfig::default());
        assert_eq!(read(&[("SCAN_GATE", "off")]).unwrap().gate, None);
    }

    #[test]
    fn every_key_is_read() {
        let config = read(&[
            ("TRIVY_ENABLED", "true"),
            ("TRIVY_PATH", "/opt/trivy/bin/trivy"),
            ("TRIVY_CACHE_DIR", "/var/cache/trivy"),
            ("TRIVY_SEVERITIES", "high, CRITICAL"),
            ("TRIVY_IGNORE_UNFIXED", "1"),
            ("TRIVY_SERVER_URL", "http://trivy.lan:4954"),
            ("TRIVY_TIMEOUT", "30m"),
            ("TRIVY_SCANNERS", "vuln,secret"),
            ("TRIVY_OFFLINE", "yes"),
            ("SCAN_GATE", "new-high"),
        ])
        .unwrap();
        assert!(config.scan_after_deploy && config.ignore_unfixed && config.offline);
        assert_eq!(config.binary, Some(PathBuf::from("/opt/trivy/bin/trivy")));
        assert_eq!(config.cache_dir, Some(PathBuf::from("/var/cache/trivy")));
        assert_eq!(config.severities, [Severity::High, Severity::Critical]);
        assert_eq!(config.server_url.as_deref(), Some("http://trivy.lan:4954"));
        assert_eq!(config.timeout, Duration::from_secs(1800));
        assert_eq!(config.scanners, ["vuln", "secret"]);
        assert_eq!(config.gate, Some(GateLevel::NewHigh));
    }

    #[test]
    fn a_bad_value_is_named_with_its_key() {
        for (key, value) in [
            ("TRIVY_ENABLED", "sometimes"),
            ("TRIVY_SEVERITIES", "HIGH,SEVERE"),
            ("TRIVY_SERVER_URL", "trivy.lan:4954"),
            ("TRIVY_SERVER_URL", "ftp://trivy.lan"),
            ("TRIVY_TIMEOUT", "soon"),
            ("TRIVY_TIMEOUT", "0"),
            ("TRIVY_SCANNERS", "vuln,viruses"),
            ("TRIVY_IGNORE_UNFIXED", "maybe"),
            ("SCAN_GATE", "new-medium"),
        ] {
            let error = read(&[(key, value)]).unwrap_err();
            let message = error.to_string();
            assert!(
                message.starts_with(&format!("{key}={value:?}: ")),
                "{message}"
            );
        }
    }
}
