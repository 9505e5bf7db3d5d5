use leptos::prelude::*;

use crate::error::AppError;

/// The email of the logged-in user.
#[server(prefix = "/rpc", endpoint = "session/whoami")]
pub async fn whoami() -> Result<String, AppError> {
    crate::backend::current_user().map(|user| user.email)
}
