//! The compose CLI: `pull` and `up` of one service. [`ComposeApi`] is the port;
//! [`ComposeCli`] runs `docker compose` (v2), or `docker-compose` where only v1 exists.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use tokio::process::Command;

/// How long one compose command may run before it is killed.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("neither `docker compose` nor `docker-compose` runs on this host")]
    Detect,
    #[error("cannot start `{command}`")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}): {output}")]
    Run {
        command: String,
        status: String,
        output: String,
    },
    #[error("`{command}` did not finish within {seconds} s and was stopped")]
    Timeout { command: String, seconds: u64 },
}

/// Which project a command acts on, exactly as compose was given it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeTarget {
    pub project: String,
    pub files: Vec<PathBuf>,
    pub project_dir: PathBuf,
    /// A docker config folder holding Berth's login to the service's registry
    /// (`DOCKER_CONFIG`); `None`: the host's own.
    pub docker_config: Option<PathBuf>,
}

/// A command that ran, and what it printed, for the deploy log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLog {
    pub command: String,
    pub output: String,
}

#[async_trait]
pub trait ComposeApi: Send + Sync {
    async fn pull(&self, target: &ComposeTarget, service: &str)
    -> Result<CommandLog, ComposeError>;
    /// `up -d --no-deps SERVICE`, with `--force-recreate` when asked.
    async fn up(
        &self,
        target: &ComposeTarget,
        service: &str,
        force_recreate: bool,
    ) -> Result<CommandLog, ComposeError>;
}

#[derive(Debug, Clone)]
pub struct ComposeCli {
    program: Vec<String>,
}

impl ComposeCli {
    /// `docker compose`, without checking that it runs.
    pub fn v2() -> ComposeCli {
        ComposeCli {
            program: vec!["docker".to_owned(), "compose".to_owned()],
        }
    }

    /// Prefer compose v2 (`docker compose`); fall back to v1 (`docker-compose`).
    pub async fn detect() -> Result<ComposeCli, ComposeError> {
        for program in [vec!["docker", "compose"], vec!["docker-compose"]] {
            let works = Command::new(program[0])
                .args(&program[1..])
                .arg("version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .await
                .is_ok_and(|status| status.success());
            if works {
                return Ok(ComposeCli {
                    program: program.into_iter().map(String::from).collect(),
                });
            }
        }
        Err(ComposeError::Detect)
    }

    async fn run(&self, target: &ComposeTarget, args: &[&str]) -> Result<CommandLog, ComposeError> {
        let mut command = Command::new(&self.program[0]);
        command.args(&self.program[1..]);
        command.arg("-p").arg(&target.project);
        for file in &target.files {
            command.arg("-f").arg(file);
        }
        command.arg("--project-directory").arg(&target.project_dir);
        command.args(args);
        if let Some(folder) = &target.docker_config {
            command.env("DOCKER_CONFIG", folder);
        }
        let text = describe(&self.program, target, args);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = command.spawn().map_err(|source| ComposeError::Spawn {
            command: text.clone(),
            source,
        })?;
        let output = tokio::time::timeout(COMMAND_TIMEOUT, child.wait_with_output())
            .await
            .map_err(|_| ComposeError::Timeout {
                command: text.clone(),
                seconds: COMMAND_TIMEOUT.as_secs(),
            })?
            .map_err(|source| ComposeError::Spawn {
                command: text.clone(),
                source,
            })?;
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if !output.status.success() {
            return Err(ComposeError::Run {
                command: text,
                status: output.status.to_string(),
                output: printed.trim().to_owned(),
            });
        }
        Ok(CommandLog {
            command: text,
            output: printed,
        })
    }
}

fn describe(program: &[String], target: &ComposeTarget, args: &[&str]) -> String {
    let files: String = target
        .files
        .iter()
        .map(|file| format!(" -f {}", file.display()))
        .collect();
    format!(
        "{} -p {}{files} {}",
        program.join(" "),
        target.project,
        args.join(" ")
    )
}

#[async_trait]
impl ComposeApi for ComposeCli {
    async fn pull(
        &self,
        target: &ComposeTarget,
        service: &str,
    ) -> Result<CommandLog, ComposeError> {
        self.run(target, &["pull", service]).await
    }

    async fn up(
        &self,
        target: &ComposeTarget,
        service: &str,
        force_recreate: bool,
    ) -> Result<CommandLog, ComposeError> {
        let mut args = vec!["up", "-d", "--no-deps"];
        if force_recreate {
            args.push("--force-recreate");
        }
        args.push(service);
        self.run(target, &args).await
    }
}
