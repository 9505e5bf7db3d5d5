//! Real, runnable images written as an OCI image layout, ready for `skopeo copy`.
//!
//! Each image is two layers: the static busybox with its common applets (the same blob for
//! every tag, as in a real repository), and a one-file layer holding the image's marker, so
//! every tag has its own digest. Timestamps are fixed, so the same spec always gives the
//! same digest.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::component::Component;

const APPLETS: &[&str] = &[
    "sh", "sleep", "echo", "cat", "ls", "true", "false", "httpd", "wget", "test", "env", "kill",
];

/// What goes into one image.
#[derive(Debug, Clone)]
pub struct ImageSpec {
    /// Written to `/etc/berth-marker`; distinct markers give distinct digests.
    pub marker: String,
    /// The image's default command.
    pub cmd: Vec<String>,
    /// A `HEALTHCHECK` test (`["CMD", ...]` or `["CMD-SHELL", "..."]`), checked every second.
    pub healthcheck: Option<Vec<String>>,
    pub labels: BTreeMap<String, String>,
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl ImageSpec {
    /// A linux/amd64 image that sleeps forever, marked with `marker`.
    pub fn new(marker: impl Into<String>) -> ImageSpec {
        ImageSpec {
            marker: marker.into(),
            cmd: ["sleep", "2147483647"].map(String::from).to_vec(),
            healthcheck: None,
            labels: BTreeMap::new(),
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        }
    }

    pub fn cmd(mut self, cmd: &[&str]) -> ImageSpec {
        self.cmd = cmd.iter().map(|part| part.to_string()).collect();
        self
    }

    pub fn healthcheck(mut self, test: &[&str]) -> ImageSpec {
        self.healthcheck = Some(test.iter().map(|part| part.to_string()).collect());
        self
    }

    pub fn platform(mut self, os: &str, architecture: &str, variant: Option<&str>) -> ImageSpec {
        self.os = os.into();
        self.architecture = architecture.into();
        self.variant = variant.map(String::from);
        self
    }
}

/// A blob as stored in the layout: its media type, digest and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

impl Descriptor {
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"mediaType": self.media_type, "digest": self.digest, "size": self.size})
    }
}

/// An OCI image layout in a temporary folder; tags are added to its `index.json`.
pub struct OciLayout {
    dir: tempfile::TempDir,
    busybox_layer: Option<(Descriptor, String)>,
    refs: Vec<serde_json::Value>,
}

impl Default for OciLayout {
    fn default() -> Self {
        OciLayout::new()
    }
}

