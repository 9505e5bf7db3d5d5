//! Deploys from registries that want credentials, with the credentials only in the env file:
//! the host's docker config has no login to them, so compose and Trivy can only pull with the
//! login Berth hands them. Basic auth (htpasswd), token auth (a test issuer whose JWTs the
//! registry verifies), and an ECR login made by `berth-credential-helper` against moto.

use std::process::Command;

use berth::deploy::login_folder::{LoginFolder, host_docker_config};
use berth::engine::Action;
use berth::registry::{Credentials, RegistryLogin, Secret};
use testkit::moto::Moto;
use testkit::{Component, ImageSpec, OciLayout, Registry, require};

use crate::deploy::harness::{Project, components_present, engine, running_and_expected};
use crate::registry::credential_helper;
use crate::registry::real_registry_auth::{PASSWORD, TokenIssuer, USER};

const COMPOSE: &str =
    "services:\n  app:\n    image: {registry}/team/app:1.0.0\n    restart: \"no\"\n";

fn push(registry: &Registry, tag: &str, user: &str, password: &str) {
    let mut layout = OciLayout::new();
    layout.add_image(tag, &ImageSpec::new(format!("private app {tag}")));
    // skopeo blocks; a token issuer in this process needs the runtime meanwhile.
    tokio::task::block_in_place(|| {
        registry.push_layout_as(&layout, tag, "team/app", &format!("{user}:{password}"));
    });
}

/// Start the project with a login of the test's own (never the host's docker config, which
/// must stay without one), then show that the host's docker config cannot pull from it.
fn up_with_private_login(project: &Project, registry: &Registry, user: &str, password: &str) {
    let login = RegistryLogin {
        registry: registry.host(),
        credentials: Credentials::Basic {
            username: user.to_owned(),
            password: Secret::new(password),
        },
    };
    let folder = LoginFolder::create(&login, &host_docker_config()).unwrap();
    let up = Command::new("docker")
        .env("DOCKER_CONFIG", folder.path())
        .args(["compose", "-p", &project.name, "-f"])
        .arg(&project.compose_file)
        .args(["up", "-d", "--quiet-pull"])
        .output()
        .unwrap();
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    // Compose can exit 0 from a pull the registry refused: read what it said.
    let without = project.compose(&["pull", "app"]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&without.stdout),
        String::from_utf8_lossy(&without.stderr)
    );
    assert!(
        !without.status.success() || said.contains("Error"),
        "the host's own docker config must not be able to pull from the private registry: {said}"
    );
}

/// An env file naming the project, and `keys` for its registry.
fn env_with(dir: &std::path::Path, project: &Project, keys: &str) -> std::path::PathBuf {
    let path = dir.join(".updater.env");
    std::fs::write(
        &path,
        format!(
            "COMPOSE_FILE_PATH_PRIVATE={}\nDOCKERHUB_REPOSITORY_MAP_PRIVATE=app=team/app\n\
             DISCOVER_FROM_LABELS=false\nHEALTH_TIMEOUT=30\nHEALTH_STABLE=2\n{keys}",
            project.compose_file.display()
        ),
    )
    .unwrap();
    path
}

async fn deploys_1_1_0(registry: &Registry, project: &Project, env: &std::path::Path) {
    let state = env.parent().unwrap();
    let (engine, store) = engine(env, state).await;
    let report = engine.check_all(false).await.unwrap();
    let service_id = store.service_records().await.unwrap()[0].id;
    assert_eq!(
        report.services[0].action,
        Action::Deployed {
            tag: "1.1.0".into()
        },
        "{report:#?}\n{:#?}",
        store.revisions(service_id).await.unwrap()
    );
    let image = format!("{}/team/app:1.1.0", registry.host());
    let (running, expected) = running_and_expected(&project.name, "app", &image).await;
    assert_eq!(running, expected, "the container runs 1.1.0");
    let revision = store.revisions(service_id).await.unwrap().remove(0);
    assert!(
        !revision.log.contains(PASSWORD) && !revision.log.contains("auth-token"),
        "no secret in the deploy log: {}",
        revision.log
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_registry_deploys_and_the_gate_scan_gets_the_login() {
    if !components_present() || !require(&[Component::Trivy]) {
        return;
    }
    let registry = Registry::start_htpasswd(USER, PASSWORD);
    push(&registry, "1.0.0", USER, PASSWORD);
    let project = Project::new("private", COMPOSE, &registry.host());
    up_with_private_login(&project, &registry, USER, PASSWORD);
    push(&registry, "1.1.0", USER, PASSWORD);

    let state = tempfile::tempdir().unwrap();
    // The gate scans the candidate from the registry before anything is touched: it can only
    // pass when Trivy gets the login (offline, secret scanner only: no database needed).
    let env = env_with(
        state.path(),
        &project,
        &format!(
            "HARBOR_URL=http://{}\nHARBOR_USERNAME={USER}\nHARBOR_PASSWORD={PASSWORD}\n\
             SCAN_GATE=new-critical\nTRIVY_SCANNERS=secret\nTRIVY_OFFLINE=true\nTRIVY_TIMEOUT=2m\n",
            registry.host()
        ),
    );
    deploys_1_1_0(&registry, &project, &env).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_auth_registry_deploys() {
    if !components_present() {
        return;
    }
    let issuer = TokenIssuer::start().await;
    let registry = Registry::start_with(&issuer.registry_yaml());
    push(&registry, "1.0.0", USER, PASSWORD);
    let project = Project::new("tokened", COMPOSE, &registry.host());
    tokio::task::block_in_place(|| {
        up_with_private_login(&project, &registry, USER, PASSWORD);
    });
    push(&registry, "1.1.0", USER, PASSWORD);

    let state = tempfile::tempdir().unwrap();
    let env = env_with(
        state.path(),
        &project,
        &format!(
            "HARBOR_URL=http://{}\nHARBOR_USERNAME={USER}\nHARBOR_PASSWORD={PASSWORD}\n",
            registry.host()
        ),
    );
    deploys_1_1_0(&registry, &project, &env).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ecr_login_from_the_credential_helper_reaches_compose() {
    if !components_present() {
        return;
    }
    let Some(helper) = credential_helper() else {
        return;
    };
    let Some(moto) = Moto::start() else {
        return;
    };
    // moto's GetAuthorizationToken answers user AWS with `<account>-auth-token` for its
    // default account: the private registry holds that user.
    let (user, password) = ("AWS", "123456789012-auth-token");
    let registry = Registry::start_htpasswd(user, password);
    push(&registry, "1.0.0", user, password);
    let project = Project::new("ecrlogin", COMPOSE, &registry.host());
    up_with_private_login(&project, &registry, user, password);
    push(&registry, "1.1.0", user, password);

    let state = tempfile::tempdir().unwrap();
    let aws: String = moto
        .aws_keys()
        .iter()
        .map(|(key, value)| format!("{key}={value}\n"))
        .collect();
    let env = env_with(
        state.path(),
        &project,
        &format!(
            "ECR_REGISTRY={}\nCLOUD_CREDENTIAL_HELPER={}\n{aws}",
            registry.host(),
            helper.display()
        ),
    );
    deploys_1_1_0(&registry, &project, &env).await;
}
