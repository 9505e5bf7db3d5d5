//! The Docker engine as Berth needs it: the compose containers it runs, each container's
//! state and health, the local image's repo digests, and a container's last log lines.
//! [`DockerApi`] is the port; [`EngineDocker`] talks to the real daemon through bollard.

use std::collections::HashMap;
use std::path::PathBuf;

use async_trait::async_trait;
use bollard::query_parameters::{InspectContainerOptions, ListContainersOptions, LogsOptions};
use futures::StreamExt;

/// The labels docker compose puts on every container it creates.
pub const LABEL_PROJECT: &str = "com.docker.compose.project";
pub const LABEL_SERVICE: &str = "com.docker.compose.service";
pub const LABEL_CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const LABEL_WORKING_DIR: &str = "com.docker.compose.project.working_dir";

#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error("cannot connect to the Docker engine")]
    Connect(#[source] bollard::errors::Error),
    #[error("listing containers failed")]
    ListContainers(#[source] bollard::errors::Error),
    #[error("inspecting container {id} failed")]
    InspectContainer {
        id: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("inspecting image {image} failed")]
    InspectImage {
        image: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("reading the logs of container {id} failed")]
    Logs {
        id: String,
        #[source]
        source: bollard::errors::Error,
    },
}

/// A container that docker compose created, as its labels and state describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeContainer {
    pub id: String,
    pub name: String,
    pub project: String,
    pub service: String,
    pub config_files: Vec<PathBuf>,
    pub working_dir: Option<PathBuf>,
    /// The image as the container was created from (`repo:tag`).
    pub image: String,
    pub image_id: String,
    pub labels: HashMap<String, String>,
}

/// What verification reads about one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerState {
    pub id: String,
    pub image_id: String,
    /// `created`, `running`, `restarting`, `exited`, …
    pub status: String,
    pub running: bool,
    pub restarting: bool,
    pub exit_code: Option<i64>,
    /// `starting`, `healthy`, `unhealthy`, or `None` without a HEALTHCHECK.
    pub health: Option<String>,
    pub restart_count: i64,
    pub started_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalImage {
    pub id: String,
    pub repo_digests: Vec<String>,
}

#[async_trait]
pub trait DockerApi: Send + Sync {
    /// Every container (running or not) that carries compose labels.
    async fn compose_containers(&self) -> Result<Vec<ComposeContainer>, DockerError>;
    async fn container_state(&self, id: &str) -> Result<ContainerState, DockerError>;
    /// The local image, or `None` when the engine does not have it.
    async fn local_image(&self, image: &str) -> Result<Option<LocalImage>, DockerError>;
    /// The last `lines` lines of the container's output.
    async fn container_logs(&self, id: &str, lines: usize) -> Result<String, DockerError>;
}

/// The real Docker engine, on the local socket (or `DOCKER_HOST`).
pub struct EngineDocker {
    docker: bollard::Docker,
}

impl EngineDocker {
    /// Connect and agree on an API version the daemon speaks (older engines refuse a
    /// client that asks for a newer one).
    /// An engine that is down now is not fatal: Berth starts, shows services as Unknown, and
    /// the next request tries again.
    pub async fn connect() -> Result<EngineDocker, DockerError> {
        let docker =
            bollard::Docker::connect_with_local_defaults().map_err(DockerError::Connect)?;
        let docker = match docker.clone().negotiate_version().await {
            Ok(negotiated) => negotiated,
            Err(error) => {
                tracing::warn!(%error, "cannot reach the Docker engine now; will retry on each check");
                docker
            }
        };
        Ok(EngineDocker { docker })
    }

    /// The bollard client, for the other ports the real engine implements.
    pub(crate) fn client(&self) -> &bollard::Docker {
        &self.docker
    }
}

#[async_trait]
impl DockerApi for EngineDocker {
    async fn compose_containers(&self) -> Result<Vec<ComposeContainer>, DockerError> {
        let filters = HashMap::from([("label".to_owned(), vec![LABEL_PROJECT.to_owned()])]);
        let options = ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        };
        let summaries = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(DockerError::ListContainers)?;
        Ok(summaries
            .into_iter()
            .filter_map(|summary| {
                let labels = summary.labels.unwrap_or_default();
                Some(ComposeContainer {
                    id: summary.id?,
                    name: summary
                        .names
                        .and_then(|names| names.into_iter().next())
                        .map(|name| name.trim_start_matches('/').to_owned())
                        .unwrap_or_default(),
                    project: labels.get(LABEL_PROJECT)?.clone(),
                    service: labels.get(LABEL_SERVICE)?.clone(),
                    config_files: labels
                        .get(LABEL_CONFIG_FILES)
                        .map(|files| files.split(',').map(PathBuf::from).collect())
                        .unwrap_or_default(),
                    working_dir: labels.get(LABEL_WORKING_DIR).map(PathBuf::from),
                    image: summary.image.unwrap_or_default(),
                    image_id: summary.image_id.unwrap_or_default(),
                    labels,
                })
            })
            .collect())
    }

    async fn container_state(&self, id: &str) -> Result<ContainerState, DockerError> {
        let inspect = self
            .docker
            .inspect_container(id, None::<InspectContainerOptions>)
            .await
            .map_err(|source| DockerError::InspectContainer {
                id: id.to_owned(),
                source,
            })?;
        let state = inspect.state.unwrap_or_default();
        Ok(ContainerState {
            id: inspect.id.unwrap_or_else(|| id.to_owned()),
            image_id: inspect.image.unwrap_or_default(),
            status: state
                .status
                .map(|status| status.to_string())
                .unwrap_or_default(),
            running: state.running.unwrap_or(false),
            restarting: state.restarting.unwrap_or(false),
            exit_code: state.exit_code,
            health: state
                .health
                .and_then(|health| health.status)
                .map(|status| status.to_string())
                .filter(|status| !status.is_empty() && status != "none"),
            restart_count: inspect.restart_count.unwrap_or(0),
            started_at: state.started_at,
        })
    }

    async fn local_image(&self, image: &str) -> Result<Option<LocalImage>, DockerError> {
        match self.docker.inspect_image(image).await {
            Ok(inspect) => Ok(Some(LocalImage {
                id: inspect.id.unwrap_or_default(),
                repo_digests: inspect.repo_digests.unwrap_or_default(),
            })),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(source) => Err(DockerError::InspectImage {
                image: image.to_owned(),
                source,
            }),
        }
    }

    async fn container_logs(&self, id: &str, lines: usize) -> Result<String, DockerError> {
        let options = LogsOptions {
            stdout: true,
            stderr: true,
            tail: lines.to_string(),
            ..Default::default()
        };
        let mut stream = self.docker.logs(id, Some(options));
        let mut text = String::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|source| DockerError::Logs {
                id: id.to_owned(),
                source,
            })?;
            text.push_str(&chunk.to_string());
        }
        Ok(text)
    }
}
