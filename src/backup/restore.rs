//! Restoring a backup into a data directory: verified whole before anything is touched,
//! refused while a server runs on the directory, and undone if any step fails. The
//! databases it replaces are kept aside in `replaced-<time>/` inside the data directory, for
//! the operator to delete once satisfied. Databases from an older release are migrated, so
//! a backup restores on a fresh machine with the same or a newer binary.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{BackupError, CONTROL_FILE, Manifest, VerifyError, verify};
use crate::config::Config;
use crate::storage::{Database, Schema};

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error(
        "a Holdfast server is running on {0}; stop it first (a restore replaces its databases)"
    )]
    Running(PathBuf),
    #[error(
        "{name} is at schema version {found}, newer than this release knows ({known}); restore it with that release or a later one"
    )]
    Newer {
        name: String,
        found: u32,
        known: u32,
    },
    #[error("cannot restore: {0}")]
    Io(#[from] io::Error),
    #[error("the restored databases cannot be brought up to date: {0}")]
    Migrate(String),
    #[error(transparent)]
    Backup(#[from] BackupError),
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    /// Where the databases it replaced are, if there were any.
    pub aside: Option<PathBuf>,
}

/// Restores the backup at `file` into `config`'s data directory.
pub fn restore(config: &Config, file: &Path) -> Result<Restored, RestoreError> {
    let data = &config.data_dir;
    crate::fsutil::create_private_dir(data)?;
    let _lock =
        crate::fsutil::DataDirLock::take(data).map_err(|_| RestoreError::Running(data.clone()))?;
    let incoming = tempfile::Builder::new()
        .prefix(".restore-")
        .tempdir_in(data)?;
    let manifest = verify(file, incoming.path())?;
    for entry in &manifest.files {
        let schema = if entry.name == CONTROL_FILE {
            Schema::Control
        } else {
            Schema::Tenant
        };
        if entry.schema_version > schema.latest_version() {
            return Err(RestoreError::Newer {
                name: entry.name.clone(),
                found: entry.schema_version,
                known: schema.latest_version(),
            });
        }
    }
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let aside = data.join(format!("replaced-{stamp}"));
    let moved = set_aside(data, &aside)?;
    if let Err(err) = put_in_place(incoming.path(), data, &manifest) {
        undo(data, &aside, &moved);
        return Err(err);
    }
    if moved.is_empty() {
        let _ = fs::remove_dir(&aside);
    }
    Ok(Restored {
        manifest,
        aside: (!moved.is_empty()).then_some(aside),
    })
}

/// What a data directory's databases are made of.
const DATABASE_FILES: &[&str] = &[
    "holdfast.db",
    "holdfast.db-wal",
    "holdfast.db-shm",
    "tenants",
];

/// Moves the current databases into `aside`; answers what it moved.
fn set_aside(data: &Path, aside: &Path) -> io::Result<Vec<&'static str>> {
    crate::fsutil::create_private_dir(aside)?;
    let mut moved = Vec::new();
    for name in DATABASE_FILES {
        let path = data.join(name);
        if path.exists() {
            fs::rename(&path, aside.join(name))?;
            moved.push(*name);
        }
    }
    Ok(moved)
}

/// Moves the verified databases into the data directory and migrates them.
fn put_in_place(incoming: &Path, data: &Path, manifest: &Manifest) -> Result<(), RestoreError> {
    fs::rename(incoming.join(CONTROL_FILE), data.join(CONTROL_FILE))?;
    fs::rename(incoming.join("tenants"), data.join("tenants"))?;
    let migrate = |path: &Path, schema| {
        Database::open_existing(path, schema, 1)
            .map(drop)
            .map_err(|e| RestoreError::Migrate(format!("{}: {e}", path.display())))
    };
    migrate(&data.join(CONTROL_FILE), Schema::Control)?;
    for entry in manifest.files.iter().filter(|f| f.name != CONTROL_FILE) {
        migrate(&data.join(&entry.name), Schema::Tenant)?;
    }
    Ok(())
}

/// Puts the set-aside databases back after a failed restore (best effort: what cannot be
/// moved back stays in `aside`, which the error leaves in place).
fn undo(data: &Path, aside: &Path, moved: &[&str]) {
    for name in DATABASE_FILES {
        let path = data.join(name);
        let _ = if path.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
    }
    for name in moved {
        let _ = fs::rename(aside.join(name), data.join(name));
    }
    let _ = fs::remove_dir(aside);
}
