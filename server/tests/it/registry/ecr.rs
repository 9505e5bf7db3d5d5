//! AWS ECR end to end: the daemon runs the real `berth-credential-helper`, which calls
//! `moto_server` (PyPI moto[server]) with the real aws-sdk-ecr and an endpoint override.
//! The helper's own tests (credential-helper/tests) cover role assumption, push times and its
//! errors.

use std::sync::{Arc, Mutex};

use berth::registry::Credentials;
use berth::registry::auth::AuthProvider;
use berth::registry::auth::cloud_helper::{Cloud, CloudHelperCredentials};
use testkit::moto::{self, Moto};

use super::{TestClock, config, credential_helper};

const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ecr_token_comes_from_the_helper_and_is_renewed_before_it_expires() {
    let Some(helper) = credential_helper() else {
        return;
    };
    let Some(moto) = Moto::start() else {
        return;
    };
    let mut keys = moto.aws_keys();
    keys.push(("CLOUD_CREDENTIAL_HELPER", helper.display().to_string()));
    let pairs: Vec<(&str, &str)> = keys.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // moto's tokens expire at 2015-01-01; the test's clock runs 12 hours before that, so
    // the renewal point is computed from the real expiresAt the helper decodes.
    let expiry = moto::token_expiry();
    let clock = Arc::new(TestClock(Mutex::new(expiry - chrono::Duration::hours(12))));
    let http: berth::registry::auth::VendorHttp = reqwest::Client::new().into();
    let ecr =
        CloudHelperCredentials::with_clock(Cloud::Ecr, REGISTRY, &config(&pairs), clock.clone());
    let Credentials::Basic { username, password } = ecr.credentials(&http).await.unwrap() else {
        panic!("ECR answers with Basic credentials");
    };
    assert_eq!(username, "AWS", "the token decodes to AWS:<password>");
    assert!(!password.is_empty());
    ecr.credentials(&http).await.unwrap();
    assert_eq!(ecr.runs(), 1, "a token 12 hours from expiry is reused");

    *clock.0.lock().unwrap() = expiry - chrono::Duration::hours(3);
    ecr.credentials(&http).await.unwrap();
    assert_eq!(ecr.runs(), 2, "renewed 3 hours before expiresAt");
}
