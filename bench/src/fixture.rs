//! The benchmark's registry: a real `docker-registry` holding N repositories with realistic
//! tag lists. Two images (one single-platform, one multi-arch index) are pushed for real with
//! skopeo; every other repository is written straight into the registry's filesystem storage
//! (the layout distribution itself writes: blobs, revision links, tag links), each tag a
//! manifest of its own that references the pushed images' real blobs. Writing files is
//! thousands of times cheaper than pushing, and the registry serves them over HTTP exactly
//! as if they had been pushed: its blob-descriptor cache keeps only what it has read from
//! storage, and a blob, named by its digest, never changes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use testkit::{ImageSpec, OciLayout, Registry};

/// One repository: its tags, which manifest each points at, and the tag its service runs.
pub struct Repository {
    pub name: String,
    pub tags: Vec<(String, usize)>,
    pub revisions: usize,
    pub current: String,
    /// A tag that floats (`latest`, `main`): a service on it is followed by digest.
    pub floating: String,
    pub multi_arch: bool,
}

/// Which tag the benchmark's services run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Track {
    /// Each repository's `current` tag: mostly versions, ranked from the tag list (one in
    /// five repositories runs its branch tag, followed by digest).
    Tags,
    /// Each repository's floating tag: only digests are tracked.
    Digests,
}

pub struct Fixture {
    pub registry: Registry,
    pub repositories: Vec<Repository>,
    /// What each `repository:tag` names (the index digest for a multi-arch tag): what a
    /// host that pulled it has among its RepoDigests.
    pub digests: HashMap<String, String>,
    pub setup: Duration,
    pub tags_written: usize,
}

/// The seed images' manifests as the registry serves them, parsed.
struct Seed {
    single: serde_json::Value,
    index: serde_json::Value,
    /// The index's children's digests.
    children: Vec<String>,
    /// Every blob the seed manifests reference (configs and layers).
    blobs: Vec<String>,
}

impl Fixture {
    /// Start a registry and fill it with `count` repositories.
    pub fn start(count: usize) -> Fixture {
        let started = Instant::now();
        let registry = Registry::start_quiet();
        let seed = push_seed(&registry);
        let root = registry
            .storage_path()
            .join("docker/registry/v2/repositories");
        let blobs = registry.storage_path().join("docker/registry/v2/blobs");
        let repositories: Vec<Repository> = (0..count).map(repository).collect();
        let mut tags_written = 0;
        let mut shared = HashMap::new();
        let mut digests = HashMap::new();
        for repository in &repositories {
            let tag_digests = write_repository(
                &root.join(&repository.name),
                &blobs,
                &seed,
                repository,
                &mut shared,
            );
            for (tag, digest) in tag_digests {
                digests.insert(format!("{}:{tag}", repository.name), digest);
            }
            tags_written += repository.tags.len();
        }
        Fixture {
            registry,
            repositories,
            digests,
            setup: started.elapsed(),
            tags_written,
        }
    }

    /// `127.0.0.1:PORT/<repository>:<tag>`, the tag as `track` says.
    pub fn image(&self, repository: &Repository, track: Track) -> String {
        let tag = match track {
            Track::Tags => &repository.current,
            Track::Digests => &repository.floating,
        };
        format!("{}/{}:{tag}", self.registry.host(), repository.name)
    }

    /// `image`'s RepoDigest as docker inspect shows it after a pull, if the fixture has it.
    pub fn repo_digest(&self, image: &str) -> Option<String> {
        let name = image.strip_prefix(&format!("{}/", self.registry.host()))?;
        let digest = self.digests.get(name)?;
        let repository = name
            .rsplit_once(':')
            .map_or(name, |(repository, _)| repository);
        Some(format!("{}/{repository}@{digest}", self.registry.host()))
    }
}

