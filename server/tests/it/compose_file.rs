//! Integration tests: compose_file. Each test copies a fixture project from
//! `tests/fixtures/compose/` into a temporary directory, edits it through the public API, and
//! compares the result byte for byte with an expected file.

mod atomic;
mod env;
mod golden;
mod multi;
mod refusals;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/compose")
        .join(relative)
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

/// A temporary project directory holding copies of fixture files, `(fixture, name in project)`.
fn project_with(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("creating a temporary project directory");
    for (from, to) in files {
        fs::copy(fixture(from), dir.path().join(to))
            .unwrap_or_else(|error| panic!("copying fixture {from}: {error}"));
    }
    dir
}

/// The names in a directory, to show that no temporary file was left behind.
fn names_in(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .expect("listing the project directory")
        .map(|entry| {
            entry
                .expect("reading a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// The compose v2 CLI: `docker compose` as a plugin, or a standalone v2 `docker-compose`.
fn compose_v2() -> Option<Vec<&'static str>> {
    let candidates: [&[&'static str]; 2] = [&["docker", "compose"], &["docker-compose"]];
    candidates.into_iter().map(<[_]>::to_vec).find(|command| {
        Command::new(command[0])
            .args(&command[1..])
            .arg("version")
            .output()
            .is_ok_and(|output| {
                output.status.success() && String::from_utf8_lossy(&output.stdout).contains("v2.")
            })
    })
}

/// The images `compose config --images` resolves for a project, or `None` (after saying why)
/// when no compose v2 CLI is installed outside CI. Under CI=true a missing CLI fails the test.
fn compose_images(project_dir: &Path, files: &[&str]) -> Option<BTreeSet<String>> {
    let Some(compose) = compose_v2() else {
        let message = "compose v2 is not installed (neither `docker compose` nor a v2 `docker-compose`); install it with scripts/setup.sh";
        if std::env::var("CI").is_ok_and(|value| value == "true") {
            panic!("{message} (CI=true: a missing component fails the run)");
        }
        eprintln!("skipped the compose CLI check: {message}");
        return None;
    };
    let mut command = Command::new(compose[0]);
    command.args(&compose[1..]).current_dir(project_dir);
    for file in files {
        command.args(["-f", file]);
    }
    let output = command
        .args(["config", "--images"])
        .output()
        .expect("running compose config");
    assert!(
        output.status.success(),
        "compose config failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}
