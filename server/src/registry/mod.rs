//! Registry access: image references, the OCI distribution client, per-registry auth, rate limits.
//!
//! The engine sees [`RegistryApi`], implemented by [`Registries`]: tags (with push times
//! where a vendor API has them) and the digests a tag resolves to now, found with a HEAD.
//! [`is_up_to_date`] compares those with a local image's RepoDigests (docs/REGISTRIES.md).

pub mod auth;
pub mod body;
pub mod challenge;
pub mod client;
pub mod error;
pub mod index_cache;
pub mod manifest;
pub mod ratelimit;
pub mod reference;
pub mod registries;
pub mod secret;
pub mod stats;
pub mod tags;
pub mod token;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use error::{Cause, Operation, RegistryError};
pub use manifest::Platform;
pub use ratelimit::{Governor, Quota, RegistryStatus};
pub use reference::{ImageRef, ReferenceError};
pub use registries::Registries;
pub use secret::{Credentials, Secret};
pub use stats::{RegistryStats, RequestCount, RequestKind};

/// Berth's own credentials for one registry, as a `docker login` to it would store them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryLogin {
    /// The registry as image references name it (`host[:port]`, `docker.io`).
    pub registry: String,
    pub credentials: Credentials,
}

/// What the engine needs from registries.
#[async_trait::async_trait]
pub trait RegistryApi: Send + Sync {
    /// Every tag of the repository, with push times where the provider knows them.
    async fn list_tags(&self, image: &ImageRef) -> Result<Vec<RemoteTag>, RegistryError>;
    /// The digests `image` (a tag reference) resolves to now: HEAD only.
    async fn resolve_digest(&self, image: &ImageRef) -> Result<RemoteDigest, RegistryError>;
    /// Whether `image` (a tag reference) still names what runs locally, given the local
    /// image's RepoDigests: a HEAD, and an index fetch only when the answer is not local.
    async fn check_digest(
        &self,
        image: &ImageRef,
        local_repo_digests: &[String],
    ) -> Result<DigestCheck, RegistryError> {
        let remote = self.resolve_digest(image).await?;
        Ok(DigestCheck {
            up_to_date: is_up_to_date(&remote, local_repo_digests, &image.to_string()),
            digest: remote.index.unwrap_or(remote.platform),
        })
    }
    /// The build time in the image config (for "newest build" strategies); costs GETs, so
    /// ask only when a strategy needs it. `None` when the image does not record one.
    async fn image_created(
        &self,
        _image: &ImageRef,
    ) -> Result<Option<DateTime<Utc>>, RegistryError> {
        Ok(None)
    }
    /// The login a `docker pull` (or a Trivy scan) of `image` needs, when Berth has keys of
    /// its own for the image's registry: fresh, for a token that expires. `None` when it has
    /// none, and the host's own docker logins apply.
    async fn pull_login(&self, _image: &ImageRef) -> Result<Option<RegistryLogin>, RegistryError> {
        Ok(None)
    }
    /// Each registry's auth state, last error, quota and request counts, for the
    /// dashboard, the API and `/metrics`. Fakes that track nothing report nothing.
    fn status(&self) -> Vec<RegistryStatus> {
        Vec::new()
    }
}

/// One tag of a repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteTag {
    pub name: String,
    pub pushed_at: Option<DateTime<Utc>>,
}

/// What a tag points at now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteDigest {
    /// The index (manifest list) digest, when the tag is multi-platform.
    pub index: Option<String>,
    /// The manifest digest for the configured platform (the tag's own digest when it is a
    /// single image).
    pub platform: String,
}

/// A tag's digest next to the local image's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigestCheck {
    /// What the tag names in the registry now: the index digest for a multi-platform tag.
    pub digest: String,
    /// Whether that (or its platform child) is among the local RepoDigests.
    pub up_to_date: bool,
}

/// The digests of the local RepoDigests (`name@digest`) that belong to `image`'s repository.
pub fn local_digests(image: &ImageRef, local_repo_digests: &[String]) -> Vec<String> {
    local_repo_digests
        .iter()
        .filter_map(|repo_digest| ImageRef::parse(repo_digest).ok())
        .filter(|local| local.registry == image.registry && local.repository == image.repository)
        .filter_map(|local| local.digest)
        .collect()
}

/// Whether the local image is what the registry serves now: the remote platform digest, or
/// the remote index digest, appears among **any** of the local RepoDigests of the same
/// repository (docs/REGISTRIES.md, "Digests"). `repository` is any reference to the repository
/// (`nginx`, `docker.io/library/nginx:1.27`); RepoDigests are `name@digest` as docker
/// inspect prints them.
pub fn is_up_to_date(
    remote: &RemoteDigest,
    local_repo_digests: &[String],
    repository: &str,
) -> bool {
    let Ok(wanted) = ImageRef::parse(repository) else {
        return false;
    };
    local_digests(&wanted, local_repo_digests)
        .iter()
        .any(|digest| {
            *digest == remote.platform || remote.index.as_deref() == Some(digest.as_str())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const AMD64: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    const OLD: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

    fn local(digests: &[&str]) -> Vec<String> {
        digests.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn up_to_date_by_index_or_platform_digest_in_any_repo_digest() {
        let remote = RemoteDigest {
            index: Some(INDEX.into()),
            platform: AMD64.into(),
        };
        assert!(is_up_to_date(
            &remote,
            &local(&[&format!("nginx@{INDEX}")]),
            "nginx"
        ));
        assert!(is_up_to_date(
            &remote,
            &local(&[
                &format!("nginx@{OLD}"),
                &format!("docker.io/library/nginx@{AMD64}")
            ]),
            "nginx:1.27"
        ));
        assert!(!is_up_to_date(
            &remote,
            &local(&[&format!("nginx@{OLD}")]),
            "nginx"
        ));
        assert!(
            !is_up_to_date(&remote, &local(&[&format!("other/nginx@{INDEX}")]), "nginx"),
            "another repository's digest does not count"
        );
        assert!(!is_up_to_date(&remote, &[], "nginx"));
    }

    #[test]
    fn single_image_compares_its_own_digest() {
        let remote = RemoteDigest {
            index: None,
            platform: AMD64.into(),
        };
        assert!(is_up_to_date(
            &remote,
            &local(&[&format!("127.0.0.1:5000/app@{AMD64}")]),
            "127.0.0.1:5000/app:v1"
        ));
        assert!(!is_up_to_date(
            &remote,
            &local(&[&format!("127.0.0.1:5001/app@{AMD64}")]),
            "127.0.0.1:5000/app"
        ));
    }
}
