//! The `berth` command line. Each subcommand lives in its own file; every one reads the
//! same configuration as `berth serve`.

mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(name = "berth", version, about = "GitOps deployment agent for Docker Compose hosts")]
pub struct Cli {
    /// The env file to read (default: .updater.env in the working directory, if present).
    #[arg(long, global = true, value_name = "FILE")]
    pub env_file: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the dashboard and API and run the check loop (the default).
    Serve,
}

impl Cli {
    /// Run the chosen command; `anyhow` stops here, at the binary's edge.
    pub async fn run(self) -> anyhow::Result<ExitCode> {
        let config = Config::load(self.env_file.as_deref())?;
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => serve::run(config).await.map(|()| ExitCode::SUCCESS),
        }
    }
}
