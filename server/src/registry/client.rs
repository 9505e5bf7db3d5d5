//! The OCI distribution client for one registry: challenge-driven auth with cached tokens,
//! tag listing through `Link` pagination, manifest HEADs with the full Accept list, indexes
//! fetched by digest, every GET body capped and checked against its digest, all through the
//! registry's rate-limit gate.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use http::{HeaderMap, Method, StatusCode, header};
use tokio::sync::OwnedSemaphorePermit;
use url::Url;

use super::auth::{AuthProvider, VendorHttp};
use super::body::{BodyError, matches_digest, read_capped, sha256_digest};
use super::challenge::Challenge;
use super::error::{Cause, Operation, RegistryError};
use super::index_cache::IndexCache;
use super::manifest::{ImageConfig, ImageManifest, Index, MANIFEST_ACCEPT, Platform, is_index};
use super::ratelimit::{Gate, RateLimitError};
use super::reference::ImageRef;
use super::stats::RequestKind;
use super::token::{BASIC_LIFETIME, TokenCache, basic_header, fetch_bearer};
use super::{DigestCheck, RemoteDigest, local_digests, secret::Credentials, secret::Secret};

/// Bounds on what one registry may send and how it is paged.
#[derive(Debug, Clone, Copy)]
pub struct ClientLimits {
    /// The largest body read from any answer.
    pub body_limit: u64,
    /// Tags asked for per page (`n=`); registries may give fewer.
    pub tag_page_size: u32,
}

impl Default for ClientLimits {
    fn default() -> Self {
        ClientLimits {
            body_limit: super::body::DEFAULT_BODY_LIMIT,
            tag_page_size: 1000,
        }
    }
}

/// Talks to one registry.
pub struct RegistryClient {
    registry: String,
    base: Url,
    http: reqwest::Client,
    /// The same client, counting the provider's vendor API calls in this registry's stats.
    vendor_http: VendorHttp,
    auth: Arc<dyn AuthProvider>,
    gate: Arc<Gate>,
    tokens: TokenCache,
    indexes: Arc<IndexCache>,
    pub(super) limits: ClientLimits,
}

/// A successful answer, holding its concurrency slot until the body is read.
pub(super) struct Answer {
    pub(super) response: reqwest::Response,
    _permit: OwnedSemaphorePermit,
}

impl RegistryClient {
    pub fn new(
        registry: &str,
        base: Url,
        http: reqwest::Client,
        auth: Arc<dyn AuthProvider>,
        gate: Arc<Gate>,
        indexes: Arc<IndexCache>,
        limits: ClientLimits,
    ) -> RegistryClient {
        RegistryClient {
            registry: registry.to_owned(),
            base,
            vendor_http: VendorHttp::new(http.clone(), gate.stats().clone()),
            http,
            auth,
            gate,
            tokens: TokenCache::default(),
            indexes,
            limits,
        }
    }

    pub fn registry(&self) -> &str {
        &self.registry
    }

