//! A compose project on the real Docker engine, fed by a real registry, with an engine built
//! on the real adapters. Dropping it takes the project down (containers and network).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use berth::clock::SystemClock;
use berth::config::Config;
use berth::deploy::compose::ComposeCli;
use berth::deploy::health::HealthPolicy;
use berth::deploy::scanning::Scanning;
use berth::discovery::docker::{DockerApi, EngineDocker};
use berth::engine::{Adapters, Engine};
use berth::events::EventBus;
use berth::registry::Registries;
use berth::store::Store;
use testkit::{Component, ImageSpec, Registry, require};

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/deploy");

/// The components every deploy test needs; `false` means skip (outside CI only).
pub fn components_present() -> bool {
    require(&[
        Component::Docker,
        Component::Compose,
        Component::DockerRegistry,
        Component::Skopeo,
        Component::BusyboxStatic,
    ])
}

pub struct Project {
    pub name: String,
    pub dir: tempfile::TempDir,
    pub compose_file: PathBuf,
}

impl Project {
    /// Write `compose` (with `{registry}` filled in) as `compose.yml` in a new folder.
    pub fn new(label: &str, compose: &str, registry: &str) -> Project {
        let dir = tempfile::Builder::new()
            .prefix(&format!("berth-{label}-"))
            .tempdir()
            .unwrap();
        let compose_file = dir.path().join("compose.yml");
        std::fs::write(&compose_file, compose.replace("{registry}", registry)).unwrap();
        Project {
            name: format!("berthit{}{}", label.replace('-', ""), std::process::id()),
            dir,
            compose_file,
        }
    }

    pub fn compose(&self, args: &[&str]) -> std::process::Output {
        Command::new("docker")
            .args(["compose", "-p", &self.name, "-f"])
            .arg(&self.compose_file)
            .args(args)
            .output()
            .expect("running docker compose")
    }

    pub fn up(&self) {
        let output = self.compose(&["up", "-d", "--quiet-pull"]);
        assert!(
            output.status.success(),
            "compose up failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = self.compose(&["down", "--remove-orphans", "--timeout", "1"]);
    }
}

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap()
}

/// Push `tag` of `team/app` with a marker of its own.
pub fn push(registry: &Registry, tag: &str) {
    registry.push_image("team/app", tag, &ImageSpec::new(format!("app {tag}")));
}

/// An engine on the real Docker engine, compose CLI and registry client, reading `env_file`,
/// with its database in `dir`.
pub async fn engine(env_file: &Path, dir: &Path) -> (Engine, Store) {
    let config = Config::load(Some(env_file)).unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.join("berth.db").display()))
        .await
        .unwrap();
    let adapters = Adapters {
        docker: Arc::new(EngineDocker::connect().await.unwrap()),
        compose: Arc::new(ComposeCli::detect().await.unwrap()),
        registry: Arc::new(Registries::from_config(&config).unwrap()),
    };
    let health = HealthPolicy {
        timeout: config.engine.health_timeout,
        stable: config.engine.health_stable,
        poll: std::time::Duration::from_millis(200),
    };
    let engine = Engine::new(
        store.clone(),
        EventBus::default(),
        Arc::new(SystemClock),
        Some(env_file.to_owned()),
        adapters,
        health,
    );
    let engine = match Scanning::from_config(&config).unwrap() {
        Some(scanning) => engine.with_scanning(scanning),
        None => engine,
    };
    (engine, store)
}

/// The image id the service's container runs, and the local id of `image`.
pub async fn running_and_expected(project: &str, service: &str, image: &str) -> (String, String) {
    let docker = EngineDocker::connect().await.unwrap();
    let containers = docker.compose_containers().await.unwrap();
    let running = containers
        .iter()
        .find(|c| c.project == project && c.service == service)
        .map(|c| c.image_id.clone())
        .unwrap_or_default();
    let expected = docker
        .local_image(image)
        .await
        .unwrap()
        .map(|image| image.id)
        .unwrap_or_default();
    (running, expected)
}

/// The env file for one project managed through the original tool's keys.
pub fn env_file(dir: &Path, project_key: &str, compose_file: &Path, extra: &str) -> PathBuf {
    let path = dir.join(".updater.env");
    std::fs::write(
        &path,
        format!(
            "COMPOSE_FILE_PATH_{project_key}={}\n\
             DOCKERHUB_REPOSITORY_MAP_{project_key}=app=team/app\n\
             DISCOVER_FROM_LABELS=false\n\
             HEALTH_TIMEOUT=30\n\
             HEALTH_STABLE=2\n\
             {extra}",
            compose_file.display()
        ),
    )
    .unwrap();
    path
}

/// The action a cycle took for `service`.
pub fn action_of<'r>(
    report: &'r berth::engine::CycleReport,
    service: &str,
) -> &'r berth::engine::Action {
    &report
        .services
        .iter()
        .find(|s| s.service == service)
        .unwrap_or_else(|| panic!("{service} not in the report: {report:#?}"))
        .action
}

/// Everything the store holds about services and revisions, as text, to compare before and
/// after.
pub async fn store_dump(store: &Store) -> String {
    let mut dump = String::new();
    for service in store.service_records().await.unwrap() {
        dump.push_str(&format!("{service:?}\n"));
        for revision in store.revisions(service.id).await.unwrap() {
            dump.push_str(&format!("{revision:?}\n"));
        }
    }
    dump
}
