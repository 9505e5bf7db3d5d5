//! Auth providers: routing by configuration, SWR's key derivation against Python's HMAC,
//! Harbor (robot account + artifact push times) and the Docker Hub API through loopback
//! servers speaking their documented protocols.

use base64::Engine;
use berth::registry::auth::docker_hub::DockerHubCredentials;
use berth::registry::auth::{AuthProvider, provider_for, swr};
use berth::registry::{Credentials, ImageRef, RegistryApi, Secret};

use super::{config, registries};
use testkit::fake_http::{FakeServer, Response};

#[test]
fn swr_login_key_matches_pythons_hmac() {
    let (access_key, secret_key) = (
        "QTWAOYTTINDUT2QVKYUC",
        "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc",
    );
    let python = std::process::Command::new("python3")
        .args([
            "-c",
            "import hmac, hashlib, sys; print(hmac.new(sys.argv[2].encode(), sys.argv[1].encode(), hashlib.sha256).hexdigest())",
            access_key,
            secret_key,
        ])
        .output()
        .expect("python3 computes the reference login key");
    let expected = String::from_utf8(python.stdout).unwrap().trim().to_owned();
    assert_eq!(expected.len(), 64);
    assert_eq!(
        swr::login_key(access_key, &Secret::new(secret_key)).expose(),
        expected
    );
}

#[tokio::test]
async fn swr_user_is_region_at_access_key() {
    let config = config(&[
        ("SWR_REGION", "cn-north-4"),
        ("SWR_ACCESS_KEY", "AK123"),
        ("SWR_SECRET_KEY", "SK456"),
    ]);
    let provider = provider_for("swr.cn-north-4.myhuaweicloud.com", &config);
    assert_eq!(provider.name(), "Huawei SWR");
    let Credentials::Basic { username, password } = provider
        .credentials(&reqwest::Client::new().into())
        .await
        .unwrap()
    else {
        panic!("SWR uses Basic");
    };
    assert_eq!(username, "cn-north-4@AK123");
    assert_eq!(password, swr::login_key("AK123", &Secret::new("SK456")));
}

#[tokio::test]
async fn registries_are_routed_to_their_providers() {
    let config = config(&[
        ("HARBOR_URL", "https://harbor.example.com"),
        ("HARBOR_USERNAME", "robot$ci"),
        ("DO_TOKEN", "dop_v1_x"),
        ("GCP_ACCESS_TOKEN", "ya29.x"),
        ("AZURE_USERNAME", "admin"),
        ("AZURE_PASSWORD", "pw"),
    ]);
    let name = |host: &str| provider_for(host, &config).name();
    assert_eq!(name("docker.io"), "Docker Hub");
    assert_eq!(
        name("123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
        "AWS ECR"
    );
    assert_eq!(name("harbor.example.com"), "Harbor");
    assert_eq!(name("registry.digitalocean.com"), "DigitalOcean DOCR");
    assert_eq!(name("europe-west1-docker.pkg.dev"), "GCP");
    assert_eq!(name("myreg.azurecr.io"), "Azure ACR");
    assert_eq!(name("registry.internal:5000"), "docker config");
    // HARBOR_PASSWORD is missing: the error names the key instead of going anonymous.
    let error = provider_for("harbor.example.com", &config)
        .credentials(&reqwest::Client::new().into())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("HARBOR_PASSWORD"), "{error}");
    let Credentials::Basic { username, .. } = provider_for("gcr.io", &config)
        .credentials(&reqwest::Client::new().into())
        .await
        .unwrap()
    else {
        panic!("GCP uses Basic");
    };
    assert_eq!(username, "oauth2accesstoken");

    // An empty AZURE_TENANT_ID is unset, as in the helper: the service principal as Basic,
    // no helper run.
    let principal = super::config(&[
        ("AZURE_CLIENT_ID", "berth-reader"),
        ("AZURE_CLIENT_SECRET", "sp-secret"),
        ("AZURE_TENANT_ID", ""),
        (
            "CLOUD_CREDENTIAL_HELPER",
            "/nonexistent/berth-credential-helper",
        ),
    ]);
    let credentials = provider_for("myreg.azurecr.io", &principal)
        .credentials(&reqwest::Client::new().into())
        .await
        .unwrap();
    assert_eq!(
        credentials,
        Credentials::Basic {
            username: "berth-reader".into(),
            password: Secret::new("sp-secret"),
        }
    );
}

