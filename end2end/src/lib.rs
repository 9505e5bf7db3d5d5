//! Fixtures for Berth's browser tests: the built `berth` binary serving on a free port with a
//! temporary database, and chromedriver driving Debian's Chromium headless.
//!
//! Both are real processes, stopped when their fixture is dropped (a failing test too).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The cargo target folder this test binary was built into (`<target>/debug/deps/<test>`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    exe.ancestors()
        .nth(3)
        .expect("the test binary lives in <target>/<profile>/deps")
        .to_owned()
}

/// Where screenshots go: `<target>/end2end/`.
pub fn screenshot_dir() -> PathBuf {
    let dir = target_dir().join("end2end");
    std::fs::create_dir_all(&dir).expect("creating the screenshot folder");
    dir
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited ({status}) before listening on port {port}");
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not listen on port {port} within 30 s");
}

/// The dashboard user every test server is configured with.
pub const ADMIN_EMAIL: &str = "admin@example.test";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// `berth serve` from the target folder, on a free port with its own temporary folder
/// holding the env file and the database, with one dashboard user ([`ADMIN_EMAIL`]).
pub struct BerthServer {
    child: Child,
    pub port: u16,
    pub folder: tempfile::TempDir,
}

impl BerthServer {
    pub fn start(extra_env: &[(&str, &str)]) -> BerthServer {
        BerthServer::start_with_env_file_lines(extra_env, "")
    }

    /// Like [`BerthServer::start`], with `lines` appended to the env file (compose files and
    /// repository maps of a project the test manages).
    pub fn start_with_env_file_lines(extra_env: &[(&str, &str)], lines: &str) -> BerthServer {
        let binary = target_dir().join("debug/berth");
        assert!(
            binary.is_file(),
            "{} is missing: build it first with scripts/build.sh",
            binary.display()
        );
        let folder = tempfile::tempdir().expect("a temporary folder for berth");
        let env_file = folder.path().join(".updater.env");
        std::fs::write(
            &env_file,
            format!("# written by the end2end tests\nCHECK_INTERVAL=1h\n\
             # other tests' compose projects run on this engine too: manage only what is named here\n\
             DISCOVER_FROM_LABELS=false\n\
             ADMIN_EMAIL={ADMIN_EMAIL}\nADMIN_PASSWORD={ADMIN_PASSWORD}\n{lines}"),
        )
        .expect("writing the env file");
        let port = testkit::free_port();
        let mut child = Command::new(&binary)
            .arg("--env-file")
            .arg(&env_file)
            .arg("serve")
            .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env_remove("DATABASE_URL")
            .envs(extra_env.iter().copied())
            .stdin(Stdio::null())
            .spawn()
            .expect("starting berth");
        wait_for_port(port, &mut child, "berth");
        BerthServer {
            child,
            port,
            folder,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Log in over HTTP as [`ADMIN_EMAIL`]; returns the `Cookie` header value to send.
    pub async fn login_cookie(&self) -> String {
        let response = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client")
            .post(self.url("/login"))
            .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
            .send()
            .await
            .expect("POST /login");
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|value| value.to_str().ok())
            .expect("a session cookie after logging in");
        cookie
            .split(';')
            .next()
            .expect("name=value first")
            .to_owned()
    }

    /// A client that sends the session cookie of a fresh login with every request.
    pub async fn logged_in_client(&self) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        let cookie = self.login_cookie().await;
        headers.insert(
            reqwest::header::COOKIE,
            cookie.parse().expect("a cookie is a valid header value"),
        );
        reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .expect("an HTTP client")
    }

    /// Log the browser in through the login form, as a user would.
    pub async fn log_in(
        &self,
        client: &fantoccini::Client,
    ) -> Result<(), fantoccini::error::CmdError> {
        client.goto(&self.url("/login")).await?;
        let form = client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(fantoccini::Locator::Css(r#"[data-testid="login-form"]"#))
            .await?;
        form.find(fantoccini::Locator::Css(r#"input[name="email"]"#))
            .await?
            .send_keys(ADMIN_EMAIL)
            .await?;
        form.find(fantoccini::Locator::Css(r#"input[name="password"]"#))
            .await?
            .send_keys(ADMIN_PASSWORD)
            .await?;
        form.find(fantoccini::Locator::Css(r#"button[type="submit"]"#))
            .await?
            .click()
            .await?;
        client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(fantoccini::Locator::Css(r#"[data-testid="current-user"]"#))
            .await?;
        Ok(())
    }

    pub fn database(&self) -> PathBuf {
        self.folder.path().join("berth.db")
    }

    /// Send SIGTERM and wait up to `limit` for the exit status.
    pub fn terminate(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for BerthServer {
    fn drop(&mut self) {
        let _already_exited = self.child.kill();
        let _ = self.child.wait();
    }
}

/// chromedriver on a free port; sessions it starts run Debian's Chromium headless.
pub struct Chromedriver {
    child: Child,
    pub port: u16,
}

impl Chromedriver {
    pub fn start() -> Chromedriver {
        let port = testkit::free_port();
        let mut child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        wait_for_port(port, &mut child, "chromedriver");
        Chromedriver { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A WebDriver session: headless Chromium, driven over loopback HTTP.
    pub async fn session(&self) -> Result<fantoccini::Client, fantoccini::error::NewSessionError> {
        let http = hyper_util::client::legacy::connect::HttpConnector::new();
        fantoccini::ClientBuilder::new(http)
            .capabilities(Self::capabilities())
            .connect(&self.url())
            .await
    }

    /// The capabilities for headless Chromium in a container without a GPU or network.
    fn capabilities() -> serde_json::Map<String, serde_json::Value> {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .find(|path| Path::new(path).exists())
            .unwrap_or("/usr/bin/chromium");
        let options = serde_json::json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--window-size=1280,900",
            ],
        });
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        capabilities
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _already_exited = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A compose project on the real Docker engine, from a compose file written to a temporary
/// folder. Dropping it takes the project down (containers and network), a failing test too.
pub struct ComposeProject {
    pub name: String,
    pub compose_file: PathBuf,
    _folder: tempfile::TempDir,
}

impl ComposeProject {
    /// Write `compose` as `compose.yml` and `docker compose up -d` it as project `name`.
    pub fn up(name: &str, compose: &str) -> ComposeProject {
        let folder = tempfile::tempdir().expect("a temporary folder for the compose project");
        let compose_file = folder.path().join("compose.yml");
        std::fs::write(&compose_file, compose).expect("writing the compose file");
        let project = ComposeProject {
            name: name.to_owned(),
            compose_file,
            _folder: folder,
        };
        let output = project.compose(&["up", "-d", "--quiet-pull"]);
        assert!(
            output.status.success(),
            "compose up failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        project
    }

    fn compose(&self, args: &[&str]) -> std::process::Output {
        Command::new("docker")
            .args(["compose", "-p", &self.name, "-f"])
            .arg(&self.compose_file)
            .args(args)
            .output()
            .expect("running docker compose")
    }
}

impl Drop for ComposeProject {
    fn drop(&mut self) {
        let _ = self.compose(&["down", "--remove-orphans", "--timeout", "1"]);
    }
}
