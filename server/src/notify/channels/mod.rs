//! Each channel's documented message format, and the sending of it. Formatting is pure
//! (tested on its own); [`ChannelSender`] posts what it makes, or hands it to SMTP.

mod chat;
mod email;
mod push;
mod webhook;

use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::NotifyError;
use super::channel::ChannelKind;
use super::message::Notification;

pub use webhook::{SIGNATURE_HEADER, sign};

/// How long one HTTP send may take before it counts as failed (and is retried).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Something that delivers a notification somewhere: the one port the dispatcher sends
/// through.
#[async_trait]
pub trait Deliver: Send + Sync {
    async fn deliver(&self, notification: &Notification) -> Result<(), NotifyError>;
}

/// One HTTP request a channel sends.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub url: url::Url,
    pub headers: Vec<(&'static str, String)>,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// HTTP Basic credentials (ntfy's protected topics).
    pub basic_auth: Option<(String, String)>,
}

impl Outgoing {
    fn json(url: url::Url, body: &serde_json::Value) -> Outgoing {
        Outgoing {
            url,
            headers: Vec::new(),
            content_type: "application/json",
            body: serde_json::to_vec(body).unwrap_or_default(),
            basic_auth: None,
        }
    }
}

/// The requests `kind` sends for `notification` (none for SMTP, which is not HTTP).
pub fn requests_for(kind: &ChannelKind, notification: &Notification) -> Vec<Outgoing> {
    match kind {
        ChannelKind::Generic { url, secret } => {
            vec![webhook::request(url, secret.as_deref(), notification)]
        }
        ChannelKind::Slack { url } => vec![chat::slack(url, notification)],
        ChannelKind::Discord { url } => vec![chat::discord(url, notification)],
        ChannelKind::Teams { url } => vec![chat::teams(url, notification)],
        ChannelKind::Ntfy {
            url,
            credentials,
            priority,
            tags,
        } => vec![push::ntfy(
            url,
            credentials.clone(),
            priority.as_deref(),
            tags,
            notification,
        )],
        ChannelKind::Gotify {
            url,
            token,
            priority,
        } => vec![push::gotify(url, token, *priority, notification)],
        ChannelKind::Telegram { url, chats } => chats
            .iter()
            .map(|chat| push::telegram(url, chat, notification))
            .collect(),
        ChannelKind::Smtp(_) => Vec::new(),
    }
}

/// A configured channel, ready to send.
pub struct ChannelSender {
    kind: ChannelKind,
    http: reqwest::Client,
}

impl ChannelSender {
    pub fn new(kind: ChannelKind, http: reqwest::Client) -> ChannelSender {
        ChannelSender { kind, http }
    }

    /// The HTTP client every channel shares.
    pub fn http_client() -> Result<reqwest::Client, NotifyError> {
        reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(NotifyError::BuildClient)
    }

    async fn post(&self, outgoing: Outgoing) -> Result<(), NotifyError> {
        let mut headers = HeaderMap::new();
        for (name, value) in &outgoing.headers {
            let value = HeaderValue::from_str(value).map_err(|_| NotifyError::Format {
                channel: self.kind.label(),
                reason: format!("header {name} is not valid in HTTP"),
            })?;
            headers.insert(HeaderName::from_static(name), value);
        }
        let host = outgoing.url.host_str().unwrap_or_default().to_owned();
        let mut request = self
            .http
            .post(outgoing.url)
            .headers(headers)
            .header(reqwest::header::CONTENT_TYPE, outgoing.content_type)
            .body(outgoing.body);
        if let Some((user, password)) = outgoing.basic_auth {
            request = request.basic_auth(user, Some(password));
        }
        let response = request.send().await.map_err(|source| NotifyError::Send {
            channel: self.kind.label(),
            host: host.clone(),
            source,
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        Err(NotifyError::Refused {
            channel: self.kind.label(),
            host,
            status: status.as_u16(),
            body: body.chars().take(200).collect(),
        })
    }
}

#[async_trait]
impl Deliver for ChannelSender {
    async fn deliver(&self, notification: &Notification) -> Result<(), NotifyError> {
        if let ChannelKind::Smtp(settings) = &self.kind {
            return email::send(settings, notification).await;
        }
        for outgoing in requests_for(&self.kind, notification) {
            self.post(outgoing).await?;
        }
        Ok(())
    }
}
