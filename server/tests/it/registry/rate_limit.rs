//! 429 + Retry-After from a loopback registry: the governor waits it out, another registry
//! is not slowed, and the quota the registry reported is exposed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use berth::registry::{Cause, ImageRef, RegistryApi};

use super::registries;
use testkit::fake_http::{FakeServer, Response};

const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

fn manifest_head() -> Response {
    Response::new(200)
        .header("Content-Type", MANIFEST_TYPE)
        .header("Docker-Content-Digest", DIGEST)
        .header("ratelimit-limit", "100;w=21600")
        .header("ratelimit-remaining", "42;w=21600")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_waited_out_without_slowing_other_registries() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let limited = FakeServer::start(move |_| {
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            Response::new(429)
                .header("Retry-After", "2")
                .header("ratelimit-remaining", "0;w=21600")
        } else {
            manifest_head()
        }
    })
    .await;
    let healthy = FakeServer::start(|_| manifest_head()).await;
    let registries = Arc::new(registries(&[]));
    let limited_image = ImageRef::parse(&format!("{}/app:v1", limited.host())).unwrap();
    let healthy_image = ImageRef::parse(&format!("{}/app:v1", healthy.host())).unwrap();

    let started = Instant::now();
    let waiting = {
        let registries = registries.clone();
        tokio::spawn(async move {
            registries
                .resolve_digest(&limited_image)
                .await
                .map(|_| started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = registries.status();
    let limited_status = status
        .iter()
        .find(|entry| entry.registry == limited.host())
        .unwrap();
    assert!(
        limited_status.limited_until.is_some(),
        "the limit is visible while it holds: {status:?}"
    );

    let healthy_started = Instant::now();
    registries.resolve_digest(&healthy_image).await.unwrap();
    assert!(
        healthy_started.elapsed() < Duration::from_millis(500),
        "the other registry is not held back"
    );

    let waited = waiting.await.unwrap().unwrap();
    assert!(
        waited >= Duration::from_millis(1900),
        "Retry-After: 2 was honoured ({waited:?})"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let status = registries.status();
    let limited_status = status
        .iter()
        .find(|entry| entry.registry == limited.host())
        .unwrap();
    let quota = limited_status.quota.clone().unwrap();
    assert_eq!(
        (quota.limit, quota.remaining, quota.window_seconds),
        (Some(100), Some(42), Some(21600))
    );
    assert_eq!(limited_status.limited_until, None);
}

#[tokio::test]
async fn a_long_retry_after_fails_fast_as_limited_until() {
    let limited = FakeServer::start(|_| Response::new(429).header("Retry-After", "3600")).await;
    let registries = registries(&[]);
    let image = ImageRef::parse(&format!("{}/app:v1", limited.host())).unwrap();
    let started = Instant::now();
    let error = registries.resolve_digest(&image).await.unwrap_err();
    let until = error.limited_until().expect("a limited-until error");
    assert!((until - chrono::Utc::now()).num_seconds() > 3500, "{error}");
    assert!(error.to_string().contains("rate limited until"), "{error}");
    // The registry is not asked again while the limit holds.
    let again = registries.list_tags(&image).await.unwrap_err();
    assert!(matches!(again.cause, Cause::Limited { .. }));
    assert_eq!(limited.request_count(), 1);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrency_per_registry_is_bounded() {
    use std::sync::atomic::AtomicUsize;
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (now, peak) = (in_flight.clone(), most.clone());
    let server = FakeServer::start(move |_| {
        let current = now.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(current, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(150));
        now.fetch_sub(1, Ordering::SeqCst);
        manifest_head()
    })
    .await;
    let registries = Arc::new(registries(&[("REGISTRY_CONCURRENCY", "2")]));
    let checks: Vec<_> = (0..6)
        .map(|n| {
            let registries = registries.clone();
            let image = ImageRef::parse(&format!("{}/app:v{n}", server.host())).unwrap();
            tokio::spawn(async move { registries.resolve_digest(&image).await })
        })
        .collect();
    for check in checks {
        check.await.unwrap().unwrap();
    }
    assert_eq!(server.request_count(), 6);
    assert_eq!(
        most.load(Ordering::SeqCst),
        2,
        "at most REGISTRY_CONCURRENCY requests at once"
    );
}
