//! Manifests and indexes: the media types Berth accepts, and picking an index's child for a
//! platform (image-spec `image-index.md`: the first match wins; attestation manifests, which
//! BuildKit publishes as `unknown/unknown` children, are skipped).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Deserialize;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// Every manifest type Berth understands. Sending all four matters: with a narrow list Docker
/// Hub answers with the amd64 child, and GHCR refuses OCI indexes outright.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json";

/// Whether a `Content-Type` names an index (multi-platform) rather than one image.
pub fn is_index(media_type: &str) -> bool {
    let base = media_type.split(';').next().unwrap_or("").trim();
    base == OCI_INDEX || base == DOCKER_MANIFEST_LIST
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("invalid manifest JSON: {0}")]
    ParseJson(#[source] serde_json::Error),
    #[error("invalid platform {0:?}: expected OS/ARCH or OS/ARCH/VARIANT, e.g. linux/arm64")]
    ParsePlatform(String),
}

/// `os/architecture[/variant]` with Go's GOOS/GOARCH names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    pub fn parse(text: &str) -> Result<Platform, ManifestError> {
        let parts: Vec<&str> = text.trim().split('/').collect();
        let valid = |part: &&str| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        };
        match parts.as_slice() {
            [os, architecture] if parts.iter().all(valid) => {
                Ok(Platform::new(os, architecture, None))
            }
            [os, architecture, variant] if parts.iter().all(valid) => {
                Ok(Platform::new(os, architecture, Some(variant)))
            }
            _ => Err(ManifestError::ParsePlatform(text.to_owned())),
        }
    }

    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        Platform {
            os: os.to_ascii_lowercase(),
            architecture: architecture.to_ascii_lowercase(),
            variant: variant.map(str::to_ascii_lowercase),
        }
    }

    /// The platform this process runs on, in Go's names (what the Docker engine would pull).
    pub fn host() -> Platform {
        let (architecture, variant) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", None),
            "aarch64" => ("arm64", None),
            "arm" => ("arm", Some("v7")),
            "x86" => ("386", None),
            "powerpc64" => ("ppc64le", None),
            "s390x" => ("s390x", None),
            "riscv64" => ("riscv64", None),
            other => (other, None),
        };
        Platform::new(std::env::consts::OS, architecture, variant)
    }

    /// Whether an index entry's platform runs here. A wanted variant must match, except that
    /// arm64 without a variant means v8 (containerd's normalisation).
    fn matches(&self, candidate: &IndexPlatform) -> bool {
        if !candidate.os.eq_ignore_ascii_case(&self.os)
            || !candidate
                .architecture
                .eq_ignore_ascii_case(&self.architecture)
        {
            return false;
        }
        let Some(wanted) = &self.variant else {
            return true;
        };
        let normalise = |variant: Option<&str>| match (self.architecture.as_str(), variant) {
            ("arm64", None) => Some("v8".to_owned()),
            (_, variant) => variant.map(str::to_ascii_lowercase),
        };
        normalise(candidate.variant.as_deref()) == normalise(Some(wanted))
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(formatter, "/{variant}")?;
        }
        Ok(())
    }
}