fn push_seed(registry: &Registry) -> Seed {
    registry.push_image("seed/single", "1", &ImageSpec::new("bench-single"));
    let mut layout = OciLayout::new();
    layout.add_index(
        "1",
        &[
            ImageSpec::new("bench-multi").platform("linux", "amd64", None),
            ImageSpec::new("bench-multi").platform("linux", "arm64", Some("v8")),
        ],
    );
    registry.push_layout(&layout, "1", "seed/multi");
    let fetch = |path: &str| {
        let (status, body) = registry.get(path);
        assert_eq!(status, 200, "GET {path} from the seeded registry: {body}");
        body
    };
    let json = |text: &str| -> serde_json::Value {
        serde_json::from_str(text).expect("a seed manifest is JSON")
    };
    let single = json(&fetch("/v2/seed/single/manifests/1"));
    let index = json(&fetch("/v2/seed/multi/manifests/1"));
    let mut blobs = referenced_blobs(&single);
    let mut children = Vec::new();
    for child in index["manifests"]
        .as_array()
        .expect("an index lists manifests")
    {
        let digest = child["digest"].as_str().expect("a child digest").to_owned();
        let raw = fetch(&format!("/v2/seed/multi/manifests/{digest}"));
        blobs.extend(referenced_blobs(&json(&raw)));
        children.push(digest);
    }
    Seed {
        single,
        index,
        children,
        blobs,
    }
}

fn referenced_blobs(manifest: &serde_json::Value) -> Vec<String> {
    std::iter::once(&manifest["config"])
        .chain(manifest["layers"].as_array().into_iter().flatten())
        .filter_map(|descriptor| descriptor["digest"].as_str().map(str::to_owned))
        .collect()
}

/// Repository `index`'s tags, in one of five styles real registries are full of.
fn repository(index: usize) -> Repository {
    let mut tags: Vec<(String, usize)> = Vec::new();
    let mut revision = 0;
    let mut add = |tags: &mut Vec<(String, usize)>, tag: String, new_revision: bool| {
        if new_revision {
            revision += 1;
        }
        tags.push((tag, revision.max(1) - 1));
    };
    let (current, floating) = match index % 5 {
        // Full semver with minor, major and floating aliases: 1.0.0 … 1.3.3, 1.3, 1, latest.
        0 => {
            for minor in 0..4 {
                for patch in 0..4 {
                    add(&mut tags, format!("1.{minor}.{patch}"), true);
                }
                add(&mut tags, format!("1.{minor}"), false);
            }
            add(&mut tags, "1".into(), false);
            add(&mut tags, "latest".into(), false);
            ("1.2.1", "latest")
        }
        // Versions with variant suffixes, the lane a service must stay in.
        1 => {
            for minor in 0..3 {
                for patch in 0..3 {
                    for variant in ["alpine", "bookworm"] {
                        add(&mut tags, format!("3.{minor}.{patch}-{variant}"), true);
                    }
                }
                add(&mut tags, format!("3.{minor}-alpine"), false);
            }
            add(&mut tags, "alpine".into(), false);
            ("3.1.0-alpine", "alpine")
        }
        // Calendar dates.
        2 => {
            for month in 1..=12 {
                for day in [3, 17] {
                    add(&mut tags, format!("2025.{month:02}.{day:02}"), true);
                }
            }
            add(&mut tags, "latest".into(), false);
            ("2025.06.17", "latest")
        }
        // Commit SHAs with a branch tag that floats.
        3 => {
            for build in 0..20 {
                add(&mut tags, format!("sha-{}", short_sha(index, build)), true);
            }
            add(&mut tags, format!("main-{}", short_sha(index, 19)), false);
            add(&mut tags, "main".into(), false);
            ("main", "main")
        }
        // `v`-prefixed releases with pre-releases and release branches.
        _ => {
            for minor in 0..5 {
                add(&mut tags, format!("v2.{minor}.0-rc.1"), true);
                for patch in 0..3 {
                    add(&mut tags, format!("v2.{minor}.{patch}"), true);
                }
                add(&mut tags, format!("release-2.{minor}"), false);
            }
            add(&mut tags, "stable".into(), false);
            ("v2.3.1", "stable")
        }
    };
    Repository {
        name: format!("bench/team-{:02}/app-{index:04}", index % 20),
        revisions: revision,
        tags,
        current: current.to_owned(),
        floating: floating.to_owned(),
        // Every tenth repository publishes multi-arch indexes, as base images do.
        multi_arch: index % 10 == 7,
    }
}

