//! A credential that must never reach a log line, an error message or an API answer.

use std::fmt;

/// A password, token or key. Debug and Display print `***`; read it with [`Secret::expose`]
/// only where it goes on the wire.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("***")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret::new(value)
    }
}

/// What a provider hands the client to answer a registry's challenge with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Credentials {
    /// No credentials: anonymous token requests, or none at all.
    #[default]
    Anonymous,
    /// A user and password (or PAT, robot secret, login key): HTTP Basic on the registry or
    /// on its token endpoint.
    Basic { username: String, password: Secret },
    /// An OAuth2 refresh token (ACR's exchanged token, docker's `identitytoken`): POSTed to
    /// the token endpoint with `grant_type=refresh_token`.
    RefreshToken(Secret),
}

/// ACR's user name for a login by refresh token, as `az acr login` writes it.
pub const TOKEN_USER: &str = "00000000-0000-0000-0000-000000000000";

impl Credentials {
    /// The user name and password a `docker login`-style client takes (Trivy's
    /// `TRIVY_USERNAME` / `TRIVY_PASSWORD`); a refresh token goes as ACR's token user.
    pub fn user_and_password(&self) -> Option<(String, String)> {
        match self {
            Credentials::Anonymous => None,
            Credentials::Basic { username, password } => {
                Some((username.clone(), password.expose().to_owned()))
            }
            Credentials::RefreshToken(token) => {
                Some((TOKEN_USER.to_owned(), token.expose().to_owned()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let credentials = Credentials::Basic {
            username: "robot$ci".into(),
            password: Secret::new("hunter2"),
        };
        let printed = format!("{credentials:?} {}", Secret::new("hunter2"));
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("robot$ci"));
    }
}
