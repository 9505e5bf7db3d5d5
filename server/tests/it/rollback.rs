//! Rollback and automatic recovery on the real engine.

use berth::engine::Action;
use berth::store::Verdict;
use testkit::{ImageSpec, Registry};

use crate::deploy::harness::{
    Project, components_present, engine, env_file, push, running_and_expected,
};

const COMPOSE: &str =
    "services:\n  app:\n    image: {registry}/team/app:1.0.0\n    restart: \"no\"\n";

fn action_of(report: &berth::engine::CycleReport) -> &Action {
    &report.services[0].action
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_pins_ignores_the_newer_tag_and_stays_until_a_newer_one() {
    if !components_present() {
        return;
    }
    let registry = Registry::start();
    push(&registry, "1.0.0");
    let project = Project::new("rollback", COMPOSE, &registry.host());
    project.up();
    push(&registry, "1.1.0");
    let state = tempfile::tempdir().unwrap();
    let env = env_file(state.path(), "ROLLBACK", &project.compose_file, "");
    let (engine, store) = engine(&env, state.path()).await;
    assert_eq!(
        action_of(&engine.check_all(false).await.unwrap()),
        &Action::Deployed {
            tag: "1.1.0".into()
        }
    );

    let outcome = engine.rollback("app", None, "tester").await.unwrap();
    assert!(
        matches!(
            outcome,
            berth::deploy::rollout::DeployOutcome::Verified { .. }
        ),
        "{outcome:?}"
    );
    let image = format!("{}/team/app:1.0.0", registry.host());
    let (running, expected) = running_and_expected(&project.name, "app", &image).await;
    assert_eq!(running, expected, "the container runs 1.0.0 again");
    assert!(project.read("compose.yml").contains("team/app:1.0.0"));
    let service = store.service_records().await.unwrap().remove(0);
    assert_eq!(service.current_tag.as_deref(), Some("1.0.0"));
    assert_eq!(
        service.pinned_tag, None,
        "the pin is cleared after a verified rollback"
    );
    assert_eq!(store.ignored_tags(service.id).await.unwrap(), ["1.1.0"]);
    let audit = store.audit_log(service.id).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.kind == "rollback_requested" && e.actor == "tester"),
        "{audit:?}"
    );
    let rollback = store.revisions(service.id).await.unwrap().remove(0);
    assert_eq!(
        (rollback.kind.as_str(), rollback.verdict.0),
        ("rollback", Verdict::Verified)
    );
    assert!(
        rollback.log.contains("--force-recreate"),
        "{}",
        rollback.log
    );

    // The next check does not bring 1.1.0 back …
    assert_eq!(
        action_of(&engine.check_all(false).await.unwrap()),
        &Action::UpToDate
    );
    // … but a newer tag is deployed.
    push(&registry, "1.2.0");
    assert_eq!(
        action_of(&engine.check_all(false).await.unwrap()),
        &Action::Deployed {
            tag: "1.2.0".into()
        }
    );
}

async fn a_failing_release_is_rolled_back(label: &str, bad: ImageSpec, expected_reason: &str) {
    let registry = Registry::start();
    push(&registry, "1.0.0");
    let project = Project::new(label, COMPOSE, &registry.host());
    project.up();
    push(&registry, "1.1.0");
    let state = tempfile::tempdir().unwrap();
    let env = env_file(
        state.path(),
        &label.to_uppercase(),
        &project.compose_file,
        "",
    );
    let (engine, store) = engine(&env, state.path()).await;
    assert_eq!(
        action_of(&engine.check_all(false).await.unwrap()),
        &Action::Deployed {
            tag: "1.1.0".into()
        }
    );
    let compose_on_1_1 = project.read("compose.yml");

    registry.push_image("team/app", "1.2.0", &bad);
    let report = engine.check_all(false).await.unwrap();
    let Action::RolledBack { tag, reason } = action_of(&report) else {
        panic!("expected an automatic rollback: {report:#?}");
    };
    assert_eq!(tag, "1.2.0");
    assert!(reason.contains(expected_reason), "{reason}");

    let (running, expected) = running_and_expected(
        &project.name,
        "app",
        &format!("{}/team/app:1.1.0", registry.host()),
    )
    .await;
    assert_eq!(running, expected, "1.1.0 runs again");
    assert_eq!(
        project.read("compose.yml"),
        compose_on_1_1,
        "the compose file is restored"
    );
    let service = store.service_records().await.unwrap().remove(0);
    assert_eq!(service.current_tag.as_deref(), Some("1.1.0"));
    assert_eq!(store.ignored_tags(service.id).await.unwrap(), ["1.2.0"]);
    let revision = store.revisions(service.id).await.unwrap().remove(0);
    assert_eq!(revision.verdict.0, Verdict::RolledBack);
    assert!(
        revision
            .reason
            .as_deref()
            .is_some_and(|r| r.contains(expected_reason))
    );
    assert!(
        revision.log.contains("log lines of the failed container"),
        "{}",
        revision.log
    );
    // It stays on 1.1.0: the failed tag is not tried again.
    assert_eq!(
        action_of(&engine.check_all(false).await.unwrap()),
        &Action::UpToDate
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_release_whose_container_exits_is_rolled_back_by_itself() {
    if !components_present() {
        return;
    }
    let bad =
        ImageSpec::new("exits").cmd(&["sh", "-c", "echo starting; echo broken config >&2; exit 3"]);
    a_failing_release_is_rolled_back("exits", bad, "exited (code 3)").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_release_whose_healthcheck_fails_is_rolled_back_by_itself() {
    if !components_present() {
        return;
    }
    let bad = ImageSpec::new("unhealthy").healthcheck(&["CMD", "false"]);
    a_failing_release_is_rolled_back("unhealthy", bad, "unhealthy").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_pinned_by_a_person_stays_pinned_through_a_rollback() {
    if !components_present() {
        return;
    }
    let registry = Registry::start();
    push(&registry, "1.0.0");
    let project = Project::new("pinnedrollback", COMPOSE, &registry.host());
    project.up();
    push(&registry, "1.1.0");
    let state = tempfile::tempdir().unwrap();
    let env = env_file(state.path(), "PINNEDROLLBACK", &project.compose_file, "");
    let (engine, store) = engine(&env, state.path()).await;
    engine.check_all(false).await.unwrap();
    engine.pin("app", None, "ops").await.unwrap();

    let outcome = engine.rollback("app", Some("1.0.0"), "ops").await.unwrap();
    assert!(
        matches!(
            outcome,
            berth::deploy::rollout::DeployOutcome::Verified { .. }
        ),
        "{outcome:?}"
    );
    let service = store.service_records().await.unwrap().remove(0);
    assert_eq!(
        service.pinned_tag.as_deref(),
        Some("1.0.0"),
        "still pinned, at what it was rolled back to"
    );
    assert_eq!(
        action_of(&engine.check_all(false).await.unwrap()),
        &Action::Pinned {
            tag: "1.0.0".into()
        },
        "the next check leaves it there"
    );
}