impl OciLayout {
    pub fn new() -> OciLayout {
        let dir = tempfile::tempdir().expect("creating a temporary OCI layout folder");
        std::fs::create_dir_all(dir.path().join("blobs/sha256")).expect("creating blobs/sha256");
        std::fs::write(
            dir.path().join("oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .expect("writing oci-layout");
        OciLayout {
            dir,
            busybox_layer: None,
            refs: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Add a single-platform image under `tag`; returns the manifest's descriptor.
    pub fn add_image(&mut self, tag: &str, spec: &ImageSpec) -> Descriptor {
        let manifest = self.write_image(spec);
        self.add_ref(tag, &manifest, None);
        manifest
    }

    /// Add a multi-platform image index under `tag`, one child per spec; returns the
    /// index's descriptor and each child's.
    pub fn add_index(&mut self, tag: &str, specs: &[ImageSpec]) -> (Descriptor, Vec<Descriptor>) {
        let children: Vec<Descriptor> = specs.iter().map(|spec| self.write_image(spec)).collect();
        let manifests: Vec<serde_json::Value> = children
            .iter()
            .zip(specs)
            .map(|(child, spec)| {
                let mut entry = child.to_json();
                entry["platform"] = platform_json(spec);
                entry
            })
            .collect();
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        });
        let descriptor = self.write_blob(
            "application/vnd.oci.image.index.v1+json",
            &serde_json::to_vec(&index).expect("index JSON"),
        );
        self.add_ref(tag, &descriptor, None);
        (descriptor, children)
    }

    fn add_ref(&mut self, tag: &str, descriptor: &Descriptor, platform: Option<serde_json::Value>) {
        let mut entry = descriptor.to_json();
        entry["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": tag});
        if let Some(platform) = platform {
            entry["platform"] = platform;
        }
        self.refs.push(entry);
        let index = serde_json::json!({"schemaVersion": 2, "manifests": self.refs});
        std::fs::write(
            self.dir.path().join("index.json"),
            serde_json::to_vec_pretty(&index).expect("index.json"),
        )
        .expect("writing index.json");
    }

    fn write_image(&mut self, spec: &ImageSpec) -> Descriptor {
        let (busybox, busybox_diff_id) = self.busybox_layer();
        let marker_tar = tar_bytes(|builder| {
            append_dir(builder, "etc/");
            append_file(builder, "etc/berth-marker", 0o644, spec.marker.as_bytes());
        });
        let marker_diff_id = sha256_digest(&marker_tar);
        let marker = self.write_blob(
            "application/vnd.oci.image.layer.v1.tar+gzip",
            &gzip(&marker_tar),
        );

        let mut config = serde_json::json!({
            "created": "2026-01-01T00:00:00Z",
            "architecture": spec.architecture,
            "os": spec.os,
            "config": {
                "Cmd": spec.cmd,
                "Labels": spec.labels,
                "Env": ["PATH=/bin"],
            },
            "rootfs": {"type": "layers", "diff_ids": [busybox_diff_id, marker_diff_id]},
        });
        if let Some(variant) = &spec.variant {
            config["variant"] = variant.clone().into();
        }
        if let Some(test) = &spec.healthcheck {
            const SECOND: u64 = 1_000_000_000;
            config["config"]["Healthcheck"] = serde_json::json!({
                "Test": test, "Interval": SECOND, "Timeout": 2 * SECOND, "Retries": 2, "StartPeriod": SECOND,
            });
        }
        let config = self.write_blob(
            "application/vnd.oci.image.config.v1+json",
            &serde_json::to_vec(&config).expect("config JSON"),
        );
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config.to_json(),
            "layers": [busybox.to_json(), marker.to_json()],
        });
        self.write_blob(
            "application/vnd.oci.image.manifest.v1+json",
            &serde_json::to_vec(&manifest).expect("manifest JSON"),
        )
    }

    fn busybox_layer(&mut self) -> (Descriptor, String) {
        if let Some(layer) = &self.busybox_layer {
            return layer.clone();
        }
        let busybox_path = Component::BusyboxStatic
            .locate()
            .expect("a static /bin/busybox (Debian busybox-static; run scripts/setup.sh)");
        let busybox = std::fs::read(&busybox_path).expect("reading /bin/busybox");
        let tar = tar_bytes(|builder| {
            append_dir(builder, "bin/");
            append_dir(builder, "tmp/");
            append_file(builder, "bin/busybox", 0o755, &busybox);
            for applet in APPLETS {
                let mut header = tar::Header::new_gnu();
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_mtime(0);
                header.set_size(0);
                builder
                    .append_link(&mut header, format!("bin/{applet}"), "busybox")
                    .expect("tar symlink");
            }
        });
        let diff_id = sha256_digest(&tar);
        let layer = (
            self.write_blob("application/vnd.oci.image.layer.v1.tar+gzip", &gzip(&tar)),
            diff_id,
        );
        self.busybox_layer = Some(layer.clone());
        layer
    }

    fn write_blob(&self, media_type: &str, bytes: &[u8]) -> Descriptor {
        let digest = sha256_digest(bytes);
        let path: PathBuf = self
            .dir
            .path()
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"));
        std::fs::write(&path, bytes).expect("writing a blob");
        Descriptor {
            media_type: media_type.into(),
            digest,
            size: bytes.len() as u64,
        }
    }
}

fn platform_json(spec: &ImageSpec) -> serde_json::Value {
    let mut platform = serde_json::json!({"os": spec.os, "architecture": spec.architecture});
    if let Some(variant) = &spec.variant {
        platform["variant"] = variant.clone().into();
    }
    platform
}

pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn tar_bytes(fill: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    fill(&mut builder);
    builder.into_inner().expect("finishing a tar")
}

fn append_dir(builder: &mut tar::Builder<Vec<u8>>, path: &str) {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Directory);
    header.set_mode(if path == "tmp/" { 0o1777 } else { 0o755 });
    header.set_mtime(0);
    header.set_size(0);
    builder
        .append_data(&mut header, path, std::io::empty())
        .expect("tar dir");
}

fn append_file(builder: &mut tar::Builder<Vec<u8>>, path: &str, mode: u32, bytes: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.set_mode(mode);
    header.set_mtime(0);
    header.set_size(bytes.len() as u64);
    builder
        .append_data(&mut header, path, bytes)
        .expect("tar file");
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}
