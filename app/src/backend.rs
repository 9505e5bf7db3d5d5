//! The port the dashboard needs from the engine. The server implements it and provides an
//! `Arc<dyn Backend>` as Leptos context; `app` never depends on the server crate.

use std::sync::Arc;

use async_trait::async_trait;
use leptos::prelude::use_context;

use crate::error::AppError;
use crate::model::{CheckReport, ServiceSummary};

#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Every service the store knows, ordered by project then name.
    async fn list_services(&self) -> Result<Vec<ServiceSummary>, AppError>;
    /// Run one check cycle now and report when it ran.
    async fn check_now(&self) -> Result<CheckReport, AppError>;
}

pub type SharedBackend = Arc<dyn Backend>;

/// The backend provided to this request, for use inside server functions.
pub fn backend() -> Result<SharedBackend, AppError> {
    use_context::<SharedBackend>().ok_or(AppError::BackendUnavailable)
}
