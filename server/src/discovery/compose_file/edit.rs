//! A planned edit, and writing it. An edit is one value: a service's `image:` in a compose
//! file, or one variable of the project's `.env`. Applying or reverting it reads the file as
//! it is now and changes that value only when it still holds what the edit expects, so edits
//! of other services of the same file, made in between, are kept; only a change of that very
//! value by someone else is refused. The write is atomic (a temporary file in the same
//! directory, written, fsynced, renamed over the target, then the directory fsynced), so a
//! reader or a crash sees the old file or the new one, never a mix. Mode and owner are kept.

use std::fs::{self, File, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt, fchown};
use std::path::{Path, PathBuf};

use super::locate::{InFile, service_image};
use super::{ComposeFileError, Refusal, dotenv, yaml};

/// Where an edit writes its value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EditTarget {
    /// The `image:` of a service in a compose file.
    ServiceImage { service: String },
    /// A variable of the project's `.env`.
    EnvVariable { name: String },
}

impl std::fmt::Display for EditTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EditTarget::ServiceImage { service } => write!(f, "the image of service `{service}`"),
            EditTarget::EnvVariable { name } => write!(f, "{name}"),
        }
    }
}

/// One planned change of a service's image: where, the value before and after, and a unified
/// diff for the revision record. Serializable so the rollout can persist it and revert it
/// after a crash; it holds no other contents of the file (a `.env` keeps secrets).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageEdit {
    pub service: String,
    /// The compose file, or the project's `.env` when the image comes from a variable.
    pub path: PathBuf,
    pub target: EditTarget,
    /// The value as written before the edit; `None` when the edit adds it (a variable that
    /// `.env` does not set yet, or a `.env` that does not exist yet).
    pub old_value: Option<String>,
    pub new_value: String,
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
        self.old_value.as_deref() == Some(self.new_value.as_str())
    }

    /// Write the new value, if the file still holds the old one. A file that already holds
    /// the new value is left alone (applying twice is fine).
    pub fn apply(&self) -> Result<(), ComposeFileError> {
        self.replace(self.old_value.as_deref(), Some(&self.new_value))
    }

    /// Put the old value back (remove the variable, and an emptied `.env`, if the edit added
    /// it), if the file still holds what `apply` wrote. A file that already holds the old
    /// value is left alone, so crash recovery can call this whether or not the edit was
    /// applied.
    pub fn revert(&self) -> Result<(), ComposeFileError> {
        self.replace(Some(&self.new_value), self.old_value.as_deref())
    }

    fn replace(
        &self,
        expected: Option<&str>,
        wanted: Option<&str>,
    ) -> Result<(), ComposeFileError> {
        let path = &self.path;
        let text = match fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(error) if error.kind() == io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(ComposeFileError::Read {
                    path: path.clone(),
                    source,
                });
            }
        };
        let refuse = |reason: Refusal| ComposeFileError::Plan {
            path: path.clone(),
            service: self.service.clone(),
            reason,
        };
        let edited = match &self.target {
            EditTarget::ServiceImage { service } => {
                let text = text.as_deref().unwrap_or_default();
                let document = yaml::parse(text).map_err(|source| ComposeFileError::Parse {
                    path: path.clone(),
                    source,
                })?;
                let InFile::Image(located) = service_image(&document, text, service) else {
                    return Err(self.value_changed(expected, None));
                };
                let current = located.scalar.value.as_str();
                if Some(current) == wanted {
                    return Ok(());
                }
                // An image is only ever changed in a compose file, never removed.
                let (true, Some(wanted)) = (Some(current) == expected, wanted) else {
                    return Err(self.value_changed(expected, Some(current)));
                };
                Some(yaml::splice(text, &document, located.scalar, wanted).map_err(refuse)?)
            }
            EditTarget::EnvVariable { name } => {
                let current = text
                    .as_deref()
                    .and_then(|text| dotenv::value(text, name))
                    .map(|(value, _)| value);
                if current.as_deref() == wanted {
                    return Ok(());
                }
                if current.as_deref() != expected {
                    return Err(self.value_changed(expected, current.as_deref()));
                }
                let text = text.unwrap_or_default();
                let edited = match wanted {
                    Some(value) => dotenv::set(&text, name, value),
                    None => dotenv::remove(&text, name),
                };
                // A `.env` the edit created, and left with nothing, goes again.
                Some(edited.map_err(refuse)?).filter(|edited| !edited.trim().is_empty())
            }
        };
        match edited {
            Some(contents) => write_atomically(path, contents.as_bytes()),
            None => remove(path),
        }
    }

    fn value_changed(&self, expected: Option<&str>, found: Option<&str>) -> ComposeFileError {
        let text = |value: Option<&str>| value.unwrap_or("(not set)").to_owned();
        ComposeFileError::ValueChanged {
            path: self.path.clone(),
            target: self.target.to_string(),
            expected: text(expected),
            found: text(found),
        }
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

    fn env_edit(path: &Path, old_value: Option<&str>) -> ImageEdit {
        ImageEdit {
            service: "web".into(),
            path: path.to_owned(),
            target: EditTarget::EnvVariable { name: "APP".into() },
            old_value: old_value.map(str::to_owned),
            new_value: "app:2".into(),
            old_image: "app:1".into(),
            new_image: "app:2".into(),
            diff: String::new(),
            also_affected: Vec::new(),
        }
    }

    #[test]
    fn reverting_an_edit_that_created_the_file_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let edit = env_edit(&dir.path().join(".env"), None);
        edit.apply().unwrap();
        assert_eq!(fs::read_to_string(&edit.path).unwrap(), "APP=app:2\n");
        edit.revert().unwrap();
        assert!(!edit.path.exists());
        // Reverting again (as crash recovery might) is harmless.
        edit.revert().unwrap();
    }

    #[test]
    fn reverting_keeps_what_others_wrote_beside_the_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        fs::write(&path, "APP=app:1\n").unwrap();
        let edit = env_edit(&path, Some("app:1"));
        edit.apply().unwrap();
        fs::write(&path, "APP=app:2\nWORKER=worker:7\n").unwrap();
        edit.revert().unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "APP=app:1\nWORKER=worker:7\n"
        );

        fs::write(&path, "APP=app:3\n").unwrap();
        let error = edit.apply().unwrap_err();
        assert!(
            matches!(error, ComposeFileError::ValueChanged { .. }),
            "{error}"
        );
        assert!(error.to_string().contains("app:3"), "{error}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "APP=app:3\n");
    }
}
