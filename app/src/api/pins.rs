use leptos::prelude::*;

use crate::error::AppError;

/// Pin a service to the tag it runs; answers that tag.
#[server(prefix = "/rpc", endpoint = "pins/pin")]
pub async fn pin(service_id: i64) -> Result<String, AppError> {
    use crate::backend::{DASHBOARD_ACTOR, backend};
    backend()?.pin(service_id, DASHBOARD_ACTOR).await
}

#[server(prefix = "/rpc", endpoint = "pins/unpin")]
pub async fn unpin(service_id: i64) -> Result<(), AppError> {
    use crate::backend::{DASHBOARD_ACTOR, backend};
    backend()?.unpin(service_id, DASHBOARD_ACTOR).await
}
