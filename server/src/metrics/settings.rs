//! Who may read `/metrics`: `METRICS_ENABLED` (default true) turns the endpoint off, and
//! `METRICS_TOKEN` (default none) makes it ask for `Authorization: Bearer <token>`. Without a
//! token the endpoint is open to whoever can reach the listen address, which is localhost
//! unless `LISTEN_ADDR` says otherwise.

use std::fmt;

use crate::config::Config;

use super::MetricsError;

pub const ENABLED_KEY: &str = "METRICS_ENABLED";
pub const TOKEN_KEY: &str = "METRICS_TOKEN";

#[derive(Clone, PartialEq, Eq)]
pub struct MetricsSettings {
    pub enabled: bool,
    /// The bearer token a scraper must send; `None` leaves the endpoint open.
    pub token: Option<String>,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings {
            enabled: true,
            token: None,
        }
    }
}

/// The token never reaches a log line.
impl fmt::Debug for MetricsSettings {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("MetricsSettings")
            .field("enabled", &self.enabled)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl MetricsSettings {
    pub fn from_config(config: &Config) -> Result<MetricsSettings, MetricsError> {
        Self::from_values(config.get(ENABLED_KEY), config.get(TOKEN_KEY))
    }

    fn from_values(
        enabled: Option<&str>,
        token: Option<&str>,
    ) -> Result<MetricsSettings, MetricsError> {
        // An empty value counts as unset, as `KEY=` does in the original env file.
        let enabled = match enabled.map(str::trim).filter(|text| !text.is_empty()) {
            None => true,
            Some(text) => parse_bool(text).ok_or_else(|| MetricsError::ParseSetting {
                key: ENABLED_KEY,
                value: text.to_owned(),
                reason: "expected true or false (also yes/no, on/off, 1/0)".to_owned(),
            })?,
        };
        let token = match token.map(str::trim).filter(|text| !text.is_empty()) {
            None => None,
            Some(text) => Some(check_token(text)?.to_owned()),
        };
        Ok(MetricsSettings { enabled, token })
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// A bearer token travels in a header, so it must be visible ASCII without spaces. The error
/// says what is wrong without repeating the secret.
fn check_token(token: &str) -> Result<&str, MetricsError> {
    match token.chars().find(|c| !c.is_ascii_graphic()) {
        None => Ok(token),
        Some(bad) => Err(MetricsError::CheckToken {
            reason: format!(
                "it contains {}, but a bearer token may only hold visible ASCII characters",
                if bad.is_whitespace() {
                    "a space".to_owned()
                } else {
                    format!("the character {:?}", bad.escape_unicode().to_string())
                }
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_keys_leave_the_endpoint_on_and_open() {
        let settings = MetricsSettings::from_values(None, Some("  ")).unwrap();
        assert_eq!(settings, MetricsSettings::default());
        assert!(settings.enabled && settings.token.is_none());
    }

    #[test]
    fn enabled_accepts_the_usual_spellings() {
        for (text, expected) in [
            ("false", false),
            ("OFF", false),
            ("0", false),
            ("yes", true),
        ] {
            let settings = MetricsSettings::from_values(Some(text), None).unwrap();
            assert_eq!(settings.enabled, expected, "{text}");
        }
    }

    #[test]
    fn a_bad_enabled_value_is_named_in_the_error() {
        let error = MetricsSettings::from_values(Some("maybe"), None).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("METRICS_ENABLED") && message.contains("maybe"),
            "{message}"
        );
    }

    #[test]
    fn a_token_with_a_space_is_refused_without_repeating_it() {
        let error = MetricsSettings::from_values(None, Some("open sesame")).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("METRICS_TOKEN"), "{message}");
        assert!(!message.contains("sesame"), "the secret leaked: {message}");
    }

    #[test]
    fn debug_output_hides_the_token() {
        let settings = MetricsSettings::from_values(None, Some("s3cret")).unwrap();
        assert_eq!(settings.token.as_deref(), Some("s3cret"));
        assert!(!format!("{settings:?}").contains("s3cret"));
    }
}
