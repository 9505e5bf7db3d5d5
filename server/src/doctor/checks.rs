//! The checks that reach outside the env file: compose files and their services, each
//! registry's login, the Docker engine, the compose CLI, Trivy. Each runs under the
//! caller's time limit, so a dead registry or a hung daemon becomes a FAIL line instead of
//! a doctor that never returns.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::time::Duration;

use futures::future::join_all;

use super::Finding;
use crate::deploy::compose::ComposeCli;
use crate::deploy::login_folder::{LoginFolder, host_docker_config};
use crate::discovery::compose_file::{self, ComposeFileError, ComposeProject, ServiceImage};
use crate::discovery::config_map::{ConfiguredProject, ConfiguredService};
use crate::discovery::docker::{DockerApi, EngineDocker};
use crate::registry::error::error_chain;
use crate::registry::{Cause, ImageRef, Registries, RegistryApi, RegistryError};
use crate::scan::trivy::TrivyScanner;
use crate::scan::{Availability, ScanConfig, Scanner};

/// Run `check`, or say how long it was given when it did not finish.
async fn within<T>(limit: Duration, check: impl Future<Output = T>) -> Result<T, String> {
    tokio::time::timeout(limit, check)
        .await
        .map_err(|_| format!("no answer within {} s", limit.as_secs_f32()))
}

/// Compose files, then the services mapped in them, then one login per registry those
/// services' images come from.
pub async fn projects(
    projects: &[ConfiguredProject],
    registries: Option<&Registries>,
    limit: Duration,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    // One repository per registry host is enough to tell whether the login works.
    let mut login_probes: BTreeMap<String, ImageRef> = BTreeMap::new();
    for project in projects {
        let key = format!("COMPOSE_FILE_PATH_{}", project.name);
        let mut readable = !project.compose_files.is_empty();
        if project.compose_files.is_empty() {
            findings.push(Finding::fail(&key, "names no compose file"));
        }
        for file in &project.compose_files {
            let finding = compose_file_finding(file, &key, limit).await;
            readable &= finding.passed();
            findings.push(finding);
        }
        let compose = ComposeProject::new(project.compose_files.clone());
        for service in &project.services {
            let subject = format!("service {}/{}", project.name, service.service);
            if !readable {
                findings.push(Finding::warn(
                    subject,
                    "not checked: its compose file could not be read",
                ));
                continue;
            }
            let (finding, image) = service_finding(&compose, service, subject, limit).await;
            findings.push(finding);
            if let Some(image) = image {
                login_probes.entry(image.registry.clone()).or_insert(image);
            }
        }
    }
    if let Some(registries) = registries {
        let logins = login_probes.values().map(|image| async move {
            let login = registry_login(registries, image, limit).await;
            if !login.passed() {
                return vec![login];
            }
            vec![login, pull_check(registries, image, limit).await]
        });
        findings.extend(join_all(logins).await.into_iter().flatten());
    }
    findings
}

