//! N compose services pointing at the fixture's repositories, named the way the original
//! tool's env file names them: compose files of 50 services each, `COMPOSE_FILE_PATH_<P>`
//! and `DOCKERHUB_REPOSITORY_MAP_<P>` per project. Real files, read by the real discovery.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::fixture::{Fixture, Track};

const SERVICES_PER_PROJECT: usize = 50;

pub struct Services {
    pub env_file: PathBuf,
    /// (compose project, service, compose file, image) per service.
    pub services: Vec<(String, String, PathBuf, String)>,
}

/// Write compose files and an env file for the first `count` repositories under `dir`, the
/// services on the tags `track` says; `extra` lines are appended to the env file as they are.
pub fn write(
    dir: &Path,
    fixture: &Fixture,
    count: usize,
    track: Track,
    extra: &[String],
) -> Services {
    assert!(
        count <= fixture.repositories.len(),
        "{count} services but only {} repositories",
        fixture.repositories.len()
    );
    let mut env = String::new();
    let mut services = Vec::with_capacity(count);
    for (chunk, repositories) in fixture.repositories[..count]
        .chunks(SERVICES_PER_PROJECT)
        .enumerate()
    {
        let project = format!("p{chunk:02}");
        let project_dir = dir.join(&project);
        std::fs::create_dir_all(&project_dir).expect("creating a compose project folder");
        let file = project_dir.join("docker-compose.yml");
        let mut compose = String::from("services:\n");
        let mut map = Vec::new();
        for repository in repositories {
            let service = repository
                .name
                .rsplit('/')
                .next()
                .expect("a repository name")
                .to_owned();
            let _ = write!(
                compose,
                "  {service}:\n    image: {}\n    restart: unless-stopped\n",
                fixture.image(repository, track)
            );
            map.push(format!("{service}={}", repository.name));
            services.push((
                project.clone(),
                service,
                file.clone(),
                fixture.image(repository, track),
            ));
        }
        std::fs::write(&file, compose).expect("writing a compose file");
        let key = project.to_uppercase();
        let _ = writeln!(env, "COMPOSE_FILE_PATH_{key}={}", file.display());
        let _ = writeln!(env, "DOCKERHUB_REPOSITORY_MAP_{key}={}", map.join(","));
    }
    for line in extra {
        let _ = writeln!(env, "{line}");
    }
    let env_file = dir.join(".updater.env");
    std::fs::write(&env_file, env).expect("writing the env file");
    Services { env_file, services }
}
