//! Every registry Berth talks to, built from the configuration: each image is routed to
//! its registry's client and auth provider. This is the engine's [`RegistryApi`].

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

use super::auth::provider_for;
use super::client::{ClientLimits, RegistryClient};
use super::error::{Cause, Operation, RegistryError};
use super::index_cache::IndexCache;
use super::manifest::Platform;
use super::ratelimit::{Governor, GovernorSettings, RegistryStatus};
use super::reference::{DOCKER_HUB, ImageRef};
use super::{Credentials, DigestCheck, RegistryApi, RegistryLogin, RemoteDigest, RemoteTag};
use crate::config::{Config, duration};

/// Docker Hub's registry API host; `docker.io` is only the name in references.
const DOCKER_HUB_ENDPOINT: &str = "https://registry-1.docker.io/";

#[derive(Debug, thiserror::Error)]
pub enum RegistriesError {
    #[error("{key}={value:?}: {reason}")]
    ReadKey {
        key: &'static str,
        value: String,
        reason: String,
    },
    #[error("building the HTTP client: {0}")]
    BuildHttpClient(#[source] reqwest::Error),
}

/// All registries, with one client per registry host made on first use.
pub struct Registries {
    config: Config,
    http: reqwest::Client,
    insecure: Vec<String>,
    platform: Platform,
    governor: Arc<Governor>,
    indexes: Arc<IndexCache>,
    limits: ClientLimits,
    clients: Mutex<HashMap<String, Arc<RegistryClient>>>,
}

impl Registries {
    /// Read `INSECURE_REGISTRIES`, `REGISTRY_PLATFORM`, `REGISTRY_TIMEOUT`,
    /// `REGISTRY_TAG_PAGE_SIZE`, `REGISTRY_CONCURRENCY`, `REGISTRY_REQUESTS_PER_MINUTE`,
    /// `REGISTRY_MAX_RETRY_WAIT`.
    pub fn from_config(config: &Config) -> Result<Registries, RegistriesError> {
        let governor = Arc::new(Governor::new(governor_settings(config)?));
        Registries::with_governor(config, governor)
    }

    /// Like [`Registries::from_config`], keeping an existing governor, so a configuration
    /// re-read does not forget which registry is rate limited.
    pub fn with_governor(
        config: &Config,
        governor: Arc<Governor>,
    ) -> Result<Registries, RegistriesError> {
        let timeout = read_key(
            config,
            "REGISTRY_TIMEOUT",
            Duration::from_secs(30),
            |text| duration::parse(text).map_err(|error| error.to_string()),
        )?;
        let platform = read_key(config, "REGISTRY_PLATFORM", Platform::host(), |text| {
            Platform::parse(text).map_err(|error| error.to_string())
        })?;
        let limits = ClientLimits {
            tag_page_size: read_key(
                config,
                "REGISTRY_TAG_PAGE_SIZE",
                ClientLimits::default().tag_page_size,
                |text| {
                    text.parse::<u32>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| "expected a positive whole number".into())
                },
            )?,
            ..ClientLimits::default()
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::limited(10))
            .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(RegistriesError::BuildHttpClient)?;
        let insecure = config
            .get("INSECURE_REGISTRIES")
            .unwrap_or_default()
            .split([',', ' '])
            .filter(|host| !host.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(Registries {
            config: config.clone(),
            http,
            insecure,
            platform,
            governor,
            indexes: Arc::default(),
            limits,
            clients: Mutex::default(),
        })
    }

    /// Resolve digests for `platform` instead of the configured one.
    pub fn with_platform(mut self, platform: Platform) -> Registries {
        self.platform = platform;
        self
    }

    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    pub fn governor(&self) -> &Arc<Governor> {
        &self.governor
    }

    /// Each registry's last-known quota and rate limit, auth state, last error and request
    /// counts, for the dashboard, the API and `/metrics`.
    pub fn status(&self) -> Vec<RegistryStatus> {
        self.governor.status()
    }

    /// The client for `registry` (as written in references).
    pub fn client(&self, registry: &str) -> Arc<RegistryClient> {
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        clients
            .entry(registry.to_owned())
            .or_insert_with(|| {
                Arc::new(RegistryClient::new(
                    registry,
                    self.endpoint(registry),
                    self.http.clone(),
                    provider_for(registry, &self.config),
                    self.governor.gate(registry),
                    self.indexes.clone(),
                    self.limits,
                ))
            })
            .clone()
    }

    /// Whether `registry` is reached over plain HTTP (loopback, or `INSECURE_REGISTRIES`).
    pub fn uses_plain_http(&self, registry: &str) -> bool {
        registry != DOCKER_HUB
            && (is_loopback(registry) || self.insecure.iter().any(|host| host == registry))
    }

    /// Like the Docker engine: loopback registries and `INSECURE_REGISTRIES` over plain
    /// HTTP, everything else over TLS only.
    fn endpoint(&self, registry: &str) -> Url {
        let text = if registry == DOCKER_HUB {
            DOCKER_HUB_ENDPOINT.to_owned()
        } else if self.uses_plain_http(registry) {
            format!("http://{registry}/")
        } else {
            format!("https://{registry}/")
        };
        // The host was validated by ImageRef::parse, so it always forms a URL.
        Url::parse(&text)
            .unwrap_or_else(|_| Url::parse("https://invalid.invalid/").expect("a constant URL"))
    }

