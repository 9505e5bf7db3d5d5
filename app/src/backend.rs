//! The port the dashboard needs from the engine. The server implements it and provides an
//! `Arc<dyn Backend>` as Leptos context; `app` never depends on the server crate.

use std::sync::Arc;

use async_trait::async_trait;
use leptos::prelude::use_context;

use crate::error::AppError;
use crate::model::{
    CheckReport, ContainerAction, ContainerView, DeployReport, RegistryInfo, ServiceDetail,
    ServiceSummary,
};

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
    ) -> Result<DeployReport, AppError>;
    /// Pin the service to the tag it runs; returns that tag.
    async fn pin(&self, service_id: i64, actor: &str) -> Result<String, AppError>;
    async fn unpin(&self, service_id: i64, actor: &str) -> Result<(), AppError>;
    /// Let an ignored tag be a candidate again.
    async fn unignore(&self, service_id: i64, tag: &str, actor: &str) -> Result<(), AppError>;
    /// Deploy the service's best candidate now, as `actor`.
    async fn deploy_now(&self, service_id: i64, actor: &str) -> Result<DeployReport, AppError>;
    /// The service's containers with their status and last `lines` log lines.
    async fn containers(
        &self,
        service_id: i64,
        lines: usize,
    ) -> Result<Vec<ContainerView>, AppError>;
    /// Start, stop or prune; answers what happened, in a sentence.
    async fn control(
        &self,
        service_id: i64,
        action: ContainerAction,
        actor: &str,
    ) -> Result<String, AppError>;
    /// Every registry Berth has talked to since it started: auth, last error, quota.
    async fn registries(&self) -> Result<Vec<RegistryInfo>, AppError>;
}

pub type SharedBackend = Arc<dyn Backend>;

/// The logged-in user of this request, put in the request's extensions by the server's
/// session layer (which turns away requests without one before they reach the app).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    pub email: String,
}

/// The user of the request being served: who an action is recorded as.
pub fn current_user() -> Result<CurrentUser, AppError> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CurrentUser>().cloned())
        .ok_or(AppError::Unauthorized)
}

/// The backend provided to this request, for use inside server functions.
pub fn backend() -> Result<SharedBackend, AppError> {
    use_context::<SharedBackend>().ok_or(AppError::BackendUnavailable)
}
