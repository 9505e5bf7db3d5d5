//! A channel's URL, parsed into where and how to send. Schemes follow shoutrrr's:
//!
//! | URL | sends |
//! |---|---|
//! | `generic+https://host/path` (or any other `https://`/`http://` URL) | JSON POST, signed when a secret is set (`?secret=` or `NOTIFY_<NAME>_SECRET`) |
//! | `slack://T…/B…/X…` or `https://hooks.slack.com/services/…` | Slack incoming webhook |
//! | `discord://token@id` or `https://discord.com/api/webhooks/id/token` | Discord webhook |
//! | `teams+https://…` (`teams+http://` for a plain-HTTP relay) or a `*.webhook.office.com` / `*.logic.azure.com` / `*.powerplatform.com` URL | Teams (Adaptive Card) |
//! | `ntfy://[user:pass@]host[:port]/topic[?priority=&tags=&scheme=http]` | ntfy publish |
//! | `gotify://host[:port][/path]/token[?priority=&disabletls=yes]` | Gotify `POST /message` |
//! | `telegram://token@telegram?chats=@channel,123` | Telegram `sendMessage` |
//! | `smtp://[user:pass@]host[:port]/?from=…&to=a,b[&tls=none\|starttls\|implicit]` | email |
//!
//! `?api_base=http://127.0.0.1:PORT` sends Slack, Discord and Telegram elsewhere than their
//! public hosts (a proxy, or a test's loopback receiver).

use std::collections::BTreeMap;

use url::Url;

/// Where and how one channel sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelKind {
    Generic {
        url: Url,
        secret: Option<String>,
    },
    Slack {
        url: Url,
    },
    Discord {
        url: Url,
    },
    Teams {
        url: Url,
    },
    Ntfy {
        url: Url,
        /// `user:password` for a protected topic.
        credentials: Option<(String, String)>,
        priority: Option<String>,
        tags: Vec<String>,
    },
    Gotify {
        /// `…/message` on the server.
        url: Url,
        token: String,
        priority: Option<i64>,
    },
    Telegram {
        /// `…/bot<token>/sendMessage`.
        url: Url,
        chats: Vec<String>,
    },
    Smtp(SmtpSettings),
}

#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub credentials: Option<(String, String)>,
    pub from: String,
    pub to: Vec<String>,
    pub tls: SmtpTls,
}

/// Never prints the password.
impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .field("from", &self.from)
            .field("to", &self.to)
            .field("tls", &self.tls)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP (a local relay).
    None,
    /// STARTTLS, required.
    StartTls,
    /// TLS from the first byte (port 465).
    Implicit,
}

