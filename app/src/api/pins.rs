use leptos::prelude::*;

use crate::error::AppError;

/// Pin a service to the tag it runs; answers that tag.
#[server(prefix = "/rpc", endpoint = "pins/pin")]
pub async fn pin(service_id: i64) -> Result<String, AppError> {
    use crate::backend::{backend, current_user};
    let actor = current_user()?.email;
    backend()?.pin(service_id, actor.as_str()).await
}

#[server(prefix = "/rpc", endpoint = "pins/unpin")]
pub async fn unpin(service_id: i64) -> Result<(), AppError> {
    use crate::backend::{backend, current_user};
    let actor = current_user()?.email;
    backend()?.unpin(service_id, actor.as_str()).await
}
