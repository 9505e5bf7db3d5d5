//! The engine as the dashboard's [`app::backend::Backend`].

use std::sync::Arc;

use app::backend::Backend;
use app::error::AppError;
use app::model::{CheckReport, ServiceSummary};
use async_trait::async_trait;

use crate::engine::{Engine, error_chain};

pub struct EngineBackend {
    engine: Arc<Engine>,
}

impl EngineBackend {
    pub fn new(engine: Arc<Engine>) -> EngineBackend {
        EngineBackend { engine }
    }
}

/// Engine errors reach the browser as their message chain, which never holds a secret.
fn to_app_error(error: &dyn std::error::Error) -> AppError {
    tracing::warn!(error = %error_chain(error), "dashboard request failed");
    AppError::Engine(error_chain(error))
}

#[async_trait]
impl Backend for EngineBackend {
    async fn list_services(&self) -> Result<Vec<ServiceSummary>, AppError> {
        self.engine
            .store()
            .list_services()
            .await
            .map_err(|error| to_app_error(&error))
    }

    async fn check_now(&self) -> Result<CheckReport, AppError> {
        let report = self
            .engine
            .check_all(false)
            .await
            .map_err(|error| to_app_error(&error))?;
        Ok(CheckReport {
            checked_at: report.checked_at,
            services_checked: report.services.len(),
        })
    }
}
