//! Trivy in the deploy path, with the real binary: the scan after a deploy is
//! stored with its revision, and `SCAN_GATE=new-critical` refuses a candidate that brings a
//! new CRITICAL finding (a planted AWS key, found by Trivy's secret scanner, which needs no
//! vulnerability database) and lets a clean one through.

use std::time::{Duration, Instant};

use berth::engine::Action;
use testkit::{Component, ImageSpec, Registry, require};

use crate::deploy::harness::{
    Project, components_present, engine, env_file, push, running_and_expected,
};

const COMPOSE: &str =
    "services:\n  app:\n    image: {registry}/team/app:1.0.0\n    restart: \"no\"\n";
const OFFLINE_TRIVY: &str = "TRIVY_SCANNERS=secret\nTRIVY_OFFLINE=true\nTRIVY_TIMEOUT=2m\n";
const PLANTED_SECRET: &str = "aws_access_key_id = AKIA2E0A8F3B244C9986\n\
                              aws_secret_access_key = Hk9Qz1lU0iKRnqOPxJd9mWHY+4u5aBvJ2sYbT7Rc\n";

#[tokio::test(flavor = "multi_thread")]
async fn the_deployed_image_is_scanned_and_the_scan_kept_with_its_revision() {
    if !components_present() || !require(&[Component::Trivy]) {
        return;
    }
    let registry = Registry::start();
    push(&registry, "1.0.0");
    let project = Project::new("scanned", COMPOSE, &registry.host());
    project.up();
    push(&registry, "1.1.0");
    let state = tempfile::tempdir().unwrap();
    let extra = format!("TRIVY_ENABLED=true\n{OFFLINE_TRIVY}");
    let env = env_file(state.path(), "SCANNED", &project.compose_file, &extra);
    let (engine, store) = engine(&env, state.path()).await;
    let report = engine.check_all(false).await.unwrap();
    assert_eq!(
        report.services[0].action,
        Action::Deployed {
            tag: "1.1.0".into()
        }
    );

    // The scan runs in the background; it is stored with the revision when it ends.
    let service = store.service_records().await.unwrap().remove(0);
    let revision = store.revisions(service.id).await.unwrap().remove(0);
    let deadline = Instant::now() + Duration::from_secs(120);
    let scan = loop {
        if let Some(scan) = store.revision_scans(revision.id).await.unwrap().pop() {
            break scan;
        }
        assert!(
            Instant::now() < deadline,
            "no scan was stored for the deploy"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(scan.image, format!("{}/team/app:1.1.0", registry.host()));
    assert_eq!(
        scan.risk_score, 0,
        "a clean image has nothing to find: {}",
        scan.summary
    );
    let outcome: serde_json::Value = serde_json::from_str(&scan.outcome).unwrap();
    let raw: serde_json::Value =
        serde_json::from_str(outcome["raw_json"].as_str().unwrap()).unwrap();
    assert_eq!(
        raw["SchemaVersion"], 2,
        "Trivy's own JSON is kept for download"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gate_refuses_a_new_critical_and_lets_a_clean_candidate_through() {
    if !components_present() || !require(&[Component::Trivy]) {
        return;
    }
    let registry = Registry::start();
    push(&registry, "1.0.0");
    let project = Project::new("gated", COMPOSE, &registry.host());
    project.up();
    registry.push_image("team/app", "1.1.0", &ImageSpec::new(PLANTED_SECRET));
    let state = tempfile::tempdir().unwrap();
    let extra = format!("SCAN_GATE=new-critical\n{OFFLINE_TRIVY}");
    let env = env_file(state.path(), "GATED", &project.compose_file, &extra);
    let (engine, store) = engine(&env, state.path()).await;

    let report = engine.check_all(false).await.unwrap();
    let Action::DeployFailed { tag, reason } = &report.services[0].action else {
        panic!("the gate must refuse 1.1.0: {report:#?}");
    };
    assert_eq!(tag, "1.1.0");
    assert!(reason.starts_with("scan gate (new-critical)"), "{reason}");
    let image = format!("{}/team/app:1.0.0", registry.host());
    let (running, old) = running_and_expected(&project.name, "app", &image).await;
    assert_eq!(running, old, "the refused candidate was never started");
    assert!(project.read("compose.yml").contains("team/app:1.0.0"));
    let service = store.service_records().await.unwrap().remove(0);
    assert_eq!(store.ignored_tags(service.id).await.unwrap(), ["1.1.0"]);
    let refused = store.revisions(service.id).await.unwrap().remove(0);
    assert!(
        refused.log.contains("aws-access-key-id"),
        "the new findings are recorded: {}",
        refused.log
    );

    push(&registry, "1.2.0");
    let report = engine.check_all(false).await.unwrap();
    assert_eq!(
        report.services[0].action,
        Action::Deployed {
            tag: "1.2.0".into()
        },
        "{report:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gate_scan_that_cannot_run_refuses_without_ignoring_the_tag() {
    if !components_present() || !require(&[Component::Trivy]) {
        return;
    }
    let registry = Registry::start();
    push(&registry, "1.0.0");
    let project = Project::new("gatedown", COMPOSE, &registry.host());
    project.up();
    push(&registry, "1.1.0");
    let state = tempfile::tempdir().unwrap();
    // A Trivy that answers its version but fails every scan.
    let broken = state.path().join("trivy");
    std::fs::write(
        &broken,
        "#!/bin/sh\n[ \"$1\" = --version ] && echo 'Version: 0.0.0' && exit 0\necho 'FATAL cannot reach the database' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&broken, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let gate = format!("SCAN_GATE=new-critical\n{OFFLINE_TRIVY}");
    let env = env_file(
        state.path(),
        "GATEDOWN",
        &project.compose_file,
        &format!("{gate}TRIVY_PATH={}\n", broken.display()),
    );
    let (engine, store) = engine(&env, state.path()).await;
    let report = engine.check_all(false).await.unwrap();
    let Action::DeployFailed { tag, reason } = &report.services[0].action else {
        panic!("a gate that cannot scan must refuse: {report:#?}");
    };
    assert_eq!(tag, "1.1.0");
    assert!(reason.contains("unavailable"), "{reason}");
    let service = store.service_records().await.unwrap().remove(0);
    assert!(
        store.ignored_tags(service.id).await.unwrap().is_empty(),
        "not the candidate's fault: not ignored"
    );

    // Scans work again (the real Trivy, as after a restart): the candidate is deployed.
    let env = env_file(state.path(), "GATEDOWN", &project.compose_file, &gate);
    let (restarted, _store) = crate::deploy::harness::engine(&env, state.path()).await;
    let report = restarted.check_all(false).await.unwrap();
    assert_eq!(
        report.services[0].action,
        Action::Deployed {
            tag: "1.1.0".into()
        },
        "{report:#?}"
    );

    // SCAN_GATE_ON_ERROR=deploy: a scan that cannot run lets the candidate through.
    push(&registry, "1.2.0");
    let env = env_file(
        state.path(),
        "GATEDOWN",
        &project.compose_file,
        &format!(
            "{gate}TRIVY_PATH={}\nSCAN_GATE_ON_ERROR=deploy\n",
            broken.display()
        ),
    );
    let (lenient, store) = crate::deploy::harness::engine(&env, state.path()).await;
    let report = lenient.check_all(false).await.unwrap();
    assert_eq!(
        report.services[0].action,
        Action::Deployed {
            tag: "1.2.0".into()
        },
        "{report:#?}"
    );
    let revision = store.revisions(service.id).await.unwrap().remove(0);
    assert!(
        revision.log.contains("deploying anyway"),
        "{}",
        revision.log
    );
}
