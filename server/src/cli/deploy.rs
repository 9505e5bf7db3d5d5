//! `berth deploy`, `berth rollback`, `berth pin`, `unpin`, `ignore`, `unignore`.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::deploy::rollout::DeployOutcome;
use crate::engine::Engine;

/// Who the event log names for actions taken from the command line.
pub fn actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned())
    )
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The compose service name, or project/service.
    pub service: String,
    /// The tag to deploy (default: the best candidate of a fresh check).
    #[arg(long)]
    pub tag: Option<String>,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    pub service: String,
    /// Any verified tag of the history (default: the previous verified one).
    #[arg(long)]
    pub to: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PinCommand {
    /// Keep SERVICE on TAG (default: its current tag) until unpinned.
    Pin {
        service: String,
        tag: Option<String>,
    },
    /// Let SERVICE follow new tags again.
    Unpin { service: String },
    /// Never move SERVICE to TAG.
    Ignore { service: String, tag: String },
    /// Allow SERVICE to move to TAG again.
    Unignore { service: String, tag: String },
}

pub async fn deploy(engine: &Engine, args: &DeployArgs) -> anyhow::Result<ExitCode> {
    let outcome = engine
        .deploy_service(&args.service, args.tag.as_deref(), &actor())
        .await?;
    Ok(report(&outcome))
}

pub async fn rollback(engine: &Engine, args: &RollbackArgs) -> anyhow::Result<ExitCode> {
    let outcome = engine
        .rollback(&args.service, args.to.as_deref(), &actor())
        .await?;
    Ok(report(&outcome))
}

fn report(outcome: &DeployOutcome) -> ExitCode {
    match outcome {
        DeployOutcome::Verified {
            revision_id,
            digest,
        } => {
            println!(
                "verified (revision {revision_id}, digest {})",
                digest.as_deref().unwrap_or("unknown")
            );
            ExitCode::SUCCESS
        }
        DeployOutcome::Failed {
            revision_id,
            reason,
        } => {
            eprintln!("failed (revision {revision_id}): {reason}");
            ExitCode::FAILURE
        }
        DeployOutcome::RolledBack {
            revision_id,
            reason,
        } => {
            eprintln!("failed and rolled back (revision {revision_id}): {reason}");
            ExitCode::FAILURE
        }
    }
}

pub async fn pin(engine: &Engine, command: &PinCommand) -> anyhow::Result<ExitCode> {
    let actor = actor();
    match command {
        PinCommand::Pin { service, tag } => {
            let tag = engine.pin(service, tag.as_deref(), &actor).await?;
            println!("{service} pinned to {tag}");
        }
        PinCommand::Unpin { service } => {
            engine.unpin(service, &actor).await?;
            println!("{service} unpinned");
        }
        PinCommand::Ignore { service, tag } => {
            engine.ignore(service, tag, &actor).await?;
            println!("{service} will not move to {tag}");
        }
        PinCommand::Unignore { service, tag } => {
            if !engine.unignore(service, tag, &actor).await? {
                println!("{tag} was not ignored for {service}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
