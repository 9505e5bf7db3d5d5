//! `berth token create|list|revoke`: bearer tokens for the REST API. A token is printed once,
//! when it is created; the store keeps only its SHA-256.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use crate::api::token::TokenScope;
use crate::clock::{Clock, SystemClock};
use crate::store::Store;

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (once: it cannot be shown again).
    Create {
        /// A unique name; the audit trail records API actions as `token:NAME`.
        name: String,
        /// `read` may only GET; `write` may also deploy, roll back, pin and exclude.
        #[arg(long, value_enum)]
        scope: TokenScope,
    },
    /// Every token: name, scope, when it was created, last used and revoked.
    List,
    /// Revoke a token by name or id; requests with it get 401 from then on.
    Revoke {
        /// The token's name or its id from `berth token list`.
        name_or_id: String,
    },
}

pub async fn run(args: TokenArgs, store: &Store) -> anyhow::Result<ExitCode> {
    let now = SystemClock.now();
    match args.command {
        TokenCommand::Create { name, scope } => {
            check_name(&name)?;
            let existing = store.api_tokens().await?;
            if existing.iter().any(|token| token.name == name) {
                bail!(
                    "NAME: a token named {name:?} exists already (names stay taken after a \
                     revoke, so the audit trail stays unambiguous); choose another name"
                );
            }
            let created = store
                .create_api_token(&name, scope, now)
                .await
                .context("creating the token")?;
            eprintln!(
                "Created {} token {:?} (id {}). It is shown once; store it now:",
                scope.as_str(),
                created.token.name,
                created.token.id
            );
            println!("{}", created.secret);
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::List => {
            let tokens = store.api_tokens().await?;
            if tokens.is_empty() {
                println!("No API tokens; create one with `berth token create NAME --scope read`.");
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:<5} {:<24} {:<6} {:<20} {:<20} REVOKED",
                "ID", "NAME", "SCOPE", "CREATED", "LAST USED"
            );
            let time = |at: Option<chrono::DateTime<chrono::Utc>>| {
                at.map_or_else(
                    || "-".to_owned(),
                    |at| at.format("%Y-%m-%d %H:%M:%S").to_string(),
                )
            };
            for token in tokens {
                println!(
                    "{:<5} {:<24} {:<6} {:<20} {:<20} {}",
                    token.id,
                    token.name,
                    token.scope.as_str(),
                    time(Some(token.created_at)),
                    time(token.last_used_at),
                    time(token.revoked_at)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Revoke { name_or_id } => {
            match store.revoke_api_token(&name_or_id, now).await? {
                Some(token) => {
                    println!("Revoked token {:?} (id {}).", token.name, token.id);
                    Ok(ExitCode::SUCCESS)
                }
                None => bail!(
                    "NAME|ID: no token is named or numbered {name_or_id:?}; `berth token list` \
                     shows them"
                ),
            }
        }
    }
}

/// Names end up in the audit trail and in `token list`'s columns: keep them plain.
fn check_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty() || name.len() > 64 {
        bail!("NAME: {name:?} must be 1 to 64 characters long");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        bail!("NAME: {name:?} may hold only letters, digits, '.', '_' and '-'");
    }
    Ok(())
}
