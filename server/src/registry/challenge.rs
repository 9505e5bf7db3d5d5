//! `WWW-Authenticate` challenges (RFC 7235): `Bearer realm="…",service="…",scope="…"` from
//! token-auth registries, `Basic realm="…"` from registries that want credentials on every
//! request.

use std::collections::BTreeMap;

/// One parsed challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Bearer {
        realm: String,
        service: Option<String>,
        /// Scopes the registry asked for; empty when it named none.
        scopes: Vec<String>,
    },
    Basic {
        realm: Option<String>,
    },
    Other {
        scheme: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    #[error("empty WWW-Authenticate header")]
    Empty,
    #[error("Bearer challenge without a realm")]
    MissingRealm,
    #[error("malformed WWW-Authenticate parameters near {0:?}")]
    Malformed(String),
}

impl Challenge {
    /// Parse the first challenge of a header value (registries send one).
    pub fn parse(header: &str) -> Result<Challenge, ChallengeError> {
        let header = header.trim();
        let (scheme, rest) = match header.split_once(char::is_whitespace) {
            Some((scheme, rest)) => (scheme, rest),
            None if !header.is_empty() => (header, ""),
            None => return Err(ChallengeError::Empty),
        };
        let params = parse_params(rest)?;
        match scheme.to_ascii_lowercase().as_str() {
            "bearer" => Ok(Challenge::Bearer {
                realm: params
                    .get("realm")
                    .cloned()
                    .ok_or(ChallengeError::MissingRealm)?,
                service: params.get("service").cloned(),
                scopes: params
                    .get("scope")
                    .map(|scope| {
                        scope
                            .split(' ')
                            .filter(|s| !s.is_empty())
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
            "basic" => Ok(Challenge::Basic {
                realm: params.get("realm").cloned(),
            }),
            _ => Ok(Challenge::Other {
                scheme: scheme.to_owned(),
            }),
        }
    }
}

/// `key=value` or `key="quoted, value"` pairs separated by commas; keys lowercased.
fn parse_params(text: &str) -> Result<BTreeMap<String, String>, ChallengeError> {
    let mut params = BTreeMap::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (key, after_key) = rest
            .split_once('=')
            .ok_or_else(|| ChallengeError::Malformed(rest.chars().take(40).collect()))?;
        let key = key.trim().to_ascii_lowercase();
        let after_key = after_key.trim_start();
        let (value, after_value) = if let Some(quoted) = after_key.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((index, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = Some(index + 1);
                        break;
                    }
                    _ => value.push(c),
                }
            }
            let end =
                end.ok_or_else(|| ChallengeError::Malformed(after_key.chars().take(40).collect()))?;
            (value, &quoted[end..])
        } else {
            let end = after_key.find(',').unwrap_or(after_key.len());
            (after_key[..end].trim().to_owned(), &after_key[end..])
        };
        params.insert(key, value);
        rest = after_value
            .trim_start()
            .trim_start_matches(',')
            .trim_start();
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_bearer_challenge() {
        let challenge = Challenge::parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#,
        )
        .unwrap();
        assert_eq!(
            challenge,
            Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scopes: vec!["repository:samalba/my-app:pull,push".into()],
            }
        );
    }

    #[test]
    fn basic_and_unquoted_and_other_schemes() {
        assert_eq!(
            Challenge::parse(r#"Basic realm="Registry Realm""#).unwrap(),
            Challenge::Basic {
                realm: Some("Registry Realm".into())
            }
        );
        assert_eq!(
            Challenge::parse("basic").unwrap(),
            Challenge::Basic { realm: None }
        );
        assert_eq!(
            Challenge::parse("bearer realm=https://t.example/token, service=reg").unwrap(),
            Challenge::Bearer {
                realm: "https://t.example/token".into(),
                service: Some("reg".into()),
                scopes: vec![]
            }
        );
        assert_eq!(
            Challenge::parse("Negotiate abc=1").unwrap(),
            Challenge::Other {
                scheme: "Negotiate".into()
            }
        );
    }

    #[test]
    fn broken_challenges_are_errors() {
        assert_eq!(Challenge::parse(""), Err(ChallengeError::Empty));
        assert_eq!(
            Challenge::parse(r#"Bearer service="x""#),
            Err(ChallengeError::MissingRealm)
        );
        assert!(matches!(
            Challenge::parse(r#"Bearer realm="unterminated"#),
            Err(ChallengeError::Malformed(_))
        ));
    }
}
