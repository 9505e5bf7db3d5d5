//! Check cycles in process: the real engine (discovery from real compose and env files, the
//! real SQLite store, the real registry client over real HTTP to the real registry), with the
//! Docker engine replaced by a port that reports one compose container per service and the
//! local image each was pulled as (the fixture's digests), since a thousand real containers
//! cannot run here. UPDATE_MODE=notify, so nothing is deployed.

use std::collections::{BTreeMap, HashMap};
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

use crate::fixture::{Fixture, Track};
use crate::services::{self, Services};

/// One cycle's cost.
pub struct Cycle {
    pub wall: Duration,
    pub images: usize,
    pub requests: BTreeMap<RequestKind, u64>,
    pub bytes: u64,
    /// Services the cycle could not check, with the reason (a healthy fixture has none).
    pub errors: Vec<String>,
    /// CPU time spent by this process (Berth's engine and client) and by the registry.
    pub cpu: CpuTime,
}

/// CPU time (user + system) of the benchmark process and of the registry during a cycle:
/// on a 2-core machine the two share the CPUs, and the registry's share bounds the wall time.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTime {
    pub berth: Duration,
    pub registry: Duration,
}

impl CpuTime {
    fn now(registry_pid: u32) -> CpuTime {
        CpuTime {
            berth: cpu_of("self"),
            registry: cpu_of(&registry_pid.to_string()),
        }
    }

    fn since(self, before: CpuTime) -> CpuTime {
        CpuTime {
            berth: self.berth.saturating_sub(before.berth),
            registry: self.registry.saturating_sub(before.registry),
        }
    }

    /// `CPU: Berth 210 ms, registry 1630 ms`.
    pub fn describe(&self) -> String {
        format!(
            "CPU: Berth {} ms, registry {} ms",
            self.berth.as_millis(),
            self.registry.as_millis()
        )
    }
}

/// utime + stime of `/proc/<pid>/stat`, in clock ticks of 10 ms (Linux's USER_HZ).
fn cpu_of(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|field| field.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15; here, after pid and comm, at 11 and 12.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
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

/// The engine's full cycle over `count` services on the tags `track` says, cold (first
/// ever) and then again with nothing changed (store filled, connections and caches warm).
pub async fn engine_cycles(
    fixture: &Fixture,
    count: usize,
    track: Track,
    dir: &Path,
) -> (Cycle, Cycle) {
    let written = services::write(
        dir,
        fixture,
        count,
        track,
        &["UPDATE_MODE=notify".to_owned()],
    );
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
            docker: Arc::new(ComposeContainers::of(&written, fixture)),
            compose: Arc::new(NoCompose),
            registry: registries.clone(),
        },
        HealthPolicy::default(),
    );
    let mut cycles = Vec::new();
    for _ in 0..2 {
        let before = snapshot_of(&registries);
        let cpu_before = CpuTime::now(fixture.registry.pid());
        let started = Instant::now();
        let report = engine.check_all(false).await.expect("a check cycle runs");
        let wall = started.elapsed();
        let cpu = CpuTime::now(fixture.registry.pid()).since(cpu_before);
        let errors = report
            .services
            .iter()
            .filter_map(|service| match &service.action {
                Action::Error { reason } | Action::Unmanageable { reason } => {
                    Some(format!("{}/{}: {reason}", service.project, service.service))
                }
                // The fixture's local images are what the registry serves: a new digest
                // means the comparison is wrong.
                Action::NewDigest { digest, .. } => Some(format!(
                    "{}/{}: reported a new digest {digest} for an unchanged tag",
                    service.project, service.service
                )),
                _ => None,
            })
            .collect();
        cycles.push(measured(
            wall,
            count,
            &before,
            &snapshot_of(&registries),
            errors,
            cpu,
        ));
    }
    let warm = cycles.pop().expect("two cycles ran");
    let cold = cycles.pop().expect("two cycles ran");
    (cold, warm)
}

/// The registry client alone asking for the tag lists of the engine's cycle, as many at a
/// time as the registry's gate admits: how much of that cycle is the registry's.
pub async fn tag_lists_alone(fixture: &Fixture, count: usize) -> Cycle {
    let config = Config::from_sources(
        PathBuf::from("/nonexistent/.updater.env"),
        BTreeMap::new(),
        std::iter::empty(),
    )
    .expect("a configuration");
    let registries = Registries::from_config(&config).expect("registries configure");
    let images: Vec<ImageRef> = fixture.repositories[..count]
        .iter()
        .map(|repository| {
            ImageRef::parse(&fixture.image(repository, Track::Tags)).expect("an image reference")
        })
        .collect();
    let mut cycles = Vec::new();
    for _ in 0..2 {
        let before = snapshot_of(&registries);
        let cpu_before = CpuTime::now(fixture.registry.pid());
        let started = Instant::now();
        let errors: Vec<String> = futures::stream::iter(&images)
            .map(|image| {
                let registries = &registries;
                async move { registries.list_tags(image).await.err() }
            })
            .buffer_unordered(64)
            .filter_map(|error| async move { error.map(|error| error.to_string()) })
            .collect()
            .await;
        let wall = started.elapsed();
        let cpu = CpuTime::now(fixture.registry.pid()).since(cpu_before);
        cycles.push(measured(
            wall,
            count,
            &before,
            &snapshot_of(&registries),
            errors,
            cpu,
        ));
    }
    cycles.pop().expect("two cycles ran")
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
    cpu: CpuTime,
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
        cpu,
    }
}

/// The Docker port, reporting one stopped compose container per service (labels as compose
/// writes them), so discovery matches services to containers as it does on a real host, and
/// each service's image as pulled (its RepoDigest the registry's digest for the tag).
struct ComposeContainers {
    containers: Vec<ComposeContainer>,
    images: HashMap<String, LocalImage>,
}

impl ComposeContainers {
    fn of(services: &Services, fixture: &Fixture) -> ComposeContainers {
        let images = services
            .services
            .iter()
            .filter_map(|(_, _, _, image)| {
                let repo_digest = fixture.repo_digest(image)?;
                Some((
                    image.clone(),
                    LocalImage {
                        id: format!("sha256:{:064x}", image.len()),
                        repo_digests: vec![repo_digest],
                    },
                ))
            })
            .collect();
        let containers = services
            .services
            .iter()
            .enumerate()
            .map(|(index, (project, service, file, _))| ComposeContainer {
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
        ComposeContainers { containers, images }
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

    async fn local_image(&self, image: &str) -> Result<Option<LocalImage>, DockerError> {
        Ok(self.images.get(image).cloned())
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
