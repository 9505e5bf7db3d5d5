//! Acting commands carried out by the running `berth serve`: when a server holds the
//! database's writer lock, `deploy`, `rollback`, `pin`, `unpin`, `ignore` and `unignore` are
//! sent to its REST API with the local secret from the lock's file, so there is one writer
//! and the server's own checks and rollouts see what the command did.

use std::process::ExitCode;

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};

use super::EngineCommand;
use super::deploy::{PinCommand, actor};
use crate::api::token::LOCAL_ACTOR_HEADER;
use crate::writer_lock::Holder;

/// The server a command goes through.
pub struct Server {
    base: String,
    secret: String,
    holder: String,
    client: reqwest::Client,
}

impl Server {
    /// The server a lock holder names, if it is one.
    pub fn of(holder: &Holder) -> Option<Server> {
        let (Some(addr), Some(secret)) = (&holder.listen_addr, &holder.secret) else {
            return None;
        };
        // A server bound to every address is reached on loopback.
        let addr = addr
            .replace("0.0.0.0:", "127.0.0.1:")
            .replace("[::]:", "[::1]:");
        Some(Server {
            base: format!("http://{addr}/api/v1"),
            secret: secret.clone(),
            holder: holder.describe(),
            client: reqwest::Client::new(),
        })
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.secret)
            .header(LOCAL_ACTOR_HEADER, actor());
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("sending `{method} {path}` to {}", self.holder))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !status.is_success() {
            let detail = value["detail"].as_str().unwrap_or(text.as_str());
            bail!("{} refused it ({status}): {detail}", self.holder);
        }
        Ok(value)
    }

    /// The id of the service `selector` names (`name` or `project/name`).
    async fn service_id(&self, selector: &str) -> anyhow::Result<i64> {
        let services = self.call(Method::GET, "/services", None).await?;
        let matches: Vec<&Value> = services
            .as_array()
            .into_iter()
            .flatten()
            .filter(|service| match selector.split_once('/') {
                Some((project, name)) => service["project"] == project && service["name"] == name,
                None => service["name"] == selector,
            })
            .collect();
        match matches.as_slice() {
            [one] => one["id"]
                .as_i64()
                .context("the server's service list has no id"),
            [] => bail!("no service is named {selector:?}; `berth status` lists them"),
            _ => bail!("{selector:?} is ambiguous; use project/service"),
        }
    }
}

/// Carry out `command` through `server`.
pub async fn run(server: &Server, command: &EngineCommand) -> anyhow::Result<ExitCode> {
    eprintln!("carried out by {}", server.holder);
    match command {
        EngineCommand::Deploy(args) => {
            let id = server.service_id(&args.service).await?;
            let body = json!({ "tag": args.tag });
            let result = server
                .call(Method::POST, &format!("/services/{id}/deploy"), Some(body))
                .await?;
            Ok(report(&result))
        }
        EngineCommand::Rollback(args) => {
            let id = server.service_id(&args.service).await?;
            let body = json!({ "to": args.to });
            let result = server
                .call(
                    Method::POST,
                    &format!("/services/{id}/rollback"),
                    Some(body),
                )
                .await?;
            Ok(report(&result))
        }
        EngineCommand::Pins(pins) => {
            match pins {
                PinCommand::Pin { service: name, tag } => {
                    let id = server.service_id(name).await?;
                    let body = json!({ "tag": tag });
                    let state = server
                        .call(Method::POST, &format!("/services/{id}/pin"), Some(body))
                        .await?;
                    let tag = state["pinned_tag"].as_str().unwrap_or_default();
                    println!("{name} pinned to {tag}");
                }
                PinCommand::Unpin { service: name } => {
                    let id = server.service_id(name).await?;
                    let path = format!("/services/{id}/pin");
                    server.call(Method::DELETE, &path, None).await?;
                    println!("{name} unpinned");
                }
                PinCommand::Ignore { service: name, tag } => {
                    let id = server.service_id(name).await?;
                    let body = json!({ "tag": tag });
                    let path = format!("/services/{id}/ignored");
                    server.call(Method::POST, &path, Some(body)).await?;
                    println!("{name} will not move to {tag}");
                }
                PinCommand::Unignore { service: name, tag } => {
                    let id = server.service_id(name).await?;
                    let path = format!("/services/{id}/ignored/{tag}");
                    server.call(Method::DELETE, &path, None).await?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        // A server checks on its own schedule; a cycle of this process would be a second
        // writer.
        EngineCommand::Check(_) | EngineCommand::Status(_) => bail!(
            "{} checks this database on its own schedule; `berth check --dry-run` shows what a \
             check would do, and the dashboard's \"Check now\" runs one",
            server.holder
        ),
    }
}

/// A deploy's result as `berth deploy` prints it in-process.
fn report(result: &Value) -> ExitCode {
    let revision = result["revision_id"].as_i64().unwrap_or_default();
    let tag = result["tag"].as_str().unwrap_or_default();
    let reason = result["reason"].as_str().unwrap_or_default();
    match result["verdict"].as_str() {
        Some("verified") => {
            println!("{tag} verified (revision {revision})");
            ExitCode::SUCCESS
        }
        Some("rolled_back") => {
            eprintln!("{tag} failed and was rolled back (revision {revision}): {reason}");
            ExitCode::FAILURE
        }
        _ => {
            eprintln!("{tag} failed (revision {revision}): {reason}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_is_reached_on_loopback_and_a_command_holder_is_no_server() {
        let mut holder = Holder::new("serve");
        holder.listen_addr = Some("0.0.0.0:8080".into());
        holder.secret = Some("s".into());
        let server = Server::of(&holder).unwrap();
        assert_eq!(server.base, "http://127.0.0.1:8080/api/v1");
        assert!(Server::of(&Holder::new("deploy")).is_none());
    }

    #[test]
    fn results_print_as_in_process() {
        let verified = json!({"revision_id": 3, "tag": "1.1.0", "verdict": "verified"});
        assert_eq!(report(&verified), ExitCode::SUCCESS);
        let failed =
            json!({"revision_id": 4, "tag": "1.2.0", "verdict": "rolled_back", "reason": "x"});
        assert_eq!(report(&failed), ExitCode::FAILURE);
    }
}
