//! Verification after `up`: the service's container runs the expected image, is not
//! restarting, becomes healthy (when the image has a HEALTHCHECK) within the timeout,
//! answers its HTTP probe if it has one, and then stays up with no new restart for the
//! stable period. Only then is a deploy verified.

use std::time::Duration;

use tokio::time::Instant;

use crate::discovery::docker::{ContainerState, DockerApi, DockerError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthPolicy {
    /// `HEALTH_TIMEOUT`: how long a container may take to become healthy.
    pub timeout: Duration,
    /// `HEALTH_STABLE`: how long it must then stay up without a restart.
    pub stable: Duration,
    pub poll: Duration,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy {
            timeout: Duration::from_secs(60),
            stable: Duration::from_secs(10),
            poll: Duration::from_millis(500),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error(
        "no container of {project}/{service} runs image {image_id} after `up` (waited {seconds} s)"
    )]
    FindContainer {
        project: String,
        service: String,
        image_id: String,
        seconds: u64,
    },
    #[error("the container exited (code {code})")]
    Exited { code: i64 },
    #[error("the container is restarting (restart count {count})")]
    Restarting { count: i64 },
    #[error("the container turned unhealthy")]
    Unhealthy,
    #[error("the container did not become healthy within {seconds} s (health: {status})")]
    HealthTimeout { seconds: u64, status: String },
    #[error("the HTTP probe {url} did not answer 2xx within {seconds} s: {last}")]
    Probe {
        url: String,
        seconds: u64,
        last: String,
    },
    #[error("reading the container's state failed")]
    Inspect(#[source] DockerError),
}

impl HealthError {
    /// The container the failure was seen on, for its logs.
    pub fn is_container_failure(&self) -> bool {
        !matches!(
            self,
            HealthError::Inspect(_) | HealthError::FindContainer { .. }
        )
    }
}

/// The verified container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Healthy {
    pub container_id: String,
}

/// Wait until the service's container runs `image_id` and is healthy and stable.
/// On failure, the error says what was seen; `last_container` holds the container found
/// (for its logs), if any.
pub async fn verify(
    docker: &dyn DockerApi,
    project: &str,
    service: &str,
    image_id: &str,
    policy: &HealthPolicy,
    probe_url: Option<&str>,
    last_container: &mut Option<String>,
) -> Result<Healthy, HealthError> {
    let started = Instant::now();
    let container_id = loop {
        let containers = docker
            .compose_containers()
            .await
            .map_err(HealthError::Inspect)?;
        if let Some(container) = containers.iter().find(|container| {
            container.project == project
                && container.service == service
                && container.image_id == image_id
        }) {
            break container.id.clone();
        }
        if started.elapsed() >= policy.timeout {
            return Err(HealthError::FindContainer {
                project: project.to_owned(),
                service: service.to_owned(),
                image_id: image_id.to_owned(),
                seconds: policy.timeout.as_secs(),
            });
        }
        tokio::time::sleep(policy.poll).await;
    };
    *last_container = Some(container_id.clone());

    // Healthy (or simply running, without a HEALTHCHECK) within the timeout.
    let first = loop {
        let state = read(docker, &container_id).await?;
        check_running(&state)?;
        match state.health.as_deref() {
            None | Some("healthy") => break state,
            Some("unhealthy") => return Err(HealthError::Unhealthy),
            Some(status) if started.elapsed() >= policy.timeout => {
                return Err(HealthError::HealthTimeout {
                    seconds: policy.timeout.as_secs(),
                    status: status.to_owned(),
                });
            }
            Some(_) => tokio::time::sleep(policy.poll).await,
        }
    };
    if let Some(url) = probe_url {
        probe(url, policy).await?;
    }

    // Stable: no exit, no restart, no turn to unhealthy for the whole period.
    let stable_since = Instant::now();
    while stable_since.elapsed() < policy.stable {
        tokio::time::sleep(policy.poll.min(policy.stable)).await;
        let state = read(docker, &container_id).await?;
        check_running(&state)?;
        if state.restart_count > first.restart_count {
            return Err(HealthError::Restarting {
                count: state.restart_count,
            });
        }
        if state.health.as_deref() == Some("unhealthy") {
            return Err(HealthError::Unhealthy);
        }
    }
    Ok(Healthy { container_id })
}

async fn read(docker: &dyn DockerApi, id: &str) -> Result<ContainerState, HealthError> {
    docker
        .container_state(id)
        .await
        .map_err(HealthError::Inspect)
}

fn check_running(state: &ContainerState) -> Result<(), HealthError> {
    if state.restarting {
        return Err(HealthError::Restarting {
            count: state.restart_count,
        });
    }
    if !state.running {
        return Err(HealthError::Exited {
            code: state.exit_code.unwrap_or(-1),
        });
    }
    Ok(())
}

async fn probe(url: &str, policy: &HealthPolicy) -> Result<(), HealthError> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|error| HealthError::Probe {
            url: url.to_owned(),
            seconds: 0,
            last: error.to_string(),
        })?;
    let started = Instant::now();
    let mut last = String::from("no answer yet");
    while started.elapsed() < policy.timeout {
        match client.get(url).send().await {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) => last = format!("HTTP {}", response.status()),
            Err(error) => last = error.to_string(),
        }
        tokio::time::sleep(policy.poll).await;
    }
    Err(HealthError::Probe {
        url: url.to_owned(),
        seconds: policy.timeout.as_secs(),
        last,
    })
}
