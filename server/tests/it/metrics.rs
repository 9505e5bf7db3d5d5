//! `/metrics` on a real server: the real web stack on 127.0.0.1 port 0, an engine
//! on the real Docker engine, compose CLI and `docker-registry`. Every page is read with a
//! Prometheus text-format parser (prometheus-parse), and the counters must follow what the
//! test does: a check, a deploy, a rollback, a scan, registry traffic.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth::backend::EngineBackend;
use berth::clock::SystemClock;
use berth::config::Config;
use berth::engine::{Action, Engine};
use berth::metrics::Metrics;
use berth::scan::ScanOutcome;
use berth::store::{Store, Verdict};
use berth::web::{self, AppState};
use prometheus_parse::{LineInfo, Scrape, Value};
use testkit::Registry;
use tokio_util::sync::CancellationToken;

use crate::deploy::harness::{Project, components_present, engine, env_file, fixture, push};

/// How long the event subscriber may take to catch up with what the test just did. It is
/// in-process and usually done within milliseconds; this only bounds a broken build.
const SETTLE: Duration = Duration::from_secs(15);

/// Berth serving the dashboard, `/metrics` and the rest on a free loopback port.
struct Server {
    addr: SocketAddr,
    engine: Arc<Engine>,
    store: Store,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), web::WebError>>,
}

impl Server {
    async fn start(env: &Path, dir: &Path) -> Server {
        let config = Config::load(Some(env)).unwrap();
        let (engine, store) = engine(env, dir).await;
        let engine = Arc::new(engine);
        let listener = web::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let state = AppState {
            leptos_options: web::leptos_options(dir, addr),
            backend: Arc::new(EngineBackend::new(engine.clone())),
            events: engine.events().clone(),
            engine: engine.clone(),
            store: store.clone(),
            config: Arc::new(config.clone()),
            auth: berth::auth::Auth::start(&config, store.clone(), Arc::new(SystemClock))
                .await
                .unwrap(),
            api: berth::api::ApiState::default(),
            metrics: Metrics::from_config(&config).unwrap(),
            shutdown: shutdown.clone(),
        };
        state.metrics.start(&state.events, shutdown.clone());
        let task = tokio::spawn(web::serve(listener, state));
        Server {
            addr,
            engine,
            store,
            shutdown,
            task,
        }
    }

    async fn get(&self, authorization: Option<&str>) -> reqwest::Response {
        let mut request = reqwest::Client::new().get(format!("http://{}/metrics", self.addr));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        request.send().await.expect("GET /metrics")
    }

