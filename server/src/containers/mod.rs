//! A service's containers as the dashboard handles them: their status and last log lines,
//! Start and Stop, and Prune (remove all but the two newest local images of the service's
//! repository). Deploys never go through here; these are the operator's hands.

mod engine;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::discovery::docker::{DockerApi, DockerError};
use crate::engine::error_chain;
use crate::store::ServiceRecord;

/// How many local images of a repository Prune keeps (the running one and one to go back to).
pub const KEEP_IMAGES: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum ContainersError {
    #[error("finding the containers of {service} failed")]
    Find {
        service: String,
        #[source]
        source: DockerError,
    },
    #[error("{service} has no container on this host")]
    NoContainer { service: String },
    #[error("starting container {container} failed")]
    Start {
        container: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("stopping container {container} failed")]
    Stop {
        container: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("removing image {image} failed")]
    RemoveImage {
        image: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("listing the local images of {repository} failed")]
    ListImages {
        repository: String,
        #[source]
        source: bollard::errors::Error,
    },
}

/// One local image of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalImageEntry {
    pub id: String,
    pub tags: Vec<String>,
    pub created: DateTime<Utc>,
}

/// What Prune did: images removed, and images it could not remove (in use) with why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneReport {
    pub removed: Vec<String>,
    pub kept: Vec<String>,
    /// Images the engine refused to remove (in use by a container), with its answer.
    pub skipped: Vec<(String, String)>,
}

/// Container control on the engine: the narrow port Start, Stop and Prune need.
#[async_trait]
pub trait ContainerControl: Send + Sync {
    async fn start(&self, container: &str) -> Result<(), ContainersError>;
    async fn stop(&self, container: &str) -> Result<(), ContainersError>;
    /// Local images whose tags name `repository`, newest first.
    async fn images(&self, repository: &str) -> Result<Vec<LocalImageEntry>, ContainersError>;
    /// Remove one image by id without force: an image a container uses is refused.
    async fn remove_image(&self, id: &str) -> Result<(), ContainersError>;
}

#[derive(Clone)]
pub struct Containers {
    docker: Arc<dyn DockerApi>,
    control: Arc<dyn ContainerControl>,
}

/// A container of a service, with its state and last log lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerReport {
    pub name: String,
    /// `running`, `exited`, `restarting`, …
    pub status: String,
    pub health: Option<String>,
    pub logs: String,
}

impl Containers {
    pub fn new(docker: Arc<dyn DockerApi>, control: Arc<dyn ContainerControl>) -> Containers {
        Containers { docker, control }
    }

    /// Each container of the service with its status and its last `lines` log lines.
    pub async fn report(
        &self,
        service: &ServiceRecord,
        lines: usize,
    ) -> Result<Vec<ContainerReport>, ContainersError> {
        let mut reports = Vec::new();
        for container in self.containers_of(service).await? {
            let find = |source| ContainersError::Find {
                service: service.selector(),
                source,
            };
            let state = self
                .docker
                .container_state(&container.0)
                .await
                .map_err(find)?;
            let logs = self
                .docker
                .container_logs(&container.0, lines)
                .await
                .map_err(find)?;
            reports.push(ContainerReport {
                name: container.1,
                status: state.status,
                health: state.health,
                logs,
            });
        }
        Ok(reports)
    }

    pub async fn start(&self, service: &ServiceRecord) -> Result<usize, ContainersError> {
        let containers = self.require_containers(service).await?;
        for (id, _) in &containers {
            self.control.start(id).await?;
        }
        Ok(containers.len())
    }

    pub async fn stop(&self, service: &ServiceRecord) -> Result<usize, ContainersError> {
        let containers = self.require_containers(service).await?;
        for (id, _) in &containers {
            self.control.stop(id).await?;
        }
        Ok(containers.len())
    }

    /// Remove all but the [`KEEP_IMAGES`] newest local images of the service's repository.
    pub async fn prune(&self, service: &ServiceRecord) -> Result<PruneReport, ContainersError> {
        let images = self.control.images(&service.image).await?;
        let mut report = PruneReport::default();
        for (position, image) in images.into_iter().enumerate() {
            let name = image
                .tags
                .first()
                .cloned()
                .unwrap_or_else(|| image.id.clone());
            if position < KEEP_IMAGES {
                report.kept.push(name);
                continue;
            }
            match self.control.remove_image(&image.id).await {
                Ok(()) => report.removed.push(name),
                Err(error) => report.skipped.push((name, error_chain(&error))),
            }
        }
        Ok(report)
    }

    /// (id, name) of the service's containers.
    async fn containers_of(
        &self,
        service: &ServiceRecord,
    ) -> Result<Vec<(String, String)>, ContainersError> {
        let all =
            self.docker
                .compose_containers()
                .await
                .map_err(|source| ContainersError::Find {
                    service: service.selector(),
                    source,
                })?;
        Ok(all
            .into_iter()
            .filter(|c| c.project == service.project && c.service == service.name)
            .map(|c| (c.id, c.name))
            .collect())
    }

    async fn require_containers(
        &self,
        service: &ServiceRecord,
    ) -> Result<Vec<(String, String)>, ContainersError> {
        let containers = self.containers_of(service).await?;
        if containers.is_empty() {
            return Err(ContainersError::NoContainer {
                service: service.selector(),
            });
        }
        Ok(containers)
    }
}
