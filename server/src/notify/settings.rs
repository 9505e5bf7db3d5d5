//! Which channels to notify, read from the env file's URL-style keys:
//!
//! - `NOTIFY_URLS=url url …` (space-separated; channels named `url1`, `url2`, …), and
//! - `NOTIFY_<NAME>_URL=url`, with `NOTIFY_<NAME>_SECRET=…` for a signed generic webhook;
//! - `NOTIFY_RETRIES` (attempts per send, default 5) and `NOTIFY_BACKOFF` (the first wait
//!   between attempts, doubled each time; default 2s; `250ms` style accepted).
//!
//! Each URL names its channel by scheme, after shoutrrr's: see [`super::channel`].

use std::time::Duration;

use super::NotifyError;
use super::channel::ChannelKind;
use crate::config::{Config, duration};

const DEFAULT_RETRIES: u32 = 5;
const DEFAULT_BACKOFF: Duration = Duration::from_secs(2);

/// One configured channel.
#[derive(Debug, Clone)]
pub struct ChannelSettings {
    /// The `<NAME>` of its key, lowercased (`urlN` for `NOTIFY_URLS`); part of the dedupe key.
    pub name: String,
    pub kind: ChannelKind,
}

#[derive(Debug, Clone)]
pub struct NotifySettings {
    pub channels: Vec<ChannelSettings>,
    /// Attempts per notification and channel before it is given up (and logged).
    pub attempts: u32,
    /// The wait after the first failed attempt; doubled after each further one.
    pub backoff: Duration,
}

impl NotifySettings {
    pub fn from_config(config: &Config) -> Result<NotifySettings, NotifyError> {
        let mut channels = Vec::new();
        if let Some(urls) = config.get("NOTIFY_URLS") {
            for (index, url) in urls.split_whitespace().enumerate() {
                let kind =
                    ChannelKind::parse(url, None).map_err(|reason| NotifyError::ParseChannel {
                        key: "NOTIFY_URLS".to_owned(),
                        reason,
                    })?;
                channels.push(ChannelSettings {
                    name: format!("url{}", index + 1),
                    kind,
                });
            }
        }
        for (rest, url) in config.with_prefix("NOTIFY_") {
            let Some(name) = rest.strip_suffix("_URL") else {
                continue;
            };
            if name.is_empty() || url.trim().is_empty() {
                continue;
            }
            let secret = config.get(&format!("NOTIFY_{name}_SECRET"));
            let kind = ChannelKind::parse(url.trim(), secret).map_err(|reason| {
                NotifyError::ParseChannel {
                    key: format!("NOTIFY_{name}_URL"),
                    reason,
                }
            })?;
            channels.push(ChannelSettings {
                name: name.to_ascii_lowercase(),
                kind,
            });
        }
        let attempts = match config.get("NOTIFY_RETRIES") {
            None => DEFAULT_RETRIES,
            Some(text) => text
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|attempts| (1..=20).contains(attempts))
                .ok_or_else(|| NotifyError::InvalidSetting {
                    key: "NOTIFY_RETRIES",
                    value: text.to_owned(),
                    reason: "expected a number of attempts from 1 to 20".to_owned(),
                })?,
        };
        let backoff = match config.get("NOTIFY_BACKOFF") {
            None => DEFAULT_BACKOFF,
            Some(text) => parse_backoff(text).map_err(|reason| NotifyError::InvalidSetting {
                key: "NOTIFY_BACKOFF",
                value: text.to_owned(),
                reason,
            })?,
        };
        Ok(NotifySettings {
            channels,
            attempts,
            backoff,
        })
    }
}

/// `250ms`, or any duration the env file accepts elsewhere (`2`, `5s`, `1m`).
fn parse_backoff(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Some(millis) = text.strip_suffix("ms") {
        return millis
            .parse::<u64>()
            .ok()
            .filter(|millis| *millis > 0)
            .map(Duration::from_millis)
            .ok_or_else(|| format!("{text:?} is not a number of milliseconds"));
    }
    duration::parse(text).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        let values: BTreeMap<String, String> = pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect();
        Config::from_sources(PathBuf::from(".updater.env"), values, Vec::new()).unwrap()
    }

    #[test]
    fn channels_come_from_both_key_styles() {
        let settings = NotifySettings::from_config(&config(&[
            (
                "NOTIFY_URLS",
                "ntfy://ntfy.sh/berth gotify://push.example.com/Atoken",
            ),
            ("NOTIFY_OPS_URL", "generic+https://hooks.example.com/berth"),
            ("NOTIFY_OPS_SECRET", "s3cret"),
            ("NOTIFY_BACKOFF", "250ms"),
        ]))
        .unwrap();
        let names: Vec<&str> = settings.channels.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["url1", "url2", "ops"]);
        assert_eq!(settings.backoff, Duration::from_millis(250));
        assert_eq!(settings.attempts, DEFAULT_RETRIES);
    }

    #[test]
    fn a_bad_url_names_its_key() {
        let error =
            NotifySettings::from_config(&config(&[("NOTIFY_TEAM_URL", "carrier-pigeon://x")]))
                .unwrap_err()
                .to_string();
        assert!(error.contains("NOTIFY_TEAM_URL"), "{error}");
        assert!(error.contains("carrier-pigeon"), "{error}");
    }

    #[test]
    fn bad_retry_settings_are_refused() {
        let error = NotifySettings::from_config(&config(&[("NOTIFY_RETRIES", "0")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("NOTIFY_RETRIES"), "{error}");
    }
}
