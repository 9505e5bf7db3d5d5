//! Image references, parsed and normalised the way the Docker engine does it
//! (distribution/reference `ParseNormalizedNamed` + `TagNameOnly`): `nginx` is
//! `docker.io/library/nginx:latest`, a first path part with a `.` or `:` (or `localhost`)
//! is a registry host, and `@sha256:…` pins a digest.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

/// The registry a reference without a host part lives in.
pub const DOCKER_HUB: &str = "docker.io";
/// The tag a reference without tag or digest means.
pub const DEFAULT_TAG: &str = "latest";
/// The total length limit of `registry/repository`, as in distribution/reference.
const MAX_NAME_LENGTH: usize = 255;

static DOMAIN_COMPONENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$").unwrap());
static PATH_COMPONENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$").unwrap());
// ASCII classes, as in distribution's grammar (Go's `\w` is ASCII). Rust's `\w` is Unicode:
// it let "tést" through, and 128 copies of its UTF-8 automaton made a 4 MB regex program that
// stayed resident for the life of the server.
static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$").unwrap());
static DIGEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$").unwrap());

/// Why a reference was rejected; each variant names the part that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("empty image reference")]
    Empty,
    #[error("invalid registry host {host:?} in {reference:?}")]
    Registry { reference: String, host: String },
    #[error(
        "invalid repository path component {component:?} in {reference:?} (lowercase letters, digits, and . _ __ - between them)"
    )]
    Repository {
        reference: String,
        component: String,
    },
    #[error("repository name in {reference:?} must be lowercase")]
    Uppercase { reference: String },
    #[error("repository name in {reference:?} is longer than {MAX_NAME_LENGTH} characters")]
    NameTooLong { reference: String },
    #[error(
        "invalid tag {tag:?} in {reference:?} (at most 128 of [A-Za-z0-9_.-], not starting with . or -)"
    )]
    Tag { reference: String, tag: String },
    #[error("invalid digest {digest:?} in {reference:?} (expected e.g. sha256:<64 hex digits>)")]
    Digest { reference: String, digest: String },
}

/// A normalised image reference: `registry/repository[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageRef {
    /// The registry host, with port if any: `docker.io`, `ghcr.io`, `127.0.0.1:5000`.
    pub registry: String,
    /// The repository path inside the registry: `library/nginx`.
    pub repository: String,
    /// `latest` when the reference named neither tag nor digest.
    pub tag: Option<String>,
    /// `algorithm:hex`, when the reference pins one.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parse and normalise a reference as `docker pull` would.
    pub fn parse(text: &str) -> Result<ImageRef, ReferenceError> {
        let reference = text.trim();
        if reference.is_empty() {
            return Err(ReferenceError::Empty);
        }
        let owned = || reference.to_owned();
        let (rest, digest) = match reference.split_once('@') {
            Some((rest, digest)) => {
                if !is_valid_digest(digest) {
                    return Err(ReferenceError::Digest {
                        reference: owned(),
                        digest: digest.to_owned(),
                    });
                }
                (rest, Some(digest.to_owned()))
            }
            None => (reference, None),
        };
        // A tag is after the last ':' that follows the last '/': `host:5000/repo` has no tag.
        let last_slash = rest.rfind('/').map_or(0, |index| index + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(colon) => {
                let split = last_slash + colon;
                (&rest[..split], Some(rest[split + 1..].to_owned()))
            }
            None => (rest, None),
        };
        if let Some(tag) = &tag
            && !TAG.is_match(tag)
        {
            return Err(ReferenceError::Tag {
                reference: owned(),
                tag: tag.clone(),
            });
        }
        let (registry, repository) = split_registry(name);
        validate_registry(reference, registry)?;
        let registry = if registry == "index.docker.io" || registry == "registry-1.docker.io" {
            DOCKER_HUB
        } else {
            registry
        };
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository.to_owned()
        };
        validate_repository(reference, &repository)?;
        if registry.len() + 1 + repository.len() > MAX_NAME_LENGTH {
            return Err(ReferenceError::NameTooLong { reference: owned() });
        }
        let tag = match (tag, &digest) {
            (None, None) => Some(DEFAULT_TAG.to_owned()),
            (tag, _) => tag,
        };
        Ok(ImageRef {
            registry: registry.to_owned(),
            repository,
            tag,
            digest,
        })
    }

    /// The same repository with `tag` and no digest.
    pub fn with_tag(&self, tag: &str) -> ImageRef {
        ImageRef {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: Some(tag.to_owned()),
            digest: None,
        }
    }

    /// `registry/repository`, the name RepoDigests are compared by.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// What the manifest endpoint is asked for: the digest if pinned, else the tag.
    pub fn manifest_reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or(DEFAULT_TAG)
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(formatter, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(formatter, "@{digest}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for ImageRef {
    type Err = ReferenceError;
    fn from_str(text: &str) -> Result<ImageRef, ReferenceError> {
        ImageRef::parse(text)
    }
}

/// The engine's rule: the first part is a host if it has a `.` or `:`, is `localhost`, or
/// has an uppercase letter (which a repository cannot have); otherwise it is Docker Hub.
fn split_registry(name: &str) -> (&str, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            (first, rest)
        }
        _ => (DOCKER_HUB, name),
    }
}