/// Fetch the image's manifest as compose's pull will (the docker CLI, with exactly the login
/// Berth hands compose, or the host's own when Berth has none for the registry), without
/// pulling a layer.
async fn pull_check(registries: &Registries, image: &ImageRef, limit: Duration) -> Finding {
    let subject = format!("pull {image}");
    let login = match within(limit, registries.pull_login(image)).await {
        Ok(Ok(login)) => login,
        Ok(Err(error)) => return Finding::fail(subject, error_chain(&error)),
        Err(timeout) => return Finding::fail(subject, timeout),
    };
    let folder = match login
        .as_ref()
        .map(|login| LoginFolder::create(login, &host_docker_config()))
        .transpose()
    {
        Ok(folder) => folder,
        Err(error) => return Finding::fail(subject, error_chain(&error)),
    };
    let mut command = tokio::process::Command::new("docker");
    if let Some(folder) = &folder {
        command.env("DOCKER_CONFIG", folder.path());
    }
    command.args(["manifest", "inspect"]);
    if registries.uses_plain_http(&image.registry) {
        command.arg("--insecure");
    }
    command.arg(image.to_string()).kill_on_drop(true);
    let whose = if folder.is_some() {
        "Berth's login"
    } else {
        "the host's docker login"
    };
    match within(limit, command.output()).await {
        Ok(Ok(output)) if output.status.success() => Finding::ok(
            subject,
            format!("compose can pull it with {whose} (its manifest was fetched)"),
        ),
        Ok(Ok(output)) => Finding::fail(
            subject,
            format!(
                "compose could not pull it with {whose}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        ),
        Ok(Err(error)) => Finding::fail(subject, format!("cannot run the docker CLI: {error}")),
        Err(timeout) => Finding::fail(subject, timeout),
    }
}

async fn compose_file_finding(file: &Path, key: &str, limit: Duration) -> Finding {
    let subject = format!("compose file {}", file.display());
    let path = file.to_owned();
    let parsed = within(
        limit,
        tokio::task::spawn_blocking(move || compose_file::check_compose_file(&path)),
    )
    .await;
    match parsed {
        Ok(Ok(Ok(()))) => Finding::ok(subject, format!("parsed, has services ({key})")),
        Ok(Ok(Err(error))) => {
            Finding::fail(subject, format!("{} ({key})", compose_problem(&error)))
        }
        Ok(Err(join_error)) => Finding::fail(subject, format!("the check stopped: {join_error}")),
        Err(timeout) => Finding::fail(subject, timeout),
    }
}

/// A missing file said plainly; anything else with its whole cause chain.
fn compose_problem(error: &ComposeFileError) -> String {
    match error {
        ComposeFileError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            "does not exist".to_owned()
        }
        other => error_chain(other),
    }
}

/// The service exists in its compose files and names a valid image reference.
async fn service_finding(
    compose: &ComposeProject,
    service: &ConfiguredService,
    subject: String,
    limit: Duration,
) -> (Finding, Option<ImageRef>) {
    let (compose, name) = (compose.clone(), service.service.clone());
    let read = within(
        limit,
        tokio::task::spawn_blocking(move || compose_file::read_service_image(&compose, &name)),
    )
    .await;
    let image: ServiceImage = match read {
        Ok(Ok(Ok(image))) => image,
        Ok(Ok(Err(error))) => return (Finding::fail(subject, error_chain(&error)), None),
        Ok(Err(join_error)) => {
            return (
                Finding::fail(subject, format!("the check stopped: {join_error}")),
                None,
            );
        }
        Err(timeout) => return (Finding::fail(subject, timeout), None),
    };
    let reference = match ImageRef::parse(&image.resolved) {
        Ok(reference) => reference,
        Err(error) => {
            let detail = format!(
                "image {:?} is not a valid reference: {error}",
                image.resolved
            );
            return (Finding::fail(subject, detail), None);
        }
    };
    let origin = image.file.file_name().map_or_else(
        || image.file.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    let detail = format!("image {} (in {origin})", image.resolved);
    let finding = if let Some(refusal) = &image.blocked {
        Finding::warn(
            subject,
            format!("{detail}, but Berth cannot change it: {refusal}"),
        )
    } else if !reference.repository.ends_with(&service.repository) {
        Finding::warn(
            subject,
            format!(
                "{detail}, but its {}_REPOSITORY_MAP entry names repository {}",
                service.registry, service.repository
            ),
        )
    } else {
        Finding::ok(subject, detail)
    };
    (finding, Some(reference))
}

/// List the tags of one repository: the cheapest request that needs a working login.
async fn registry_login(registries: &Registries, image: &ImageRef, limit: Duration) -> Finding {
    let subject = format!("registry {}", image.registry);
    let client = registries.client(&image.registry);
    let provider = client.provider().name();
    match within(limit, client.list_tags(image)).await {
        Ok(Ok(tags)) => Finding::ok(
            subject,
            format!(
                "{provider}: logged in; {} has {} tag(s)",
                image.repository,
                tags.len()
            ),
        ),
        Ok(Err(error)) => login_failure(subject, &error, image),
        Err(timeout) => Finding::fail(subject, format!("{provider}: {timeout}")),
    }
}

fn login_failure(subject: String, error: &RegistryError, image: &ImageRef) -> Finding {
    let provider = error.provider;
    match &error.cause {
        Cause::BadCredentials { status } => Finding::fail(
            subject,
            format!(
                "{provider}: bad credentials: the registry refused them (HTTP {status}) listing tags of {}; check {}",
                image.repository,
                credential_keys(provider)
            ),
        ),
        Cause::Credentials { source } => Finding::fail(
            subject,
            format!(
                "{provider}: cannot get credentials: {}",
                error_chain(source)
            ),
        ),
        Cause::NotFound => Finding::warn(
            subject,
            format!(
                "{provider}: logged in, but repository {} was not found",
                image.repository
            ),
        ),
        other => Finding::fail(
            subject,
            format!("{provider}: {}: {}", error.operation, error_chain(other)),
        ),
    }
}

/// Where the refused credentials came from, by provider name (registry/auth/*).
fn credential_keys(provider: &str) -> &'static str {
    match provider {
        "Harbor" => "HARBOR_USERNAME and HARBOR_PASSWORD",
        "Docker Hub" => "DOCKERHUB_USERNAME and DOCKERHUB_PASSWORD or DOCKERHUB_TOKEN",
        "Azure ACR" => "AZURE_USERNAME/AZURE_PASSWORD or AZURE_CLIENT_ID/AZURE_CLIENT_SECRET",
        "Huawei SWR" => "SWR_ACCESS_KEY/SWR_SECRET_KEY or SWR_USERNAME/SWR_LOGIN_KEY",
        "DigitalOcean DOCR" => "DO_TOKEN",
        "GHCR" => "GHCR_TOKEN",
        "GCP" => "GCP_ACCESS_TOKEN or GCP_SERVICE_ACCOUNT_JSON",
        "AWS ECR" => "the AWS keys (AWS_ROLE_ARN or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)",
        _ => {
            "the docker login for this registry (DOCKER_CONFIG, config.json or its credential helper)"
        }
    }
}

pub async fn docker_engine(limit: Duration) -> Finding {
    let subject = "docker engine";
    let listed = within(limit, async {
        let docker = EngineDocker::connect().await?;
        docker.compose_containers().await
    })
    .await;
    match listed {
        Ok(Ok(containers)) => Finding::ok(
            subject,
            format!("reachable; {} compose container(s)", containers.len()),
        ),
        Ok(Err(error)) => Finding::fail(subject, error_chain(&error)),
        Err(timeout) => Finding::fail(subject, timeout),
    }
}

pub async fn compose_cli(limit: Duration) -> Finding {
    let subject = "compose CLI";
    match within(limit, ComposeCli::detect()).await {
        Ok(Ok(_)) => Finding::ok(subject, "`docker compose` or `docker-compose` runs"),
        Ok(Err(error)) => Finding::fail(subject, error_chain(&error)),
        Err(timeout) => Finding::fail(subject, timeout),
    }
}

/// Trivy missing fails only when the configuration asks for scans; otherwise it warns
/// that on-demand scans will not work.
pub fn trivy(config: &ScanConfig) -> Finding {
    let subject = "trivy";
    let scanner = TrivyScanner::new(config.clone());
    let wanted = config.scan_after_deploy || config.gate.is_some();
    match (scanner.availability(), scanner.locate_binary()) {
        (Availability::Available, Ok(path)) => {
            Finding::ok(subject, format!("found at {}", path.display()))
        }
        (Availability::Available, Err(_)) => Finding::ok(subject, "available"),
        (Availability::Unavailable { reason }, _) if wanted => Finding::fail(
            subject,
            format!("{reason}; TRIVY_ENABLED or SCAN_GATE asks for scans"),
        ),
        (Availability::Unavailable { reason }, _) => Finding::warn(
            subject,
            format!("{reason}; scans are off, so nothing depends on it"),
        ),
    }
}
