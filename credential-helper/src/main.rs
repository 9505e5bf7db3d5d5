//! `berth-credential-helper <ecr|acr|gcp> <get|push-times>`: see the library's docs for the
//! protocol. Run by `berth`; by hand, with the env file's keys exported (it reads only its
//! environment), it checks a cloud login:
//! `echo 123456789012.dkr.ecr.eu-west-1.amazonaws.com | berth-credential-helper ecr get`.

use std::io::{Read, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use berth_credential_helper::{PushTimesQuery, acr, ecr, gcp, registry_host};
use clap::{Parser, ValueEnum};

#[derive(Parser)]
#[command(
    name = "berth-credential-helper",
    version,
    about = "Cloud registry logins for berth, over Docker's credential-helper protocol"
)]
struct Cli {
    /// Whose login: AWS ECR, Azure ACR (Entra ID service principal), GCP (service account).
    #[arg(value_enum)]
    provider: Provider,
    /// `get`: the registry host on stdin, the login as JSON on stdout. `push-times` (ECR
    /// only): {"ServerURL", "Repository"} on stdin, {"Tags": {tag: time}} on stdout.
    #[arg(value_enum)]
    action: Action,
}

#[derive(Clone, Copy, ValueEnum)]
enum Provider {
    Ecr,
    Acr,
    Gcp,
}

#[derive(Clone, Copy, ValueEnum)]
enum Action {
    Get,
    PushTimes,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(answer) => {
            let mut stdout = std::io::stdout().lock();
            let written = stdout
                .write_all(answer.as_bytes())
                .and_then(|()| stdout.write_all(b"\n"));
            if written.is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            // `{:#}` prints the whole chain: the SDKs put the useful part in the sources.
            eprintln!("berth-credential-helper: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The helper's settings are the env file's keys, which the daemon passes on; an empty value
/// counts as unset, as in the env file.
fn var(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|value| !value.is_empty())
}

async fn run(cli: Cli) -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("reading stdin")?;
    let answer = match (cli.provider, cli.action) {
        (Provider::Ecr, Action::Get) => {
            let registry = registry_host(&input);
            let client = ecr::client(&ecr::EcrSettings::from_env(registry, var)).await;
            serde_json::to_string(&ecr::login(&client, registry).await?)
        }
        (Provider::Ecr, Action::PushTimes) => {
            let query: PushTimesQuery = serde_json::from_str(&input)
                .context("stdin is not {\"ServerURL\", \"Repository\"} JSON")?;
            let registry = registry_host(&query.server_url);
            let client = ecr::client(&ecr::EcrSettings::from_env(registry, var)).await;
            serde_json::to_string(&ecr::push_times(&client, &query.repository).await?)
        }
        (Provider::Acr, Action::Get) => {
            let principal = acr::ServicePrincipal::from_env(var)?;
            let exchange = acr::AcrExchange::service_principal(registry_host(&input), &principal)?;
            serde_json::to_string(&exchange.login().await?)
        }
        (Provider::Gcp, Action::Get) => {
            let key = var("GCP_SERVICE_ACCOUNT_JSON").ok_or(gcp::GcpError::ReadSettings)?;
            serde_json::to_string(&gcp::login(registry_host(&input), &key).await?)
        }
        (Provider::Acr | Provider::Gcp, Action::PushTimes) => {
            bail!("push-times: only ECR has an API for push times here")
        }
    };
    answer.context("writing the answer as JSON")
}
