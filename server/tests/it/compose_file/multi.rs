//! Several `-f` files: compose merges them and the last file that sets a service's image wins,
//! so that is the file an edit must change.

use berth::discovery::compose_file::{
    ComposeFileError, ComposeProject, plan_tag_change, read_service_image, read_service_images,
};

use super::{compose_images, fixture, project_with, read};

fn multi_project() -> (tempfile::TempDir, ComposeProject) {
    let dir = project_with(&[
        ("multi/compose.yaml", "compose.yaml"),
        ("multi/compose.override.yaml", "compose.override.yaml"),
    ]);
    let files = vec![
        dir.path().join("compose.yaml"),
        dir.path().join("compose.override.yaml"),
    ];
    (dir, ComposeProject::new(files))
}

#[test]
fn the_override_that_sets_the_image_is_the_file_edited() {
    let (dir, project) = multi_project();
    let image = read_service_image(&project, "web").unwrap();
    assert_eq!(image.file, dir.path().join("compose.override.yaml"));
    assert_eq!(image.resolved, "localhost:5000/berth/app:1.0.0-dev");

    plan_tag_change(&project, "web", "1.1.0")
        .unwrap()
        .apply()
        .unwrap();
    assert_eq!(
        read(&dir.path().join("compose.override.yaml")),
        read(&fixture("multi/compose.override.web-1.1.0.yaml"))
    );
    assert_eq!(
        read(&dir.path().join("compose.yaml")),
        read(&fixture("multi/compose.yaml"))
    );

    if let Some(images) = compose_images(dir.path(), &["compose.yaml", "compose.override.yaml"]) {
        assert!(
            images.contains("localhost:5000/berth/app:1.1.0"),
            "{images:?}"
        );
    }
}

#[test]
fn an_override_without_an_image_leaves_the_base_file_in_charge() {
    let (dir, project) = multi_project();
    let edit = plan_tag_change(&project, "worker", "1.1.0").unwrap();
    assert_eq!(edit.path, dir.path().join("compose.yaml"));
    edit.apply().unwrap();
    let base = read(&dir.path().join("compose.yaml"));
    assert_eq!(
        base,
        read(&fixture("multi/compose.yaml")).replace(
            "  worker:\n    image: localhost:5000/berth/app:1.0.0",
            "  worker:\n    image: localhost:5000/berth/app:1.1.0"
        )
    );
    assert_ne!(base, read(&fixture("multi/compose.yaml")));
}

#[test]
fn reading_several_services_at_once_agrees_with_reading_each() {
    let (_dir, project) = multi_project();
    let names = ["web", "worker", "missing"].map(str::to_owned);
    let together = read_service_images(&project, &names).unwrap();
    assert_eq!(together.len(), 3);
    for (name, image) in names.iter().zip(&together) {
        match (image, read_service_image(&project, name)) {
            (Ok(together), Ok(alone)) => assert_eq!(*together, alone, "{name}"),
            (Err(together), Err(alone)) => {
                assert_eq!(together.to_string(), alone.to_string(), "{name}")
            }
            (together, alone) => panic!("{name}: {together:?} vs {alone:?}"),
        }
    }
    assert!(matches!(
        together[2],
        Err(ComposeFileError::FindService { .. })
    ));

    let gone = ComposeProject::new(vec![project.project_dir.join("nonexistent.yaml")]);
    let error = read_service_images(&gone, &names).unwrap_err();
    assert!(
        error.to_string().contains("nonexistent.yaml"),
        "the project's own error names the file: {error}"
    );
}
