//! `berth serve` as a process: health, the SSE stream, graceful shutdown, and start-up that
//! stops when the database cannot be migrated.

use std::process::Command;
use std::time::Duration;

use end2end::{BerthServer, target_dir};

#[tokio::test(flavor = "multi_thread")]
async fn healthz_events_and_graceful_shutdown() -> anyhow::Result<()> {
    let mut server = BerthServer::start(&[]);

    let health: serde_json::Value = reqwest::get(server.url("/healthz")).await?.json().await?;
    assert_eq!(health["status"], "ok");

    // The stream opens with a heartbeat, and stays open.
    let refused = reqwest::get(server.url("/events")).await?;
    assert_eq!(refused.status(), 401, "/events without a session");
    let mut events = server
        .logged_in_client()
        .await
        .get(server.url("/events"))
        .send()
        .await?;
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let first = tokio::time::timeout(Duration::from_secs(5), events.chunk())
        .await??
        .expect("a first SSE chunk");
    let first = String::from_utf8_lossy(&first);
    assert!(first.contains("event: heartbeat"), "{first}");

    // SIGTERM with a stream still open: Berth ends the stream and exits cleanly.
    assert!(
        server.database().exists(),
        "the database is created next to the env file"
    );
    let status = server
        .terminate(Duration::from_secs(10))
        .expect("berth did not stop within 10 s of SIGTERM");
    assert!(status.success(), "berth exited with {status}");
    Ok(())
}

#[test]
fn a_failed_migration_stops_start_up_with_the_reason() {
    let mut server = BerthServer::start(&[]);
    let database = server.database();
    let folder = server.folder.path().to_owned();
    server
        .terminate(Duration::from_secs(10))
        .expect("berth stopped");
    // Tamper with the record of an applied migration, as a hand edit or a downgrade would.
    let tampered = Command::new("python3")
        .arg("-c")
        .arg("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE _sqlx_migrations SET checksum=x'00'\"); c.commit()")
        .arg(&database)
        .status()
        .expect("python3");
    assert!(tampered.success());

    let output = Command::new(target_dir().join("debug/berth"))
        .arg("--env-file")
        .arg(folder.join(".updater.env"))
        .arg("serve")
        .env("LISTEN_ADDR", format!("127.0.0.1:{}", testkit::free_port()))
        .env_remove("DATABASE_URL")
        .output()
        .expect("running berth");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "berth must not start: {stderr}");
    assert!(
        stderr.contains("migration"),
        "the reason must be given: {stderr}"
    );
}