impl ChannelKind {
    /// The channel `text` names; `secret` is `NOTIFY_<NAME>_SECRET`. The error says what
    /// was wrong with the URL (never repeating the URL: it may hold a token).
    pub fn parse(text: &str, secret: Option<&str>) -> Result<ChannelKind, String> {
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| "expected a URL such as ntfy://ntfy.sh/topic".to_owned())?;
        let scheme = scheme.to_ascii_lowercase();
        let secret = secret.map(str::to_owned);
        match scheme.as_str() {
            "generic+https" | "generic+http" => {
                let mut url = parse_url(&format!("{}://{rest}", &scheme["generic+".len()..]))?;
                let query = take_query(&mut url, &["secret"]);
                Ok(ChannelKind::Generic {
                    url,
                    secret: secret.or_else(|| query.get("secret").cloned()),
                })
            }
            "teams+https" | "teams+http" => Ok(ChannelKind::Teams {
                url: parse_url(&format!("{}://{rest}", &scheme["teams+".len()..]))?,
            }),
            "https" | "http" => Ok(by_host(parse_url(text)?, secret)),
            "slack" => {
                // Parsed by hand: a URL parser would take the first token for a host and
                // lowercase it.
                let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
                let path = path.rsplit_once('@').map_or(path, |(_botname, path)| path);
                let tokens: Vec<&str> = path.split('/').filter(|t| !t.is_empty()).collect();
                if tokens.len() != 3 {
                    return Err("slack:// wants the three webhook tokens: slack://T…/B…/X…".into());
                }
                let mut query_url = parse_url(&format!("slack://x/?{query}"))?;
                let query = take_query(&mut query_url, &["api_base"]);
                let base = query
                    .get("api_base")
                    .map_or("https://hooks.slack.com", String::as_str);
                Ok(ChannelKind::Slack {
                    url: parse_url(&format!("{base}/services/{}", tokens.join("/")))?,
                })
            }
            "discord" => {
                let mut url = parse_url(text)?;
                let query = take_query(&mut url, &["api_base"]);
                let token = url.username();
                let id = url.host_str().unwrap_or_default();
                if token.is_empty() || id.is_empty() {
                    return Err(
                        "discord:// wants the webhook's token and id: discord://token@id".into(),
                    );
                }
                let base = query
                    .get("api_base")
                    .map_or("https://discord.com", String::as_str);
                Ok(ChannelKind::Discord {
                    url: parse_url(&format!("{base}/api/webhooks/{id}/{token}"))?,
                })
            }
            "teams" => Ok(ChannelKind::Teams {
                url: parse_url(&format!("https://{rest}"))?,
            }),
            "ntfy" => parse_ntfy(text),
            "gotify" => parse_gotify(text),
            "telegram" => parse_telegram(text),
            "smtp" => parse_smtp(text),
            other => Err(format!(
                "unknown channel scheme {other:?}: use generic+https, slack, discord, teams, \
                 ntfy, gotify, telegram or smtp"
            )),
        }
    }

    /// The channel's kind in words, for logs.
    pub fn label(&self) -> &'static str {
        match self {
            ChannelKind::Generic { .. } => "webhook",
            ChannelKind::Slack { .. } => "slack",
            ChannelKind::Discord { .. } => "discord",
            ChannelKind::Teams { .. } => "teams",
            ChannelKind::Ntfy { .. } => "ntfy",
            ChannelKind::Gotify { .. } => "gotify",
            ChannelKind::Telegram { .. } => "telegram",
            ChannelKind::Smtp(_) => "smtp",
        }
    }
}

/// A plain https URL: the service its host belongs to, else a generic webhook.
fn by_host(url: Url, secret: Option<String>) -> ChannelKind {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    if host == "hooks.slack.com" {
        ChannelKind::Slack { url }
    } else if (host == "discord.com" || host == "discordapp.com")
        && url.path().starts_with("/api/webhooks/")
    {
        ChannelKind::Discord { url }
    } else if host.ends_with(".webhook.office.com")
        || host.ends_with(".logic.azure.com")
        || host.ends_with(".powerplatform.com")
    {
        ChannelKind::Teams { url }
    } else {
        ChannelKind::Generic { url, secret }
    }
}

