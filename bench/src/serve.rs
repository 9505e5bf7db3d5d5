//! The real `berth serve` binary as a child process, over the fixture's services: its
//! memory from /proc, its dashboard under wrk, and how late its SSE events arrive.
//!
//! The Docker engine is the machine's real one (it runs none of these services, so each is
//! reported without a container); compose files, env file, SQLite store and registry are real.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

const EMAIL: &str = "bench@berth.test";
const PASSWORD: &str = "bench-password-123";

pub struct Serve {
    child: Child,
    pub url: String,
    http: reqwest::Client,
    cookie: String,
    _log: PathBuf,
}

/// Memory as the kernel counts it for the process.
pub struct Memory {
    /// VmHWM: the peak resident set since start, in MB.
    pub peak_mb: f64,
    /// VmRSS now, in MB.
    pub rss_mb: f64,
    /// Of VmRSS: the heap and stacks (RssAnon) and the binary's mapped pages (RssFile).
    pub anon_mb: f64,
    pub file_mb: f64,
}

/// One check_finished event as the client saw it.
pub struct CycleEvent {
    pub services: usize,
    pub duration_ms: u64,
    /// From the moment the engine published it (its `at` plus its `duration_ms`, both taken
    /// on the engine's clock right before publishing) to the moment the client read it.
    pub delivery: Duration,
}

impl Serve {
    /// Start `berth --env-file ENV serve` with its store in `dir`, checking every `interval`.
    pub async fn start(
        berth: &Path,
        site: &Path,
        env_file: &Path,
        dir: &Path,
        interval: &str,
    ) -> Serve {
        let port = testkit::free_port();
        let log = dir.join("serve.log");
        let log_file = std::fs::File::create(&log).expect("creating the serve log");
        let mut command = Command::new(berth);
        berth_environment(&mut command, env_file, dir);
        let child = command
            .arg("serve")
            .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", site)
            .env("CHECK_INTERVAL", interval)
            .env("UPDATE_MODE", "notify")
            .env("DISCOVER_FROM_LABELS", "false")
            .env("ADMIN_EMAIL", EMAIL)
            .env("ADMIN_PASSWORD", PASSWORD)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("the serve log"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|error| panic!("starting {}: {error}", berth.display()));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        let url = format!("http://127.0.0.1:{port}");
        let mut serve = Serve {
            child,
            url,
            http,
            cookie: String::new(),
            _log: log.clone(),
        };
        serve.wait_healthy(&log).await;
        serve.cookie = serve.login().await;
        serve
    }

    async fn wait_healthy(&mut self, log: &Path) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "berth serve exited ({status}); its log:\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            let health = self.http.get(format!("{}/healthz", self.url)).send().await;
            if health.is_ok_and(|answer| answer.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("berth serve did not answer /healthz within 60 s");
    }

    /// Log in as the configured admin; the session cookie (`berth_session=…`).
    async fn login(&self) -> String {
        let answer = self
            .http
            .post(format!("{}/login", self.url))
            .form(&[("email", EMAIL), ("password", PASSWORD), ("next", "/")])
            .send()
            .await
            .expect("posting the login form");
        answer
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find(|value| value.starts_with("berth_session="))
            .and_then(|value| value.split(';').next())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no session cookie after logging in: {answer:?}"))
    }

    pub fn cookie(&self) -> &str {
        &self.cookie
    }

    /// Start a new peak: VmHWM is reset to the current resident set (`clear_refs` 5), so
    /// the next reading is the peak since now.
    pub fn reset_peak(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5")
            .expect("resetting VmHWM through /proc/PID/clear_refs");
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn memory(&self) -> Memory {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("reading /proc/PID/status of berth serve");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kb| kb.parse::<f64>().ok())
                .map(|kb| kb / 1024.0)
                .unwrap_or(f64::NAN)
        };
        Memory {
            peak_mb: field("VmHWM:"),
            rss_mb: field("VmRSS:"),
            anon_mb: field("RssAnon:"),
            file_mb: field("RssFile:"),
        }
    }

    /// GET `path` with the session cookie; panics naming the path if nothing answers.
    async fn get_logged_in(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {path}: {error}"))
    }

    /// SIGTERM, so the store is closed as in production; true when it exited within `within`,
    /// else it is killed.
    pub fn stop(&mut self, within: Duration) -> bool {
        if let Ok(Some(_)) = self.child.try_wait() {
            return true;
        }
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }

    /// GET the overview page; its status and body.
    pub async fn overview(&self) -> (u16, String) {
        let answer = self.get_logged_in("/").await;
        let status = answer.status().as_u16();
        (status, answer.text().await.unwrap_or_default())
    }

    /// Follow `/events` until `count` check_finished events arrived (or `limit` passed).
    pub async fn cycle_events(&self, count: usize, limit: Duration) -> Vec<CycleEvent> {
        let mut answer = self.get_logged_in("/events").await;
        assert!(
            answer.status().is_success(),
            "/events answered {}",
            answer.status()
        );
        let deadline = tokio::time::Instant::now() + limit;
        let mut events = Vec::new();
        let mut buffer = String::new();
        while events.len() < count {
            let chunk = match tokio::time::timeout_at(deadline, answer.chunk()).await {
                Ok(Ok(Some(chunk))) => chunk,
                _ => break,
            };
            let received = Utc::now();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                if let Some(parsed) = check_finished(&event, received) {
                    events.push(parsed);
                }
            }
        }
        events
    }
}

