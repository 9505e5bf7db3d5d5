use leptos::prelude::*;

use crate::error::AppError;
use crate::model::RegistryInfo;

#[server(prefix = "/rpc", endpoint = "registries/list")]
pub async fn list_registries() -> Result<Vec<RegistryInfo>, AppError> {
    crate::backend::backend()?.registries().await
}