fn validate_registry(reference: &str, registry: &str) -> Result<(), ReferenceError> {
    let bad = || ReferenceError::Registry {
        reference: reference.to_owned(),
        host: registry.to_owned(),
    };
    let port = if let Some(bracketed) = registry.strip_prefix('[') {
        // An IPv6 literal, `[::1]:5000`.
        let (address, after) = bracketed.split_once(']').ok_or_else(bad)?;
        address.parse::<std::net::Ipv6Addr>().map_err(|_| bad())?;
        match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or_else(bad)?),
        }
    } else {
        let (host, port) = match registry.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (registry, None),
        };
        if host.is_empty() || !host.split('.').all(|part| DOMAIN_COMPONENT.is_match(part)) {
            return Err(bad());
        }
        port
    };
    if let Some(port) = port
        && (port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    Ok(())
}

fn validate_repository(reference: &str, repository: &str) -> Result<(), ReferenceError> {
    for component in repository.split('/') {
        if PATH_COMPONENT.is_match(component) {
            continue;
        }
        if PATH_COMPONENT.is_match(&component.to_ascii_lowercase()) {
            return Err(ReferenceError::Uppercase {
                reference: reference.to_owned(),
            });
        }
        return Err(ReferenceError::Repository {
            reference: reference.to_owned(),
            component: component.to_owned(),
        });
    }
    Ok(())
}

