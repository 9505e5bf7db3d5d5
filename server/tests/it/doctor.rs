//! `berth doctor` against real components: a `docker-registry` with htpasswd auth standing in
//! for Harbor (HARBOR_URL / HARBOR_USERNAME / HARBOR_PASSWORD), real compose files, the
//! machine's Docker engine and compose CLI. Each problem must be reported by name.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use berth::doctor::{DoctorOptions, Finding, Report, Status, diagnose};
use testkit::{Component, ImageSpec, OciLayout, Registry, require};

const USER: &str = "robot$berth";
const PASSWORD: &str = "Corr3ct-Horse-Battery";
const WRONG_PASSWORD: &str = "Wr0ng-Staple-9137";

/// A registry that wants `USER`/`PASSWORD`, holding `shop/app:v1` and `shop/app:v2`.
struct Harbor {
    registry: Registry,
}

impl Harbor {
    fn start() -> Harbor {
        let registry = Registry::start_htpasswd(USER, PASSWORD);
        for tag in ["v1", "v2"] {
            let mut layout = OciLayout::new();
            layout.add_image(tag, &ImageSpec::new(format!("doctor-{tag}")));
            registry.push_layout_as(&layout, tag, "shop/app", &format!("{USER}:{PASSWORD}"));
        }
        Harbor { registry }
    }
}

/// A folder with `shop/compose.yml` running the registry's `shop/app:v1` as service `app`.
struct Host {
    folder: tempfile::TempDir,
}

impl Host {
    fn new(registry_host: &str) -> Host {
        let folder = tempfile::tempdir().unwrap();
        let shop = folder.path().join("shop");
        std::fs::create_dir(&shop).unwrap();
        std::fs::write(
            shop.join("compose.yml"),
            format!("services:\n  app:\n    image: {registry_host}/shop/app:v1\n"),
        )
        .unwrap();
        Host { folder }
    }

    fn compose_file(&self) -> PathBuf {
        self.folder.path().join("shop/compose.yml")
    }

    fn write_env_file(&self, text: &str) -> PathBuf {
        let path = self.folder.path().join(".updater.env");
        std::fs::write(&path, text).unwrap();
        path
    }
}

fn harbor_keys(registry: &Registry, password: &str) -> String {
    // Single quotes: the `$` of a robot account is literal, as generate_env.sh writes it.
    format!(
        "HARBOR_URL=http://{}\nHARBOR_USERNAME='{USER}'\nHARBOR_PASSWORD='{password}'\n",
        registry.host()
    )
}

async fn run_doctor(env_file: &Path, options: &DoctorOptions) -> Report {
    let report = diagnose(Some(env_file), options).await;
    eprintln!("{}", report.to_text());
    report
}

