//! `berth registry digest IMAGE [--platform OS/ARCH] [--json]` and
//! `berth registry tags IMAGE [--json]`: what Berth sees in a registry, with the same
//! configuration (and so the same credentials) as `berth serve`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde::Serialize;

use crate::config::Config;
use crate::registry::{ImageRef, Platform, Registries, RegistryApi};

#[derive(Debug, Args)]
pub struct RegistryArgs {
    #[command(subcommand)]
    pub command: RegistryCommand,
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Print the index digest (if the tag is multi-platform) and the platform digest.
    Digest {
        /// An image reference, e.g. nginx:1.27 or ghcr.io/owner/app:v2.
        image: String,
        /// The platform to resolve for (default: REGISTRY_PLATFORM, else this host's).
        #[arg(long, value_name = "OS/ARCH")]
        platform: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print every tag of the repository, with push times where the provider knows them.
    Tags {
        image: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct DigestOutput<'a> {
    image: String,
    platform: String,
    index_digest: Option<&'a str>,
    platform_digest: &'a str,
}

/// Run a `berth registry` subcommand.
pub async fn run(args: RegistryArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let registries = Registries::from_config(config)?;
    match args.command {
        RegistryCommand::Digest {
            image,
            platform,
            json,
        } => {
            let image = ImageRef::parse(&image)?;
            let platform = match platform {
                Some(text) => Platform::parse(&text)?,
                None => registries.platform().clone(),
            };
            // The registry error already says registry, provider, operation and cause in
            // one line; it is passed on as text so the chain is not printed twice.
            let remote = registries
                .resolve_digest_for(&image, &platform)
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            if json {
                let output = DigestOutput {
                    image: image.to_string(),
                    platform: platform.to_string(),
                    index_digest: remote.index.as_deref(),
                    platform_digest: &remote.platform,
                };
                println!("{}", serde_json::to_string_pretty(&output)?);
            } else {
                println!("image     {image}");
                if let Some(index) = &remote.index {
                    println!("index     {index}");
                }
                println!("platform  {} ({platform})", remote.platform);
            }
        }
        RegistryCommand::Tags { image, json } => {
            let image = ImageRef::parse(&image)?;
            let tags = registries
                .list_tags(&image)
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&tags)?);
            } else {
                let width = tags.iter().map(|tag| tag.name.len()).max().unwrap_or(0);
                for tag in &tags {
                    match tag.pushed_at {
                        Some(pushed) => println!("{:width$}  {}", tag.name, pushed.to_rfc3339()),
                        None => println!("{}", tag.name),
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
