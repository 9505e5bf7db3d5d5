//! A service on a floating tag (`latest`) is followed by digest: one HEAD per cycle against
//! the real registry, compared with the RepoDigests the real Docker engine recorded when
//! compose pulled it. No tag list is fetched, and a new image behind the same tag is
//! reported, not deployed.

use berth::engine::Action;
use berth::registry::RequestKind;
use testkit::{ImageSpec, Registry};

use crate::deploy::harness::{Project, components_present, engine, env_file, push};

const COMPOSE: &str =
    "services:\n  app:\n    image: {registry}/team/app:latest\n    stop_grace_period: 1s\n";

fn app_action(report: &berth::engine::CycleReport) -> &Action {
    &report
        .services
        .iter()
        .find(|service| service.service == "app")
        .unwrap_or_else(|| panic!("app not in the report: {report:#?}"))
        .action
}

/// (HEAD, GET manifest, tag list) requests the engine has sent so far.
fn requests(engine: &berth::engine::Engine) -> (u64, u64, u64) {
    let stats = engine
        .registry_status()
        .into_iter()
        .next()
        .map(|status| status.stats)
        .unwrap_or_default();
    (
        stats.count(RequestKind::ManifestHead),
        stats.count(RequestKind::ManifestGet),
        stats.count(RequestKind::TagList),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_floating_tag_costs_one_head_and_a_new_image_behind_it_is_reported() {
    if !components_present() {
        return;
    }
    let registry = Registry::start();
    push(&registry, "latest");
    push(&registry, "1.0.0");
    let project = Project::new("floating", COMPOSE, &registry.host());
    project.up();
    let state = tempfile::tempdir().unwrap();
    let env = env_file(state.path(), "FLOATING", &project.compose_file, "");
    let (engine, store) = engine(&env, state.path()).await;

    for cycle in 1..=2 {
        let report = engine.check_all(false).await.unwrap();
        assert_eq!(
            app_action(&report),
            &Action::UpToDate,
            "cycle {cycle}: {report:#?}"
        );
        assert_eq!(
            requests(&engine),
            (cycle, 0, 0),
            "cycle {cycle}: one HEAD per cycle, no index fetch, no tag list (1.0.0 is not a candidate)"
        );
    }

    let rebuilt = registry.push_image("team/app", "latest", &ImageSpec::new("app latest, rebuilt"));
    let report = engine.check_all(false).await.unwrap();
    assert_eq!(
        app_action(&report),
        &Action::NewDigest {
            tag: "latest".into(),
            digest: rebuilt.digest.clone()
        },
        "{report:#?}"
    );
    assert_eq!(requests(&engine), (3, 0, 0));
    let service = store.service_records().await.unwrap().remove(0);
    assert_eq!(service.state, app::model::SyncState::UpdateAvailable);
    assert_eq!(service.best_candidate.as_deref(), Some("latest"));
    assert_eq!(
        project.read("compose.yml"),
        COMPOSE.replace("{registry}", &registry.host()),
        "a new digest is reported, never written"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn what_the_container_runs_is_compared_not_what_the_local_tag_names() {
    if !components_present() {
        return;
    }
    let registry = Registry::start();
    push(&registry, "latest");
    let project = Project::new("pulledonly", COMPOSE, &registry.host());
    project.up();
    let state = tempfile::tempdir().unwrap();
    let env = env_file(state.path(), "PULLEDONLY", &project.compose_file, "");
    let (engine, _store) = engine(&env, state.path()).await;
    assert_eq!(
        app_action(&engine.check_all(false).await.unwrap()),
        &Action::UpToDate
    );

    // Someone pulls the new image without recreating the container: the local tag moves,
    // the container still runs the old image.
    let rebuilt = registry.push_image("team/app", "latest", &ImageSpec::new("app latest, pulled"));
    let pulled = project.compose(&["pull", "app"]);
    assert!(pulled.status.success(), "{pulled:?}");
    let new_digest = Action::NewDigest {
        tag: "latest".into(),
        digest: rebuilt.digest.clone(),
    };
    let report = engine.check_all(false).await.unwrap();
    assert_eq!(app_action(&report), &new_digest, "{report:#?}");

    // With the tag gone from the local store, the container's image is still there to compare.
    let image = format!("{}/team/app:latest", registry.host());
    let removed = std::process::Command::new("docker")
        .args(["image", "rm", &image])
        .output()
        .unwrap();
    assert!(removed.status.success(), "{removed:?}");
    let report = engine.check_all(false).await.unwrap();
    assert_eq!(app_action(&report), &new_digest, "{report:#?}");
}
