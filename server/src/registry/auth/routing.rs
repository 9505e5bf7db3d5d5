//! Which provider is in charge of a registry host, from the registry keys the README lists.
//! A registry whose keys are incomplete gets a provider that fails naming the missing key,
//! rather than silently going anonymous.

use std::sync::Arc;

use super::cloud_helper::{Cloud, CloudHelperCredentials};
use super::docker_config::DockerConfigCredentials;
use super::docker_hub::DockerHubCredentials;
use super::fixed::FixedCredentials;
use super::harbor::{HarborCredentials, harbor_host};
use super::swr::{SwrCredentials, is_swr_host};
use super::{AuthError, AuthProvider, VendorHttp};
use crate::config::Config;
use crate::registry::reference::DOCKER_HUB;
use crate::registry::secret::{Credentials, Secret};

/// The provider in charge of `registry`.
pub fn provider_for(registry: &str, config: &Config) -> Arc<dyn AuthProvider> {
    let chosen = choose(registry, config);
    chosen.unwrap_or_else(|(name, error)| {
        Arc::new(Misconfigured {
            name,
            key: missing_key(&error),
        })
    })
}

type Choice = Result<Arc<dyn AuthProvider>, (&'static str, AuthError)>;

fn choose(registry: &str, config: &Config) -> Choice {
    let basic = |name: &'static str, username: &str, password: &str| -> Choice {
        Ok(Arc::new(FixedCredentials::new(
            name,
            Credentials::Basic {
                username: username.to_owned(),
                password: Secret::new(password),
            },
        )))
    };
    if registry == DOCKER_HUB {
        return Ok(Arc::new(DockerHubCredentials::from_config(config)));
    }
    let cloud = |cloud| -> Choice {
        Ok(Arc::new(CloudHelperCredentials::new(
            cloud, registry, config,
        )))
    };
    // ECR_REGISTRY: an ECR login for a registry on another host (a pull-through cache).
    if is_ecr_host(registry)
        || config
            .get("ECR_REGISTRY")
            .is_some_and(|host| host_of(host) == registry)
    {
        return cloud(Cloud::Ecr);
    }
    if config.get("HARBOR_URL").and_then(harbor_host).as_deref() == Some(registry) {
        return HarborCredentials::from_config(config)
            .map(|p| Arc::new(p) as Arc<dyn AuthProvider>)
            .map_err(|e| ("Harbor", e));
    }
    if is_swr_host(registry) && has_any(config, &["SWR_ACCESS_KEY", "SWR_USERNAME"]) {
        return SwrCredentials::from_config(registry, config)
            .map(|p| Arc::new(p) as Arc<dyn AuthProvider>)
            .map_err(|e| ("Huawei SWR", e));
    }
    if (registry == "registry.digitalocean.com"
        || config
            .get("DO_REGISTRY")
            .is_some_and(|host| host_of(host) == registry))
        && let Some(token) = config.get("DO_TOKEN")
    {
        // DOCR checks only the password; the token as user name is what doctl-free scripts use.
        return basic("DigitalOcean DOCR", token, token);
    }
    if registry == "ghcr.io"
        && let Some(token) = config.get("GHCR_TOKEN")
    {
        return basic(
            "GHCR",
            config.get("GHCR_USERNAME").unwrap_or("berth"),
            token,
        );
    }
    if registry.ends_with(".azurecr.io")
        || config
            .get("AZURE_REGISTRY")
            .is_some_and(|host| host_of(host) == registry)
    {
        if let (Some(username), Some(password)) =
            (config.get("AZURE_USERNAME"), config.get("AZURE_PASSWORD"))
        {
            return basic("Azure ACR", username, password);
        }
        if let Some(secret) = config.get("AZURE_CLIENT_SECRET") {
            let client_id = config.get("AZURE_CLIENT_ID").ok_or((
                "Azure ACR",
                AuthError::MissingKey {
                    key: "AZURE_CLIENT_ID",
                },
            ))?;
            // With a tenant, the documented Entra flow (exchanged for an ACR refresh token, by
            // the helper); without one, the service principal as plain Basic, which ACR
            // also accepts.
            if !has_any(config, &["AZURE_TENANT_ID"]) {
                return basic("Azure ACR", client_id, secret);
            }
            return cloud(Cloud::Acr);
        }
    }
    if is_gcp_host(registry)
        || config
            .get("GCP_REGISTRY_URL")
            .is_some_and(|host| host_of(host) == registry)
    {
        if let Some(token) = config.get("GCP_ACCESS_TOKEN") {
            return basic("GCP", GCP_ACCESS_TOKEN_USER, token);
        }
        // Empty counts as unset, as for the helper, which reads the same keys.
        if has_any(config, &["GCP_SERVICE_ACCOUNT_JSON"]) {
            return cloud(Cloud::Gcp);
        }
    }
    let docker_config = DockerConfigCredentials::new(registry, config.get("DOCKER_CONFIG"));
    Ok(Arc::new(docker_config.with_search_path(config.get("PATH"))))
}

fn has_any(config: &Config, keys: &[&str]) -> bool {
    keys.iter().any(|key| config.non_empty(key).is_some())
}

/// `https://host:port/path` or `host/path` → `host:port`.
fn host_of(text: &str) -> &str {
    let text = text.trim();
    let text = text.split_once("://").map_or(text, |(_, rest)| rest);
    text.split('/').next().unwrap_or(text)
}

/// GCP's user name for an access token.
const GCP_ACCESS_TOKEN_USER: &str = "oauth2accesstoken";

/// Whether `registry` is a private ECR registry host:
/// `<account>.dkr.ecr.<region>.amazonaws.com` (or `.com.cn`).
fn is_ecr_host(registry: &str) -> bool {
    let parts: Vec<&str> = registry.split('.').collect();
    matches!(
        parts.as_slice(),
        [_, "dkr", "ecr", _, "amazonaws", "com"] | [_, "dkr", "ecr", _, "amazonaws", "com", "cn"]
    )
}

fn is_gcp_host(registry: &str) -> bool {
    registry == "gcr.io" || registry.ends_with(".gcr.io") || registry.ends_with("-docker.pkg.dev")
}

fn missing_key(error: &AuthError) -> String {
    match error {
        AuthError::MissingKey { key } => (*key).to_owned(),
        other => other.to_string(),
    }
}

/// A provider whose configuration is incomplete: every use names what is missing.
struct Misconfigured {
    name: &'static str,
    key: String,
}

#[async_trait::async_trait]
impl AuthProvider for Misconfigured {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn credentials(&self, _http: &VendorHttp) -> Result<Credentials, AuthError> {
        Err(AuthError::Misconfigured {
            problem: self.key.clone(),
        })
    }
}
