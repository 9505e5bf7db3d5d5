//! The cloud logins that need a vendor SDK (AWS ECR; Azure ACR with an Entra service
//! principal; GCP with a service-account key) are made by `berth-credential-helper`, a program
//! of its own (the `credential-helper` package), over Docker's credential-helper protocol.
//! The daemon runs it only when a login is due, so it neither compiles nor maps the SDKs.
//!
//! The helper is `CLOUD_CREDENTIAL_HELPER` if set, else `berth-credential-helper` beside the
//! running `berth`, else on `PATH`. It gets the provider's keys from the env file in its
//! environment. A login is reused until three quarters of its life (`ExpiresAt`) have
//! passed; one run at a time per registry, so a cycle's first checks share it.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::helper_process::{self, HelperAnswer, HelperProcessError};
use super::{AuthError, AuthProvider, PushTimes, VendorHttp};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::registry::reference::ImageRef;
use crate::registry::secret::{Credentials, Secret};

/// The key that names the helper program.
pub const HELPER_KEY: &str = "CLOUD_CREDENTIAL_HELPER";
/// The helper's file name, beside `berth` or on `PATH`.
pub const HELPER_PROGRAM: &str = "berth-credential-helper";
/// A login whose answer gives no expiry is reused this long.
const REUSE_WITHOUT_EXPIRY: chrono::Duration = chrono::Duration::minutes(10);
/// Push times are read again at least this often (a tag can be pushed again).
const PUSH_TIMES_REUSE: chrono::Duration = chrono::Duration::hours(1);

/// Which cloud's login the helper makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    Ecr,
    Acr,
    Gcp,
}

impl Cloud {
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Ecr => "AWS ECR",
            Cloud::Acr => "Azure ACR",
            Cloud::Gcp => "GCP",
        }
    }

    /// The helper's first argument.
    fn argument(self) -> &'static str {
        match self {
            Cloud::Ecr => "ecr",
            Cloud::Acr => "acr",
            Cloud::Gcp => "gcp",
        }
    }

    /// The env file's keys the helper reads.
    fn keys(self) -> &'static [&'static str] {
        match self {
            Cloud::Ecr => &[
                "AWS_REGION",
                "AWS_ROLE_ARN",
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
                "AWS_ENDPOINT_URL",
            ],
            Cloud::Acr => &["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"],
            Cloud::Gcp => &["GCP_SERVICE_ACCOUNT_JSON"],
        }
    }
}

/// `push-times`' request and answer (the helper's `PushTimesQuery` and `PushTimes`).
#[derive(Serialize)]
struct PushTimesQuery<'q> {
    #[serde(rename = "ServerURL")]
    server_url: &'q str,
    #[serde(rename = "Repository")]
    repository: &'q str,
}

#[derive(Deserialize)]
struct PushTimesAnswer {
    #[serde(rename = "Tags")]
    tags: BTreeMap<String, DateTime<Utc>>,
}

struct Login {
    credentials: Credentials,
    renew_at: DateTime<Utc>,
}

struct KnownPushTimes {
    times: PushTimes,
    read_at: DateTime<Utc>,
}

/// A cloud registry's login, made by the helper program.
pub struct CloudHelperCredentials {
    cloud: Cloud,
    registry: String,
    program: PathBuf,
    env: Vec<(&'static str, Secret)>,
    clock: Arc<dyn Clock>,
    // Async locks: held across the helper's run, so concurrent checks wait for one run.
    login: tokio::sync::Mutex<Option<Login>>,
    push_times: tokio::sync::Mutex<HashMap<String, KnownPushTimes>>,
    runs: std::sync::atomic::AtomicUsize,
}

impl CloudHelperCredentials {
    pub fn new(cloud: Cloud, registry: &str, config: &Config) -> CloudHelperCredentials {
        CloudHelperCredentials::with_clock(cloud, registry, config, Arc::new(SystemClock))
    }