fn is_valid_digest(digest: &str) -> bool {
    if !DIGEST.is_match(digest) {
        return false;
    }
    match digest.split_once(':') {
        Some(("sha256", hex)) => {
            hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        }
        Some(("sha512", hex)) => {
            hex.len() == 128 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000abc";

    fn normalised(text: &str) -> String {
        ImageRef::parse(text).unwrap().to_string()
    }

    #[test]
    fn short_names_are_docker_hub_library_latest() {
        assert_eq!(normalised("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(normalised("nginx:1.27"), "docker.io/library/nginx:1.27");
        assert_eq!(
            normalised("bitnami/redis"),
            "docker.io/bitnami/redis:latest"
        );
        assert_eq!(
            normalised("index.docker.io/nginx"),
            "docker.io/library/nginx:latest"
        );
        assert_eq!(
            normalised("docker.io/library/nginx"),
            "docker.io/library/nginx:latest"
        );
    }

    #[test]
    fn hosts_with_ports_are_not_tags() {
        let image = ImageRef::parse("127.0.0.1:5000/team/app").unwrap();
        assert_eq!(image.registry, "127.0.0.1:5000");
        assert_eq!(image.repository, "team/app");
        assert_eq!(image.tag.as_deref(), Some("latest"));
        assert_eq!(normalised("localhost/app:v1"), "localhost/app:v1");
        assert_eq!(normalised("localhost:5000/app:v1"), "localhost:5000/app:v1");
        assert_eq!(normalised("[::1]:5000/app:v1"), "[::1]:5000/app:v1");
        assert_eq!(normalised("ghcr.io/owner/app:1.0"), "ghcr.io/owner/app:1.0");
    }

    #[test]
    fn digests_alone_or_with_a_tag() {
        let pinned = ImageRef::parse(&format!("nginx@{DIGEST}")).unwrap();
        assert_eq!(pinned.tag, None);
        assert_eq!(pinned.digest.as_deref(), Some(DIGEST));
        assert_eq!(pinned.manifest_reference(), DIGEST);
        assert_eq!(
            pinned.to_string(),
            format!("docker.io/library/nginx@{DIGEST}")
        );
        let both = ImageRef::parse(&format!("reg.example:443/a/b:1.2@{DIGEST}")).unwrap();
        assert_eq!(both.tag.as_deref(), Some("1.2"));
        assert_eq!(
            both.to_string(),
            format!("reg.example:443/a/b:1.2@{DIGEST}")
        );
        assert_eq!(both.with_tag("2.0").to_string(), "reg.example:443/a/b:2.0");
    }

    #[test]
    fn errors_name_the_bad_part() {
        let cases = [
            ("", ReferenceError::Empty),
            (
                "nginx:-bad",
                ReferenceError::Tag {
                    reference: "nginx:-bad".into(),
                    tag: "-bad".into(),
                },
            ),
            (
                "Nginx",
                ReferenceError::Uppercase {
                    reference: "Nginx".into(),
                },
            ),
            (
                "nginx@sha256:abc",
                ReferenceError::Digest {
                    reference: "nginx@sha256:abc".into(),
                    digest: "sha256:abc".into(),
                },
            ),
            (
                "bad_host.-x.io/app",
                ReferenceError::Registry {
                    reference: "bad_host.-x.io/app".into(),
                    host: "bad_host.-x.io".into(),
                },
            ),
            (
                "reg.io:99x/app",
                ReferenceError::Registry {
                    reference: "reg.io:99x/app".into(),
                    host: "reg.io:99x".into(),
                },
            ),
            (
                "reg.io/a//b",
                ReferenceError::Repository {
                    reference: "reg.io/a//b".into(),
                    component: String::new(),
                },
            ),
            (
                "reg.io/a/b-:1",
                ReferenceError::Repository {
                    reference: "reg.io/a/b-:1".into(),
                    component: "b-".into(),
                },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(ImageRef::parse(text), Err(expected), "{text:?}");
        }
        let longest_tag = format!("nginx:{}", "a".repeat(128));
        assert!(ImageRef::parse(&longest_tag).is_ok());
        let too_long = "a".repeat(129);
        for bad_tag in ["tést", "v1.0-ß", "١٢٣", too_long.as_str()] {
            let text = format!("nginx:{bad_tag}");
            assert_eq!(
                ImageRef::parse(&text),
                Err(ReferenceError::Tag {
                    reference: text.clone(),
                    tag: bad_tag.to_owned(),
                }),
                "a tag outside [A-Za-z0-9_.-] or over 128 characters: {text:?}"
            );
        }
        let long = format!("reg.io/{}", "a".repeat(260));
        assert!(matches!(
            ImageRef::parse(&long),
            Err(ReferenceError::NameTooLong { .. })
        ));
    }

    #[test]
    fn the_error_message_quotes_the_part() {
        let message = ImageRef::parse("nginx:v1!").unwrap_err().to_string();
        assert!(message.contains("invalid tag \"v1!\""), "{message}");
    }

    proptest::proptest! {
        #[test]
        fn display_round_trips(repo in "[a-z0-9]{1,8}(/[a-z0-9]{1,8}){0,2}", tag in "[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,20}") {
            let image = ImageRef::parse(&format!("{repo}:{tag}")).unwrap();
            proptest::prop_assert_eq!(ImageRef::parse(&image.to_string()).unwrap(), image);
        }
    }
}
