//! Check cycles in process: the real engine (discovery from real compose and env files, the
//! real SQLite store, the real registry client over real HTTP to the real registry), with the
//! Docker engine replaced by a port that reports one compose container per service, since
//! a thousand real containers cannot run here. UPDATE_MODE=notify, so nothing is deployed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use berth::clock::SystemClock;
use berth::config::Config;
use berth::deploy::compose::{CommandLog, ComposeApi, ComposeError, ComposeTarget};
use berth::deploy::health::HealthPolicy;
use berth::discovery::docker::{
    ComposeContainer, ContainerState, DockerApi, DockerError, LABEL_CONFIG_FILES, LABEL_PROJECT,
    LABEL_SERVICE, LocalImage,
};
use berth::engine::{Action, Adapters, Engine};
use berth::events::EventBus;
use berth::registry::{ImageRef, Registries, RegistryApi, RegistryStats, RequestKind};
use berth::store::Store;
use futures::StreamExt;

use crate::fixture::Fixture;
use crate::services::{self, Services};

/// One cycle's cost.
pub struct Cycle {
    pub wall: Duration,
    pub images: usize,
    pub requests: BTreeMap<RequestKind, u64>,
    pub bytes: u64,
    /// Services the cycle could not check, with the reason (a healthy fixture has none).
    pub errors: Vec<String>,
}

impl Cycle {
    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }

    pub fn per_image(&self) -> f64 {
        self.total_requests() as f64 / self.images.max(1) as f64
    }

    /// `tag_list 1.00, manifest_head 0.00, …`: only the kinds that were sent.
    pub fn breakdown(&self) -> String {
        let parts: Vec<String> = self
            .requests
            .iter()
            .filter(|(_, count)| **count > 0)
            .map(|(kind, count)| {
                format!(
                    "{} {:.2}",
                    kind.as_str(),
                    *count as f64 / self.images.max(1) as f64
                )
            })
            .collect();
        if parts.is_empty() {
            "no requests".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// The engine's full cycle over `count` services, cold (first ever) and then again with
/// nothing changed (store filled, connections and caches warm).
pub async fn engine_cycles(fixture: &Fixture, count: usize, dir: &Path) -> (Cycle, Cycle) {
    let written = services::write(dir, fixture, count, &["UPDATE_MODE=notify".to_owned()]);
    let config = Config::load(Some(&written.env_file)).expect("the benchmark's env file loads");
    let registries = Arc::new(Registries::from_config(&config).expect("registries configure"));
    let store = Store::open(&format!("sqlite://{}", dir.join("berth.db").display()))
        .await
        .expect("the store opens");
    let engine = Engine::new(
        store,
        EventBus::default(),
        Arc::new(SystemClock),
        Some(written.env_file.clone()),
        Adapters {
            docker: Arc::new(ComposeContainers::of(&written)),
            compose: Arc::new(NoCompose),
            registry: registries.clone(),
        },
        HealthPolicy::default(),
    );
    let mut cycles = Vec::new();
    for _ in 0..2 {
        let before = snapshot_of(&registries);
        let started = Instant::now();
        let report = engine.check_all(false).await.expect("a check cycle runs");
        let wall = started.elapsed();
        let errors = report
            .services
            .iter()
            .filter_map(|service| match &service.action {
                Action::Error { reason } | Action::Unmanageable { reason } => {
                    Some(format!("{}/{}: {reason}", service.project, service.service))
                }
                _ => None,
            })
            .collect();
        cycles.push(measured(
            wall,
            count,
            &before,
            &snapshot_of(&registries),
            errors,
        ));
    }
    let warm = cycles.pop().expect("two cycles ran");
    let cold = cycles.pop().expect("two cycles ran");
    (cold, warm)
}

/// What a registry-only pass asks about each image.
#[derive(Debug, Clone, Copy)]
pub enum Ask {
    /// `resolve_digest`: a HEAD, and an index fetched once per index digest.
    Digest,
    /// `list_tags`: what the engine asks, without the engine around it.
    Tags,
}

/// The registry client alone, 8 images at a time as the engine asks: digest tracking (which
/// the engine does not do yet), or the tag lists of the engine's cycle without the engine,
/// which shows how much of that cycle is the registry's.
pub async fn registry_cycles(fixture: &Fixture, count: usize, ask: Ask) -> (Cycle, Cycle) {
    let config = Config::from_sources(
        PathBuf::from("/nonexistent/.updater.env"),
        BTreeMap::from([("REGISTRY_PLATFORM".to_owned(), "linux/amd64".to_owned())]),
        std::iter::empty(),
    )
    .expect("a configuration");
    let registries = Registries::from_config(&config).expect("registries configure");
    let images: Vec<ImageRef> = fixture.repositories[..count]
        .iter()
        .map(|repository| ImageRef::parse(&fixture.image(repository)).expect("an image reference"))
        .collect();
    let mut cycles = Vec::new();
    for _ in 0..2 {
        let before = snapshot_of(&registries);
        let started = Instant::now();
        let errors: Vec<String> = futures::stream::iter(&images)
            .map(|image| {
                let registries = &registries;
                async move {
                    match ask {
                        Ask::Digest => registries.resolve_digest(image).await.err(),
                        Ask::Tags => registries.list_tags(image).await.err(),
                    }
                }
            })
            .buffer_unordered(8)
            .filter_map(|error| async move { error.map(|error| error.to_string()) })
            .collect()
            .await;
        let wall = started.elapsed();
        cycles.push(measured(
            wall,
            count,
            &before,
            &snapshot_of(&registries),
            errors,
        ));
    }
    let warm = cycles.pop().expect("two cycles ran");
    let cold = cycles.pop().expect("two cycles ran");
    (cold, warm)
}

/// The benchmark talks to one registry: its stats, or nothing yet.
fn snapshot_of(registries: &Registries) -> RegistryStats {
    RegistryApi::status(registries)
        .into_iter()
        .next()
        .map(|status| status.stats)
        .unwrap_or_default()
}

fn measured(
    wall: Duration,
    images: usize,
    before: &RegistryStats,
    after: &RegistryStats,
    errors: Vec<String>,
) -> Cycle {
    let kinds = [
        RequestKind::Token,
        RequestKind::ManifestHead,
        RequestKind::ManifestGet,
        RequestKind::TagList,
        RequestKind::Blob,
        RequestKind::VendorApi,
    ];
    Cycle {
        wall,
        images,
        requests: kinds
            .into_iter()
            .map(|kind| (kind, after.count(kind) - before.count(kind)))
            .collect(),
        bytes: after.bytes_received - before.bytes_received,
        errors,
    }
}

/// The Docker port, reporting one stopped compose container per service (labels as compose
/// writes them), so discovery matches services to containers as it does on a real host.
struct ComposeContainers {
    containers: Vec<ComposeContainer>,
}

impl ComposeContainers {
    fn of(services: &Services) -> ComposeContainers {
        let containers = services
            .services
            .iter()
            .enumerate()
            .map(|(index, (project, service, file))| ComposeContainer {
                id: format!("{index:064x}"),
                name: format!("{project}-{service}-1"),
                project: project.clone(),
                service: service.clone(),
                config_files: vec![file.clone()],
                working_dir: file.parent().map(Path::to_owned),
                image: String::new(),
                image_id: String::new(),
                labels: [
                    (LABEL_PROJECT, project.as_str()),
                    (LABEL_SERVICE, service.as_str()),
                    (LABEL_CONFIG_FILES, &file.display().to_string()),
                ]
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value.to_owned()))
                .collect(),
            })
            .collect();
        ComposeContainers { containers }
    }
}

