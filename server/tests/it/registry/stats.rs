//! Request statistics against the real `docker-registry`: what Berth counts per kind and
//! status, and the bytes it says it received, are what the registry's access log recorded.

use std::collections::BTreeMap;

use berth::registry::{ImageRef, RegistryApi, RegistryStats, RequestKind};
use testkit::{Component, ImageSpec, OciLayout, Registry, require};

use super::{berth_requests, registries};

/// One access-log line (`"METHOD /path HTTP/1.1" status size …`) as (kind, status, size).
fn parse_access_line(line: &str) -> (RequestKind, u16, u64) {
    let (_, request) = line.split_once('"').expect("a quoted request line");
    let (request, rest) = request.split_once('"').expect("a closing quote");
    let mut request = request.split(' ');
    let method = request.next().expect("a method");
    let path = request.next().expect("a path");
    let mut numbers = rest.split_whitespace();
    let status = numbers
        .next()
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let size = numbers.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let kind = match (method, path) {
        ("HEAD", path) if path.contains("/manifests/") => RequestKind::ManifestHead,
        ("GET", path) if path.contains("/manifests/") => RequestKind::ManifestGet,
        (_, path) if path.contains("/tags/list") => RequestKind::TagList,
        (_, path) if path.contains("/blobs/") => RequestKind::Blob,
        _ => panic!("an access-log line Berth should not have caused: {line}"),
    };
    (kind, status, size)
}

fn counted(stats: &RegistryStats) -> BTreeMap<(RequestKind, u16), u64> {
    stats
        .requests
        .iter()
        .map(|count| ((count.kind, count.status), count.count))
        .collect()
}

#[tokio::test]
async fn request_counts_and_bytes_match_the_registry_access_log() {
    if !require(&[
        Component::DockerRegistry,
        Component::Skopeo,
        Component::BusyboxStatic,
    ]) {
        return;
    }
    let registry = Registry::start();
    registry.push_image("team/app", "v1", &ImageSpec::new("stats-one"));
    registry.push_image("team/app", "v2", &ImageSpec::new("stats-two"));
    let mut layout = OciLayout::new();
    layout.add_index(
        "1.0",
        &[
            ImageSpec::new("stats-multi").platform("linux", "amd64", None),
            ImageSpec::new("stats-multi").platform("linux", "arm64", None),
        ],
    );
    registry.push_layout(&layout, "1.0", "team/multi");
    let registries = registries(&[("REGISTRY_PLATFORM", "linux/amd64")]);
    let image =
        |reference: &str| ImageRef::parse(&format!("{}/{reference}", registry.host())).unwrap();
    let before = registry.log().len();

    for _ in 0..2 {
        registries
            .resolve_digest(&image("team/app:v1"))
            .await
            .unwrap();
        registries
            .resolve_digest(&image("team/multi:1.0"))
            .await
            .unwrap();
    }
    assert_eq!(
        registries
            .list_tags(&image("team/app:v1"))
            .await
            .unwrap()
            .len(),
        2
    );
    registries
        .image_created(&image("team/app:v2"))
        .await
        .unwrap();
    let missing = registries
        .resolve_digest(&image("team/missing:v1"))
        .await
        .unwrap_err();

    let log = berth_requests(&registry.log(), before);
    let mut expected: BTreeMap<(RequestKind, u16), u64> = BTreeMap::new();
    let mut bytes = 0;
    for line in &log {
        let (kind, status, size) = parse_access_line(line);
        *expected.entry((kind, status)).or_default() += 1;
        // Berth reads the body of successful GETs only; an error's body is left unread.
        if line.contains("\"GET ") && (200..300).contains(&status) {
            bytes += size;
        }
    }
    let status = registries.status();
    let ours = status
        .iter()
        .find(|status| status.registry == registry.host())
        .expect("the registry is listed in the status");
    assert_eq!(counted(&ours.stats), expected, "the access log: {log:#?}");
    assert_eq!(ours.stats.bytes_received, bytes, "the access log: {log:#?}");
    // What the figures mean, in numbers: 4 digest checks and the HEAD of image_created,
    // the index fetched once, one tag list, a manifest and a config for image_created.
    assert_eq!(ours.stats.count(RequestKind::ManifestHead), 6);
    assert_eq!(ours.stats.count(RequestKind::ManifestGet), 2);
    assert_eq!(ours.stats.count(RequestKind::TagList), 1);
    assert_eq!(ours.stats.count(RequestKind::Blob), 1);
    assert_eq!(expected.get(&(RequestKind::ManifestHead, 404)), Some(&1));

    assert_eq!(
        ours.stats.auth_ok, None,
        "an open registry never asked for auth"
    );
    let last_error = ours.stats.last_error.as_deref().expect("the 404 is kept");
    assert_eq!(last_error, missing.to_string());
    assert!(last_error.contains("team/missing"), "{last_error}");
    assert!(ours.stats.last_error_at.is_some());
}
