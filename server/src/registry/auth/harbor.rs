//! Harbor: HTTP Basic with a robot account (`robot$…`) or a user, through the registry's
//! challenge; tag push times from the Harbor API's artifact list (`push_time`).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use url::Url;

use super::{AuthError, AuthProvider, PushTimes, VendorHttp, read_json};
use crate::config::Config;
use crate::registry::reference::ImageRef;
use crate::registry::secret::{Credentials, Secret};

const SERVICE: &str = "Harbor API";
const PAGE_SIZE: usize = 100;
/// Enough for 100 000 artifacts; a longer listing is a hostile answer.
const MAX_PAGES: usize = 1000;

#[derive(Debug, Clone)]
pub struct HarborCredentials {
    api: Url,
    username: String,
    password: Secret,
}

#[derive(Deserialize)]
struct Artifact {
    push_time: Option<DateTime<Utc>>,
    #[serde(default)]
    tags: Option<Vec<ArtifactTag>>,
}

#[derive(Deserialize)]
struct ArtifactTag {
    name: String,
    push_time: Option<DateTime<Utc>>,
}

impl HarborCredentials {
    /// `HARBOR_URL`, `HARBOR_USERNAME`, `HARBOR_PASSWORD`.
    pub fn from_config(config: &Config) -> Result<HarborCredentials, AuthError> {
        let url = config
            .get("HARBOR_URL")
            .ok_or(AuthError::MissingKey { key: "HARBOR_URL" })?;
        let api = harbor_url(url).ok_or(AuthError::MissingKey { key: "HARBOR_URL" })?;
        Ok(HarborCredentials {
            api,
            username: config
                .get("HARBOR_USERNAME")
                .ok_or(AuthError::MissingKey {
                    key: "HARBOR_USERNAME",
                })?
                .to_owned(),
            password: Secret::new(config.get("HARBOR_PASSWORD").ok_or(AuthError::MissingKey {
                key: "HARBOR_PASSWORD",
            })?),
        })
    }

    pub fn new(api: Url, username: &str, password: Secret) -> HarborCredentials {
        HarborCredentials {
            api,
            username: username.to_owned(),
            password,
        }
    }
}

/// `HARBOR_URL` may be given with or without a scheme.
pub fn harbor_url(text: &str) -> Option<Url> {
    let text = text.trim().trim_end_matches('/');
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("https://{text}")
    };
    Url::parse(&format!("{with_scheme}/")).ok()
}

/// The registry host `HARBOR_URL` names (`harbor.example.com`, with a port if given).
pub fn harbor_host(text: &str) -> Option<String> {
    let url = harbor_url(text)?;
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

#[async_trait::async_trait]
impl AuthProvider for HarborCredentials {
    fn name(&self) -> &'static str {
        "Harbor"
    }

    async fn credentials(&self, _http: &VendorHttp) -> Result<Credentials, AuthError> {
        Ok(Credentials::Basic {
            username: self.username.clone(),
            password: self.password.clone(),
        })
    }

    async fn push_times(
        &self,
        http: &VendorHttp,
        image: &ImageRef,
        _tags: &[String],
    ) -> Result<Option<PushTimes>, AuthError> {
        let Some((project, repository)) = image.repository.split_once('/') else {
            return Ok(None);
        };
        // Harbor wants a slash in the repository name encoded twice.
        let repository = repository.replace('/', "%252F");
        let mut times = PushTimes::new();
        for page in 1..=MAX_PAGES {
            let url = self
                .api
                .join(&format!(
                    "api/v2.0/projects/{project}/repositories/{repository}/artifacts?with_tag=true&page_size={PAGE_SIZE}&page={page}"
                ))
                .map_err(|error| AuthError::VendorAnswer { service: SERVICE, reason: error.to_string() })?;
            let response = http
                .send(
                    http.client()
                        .get(url)
                        .basic_auth(&self.username, Some(self.password.expose())),
                )
                .await
                .map_err(|source| AuthError::RequestVendorApi {
                    service: SERVICE,
                    source,
                })?;
            let artifacts: Vec<Artifact> = read_json(SERVICE, http, response).await?;
            for artifact in &artifacts {
                for tag in artifact.tags.iter().flatten() {
                    if let Some(pushed) = tag.push_time.or(artifact.push_time) {
                        times.insert(tag.name.clone(), pushed);
                    }
                }
            }
            if artifacts.len() < PAGE_SIZE {
                return Ok(Some(times));
            }
        }
        Err(AuthError::VendorAnswer {
            service: SERVICE,
            reason: format!("more than {MAX_PAGES} pages of artifacts"),
        })
    }
}
