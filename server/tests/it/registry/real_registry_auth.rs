//! Against the real `docker-registry` with auth: htpasswd (Basic challenge) and token auth
//! with a test token issuer whose ES256 JWTs the registry itself verifies.

use std::sync::Arc;

use base64::Engine;
use berth::registry::{Cause, ImageRef, RegistryApi, RequestKind};
use testkit::{Component, ImageSpec, OciLayout, Registry, require};

use super::{docker_config_with, registries};
use testkit::fake_http::{FakeServer, Response};

pub const USER: &str = "berth";
pub const PASSWORD: &str = "s3cret-Pa55";

fn needs_registry() -> bool {
    require(&[
        Component::DockerRegistry,
        Component::Skopeo,
        Component::BusyboxStatic,
    ])
}

pub fn push_as(
    registry: &Registry,
    repository: &str,
    tag: &str,
    creds: &str,
) -> testkit::Descriptor {
    let mut layout = OciLayout::new();
    let descriptor = layout.add_image(tag, &ImageSpec::new(format!("{repository}-{tag}")));
    // skopeo blocks; the fake token issuer needs the runtime meanwhile.
    tokio::task::block_in_place(|| registry.push_layout_as(&layout, tag, repository, creds));
    descriptor
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn htpasswd_registry_needs_the_docker_config_credentials() {
    if !needs_registry() {
        return;
    }
    let registry = Registry::start_htpasswd(USER, PASSWORD);
    let pushed = push_as(
        &registry,
        "private/app",
        "v1",
        &format!("{USER}:{PASSWORD}"),
    );
    let image = ImageRef::parse(&format!("{}/private/app:v1", registry.host())).unwrap();

    let good = docker_config_with(&registry.host(), USER, PASSWORD);
    let registries_ok = registries(&[("DOCKER_CONFIG", good.path().to_str().unwrap())]);
    assert_eq!(
        registries_ok.resolve_digest(&image).await.unwrap().platform,
        pushed.digest
    );
    assert_eq!(registries_ok.list_tags(&image).await.unwrap()[0].name, "v1");

    let bad = docker_config_with(&registry.host(), USER, "wrong-password-123");
    let error = registries(&[("DOCKER_CONFIG", bad.path().to_str().unwrap())])
        .resolve_digest(&image)
        .await
        .unwrap_err();
    assert!(
        matches!(error.cause, Cause::BadCredentials { status: 401 }),
        "{error}"
    );
    let message = format!("{error} {error:?}");
    assert!(
        !message.contains("wrong-password-123"),
        "the secret leaked: {message}"
    );
    assert!(message.contains(&registry.host()), "{message}");

    let anonymous = registries(&[]).list_tags(&image).await.unwrap_err();
    assert!(
        matches!(anonymous.cause, Cause::BadCredentials { .. }),
        "{anonymous}"
    );
}

/// A token issuer: checks Basic credentials, grants what the scope asks, signs an ES256 JWT
/// with `x5c` holding the certificate the registry trusts.
pub struct TokenIssuer {
    server: FakeServer,
    bundle: tempfile::NamedTempFile,
}

impl TokenIssuer {
    pub async fn start() -> TokenIssuer {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["berth-token-issuer".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let bundle = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(bundle.path(), cert.pem()).unwrap();
        let x5c = base64::engine::general_purpose::STANDARD.encode(cert.der());
        let signing_key = Arc::new(
            jsonwebtoken::EncodingKey::from_ec_pem(key.serialize_pem().as_bytes()).unwrap(),
        );
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
        );
        let server = FakeServer::start(move |request| {
            if request.header("Authorization") != Some(expected.as_str()) {
                return Response::new(401).body(r#"{"details":"bad credentials"}"#);
            }
            let url = url::Url::parse(&format!("http://issuer{}", request.target)).unwrap();
            let access: Vec<serde_json::Value> = url
                .query_pairs()
                .filter(|(key, _)| key == "scope")
                .filter_map(|(_, scope)| {
                    let mut parts = scope.splitn(3, ':').map(str::to_owned).collect::<Vec<_>>().into_iter();
                    let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
                    Some(serde_json::json!({"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
                })
                .collect();
            let now = chrono::Utc::now().timestamp();
            let claims = serde_json::json!({
                "iss": "berth-test-issuer", "sub": USER, "aud": "berth-test-registry",
                "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("{now}-{}", rand::random::<u64>()),
                "access": access,
            });
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
            header.x5c = Some(vec![x5c.clone()]);
            let token = jsonwebtoken::encode(&header, &claims, &signing_key).unwrap();
            Response::json(serde_json::json!({"token": token, "expires_in": 300}).to_string())
        })
        .await;
        TokenIssuer { server, bundle }
    }

    pub fn registry_yaml(&self) -> String {
        format!(
            "auth:\n  token:\n    realm: {}/token\n    service: berth-test-registry\n    issuer: berth-test-issuer\n    rootcertbundle: {}\n",
            self.server.url(),
            self.bundle.path().display()
        )
    }

    fn berth_token_requests(&self) -> usize {
        self.server
            .requests()
            .iter()
            .filter(|request| {
                request
                    .header("User-Agent")
                    .is_some_and(|agent| agent.starts_with("berth/"))
            })
            .count()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_auth_registry_verifies_the_issuers_jwts_and_tokens_are_cached() {
    if !needs_registry() {
        return;
    }
    let issuer = TokenIssuer::start().await;
    let registry = Registry::start_with(&issuer.registry_yaml());
    let pushed = push_as(
        &registry,
        "tokened/app",
        "v1",
        &format!("{USER}:{PASSWORD}"),
    );
    let image = ImageRef::parse(&format!("{}/tokened/app:v1", registry.host())).unwrap();

    let good = docker_config_with(&registry.host(), USER, PASSWORD);
    let registries_ok = registries(&[("DOCKER_CONFIG", good.path().to_str().unwrap())]);
    assert_eq!(
        registries_ok.resolve_digest(&image).await.unwrap().platform,
        pushed.digest
    );
    assert_eq!(
        registries_ok.resolve_digest(&image).await.unwrap().platform,
        pushed.digest
    );
    assert_eq!(registries_ok.list_tags(&image).await.unwrap()[0].name, "v1");
    assert_eq!(
        issuer.berth_token_requests(),
        1,
        "one token per registry and scope, reused until it expires"
    );
    let stats = registries_ok.status().remove(0).stats;
    assert_eq!(
        stats.count(RequestKind::Token),
        1,
        "the token fetch is counted: {stats:?}"
    );
    assert_eq!(stats.auth_ok, Some(true));
    assert!(
        stats.bytes_received > 0,
        "the token answer and the tag list were read"
    );
    assert_eq!(
        stats
            .requests
            .iter()
            .find(|count| count.status == 401)
            .map(|count| (count.kind, count.count)),
        Some((RequestKind::ManifestHead, 1)),
        "only the first request was challenged: {stats:?}"
    );

    let bad = docker_config_with(&registry.host(), USER, "not-the-password");
    let refused = registries(&[("DOCKER_CONFIG", bad.path().to_str().unwrap())]);
    let error = refused.list_tags(&image).await.unwrap_err();
    assert!(
        matches!(error.cause, Cause::BadCredentials { status: 401 }),
        "{error}"
    );
    assert!(!format!("{error:?}").contains("not-the-password"));
    let stats = refused.status().remove(0).stats;
    assert_eq!(stats.auth_ok, Some(false));
    assert_eq!(
        stats
            .requests
            .iter()
            .find(|count| count.kind == RequestKind::Token)
            .map(|count| count.status),
        Some(401),
        "the issuer refused the token: {stats:?}"
    );
    let last_error = stats.last_error.expect("the refusal is kept");
    assert!(last_error.contains(&registry.host()), "{last_error}");
    assert!(!last_error.contains("not-the-password"), "{last_error}");
}

/// A `docker-credential-<name>` program as docker runs it: `get`, server on stdin, JSON out;
/// "credentials not found" and exit 1 for any other server.
fn credential_helper(dir: &std::path::Path, name: &str, server: &str, user: &str, secret: &str) {
    use std::os::unix::fs::PermissionsExt;
    let script = format!(
        "#!/bin/sh\nread server\nif [ \"$1\" = get ] && [ \"$server\" = \"{server}\" ]; then\n  \
         printf '{{\"ServerURL\":\"%s\",\"Username\":\"{user}\",\"Secret\":\"{secret}\"}}' \"$server\"\nelse\n  \
         echo 'credentials not found in native keychain'; exit 1\nfi\n"
    );
    let path = dir.join(format!("docker-credential-{name}"));
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_helpers_are_run_as_docker_runs_them() {
    if !needs_registry() {
        return;
    }
    let registry = Registry::start_htpasswd(USER, PASSWORD);
    let pushed = push_as(&registry, "helped/app", "v1", &format!("{USER}:{PASSWORD}"));
    let image = ImageRef::parse(&format!("{}/helped/app:v1", registry.host())).unwrap();

    let bin = tempfile::tempdir().unwrap();
    credential_helper(bin.path(), "berthtest", &registry.host(), USER, PASSWORD);
    let search_path = format!("{}:/usr/bin:/bin", bin.path().display());
    let docker_config = tempfile::tempdir().unwrap();
    let write_config = |json: serde_json::Value| {
        std::fs::write(docker_config.path().join("config.json"), json.to_string()).unwrap()
    };
    let pairs = [
        ("DOCKER_CONFIG", docker_config.path().to_str().unwrap()),
        ("PATH", search_path.as_str()),
    ];

    // credHelpers names the helper for this host.
    write_config(serde_json::json!({"credHelpers": {registry.host(): "berthtest"}}));
    assert_eq!(
        registries(&pairs)
            .resolve_digest(&image)
            .await
            .unwrap()
            .platform,
        pushed.digest
    );

    // credsStore is the helper for every host; a host it does not know is anonymous.
    write_config(serde_json::json!({"credsStore": "berthtest"}));
    assert_eq!(
        registries(&pairs)
            .resolve_digest(&image)
            .await
            .unwrap()
            .platform,
        pushed.digest
    );
    let other = Registry::start();
    let other_pushed = other.push_image("open/app", "v1", &ImageSpec::new("open"));
    let open_image = ImageRef::parse(&format!("{}/open/app:v1", other.host())).unwrap();
    assert_eq!(
        registries(&pairs)
            .resolve_digest(&open_image)
            .await
            .unwrap()
            .platform,
        other_pushed.digest
    );

    // A helper that is not installed is an error naming it.
    write_config(serde_json::json!({"credHelpers": {registry.host(): "absent"}}));
    let error = registries(&pairs).resolve_digest(&image).await.unwrap_err();
    assert!(
        error.to_string().contains("docker-credential-absent"),
        "{error}"
    );
}