    /// With the clock that decides when a login is due again.
    pub fn with_clock(
        cloud: Cloud,
        registry: &str,
        config: &Config,
        clock: Arc<dyn Clock>,
    ) -> CloudHelperCredentials {
        let env = cloud
            .keys()
            .iter()
            .filter_map(|key| config.get(key).map(|value| (*key, Secret::new(value))))
            .collect();
        CloudHelperCredentials {
            cloud,
            registry: registry.to_owned(),
            program: helper_program(config),
            env,
            clock,
            login: tokio::sync::Mutex::new(None),
            push_times: tokio::sync::Mutex::new(HashMap::new()),
            runs: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// How many times the helper was run: what the caches saved.
    pub fn runs(&self) -> usize {
        self.runs.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Run the helper with `action` and `input`, and read its answer.
    async fn run<T: serde::de::DeserializeOwned>(
        &self,
        http: &VendorHttp,
        action: &'static str,
        input: &[u8],
    ) -> Result<T, AuthError> {
        self.runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let env = self.env.iter().map(|(key, value)| (*key, value.expose()));
        let output = helper_process::run(
            self.program.as_os_str(),
            &[self.cloud.argument(), action],
            input,
            env,
        )
        .await;
        // One run is one exchange with the vendor, whatever calls the SDK made in it.
        let succeeded = output.as_ref().is_ok_and(|output| output.status.success());
        http.count_helper_run(succeeded);
        let (program, action) = (
            self.program.display().to_string(),
            format!("{} {action}", self.cloud.argument()),
        );
        let output = match output {
            Ok(output) => output,
            Err(source @ HelperProcessError::Start(_)) => {
                return Err(AuthError::StartCloudHelper {
                    program,
                    action,
                    source,
                });
            }
            Err(source) => {
                return Err(AuthError::RunCloudHelper {
                    program,
                    action,
                    source,
                });
            }
        };
        if !output.status.success() {
            return Err(AuthError::CloudHelperFailed {
                program,
                action,
                status: output.status,
                said: helper_process::said(&output),
            });
        }
        serde_json::from_slice(&output.stdout).map_err(|source| AuthError::ReadCloudHelperAnswer {
            program,
            action,
            source,
        })
    }
}

/// `CLOUD_CREDENTIAL_HELPER`, else the helper beside the running binary, else on `PATH`.
fn helper_program(config: &Config) -> PathBuf {
    if let Some(program) = config.non_empty(HELPER_KEY) {
        return PathBuf::from(program);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join(HELPER_PROGRAM)))
        .filter(|beside| beside.is_file())
        .unwrap_or_else(|| PathBuf::from(HELPER_PROGRAM))
}

/// Reuse a login until three quarters of its life have passed.
fn renew_at(fetched: DateTime<Utc>, expires_at: Option<DateTime<Utc>>) -> DateTime<Utc> {
    match expires_at {
        Some(expires_at) if expires_at > fetched => fetched + (expires_at - fetched) * 3 / 4,
        Some(_) => fetched,
        None => fetched + REUSE_WITHOUT_EXPIRY,
    }
}

#[async_trait::async_trait]
impl AuthProvider for CloudHelperCredentials {
    fn name(&self) -> &'static str {
        self.cloud.name()
    }

    async fn credentials(&self, http: &VendorHttp) -> Result<Credentials, AuthError> {
        let mut login = self.login.lock().await;
        if let Some(login) = login.as_ref()
            && self.clock.now() < login.renew_at
        {
            return Ok(login.credentials.clone());
        }
        let fetched = self.clock.now();
        let answer: HelperAnswer = self.run(http, "get", self.registry.as_bytes()).await?;
        let renew_at = renew_at(fetched, answer.expires_at);
        let credentials = answer.credentials();
        *login = Some(Login {
            credentials: credentials.clone(),
            renew_at,
        });
        Ok(credentials)
    }

    /// ECR's push times, read again only when a listed tag has none yet, or after an hour.
    async fn push_times(
        &self,
        http: &VendorHttp,
        image: &ImageRef,
        tags: &[String],
    ) -> Result<Option<PushTimes>, AuthError> {
        if self.cloud != Cloud::Ecr {
            return Ok(None);
        }
        let mut known = self.push_times.lock().await;
        let now = self.clock.now();
        if let Some(known) = known.get(&image.repository)
            && now - known.read_at < PUSH_TIMES_REUSE
            && tags.iter().all(|tag| known.times.contains_key(tag))
        {
            return Ok(Some(known.times.clone()));
        }
        let query = PushTimesQuery {
            server_url: &self.registry,
            repository: &image.repository,
        };
        let query = serde_json::to_vec(&query).expect("a query of two strings serialises");
        let answer: PushTimesAnswer = self.run(http, "push-times", &query).await?;
        let times: PushTimes = answer.tags.into_iter().collect();
        known.insert(
            image.repository.clone(),
            KnownPushTimes {
                times: times.clone(),
                read_at: now,
            },
        );
        Ok(Some(times))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_is_reused_for_three_quarters_of_its_life() {
        let fetched = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let twelve_hours = fetched + chrono::Duration::hours(12);
        assert_eq!(
            renew_at(fetched, Some(twelve_hours)),
            fetched + chrono::Duration::hours(9)
        );
        let already_expired = fetched - chrono::Duration::hours(1);
        assert_eq!(renew_at(fetched, Some(already_expired)), fetched);
        assert_eq!(renew_at(fetched, None), fetched + REUSE_WITHOUT_EXPIRY);
    }

    #[test]
    fn an_empty_helper_key_counts_as_unset_and_a_set_one_names_the_program() {
        let config = |value: Option<&str>| {
            let values = value
                .map(|value| (HELPER_KEY.to_owned(), value.to_owned()))
                .into_iter()
                .collect();
            Config::from_sources(PathBuf::from(".updater.env"), values, []).unwrap()
        };
        let unset = helper_program(&config(None));
        assert_ne!(unset, PathBuf::new());
        assert_eq!(helper_program(&config(Some(""))), unset);
        assert_eq!(
            helper_program(&config(Some("/opt/helpers/cloud-login"))),
            PathBuf::from("/opt/helpers/cloud-login")
        );
    }
}
