//! A real CNCF distribution registry (`docker-registry serve`) on a free 127.0.0.1 port,
//! with its storage, config and log in a temporary folder; stopped and removed on drop.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::component::Component;
use crate::image::{Descriptor, ImageSpec, OciLayout};

/// Every manifest type, so manifests come back exactly as they were pushed.
const MANIFEST_TYPES: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

pub struct Registry {
    child: Child,
    port: u16,
    folder: tempfile::TempDir,
    /// Files the registry reads that were written before it started (htpasswd).
    extra_folder: Option<tempfile::TempDir>,
}

impl Registry {
    /// An anonymous registry with deletes enabled.
    pub fn start() -> Registry {
        Registry::start_with("")
    }

    /// A registry that wants HTTP Basic `user`/`password` (htpasswd auth, bcrypt).
    pub fn start_htpasswd(user: &str, password: &str) -> Registry {
        let auth = tempfile::tempdir().expect("a folder for the htpasswd file");
        let htpasswd = auth.path().join("htpasswd");
        std::fs::write(&htpasswd, htpasswd_line(user, password)).expect("writing htpasswd");
        let mut registry = Registry::start_with(&format!(
            "auth:\n  htpasswd:\n    realm: berth-test\n    path: {}\n",
            htpasswd.display()
        ));
        registry.extra_folder = Some(auth);
        registry
    }

    /// A registry whose config gets `extra_yaml` appended at the top level (an `auth:` or
    /// `notifications:` section, say). Paths in it may use `{folder}` for the temp folder.
    pub fn start_with(extra_yaml: &str) -> Registry {
        Registry::start_configured(
            "level: info\n  accesslog:\n    disabled: false",
            "",
            extra_yaml,
        )
    }

    /// A registry as Debian's package configures it for production, with its in-memory
    /// blob-descriptor cache, but logging only warnings and no access log: for the benchmark,
    /// where a log line per request would spend the CPU the measured client shares with it.
    pub fn start_quiet() -> Registry {
        Registry::start_configured(
            "level: warn\n  accesslog:\n    disabled: true",
            "cache:\n    blobdescriptor: inmemory\n  ",
            "",
        )
    }

    /// `storage_yaml` goes first under `storage:`, indented for it, before `filesystem:`.
    fn start_configured(log_yaml: &str, storage_yaml: &str, extra_yaml: &str) -> Registry {
        let program = Component::DockerRegistry
            .locate()
            .expect("docker-registry is not installed: run scripts/setup.sh");
        let folder = tempfile::tempdir().expect("creating the registry's temporary folder");
        let port = crate::free_port();
        let storage = folder.path().join("storage");
        let config = format!(
            "version: 0.1\n\
             log:\n  {log_yaml}\n\
             storage:\n  {storage_yaml}filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n\
             http:\n  addr: 127.0.0.1:{port}\n  secret: berth-test-secret\n\
             {extra}\n",
            storage = storage.display(),
            extra = extra_yaml.replace("{folder}", &folder.path().display().to_string()),
        );
        let config_path = folder.path().join("config.yml");
        std::fs::write(&config_path, config).expect("writing the registry config");
        let log = std::fs::File::create(folder.path().join("registry.log")).expect("registry log");
        let child = Command::new(program)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("registry log"))
            .stderr(log)
            .spawn()
            .expect("starting docker-registry");
        let mut registry = Registry {
            child,
            port,
            folder,
            extra_folder: None,
        };
        registry.wait_until_listening();
        registry
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "docker-registry exited ({status}) before listening; its log:\n{}",
                    self.log()
                );
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "docker-registry did not listen on port {} within 20 s; its log:\n{}",
            self.port,
            self.log()
        );
    }

    /// `127.0.0.1:PORT`, the registry part of an image reference.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.host())
    }

    /// The registry process's id (the benchmark reads its CPU time).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The temporary folder holding config, storage and log.
    pub fn folder(&self) -> &Path {
        self.folder.path()
    }

    /// The registry's log so far, access log included (for counting requests).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.folder.path().join("registry.log")).unwrap_or_default()
    }

    /// Copy `tag` from `layout` to `repository:tag` here with skopeo (`--all`, so an index
    /// keeps every platform).
    pub fn push_layout(&self, layout: &OciLayout, tag: &str, repository: &str) {
        self.skopeo_copy(layout.path(), tag, repository, &[]);
    }

    /// Like [`Registry::push_layout`] with credentials (`user:password`).
    pub fn push_layout_as(&self, layout: &OciLayout, tag: &str, repository: &str, creds: &str) {
        self.skopeo_copy(layout.path(), tag, repository, &["--dest-creds", creds]);
    }

    fn skopeo_copy(&self, layout: &Path, tag: &str, repository: &str, extra: &[&str]) {
        let skopeo = Component::Skopeo
            .locate()
            .expect("skopeo is not installed: run scripts/setup.sh");
        let output = Command::new(skopeo)
            .args(["copy", "--all", "--quiet", "--dest-tls-verify=false"])
            .args(extra)
            .arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{}/{repository}:{tag}", self.host()))
            .output()
            .expect("running skopeo");
        assert!(
            output.status.success(),
            "skopeo copy of {repository}:{tag} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Build and push a single-platform image; returns its manifest descriptor.
    pub fn push_image(&self, repository: &str, tag: &str, spec: &ImageSpec) -> Descriptor {
        let mut layout = OciLayout::new();
        let descriptor = layout.add_image(tag, spec);
        self.push_layout(&layout, tag, repository);
        descriptor
    }

    /// A plain HTTP GET against the registry (no client library, so tests of Berth's own
    /// client do not depend on it); returns status and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        let mut stream =
            TcpStream::connect(("127.0.0.1", self.port)).expect("connecting to the registry");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: {MANIFEST_TYPES}\r\nConnection: close\r\n\r\n",
            self.host()
        )
        .expect("writing the request");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("reading the response");
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .expect("an HTTP status line");
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    /// Where a blob lives in storage, to corrupt or delete in tests.
    pub fn storage_path(&self) -> PathBuf {
        self.folder.path().join("storage")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _already_exited = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bcrypt htpasswd line, made with the C library's crypt(3) through perl (libxcrypt does
/// bcrypt), since neither apache2-utils nor python's bcrypt is installed here.
pub fn htpasswd_line(user: &str, password: &str) -> String {
    let output = Command::new("perl")
        .args([
            "-e",
            "print crypt($ARGV[0], q($2b$05$abcdefghijklmnopqrstuv))",
            password,
        ])
        .output()
        .expect("running perl for bcrypt");
    let hash = String::from_utf8(output.stdout).expect("a bcrypt hash");
    assert!(
        hash.starts_with("$2b$05$"),
        "crypt(3) without bcrypt: {hash:?}"
    );
    format!("{user}:{hash}\n")
}
