//! The daemon's side of `berth-credential-helper`, against a scripted stand-in: which keys it
//! passes on, how long a login is reused, when push times are read again, and the errors a
//! user reads when the helper fails or is missing.

use std::sync::{Arc, Mutex};

use berth::registry::auth::AuthProvider;
use berth::registry::auth::VendorHttp;
use berth::registry::auth::cloud_helper::{Cloud, CloudHelperCredentials};
use berth::registry::{Credentials, ImageRef, Secret};
use chrono::{DateTime, Utc};

use super::{TestClock, config, helper_runs, scripted_helper};

const ECR_HOST: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

fn start() -> DateTime<Utc> {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

fn http() -> VendorHttp {
    reqwest::Client::new().into()
}

#[tokio::test]
async fn a_login_gets_its_providers_keys_and_is_reused_for_three_quarters_of_its_life() {
    let dir = tempfile::tempdir().unwrap();
    let helper = scripted_helper(
        dir.path(),
        r#"{"ServerURL":"x","Username":"$AWS_REGION|$AZURE_CLIENT_SECRET","Secret":"$AWS_SECRET_ACCESS_KEY","ExpiresAt":"2026-01-01T12:00:00Z"}"#,
        0,
    );
    let config = config(&[
        ("CLOUD_CREDENTIAL_HELPER", helper.to_str().unwrap()),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_SECRET_ACCESS_KEY", "s3cret"),
        ("AZURE_CLIENT_SECRET", "not-for-aws"),
    ]);
    let clock = Arc::new(TestClock(Mutex::new(start())));
    let ecr = CloudHelperCredentials::with_clock(Cloud::Ecr, ECR_HOST, &config, clock.clone());
    let http = http();
    let (first, second) = tokio::join!(ecr.credentials(&http), ecr.credentials(&http));
    let expected = Credentials::Basic {
        username: "eu-west-1|".into(),
        password: Secret::new("s3cret"),
    };
    assert_eq!(
        first.unwrap(),
        expected,
        "ECR's keys only, from the env file"
    );
    assert_eq!(second.unwrap(), expected);
    assert_eq!(
        helper_runs(dir.path()),
        [format!("ecr get {ECR_HOST}")],
        "two checks at once share one run"
    );

    *clock.0.lock().unwrap() = start() + chrono::Duration::hours(9) - chrono::Duration::minutes(1);
    ecr.credentials(&http).await.unwrap();
    assert_eq!(ecr.runs(), 1, "reused until 9 of its 12 hours have passed");
    *clock.0.lock().unwrap() = start() + chrono::Duration::hours(9);
    ecr.credentials(&http).await.unwrap();
    assert_eq!(ecr.runs(), 2, "then renewed, 3 hours before it expires");
}

#[tokio::test]
async fn a_failing_helper_is_an_error_naming_it_with_what_it_said() {
    let dir = tempfile::tempdir().unwrap();
    let helper = scripted_helper(
        dir.path(),
        "berth-credential-helper: GetAuthorizationToken failed: no credentials in the chain",
        1,
    );
    let failing = config(&[("CLOUD_CREDENTIAL_HELPER", helper.to_str().unwrap())]);
    let ecr = CloudHelperCredentials::new(Cloud::Ecr, ECR_HOST, &failing);
    let error = ecr.credentials(&http()).await.unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "{} ecr get: exit status: 1: berth-credential-helper: GetAuthorizationToken failed: no credentials in the chain",
            helper.display()
        )
    );

    let garbled = scripted_helper(dir.path(), "not json", 0);
    let garbling = config(&[("CLOUD_CREDENTIAL_HELPER", garbled.to_str().unwrap())]);
    let gcp = CloudHelperCredentials::new(Cloud::Gcp, "gcr.io", &garbling);
    let error = gcp.credentials(&http()).await.unwrap_err().to_string();
    assert!(
        error.contains("gcp get: its answer is not the protocol's JSON"),
        "{error}"
    );
}

#[tokio::test]
async fn a_missing_helper_names_the_key_that_points_at_it() {
    let config = config(&[(
        "CLOUD_CREDENTIAL_HELPER",
        "/nonexistent/berth-credential-helper",
    )]);
    let acr = CloudHelperCredentials::new(Cloud::Acr, "team.azurecr.io", &config);
    let error = acr.credentials(&http()).await.unwrap_err().to_string();
    assert!(
        error.starts_with("/nonexistent/berth-credential-helper acr get: cannot start it: ")
            && error.ends_with(
                "(set CLOUD_CREDENTIAL_HELPER to the helper's path, or install it beside berth)"
            ),
        "{error}"
    );
}

#[tokio::test]
async fn ecr_push_times_are_read_again_only_for_a_tag_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let helper = scripted_helper(
        dir.path(),
        r#"{"Tags":{"1.0":"2025-06-01T10:00:00Z","1.1":"2025-07-01T10:00:00Z"}}"#,
        0,
    );
    let config = config(&[("CLOUD_CREDENTIAL_HELPER", helper.to_str().unwrap())]);
    let clock = Arc::new(TestClock(Mutex::new(start())));
    let ecr = CloudHelperCredentials::with_clock(Cloud::Ecr, ECR_HOST, &config, clock.clone());
    let image = ImageRef::parse(&format!("{ECR_HOST}/team/app:1.0")).unwrap();
    let tags = |names: &[&str]| {
        names
            .iter()
            .map(|name| name.to_string())
            .collect::<Vec<_>>()
    };
    let times = ecr
        .push_times(&http(), &image, &tags(&["1.0", "1.1"]))
        .await
        .unwrap()
        .expect("ECR has push times");
    assert_eq!(
        times.get("1.1").copied(),
        Some("2025-07-01T10:00:00Z".parse().unwrap())
    );
    ecr.push_times(&http(), &image, &tags(&["1.0"]))
        .await
        .unwrap();
    assert_eq!(ecr.runs(), 1, "every listed tag has its time");
    ecr.push_times(&http(), &image, &tags(&["1.0", "1.2"]))
        .await
        .unwrap();
    assert_eq!(ecr.runs(), 2, "1.2 is new");
    *clock.0.lock().unwrap() = start() + chrono::Duration::hours(1);
    ecr.push_times(&http(), &image, &tags(&["1.0"]))
        .await
        .unwrap();
    assert_eq!(
        ecr.runs(),
        3,
        "read again after an hour: a tag can be pushed again"
    );
    assert_eq!(
        helper_runs(dir.path())[0],
        format!(r#"ecr push-times {{"ServerURL":"{ECR_HOST}","Repository":"team/app"}}"#)
    );

    let gcp = CloudHelperCredentials::new(Cloud::Gcp, "gcr.io", &config);
    let image = ImageRef::parse("gcr.io/project/app").unwrap();
    assert_eq!(
        gcp.push_times(&http(), &image, &tags(&["1"]))
            .await
            .unwrap(),
        None
    );
    assert_eq!(gcp.runs(), 0, "only ECR has push times");
}
