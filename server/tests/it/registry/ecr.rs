//! AWS ECR against `moto_server` (PyPI moto[server]) with the real aws-sdk-ecr and an
//! endpoint override: token decoding, caching and renewal, role assumption, push times.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use berth::clock::Clock;
use berth::registry::auth::AuthProvider;
use berth::registry::auth::ecr::{EcrCredentials, EcrSettings, RENEW_BEFORE};
use berth::registry::{Credentials, ImageRef, Secret};
use chrono::{DateTime, Utc};

/// A moto server on a free loopback port, stopped on drop.
struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    /// `None` (after saying why) when moto is not installed outside CI; a failure under CI.
    fn start() -> Option<Moto> {
        let installed = Command::new("moto_server")
            .arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !installed {
            let message = "missing test component: moto_server (pip install 'moto[server]'; scripts/setup.sh)";
            if std::env::var("CI").is_ok_and(|value| value == "true") {
                panic!("{message} (CI=true: a missing component fails the run)");
            }
            eprintln!("skipped: {message}");
            return None;
        }
        let port = testkit::free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting moto_server");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(Moto { child, port })
    }

    fn settings(&self) -> EcrSettings {
        EcrSettings {
            region: Some("us-east-1".into()),
            access_key_id: Some("testing".into()),
            secret_access_key: Some(Secret::new("testing")),
            endpoint_url: Some(format!("http://127.0.0.1:{}", self.port)),
            ..EcrSettings::default()
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _already_exited = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn push_to_moto(moto: &Moto, repository: &str, tags: &[&str]) {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(berth::registry::auth::ecr::http_client())
        .region(aws_sdk_ecr::config::Region::new("us-east-1"))
        .endpoint_url(format!("http://127.0.0.1:{}", moto.port))
        .credentials_provider(aws_sdk_ecr::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    let client = aws_sdk_ecr::Client::new(&config);
    client
        .create_repository()
        .repository_name(repository)
        .send()
        .await
        .expect("CreateRepository");
    for (n, tag) in tags.iter().enumerate() {
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2, "digest": format!("sha256:{:064x}", n + 1)},
            "layers": [],
        });
        client
            .put_image()
            .repository_name(repository)
            .image_manifest(manifest.to_string())
            .image_tag(*tag)
            .send()
            .await
            .expect("PutImage");
    }
}

/// A clock the test sets.
struct TestClock(Mutex<DateTime<Utc>>);

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecr_token_is_decoded_cached_and_renewed_before_it_expires() {
    let Some(moto) = Moto::start() else {
        return;
    };
    // moto's tokens expire at 2015-01-01T00:00:00 (local time of the server); the test's
    // clock runs the day before, so the renewal margin is exercised against the real
    // expiresAt the SDK decodes.
    let expiry = moto_expiry();
    let clock = Arc::new(TestClock(Mutex::new(expiry - chrono::Duration::hours(12))));
    let http: berth::registry::auth::VendorHttp = reqwest::Client::new().into();
    let ecr = EcrCredentials::with_clock(moto.settings(), clock.clone());
    let Credentials::Basic { username, password } = ecr.credentials(&http).await.unwrap() else {
        panic!("ECR answers with Basic credentials");
    };
    assert_eq!(username, "AWS", "the token decodes to AWS:<password>");
    assert!(!password.is_empty());
    ecr.credentials(&http).await.unwrap();
    assert_eq!(
        ecr.token_requests(),
        1,
        "a token 12 hours from expiry is reused"
    );

    *clock.0.lock().unwrap() = expiry - RENEW_BEFORE + chrono::Duration::minutes(1);
    ecr.credentials(&http).await.unwrap();
    assert_eq!(
        ecr.token_requests(),
        2,
        "renewed within the margin before expiresAt"
    );
    ecr.credentials(&http).await.unwrap();
    assert_eq!(
        ecr.token_requests(),
        3,
        "moto's renewed token has the same expiry, so it is renewed again"
    );

    let role = EcrCredentials::with_clock(
        EcrSettings {
            role_arn: Some("arn:aws:iam::123456789012:role/berth-reader".into()),
            ..moto.settings()
        },
        clock.clone(),
    );
    assert!(
        matches!(
            role.credentials(&http).await.unwrap(),
            Credentials::Basic { .. }
        ),
        "STS AssumeRole, then the token"
    );
}

/// moto answers `expiresAt = time.mktime(datetime(2015, 1, 1))`: midnight in the server's
/// local zone, which is the test process's too.
fn moto_expiry() -> DateTime<Utc> {
    use chrono::TimeZone;
    chrono::Local
        .with_ymd_and_hms(2015, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid local time")
        .with_timezone(&Utc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecr_push_times_come_from_describe_images() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let before = chrono::Utc::now() - chrono::Duration::seconds(5);
    push_to_moto(&moto, "team/app", &["1.0", "1.1"]).await;
    let ecr = EcrCredentials::new(moto.settings());
    let image =
        ImageRef::parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0").unwrap();
    let times = ecr
        .push_times(&reqwest::Client::new().into(), &image)
        .await
        .unwrap()
        .expect("ECR knows push times");
    let mut tags: Vec<&String> = times.keys().collect();
    tags.sort();
    assert_eq!(tags, ["1.0", "1.1"]);
    assert!(
        times.values().all(|pushed| *pushed >= before
            && *pushed <= chrono::Utc::now() + chrono::Duration::seconds(5))
    );

    let missing = ecr
        .push_times(
            &reqwest::Client::new().into(),
            &ImageRef::parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/nothing").unwrap(),
        )
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("AWS ECR"), "{missing}");
}
