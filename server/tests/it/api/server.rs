//! The whole web server (dashboard, API, SSE) in-process on 127.0.0.1 port 0, around an
//! engine and a real SQLite store, and a client that speaks to its `/api/v1`.

use std::path::Path;
use std::sync::Arc;

use berth::api::token::TokenScope;
use berth::backend::EngineBackend;
use berth::clock::SystemClock;
use berth::config::Config;
use berth::engine::Engine;
use berth::store::Store;
use berth::web::{self, AppState};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub struct ApiServer {
    pub base: String,
    pub store: Store,
    shutdown: CancellationToken,
    client: reqwest::Client,
}

impl ApiServer {
    /// Serve `engine` (reading `env_file`) with its `store`.
    pub async fn start(engine: Engine, store: Store, env_file: &Path) -> ApiServer {
        ApiServer::start_shared(Arc::new(engine), store, env_file).await
    }

    /// [`ApiServer::start`] with an engine the test drives too (a scheduler of its own).
    pub async fn start_shared(engine: Arc<Engine>, store: Store, env_file: &Path) -> ApiServer {
        let listener = web::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = Config::load(Some(env_file)).unwrap();
        let shutdown = CancellationToken::new();
        let state = AppState {
            leptos_options: web::leptos_options(&config.server.site_root, addr),
            backend: Arc::new(EngineBackend::new(engine.clone())),
            events: engine.events().clone(),
            engine: engine.clone(),
            store: store.clone(),
            auth: berth::auth::Auth::start(&config, store.clone(), Arc::new(SystemClock))
                .await
                .unwrap(),
            api: berth::api::ApiState::default(),
            metrics: berth::metrics::Metrics::from_config(&config).unwrap(),
            config: Arc::new(config),
            shutdown: shutdown.clone(),
        };
        tokio::spawn(web::serve(listener, state));
        ApiServer {
            base: format!("http://{addr}/api/v1"),
            store,
            shutdown,
            client: reqwest::Client::new(),
        }
    }

    /// A new token's secret, made through the store as `berth token create` makes it.
    pub async fn token(&self, name: &str, scope: TokenScope) -> String {
        self.store
            .create_api_token(name, scope, chrono::Utc::now())
            .await
            .unwrap()
            .secret
    }

    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let request = self.client.request(method, format!("{}{path}", self.base));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Send `method path` with `token` and an optional JSON body; the status and the body
    /// parsed as JSON (`Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self.request(method, path, token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        Answer::read(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

impl Answer {
    pub async fn read(response: reqwest::Response) -> Answer {
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|error| panic!("{status}: not JSON ({error}): {text}"))
        };
        Answer {
            status,
            content_type,
            body,
        }
    }

    /// Assert a problem+json answer of `status` and kind `kind`; returns its detail.
    #[track_caller]
    pub fn problem(&self, status: u16, kind: &str) -> String {
        assert_eq!(self.status.as_u16(), status, "{self:#?}");
        assert_eq!(self.content_type, "application/problem+json", "{self:#?}");
        assert_eq!(
            self.body["type"],
            format!("https://berth.dev/problems/{kind}"),
            "{self:#?}"
        );
        assert_eq!(self.body["status"], status, "{self:#?}");
        assert!(self.body["title"].is_string(), "{self:#?}");
        self.body["detail"].as_str().unwrap().to_owned()
    }

    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{self:#?}");
        &self.body
    }
}

/// The complete events at the start of `text`, an SSE stream as read so far, as (event, data)
/// pairs; an event not complete yet stays in `text`.
pub fn take_events(text: &mut String) -> Vec<(String, String)> {
    let mut events = Vec::new();
    // Events are blocks of `field: value` lines separated by a blank line.
    while let Some(end) = text.find("\n\n") {
        let block: String = text.drain(..end + 2).collect();
        let field = |name: &str| {
            block
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .map(|value| value.trim_start().to_owned())
        };
        if let (Some(event), Some(data)) = (field("event:"), field("data:")) {
            events.push((event, data));
        }
    }
    events
}
