//! Azure ACR with an Entra service principal, the daemon's half: the helper (a scripted
//! stand-in here; its own tests cover the exchange at `/oauth2/exchange`) answers with an
//! ACR refresh token as an identity token, which the daemon trades at the challenge's realm
//! (`/oauth2/token`, `grant_type=refresh_token`) for a registry access token.

use berth::registry::{ImageRef, RegistryApi, RequestKind};
use testkit::fake_http::{FakeServer, Request, Response};

use super::{helper_runs, registries, scripted_helper};

fn form(request: &Request) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

#[tokio::test]
async fn the_helpers_refresh_token_buys_a_registry_access_token() {
    let server = FakeServer::start(|request| {
        let host = request.header("Host").unwrap_or_default().to_owned();
        match (request.method.as_str(), request.path()) {
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
    let dir = tempfile::tempdir().unwrap();
    let helper = scripted_helper(
        dir.path(),
        r#"{"ServerURL":"x","Username":"<token>","Secret":"acr-refresh","ExpiresAt":"2099-01-01T00:00:00Z"}"#,
        0,
    );
    let registries = registries(&[
        ("AZURE_REGISTRY", &server.host()),
        ("AZURE_TENANT_ID", "tenant-1"),
        ("AZURE_CLIENT_ID", "berth-reader"),
        ("AZURE_CLIENT_SECRET", "sp-secret"),
        ("CLOUD_CREDENTIAL_HELPER", helper.to_str().unwrap()),
    ]);
    let image = ImageRef::parse(&format!("{}/team/app", server.host())).unwrap();
    let names = |tags: Vec<berth::registry::RemoteTag>| {
        tags.into_iter().map(|tag| tag.name).collect::<Vec<_>>()
    };
    assert_eq!(
        names(registries.list_tags(&image).await.unwrap()),
        ["1.0", "2.0"]
    );
    registries.list_tags(&image).await.unwrap();
    assert_eq!(
        helper_runs(dir.path()),
        [format!("acr get {}", server.host())],
        "one helper run"
    );
    let paths: Vec<String> = server
        .requests()
        .iter()
        .map(|request| format!("{} {}", request.method, request.path()))
        .collect();
    assert_eq!(
        paths,
        [
            "GET /v2/team/app/tags/list",
            "POST /oauth2/token",
            "GET /v2/team/app/tags/list",
            "GET /v2/team/app/tags/list",
        ],
        "one token, then the cached access token"
    );
    let status = registries.status();
    let stats = &status[0].stats;
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
