//! The golden file: comments, anchors, merge keys, odd quoting and blank lines, and several
//! services using the same or a similar image. Changing one service's tag must change that
//! one value and nothing else.

use berth::discovery::compose_file::{
    ComposeProject, Interpolation, plan_image_change, plan_tag_change, read_service_image,
};

use super::{compose_images, fixture, project_with, read};

fn golden_project() -> (tempfile::TempDir, ComposeProject) {
    let dir = project_with(&[("golden/compose.yaml", "compose.yaml")]);
    let project = ComposeProject::new(vec![dir.path().join("compose.yaml")]);
    (dir, project)
}

#[test]
fn changing_one_tag_changes_only_that_value_byte_for_byte() {
    let (dir, project) = golden_project();
    let compose = dir.path().join("compose.yaml");

    let edit = plan_tag_change(&project, "web", "1.1.0").unwrap();
    assert_eq!(edit.path, compose);
    assert_eq!(edit.old_image, "localhost:5000/berth/app:1.0.0");
    assert_eq!(edit.new_image, "localhost:5000/berth/app:1.1.0");
    assert_eq!(
        read(&compose),
        read(&fixture("golden/compose.yaml")),
        "planning wrote to the file"
    );

    edit.apply().unwrap();
    assert_eq!(
        read(&compose),
        read(&fixture("golden/compose.web-1.1.0.yaml"))
    );
}

#[test]
fn the_diff_shows_the_one_changed_line_for_the_revision_record() {
    let (dir, project) = golden_project();
    let edit = plan_tag_change(&project, "web", "1.1.0").unwrap();
    let label = dir.path().join("compose.yaml").display().to_string();
    let changed: Vec<&str> = edit
        .diff
        .lines()
        .filter(|line| line.starts_with(['-', '+']))
        .collect();
    assert_eq!(
        changed,
        [
            format!("--- {label}").as_str(),
            format!("+++ {label}").as_str(),
            "-    image: \"localhost:5000/berth/app:1.0.0\"   # pinned by CI",
            "+    image: \"localhost:5000/berth/app:1.1.0\"   # pinned by CI",
        ]
    );
}

#[test]
fn each_quoting_style_in_the_golden_file_is_kept() {
    let (dir, project) = golden_project();
    let compose = dir.path().join("compose.yaml");
    for service in ["worker", "web-canary", "cache"] {
        plan_tag_change(&project, service, "9.9")
            .unwrap()
            .apply()
            .unwrap();
    }
    let text = read(&compose);
    assert!(
        text.contains("    image: 'localhost:5000/berth/app:9.9'\n"),
        "{text}"
    );
    assert!(
        text.contains("  web-canary: {image: localhost:5000/berth/app:9.9, restart: \"no\"}\n"),
        "{text}"
    );
    assert!(
        text.contains("    image:    redis:9.9    # odd spacing before the value\n"),
        "{text}"
    );
    // The command mentions the old image in a string; it is not an image and stays.
    assert!(
        text.contains("echo 'image: localhost:5000/berth/app:1.0.0'"),
        "{text}"
    );
    assert!(
        text.contains("    image: \"localhost:5000/berth/app:1.0.0\"   # pinned by CI\n"),
        "{text}"
    );
}

#[test]
fn reading_reports_the_file_raw_value_and_resolved_image() {
    let (dir, project) = golden_project();
    let image = read_service_image(&project, "cache").unwrap();
    assert_eq!(image.file, dir.path().join("compose.yaml"));
    assert_eq!(image.raw, "redis:7.2");
    assert_eq!(image.resolved, "redis:7.2");
    assert_eq!(image.interpolation, Interpolation::Literal);
    assert_eq!(image.blocked, None);
}

#[test]
fn setting_the_current_image_plans_no_change() {
    let (_dir, project) = golden_project();
    let edit = plan_image_change(&project, "web", "localhost:5000/berth/app:1.0.0").unwrap();
    assert!(edit.is_noop());
    assert_eq!(edit.diff, "");
}

#[test]
fn compose_resolves_the_edited_file_to_the_new_image() {
    let (dir, project) = golden_project();
    plan_tag_change(&project, "web", "1.1.0")
        .unwrap()
        .apply()
        .unwrap();
    let Some(images) = compose_images(dir.path(), &["compose.yaml"]) else {
        return;
    };
    let expected = [
        "localhost:5000/berth/app:1.1.0",
        "localhost:5000/berth/app:1.0.0",
        "localhost:5000/berth/app:1.0.0-canary",
        "redis:7.2",
    ];
    assert_eq!(images, expected.map(str::to_owned).into());
}
