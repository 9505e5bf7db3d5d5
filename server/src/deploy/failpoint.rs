//! A fault-injection point for the crash tests: with `BERTH_FAILPOINT_PAUSE=<step>` set,
//! a deploy that reaches that step writes the file named by `BERTH_FAILPOINT_FILE` and
//! waits forever, so a test can kill Berth there with SIGKILL. Unset (always, outside
//! tests), a step costs one environment lookup.

/// The steps of a deploy, in order, where a crash test can stop Berth.
pub const STEPS: [&str; 5] = ["deploying", "edited", "pulled", "up", "verifying"];

pub async fn reached(step: &str) {
    if std::env::var("BERTH_FAILPOINT_PAUSE").is_ok_and(|wanted| wanted == step) {
        if let Ok(file) = std::env::var("BERTH_FAILPOINT_FILE") {
            let _ = std::fs::write(file, step);
        }
        tracing::warn!(
            step,
            "paused at a failpoint (BERTH_FAILPOINT_PAUSE); waiting to be killed"
        );
        std::future::pending::<()>().await;
    }
}
