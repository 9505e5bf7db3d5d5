use leptos::prelude::*;

use crate::error::AppError;
use crate::model::DeployReport;

/// Roll a service back to `to`, a tag it ran before. Answers once the rollback has a verdict.
#[server(prefix = "/rpc", endpoint = "rollbacks/run")]
pub async fn rollback(service_id: i64, to: String) -> Result<DeployReport, AppError> {
    use crate::backend::{backend, current_user};
    let actor = current_user()?.email;
    backend()?.rollback(service_id, &to, actor.as_str()).await
}