fn parse_ntfy(text: &str) -> Result<ChannelKind, String> {
    let mut url = parse_url(text)?;
    let query = take_query(&mut url, &["priority", "tags", "scheme"]);
    let topic = path_parts(&url).join("/");
    if topic.is_empty() {
        return Err("ntfy:// wants a topic: ntfy://host/topic".into());
    }
    let scheme = query.get("scheme").map_or("https", String::as_str);
    let host = host_and_port(&url)?;
    Ok(ChannelKind::Ntfy {
        url: parse_url(&format!("{scheme}://{host}/{topic}"))?,
        credentials: credentials(&url),
        priority: query.get("priority").cloned(),
        tags: query
            .get("tags")
            .map(|tags| tags.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
    })
}

fn parse_gotify(text: &str) -> Result<ChannelKind, String> {
    let mut url = parse_url(text)?;
    let query = take_query(&mut url, &["priority", "disabletls", "title"]);
    let mut parts = path_parts(&url);
    let token = parts
        .pop()
        .ok_or_else(|| "gotify:// wants the application token: gotify://host/token".to_owned())?;
    let scheme = match query.get("disabletls").map(|v| v.to_ascii_lowercase()) {
        Some(value) if ["yes", "true", "1"].contains(&value.as_str()) => "http",
        _ => "https",
    };
    let host = host_and_port(&url)?;
    let path: String = parts.iter().map(|part| format!("/{part}")).collect();
    let priority = match query.get("priority") {
        Some(text) => Some(
            text.parse::<i64>()
                .map_err(|_| format!("gotify priority {text:?} is not a number"))?,
        ),
        None => None,
    };
    Ok(ChannelKind::Gotify {
        url: parse_url(&format!("{scheme}://{host}{path}/message"))?,
        token,
        priority,
    })
}

fn parse_telegram(text: &str) -> Result<ChannelKind, String> {
    let mut url = parse_url(text)?;
    let query = take_query(&mut url, &["chats", "api_base"]);
    let token = percent_decode(url.username());
    // Bot tokens are `123456:ABC…`; the colon makes the URL parser split it into a user and
    // a password.
    let token = match url.password() {
        Some(rest) => format!("{token}:{}", percent_decode(rest)),
        None => token,
    };
    if token.is_empty() {
        return Err("telegram:// wants the bot token: telegram://token@telegram?chats=…".into());
    }
    let chats: Vec<String> = query
        .get("chats")
        .map(|chats| {
            chats
                .split(',')
                .map(str::trim)
                .filter(|chat| !chat.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if chats.is_empty() {
        return Err("telegram:// wants at least one chat: ?chats=@channel,123456".into());
    }
    let base = query
        .get("api_base")
        .map_or("https://api.telegram.org", String::as_str);
    Ok(ChannelKind::Telegram {
        url: parse_url(&format!("{base}/bot{token}/sendMessage"))?,
        chats,
    })
}

fn parse_smtp(text: &str) -> Result<ChannelKind, String> {
    let mut url = parse_url(text)?;
    let query = take_query(&mut url, &["from", "to", "tls", "encryption"]);
    let host = url
        .host_str()
        .filter(|host| !host.is_empty())
        .ok_or_else(|| "smtp:// wants a host: smtp://host:587/?from=…&to=…".to_owned())?
        .trim_matches(['[', ']'])
        .to_owned();
    let port = url.port().unwrap_or(587);
    let from = query
        .get("from")
        .cloned()
        .ok_or_else(|| "smtp:// wants a sender: ?from=berth@example.com".to_owned())?;
    let to: Vec<String> = query
        .get("to")
        .map(|to| to.split(',').map(str::trim).map(str::to_owned).collect())
        .unwrap_or_default();
    if to.iter().all(String::is_empty) {
        return Err("smtp:// wants recipients: ?to=ops@example.com,dev@example.com".into());
    }
    let tls = match query
        .get("tls")
        .or_else(|| query.get("encryption"))
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        Some("none") => SmtpTls::None,
        Some("starttls" | "explicittls") => SmtpTls::StartTls,
        Some("implicit" | "implicittls") => SmtpTls::Implicit,
        None | Some("auto") if port == 465 => SmtpTls::Implicit,
        None | Some("auto") => SmtpTls::StartTls,
        Some(other) => {
            return Err(format!(
                "smtp tls {other:?} is not one of none, starttls, implicit"
            ));
        }
    };
    Ok(ChannelKind::Smtp(SmtpSettings {
        host,
        port,
        credentials: credentials(&url),
        from,
        to,
        tls,
    }))
}

fn parse_url(text: &str) -> Result<Url, String> {
    Url::parse(text).map_err(|error| format!("not a valid URL: {error}"))
}

/// Remove the query parameters Berth reads from `url` and return them (lowercase names);
/// other parameters stay (a webhook's own `?code=` for example).
fn take_query(url: &mut Url, ours: &[&str]) -> BTreeMap<String, String> {
    let mut taken = BTreeMap::new();
    let mut kept = Vec::new();
    for (name, value) in url.query_pairs() {
        let lower = name.to_ascii_lowercase();
        if ours.contains(&lower.as_str()) {
            taken.insert(lower, value.into_owned());
        } else {
            kept.push((name.into_owned(), value.into_owned()));
        }
    }
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    taken
}

fn path_parts(url: &Url) -> Vec<String> {
    url.path()
        .split('/')
        .filter(|part| !part.is_empty())
        .map(percent_decode)
        .collect()
}

fn host_and_port(url: &Url) -> Result<String, String> {
    let host = url
        .host_str()
        .filter(|host| !host.is_empty())
        .ok_or_else(|| "the URL has no host".to_owned())?;
    Ok(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

fn credentials(url: &Url) -> Option<(String, String)> {
    (!url.username().is_empty()).then(|| {
        (
            percent_decode(url.username()),
            percent_decode(url.password().unwrap_or_default()),
        )
    })
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url_of(kind: &ChannelKind) -> String {
        match kind {
            ChannelKind::Generic { url, .. }
            | ChannelKind::Slack { url }
            | ChannelKind::Discord { url }
            | ChannelKind::Teams { url }
            | ChannelKind::Ntfy { url, .. }
            | ChannelKind::Gotify { url, .. }
            | ChannelKind::Telegram { url, .. } => url.to_string(),
            ChannelKind::Smtp(smtp) => format!("{}:{}", smtp.host, smtp.port),
        }
    }

    #[test]
    fn shoutrrr_style_urls_resolve_to_the_documented_endpoints() {
        let cases = [
            (
                "slack://T0/B1/XYZ",
                "https://hooks.slack.com/services/T0/B1/XYZ",
            ),
            (
                "discord://tok@123",
                "https://discord.com/api/webhooks/123/tok",
            ),
            ("ntfy://ntfy.sh/berth", "https://ntfy.sh/berth"),
            (
                "ntfy://127.0.0.1:81/berth?scheme=http",
                "http://127.0.0.1:81/berth",
            ),
            (
                "gotify://push.example.com/sub/Atok",
                "https://push.example.com/sub/message",
            ),
            (
                "telegram://123:ABC@telegram?chats=@ops",
                "https://api.telegram.org/bot123:ABC/sendMessage",
            ),
            (
                "generic+https://example.com/hook?x=1&secret=s",
                "https://example.com/hook?x=1",
            ),
            (
                "https://hooks.slack.com/services/a/b/c",
                "https://hooks.slack.com/services/a/b/c",
            ),
            (
                "smtp://u:p@mail.example.com:465/?from=a@x&to=b@x",
                "mail.example.com:465",
            ),
        ];
        for (text, expected) in cases {
            let kind = ChannelKind::parse(text, None).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(url_of(&kind), expected, "{text}");
        }
        assert!(matches!(
            ChannelKind::parse("https://prod-1.westus.logic.azure.com/workflows/x", None),
            Ok(ChannelKind::Teams { .. })
        ));
        assert!(matches!(
            ChannelKind::parse("smtp://mail:465/?from=a@x&to=b@x", None),
            Ok(ChannelKind::Smtp(SmtpSettings {
                tls: SmtpTls::Implicit,
                ..
            }))
        ));
        assert_eq!(
            ChannelKind::parse("generic+https://example.com/hook?secret=s", None),
            Ok(ChannelKind::Generic {
                url: Url::parse("https://example.com/hook").unwrap(),
                secret: Some("s".into())
            })
        );
    }

    #[test]
    fn incomplete_urls_say_what_is_missing() {
        for (text, expected) in [
            ("telegram://123:ABC@telegram", "chat"),
            ("smtp://mail.example.com/?to=b@x", "sender"),
            ("slack://only-one", "three webhook tokens"),
            ("gotify://host", "token"),
            ("no scheme here", "expected a URL"),
        ] {
            let error = ChannelKind::parse(text, None).unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
