//! A planned edit, and writing it: only when the file still holds what the plan was made
//! from, and atomically (a temporary file in the same directory, written, fsynced, renamed over
//! the target, then the directory fsynced), so a reader or a crash sees the old file or the
//! new one, never a mix. Mode and owner are kept.

use std::fs::{self, File, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt, fchown};
use std::path::{Path, PathBuf};

use super::ComposeFileError;

/// One planned change of a service's image: which file, its exact contents before and after,
/// and a unified diff for the revision record. Serializable so the rollout can persist it
/// and revert it after a crash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageEdit {
    pub service: String,
    /// The compose file, or the project's `.env` when the image comes from a variable.
    pub path: PathBuf,
    /// `None` when the file does not exist yet (a `.env` that the edit creates).
    pub old_contents: Option<String>,
    pub new_contents: String,
    /// The image compose resolves before and after the edit.
    pub old_image: String,
    pub new_image: String,
    /// Empty when the edit changes nothing.
    pub diff: String,
    /// Other services of the project whose image uses the same `.env` variable and so change
    /// with it the next time they are recreated.
    pub also_affected: Vec<String>,
}

impl ImageEdit {
    /// True when the file already says the new image: there is nothing to write.
    pub fn is_noop(&self) -> bool {
        self.old_contents.as_deref() == Some(self.new_contents.as_str())
    }

    /// Write the new contents, if the file still holds the contents the plan was made from.
    /// A file that already holds the new contents is left alone (applying twice is fine).
    pub fn apply(&self) -> Result<(), ComposeFileError> {
        replace(
            &self.path,
            self.old_contents.as_deref(),
            Some(&self.new_contents),
        )
    }

    /// Put the old contents back (remove the file if the edit created it), if the file still
    /// holds what `apply` wrote. A file that already holds the old contents is left alone, so
    /// crash recovery can call this whether or not the edit was applied.
    pub fn revert(&self) -> Result<(), ComposeFileError> {
        replace(
            &self.path,
            Some(&self.new_contents),
            self.old_contents.as_deref(),
        )
    }
}

fn replace(
    path: &Path,
    expected: Option<&str>,
    wanted: Option<&str>,
) -> Result<(), ComposeFileError> {
    let current = match fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(error) if error.kind() == io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(ComposeFileError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    let current = current.as_deref();
    if current == wanted.map(str::as_bytes) {
        return Ok(());
    }
    if current != expected.map(str::as_bytes) {
        return Err(ComposeFileError::ChangedSincePlan {
            path: path.to_owned(),
        });
    }
    match wanted {
        Some(contents) => write_atomically(path, contents.as_bytes()),
        None => remove(path),
    }
}

fn write_error(path: &Path, step: &'static str) -> impl FnOnce(io::Error) -> ComposeFileError {
    let path = path.to_owned();
    move |source| ComposeFileError::Write { path, step, source }
}

/// The directory a file lives in (`.` for a bare file name).
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Replace `path` with `contents` atomically, keeping its mode and owner. A symlink is
/// followed, so the file it points at is replaced and the link stays. A new file takes the
/// owner of its directory and the directory's read/write bits. Crash recovery can use this
/// directly to put back contents it saved.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), ComposeFileError> {
    let target = match fs::canonicalize(path) {
        Ok(target) => target,
        Err(error) if error.kind() == io::ErrorKind::NotFound => path.to_owned(),
        Err(source) => return Err(write_error(path, "resolving the path")(source)),
    };
    let directory = directory_of(&target);
    let (mode, uid, gid) = match fs::metadata(&target) {
        Ok(meta) => (meta.mode() & 0o7777, meta.uid(), meta.gid()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let meta =
                fs::metadata(directory).map_err(write_error(path, "reading the directory"))?;
            (meta.mode() & 0o666, meta.uid(), meta.gid())
        }
        Err(source) => return Err(write_error(path, "reading mode and owner")(source)),
    };

    // The temporary file is removed on drop if anything below fails before the rename.
    let mut temporary = tempfile::Builder::new()
        .prefix(".berth-")
        .suffix(".tmp")
        .tempfile_in(directory)
        .map_err(write_error(path, "creating a temporary file"))?;
    temporary
        .write_all(contents)
        .map_err(write_error(path, "writing the temporary file"))?;
    let file = temporary.as_file();
    let created = file
        .metadata()
        .map_err(write_error(path, "reading the temporary file"))?;
    // Owner first: changing it can clear set-id bits that the mode then restores.
    if (created.uid(), created.gid()) != (uid, gid) {
        fchown(file, Some(uid), Some(gid)).map_err(write_error(path, "keeping the owner"))?;
    }
    file.set_permissions(Permissions::from_mode(mode))
        .map_err(write_error(path, "keeping the mode"))?;
    file.sync_all()
        .map_err(write_error(path, "syncing the temporary file"))?;
    temporary
        .persist(&target)
        .map_err(|error| write_error(path, "renaming over the file")(error.error))?;
    sync_directory(directory).map_err(write_error(path, "syncing the directory"))
}

fn remove(path: &Path) -> Result<(), ComposeFileError> {
    fs::remove_file(path).map_err(write_error(path, "removing the file"))?;
    sync_directory(directory_of(path)).map_err(write_error(path, "syncing the directory"))
}

/// Makes the rename itself durable.
fn sync_directory(directory: &Path) -> io::Result<()> {
    File::open(directory)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symlinked_file_is_replaced_behind_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.yaml");
        let link = dir.path().join("compose.yaml");
        fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomically(&link, b"new").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
    }

    #[test]
    fn reverting_an_edit_that_created_the_file_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let edit = ImageEdit {
            service: "web".into(),
            path: dir.path().join(".env"),
            old_contents: None,
            new_contents: "IMAGE=app:2\n".into(),
            old_image: "app:1".into(),
            new_image: "app:2".into(),
            diff: String::new(),
            also_affected: Vec::new(),
        };
        edit.apply().unwrap();
        assert_eq!(fs::read_to_string(&edit.path).unwrap(), "IMAGE=app:2\n");
        edit.revert().unwrap();
        assert!(!edit.path.exists());
        // Reverting again (as crash recovery might) is harmless.
        edit.revert().unwrap();
    }
}
