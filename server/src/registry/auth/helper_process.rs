//! Running a credential helper: a program that reads its request on stdin and prints JSON on
//! stdout, per Docker's credential-helper protocol. Docker's own helpers
//! (`docker-credential-<name>`) and Berth's cloud one (`berth-credential-helper`) both speak it.

use std::ffi::OsStr;
use std::process::{Output, Stdio};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use crate::registry::secret::{Credentials, Secret};

/// The user name helpers return when the secret is an identity (refresh) token.
pub const IDENTITY_TOKEN_USER: &str = "<token>";
/// A helper that has not answered by then is killed: a check must never hang on one.
pub const HELPER_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of a failed helper's output goes into the error (helpers print their own
/// message on failure, never the secret).
const SAID_LIMIT: usize = 400;

#[derive(Debug, thiserror::Error)]
pub enum HelperProcessError {
    #[error("cannot start it: {0}")]
    Start(#[source] std::io::Error),
    #[error("writing its stdin: {0}")]
    WriteStdin(#[source] std::io::Error),
    #[error("no answer within {} s", HELPER_TIMEOUT.as_secs())]
    AwaitAnswer,
    #[error("reading its answer: {0}")]
    ReadAnswer(#[source] std::io::Error),
}

/// The answer to `get`. `ExpiresAt` is Berth's addition; Docker's helpers leave it out.
#[derive(Deserialize)]
pub struct HelperAnswer {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
    #[serde(rename = "ExpiresAt", default)]
    pub expires_at: Option<DateTime<Utc>>,
}

impl HelperAnswer {
    pub fn credentials(self) -> Credentials {
        if self.username == IDENTITY_TOKEN_USER {
            Credentials::RefreshToken(Secret::new(self.secret))
        } else {
            Credentials::Basic {
                username: self.username,
                password: Secret::new(self.secret),
            }
        }
    }
}

/// Run `program args…` with `input` on stdin and `env` added to Berth's own environment,
/// killing it after [`HELPER_TIMEOUT`]. `Err` says why it could not run; a run that failed is
/// an `Ok` with its status, for the caller to read.
pub async fn run<K, V>(
    program: &OsStr,
    args: &[&str],
    input: &[u8],
    env: impl IntoIterator<Item = (K, V)>,
) -> Result<Output, HelperProcessError>
where
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .envs(env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = spawn(&mut command).await?;
    if let Some(mut stdin) = child.stdin.take() {
        match stdin.write_all(input).await {
            // It exited without reading its request (a usage error, say): what it printed
            // says why, so the answer is still read.
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
            written => written.map_err(HelperProcessError::WriteStdin)?,
        }
    }
    tokio::time::timeout(HELPER_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| HelperProcessError::AwaitAnswer)?
        .map_err(HelperProcessError::ReadAnswer)
}

/// Spawn `command`, again after a moment while it is "text file busy": a helper written just
/// now (an installer's, or a test's) stays busy while a process forked elsewhere in Berth
/// still holds the writer's descriptor, until that process execs.
async fn spawn(
    command: &mut tokio::process::Command,
) -> Result<tokio::process::Child, HelperProcessError> {
    let mut attempts = 0;
    loop {
        match command.spawn() {
            Err(error)
                if error.kind() == std::io::ErrorKind::ExecutableFileBusy && attempts < 5 =>
            {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            spawned => return spawned.map_err(HelperProcessError::Start),
        }
    }
}

/// What a helper printed (stdout, then stderr), trimmed and cut to a readable length.
pub fn said(output: &Output) -> String {
    let said = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    said.trim().chars().take(SAID_LIMIT).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_token_answer_is_a_refresh_token() {
        let answer: HelperAnswer =
            serde_json::from_str(r#"{"ServerURL":"r","Username":"<token>","Secret":"rt"}"#)
                .unwrap();
        assert_eq!(answer.expires_at, None, "Docker's helpers give no expiry");
        assert_eq!(
            answer.credentials(),
            Credentials::RefreshToken(Secret::new("rt"))
        );
    }

    #[tokio::test]
    async fn a_helper_that_cannot_start_says_so() {
        let error = run(
            OsStr::new("/nonexistent/helper"),
            &["get"],
            b"",
            [("A", "B")],
        )
        .await
        .unwrap_err();
        assert!(matches!(error, HelperProcessError::Start(_)), "{error}");
        assert!(
            error.to_string().starts_with("cannot start it: "),
            "{error}"
        );
    }
}
