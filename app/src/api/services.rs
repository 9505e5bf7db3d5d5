use leptos::prelude::*;

use crate::error::AppError;
use crate::model::ServiceSummary;

#[server(prefix = "/rpc", endpoint = "services/list")]
pub async fn list_services() -> Result<Vec<ServiceSummary>, AppError> {
    crate::backend::backend()?.list_services().await
}
