//! Writing: atomically (readers see the old file or the new one, never a mix), keeping mode
//! and owner, only over the value the plan was made from, and leaving no temporary files.

use std::fs::{self, File, Permissions};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt, chown};

use berth::discovery::compose_file::{ComposeFileError, ComposeProject, plan_tag_change};

use super::{fixture, names_in, project_with, read};

fn golden_in_busy_directory() -> (tempfile::TempDir, ComposeProject) {
    let dir = project_with(&[
        ("golden/compose.yaml", "compose.yaml"),
        ("multi/compose.yaml", "other.yaml"),
        ("env/dot.env", ".env"),
    ]);
    let project = ComposeProject::new(vec![dir.path().join("compose.yaml")]);
    (dir, project)
}

#[test]
fn mode_0640_is_kept() {
    let (dir, project) = golden_in_busy_directory();
    let compose = dir.path().join("compose.yaml");
    fs::set_permissions(&compose, Permissions::from_mode(0o640)).unwrap();
    plan_tag_change(&project, "web", "1.1.0")
        .unwrap()
        .apply()
        .unwrap();
    assert_eq!(fs::metadata(&compose).unwrap().mode() & 0o7777, 0o640);
}

#[test]
fn the_owner_is_kept_when_berth_runs_as_root() {
    let (dir, project) = golden_in_busy_directory();
    let compose = dir.path().join("compose.yaml");
    if chown(&compose, Some(4321), Some(4321)).is_err() {
        eprintln!("skipped: changing a file's owner needs root, which this test run does not have");
        return;
    }
    plan_tag_change(&project, "web", "1.1.0")
        .unwrap()
        .apply()
        .unwrap();
    let meta = fs::metadata(&compose).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (4321, 4321));
}

#[test]
fn the_file_is_replaced_whole_and_nothing_else_in_the_directory_changes() {
    let (dir, project) = golden_in_busy_directory();
    let compose = dir.path().join("compose.yaml");
    let names_before = names_in(dir.path());
    let inode_before = fs::metadata(&compose).unwrap().ino();
    // A reader that opened the file before the edit keeps reading the whole old file: the
    // new contents arrive by rename, never by rewriting the bytes it is reading.
    let mut reader = File::open(&compose).unwrap();

    plan_tag_change(&project, "web", "1.1.0")
        .unwrap()
        .apply()
        .unwrap();

    let mut seen_by_reader = String::new();
    reader.read_to_string(&mut seen_by_reader).unwrap();
    assert_eq!(seen_by_reader, read(&fixture("golden/compose.yaml")));
    assert_eq!(
        read(&compose),
        read(&fixture("golden/compose.web-1.1.0.yaml"))
    );
    assert_ne!(fs::metadata(&compose).unwrap().ino(), inode_before);
    assert_eq!(
        names_in(dir.path()),
        names_before,
        "a temporary file was left behind"
    );
    assert_eq!(
        read(&dir.path().join("other.yaml")),
        read(&fixture("multi/compose.yaml"))
    );
    assert_eq!(
        read(&dir.path().join(".env")),
        read(&fixture("env/dot.env"))
    );
}

#[test]
fn a_change_elsewhere_between_plan_and_apply_is_kept() {
    let (dir, project) = golden_in_busy_directory();
    let compose = dir.path().join("compose.yaml");
    let edit = plan_tag_change(&project, "web", "1.1.0").unwrap();
    let edited_by_someone = read(&compose).replace("# pinned by CI", "# pinned by ops");
    fs::write(&compose, &edited_by_someone).unwrap();

    edit.apply().unwrap();
    assert_eq!(
        read(&compose),
        read(&fixture("golden/compose.web-1.1.0.yaml"))
            .replace("# pinned by CI", "# pinned by ops")
    );
}

#[test]
fn a_change_of_the_value_itself_between_plan_and_apply_is_refused() {
    let (dir, project) = golden_in_busy_directory();
    let compose = dir.path().join("compose.yaml");
    let edit = plan_tag_change(&project, "web", "1.1.0").unwrap();
    plan_tag_change(&project, "web", "1.0.7")
        .unwrap()
        .apply()
        .unwrap();
    let edited_by_someone = read(&compose);
    let names_before = names_in(dir.path());

    let error = edit.apply().unwrap_err();
    assert!(
        matches!(error, ComposeFileError::ValueChanged { .. }),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&compose.display().to_string()) && message.contains("1.0.7"),
        "{message}"
    );
    assert_eq!(read(&compose), edited_by_someone);
    assert_eq!(names_in(dir.path()), names_before);
}

#[test]
fn revert_restores_the_old_bytes_and_mode_and_is_safe_to_repeat() {
    let (dir, project) = golden_in_busy_directory();
    let compose = dir.path().join("compose.yaml");
    fs::set_permissions(&compose, Permissions::from_mode(0o640)).unwrap();
    let edit = plan_tag_change(&project, "web", "1.1.0").unwrap();
    edit.apply().unwrap();
    edit.revert().unwrap();
    assert_eq!(read(&compose), read(&fixture("golden/compose.yaml")));
    assert_eq!(fs::metadata(&compose).unwrap().mode() & 0o7777, 0o640);
    // Crash recovery may revert an edit whose state it does not know.
    edit.revert().unwrap();
    assert_eq!(read(&compose), read(&fixture("golden/compose.yaml")));
}

#[test]
fn revert_keeps_another_services_later_change() {
    let (dir, project) = golden_in_busy_directory();
    let compose = dir.path().join("compose.yaml");
    let edit = plan_tag_change(&project, "web", "1.1.0").unwrap();
    edit.apply().unwrap();
    let cache = plan_tag_change(&project, "cache", "7.4").unwrap();
    cache.apply().unwrap();

    edit.revert().unwrap();
    let text = read(&compose);
    assert!(text.contains("redis:7.4"), "{text}");
    // Reverting the other edit too gives the original bytes back.
    cache.revert().unwrap();
    assert_eq!(read(&compose), read(&fixture("golden/compose.yaml")));
}

#[test]
fn revert_refuses_to_undo_someone_elses_change_of_the_same_value() {
    let (dir, project) = golden_in_busy_directory();
    let compose = dir.path().join("compose.yaml");
    let edit = plan_tag_change(&project, "web", "1.1.0").unwrap();
    edit.apply().unwrap();
    plan_tag_change(&project, "web", "1.2.0")
        .unwrap()
        .apply()
        .unwrap();
    assert!(matches!(
        edit.revert(),
        Err(ComposeFileError::ValueChanged { .. })
    ));
    assert!(read(&compose).contains("1.2.0"));
}
