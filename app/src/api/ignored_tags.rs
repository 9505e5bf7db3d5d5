use leptos::prelude::*;

use crate::error::AppError;

/// Let an ignored tag be a candidate again.
#[server(prefix = "/rpc", endpoint = "ignored-tags/unignore")]
pub async fn unignore(service_id: i64, tag: String) -> Result<(), AppError> {
    use crate::backend::{backend, current_user};
    let actor = current_user()?.email;
    backend()?.unignore(service_id, &tag, actor.as_str()).await
}
