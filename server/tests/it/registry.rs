//! Integration tests: registry. The real `docker-registry` wherever it can run (anonymous,
//! htpasswd, token auth); loopback fakes speaking the documented protocol for what it will
//! not do (429s, hostile answers, vendor APIs).

mod acr;
mod cloud_helper;
mod ecr;
mod gcp;
mod hostile;
mod providers;
mod rate_limit;
mod real_registry;
pub mod real_registry_auth;
mod stats;

use std::collections::BTreeMap;
use std::path::PathBuf;

use berth::config::Config;
use berth::registry::Registries;

/// A configuration from `pairs` only (the process environment is left out, so the test
/// sees exactly what it sets). DOCKER_CONFIG points nowhere unless the test sets it, so the
/// machine's own docker login cannot leak in.
pub fn config(pairs: &[(&str, &str)]) -> Config {
    let mut values: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    values
        .entry("DOCKER_CONFIG".into())
        .or_insert_with(|| "/nonexistent/berth-test-docker-config".into());
    Config::from_sources(
        PathBuf::from("/nonexistent/.updater.env"),
        values,
        std::iter::empty(),
    )
    .expect("a valid test configuration")
}

pub fn registries(pairs: &[(&str, &str)]) -> Registries {
    Registries::from_config(&config(pairs)).expect("registries from the test configuration")
}

/// The `berth-credential-helper` built into this test binary's target folder: scripts/test.sh
/// builds it (scripts/build.sh) before the tests; after changing the helper, run
/// `cargo build -p credential-helper` before `cargo test -p server`. `None` (after saying why)
/// when it is missing outside CI; a failure under CI.
pub fn credential_helper() -> Option<PathBuf> {
    let built = std::env::current_exe()
        .ok()
        .and_then(|test| Some(test.parent()?.parent()?.join("berth-credential-helper")))
        .filter(|helper| helper.is_file());
    if built.is_none() {
        let message = "missing test component: berth-credential-helper (cargo build -p credential-helper; scripts/test.sh builds it)";
        if std::env::var("CI").is_ok_and(|value| value == "true") {
            panic!("{message} (CI=true: a missing component fails the run)");
        }
        eprintln!("skipped: {message}");
    }
    built
}

/// A stand-in credential helper in `dir`: a shell script that appends its arguments and its
/// stdin, as one line, to `dir/runs.log`, then prints `answer` (in which `$KEY` is the
/// helper's environment variable) and exits with `code`.
pub fn scripted_helper(dir: &std::path::Path, answer: &str, code: u8) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    // A new file each time, so no run ever meets a script being rewritten.
    static SCRIPTS: AtomicUsize = AtomicUsize::new(0);
    let log = dir.join("runs.log");
    let script = dir.join(format!(
        "helper-{}.sh",
        SCRIPTS.fetch_add(1, Ordering::SeqCst)
    ));
    let body = format!(
        "#!/bin/sh\nprintf '%s %s\\n' \"$*\" \"$(cat)\" >> '{}'\ncat <<ANSWER\n{answer}\nANSWER\nexit {code}\n",
        log.display()
    );
    std::fs::write(&script, body).expect("writing the helper script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
        .expect("making the helper script executable");
    script
}

/// The lines `scripted_helper` logged: one per run, `<args> <stdin>`.
pub fn helper_runs(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("runs.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A clock the test sets.
pub struct TestClock(pub std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

impl berth::clock::Clock for TestClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        *self.0.lock().unwrap()
    }
}

/// A docker `config.json` folder holding `auths` for `host`.
pub fn docker_config_with(host: &str, user: &str, password: &str) -> tempfile::TempDir {
    use base64::Engine;
    let dir = tempfile::tempdir().expect("a temporary docker config folder");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let json = serde_json::json!({"auths": {host: {"auth": auth}}});
    std::fs::write(dir.path().join("config.json"), json.to_string()).expect("writing config.json");
    dir
}

/// Access-log lines (`"METHOD /path HTTP/1.1" status size "" "berth/…"`) written after
/// `from` bytes by Berth's client; the registry's own "response completed" lines are left out.
pub fn berth_requests(log: &str, from: usize) -> Vec<String> {
    log.get(from..)
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains("\"berth/"))
        .map(str::to_owned)
        .collect()
}
