use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{ServiceDetail, ServiceSummary};

#[server(prefix = "/rpc", endpoint = "services/list")]
pub async fn list_services() -> Result<Vec<ServiceSummary>, AppError> {
    crate::backend::backend()?.list_services().await
}

#[server(prefix = "/rpc", endpoint = "services/detail")]
pub async fn get_service(service_id: i64) -> Result<ServiceDetail, AppError> {
    crate::backend::backend()?.service_detail(service_id).await
}