    pub fn provider(&self) -> &Arc<dyn AuthProvider> {
        &self.auth
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The client the auth provider's vendor API calls go through (they count in the stats).
    pub fn vendor_http(&self) -> &VendorHttp {
        &self.vendor_http
    }

    /// The error of a failed operation, remembered as this registry's last error.
    pub fn error(&self, operation: Operation, cause: Cause) -> RegistryError {
        let error = RegistryError {
            registry: self.registry.clone(),
            provider: self.auth.name(),
            operation,
            cause,
        };
        // RegistryError's text holds no secret (see error.rs), so it may be shown as it is.
        self.remember_failure(error.to_string());
        error
    }

    /// Keep `message` (which must hold no secret) as this registry's last error.
    pub fn remember_failure(&self, message: String) {
        self.gate.stats().failed(message);
    }

    /// The digest and media type `reference` (tag or digest) resolves to: one HEAD.
    pub async fn head_manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<(String, String), Cause> {
        let url = self.url(&format!("/v2/{repository}/manifests/{reference}"))?;
        let answer = self
            .send(
                RequestKind::ManifestHead,
                Method::HEAD,
                url.clone(),
                Some(MANIFEST_ACCEPT),
                &pull_scope(repository),
            )
            .await?;
        let media_type =
            header_text(answer.response.headers(), header::CONTENT_TYPE).unwrap_or_default();
        match header_text(answer.response.headers(), "docker-content-digest") {
            Some(digest) => Ok((digest, media_type)),
            // Old registries may omit the header on HEAD; then the body is hashed (a GET).
            None => {
                drop(answer);
                let answer = self
                    .send(
                        RequestKind::ManifestGet,
                        Method::GET,
                        url,
                        Some(MANIFEST_ACCEPT),
                        &pull_scope(repository),
                    )
                    .await?;
                let body = self.read_verified(answer, None).await?;
                Ok((sha256_digest(&body), media_type))
            }
        }
    }

    /// A manifest by digest, checked against that digest.
    pub async fn get_manifest(&self, repository: &str, digest: &str) -> Result<Vec<u8>, Cause> {
        let url = self.url(&format!("/v2/{repository}/manifests/{digest}"))?;
        let answer = self
            .send(
                RequestKind::ManifestGet,
                Method::GET,
                url,
                Some(MANIFEST_ACCEPT),
                &pull_scope(repository),
            )
            .await?;
        self.read_verified(answer, Some(digest)).await
    }

    /// What `image` resolves to for `platform`: the index digest (if the tag is an index)
    /// and the platform manifest digest. A HEAD, plus a GET of the index only the first
    /// time that index digest is seen.
    pub async fn resolve(
        &self,
        image: &ImageRef,
        platform: &Platform,
    ) -> Result<RemoteDigest, Cause> {
        let (digest, media_type) = self
            .head_manifest(&image.repository, image.manifest_reference())
            .await?;
        self.resolve_head(image, digest, &media_type, platform)
            .await
    }

    /// Whether the tag still names what runs locally (`local_repo_digests` as docker
    /// inspect prints them). A tag pulled by name records the digest a HEAD answers (the
    /// index digest for a multi-platform tag), so the usual answer costs one HEAD; an
    /// index is fetched only when that digest is not local, in case the local image came
    /// by its platform digest.
    pub async fn check_digest(
        &self,
        image: &ImageRef,
        platform: &Platform,
        local_repo_digests: &[String],
    ) -> Result<DigestCheck, Cause> {
        let (digest, media_type) = self
            .head_manifest(&image.repository, image.manifest_reference())
            .await?;
        let local = local_digests(image, local_repo_digests);
        if local.contains(&digest) || !is_index(&media_type) {
            return Ok(DigestCheck {
                up_to_date: local.contains(&digest),
                digest,
            });
        }
        let remote = self
            .resolve_head(image, digest, &media_type, platform)
            .await?;
        Ok(DigestCheck {
            up_to_date: local.contains(&remote.platform),
            digest: remote.index.unwrap_or(remote.platform),
        })
    }

    /// The platform digest behind a HEAD's answer: the digest itself for a single image,
    /// the matching child of the index (cached by digest) otherwise.
    async fn resolve_head(
        &self,
        image: &ImageRef,
        digest: String,
        media_type: &str,
        platform: &Platform,
    ) -> Result<RemoteDigest, Cause> {
        if !is_index(media_type) {
            return Ok(RemoteDigest {
                index: None,
                platform: digest,
            });
        }
        let index = match self.indexes.get(&digest) {
            Some(index) => index,
            None => {
                let body = self.get_manifest(&image.repository, &digest).await?;
                let index = Index::parse(&body).map_err(|error| Cause::InvalidAnswer {
                    reason: error.to_string(),
                })?;
                self.indexes.put(&digest, index)
            }
        };
        let child = index
            .child_for(platform)
            .ok_or_else(|| Cause::NoMatchingPlatform {
                platform: platform.to_string(),
                available: index.platforms(),
            })?;
        Ok(RemoteDigest {
            index: Some(digest),
            platform: child.digest.clone(),
        })
    }

    /// The image config's `created` time for `platform` (build time, not push time).
    pub async fn created(
        &self,
        image: &ImageRef,
        platform: &Platform,
    ) -> Result<Option<DateTime<Utc>>, Cause> {
        let resolved = self.resolve(image, platform).await?;
        let manifest = self
            .get_manifest(&image.repository, &resolved.platform)
            .await?;
        let manifest = ImageManifest::parse(&manifest).map_err(|error| Cause::InvalidAnswer {
            reason: error.to_string(),
        })?;
        let url = self.url(&format!(
            "/v2/{}/blobs/{}",
            image.repository, manifest.config.digest
        ))?;
        let answer = self
            .send(
                RequestKind::Blob,
                Method::GET,
                url,
                None,
                &pull_scope(&image.repository),
            )
            .await?;
        let config = self
            .read_verified(answer, Some(&manifest.config.digest))
            .await?;
        let config = ImageConfig::parse(&config).map_err(|error| Cause::InvalidAnswer {
            reason: error.to_string(),
        })?;
        Ok(config.created)
    }

    pub(super) fn url(&self, path_and_query: &str) -> Result<Url, Cause> {
        self.base
            .join(path_and_query)
            .map_err(|error| Cause::InvalidAnswer {
                reason: format!("cannot build a URL from {path_and_query:?}: {error}"),
            })
    }

    /// Read a body within the cap and check it against `Docker-Content-Digest` and, for a
    /// GET by digest, against the digest asked for.
    pub(super) async fn read_verified(
        &self,
        answer: Answer,
        requested: Option<&str>,
    ) -> Result<Vec<u8>, Cause> {
        let announced = header_text(answer.response.headers(), "docker-content-digest");
        let body = read_capped(answer.response, self.limits.body_limit)
            .await
            .map_err(|error| match error {
                BodyError::ReadTooLarge { limit } => Cause::BodyTooLarge { limit },
                BodyError::Read(source) => Cause::from_transport(source),
            })?;
        self.gate.stats().received(body.len() as u64);
        for expected in announced.iter().map(String::as_str).chain(requested) {
            matches_digest(&body, expected).map_err(|actual| Cause::DigestMismatch {
                expected: expected.to_owned(),
                actual,
            })?;
        }
        Ok(body)
    }

    /// One request through the gate: a cached `Authorization` if there is one; on 401 the
    /// challenge is answered once and the request repeated; on 429 the gate waits out
    /// `Retry-After` (or backs off) and repeats, up to its retry limit. Every request sent
    /// is counted as `kind` with its status, and the outcome of a challenge answered here is
    /// this registry's auth state.
    pub(super) async fn send(
        &self,
        kind: RequestKind,
        method: Method,
        url: Url,
        accept: Option<&str>,
        scope: &str,
    ) -> Result<Answer, Cause> {
        let mut limited_attempts = 0;
        let mut answered_challenge = false;
        loop {
            let permit = self
                .gate
                .admit()
                .await
                .map_err(|RateLimitError::Admit { until }| Cause::Limited { until })?;
            let mut request = self.http.request(method.clone(), url.clone());
            if let Some(accept) = accept {
                request = request.header(header::ACCEPT, accept);
            }
            if let Some(authorization) = self.tokens.get(scope) {
                request = request.header(header::AUTHORIZATION, authorization.expose());
            }
            let response = request.send().await;
            let stats = self.gate.stats();
            stats.request(
                kind,
                response
                    .as_ref()
                    .ok()
                    .map(|response| response.status().as_u16()),
            );
            let response = response.map_err(Cause::from_transport)?;
            self.gate.observe(response.headers());
            let status = response.status();
            match status {
                _ if status.is_success() => {
                    if answered_challenge {
                        stats.authenticated(true);
                    }
                    return Ok(Answer {
                        response,
                        _permit: permit,
                    });
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    let until = self.gate.mark_limited(response.headers(), limited_attempts);
                    limited_attempts += 1;
                    let wait = (until - Utc::now()).to_std().unwrap_or_default();
                    if limited_attempts > self.gate.settings().max_retries
                        || wait > self.gate.settings().max_wait
                    {
                        return Err(Cause::Limited { until });
                    }
                }
                StatusCode::UNAUTHORIZED if !answered_challenge => {
                    answered_challenge = true;
                    let challenge = header_text(response.headers(), header::WWW_AUTHENTICATE)
                        .ok_or(Cause::BadCredentials { status: 401 })?;
                    drop(permit);
                    let challenge =
                        Challenge::parse(&challenge).map_err(|error| Cause::InvalidAnswer {
                            reason: error.to_string(),
                        })?;
                    let (authorization, lifetime) = self
                        .answer_challenge(challenge, scope)
                        .await
                        .inspect_err(|cause| {
                        if matches!(
                            cause,
                            Cause::BadCredentials { .. } | Cause::Credentials { .. }
                        ) {
                            stats.authenticated(false);
                        }
                    })?;
                    self.tokens.put(scope, authorization, lifetime);
                }
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    stats.authenticated(false);
                    self.tokens.forget(scope);
                    return Err(Cause::BadCredentials {
                        status: status.as_u16(),
                    });
                }
                StatusCode::NOT_FOUND => return Err(Cause::NotFound),
                _ => {
                    return Err(Cause::UnexpectedStatus {
                        status: status.as_u16(),
                    });
                }
            }
        }
    }

