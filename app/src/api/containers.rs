use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{ContainerAction, ContainerView, DeployReport};

/// How many log lines the service page shows.
pub const LOG_LINES: usize = 150;

/// The service's containers, their status and their last [`LOG_LINES`] log lines.
#[server(prefix = "/rpc", endpoint = "containers/list")]
pub async fn list_containers(service_id: i64) -> Result<Vec<ContainerView>, AppError> {
    crate::backend::backend()?
        .containers(service_id, LOG_LINES)
        .await
}

/// Start, Stop or Prune the service's containers.
#[server(prefix = "/rpc", endpoint = "containers/control")]
pub async fn control_containers(
    service_id: i64,
    action: ContainerAction,
) -> Result<String, AppError> {
    use crate::backend::{backend, current_user};
    let actor = current_user()?.email;
    backend()?.control(service_id, action, actor.as_str()).await
}

/// Deploy the service's best candidate now.
#[server(prefix = "/rpc", endpoint = "deploys/run")]
pub async fn deploy_now(service_id: i64) -> Result<DeployReport, AppError> {
    use crate::backend::{backend, current_user};
    let actor = current_user()?.email;
    backend()?.deploy_now(service_id, actor.as_str()).await
}
