//! The `berth` command line. Each subcommand lives in its own file; every one reads the
//! same configuration as `berth serve`.

mod check;
mod deploy;
mod doctor;
mod registry;
mod remote;
mod scan;
mod serve;
mod tags;
mod token;

use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::clock::SystemClock;
use crate::config::Config;
use crate::deploy::compose::ComposeCli;
use crate::deploy::health::HealthPolicy;
use crate::deploy::scanning::Scanning;
use crate::discovery::docker::EngineDocker;
use crate::engine::{Adapters, Engine};
use crate::events::EventBus;
use crate::registry::Registries;
use crate::store::Store;
use crate::writer_lock::{Attempt, Holder, WriterLock};

#[derive(Debug, Parser)]
#[command(
    name = "berth",
    version,
    about = "GitOps deployment agent for Docker Compose hosts"
)]
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
    #[command(flatten)]
    Engine(EngineCommand),
    /// Check the configuration and what it points at: keys, compose files, registry logins,
    /// Docker, compose, Trivy.
    Doctor(doctor::DoctorArgs),
    /// Resolve digests and list tags as Berth sees them.
    Registry(registry::RegistryArgs),
    /// Scan one image with Trivy now and print or save the report.
    Scan(scan::ScanArgs),
    /// Rank, sort, compare and classify image tags.
    Tags(tags::TagsArgs),
    /// Create, list and revoke the REST API's bearer tokens.
    Token(token::TokenArgs),
}

/// Commands that act through the engine, on the same store and configuration as `serve`.
#[derive(Debug, Subcommand)]
pub enum EngineCommand {
    /// Run one check cycle now: each service's tag, best candidate, and what Berth does.
    Check(check::CheckArgs),
    /// Every service the store knows and where it stands.
    Status(check::StatusArgs),
    /// Deploy a service now.
    Deploy(deploy::DeployArgs),
    /// Roll a service back to a verified revision.
    Rollback(deploy::RollbackArgs),
    #[command(flatten)]
    Pins(deploy::PinCommand),
}

/// The whole program: parse the arguments, start logging and the runtime, run the command.
///
/// It lives in the library, not in `main.rs`, for the release build's sake: `block_on` is
/// generic over the future it polls, so calling it from the binary crate made rustc compile
/// every async function reachable from [`Cli::run`] a second time there (96 s of a cold
/// release build, for a 30-line `main`). Here it is compiled once, with the rest.
pub fn main() -> ExitCode {
    crate::heap::use_an_arena_per_core();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("berth: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli.run()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("berth: {error:#}");
            ExitCode::FAILURE
        }
    }
}

impl Cli {
    /// Run the chosen command; `anyhow` stops here, at the binary's edge.
    pub async fn run(self) -> anyhow::Result<ExitCode> {
        let env_file = self.env_file;
        let load = || Config::load(env_file.as_deref());
        match self.command.unwrap_or(Command::Serve) {
            // Pure tag arithmetic needs no configuration: it works without an env file.
            Command::Tags(args) => Ok(tags::run(args)),
            Command::Serve => serve::run(load()?, env_file.clone())
                .await
                .map(|()| ExitCode::SUCCESS),
            Command::Scan(args) => scan::run(args, &load()?).await,
            // Doctor reports a configuration that does not load, so it reads it itself.
            Command::Doctor(args) => doctor::run(args, env_file.as_deref()).await,
            Command::Registry(args) => registry::run(args, &load()?).await,
            Command::Token(args) => {
                let store = Store::open(&load()?.server.database_url).await?;
                let code = token::run(args, &store).await;
                store.close().await;
                code
            }
            Command::Engine(command) => run_engine_command(&command, &load()?, env_file).await,
        }
    }
}