fn only<'r>(report: &'r Report, subject: &str) -> &'r Finding {
    let found = report.about(subject);
    assert_eq!(
        found.len(),
        1,
        "one finding about {subject:?} in:\n{}",
        report.to_text()
    );
    found[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_a_misspelled_key_a_bad_password_and_a_missing_compose_file_by_name() {
    if !require(&[Component::DockerRegistry, Component::Skopeo]) {
        return;
    }
    let harbor = tokio::task::block_in_place(Harbor::start);
    let host = Host::new(&harbor.registry.host());
    let missing = host.folder.path().join("gone/compose.yml");
    let env_file = host.write_env_file(&format!(
        "CHEK_INTERVAL=300\n{}\
         COMPOSE_FILE_PATH_SHOP={}\nHARBOR_REPOSITORY_MAP_SHOP=app=shop/app\n\
         COMPOSE_FILE_PATH_GONE={}\nHARBOR_REPOSITORY_MAP_GONE=web=shop/web\n",
        harbor_keys(&harbor.registry, WRONG_PASSWORD),
        host.compose_file().display(),
        missing.display(),
    ));

    let report = run_doctor(&env_file, &DoctorOptions::default()).await;
    let text = report.to_text();

    assert!(!report.passed, "problems make doctor fail:\n{text}");
    assert!(
        text.contains("FAIL CHEK_INTERVAL: unknown key; did you mean CHECK_INTERVAL?"),
        "{text}"
    );

    let login = only(&report, &format!("registry {}", harbor.registry.host()));
    assert_eq!(login.status, Status::Fail, "{login}");
    assert!(login.detail.contains("Harbor: bad credentials"), "{login}");
    assert!(
        login.detail.contains("HARBOR_PASSWORD"),
        "names the key to fix: {login}"
    );

    let compose = only(&report, &format!("compose file {}", missing.display()));
    assert_eq!(compose.status, Status::Fail, "{compose}");
    assert!(compose.detail.contains("does not exist"), "{compose}");
    assert!(
        compose.detail.contains("COMPOSE_FILE_PATH_GONE"),
        "{compose}"
    );
    assert_eq!(only(&report, "service GONE/web").status, Status::Warn);

    // The project whose file exists is still checked, and its service found.
    assert_eq!(only(&report, "service SHOP/app").status, Status::Ok);
    for secret in [WRONG_PASSWORD, PASSWORD] {
        assert!(!text.contains(secret), "a password was printed:\n{text}");
    }
    let json = serde_json::to_string(&report).unwrap();
    assert!(
        !json.contains(WRONG_PASSWORD),
        "a password was printed as JSON: {json}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_configuration_reports_every_check_ok() {
    if !require(&[
        Component::DockerRegistry,
        Component::Skopeo,
        Component::Docker,
        Component::Compose,
    ]) {
        return;
    }
    let harbor = tokio::task::block_in_place(Harbor::start);
    let host = Host::new(&harbor.registry.host());
    let env_file = host.write_env_file(&format!(
        "# written by hand\nCHECK_INTERVAL=30m\nALLOW_TAGS='regexp:^v\\d+$'\n{}\
         COMPOSE_FILE_PATH_SHOP={}\nHARBOR_REPOSITORY_MAP_SHOP=app=shop/app\n",
        harbor_keys(&harbor.registry, PASSWORD),
        host.compose_file().display(),
    ));

    let report = run_doctor(&env_file, &DoctorOptions::default()).await;
    let text = report.to_text();

    assert!(report.passed, "{text}");
    for finding in report
        .checks
        .iter()
        .filter(|finding| finding.subject != "trivy")
    {
        assert_eq!(finding.status, Status::Ok, "{finding}\nin:\n{text}");
    }
    let login = only(&report, &format!("registry {}", harbor.registry.host()));
    assert!(
        login.detail.contains("logged in; shop/app has 2 tag(s)"),
        "{login}"
    );
    assert!(
        only(&report, "service SHOP/app")
            .detail
            .contains(&format!("{}/shop/app:v1", harbor.registry.host())),
        "{text}"
    );
    // The pull is proved with the login compose gets: the host's docker config has none.
    let pull = only(
        &report,
        &format!("pull {}/shop/app:v1", harbor.registry.host()),
    );
    assert!(pull.detail.contains("with Berth's login"), "{pull}");
    for subject in ["configuration keys", "docker engine", "compose CLI"] {
        assert_eq!(only(&report, subject).status, Status::Ok, "{text}");
    }
}

/// A registry that accepts connections and never answers must not hang doctor.
#[tokio::test]
async fn a_silent_registry_fails_its_check_within_the_time_limit() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let registry_host = silent.local_addr().unwrap().to_string();
    let _held_open = tokio::spawn(async move {
        let mut connections = Vec::new();
        while let Ok((connection, _)) = silent.accept().await {
            connections.push(connection);
        }
    });
    let host = Host::new(&registry_host);
    let env_file = host.write_env_file(&format!(
        "COMPOSE_FILE_PATH_SHOP={}\nDOCKERHUB_REPOSITORY_MAP_SHOP=app=shop/app\n",
        host.compose_file().display(),
    ));
    let options = DoctorOptions {
        check_timeout: Duration::from_secs(2),
    };

    let started = Instant::now();
    let report = run_doctor(&env_file, &options).await;

    let login = only(&report, &format!("registry {registry_host}"));
    assert_eq!(login.status, Status::Fail, "{login}");
    assert!(login.detail.contains("no answer within 2 s"), "{login}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "doctor took {:?}",
        started.elapsed()
    );
}
