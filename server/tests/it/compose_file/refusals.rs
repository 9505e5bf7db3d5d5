//! Every case Berth must not edit: the error says why and names the file and the service, and
//! the file is left exactly as it was.

use std::path::Path;

use berth::discovery::compose_file::{
    ComposeFileError, ComposeProject, Refusal, check_compose_file, plan_tag_change,
    read_service_image,
};

use super::{fixture, project_with, read};

fn refuse_project() -> (tempfile::TempDir, ComposeProject) {
    let dir = project_with(&[("refuse/compose.yaml", "compose.yaml")]);
    let project = ComposeProject::new(vec![dir.path().join("compose.yaml")]);
    (dir, project)
}

/// Plans a tag change that must be refused; checks the message names the file, the service
/// and `cause`, and that the file is unchanged. Returns the refusal.
fn refused(service: &str, cause: &str) -> Refusal {
    let (dir, project) = refuse_project();
    let compose = dir.path().join("compose.yaml");
    let error = plan_tag_change(&project, service, "1.1.0").unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains(&compose.display().to_string()),
        "no file in: {message}"
    );
    assert!(
        message.contains(&format!("`{service}`")),
        "no service in: {message}"
    );
    assert!(message.contains(cause), "no `{cause}` in: {message}");
    assert_eq!(read(&compose), read(&fixture("refuse/compose.yaml")));
    match error {
        ComposeFileError::Plan { reason, .. } => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn an_image_given_by_an_alias_is_refused() {
    let reason = refused("alias-user", "*pinned");
    assert_eq!(
        reason,
        Refusal::ImageIsAlias {
            anchor: "pinned".into()
        }
    );
}

#[test]
fn an_anchored_image_that_another_service_aliases_is_refused() {
    let reason = refused("anchor-owner", "*pinned");
    assert_eq!(
        reason,
        Refusal::AnchoredImageShared {
            anchor: "pinned".into()
        }
    );
}

#[test]
fn an_image_inherited_from_a_shared_merge_anchor_is_refused() {
    let reason = refused("merged-a", "<<: *shared");
    assert_eq!(
        reason,
        Refusal::SharedMergeAnchor {
            anchor: "shared".into(),
            users: vec!["merged-b".into()]
        }
    );
}

#[test]
fn variables_mixed_into_the_image_are_refused() {
    let reason = refused("mixed", "reg.example/${APP}:1.0");
    assert!(matches!(reason, Refusal::MixedVariables { .. }));
}

#[test]
fn a_service_that_only_builds_is_refused() {
    assert_eq!(refused("built", "sets no `image:`"), Refusal::NoImage);
}

#[test]
fn a_block_scalar_image_is_refused() {
    assert_eq!(refused("folded", "block scalar"), Refusal::BlockScalar);
}

#[test]
fn a_blocked_image_is_still_reported_with_the_reason() {
    let (_dir, project) = refuse_project();
    let image = read_service_image(&project, "alias-user").unwrap();
    assert_eq!(image.resolved, "localhost:5000/berth/base:1.0.0");
    assert_eq!(
        image.blocked,
        Some(Refusal::ImageIsAlias {
            anchor: "pinned".into()
        })
    );
}

#[test]
fn a_service_that_does_not_exist_is_named_with_the_files_searched() {
    let (dir, project) = refuse_project();
    let error = plan_tag_change(&project, "ghost", "1.1.0").unwrap_err();
    assert!(matches!(error, ComposeFileError::FindService { .. }));
    let message = error.to_string();
    assert!(message.contains("`ghost`"), "{message}");
    assert!(
        message.contains(&dir.path().join("compose.yaml").display().to_string()),
        "{message}"
    );
}

#[test]
fn a_file_that_does_not_parse_is_refused_and_named() {
    let dir = project_with(&[("refuse/broken.yaml", "compose.yaml")]);
    let compose = dir.path().join("compose.yaml");
    let error =
        plan_tag_change(&ComposeProject::new(vec![compose.clone()]), "web", "1.1.0").unwrap_err();
    assert!(matches!(error, ComposeFileError::Parse { .. }));
    assert!(
        error.to_string().contains(&compose.display().to_string()),
        "{error}"
    );
    assert!(
        std::error::Error::source(&error).is_some(),
        "the parser's error is kept"
    );
    assert!(matches!(
        check_compose_file(&compose),
        Err(ComposeFileError::Parse { .. })
    ));
}

#[test]
fn a_missing_file_is_refused_and_named() {
    let missing = Path::new("/nonexistent/berth/compose.yaml");
    let error = plan_tag_change(
        &ComposeProject::new(vec![missing.to_owned()]),
        "web",
        "1.1.0",
    )
    .unwrap_err();
    assert!(matches!(error, ComposeFileError::Read { .. }));
    assert!(
        error
            .to_string()
            .contains("/nonexistent/berth/compose.yaml"),
        "{error}"
    );
}

#[test]
fn a_tag_that_is_not_a_tag_is_refused() {
    let dir = project_with(&[("golden/compose.yaml", "compose.yaml")]);
    let project = ComposeProject::new(vec![dir.path().join("compose.yaml")]);
    let error = plan_tag_change(&project, "web", "1.1 # injected").unwrap_err();
    assert!(matches!(
        error,
        ComposeFileError::Plan {
            reason: Refusal::InvalidTag { .. },
            ..
        }
    ));
}

#[test]
fn the_parse_check_tells_compose_files_from_other_yaml() {
    assert!(check_compose_file(&fixture("golden/compose.yaml")).is_ok());
    let error = check_compose_file(&fixture("refuse/not-compose.yaml")).unwrap_err();
    assert!(matches!(error, ComposeFileError::Check { .. }));
    assert!(error.to_string().contains("not-compose.yaml"), "{error}");
}
