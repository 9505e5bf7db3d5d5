//! The one error type every server function returns. It crosses the wire as JSON, so the
//! browser can match on the kind instead of parsing a message.

use leptos::prelude::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::codec::JsonEncoding;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    /// The request was understood but refers to something that does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The input was rejected; the message names the field and what was wrong.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The engine could not do what was asked (store, registry, Docker); the message is safe
    /// to show: it never carries a secret.
    #[error("{0}")]
    Engine(String),
    /// The request carries no open session: log in (again).
    #[error("your session has ended: log in again")]
    Unauthorized,
    /// The server has no engine attached to this request (a wiring error, not a user error).
    #[error("the Berth backend is not available")]
    BackendUnavailable,
    /// Transport or encoding failure of the server-function call itself.
    #[error("request failed: {0}")]
    ServerFn(ServerFnErrorErr),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::ServerFn(value)
    }
}
