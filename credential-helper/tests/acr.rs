//! Azure ACR's Entra flow (Azure/acr `docs/AAD-OAuth.md`) against a loopback ACR: the Entra
//! token is exchanged at `/oauth2/exchange` for a refresh token, which the helper prints as
//! an identity token. Entra itself cannot be reached here (and azure_identity only talks
//! HTTPS), so a fixed-token `TokenCredential` stands in for it.

use std::sync::Arc;

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use base64::Engine;
use berth_credential_helper::acr::{ARM_SCOPE, AcrExchange};
use berth_credential_helper::{IDENTITY_TOKEN_USER, Login};
use testkit::fake_http::{FakeServer, Response};

#[derive(Debug)]
struct FixedEntraToken;

#[async_trait::async_trait]
impl TokenCredential for FixedEntraToken {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        assert_eq!(scopes, [ARM_SCOPE], "ACR wants an ARM token");
        Ok(AccessToken::new(
            "entra-token",
            azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1),
        ))
    }
}

/// A refresh token as ACR issues one: a JWT whose `exp` says when it lapses.
fn refresh_token(exp: i64) -> String {
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!(r#"{{"exp":{exp},"grant_type":"refresh_token"}}"#));
    format!("eyJhbGciOiJSUzI1NiJ9.{claims}.c2lnbmF0dXJl")
}

#[tokio::test]
async fn the_entra_token_is_exchanged_for_the_registrys_refresh_token() {
    let issued = refresh_token(1_900_000_000);
    let answer = format!(r#"{{"refresh_token":"{issued}"}}"#);
    let server = FakeServer::start(move |request| {
        let form: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(&request.body)
                .into_owned()
                .collect();
        let host = request.header("Host").unwrap_or_default();
        let valid = request.path() == "/oauth2/exchange"
            && form.get("grant_type").map(String::as_str) == Some("access_token")
            && form.get("access_token").map(String::as_str) == Some("entra-token")
            && form.get("tenant").map(String::as_str) == Some("tenant-1")
            && form.get("service").map(String::as_str) == Some(host);
        if valid {
            Response::json(answer.clone())
        } else {
            Response::new(401)
        }
    })
    .await;
    let base = url::Url::parse(&format!("{}/", server.url())).unwrap();
    let exchange = AcrExchange::new(
        &server.host(),
        &base,
        "tenant-1",
        Arc::new(FixedEntraToken),
        reqwest::Client::new(),
    )
    .unwrap();
    let login = exchange.login().await.unwrap();
    assert_eq!(
        login,
        Login {
            server_url: server.host(),
            username: IDENTITY_TOKEN_USER.to_owned(),
            secret: issued,
            expires_at: chrono::DateTime::from_timestamp(1_900_000_000, 0).unwrap(),
        },
        "the refresh token as an identity token, until its exp"
    );
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn a_refused_exchange_names_the_url_and_status() {
    let server = FakeServer::start(|_| Response::new(401)).await;
    let base = url::Url::parse(&format!("{}/", server.url())).unwrap();
    let exchange = AcrExchange::new(
        &server.host(),
        &base,
        "tenant-1",
        Arc::new(FixedEntraToken),
        reqwest::Client::new(),
    )
    .unwrap();
    let error = exchange.login().await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("POST {}/oauth2/exchange answered HTTP 401", server.url())
    );
}