/// `berth --env-file ENV` with nothing of the caller's environment but PATH and HOME, and
/// its store in `dir`: the arguments and environment every `berth` run here shares.
fn berth_environment(command: &mut Command, env_file: &Path, dir: &Path) {
    command
        .arg("--env-file")
        .arg(env_file)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("berth.db").display()),
        );
}

/// A `check_finished` SSE event, timed against the moment its chunk arrived.
fn check_finished(event: &str, received: DateTime<Utc>) -> Option<CycleEvent> {
    if !event.lines().any(|line| line == "event: check_finished") {
        return None;
    }
    let data: String = event
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(str::trim_start)
        .collect();
    let data: serde_json::Value = serde_json::from_str(&data).ok()?;
    let at: DateTime<Utc> = data["at"].as_str()?.parse().ok()?;
    let duration_ms = data["duration_ms"].as_u64()?;
    let published = at + chrono::Duration::milliseconds(i64::try_from(duration_ms).ok()?);
    Some(CycleEvent {
        services: usize::try_from(data["services_checked"].as_u64()?).ok()?,
        duration_ms,
        delivery: (received - published).to_std().unwrap_or_default(),
    })
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(10));
    }
}

/// `wrk` against the overview page: p50 and p99 in ms, requests per second, non-2xx count.
pub struct Load {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests_per_second: f64,
    pub errors: u64,
}

pub fn wrk(serve: &Serve, seconds: u32, connections: u32) -> Result<Load, String> {
    let output = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
        ])
        .args(["-H", &format!("Cookie: {}", serve.cookie())])
        .arg(format!("{}/", serve.url))
        .output()
        .map_err(|error| format!("wrk did not run ({error}): run scripts/setup.sh"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!(
            "wrk failed: {}{}",
            text,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let percentile = |label: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|line| line.strip_prefix(label))
            .and_then(|value| parse_duration_ms(value.trim()))
    };
    let after = |label: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|line| line.strip_prefix(label))
            .and_then(|value| value.trim().parse::<f64>().ok())
    };
    Ok(Load {
        p50_ms: percentile("50%").ok_or_else(|| format!("no p50 in wrk's output:\n{text}"))?,
        p99_ms: percentile("99%").ok_or_else(|| format!("no p99 in wrk's output:\n{text}"))?,
        requests_per_second: after("Requests/sec:").unwrap_or(0.0),
        errors: after("Non-2xx or 3xx responses:").unwrap_or(0.0) as u64,
    })
}

/// wrk's `812.00us`, `1.23ms`, `2.01s`.
fn parse_duration_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    match unit {
        "us" => Some(number / 1000.0),
        "ms" => Some(number),
        "s" => Some(number * 1000.0),
        "m" => Some(number * 60_000.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_latencies_are_read_in_milliseconds_whatever_their_unit() {
        assert_eq!(parse_duration_ms("850.00us"), Some(0.85));
        assert_eq!(parse_duration_ms("3.20ms"), Some(3.2));
        assert_eq!(parse_duration_ms("1.50s"), Some(1500.0));
        assert_eq!(parse_duration_ms("2.00m"), Some(120_000.0));
        assert_eq!(parse_duration_ms("7h"), None);
        assert_eq!(parse_duration_ms("ms"), None);
    }

    #[test]
    fn a_check_finished_event_is_timed_from_its_publication() {
        let event = "event: check_finished\n\
                     data: {\"at\":\"2030-01-01T00:00:00Z\",\"duration_ms\":250,\"services_checked\":20}";
        let received: DateTime<Utc> = "2030-01-01T00:00:00.300Z".parse().unwrap();
        let cycle = check_finished(event, received).expect("a check_finished event");
        assert_eq!(cycle.services, 20);
        assert_eq!(cycle.duration_ms, 250);
        assert_eq!(cycle.delivery, Duration::from_millis(50));
        assert!(check_finished("event: heartbeat\ndata: {}", received).is_none());
    }
}
