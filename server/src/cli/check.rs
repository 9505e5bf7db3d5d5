//! `berth check [--dry-run] [--json]` and `berth status [--json]`.

use std::process::ExitCode;

use clap::Args;

use crate::engine::{Action, Engine};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Report what would be done; change nothing (files, containers, store).
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long)]
    pub json: bool,
}

pub async fn check(engine: &Engine, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let report = engine.check_all(args.dry_run).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for service in &report.services {
            println!(
                "{}/{}\t{}\tbest: {}\t{}",
                service.project,
                service.service,
                service.current_tag.as_deref().unwrap_or("-"),
                service.best_candidate.as_deref().unwrap_or("-"),
                describe(&service.action, args.dry_run),
            );
        }
    }
    let failed = report.services.iter().any(|s| {
        matches!(
            s.action,
            Action::DeployFailed { .. } | Action::RolledBack { .. }
        )
    });
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn describe(action: &Action, dry_run: bool) -> String {
    match action {
        Action::UpToDate => "up to date".into(),
        Action::Deploy { tag } if dry_run => format!("would deploy {tag}"),
        Action::Deploy { tag } => format!("deploying {tag}"),
        Action::Notify { tag } => format!("update available: {tag}"),
        Action::NewDigest { tag, digest } => format!("{tag} now names {digest}"),
        Action::Pinned { tag } => format!("pinned to {tag}"),
        Action::Excluded => "excluded".into(),
        Action::Unmanageable { reason } => format!("detected, not managed: {reason}"),
        Action::Error { reason } => format!("error: {reason}"),
        Action::Deployed { tag } => format!("deployed {tag} (verified)"),
        Action::DeployFailed { tag, reason } => format!("deploy of {tag} failed: {reason}"),
        Action::RolledBack { tag, reason } => format!("{tag} failed and was rolled back: {reason}"),
        Action::RetryLater {
            tag,
            reason,
            retry_at,
        } => format!("deploy of {tag} failed, tried again after {retry_at}: {reason}"),
    }
}

pub async fn status(engine: &Engine, args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let services = engine.store().service_records().await?;
    if args.json {
        let rows: Vec<_> = services
            .iter()
            .map(|s| {
                serde_json::json!({
                    "project": s.project, "service": s.name, "image": s.image,
                    "current_tag": s.current_tag, "current_digest": s.current_digest,
                    "best_candidate": s.best_candidate, "state": s.state.as_str(),
                    "pinned_tag": s.pinned_tag, "excluded": s.excluded, "detail": s.detail,
                    "last_checked_at": s.last_checked_at,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if services.is_empty() {
        println!("no services yet: run `berth check`, or see the README's configuration");
    } else {
        for s in &services {
            println!(
                "{}/{}\t{}\t{}\t{}",
                s.project,
                s.name,
                s.current_tag.as_deref().unwrap_or("-"),
                s.state.label(),
                s.detail.as_deref().unwrap_or(""),
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
