//! The test-support layer itself: a real registry starts, takes two pushed tags, lists them
//! over HTTP, serves the exact manifests that were written, and is gone after drop.

use testkit::{Component, ImageSpec, Registry, require};

#[test]
fn pushes_two_tags_and_lists_them_over_http() {
    if !require(&[
        Component::DockerRegistry,
        Component::Skopeo,
        Component::BusyboxStatic,
    ]) {
        return;
    }
    let registry = Registry::start();
    let first = registry.push_image("team/app", "1.0.0", &ImageSpec::new("one"));
    let second = registry.push_image("team/app", "1.1.0", &ImageSpec::new("two"));
    assert_ne!(
        first.digest, second.digest,
        "distinct markers must give distinct images"
    );

    let (status, body) = registry.get("/v2/team/app/tags/list");
    assert_eq!(status, 200, "{body}");
    let listing: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut tags: Vec<&str> = listing["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tag| tag.as_str().unwrap())
        .collect();
    tags.sort_unstable();
    assert_eq!(listing["name"], "team/app");
    assert_eq!(tags, ["1.0.0", "1.1.0"]);

    // The registry serves the manifest skopeo pushed byte for byte (same digest).
    let (status, manifest) = registry.get("/v2/team/app/manifests/1.1.0");
    assert_eq!(status, 200);
    assert_eq!(
        testkit::image::sha256_digest(manifest.as_bytes()),
        second.digest
    );

    let port = registry.port();
    drop(registry);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the registry must be stopped when its fixture is dropped"
    );
}

#[test]
fn same_spec_gives_same_digest() {
    if !require(&[Component::BusyboxStatic]) {
        return;
    }
    let mut a = testkit::OciLayout::new();
    let mut b = testkit::OciLayout::new();
    assert_eq!(
        a.add_image("x", &ImageSpec::new("same")).digest,
        b.add_image("y", &ImageSpec::new("same")).digest
    );
}
