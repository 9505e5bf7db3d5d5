//! Docker Hub: anonymous, or `DOCKERHUB_USERNAME` with `DOCKERHUB_PASSWORD` or
//! `DOCKERHUB_TOKEN` (a PAT) as Basic on auth.docker.io's token service; without those keys,
//! docker's own config.json login. Push times from Hub's web API (`tag_last_pushed`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use url::Url;

use super::docker_config::DockerConfigCredentials;
use super::{AuthError, AuthProvider, PushTimes, VendorHttp, read_json};
use crate::config::Config;
use crate::registry::reference::ImageRef;
use crate::registry::secret::{Credentials, Secret};

const SERVICE: &str = "Docker Hub API";
const DEFAULT_API: &str = "https://hub.docker.com/";
/// 100 tags a page; 50 pages covers what a ranking needs and bounds the calls.
const MAX_PAGES: usize = 50;

pub struct DockerHubCredentials {
    api: Url,
    login: Option<(String, Secret)>,
    fallback: Arc<dyn AuthProvider>,
}

#[derive(Deserialize)]
struct TagPage {
    next: Option<String>,
    #[serde(default)]
    results: Vec<HubTag>,
}

#[derive(Deserialize)]
struct HubTag {
    name: String,
    tag_last_pushed: Option<DateTime<Utc>>,
    last_updated: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct LoginAnswer {
    token: String,
}

impl DockerHubCredentials {
    /// `DOCKERHUB_USERNAME`, `DOCKERHUB_PASSWORD` or `DOCKERHUB_TOKEN`, `DOCKERHUB_API_URL`
    /// (default https://hub.docker.com), `DOCKER_CONFIG` for the fallback.
    pub fn from_config(config: &Config) -> DockerHubCredentials {
        let secret = config
            .get("DOCKERHUB_TOKEN")
            .or(config.get("DOCKERHUB_PASSWORD"));
        let login = config
            .get("DOCKERHUB_USERNAME")
            .zip(secret)
            .map(|(username, secret)| (username.to_owned(), Secret::new(secret)));
        let api = config
            .get("DOCKERHUB_API_URL")
            .and_then(|url| Url::parse(&format!("{}/", url.trim_end_matches('/'))).ok())
            .unwrap_or_else(|| Url::parse(DEFAULT_API).expect("a constant URL"));
        DockerHubCredentials {
            api,
            login,
            fallback: Arc::new(
                DockerConfigCredentials::new(
                    crate::registry::reference::DOCKER_HUB,
                    config.get("DOCKER_CONFIG"),
                )
                .with_search_path(config.get("PATH")),
            ),
        }
    }

    /// A Hub API JWT for private repositories (`POST /v2/users/login`).
    async fn api_token(&self, http: &VendorHttp) -> Result<Option<Secret>, AuthError> {
        let Some((username, password)) = &self.login else {
            return Ok(None);
        };
        let url = self
            .api
            .join("v2/users/login")
            .map_err(|error| AuthError::VendorAnswer {
                service: SERVICE,
                reason: error.to_string(),
            })?;
        let response = http
            .send(
                http.client().post(url).json(
                    &serde_json::json!({"username": username, "password": password.expose()}),
                ),
            )
            .await
            .map_err(|source| AuthError::RequestVendorApi {
                service: SERVICE,
                source,
            })?;
        let answer: LoginAnswer = read_json(SERVICE, http, response).await?;
        Ok(Some(Secret::new(answer.token)))
    }
}

#[async_trait::async_trait]
impl AuthProvider for DockerHubCredentials {
    fn name(&self) -> &'static str {
        "Docker Hub"
    }

    async fn credentials(&self, http: &VendorHttp) -> Result<Credentials, AuthError> {
        match &self.login {
            Some((username, password)) => Ok(Credentials::Basic {
                username: username.clone(),
                password: password.clone(),
            }),
            None => self.fallback.credentials(http).await,
        }
    }

    async fn push_times(
        &self,
        http: &VendorHttp,
        image: &ImageRef,
        _tags: &[String],
    ) -> Result<Option<PushTimes>, AuthError> {
        let Some((namespace, repository)) = image.repository.split_once('/') else {
            return Ok(None);
        };
        let token = self.api_token(http).await?;
        let mut url = self
            .api
            .join(&format!(
                "v2/namespaces/{namespace}/repositories/{repository}/tags?page_size=100"
            ))
            .map_err(|error| AuthError::VendorAnswer {
                service: SERVICE,
                reason: error.to_string(),
            })?;
        let mut times = PushTimes::new();
        for _ in 0..MAX_PAGES {
            let mut request = http.client().get(url.clone());
            if let Some(token) = &token {
                request = request.bearer_auth(token.expose());
            }
            let response =
                http.send(request)
                    .await
                    .map_err(|source| AuthError::RequestVendorApi {
                        service: SERVICE,
                        source,
                    })?;
            let page: TagPage = read_json(SERVICE, http, response).await?;
            for tag in page.results {
                if let Some(pushed) = tag.tag_last_pushed.or(tag.last_updated) {
                    times.insert(tag.name, pushed);
                }
            }
            // Only follow `next` on the same API host: a redirect elsewhere would leak the token.
            match page.next.and_then(|next| Url::parse(&next).ok()) {
                Some(next)
                    if next.host_str() == self.api.host_str() && next.port() == self.api.port() =>
                {
                    url = next
                }
                _ => break,
            }
        }
        Ok(Some(times))
    }
}
