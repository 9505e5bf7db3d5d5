//! The port the dashboard needs from the engine. The server implements it and provides an
//! `Arc<dyn Backend>` as Leptos context; `app` never depends on the server crate.

use std::sync::Arc;

use async_trait::async_trait;
use leptos::prelude::use_context;

use crate::error::AppError;
use crate::model::{CheckReport, RollbackReport, ServiceDetail, ServiceSummary};

#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Every service the store knows, ordered by project then name.
    async fn list_services(&self) -> Result<Vec<ServiceSummary>, AppError>;
    /// Run one check cycle now and report when it ran.
    async fn check_now(&self) -> Result<CheckReport, AppError>;
    /// One service with its revisions and ignored tags; `NotFound` for an unknown id.
    async fn service_detail(&self, service_id: i64) -> Result<ServiceDetail, AppError>;
    /// Roll the service back to `to` (a tag it ran before), as `actor`.
    async fn rollback(
        &self,
        service_id: i64,
        to: &str,
        actor: &str,
    ) -> Result<RollbackReport, AppError>;
    /// Pin the service to the tag it runs; returns that tag.
    async fn pin(&self, service_id: i64, actor: &str) -> Result<String, AppError>;
    async fn unpin(&self, service_id: i64, actor: &str) -> Result<(), AppError>;
    /// Let an ignored tag be a candidate again.
    async fn unignore(&self, service_id: i64, tag: &str, actor: &str) -> Result<(), AppError>;
}

pub type SharedBackend = Arc<dyn Backend>;

/// Who the dashboard's actions are recorded as (until login names a person).
pub const DASHBOARD_ACTOR: &str = "dashboard";

/// The backend provided to this request, for use inside server functions.
pub fn backend() -> Result<SharedBackend, AppError> {
    use_context::<SharedBackend>().ok_or(AppError::BackendUnavailable)
}
