//! Azure ACR's AAD flow against a loopback ACR speaking AAD-OAuth.md: the Entra token is
//! exchanged at `/oauth2/exchange` for a refresh token, which buys a registry access token
//! at the challenge's realm. Entra itself cannot be reached here (and azure_identity only
//! talks HTTPS), so a fixed-token `TokenCredential` stands in for it.

use std::sync::Arc;

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use berth::registry::auth::acr::AcrCredentials;
use berth::registry::client::{ClientLimits, RegistryClient};
use berth::registry::index_cache::IndexCache;
use berth::registry::{Governor, ImageRef, RequestKind};

use super::fake::{FakeServer, Request, Response};

#[derive(Debug)]
struct FixedEntraToken;

#[async_trait::async_trait]
impl TokenCredential for FixedEntraToken {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        assert_eq!(
            scopes,
            ["https://management.azure.com/.default"],
            "ACR wants an ARM token"
        );
        Ok(AccessToken::new(
            "entra-token",
            azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1),
        ))
    }
}

fn form(request: &Request) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

#[tokio::test]
async fn entra_token_is_exchanged_for_acr_refresh_and_access_tokens() {
    let server = FakeServer::start(|request| {
        let host = request.header("Host").unwrap_or_default().to_owned();
        match (request.method.as_str(), request.path()) {
            ("POST", "/oauth2/exchange") => {
                let form = form(request);
                let valid = form.get("grant_type").map(String::as_str) == Some("access_token")
                    && form.get("access_token").map(String::as_str) == Some("entra-token")
                    && form.get("tenant").map(String::as_str) == Some("tenant-1")
                    && form.get("service") == Some(&host);
                if valid { Response::json(r#"{"refresh_token":"acr-refresh"}"#) } else { Response::new(401) }
            }
            ("POST", "/oauth2/token") => {
                let form = form(request);
                let valid = form.get("grant_type").map(String::as_str) == Some("refresh_token")
                    && form.get("refresh_token").map(String::as_str) == Some("acr-refresh")
                    && form.get("scope").map(String::as_str) == Some("repository:team/app:pull");
                if valid { Response::json(r#"{"access_token":"acr-access"}"#) } else { Response::new(401) }
            }
            ("GET", "/v2/team/app/tags/list") if request.header("Authorization") == Some("Bearer acr-access") => {
                Response::json(r#"{"name":"team/app","tags":["1.0","2.0"]}"#)
            }
            ("GET", _) => Response::new(401).header(
                "WWW-Authenticate",
                &format!(r#"Bearer realm="http://{host}/oauth2/token",service="{host}",scope="repository:team/app:pull""#),
            ),
            _ => Response::new(404),
        }
    })
    .await;
    let base = url::Url::parse(&format!("{}/", server.url())).unwrap();
    let provider =
        AcrCredentials::new(&server.host(), &base, "tenant-1", Arc::new(FixedEntraToken)).unwrap();
    let gate = Governor::default().gate(&server.host());
    let client = RegistryClient::new(
        &server.host(),
        base,
        reqwest::Client::new(),
        Arc::new(provider),
        gate.clone(),
        Arc::new(IndexCache::default()),
        ClientLimits::default(),
    );
    let image = ImageRef::parse(&format!("{}/team/app", server.host())).unwrap();
    assert_eq!(client.list_tags(&image).await.unwrap(), ["1.0", "2.0"]);
    client.list_tags(&image).await.unwrap();
    let paths: Vec<String> = server
        .requests()
        .iter()
        .map(|request| format!("{} {}", request.method, request.path()))
        .collect();
    assert_eq!(
        paths,
        [
            "GET /v2/team/app/tags/list",
            "POST /oauth2/exchange",
            "POST /oauth2/token",
            "GET /v2/team/app/tags/list",
            "GET /v2/team/app/tags/list",
        ],
        "one exchange and one token, then the cached access token"
    );
    let stats = gate.status().stats;
    let count = |kind: RequestKind, status: u16| {
        stats
            .requests
            .iter()
            .find(|count| count.kind == kind && count.status == status)
            .map_or(0, |count| count.count)
    };
    assert_eq!(
        (
            count(RequestKind::TagList, 401),
            count(RequestKind::VendorApi, 200),
            count(RequestKind::Token, 200),
            count(RequestKind::TagList, 200),
        ),
        (1, 1, 1, 2),
        "every request above, counted by kind and status: {stats:?}"
    );
    assert_eq!(stats.auth_ok, Some(true));
}
