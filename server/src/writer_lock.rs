//! One writer per database. `berth serve`, and a command that acts while no server runs,
//! holds an exclusive lock on a file beside the database (`berth.db.lock`) for as long as it
//! runs; the lock goes with the process, however it ends. The file says who holds it and,
//! for a server, where its API listens and the secret a local command presents to it, so a
//! `berth deploy` run beside a server is carried out by that server. The file is readable
//! by its owner only (the secret is in it).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum WriterLockError {
    #[error("cannot open the lock file {}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot lock {}", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write who holds {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Who holds the lock, as its file says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    /// `serve`, or the acting command (`deploy`, `rollback`, …).
    pub command: String,
    /// A server's API address (`127.0.0.1:8080`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen_addr: Option<String>,
    /// The secret a local command presents to the server's API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl Holder {
    pub fn new(command: &str) -> Holder {
        Holder {
            pid: std::process::id(),
            command: command.to_owned(),
            listen_addr: None,
            secret: None,
        }
    }

    /// What a refused process is told about the holder.
    pub fn describe(&self) -> String {
        match &self.listen_addr {
            Some(addr) => format!("`berth serve` (pid {}, listening on {addr})", self.pid),
            None => format!("`berth {}` (pid {})", self.command, self.pid),
        }
    }
}

/// What trying the lock gave.
#[derive(Debug)]
pub enum Attempt {
    Acquired(WriterLock),
    /// Another process holds it; `None` when its file could not be read (it is just being
    /// written, or was written by something else).
    Held(Option<Holder>),
}

/// The held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct WriterLock {
    file: File,
    path: PathBuf,
}

impl WriterLock {
    /// The lock file of a `sqlite://` database URL: beside the database. `None` for an
    /// in-memory database, which no other process can open.
    pub fn path_for(database_url: &str) -> Option<PathBuf> {
        let path = database_url
            .strip_prefix("sqlite://")
            .or_else(|| database_url.strip_prefix("sqlite:"))?;
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() || path.contains(":memory:") {
            return None;
        }
        Some(PathBuf::from(format!("{path}.lock")))
    }

    /// Take the lock at `path` without waiting, and write `holder` into it.
    pub fn try_acquire(path: &Path, holder: &Holder) -> Result<Attempt, WriterLockError> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|source| WriterLockError::Open {
                path: path.to_owned(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let holder = file
                    .read_to_string(&mut text)
                    .ok()
                    .and_then(|_| serde_json::from_str(&text).ok());
                return Ok(Attempt::Held(holder));
            }
            Err(TryLockError::Error(source)) => {
                return Err(WriterLockError::Lock {
                    path: path.to_owned(),
                    source,
                });
            }
        }
        let mut lock = WriterLock {
            file,
            path: path.to_owned(),
        };
        lock.record(holder)?;
        Ok(Attempt::Acquired(lock))
    }

    /// Say who holds the lock (a server, once it knows its address).
    pub fn record(&mut self, holder: &Holder) -> Result<(), WriterLockError> {
        let text = serde_json::to_string(holder).unwrap_or_default();
        let file = &mut self.file;
        let written = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(text.as_bytes()))
            .and_then(|()| file.sync_data());
        written.map_err(|source| WriterLockError::Write {
            path: self.path.clone(),
            source,
        })
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        // Nobody holds it now: say so before the lock goes (the kernel drops it with the
        // file), so a reader never takes a stale secret for a live server's.
        let _ = self.file.set_len(0);
        tracing::debug!(path = %self.path.display(), "released the writer lock");
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_lock_file_sits_beside_a_file_database_only() {
        assert_eq!(
            WriterLock::path_for("sqlite:///var/lib/berth/berth.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/berth/berth.db.lock"))
        );
        assert_eq!(
            WriterLock::path_for("sqlite://berth.db"),
            Some(PathBuf::from("berth.db.lock"))
        );
        assert_eq!(WriterLock::path_for("sqlite::memory:"), None);
        assert_eq!(WriterLock::path_for("postgres://x"), None);
    }

    #[test]
    fn a_second_holder_is_refused_and_told_who_holds_it_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("berth.db.lock");
        let mut server = Holder::new("serve");
        server.listen_addr = Some("127.0.0.1:8080".into());
        server.secret = Some("s3cret".into());
        let Attempt::Acquired(lock) = WriterLock::try_acquire(&path, &server).unwrap() else {
            panic!("the first holder gets the lock");
        };
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // A second open file description, as a second process has.
        match WriterLock::try_acquire(&path, &Holder::new("deploy")).unwrap() {
            Attempt::Held(Some(holder)) => assert_eq!(holder, server),
            other => panic!("must be refused with the holder: {other:?}"),
        }
        drop(lock);
        assert!(matches!(
            WriterLock::try_acquire(&path, &Holder::new("deploy")).unwrap(),
            Attempt::Acquired(_)
        ));
    }
}
