//! Discovery: which compose services exist, where their compose files are, and what they run.
//!
//! Two sources, merged: the env file (`COMPOSE_FILE_PATH_<NAME>` with
//! `<REG>_REPOSITORY_MAP_<NAME>`, the original tool's contract) and the compose labels of
//! the containers the Docker engine runs. A project named in the env file manages exactly the
//! services its map lists; a project seen only through labels is managed whole, unless a
//! container says `berth.enable=false`. A service Berth can see but cannot manage (its
//! compose file is not readable from here, say) is kept with the reason, never dropped.

pub mod compose_file;
pub mod config_map;
pub mod docker;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use compose_file::ComposeProject;
use config_map::ConfigMapError;
use docker::{ComposeContainer, DockerApi, DockerError};

use crate::config::Config;

/// Labels a compose service can carry to steer Berth.
pub const LABEL_ENABLE: &str = "berth.enable";
pub const LABEL_MODE: &str = "berth.mode";
pub const LABEL_PROBE_HTTP: &str = "berth.probe.http";

#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("the env file's service map is invalid")]
    ReadConfigMap(#[from] ConfigMapError),
    #[error("cannot list the Docker engine's containers")]
    ListContainers(#[source] DockerError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Named in the env file.
    Config,
    /// Seen only through a running container's compose labels.
    Labels,
}

/// One compose service, as discovery found it.
#[derive(Debug, Clone)]
pub struct DiscoveredService {
    pub project: String,
    pub service: String,
    pub compose: ComposeProject,
    pub source: Source,
    /// A tag filter from the service map (`repo:filter`).
    pub filter: Option<String>,
    /// `berth.mode` from the container's labels, overriding `UPDATE_MODE`.
    pub mode: Option<String>,
    pub probe_http: Option<String>,
    /// The service's current container, if one exists.
    pub container: Option<ComposeContainer>,
    /// Why Berth cannot manage it, when it cannot.
    pub unmanageable: Option<String>,
}

/// Discover every service from the configuration and (unless `DISCOVER_FROM_LABELS=false`)
/// the engine's containers.
pub async fn discover(
    config: &Config,
    docker: &dyn DockerApi,
) -> Result<Vec<DiscoveredService>, DiscoveryError> {
    let configured = config_map::configured_projects(config)?;
    let containers = docker
        .compose_containers()
        .await
        .map_err(DiscoveryError::ListContainers)?;
    let mut found: BTreeMap<(String, String), DiscoveredService> = BTreeMap::new();

    for project in &configured {
        let name = project_name(&project.compose_files, &containers);
        let compose = ComposeProject::new(project.compose_files.clone());
        let unreadable = first_unreadable(&project.compose_files);
        for entry in &project.services {
            let container = find_container(&containers, &name, &entry.service);
            found.insert(
                (name.clone(), entry.service.clone()),
                DiscoveredService {
                    project: name.clone(),
                    service: entry.service.clone(),
                    compose: compose.clone(),
                    source: Source::Config,
                    filter: entry.filter.clone(),
                    mode: container.and_then(|c| c.labels.get(LABEL_MODE).cloned()),
                    probe_http: container.and_then(|c| c.labels.get(LABEL_PROBE_HTTP).cloned()),
                    container: container.cloned(),
                    unmanageable: unreadable.clone(),
                },
            );
        }
    }

    let from_labels = config
        .get("DISCOVER_FROM_LABELS")
        .is_none_or(|value| value != "false");
    let configured_names: Vec<String> = configured
        .iter()
        .map(|project| project_name(&project.compose_files, &containers))
        .collect();
    for container in containers.iter().filter(|_| from_labels) {
        let key = (container.project.clone(), container.service.clone());
        if found.contains_key(&key) || configured_names.contains(&container.project) {
            continue;
        }
        if container
            .labels
            .get(LABEL_ENABLE)
            .is_some_and(|value| value == "false")
        {
            continue;
        }
        let mut compose = ComposeProject::new(container.config_files.clone());
        if let Some(dir) = &container.working_dir {
            compose = compose.with_project_dir(dir);
        }
        let unmanageable = if container.config_files.is_empty() {
            Some("the container's labels name no compose file".to_owned())
        } else {
            first_unreadable(&container.config_files)
        };
        found.insert(
            key,
            DiscoveredService {
                project: container.project.clone(),
                service: container.service.clone(),
                compose,
                source: Source::Labels,
                filter: None,
                mode: container.labels.get(LABEL_MODE).cloned(),
                probe_http: container.labels.get(LABEL_PROBE_HTTP).cloned(),
                container: Some(container.clone()),
                unmanageable,
            },
        );
    }
    Ok(found.into_values().collect())
}

/// The compose project name: that of a container created from these files, else what
/// compose itself would derive (`COMPOSE_PROJECT_NAME` in `.env`, else the folder's name).
fn project_name(files: &[PathBuf], containers: &[ComposeContainer]) -> String {
    let canonical: Vec<PathBuf> = files
        .iter()
        .filter_map(|file| file.canonicalize().ok())
        .collect();
    if let Some(container) = containers.iter().find(|container| {
        container
            .config_files
            .iter()
            .any(|file| canonical.contains(file) || files.contains(file))
    }) {
        return container.project.clone();
    }
    let folder = files
        .first()
        .and_then(|file| file.canonicalize().ok().or_else(|| Some(file.clone())))
        .and_then(|file| file.parent().map(Path::to_owned))
        .unwrap_or_else(|| PathBuf::from("."));
    let from_dotenv = std::fs::read_to_string(folder.join(".env"))
        .ok()
        .and_then(|env| crate::config::env_file::parse(&env).ok())
        .and_then(|values| values.get("COMPOSE_PROJECT_NAME").cloned());
    if let Some(name) = from_dotenv {
        return normalize_project_name(&name);
    }
    normalize_project_name(
        &folder
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default(),
    )
}

/// Compose's rule: lower case, only `a-z0-9_-`, starting with a letter or digit.
pub fn normalize_project_name(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .skip_while(|c| !c.is_ascii_alphanumeric())
        .collect()
}

fn find_container<'c>(
    containers: &'c [ComposeContainer],
    project: &str,
    service: &str,
) -> Option<&'c ComposeContainer> {
    containers
        .iter()
        .find(|container| container.project == project && container.service == service)
}

fn first_unreadable(files: &[PathBuf]) -> Option<String> {
    files.iter().find_map(|file| {
        std::fs::metadata(file)
            .and_then(|_| std::fs::File::open(file))
            .err()
            .map(|error| {
                format!(
                    "compose file {} is not readable from where Berth runs: {error}",
                    file.display()
                )
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_follow_compose() {
        assert_eq!(normalize_project_name("My Shop.v2"), "myshopv2");
        assert_eq!(normalize_project_name("_tmp-App"), "tmp-app");
    }
}