/// An OCI index or Docker manifest list.
#[derive(Debug, Clone, Deserialize)]
pub struct Index {
    pub manifests: Vec<IndexEntry>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IndexEntry {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub digest: String,
    pub platform: Option<IndexPlatform>,
    #[serde(default)]
    pub annotations: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IndexPlatform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Index {
    pub fn parse(body: &[u8]) -> Result<Index, ManifestError> {
        serde_json::from_slice(body).map_err(ManifestError::ParseJson)
    }

    /// The first child built for `platform`, attestation manifests skipped.
    pub fn child_for(&self, platform: &Platform) -> Option<&IndexEntry> {
        self.manifests
            .iter()
            .filter(|entry| !entry.is_attestation())
            .find(|entry| {
                entry
                    .platform
                    .as_ref()
                    .is_some_and(|candidate| platform.matches(candidate))
            })
    }

    /// The platforms on offer, for an error message.
    pub fn platforms(&self) -> String {
        let names: Vec<String> = self
            .manifests
            .iter()
            .filter(|entry| !entry.is_attestation())
            .filter_map(|entry| entry.platform.as_ref())
            .map(|p| Platform::new(&p.os, &p.architecture, p.variant.as_deref()).to_string())
            .collect();
        if names.is_empty() {
            "no platforms".into()
        } else {
            names.join(", ")
        }
    }
}

impl IndexEntry {
    fn is_attestation(&self) -> bool {
        self.annotations
            .get("vnd.docker.reference.type")
            .map(String::as_str)
            == Some("attestation-manifest")
            || self
                .platform
                .as_ref()
                .is_some_and(|p| p.os == "unknown" && p.architecture == "unknown")
    }
}

/// A single-image manifest, read only for its config blob.
#[derive(Debug, Clone, Deserialize)]
pub struct ImageManifest {
    pub config: ConfigDescriptor,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ConfigDescriptor {
    pub digest: String,
}

impl ImageManifest {
    pub fn parse(body: &[u8]) -> Result<ImageManifest, ManifestError> {
        serde_json::from_slice(body).map_err(ManifestError::ParseJson)
    }
}

/// The part of an image config Berth reads: when the image was built.
#[derive(Debug, Clone, Deserialize)]
pub struct ImageConfig {
    pub created: Option<DateTime<Utc>>,
}

impl ImageConfig {
    pub fn parse(body: &[u8]) -> Result<ImageConfig, ManifestError> {
        serde_json::from_slice(body).map_err(ManifestError::ParseJson)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
        {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:att","platform":{"os":"unknown","architecture":"unknown"},
         "annotations":{"vnd.docker.reference.type":"attestation-manifest"}},
        {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:amd","platform":{"os":"linux","architecture":"amd64"}},
        {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:v6","platform":{"os":"linux","architecture":"arm","variant":"v6"}},
        {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:v7","platform":{"os":"linux","architecture":"arm","variant":"v7"}},
        {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:arm64","platform":{"os":"linux","architecture":"arm64"}},
        {"mediaType":"application/vnd.future.type","digest":"sha256:future"}
    ]}"#;

    fn pick(platform: &str) -> Option<String> {
        let index = Index::parse(INDEX.as_bytes()).unwrap();
        index
            .child_for(&Platform::parse(platform).unwrap())
            .map(|entry| entry.digest.clone())
    }

    #[test]
    fn picks_the_platform_child_and_skips_attestations() {
        assert_eq!(pick("linux/amd64").as_deref(), Some("sha256:amd"));
        assert_eq!(pick("linux/arm/v7").as_deref(), Some("sha256:v7"));
        assert_eq!(
            pick("linux/arm").as_deref(),
            Some("sha256:v6"),
            "first match wins without a variant"
        );
        assert_eq!(pick("linux/arm64/v8").as_deref(), Some("sha256:arm64"));
        assert_eq!(pick("unknown/unknown"), None);
        assert_eq!(pick("windows/amd64"), None);
        let index = Index::parse(INDEX.as_bytes()).unwrap();
        assert_eq!(
            index.platforms(),
            "linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64"
        );
    }

    #[test]
    fn platforms_parse_strictly() {
        assert_eq!(
            Platform::parse("linux/arm64").unwrap().to_string(),
            "linux/arm64"
        );
        assert_eq!(
            Platform::parse("Linux/ARM/v7").unwrap().to_string(),
            "linux/arm/v7"
        );
        for bad in ["linux", "linux/", "/amd64", "a/b/c/d", "linux/amd 64"] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Platform::host().os, std::env::consts::OS);
    }

    #[test]
    fn index_media_types() {
        assert!(is_index(OCI_INDEX));
        assert!(is_index(
            "application/vnd.docker.distribution.manifest.list.v2+json; charset=utf-8"
        ));
        assert!(!is_index(OCI_MANIFEST));
        assert!(!is_index(DOCKER_MANIFEST));
    }
}
