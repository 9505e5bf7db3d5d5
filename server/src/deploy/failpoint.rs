//! A fault-injection point for the crash and concurrency tests: with
//! `BERTH_FAILPOINT_PAUSE=<step>` set, a deploy that reaches that step writes the file named
//! by `BERTH_FAILPOINT_FILE` and holds there until that file is removed (then it goes on),
//! so a test can kill Berth at that step, or act beside the held deploy and then release it.
//! Unset (always, outside tests), a step costs one environment lookup.

use std::time::Duration;

/// The steps of a deploy, in order, where a test can hold Berth.
pub const STEPS: [&str; 5] = ["deploying", "edited", "pulled", "up", "verifying"];

pub async fn reached(step: &str) {
    if !std::env::var("BERTH_FAILPOINT_PAUSE").is_ok_and(|wanted| wanted == step) {
        return;
    }
    let Some(marker) = std::env::var_os("BERTH_FAILPOINT_FILE") else {
        tracing::warn!(step, "held at a failpoint (BERTH_FAILPOINT_PAUSE) for good");
        return std::future::pending().await;
    };
    if let Err(error) = std::fs::write(&marker, step) {
        tracing::warn!(step, %error, "cannot write the failpoint's file; holding for good");
        return std::future::pending().await;
    }
    tracing::warn!(
        step,
        "held at a failpoint (BERTH_FAILPOINT_PAUSE) until its file is removed"
    );
    while std::path::Path::new(&marker).exists() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tracing::warn!(step, "released from the failpoint");
}
