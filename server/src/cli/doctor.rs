//! `berth doctor [--json]`: check the configuration and everything it points at, one line
//! per check; exit 1 when any check failed.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::doctor::{DoctorOptions, diagnose};

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print the report as JSON (`{"passed": …, "checks": [{"status", "subject", "detail"}]}`).
    #[arg(long)]
    pub json: bool,
}

/// Never fails on a bad configuration: that is what the report is for. Only writing the
/// report itself can fail.
pub async fn run(args: DoctorArgs, env_file: Option<&Path>) -> anyhow::Result<ExitCode> {
    let report = diagnose(env_file, &DoctorOptions::default()).await;
    let text = if args.json {
        serde_json::to_string_pretty(&report).context("writing the report as JSON")? + "\n"
    } else {
        report.to_text()
    };
    use std::io::Write;
    std::io::stdout()
        .write_all(text.as_bytes())
        .context("writing the report to standard output")?;
    Ok(if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