#[tokio::test]
async fn harbor_robot_account_and_push_times() {
    let robot = "robot$library+berth";
    let expected_auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{robot}:robot-secret"))
    );
    let server = FakeServer::start(move |request| {
        if request.header("Authorization") != Some(expected_auth.as_str()) {
            return Response::new(401).header("WWW-Authenticate", "Basic realm=\"harbor\"");
        }
        match request.path() {
            "/v2/library/team/app/tags/list" => Response::json(r#"{"name":"library/team/app","tags":["1.0","1.1","untimed"]}"#),
            "/api/v2.0/projects/library/repositories/team%252Fapp/artifacts" => Response::json(
                r#"[{"digest":"sha256:a","push_time":"2026-03-01T10:00:00.000Z","tags":[{"name":"1.1","push_time":"2026-03-02T11:00:00Z"}]},
                    {"digest":"sha256:b","push_time":"2026-02-01T09:00:00.000Z","tags":[{"name":"1.0"}]}]"#,
            ),
            _ => Response::new(404),
        }
    })
    .await;
    let registries = registries(&[
        ("HARBOR_URL", &server.url()),
        ("HARBOR_USERNAME", robot),
        ("HARBOR_PASSWORD", "robot-secret"),
    ]);
    let tags = registries
        .list_tags(&ImageRef::parse(&format!("{}/library/team/app", server.host())).unwrap())
        .await
        .unwrap();
    let pushed = |name: &str| {
        tags.iter()
            .find(|tag| tag.name == name)
            .unwrap()
            .pushed_at
            .map(|time| time.to_rfc3339())
    };
    assert_eq!(
        pushed("1.1").as_deref(),
        Some("2026-03-02T11:00:00+00:00"),
        "the tag's own push time wins"
    );
    assert_eq!(
        pushed("1.0").as_deref(),
        Some("2026-02-01T09:00:00+00:00"),
        "else the artifact's"
    );
    assert_eq!(pushed("untimed"), None);
}

#[tokio::test]
async fn docker_hub_api_push_times_follow_next_pages_with_the_login_token() {
    let server = FakeServer::start(|request| match (request.method.as_str(), request.path()) {
        ("POST", "/v2/users/login") => {
            let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
            if body["username"] == "alice" && body["password"] == "dckr_pat_x" {
                Response::json(r#"{"token":"hub-jwt"}"#)
            } else {
                Response::new(401)
            }
        }
        (_, _) if request.header("Authorization") != Some("Bearer hub-jwt") => Response::new(401),
        ("GET", "/v2/namespaces/alice/repositories/app/tags") if request.target.contains("page=2") => Response::json(
            r#"{"next":null,"results":[{"name":"1.0","tag_last_pushed":"2026-01-05T00:00:00Z"}]}"#,
        ),
        ("GET", "/v2/namespaces/alice/repositories/app/tags") => Response::json(format!(
            r#"{{"next":"http://{}/v2/namespaces/alice/repositories/app/tags?page=2&page_size=100",
                "results":[{{"name":"latest","tag_last_pushed":"2026-02-01T00:00:00Z","last_updated":"2026-02-02T00:00:00Z"}},
                           {{"name":"old","last_updated":"2025-01-01T00:00:00Z"}}]}}"#,
            request.header("Host").unwrap()
        )),
        _ => Response::new(404),
    })
    .await;
    let config = config(&[
        ("DOCKERHUB_USERNAME", "alice"),
        ("DOCKERHUB_TOKEN", "dckr_pat_x"),
        ("DOCKERHUB_API_URL", &server.url()),
    ]);
    let hub = DockerHubCredentials::from_config(&config);
    let times = hub
        .push_times(
            &reqwest::Client::new().into(),
            &ImageRef::parse("alice/app").unwrap(),
            &[],
        )
        .await
        .unwrap()
        .unwrap();
    let at = |name: &str| times.get(name).map(|time| time.to_rfc3339());
    assert_eq!(at("latest").as_deref(), Some("2026-02-01T00:00:00+00:00"));
    assert_eq!(at("old").as_deref(), Some("2025-01-01T00:00:00+00:00"));
    assert_eq!(at("1.0").as_deref(), Some("2026-01-05T00:00:00+00:00"));
    let Credentials::Basic { username, password } = hub
        .credentials(&reqwest::Client::new().into())
        .await
        .unwrap()
    else {
        panic!("Hub with a token uses Basic on the token service");
    };
    assert_eq!(
        (username.as_str(), password.expose()),
        ("alice", "dckr_pat_x")
    );
}