    async fn answer_challenge(
        &self,
        challenge: Challenge,
        scope: &str,
    ) -> Result<(Secret, std::time::Duration), Cause> {
        let credentials = self
            .auth
            .credentials(&self.vendor_http)
            .await
            .map_err(|source| Cause::Credentials { source })?;
        match challenge {
            Challenge::Basic { .. } => match credentials {
                Credentials::Basic { username, password } => {
                    Ok((basic_header(&username, &password), BASIC_LIFETIME))
                }
                _ => Err(Cause::BadCredentials { status: 401 }),
            },
            Challenge::Bearer {
                realm,
                service,
                scopes,
            } => {
                let realm = Url::parse(&realm).map_err(|error| Cause::InvalidAnswer {
                    reason: format!("token realm {realm:?} is not a URL: {error}"),
                })?;
                if realm.scheme() == "http" && self.base.scheme() != "http" {
                    return Err(Cause::InsecureUrl {
                        url: realm.to_string(),
                    });
                }
                let scopes = if scopes.is_empty() {
                    vec![scope.to_owned()]
                } else {
                    scopes
                };
                fetch_bearer(
                    &self.http,
                    self.gate.stats(),
                    &realm,
                    service.as_deref(),
                    &scopes,
                    &credentials,
                    self.limits.body_limit,
                )
                .await
            }
            Challenge::Other { scheme } => Err(Cause::UnsupportedChallenge { scheme }),
        }
    }
}

pub fn pull_scope(repository: &str) -> String {
    format!("repository:{repository}:pull")
}

pub(super) fn header_text(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<String> {
    headers
        .get(name)?
        .to_str()
        .ok()
        .map(|text| text.trim().to_owned())
}
