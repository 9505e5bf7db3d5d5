//! Against the real `docker-registry`, anonymous: single images, a multi-arch index checked
//! against skopeo, pagination, and the HEAD-only digest check.

use berth::registry::{ImageRef, Platform, RegistryApi, is_up_to_date};
use testkit::{Component, ImageSpec, OciLayout, Registry, require};

use super::{berth_requests, registries};
use testkit::fake_http::{FakeServer, Response};

/// Push a multi-arch index of linux images (architecture, variant) as `repository:tag`;
/// returns its children's descriptors, in the order given.
fn push_index(
    registry: &Registry,
    repository: &str,
    tag: &str,
    platforms: &[(&str, Option<&str>)],
) -> Vec<testkit::Descriptor> {
    let mut layout = OciLayout::new();
    let specs: Vec<ImageSpec> = platforms
        .iter()
        .map(|(architecture, variant)| {
            ImageSpec::new(repository).platform("linux", architecture, *variant)
        })
        .collect();
    let (_index, children) = layout.add_index(tag, &specs);
    registry.push_layout(&layout, tag, repository);
    children
}

#[tokio::test]
async fn a_single_image_resolves_to_its_manifest_digest_with_one_head() {
    if !require(&[
        Component::DockerRegistry,
        Component::Skopeo,
        Component::BusyboxStatic,
    ]) {
        return;
    }
    let registry = Registry::start();
    let pushed = registry.push_image("team/app", "v1", &ImageSpec::new("one"));
    registry.push_image("team/app", "v2", &ImageSpec::new("two"));
    let registries = registries(&[]);
    let image = ImageRef::parse(&format!("{}/team/app:v1", registry.host())).unwrap();

    let before = registry.log().len();
    let remote = registries.resolve_digest(&image).await.unwrap();
    let again = registries.resolve_digest(&image).await.unwrap();
    assert_eq!(remote.index, None);
    assert_eq!(remote.platform, pushed.digest);
    assert_eq!(again, remote);

    let requests = berth_requests(&registry.log(), before);
    let heads = requests
        .iter()
        .filter(|line| line.contains("\"HEAD /v2/team/app/manifests/v1 "))
        .count();
    assert_eq!(heads, 2, "one HEAD per digest check: {requests:#?}");
    assert!(
        !requests.iter().any(|line| line.contains("\"GET ")),
        "a digest check never GETs: {requests:#?}"
    );

    let mut tags: Vec<String> = registries
        .list_tags(&image)
        .await
        .unwrap()
        .into_iter()
        .map(|tag| tag.name)
        .collect();
    tags.sort();
    assert_eq!(tags, ["v1", "v2"]);
    let created = registries.image_created(&image).await.unwrap();
    assert_eq!(
        created.map(|time| time.to_rfc3339()).as_deref(),
        Some("2026-01-01T00:00:00+00:00")
    );
}

