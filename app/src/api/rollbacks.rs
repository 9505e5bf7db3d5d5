use leptos::prelude::*;

use crate::error::AppError;
use crate::model::RollbackReport;

/// Roll a service back to `to`, a tag it ran before. Answers once the rollback has a verdict.
#[server(prefix = "/rpc", endpoint = "rollbacks/run")]
pub async fn rollback(service_id: i64, to: String) -> Result<RollbackReport, AppError> {
    use crate::backend::{DASHBOARD_ACTOR, backend};
    backend()?.rollback(service_id, &to, DASHBOARD_ACTOR).await
}
