//! Images given by variables: the edit goes into the project's `.env`, keeping its comments,
//! quoting and every other line; the compose file is not touched.

use std::collections::BTreeMap;
use std::fs;

use berth::discovery::compose_file::{
    ComposeFileError, ComposeProject, Interpolation, Refusal, plan_image_change, plan_tag_change,
    read_service_image,
};

use super::{compose_images, fixture, project_with, read};

fn env_project() -> (tempfile::TempDir, ComposeProject) {
    let dir = project_with(&[
        ("env/compose.yaml", "compose.yaml"),
        ("env/dot.env", ".env"),
    ]);
    let project = ComposeProject::new(vec![dir.path().join("compose.yaml")]);
    (dir, project)
}

#[test]
fn a_variable_holding_the_tag_is_changed_in_dot_env() {
    let (dir, project) = env_project();
    let image = read_service_image(&project, "web").unwrap();
    assert_eq!(image.raw, "localhost:5000/berth/app:${APP_TAG}");
    assert_eq!(image.resolved, "localhost:5000/berth/app:1.0.0");
    assert!(
        matches!(image.interpolation, Interpolation::TagVariable { ref name, .. } if name == "APP_TAG")
    );

    let edit = plan_tag_change(&project, "web", "1.1.0").unwrap();
    assert_eq!(edit.path, dir.path().join(".env"));
    // worker uses the same variable: the caller must know it changes too.
    assert_eq!(edit.also_affected, ["worker"]);
    edit.apply().unwrap();

    assert_eq!(
        read(&dir.path().join(".env")),
        read(&fixture("env/dot.env.web-1.1.0"))
    );
    assert_eq!(
        read(&dir.path().join("compose.yaml")),
        read(&fixture("env/compose.yaml"))
    );
    assert_eq!(
        read_service_image(&project, "web").unwrap().resolved,
        "localhost:5000/berth/app:1.1.0"
    );
    if let Some(images) = compose_images(dir.path(), &["compose.yaml"]) {
        assert!(
            images.contains("localhost:5000/berth/app:1.1.0"),
            "{images:?}"
        );
        assert!(
            !images.contains("localhost:5000/berth/app:1.0.0"),
            "{images:?}"
        );
    }
}

#[test]
fn a_variable_that_is_only_defaulted_is_added_to_dot_env() {
    let (dir, project) = env_project();
    let image = read_service_image(&project, "api").unwrap();
    assert_eq!(image.resolved, "localhost:5000/berth/api:1.0.0");

    plan_tag_change(&project, "api", "1.1.0")
        .unwrap()
        .apply()
        .unwrap();
    let expected = format!(
        "{}API_IMAGE=localhost:5000/berth/api:1.1.0\n",
        read(&fixture("env/dot.env"))
    );
    assert_eq!(read(&dir.path().join(".env")), expected);
    assert_eq!(
        read_service_image(&project, "api").unwrap().resolved,
        "localhost:5000/berth/api:1.1.0"
    );
}

#[test]
fn a_single_quoted_value_stays_single_quoted() {
    let (dir, project) = env_project();
    plan_image_change(&project, "db", "postgres:17")
        .unwrap()
        .apply()
        .unwrap();
    let text = read(&dir.path().join(".env"));
    assert_eq!(
        text,
        read(&fixture("env/dot.env")).replace("'postgres:16'", "'postgres:17'")
    );
}

#[test]
fn a_missing_dot_env_is_created_and_removed_again_on_revert() {
    let dir = project_with(&[("env/compose.yaml", "compose.yaml")]);
    let project = ComposeProject::new(vec![dir.path().join("compose.yaml")]);
    let edit = plan_tag_change(&project, "api", "2.0").unwrap();
    assert_eq!(edit.old_value, None);
    edit.apply().unwrap();
    assert_eq!(
        read(&dir.path().join(".env")),
        "API_IMAGE=localhost:5000/berth/api:2.0\n"
    );
    edit.revert().unwrap();
    assert!(!dir.path().join(".env").exists());
}

#[test]
fn a_variable_set_in_the_environment_is_refused_because_it_overrides_dot_env() {
    let (dir, project) = env_project();
    let environment = BTreeMap::from([("APP_TAG".to_owned(), "1.0.5".to_owned())]);
    let project = project.with_environment(environment);
    assert_eq!(
        read_service_image(&project, "web").unwrap().resolved,
        "localhost:5000/berth/app:1.0.5"
    );

    let error = plan_tag_change(&project, "web", "1.1.0").unwrap_err();
    assert!(matches!(
        error,
        ComposeFileError::Plan { reason: Refusal::OverriddenByEnvironment { ref variable }, .. } if variable == "APP_TAG"
    ));
    let message = error.to_string();
    assert!(
        message.contains("`web`") && message.contains("APP_TAG") && message.contains("overrides"),
        "{message}"
    );
    assert_eq!(
        read(&dir.path().join(".env")),
        read(&fixture("env/dot.env"))
    );
}

#[test]
fn a_tag_variable_cannot_move_the_image_to_another_repository() {
    let (dir, project) = env_project();
    let error = plan_image_change(&project, "web", "localhost:5000/other/app:1.1.0").unwrap_err();
    assert!(matches!(
        error,
        ComposeFileError::Plan {
            reason: Refusal::RepositoryFixed { .. },
            ..
        }
    ));
    let message = error.to_string();
    assert!(
        message.contains(&dir.path().join("compose.yaml").display().to_string()),
        "{message}"
    );
    assert!(message.contains("localhost:5000/berth/app"), "{message}");
}

#[test]
fn a_dot_env_changed_after_planning_is_not_overwritten() {
    let (dir, project) = env_project();
    let edit = plan_tag_change(&project, "web", "1.1.0").unwrap();
    let env_file = dir.path().join(".env");
    fs::write(&env_file, "APP_TAG=1.0.9\n").unwrap();
    assert!(matches!(
        edit.apply(),
        Err(ComposeFileError::ValueChanged { .. })
    ));
    assert_eq!(read(&env_file), "APP_TAG=1.0.9\n");
}

#[test]
fn the_revision_keeps_the_one_value_and_no_other_line_of_dot_env() {
    let (_dir, project) = env_project();
    let edit = plan_tag_change(&project, "web", "1.1.0").unwrap();
    assert_eq!(
        (edit.old_value.as_deref(), edit.new_value.as_str()),
        (Some("1.0.0"), "1.1.0")
    );
    // The stored form of the edit and its diff: `.env` holds secrets beside the tag.
    let stored = serde_json::to_string(&edit).unwrap();
    for other_line in ["postgres:16", "APP=sidecar", "Written by CI"] {
        assert!(!stored.contains(other_line), "{other_line} in {stored}");
        assert!(
            !edit.diff.contains(other_line),
            "{other_line} in {}",
            edit.diff
        );
    }
    assert!(edit.diff.contains("+export APP_TAG=1.1.0"), "{}", edit.diff);
}
