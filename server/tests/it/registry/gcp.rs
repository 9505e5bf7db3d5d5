//! GCP end to end: the daemon runs the real `berth-credential-helper`, which turns a
//! service-account key into an access token with gcp_auth (a signed JWT assertion POSTed to
//! the key's `token_uri`); the daemon then logs in as `oauth2accesstoken`. Both ends are
//! served by a loopback server speaking Google's documented protocol.

use std::process::Command;

use base64::Engine;
use berth::registry::{ImageRef, RegistryApi};

use super::{credential_helper, registries};
use testkit::fake_http::{FakeServer, Response};

/// An RSA key pair from openssl: (private PKCS#8 PEM, public PEM).
fn rsa_key_pair(dir: &std::path::Path) -> (String, String) {
    let private = dir.join("key.pem");
    let status = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&private)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("running openssl genpkey");
    assert!(status.success());
    let public = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .output()
        .expect("openssl pkey");
    (
        std::fs::read_to_string(&private).unwrap(),
        String::from_utf8(public.stdout).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_account_key_becomes_an_oauth2accesstoken_login() {
    let Some(helper) = credential_helper() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (private_pem, public_pem) = rsa_key_pair(dir.path());
    let verifying_key = jsonwebtoken::DecodingKey::from_rsa_pem(public_pem.as_bytes()).unwrap();
    let registry_auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("oauth2accesstoken:ya29.minted")
    );
    let server = FakeServer::start(move |request| match (request.method.as_str(), request.path()) {
        ("POST", "/token") => {
            let form: std::collections::HashMap<String, String> = url::form_urlencoded::parse(&request.body).into_owned().collect();
            // gcp_auth pads the signature's base64; Google accepts that, jsonwebtoken does not.
            let assertion = form.get("assertion").map(|jwt| jwt.trim_end_matches('=').to_owned()).unwrap_or_default();
            let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
            validation.validate_aud = false;
            let signed = jsonwebtoken::decode::<serde_json::Value>(&assertion, &verifying_key, &validation);
            match signed {
                Ok(claims) if claims.claims["iss"] == "berth@project.iam.gserviceaccount.com" => {
                    Response::json(r#"{"access_token":"ya29.minted","expires_in":3600,"token_type":"Bearer"}"#)
                }
                _ => Response::new(400).body(r#"{"error":"invalid_grant"}"#),
            }
        }
        ("GET", "/v2/project/app/tags/list") if request.header("Authorization") == Some(registry_auth.as_str()) => {
            Response::json(r#"{"name":"project/app","tags":["v1"]}"#)
        }
        _ => Response::new(401).header("WWW-Authenticate", "Basic realm=\"gcr\""),
    })
    .await;
    let key = serde_json::json!({
        "type": "service_account",
        "project_id": "project",
        "private_key_id": "1",
        "private_key": private_pem,
        "client_email": "berth@project.iam.gserviceaccount.com",
        "token_uri": format!("{}/token", server.url()),
    })
    .to_string();
    let registries = registries(&[
        ("GCP_REGISTRY_URL", &server.host()),
        ("GCP_SERVICE_ACCOUNT_JSON", &key),
        ("CLOUD_CREDENTIAL_HELPER", helper.to_str().unwrap()),
    ]);
    let image = ImageRef::parse(&format!("{}/project/app", server.host())).unwrap();
    assert_eq!(registries.list_tags(&image).await.unwrap()[0].name, "v1");
    assert_eq!(registries.list_tags(&image).await.unwrap()[0].name, "v1");
    let token_requests = server
        .requests()
        .iter()
        .filter(|request| request.path() == "/token")
        .count();
    assert_eq!(
        token_requests, 1,
        "the token lives an hour: the second check reuses it"
    );
}