#[async_trait]
impl DockerApi for ComposeContainers {
    async fn compose_containers(&self) -> Result<Vec<ComposeContainer>, DockerError> {
        Ok(self.containers.clone())
    }

    async fn container_state(&self, id: &str) -> Result<ContainerState, DockerError> {
        Ok(ContainerState {
            id: id.to_owned(),
            image_id: String::new(),
            status: "exited".to_owned(),
            running: false,
            restarting: false,
            exit_code: Some(0),
            health: None,
            restart_count: 0,
            started_at: None,
        })
    }

    async fn local_image(&self, _image: &str) -> Result<Option<LocalImage>, DockerError> {
        Ok(None)
    }

    async fn container_logs(&self, _id: &str, _lines: usize) -> Result<String, DockerError> {
        Ok(String::new())
    }
}

/// Notify mode never deploys; if it ever did, the benchmark must not touch real projects.
struct NoCompose;

#[async_trait]
impl ComposeApi for NoCompose {
    async fn pull(
        &self,
        _target: &ComposeTarget,
        _service: &str,
    ) -> Result<CommandLog, ComposeError> {
        Err(ComposeError::Detect)
    }

    async fn up(
        &self,
        _target: &ComposeTarget,
        _service: &str,
        _force_recreate: bool,
    ) -> Result<CommandLog, ComposeError> {
        Err(ComposeError::Detect)
    }
}