#[tokio::test]
async fn a_multi_arch_index_reports_the_index_and_platform_digests() {
    if !require(&[
        Component::DockerRegistry,
        Component::Skopeo,
        Component::BusyboxStatic,
    ]) {
        return;
    }
    let registry = Registry::start();
    let children = push_index(
        &registry,
        "multi",
        "1.0",
        &[("amd64", None), ("arm64", None), ("arm", Some("v7"))],
    );
    let reference = format!("{}/multi:1.0", registry.host());

    // The digest skopeo's own raw manifest hashes to is the one docker records as RepoDigest.
    let raw = std::process::Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{reference}"),
        ])
        .output()
        .expect("running skopeo inspect");
    assert!(
        raw.status.success(),
        "{}",
        String::from_utf8_lossy(&raw.stderr)
    );
    let skopeo_index_digest = testkit::image::sha256_digest(&raw.stdout);

    let image = ImageRef::parse(&reference).unwrap();
    let amd64 = registries(&[("REGISTRY_PLATFORM", "linux/amd64")]);
    let before = registry.log().len();
    let remote = amd64.resolve_digest(&image).await.unwrap();
    assert_eq!(remote.index.as_deref(), Some(skopeo_index_digest.as_str()));
    assert_eq!(remote.platform, children[0].digest);
    // The index is content-addressed: the second check is a HEAD alone.
    amd64.resolve_digest(&image).await.unwrap();
    let requests = berth_requests(&registry.log(), before);
    let count = |needle: &str| requests.iter().filter(|line| line.contains(needle)).count();
    assert_eq!(count("\"HEAD /v2/multi/manifests/1.0 "), 2, "{requests:#?}");
    assert_eq!(
        count("\"GET /v2/multi/manifests/sha256:"),
        1,
        "the index is fetched once: {requests:#?}"
    );
    assert_eq!(requests.len(), 3, "{requests:#?}");

    let arm = amd64
        .resolve_digest_for(&image, &Platform::parse("linux/arm/v7").unwrap())
        .await
        .unwrap();
    assert_eq!(arm.platform, children[2].digest);
    let missing = amd64
        .resolve_digest_for(&image, &Platform::parse("windows/amd64").unwrap())
        .await
        .unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("linux/amd64, linux/arm64, linux/arm/v7"),
        "{missing}"
    );

    // A host that pulled the tag records the index digest; one that pulled by platform
    // digest records that one: both are up to date, an older digest is not.
    let repo_digest = |digest: &str| vec![format!("{}/multi@{digest}", registry.host())];
    assert!(is_up_to_date(
        &remote,
        &repo_digest(&skopeo_index_digest),
        &reference
    ));
    assert!(is_up_to_date(
        &remote,
        &repo_digest(&children[0].digest),
        &reference
    ));
    assert!(!is_up_to_date(
        &remote,
        &repo_digest(&children[1].digest),
        &reference
    ));
}

#[tokio::test]
async fn a_digest_check_against_local_digests_fetches_an_index_only_when_it_must() {
    if !require(&[
        Component::DockerRegistry,
        Component::Skopeo,
        Component::BusyboxStatic,
    ]) {
        return;
    }
    let registry = Registry::start();
    let children = push_index(
        &registry,
        "checked",
        "latest",
        &[("amd64", None), ("arm64", None)],
    );
    let image = ImageRef::parse(&format!("{}/checked:latest", registry.host())).unwrap();
    // The index digest as the registry serves it (skopeo may re-encode the index), asked
    // through a client of its own so the one under test starts with an empty index cache.
    let index_digest = registries(&[])
        .resolve_digest(&image)
        .await
        .unwrap()
        .index
        .unwrap();
    let amd64 = registries(&[("REGISTRY_PLATFORM", "linux/amd64")]);
    let repo_digest = |digest: &str| vec![format!("{}/checked@{digest}", registry.host())];
    let requests_since = |before: usize| {
        let requests = berth_requests(&registry.log(), before);
        let heads = requests.iter().filter(|l| l.contains("\"HEAD ")).count();
        let gets = requests.iter().filter(|l| l.contains("\"GET ")).count();
        (heads, gets)
    };

    // Pulled by tag: the local RepoDigest is the index's, and one HEAD settles it.
    let before = registry.log().len();
    let check = amd64
        .check_digest(&image, &repo_digest(&index_digest))
        .await
        .unwrap();
    assert!(check.up_to_date);
    assert_eq!(check.digest, index_digest);
    assert_eq!(requests_since(before), (1, 0));

    // Pulled by platform digest: the index is fetched to find the platform's child.
    let before = registry.log().len();
    let check = amd64
        .check_digest(&image, &repo_digest(&children[0].digest))
        .await
        .unwrap();
    assert!(check.up_to_date, "{check:?}");
    assert_eq!(requests_since(before), (1, 1));

    // Another image: not up to date, and the index is not fetched again.
    let before = registry.log().len();
    let check = amd64
        .check_digest(&image, &repo_digest(&children[1].digest))
        .await
        .unwrap();
    assert!(!check.up_to_date);
    assert_eq!(
        check.digest, index_digest,
        "the tag's own digest is reported"
    );
    assert_eq!(requests_since(before), (1, 0));
}