    async fn scrape(&self, authorization: Option<&str>) -> Page {
        let response = self.get(authorization).await;
        assert_eq!(response.status(), 200, "GET /metrics");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "content type {content_type}"
        );
        Page::parse(&response.text().await.unwrap())
    }

    /// Scrape until `ready` holds, so the subscriber has seen what the test just did.
    async fn scrape_until(
        &self,
        authorization: Option<&str>,
        ready: impl Fn(&Page) -> bool,
    ) -> Page {
        let started = Instant::now();
        loop {
            let page = self.scrape(authorization).await;
            if ready(&page) {
                return page;
            }
            assert!(
                started.elapsed() < SETTLE,
                "the counters did not move within {SETTLE:?}:\n{}",
                page.text
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap().unwrap();
    }
}

/// One parsed `/metrics` page.
struct Page {
    text: String,
    scrape: Scrape,
}

impl Page {
    /// Parse, and refuse any line the parser would skip: a malformed line must fail the
    /// test, not vanish.
    fn parse(text: &str) -> Page {
        for line in text.lines() {
            assert_ne!(
                LineInfo::parse(line),
                LineInfo::Ignored,
                "a line the Prometheus parser cannot read: {line:?}\n{text}"
            );
        }
        let scrape = Scrape::parse(text.lines().map(|line| Ok(line.to_owned())))
            .unwrap_or_else(|error| panic!("the page does not parse: {error}\n{text}"));
        for family in text.lines().filter_map(|line| line.strip_prefix("# TYPE ")) {
            let name = family.split(' ').next().unwrap();
            assert!(scrape.docs.contains_key(name), "{name} has no HELP line");
        }
        Page {
            text: text.to_owned(),
            scrape,
        }
    }

    /// The sum of the samples of `metric` whose labels include `labels` (0 if none).
    fn value(&self, metric: &str, labels: &[(&str, &str)]) -> f64 {
        self.scrape
            .samples
            .iter()
            .filter(|sample| sample.metric == metric)
            .filter(|sample| {
                labels
                    .iter()
                    .all(|(name, value)| sample.labels.get(name) == Some(value))
            })
            .map(|sample| match &sample.value {
                Value::Counter(value) | Value::Gauge(value) | Value::Untyped(value) => *value,
                other => panic!("{metric} is not a plain number: {other:?}"),
            })
            .sum()
    }

    fn has(&self, metric: &str, labels: &[(&str, &str)]) -> bool {
        self.scrape.samples.iter().any(|sample| {
            sample.metric == metric
                && labels
                    .iter()
                    .all(|(name, value)| sample.labels.get(name) == Some(value))
        })
    }

    /// A histogram's cumulative bucket counts.
    fn buckets(&self, metric: &str) -> Vec<(f64, f64)> {
        let sample = self
            .scrape
            .samples
            .iter()
            .find(|sample| sample.metric == metric)
            .unwrap_or_else(|| panic!("no {metric} in\n{}", self.text));
        match &sample.value {
            Value::Histogram(buckets) => buckets.iter().map(|b| (b.less_than, b.count)).collect(),
            other => panic!("{metric} is not a histogram: {other:?}"),
        }
    }
}

const TOKEN: &str = "scrape-me-please";
const BEARER: &str = "Bearer scrape-me-please";

#[tokio::test(flavor = "multi_thread")]
async fn counters_follow_checks_deploys_rollbacks_scans_and_registry_traffic() {
    if !components_present() {
        return;
    }
    let registry = Registry::start();
    push(&registry, "1.0.0");
    let project = Project::new("metrics", &fixture("compose.yml.in"), &registry.host());
    project.up();
    push(&registry, "1.1.0");
    let state = tempfile::tempdir().unwrap();
    let env = env_file(
        state.path(),
        "METRICS",
        &project.compose_file,
        &format!("METRICS_TOKEN={TOKEN}\n"),
    );
    let server = Server::start(&env, state.path()).await;
    let host = registry.host();
    let at_registry = [("registry", host.as_str())];

    // The token is enforced.
    for wrong in [
        None,
        Some("Bearer not-the-token"),
        Some("Basic c2NyYXBlLW1lLXBsZWFzZQ=="),
    ] {
        let response = server.get(wrong).await;
        assert_eq!(response.status(), 401, "Authorization {wrong:?}");
        let body = response.text().await.unwrap();
        assert!(!body.contains(TOKEN), "the token leaked: {body}");
    }

    let before = server.scrape(Some(BEARER)).await;
    assert_eq!(before.value("berth_build_info", &[]), 1.0);
    assert_eq!(before.value("berth_checks_total", &[]), 0.0);
    assert_eq!(
        before.value("berth_deploys_total", &[("outcome", "verified")]),
        0.0
    );
    assert!(
        before.has("berth_deploys_total", &[("outcome", "failed")]),
        "zero series are there from the start"
    );
    assert_eq!(before.value("berth_services", &[]), 0.0);

    // A check cycle that deploys 1.1.0.
    let report = server.engine.check_all(false).await.unwrap();
    let app = report.services.iter().find(|s| s.service == "app").unwrap();
    assert_eq!(
        app.action,
        Action::Deployed {
            tag: "1.1.0".into()
        },
        "{report:#?}"
    );
    let after_deploy = server
        .scrape_until(Some(BEARER), |page| {
            page.value("berth_checks_total", &[]) >= 1.0
                && page.value("berth_deploys_total", &[("outcome", "verified")]) >= 1.0
        })
        .await;
    assert_eq!(after_deploy.value("berth_checks_total", &[]), 1.0);
    assert_eq!(
        after_deploy.value("berth_check_duration_seconds_count", &[]),
        1.0
    );
    let buckets = after_deploy.buckets("berth_check_duration_seconds");
    assert_eq!(buckets.last(), Some(&(f64::INFINITY, 1.0)), "{buckets:?}");
    assert_eq!(
        after_deploy.value("berth_deploys_total", &[("outcome", "verified")]),
        1.0
    );
    assert_eq!(after_deploy.value("berth_rollbacks_total", &[]), 0.0);
    assert_eq!(
        after_deploy.value("berth_services", &[("state", "synced")]),
        1.0
    );
    let services = server.store.service_records().await.unwrap();
    assert_eq!(
        after_deploy.value("berth_services", &[]),
        services.len() as f64
    );
    let requests_after_deploy = after_deploy.value("berth_registry_requests_total", &at_registry);
    assert!(
        requests_after_deploy > before.value("berth_registry_requests_total", &at_registry),
        "the check asked the registry, so its requests grow:\n{}",
        after_deploy.text
    );
    assert!(
        after_deploy.has(
            "berth_registry_requests_total",
            &[("registry", &host), ("status", "200")]
        ),
        "{}",
        after_deploy.text
    );
    println!(
        "check with deploy: {:.3} s; registry requests after it: {requests_after_deploy}",
        after_deploy.value("berth_check_duration_seconds_sum", &[])
    );

    // A manual rollback counts as a rollback, not as a deploy.
    let outcome = server
        .engine
        .rollback("app", Some("1.0.0"), "metrics-test")
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            berth::deploy::rollout::DeployOutcome::Verified { .. }
        ),
        "{outcome:?}"
    );
    let after_rollback = server
        .scrape_until(Some(BEARER), |page| {
            page.value("berth_rollbacks_total", &[("outcome", "verified")]) >= 1.0
        })
        .await;
    assert_eq!(
        after_rollback.value("berth_rollbacks_total", &[("outcome", "verified")]),
        1.0
    );
    assert_eq!(
        after_rollback.value("berth_deploys_total", &[("outcome", "verified")]),
        1.0
    );

    // A scan of the running revision shows by severity (the report has 2 CRITICAL, counted
    // with jq in scan/golden/README.md).
    let app_id = services.iter().find(|s| s.name == "app").unwrap().id;
    let revisions = server.store.revisions(app_id).await.unwrap();
    let running = revisions
        .iter()
        .filter(|r| r.verdict.0 == Verdict::Verified)
        .max_by_key(|r| r.id)
        .unwrap();
    assert_eq!(running.tag, "1.0.0");
    let scan = ScanOutcome::from_trivy_output(
        "alpine:3.9".into(),
        chrono::Utc::now(),
        Duration::from_secs(1),
        String::from_utf8(crate::scan::golden("alpine-39-high-critical.json")).unwrap(),
    )
    .unwrap();
    server
        .store
        .insert_scan(app_id, Some(running.id), &scan)
        .await
        .unwrap();
    let scanned = server.scrape(Some(BEARER)).await;
    let app_labels = |severity| [("service", "app"), ("severity", severity)];
    assert_eq!(
        scanned.value("berth_scan_findings", &app_labels("critical")),
        2.0
    );
    assert_eq!(
        scanned.value("berth_scan_findings", &app_labels("high")),
        0.0
    );
    assert!(scanned.has("berth_scan_findings", &app_labels("unknown")));

    // A second cycle: nothing to deploy (1.1.0 is ignored after the rollback), but the
    // cycle is counted and the registry asked again.
    server.engine.check_all(false).await.unwrap();
    let second = server
        .scrape_until(Some(BEARER), |page| {
            page.value("berth_checks_total", &[]) >= 2.0
        })
        .await;
    assert_eq!(second.value("berth_checks_total", &[]), 2.0);
    assert_eq!(second.value("berth_check_duration_seconds_count", &[]), 2.0);
    assert_eq!(second.value("berth_deploys_total", &[]), 1.0);
    let requests_after_second = second.value("berth_registry_requests_total", &at_registry);
    assert!(
        requests_after_second > requests_after_deploy,
        "{requests_after_second} ≤ {requests_after_deploy}"
    );
    println!(
        "two checks: {:.3} s in all; registry requests: {requests_after_second}",
        second.value("berth_check_duration_seconds_sum", &[])
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_token_the_page_is_open_and_it_can_be_turned_off() {
    if !components_present() {
        return;
    }
    let open_dir = tempfile::tempdir().unwrap();
    let open_env = open_dir.path().join(".updater.env");
    std::fs::write(&open_env, "DISCOVER_FROM_LABELS=false\n").unwrap();
    let open = Server::start(&open_env, open_dir.path()).await;
    let page = open.scrape(None).await;
    assert_eq!(page.value("berth_checks_total", &[]), 0.0);
    open.stop().await;

    let off_dir = tempfile::tempdir().unwrap();
    let off_env = off_dir.path().join(".updater.env");
    std::fs::write(
        &off_env,
        "DISCOVER_FROM_LABELS=false\nMETRICS_ENABLED=false\n",
    )
    .unwrap();
    let off = Server::start(&off_env, off_dir.path()).await;
    let response = off.get(None).await;
    assert_eq!(response.status(), 404);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("METRICS_ENABLED=false")
    );
    off.stop().await;
}
