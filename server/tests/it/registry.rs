//! Integration tests: registry. The real `docker-registry` wherever it can run (anonymous,
//! htpasswd, token auth); loopback fakes speaking the documented protocol for what it will
//! not do (429s, hostile answers, vendor APIs).

mod acr;
mod ecr;
mod fake;
mod gcp;
mod hostile;
mod providers;
mod rate_limit;
mod real_registry;
mod real_registry_auth;
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
