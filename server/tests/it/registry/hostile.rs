//! Malformed and hostile answers give typed errors, never a panic, a hang or an OOM.

use std::time::{Duration, Instant};

use berth::registry::{Cause, ImageRef, RegistryApi, RegistryError};

use super::registries;
use testkit::fake_http::{FakeServer, Response};

const INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";

async fn tags_from(server: &FakeServer, pairs: &[(&str, &str)]) -> RegistryError {
    registries(pairs)
        .list_tags(&ImageRef::parse(&format!("{}/app", server.host())).unwrap())
        .await
        .expect_err("a hostile answer must fail")
}

#[tokio::test]
async fn invalid_json_is_an_invalid_answer() {
    let server = FakeServer::start(|_| Response::json("{\"name\": \"app\", \"tags\": [oops")).await;
    let error = tags_from(&server, &[]).await;
    assert!(
        matches!(error.cause, Cause::InvalidAnswer { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("listing tags of app"), "{error}");
}

#[tokio::test]
async fn a_body_that_does_not_match_its_digest_is_refused() {
    let claimed = format!("sha256:{}", "ab".repeat(32));
    let header_digest = claimed.clone();
    let server = FakeServer::start(move |request| {
        Response::new(200)
            .header("Content-Type", INDEX_TYPE)
            .header("Docker-Content-Digest", &header_digest)
            .body(if request.method == "HEAD" {
                ""
            } else {
                r#"{"schemaVersion":2,"manifests":[]}"#
            })
    })
    .await;
    let error = registries(&[])
        .resolve_digest(&ImageRef::parse(&format!("{}/app:v1", server.host())).unwrap())
        .await
        .unwrap_err();
    match &error.cause {
        Cause::DigestMismatch { expected, actual } => {
            assert_eq!(expected, &claimed);
            assert_ne!(actual, &claimed);
        }
        other => panic!("expected a digest mismatch, got {other}"),
    }
}

#[tokio::test]
async fn a_fifty_megabyte_tag_list_is_refused_not_buffered() {
    let mut huge = b"{\"name\":\"app\",\"tags\":[".to_vec();
    while huge.len() < 50 * 1024 * 1024 {
        huge.extend_from_slice(b"\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",");
    }
    huge.extend_from_slice(b"\"end\"]}");
    let huge = std::sync::Arc::new(huge);
    let server = FakeServer::start(move |_| Response::json(huge.as_slice())).await;
    let started = Instant::now();
    let error = tags_from(&server, &[]).await;
    assert!(
        matches!(error.cause, Cause::BodyTooLarge { limit } if limit < 50 * 1024 * 1024),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_redirect_loop_ends_in_a_typed_error() {
    let server =
        FakeServer::start(|request| Response::new(302).header("Location", &request.target)).await;
    let error = tags_from(&server, &[]).await;
    assert!(matches!(error.cause, Cause::RedirectLoop), "{error}");
}

#[tokio::test]
async fn pagination_that_loops_is_stopped() {
    let server = FakeServer::start(|request| {
        Response::json(r#"{"name":"app","tags":["a"]}"#)
            .header("Link", &format!("<{}>; rel=\"next\"", request.target))
    })
    .await;
    let error = tags_from(&server, &[]).await;
    assert!(
        matches!(&error.cause, Cause::InvalidAnswer { reason } if reason.contains("loops")),
        "{error}"
    );
    assert!(server.request_count() <= 2);
}

#[tokio::test]
async fn a_registry_that_never_answers_times_out() {
    let server = FakeServer::start(|_| Response::hang()).await;
    let started = Instant::now();
    let error = tags_from(&server, &[("REGISTRY_TIMEOUT", "1s")]).await;
    assert!(matches!(error.cause, Cause::Timeout), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_challenge_without_realm_is_an_invalid_answer() {
    let server = FakeServer::start(|_| {
        Response::new(401).header("WWW-Authenticate", "Bearer service=\"x\"")
    })
    .await;
    let error = tags_from(&server, &[]).await;
    assert!(
        matches!(error.cause, Cause::InvalidAnswer { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn a_head_without_a_digest_header_falls_back_to_hashing_the_body() {
    let manifest = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:c","size":2},"layers":[]}"#;
    let server = FakeServer::start(move |request| {
        Response::new(200)
            .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            .body(if request.method == "HEAD" {
                ""
            } else {
                manifest
            })
    })
    .await;
    let remote = registries(&[])
        .resolve_digest(&ImageRef::parse(&format!("{}/app:v1", server.host())).unwrap())
        .await
        .unwrap();
    assert_eq!(
        remote.platform,
        testkit::image::sha256_digest(manifest.as_bytes())
    );
    let methods: Vec<String> = server
        .requests()
        .into_iter()
        .map(|request| request.method)
        .collect();
    assert_eq!(
        methods,
        ["HEAD", "GET"],
        "an old registry costs one GET, only when HEAD names no digest"
    );
}
