//! Crash recovery: `berth deploy` is killed with SIGKILL at each step of a deploy
//! in turn; the next start must converge to a verified version with a parseable compose file
//! that matches what runs, and no revision left open.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use berth::deploy::failpoint::STEPS;
use berth::discovery::compose_file::{self, ComposeProject};
use berth::store::{Store, Verdict};
use testkit::Registry;

use crate::deploy::harness::{Project, components_present, env_file, push, running_and_expected};

const BERTH: &str = env!("CARGO_BIN_EXE_berth");
const COMPOSE: &str =
    "services:\n  app:\n    image: {registry}/team/app:1.0.0\n    restart: \"no\"\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_killed_at_any_step_converges_on_the_next_start() {
    if !components_present() {
        return;
    }
    let registry = Registry::start();
    push(&registry, "1.0.0");
    push(&registry, "1.1.0");
    for step in STEPS {
        let project = Project::new(&format!("crash{step}"), COMPOSE, &registry.host());
        project.up();
        let state = tempfile::tempdir().unwrap();
        let env = env_file(
            state.path(),
            &format!("CRASH{}", step.to_uppercase()),
            &project.compose_file,
            "",
        );
        let marker = state.path().join("paused");

        // `berth check` deploys 1.1.0 and is killed where the failpoint holds it.
        let mut berth = Command::new(BERTH)
            .arg("--env-file")
            .arg(&env)
            .arg("check")
            .env("BERTH_FAILPOINT_PAUSE", step)
            .env("BERTH_FAILPOINT_FILE", &marker)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(90);
        while !marker.exists() {
            assert!(Instant::now() < deadline, "berth never reached step {step}");
            assert!(
                berth.try_wait().unwrap().is_none(),
                "berth ended before step {step}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        berth.kill().unwrap(); // SIGKILL
        berth.wait().unwrap();

        // The next start recovers, then checks (and may deploy 1.1.0 again).
        let output = Command::new(BERTH)
            .arg("--env-file")
            .arg(&env)
            .arg("check")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "step {step}: the restart failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );

        let store = Store::open(&format!(
            "sqlite://{}",
            state.path().join("berth.db").display()
        ))
        .await
        .unwrap();
        assert!(
            store.open_revisions().await.unwrap().is_empty(),
            "step {step}: a revision stayed open"
        );
        let service = store.service_records().await.unwrap().remove(0);
        let revisions = store.revisions(service.id).await.unwrap();
        // The cut-off deploy (the oldest revision) was either finished or closed with why.
        let cut_off = revisions.last().unwrap();
        assert!(
            cut_off.verdict.0 == Verdict::Verified
                || cut_off
                    .reason
                    .as_deref()
                    .is_some_and(|r| r.contains("Berth stopped")),
            "step {step}: the cut-off deploy must be finished or explained: {cut_off:#?}"
        );
        compose_file::check_compose_file(&project.compose_file).unwrap_or_else(|error| {
            panic!("step {step}: the compose file does not parse: {error}")
        });
        let image = compose_file::read_service_image(
            &ComposeProject::new(vec![project.compose_file.clone()]),
            "app",
        )
        .unwrap()
        .resolved;
        let (running, expected) = running_and_expected(&project.name, "app", &image).await;
        assert_eq!(
            running, expected,
            "step {step}: the container runs what the compose file says ({image})"
        );
        assert_eq!(
            service.current_tag.as_deref(),
            image.rsplit_once(':').map(|(_, tag)| tag),
            "step {step}: the store agrees with the compose file"
        );
        assert_eq!(
            service.state,
            app::model::SyncState::Synced,
            "step {step}: {service:?}"
        );
        store.close().await;
    }
}

/// `chattr +i`, taken back when dropped: writes to the file fail, even root's, even through
/// a descriptor opened before.
struct Immutable(std::path::PathBuf);

impl Immutable {
    fn set(path: &std::path::Path) -> Immutable {
        let done = Command::new("chattr").arg("+i").arg(path).status().unwrap();
        assert!(done.success(), "chattr +i {}", path.display());
        Immutable(path.to_owned())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_that_fails_mid_deploy_puts_the_host_back() {
    if !components_present() {
        return;
    }
    let registry = Registry::start();
    push(&registry, "1.0.0");
    push(&registry, "1.1.0");
    let project = Project::new("storefault", COMPOSE, &registry.host());
    project.up();
    let state = tempfile::tempdir().unwrap();
    let env = env_file(state.path(), "STOREFAULT", &project.compose_file, "");
    let marker = state.path().join("held");
    let berth = Command::new(BERTH)
        .arg("--env-file")
        .arg(&env)
        .arg("check")
        .env("BERTH_FAILPOINT_PAUSE", "pulled")
        .env("BERTH_FAILPOINT_FILE", &marker)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    while !marker.exists() {
        assert!(Instant::now() < deadline, "berth never reached the pull");
        std::thread::sleep(Duration::from_millis(100));
    }

    // From here on the database refuses every write; then the deploy goes on.
    let wal = state.path().join("berth.db-wal");
    let frozen = Immutable::set(&wal);
    std::fs::remove_file(&marker).unwrap();
    let output = berth.wait_with_output().unwrap();
    drop(frozen);
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("the host was put back"), "{said}");

    assert!(
        project.read("compose.yml").contains("team/app:1.0.0"),
        "the compose file is restored"
    );
    let image = format!("{}/team/app:1.0.0", registry.host());
    let (running, expected) = running_and_expected(&project.name, "app", &image).await;
    assert_eq!(running, expected, "the previous version runs again");
}
