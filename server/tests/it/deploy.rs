//! The deploy engine against the real Docker engine, compose CLI and registry.

pub mod harness;

use berth::engine::Action;
use berth::store::Verdict;
use harness::{
    Project, action_of, components_present, engine, env_file, fixture, push, running_and_expected,
    store_dump,
};
use testkit::Registry;

#[tokio::test(flavor = "multi_thread")]
async fn a_new_tag_is_deployed_verified_and_only_its_value_changes() {
    if !components_present() {
        return;
    }
    let registry = Registry::start();
    push(&registry, "1.0.0");
    let project = Project::new("golden", &fixture("compose.yml.in"), &registry.host());
    project.up();
    push(&registry, "1.1.0");

    let state = tempfile::tempdir().unwrap();
    let env = env_file(state.path(), "GOLDEN", &project.compose_file, "");
    let (engine, store) = engine(&env, state.path()).await;
    let report = engine.check_all(false).await.unwrap();

    assert_eq!(
        action_of(&report, "app"),
        &Action::Deployed {
            tag: "1.1.0".into()
        },
        "{report:#?}"
    );
    assert!(
        report.services.iter().all(|s| s.service != "sidecar"),
        "a service outside the repository map is not managed"
    );
    let image = format!("{}/team/app:1.1.0", registry.host());
    let (running, expected) = running_and_expected(&project.name, "app", &image).await;
    assert_eq!(running, expected, "the container must run the 1.1.0 image");
    let (sidecar, old) = running_and_expected(
        &project.name,
        "sidecar",
        &format!("{}/team/app:1.0.0", registry.host()),
    )
    .await;
    assert_eq!(sidecar, old, "the other service is not recreated");

    let golden = fixture("expected.yml.in").replace("{registry}", &registry.host());
    assert_eq!(
        project.read("compose.yml"),
        golden,
        "only the one value may change"
    );

    let service = store.service_records().await.unwrap().remove(0);
    assert_eq!(service.current_tag.as_deref(), Some("1.1.0"));
    assert!(
        service
            .current_digest
            .as_deref()
            .is_some_and(|d| d.starts_with("sha256:"))
    );
    let revisions = store.revisions(service.id).await.unwrap();
    assert_eq!(revisions.len(), 1);
    let revision = &revisions[0];
    assert_eq!(revision.verdict.0, Verdict::Verified);
    assert_eq!(
        (revision.tag.as_str(), revision.previous_tag.as_deref()),
        ("1.1.0", Some("1.0.0"))
    );
    assert!(
        revision.compose_diff.contains("+    image: '") && revision.compose_diff.contains("1.1.0"),
        "{}",
        revision.compose_diff
    );
    assert!(
        revision.log.contains("pull app") && revision.log.contains("up -d --no-deps app"),
        "{}",
        revision.log
    );

    // A second check finds nothing newer and leaves everything alone.
    let again = engine.check_all(false).await.unwrap();
    assert_eq!(action_of(&again, "app"), &Action::UpToDate);
    assert_eq!(store.revisions(service.id).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tag_held_in_dotenv_is_changed_there() {
    if !components_present() {
        return;
    }
    let registry = Registry::start();
    push(&registry, "1.0.0");
    let compose =
        "services:\n  app:\n    image: {registry}/team/app:${APP_TAG}\n    restart: \"no\"\n";
    let project = Project::new("dotenv", compose, &registry.host());
    let dotenv = "# the version we run\nAPP_TAG=1.0.0\nOTHER=keep me\n";
    std::fs::write(project.dir.path().join(".env"), dotenv).unwrap();
    project.up();
    push(&registry, "1.1.0");

    let state = tempfile::tempdir().unwrap();
    let env = env_file(state.path(), "DOTENV", &project.compose_file, "");
    let (engine, _store) = engine(&env, state.path()).await;
    let report = engine.check_all(false).await.unwrap();

    assert_eq!(
        action_of(&report, "app"),
        &Action::Deployed {
            tag: "1.1.0".into()
        },
        "{report:#?}"
    );
    assert_eq!(
        project.read(".env"),
        dotenv.replace("APP_TAG=1.0.0", "APP_TAG=1.1.0")
    );
    assert_eq!(
        project.read("compose.yml"),
        compose.replace("{registry}", &registry.host())
    );
    let (running, expected) = running_and_expected(
        &project.name,
        "app",
        &format!("{}/team/app:1.1.0", registry.host()),
    )
    .await;
    assert_eq!(running, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_changes_nothing() {
    if !components_present() {
        return;
    }
    let registry = Registry::start();
    push(&registry, "1.0.0");
    let project = Project::new("dryrun", &fixture("compose.yml.in"), &registry.host());
    project.up();
    let state = tempfile::tempdir().unwrap();
    let env = env_file(state.path(), "DRYRUN", &project.compose_file, "");
    let (engine, store) = engine(&env, state.path()).await;
    engine.check_all(false).await.unwrap();
    push(&registry, "1.1.0");

    let file_before = project.read("compose.yml");
    let store_before = store_dump(&store).await;
    let (container_before, _) = running_and_expected(&project.name, "app", "none").await;
    let report = engine.check_all(true).await.unwrap();

    assert_eq!(
        action_of(&report, "app"),
        &Action::Deploy {
            tag: "1.1.0".into()
        },
        "it says what it would do"
    );
    assert_eq!(project.read("compose.yml"), file_before);
    assert_eq!(store_dump(&store).await, store_before);
    let (container_after, _) = running_and_expected(&project.name, "app", "none").await;
    assert_eq!(container_after, container_before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_pull_leaves_the_old_version_running_and_the_file_unchanged() {
    if !components_present() {
        return;
    }
    let registry = Registry::start();
    push(&registry, "1.0.0");
    let project = Project::new("badpull", &fixture("compose.yml.in"), &registry.host());
    project.up();
    // A marker no other test uses, so the engine cannot already hold the layer.
    let marker = format!("unpullable {:?}", std::time::SystemTime::now());
    registry.push_image("team/app", "1.1.0", &testkit::ImageSpec::new(marker));
    // The tag and its manifest stay listed, but a layer is gone: the pull fails.
    let (_, manifest) = registry.get("/v2/team/app/manifests/1.1.0");
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let layer = manifest["layers"][1]["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_owned();
    let blob = registry
        .storage_path()
        .join("docker/registry/v2/blobs/sha256")
        .join(&layer[..2])
        .join(&layer);
    std::fs::remove_dir_all(&blob).unwrap();

    let state = tempfile::tempdir().unwrap();
    let env = env_file(state.path(), "BADPULL", &project.compose_file, "");
    let (engine, store) = engine(&env, state.path()).await;
    let file_before = project.read("compose.yml");
    let report = engine.check_all(false).await.unwrap();

    let Action::DeployFailed { tag, reason } = action_of(&report, "app") else {
        panic!("expected a failed deploy: {report:#?}");
    };
    assert_eq!(tag, "1.1.0");
    assert!(reason.starts_with("pull:"), "{reason}");
    assert_eq!(project.read("compose.yml"), file_before);
    let (running, old) = running_and_expected(
        &project.name,
        "app",
        &format!("{}/team/app:1.0.0", registry.host()),
    )
    .await;
    assert_eq!(running, old, "the old version keeps running");
    let service = store.service_records().await.unwrap().remove(0);
    assert_eq!(service.current_tag.as_deref(), Some("1.0.0"));
    let revision = store.revisions(service.id).await.unwrap().remove(0);
    assert_eq!(revision.verdict.0, Verdict::Failed);
    assert!(
        revision
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("pull:"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_registry_does_not_stop_another_project() {
    if !components_present() {
        return;
    }
    let registry = Registry::start();
    push(&registry, "1.0.0");
    let good = Project::new("good", &fixture("compose.yml.in"), &registry.host());
    good.up();
    push(&registry, "1.1.0");
    // Nothing listens on port 9 of loopback: its registry is unreachable (never started).
    let dead = Project::new(
        "dead",
        "services:\n  app:\n    image: {registry}/team/app:1.0.0\n",
        "127.0.0.1:9",
    );

    let state = tempfile::tempdir().unwrap();
    let env = env_file(
        state.path(),
        "GOOD",
        &good.compose_file,
        &format!(
            "COMPOSE_FILE_PATH_DEAD={}\nDOCKERHUB_REPOSITORY_MAP_DEAD=app=team/app\n",
            dead.compose_file.display()
        ),
    );
    let (engine, _store) = engine(&env, state.path()).await;
    let report = engine.check_all(false).await.unwrap();

    let dead_report = report
        .services
        .iter()
        .find(|s| s.project == dead.name || s.project.starts_with("berth-dead"))
        .unwrap_or_else(|| panic!("{report:#?}"));
    assert!(
        matches!(&dead_report.action, Action::Error { reason } if reason.contains("registry")),
        "{dead_report:#?}"
    );
    let good_report = report
        .services
        .iter()
        .find(|s| s.project == good.name)
        .unwrap();
    assert_eq!(
        good_report.action,
        Action::Deployed {
            tag: "1.1.0".into()
        }
    );
}