    /// [`RegistryApi::resolve_digest`] for another platform.
    pub async fn resolve_digest_for(
        &self,
        image: &ImageRef,
        platform: &Platform,
    ) -> Result<RemoteDigest, RegistryError> {
        let client = self.client(&image.registry);
        client.resolve(image, platform).await.map_err(|cause| {
            client.error(
                Operation::ResolveDigest {
                    reference: image.to_string(),
                },
                cause,
            )
        })
    }
}

#[async_trait::async_trait]
impl RegistryApi for Registries {
    fn status(&self) -> Vec<RegistryStatus> {
        Registries::status(self)
    }

    async fn list_tags(&self, image: &ImageRef) -> Result<Vec<RemoteTag>, RegistryError> {
        let client = self.client(&image.registry);
        let names = client.list_tags(image).await?;
        let push_times = match client
            .provider()
            .push_times(client.vendor_http(), image, &names)
            .await
        {
            Ok(times) => times.unwrap_or_default(),
            Err(error) => {
                // Push times only refine the ranking; the tags themselves are still right.
                tracing::warn!(registry = %image.registry, provider = client.provider().name(), %error, "push times unavailable");
                // Kept as the registry's last error all the same, so the dashboard shows it.
                let operation = Operation::PushTimes {
                    repository: image.repository.clone(),
                };
                client.remember_failure(format!(
                    "registry {} ({}): {operation}: {error}",
                    image.registry,
                    client.provider().name()
                ));
                Default::default()
            }
        };
        Ok(names
            .into_iter()
            .map(|name| RemoteTag {
                pushed_at: push_times.get(&name).copied(),
                name,
            })
            .collect())
    }

    async fn resolve_digest(&self, image: &ImageRef) -> Result<RemoteDigest, RegistryError> {
        self.resolve_digest_for(image, &self.platform).await
    }

    async fn pull_login(&self, image: &ImageRef) -> Result<Option<RegistryLogin>, RegistryError> {
        let client = self.client(&image.registry);
        if client.provider().is_host_login() {
            return Ok(None);
        }
        let credentials = client
            .provider()
            .credentials(client.vendor_http())
            .await
            .map_err(|source| {
                client.error(Operation::Authenticate, Cause::Credentials { source })
            })?;
        Ok(match credentials {
            Credentials::Anonymous => None,
            credentials => Some(RegistryLogin {
                registry: image.registry.clone(),
                credentials,
            }),
        })
    }

    async fn check_digest(
        &self,
        image: &ImageRef,
        local_repo_digests: &[String],
    ) -> Result<DigestCheck, RegistryError> {
        let client = self.client(&image.registry);
        client
            .check_digest(image, &self.platform, local_repo_digests)
            .await
            .map_err(|cause| {
                client.error(
                    Operation::ResolveDigest {
                        reference: image.to_string(),
                    },
                    cause,
                )
            })
    }

    async fn image_created(
        &self,
        image: &ImageRef,
    ) -> Result<Option<DateTime<Utc>>, RegistryError> {
        let client = self.client(&image.registry);
        client
            .created(image, &self.platform)
            .await
            .map_err(|cause| {
                client.error(
                    Operation::FetchManifest {
                        reference: image.to_string(),
                    },
                    cause,
                )
            })
    }
}

/// `localhost`, `127.x.x.x`, `[::1]`, with or without a port.
pub fn is_loopback(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => registry.split(':').next().unwrap_or_default(),
    };
    host == "localhost"
        || host
            .parse::<IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

fn governor_settings(config: &Config) -> Result<GovernorSettings, RegistriesError> {
    let defaults = GovernorSettings::default();
    Ok(GovernorSettings {
        concurrency: read_key(
            config,
            "REGISTRY_CONCURRENCY",
            defaults.concurrency,
            |text| {
                text.parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| "expected a positive whole number".into())
            },
        )?,
        requests_per_minute: read_key(config, "REGISTRY_REQUESTS_PER_MINUTE", None, |text| {
            text.parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .map(Some)
                .ok_or_else(|| "expected a positive whole number".into())
        })?,
        max_wait: read_key(
            config,
            "REGISTRY_MAX_RETRY_WAIT",
            defaults.max_wait,
            |text| duration::parse(text).map_err(|error| error.to_string()),
        )?,
        max_retries: defaults.max_retries,
    })
}

fn read_key<T>(
    config: &Config,
    key: &'static str,
    default: T,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T, RegistriesError> {
    match config
        .get(key)
        .map(str::trim)
        .filter(|text| !text.is_empty())
    {
        None => Ok(default),
        Some(text) => parse(text).map_err(|reason| RegistriesError::ReadKey {
            key,
            value: text.to_owned(),
            reason,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_for_loopback_and_insecure_registries() {
        let config = crate::config::Config::from_sources(
            std::path::PathBuf::from("/nonexistent/.updater.env"),
            [(
                "INSECURE_REGISTRIES".to_owned(),
                "reg.internal:5000, other.lan".to_owned(),
            )]
            .into_iter()
            .collect(),
            std::iter::empty(),
        )
        .unwrap();
        let registries = Registries::from_config(&config).unwrap();
        let endpoint = |host: &str| registries.endpoint(host).to_string();
        assert_eq!(endpoint("docker.io"), "https://registry-1.docker.io/");
        assert_eq!(endpoint("ghcr.io"), "https://ghcr.io/");
        assert_eq!(endpoint("reg.internal:5000"), "http://reg.internal:5000/");
        assert_eq!(endpoint("other.lan"), "http://other.lan/");
        assert_eq!(endpoint("reg.internal:5001"), "https://reg.internal:5001/");
        assert_eq!(endpoint("127.0.0.1:5000"), "http://127.0.0.1:5000/");
        assert_eq!(endpoint("localhost"), "http://localhost/");
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["registry.example", "10.0.0.1:5000", "localhost.example.com"] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