#[tokio::test]
async fn two_hundred_fifty_tags_list_completely_through_pagination() {
    if !require(&[
        Component::DockerRegistry,
        Component::Skopeo,
        Component::BusyboxStatic,
    ]) {
        return;
    }
    let registry = Registry::start();
    let pushed = registry.push_image("many", "seed", &ImageSpec::new("many"));
    // Tag the same manifest 250 times with plain PUTs (pushing 250 images would take minutes).
    let http = reqwest::Client::new();
    let manifest = http
        .get(format!("{}/v2/many/manifests/seed", registry.url()))
        .header("Accept", pushed.media_type.as_str())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut expected: Vec<String> = (0..250).map(|n| format!("t{n:03}")).collect();
    for tag in &expected {
        let status = http
            .put(format!("{}/v2/many/manifests/{tag}", registry.url()))
            .header("Content-Type", pushed.media_type.as_str())
            .body(manifest.clone())
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "tagging {tag}: {status}");
    }
    expected.push("seed".into());
    expected.sort();

    let registries = registries(&[("REGISTRY_TAG_PAGE_SIZE", "100")]);
    let before = registry.log().len();
    let mut tags: Vec<String> = registries
        .list_tags(&ImageRef::parse(&format!("{}/many", registry.host())).unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|tag| tag.name)
        .collect();
    // distribution 2.8 does not keep the spec's lexical order across pages; Berth does not
    // rely on it, so only completeness is asserted.
    tags.sort();
    assert_eq!(tags, expected);
    // distribution 2.8 ignores `n` and answers in one page (pagination came with 3.0);
    // the paging itself is proven against a spec-following server below.
    let pages = berth_requests(&registry.log(), before)
        .iter()
        .filter(|line| line.contains("\"GET /v2/many/tags/list?n=100"))
        .count();
    assert_eq!(pages, 1);
}

#[tokio::test]
async fn a_paginating_registry_is_followed_through_every_link() {
    // The distribution spec's paging: `n` per page, `last` to resume, a relative `Link`.
    let all: Vec<String> = (0..250).map(|n| format!("v{n:03}")).collect();
    let served = all.clone();
    let server = FakeServer::start(move |request| {
        let url = url::Url::parse(&format!("http://fake{}", request.target)).unwrap();
        let query: std::collections::HashMap<String, String> =
            url.query_pairs().into_owned().collect();
        let n: usize = query.get("n").and_then(|n| n.parse().ok()).unwrap_or(1000);
        let start = query.get("last").map_or(0, |last| {
            served.iter().position(|tag| tag == last).unwrap() + 1
        });
        let page = &served[start..(start + n).min(served.len())];
        let body = serde_json::json!({"name": "paged", "tags": page}).to_string();
        let response = Response::json(body);
        match page.last() {
            Some(last) if start + n < served.len() => response.header(
                "Link",
                &format!("</v2/paged/tags/list?n={n}&last={last}>; rel=\"next\""),
            ),
            _ => response,
        }
    })
    .await;
    let tags: Vec<String> = registries(&[("REGISTRY_TAG_PAGE_SIZE", "100")])
        .list_tags(&ImageRef::parse(&format!("{}/paged", server.host())).unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|tag| tag.name)
        .collect();
    assert_eq!(tags, all, "every tag, in the registry's order");
    assert_eq!(server.request_count(), 3, "250 tags at 100 a page");
}

#[tokio::test]
async fn a_missing_repository_is_not_found_naming_the_registry() {
    if !require(&[Component::DockerRegistry]) {
        return;
    }
    let registry = Registry::start();
    let error = registries(&[])
        .resolve_digest(&ImageRef::parse(&format!("{}/nothing:v1", registry.host())).unwrap())
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
    let message = error.to_string();
    assert!(
        message.contains(&registry.host())
            && message.contains("docker config")
            && message.contains("not found"),
        "{message}"
    );
}