/// A command on the engine. One that acts takes the database's writer lock (and recovers
/// what a crash cut off) or, when a server holds it, is carried out by that server; one that
/// only reads neither recovers nor writes.
async fn run_engine_command(
    command: &EngineCommand,
    config: &Config,
    env_file: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let lock = match command.acting() {
        None => None,
        Some(name) => match take_writer_lock(config, name)? {
            Taken::Here(lock) => lock,
            Taken::ByServer(server) => return remote::run(&server, command).await,
        },
    };
    let store = Store::open(&config.server.database_url).await?;
    let engine = engine(config, env_file, store.clone(), EventBus::default()).await?;
    if command.acting().is_some() {
        recover(&engine).await?;
    }
    let code = match command {
        EngineCommand::Check(args) => check::check(&engine, args).await,
        EngineCommand::Status(args) => check::status(&engine, args).await,
        EngineCommand::Deploy(args) => deploy::deploy(&engine, args).await,
        EngineCommand::Rollback(args) => deploy::rollback(&engine, args).await,
        EngineCommand::Pins(command) => deploy::pin(&engine, command).await,
    };
    store.close().await;
    drop(lock);
    code
}

impl EngineCommand {
    /// The command's name when it changes something (the store, files, containers).
    fn acting(&self) -> Option<&'static str> {
        match self {
            EngineCommand::Check(args) if args.dry_run => None,
            EngineCommand::Status(_) => None,
            EngineCommand::Check(_) => Some("check"),
            EngineCommand::Deploy(_) => Some("deploy"),
            EngineCommand::Rollback(_) => Some("rollback"),
            EngineCommand::Pins(_) => Some("pin"),
        }
    }
}

enum Taken {
    /// This process holds the lock (`None`: an in-memory database has none to take).
    Here(Option<WriterLock>),
    ByServer(remote::Server),
}

/// The database's writer lock for `command`, or the server that holds it.
fn take_writer_lock(config: &Config, command: &str) -> anyhow::Result<Taken> {
    let Some(path) = WriterLock::path_for(&config.server.database_url) else {
        return Ok(Taken::Here(None));
    };
    match WriterLock::try_acquire(&path, &Holder::new(command))? {
        Attempt::Acquired(lock) => Ok(Taken::Here(Some(lock))),
        Attempt::Held(Some(holder)) => match remote::Server::of(&holder) {
            Some(server) => Ok(Taken::ByServer(server)),
            None => bail!(
                "{} is changing {} now; try again when it has finished",
                holder.describe(),
                config.server.database_url
            ),
        },
        Attempt::Held(None) => bail!(
            "another berth process holds {}; try again in a moment",
            path.display()
        ),
    }
}

/// Before anything else touches a service: converge deploys a crash cut off. Only the
/// process that holds the writer lock may.
pub async fn recover(engine: &Engine) -> anyhow::Result<()> {
    engine
        .recover()
        .await
        .context("recovering interrupted deploys")?;
    Ok(())
}

/// The engine with the real adapters, as every command that checks or deploys needs it.
/// It does not recover: see [`recover`].
pub async fn engine(
    config: &Config,
    env_file: Option<PathBuf>,
    store: Store,
    events: EventBus,
) -> anyhow::Result<Engine> {
    let docker = EngineDocker::connect()
        .await
        .context("connecting to the Docker engine")?;
    let compose = ComposeCli::detect().await.unwrap_or_else(|error| {
        tracing::warn!(%error, "deploys will fail until the compose CLI is installed");
        ComposeCli::v2()
    });
    let registry = Registries::from_config(config).context("configuring the registries")?;
    let health = HealthPolicy {
        timeout: config.engine.health_timeout,
        stable: config.engine.health_stable,
        ..HealthPolicy::default()
    };
    let engine = Engine::new(
        store,
        events,
        Arc::new(SystemClock),
        env_file,
        Adapters {
            docker: Arc::new(docker),
            compose: Arc::new(compose),
            registry: Arc::new(registry),
        },
        health,
    );
    Ok(
        match Scanning::from_config(config).context("reading the Trivy settings")? {
            Some(scanning) => engine.with_scanning(scanning),
            None => engine,
        },
    )
}
