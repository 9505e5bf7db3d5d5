use leptos::prelude::*;

use crate::error::AppError;
use crate::model::CheckReport;

#[server(prefix = "/rpc", endpoint = "checks/run")]
pub async fn check_now() -> Result<CheckReport, AppError> {
    crate::backend::backend()?.check_now().await
}
