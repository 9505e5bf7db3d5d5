//! The services named by the env file, in the original tool's keys:
//! `COMPOSE_FILE_PATH_<NAME>=/path/to/compose.yml` and
//! `<REG>_REPOSITORY_MAP_<NAME>=service=repo[:filter],service2=repo2`.

use std::path::PathBuf;

use crate::config::Config;

/// The registry prefixes of `<REG>_REPOSITORY_MAP_<NAME>`, as in the original tool's env file.
pub const REGISTRY_PREFIXES: [&str; 7] =
    ["ECR", "AZURE", "GCP", "DOCKERHUB", "HARBOR", "SWR", "DO"];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigMapError {
    #[error("{key}: entry {entry:?} is not service=repository[:filter]")]
    ParseEntry { key: String, entry: String },
    #[error("{key} names project {name}, but COMPOSE_FILE_PATH_{name} is not set")]
    MissingComposeFile { key: String, name: String },
}

/// One project of the env file: its compose file(s) and the services to manage in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredProject {
    /// The `<NAME>` part of the keys.
    pub name: String,
    pub compose_files: Vec<PathBuf>,
    pub services: Vec<ConfiguredService>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredService {
    pub service: String,
    pub registry: &'static str,
    pub repository: String,
    /// A tag filter for this service only (`regexp:…` or a glob), on top of `ALLOW_TAGS`.
    pub filter: Option<String>,
}

/// Read every configured project. `COMPOSE_FILE_PATH_<NAME>` may list several files
/// separated by `,` (compose's `-f` order).
pub fn configured_projects(config: &Config) -> Result<Vec<ConfiguredProject>, ConfigMapError> {
    let mut projects: Vec<ConfiguredProject> = config
        .with_prefix("COMPOSE_FILE_PATH_")
        .map(|(name, paths)| ConfiguredProject {
            name: name.to_owned(),
            compose_files: paths
                .split(',')
                .map(str::trim)
                .filter(|path| !path.is_empty())
                .map(PathBuf::from)
                .collect(),
            services: Vec::new(),
        })
        .collect();
    for registry in REGISTRY_PREFIXES {
        let prefix = format!("{registry}_REPOSITORY_MAP_");
        for (name, map) in config.with_prefix(&prefix) {
            let key = format!("{prefix}{name}");
            let Some(project) = projects.iter_mut().find(|project| project.name == name) else {
                return Err(ConfigMapError::MissingComposeFile {
                    key,
                    name: name.to_owned(),
                });
            };
            for entry in map
                .split(',')
                .map(str::trim)
                .filter(|entry| !entry.is_empty())
            {
                project.services.push(parse_entry(&key, registry, entry)?);
            }
        }
    }
    Ok(projects)
}

fn parse_entry(
    key: &str,
    registry: &'static str,
    entry: &str,
) -> Result<ConfiguredService, ConfigMapError> {
    let error = || ConfigMapError::ParseEntry {
        key: key.to_owned(),
        entry: entry.to_owned(),
    };
    let (service, target) = entry.split_once('=').ok_or_else(error)?;
    let (repository, filter) = match target.split_once(':') {
        Some((repository, filter)) => (repository, Some(filter.to_owned())),
        None => (target, None),
    };
    if service.trim().is_empty() || repository.trim().is_empty() {
        return Err(error());
    }
    Ok(ConfiguredService {
        service: service.trim().to_owned(),
        registry,
        repository: repository.trim().to_owned(),
        filter: filter.filter(|filter| !filter.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        let values = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_sources(PathBuf::from(".updater.env"), values, []).unwrap()
    }

    #[test]
    fn reads_the_original_tools_keys() {
        let config = config(&[
            ("COMPOSE_FILE_PATH_SHOP", "/srv/shop/docker-compose.yml"),
            (
                "ECR_REPOSITORY_MAP_SHOP",
                "web=shop-web,api=shop-api:regexp:^v\\d+",
            ),
            ("DOCKERHUB_REPOSITORY_MAP_SHOP", "cache=library/redis"),
        ]);
        let projects = configured_projects(&config).unwrap();
        assert_eq!(projects.len(), 1);
        let shop = &projects[0];
        assert_eq!(
            shop.compose_files,
            [PathBuf::from("/srv/shop/docker-compose.yml")]
        );
        let summary: Vec<_> = shop
            .services
            .iter()
            .map(|s| {
                (
                    s.service.as_str(),
                    s.registry,
                    s.repository.as_str(),
                    s.filter.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("web", "ECR", "shop-web", None),
                ("api", "ECR", "shop-api", Some("regexp:^v\\d+")),
                ("cache", "DOCKERHUB", "library/redis", None),
            ]
        );
    }

    #[test]
    fn names_the_key_of_a_bad_entry() {
        let error = configured_projects(&config(&[
            ("COMPOSE_FILE_PATH_A", "a.yml"),
            ("HARBOR_REPOSITORY_MAP_A", "web"),
        ]))
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "HARBOR_REPOSITORY_MAP_A: entry \"web\" is not service=repository[:filter]"
        );
        let error = configured_projects(&config(&[("DO_REPOSITORY_MAP_B", "web=x")])).unwrap_err();
        assert!(
            error.to_string().contains("COMPOSE_FILE_PATH_B is not set"),
            "{error}"
        );
    }
}
