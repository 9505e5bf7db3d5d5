//! One writer per database, with the real `berth` binary: a server holds a deploy at a
//! failpoint while `berth status` and `berth check --dry-run` run beside it (they change
//! nothing), a second `berth serve` is refused, the deploy is released and verifies, and a
//! `berth deploy` is then carried out by the server.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use berth::store::{Store, Verdict};
use testkit::Registry;

use crate::deploy::harness::{
    Project, components_present, env_file, push, running_and_expected, store_dump,
};

const BERTH: &str = env!("CARGO_BIN_EXE_berth");
const COMPOSE: &str =
    "services:\n  app:\n    image: {registry}/team/app:1.0.0\n    restart: \"no\"\n";

/// Stopped (SIGKILL) when the test ends, however it ends.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn berth(env: &Path, args: &[&str]) -> Output {
    Command::new(BERTH)
        .arg("--env-file")
        .arg(env)
        .args(args)
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_server_writes_and_commands_beside_it_read_or_go_through_it() {
    if !components_present() {
        return;
    }
    let registry = Registry::start();
    push(&registry, "1.0.0");
    let project = Project::new("writer", COMPOSE, &registry.host());
    project.up();
    push(&registry, "1.1.0");
    let state = tempfile::tempdir().unwrap();
    let port = testkit::free_port();
    let env = env_file(
        state.path(),
        "WRITER",
        &project.compose_file,
        &format!("LISTEN_ADDR=127.0.0.1:{port}\nCHECK_INTERVAL=6h\n"),
    );
    let marker = state.path().join("held");

    // The server's first check deploys 1.1.0 and holds once the new container is up.
    let serve = Serve(
        Command::new(BERTH)
            .arg("--env-file")
            .arg(&env)
            .arg("serve")
            .env("BERTH_FAILPOINT_PAUSE", "up")
            .env("BERTH_FAILPOINT_FILE", &marker)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pid = serve.0.id();
    wait_for("the held deploy", || marker.exists()).await;

    let store = Store::open(&format!(
        "sqlite://{}",
        state.path().join("berth.db").display()
    ))
    .await
    .unwrap();
    let before = store_dump(&store).await;
    let compose_before = project.read("compose.yml");
    assert_eq!(store.open_revisions().await.unwrap().len(), 1, "{before}");

    for args in [&["status"][..], &["check", "--dry-run"]] {
        let output = berth(&env, args);
        assert!(output.status.success(), "{args:?}: {}", text(&output));
    }
    assert_eq!(
        store_dump(&store).await,
        before,
        "reading commands changed the store"
    );
    assert_eq!(project.read("compose.yml"), compose_before);
    assert_eq!(store.open_revisions().await.unwrap().len(), 1);

    let second = berth(&env, &["serve"]);
    assert!(!second.status.success(), "a second server started");
    let said = text(&second);
    assert!(
        said.contains("already uses") && said.contains(&format!("pid {pid}")),
        "{said}"
    );

    // Released, the held deploy goes on to its verdict.
    std::fs::remove_file(&marker).unwrap();
    let service = store.service_records().await.unwrap().remove(0);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !store.open_revisions().await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the released deploy never ended");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let revision = store.revisions(service.id).await.unwrap().remove(0);
    assert_eq!(
        (revision.verdict.0, revision.tag.as_str()),
        (Verdict::Verified, "1.1.0"),
        "{revision:#?}"
    );

    // `berth deploy` goes through the server (which holds at the failpoint again: release).
    let deploy = Command::new(BERTH)
        .arg("--env-file")
        .arg(&env)
        .args(["deploy", "app", "--tag", "1.0.0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the second held deploy", || marker.exists()).await;
    std::fs::remove_file(&marker).unwrap();
    let output = tokio::task::block_in_place(|| deploy.wait_with_output().unwrap());
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    assert!(
        said.contains("carried out by `berth serve`") && said.contains("1.0.0 verified"),
        "{said}"
    );
    let image = format!("{}/team/app:1.0.0", registry.host());
    let (running, expected) = running_and_expected(&project.name, "app", &image).await;
    assert_eq!(running, expected, "the server deployed 1.0.0");
    let audit = store.audit_log(service.id).await.unwrap();
    let requested = audit
        .iter()
        .find(|entry| entry.kind == "deploy_requested")
        .unwrap_or_else(|| panic!("no deploy_requested row: {audit:#?}"));
    assert!(
        requested.actor.starts_with("cli:") && requested.actor.ends_with(" via berth serve"),
        "{requested:#?}"
    );
    store.close().await;
    drop(serve);
}