fn short_sha(repository: usize, build: usize) -> String {
    let digest = Sha256::digest(format!("{repository}/{build}").as_bytes());
    hex::encode(&digest[..4])[..7].to_owned()
}

/// Write one repository into the storage: its manifests as blobs, their revision links, a
/// tag link per tag, and layer links for every blob its manifests reference. Returns each
/// tag with the digest it names.
///
/// Single-platform manifests differ by revision only, so repositories share them (`shared`,
/// revision → digest), as images built from one base do; each multi-arch repository has
/// indexes of its own, so the benchmark pays for every index fetch it would pay for in life.
fn write_repository(
    repo_dir: &Path,
    blobs: &Path,
    seed: &Seed,
    repository: &Repository,
    shared: &mut HashMap<usize, String>,
) -> Vec<(String, String)> {
    let mut digests = Vec::with_capacity(repository.revisions);
    for revision in 0..repository.revisions {
        if !repository.multi_arch
            && let Some(digest) = shared.get(&revision)
        {
            digests.push(digest.clone());
            continue;
        }
        let (mut manifest, source) = if repository.multi_arch {
            (seed.index.clone(), repository.name.as_str())
        } else {
            (seed.single.clone(), "bench")
        };
        manifest["annotations"] = serde_json::json!({
            "org.opencontainers.image.source": format!("https://git.example/{source}"),
            "org.opencontainers.image.revision": format!("{revision}"),
        });
        let bytes = serde_json::to_vec(&manifest).expect("a manifest serializes");
        let digest = write_blob(blobs, &bytes);
        if !repository.multi_arch {
            shared.insert(revision, digest.clone());
        }
        digests.push(digest);
    }
    let mut revisions: Vec<&str> = digests.iter().map(String::as_str).collect();
    if repository.multi_arch {
        // The children are the pushed seed's: their blobs are stored already.
        revisions.extend(seed.children.iter().map(String::as_str));
    }
    for digest in revisions {
        write_link(
            &repo_dir.join("_manifests/revisions").join(hex_path(digest)),
            digest,
        );
    }
    for blob in &seed.blobs {
        write_link(&repo_dir.join("_layers").join(hex_path(blob)), blob);
    }
    for (tag, revision) in &repository.tags {
        write_link(
            &repo_dir.join("_manifests/tags").join(tag).join("current"),
            &digests[*revision],
        );
    }
    repository
        .tags
        .iter()
        .map(|(tag, revision)| (tag.clone(), digests[*revision].clone()))
        .collect()
}

/// `sha256:abc…` → `sha256/abc…`.
fn hex_path(digest: &str) -> PathBuf {
    PathBuf::from(digest.replacen(':', "/", 1))
}

/// Store `bytes` as a blob (content-addressed, so writing it twice is harmless).
fn write_blob(blobs: &Path, bytes: &[u8]) -> String {
    let hex = hex::encode(Sha256::digest(bytes));
    let dir = blobs.join("sha256").join(&hex[..2]).join(&hex);
    std::fs::create_dir_all(&dir).expect("creating a blob folder in the registry storage");
    std::fs::write(dir.join("data"), bytes).expect("writing a blob into the registry storage");
    format!("sha256:{hex}")
}

/// `<dir>/link` holding `digest`, as distribution writes it (no newline).
fn write_link(dir: &Path, digest: &str) {
    std::fs::create_dir_all(dir).expect("creating a link folder in the registry storage");
    std::fs::write(dir.join("link"), digest).expect("writing a link into the registry storage");
}
