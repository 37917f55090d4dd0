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
    #[error("{0}")]
    WrongKind(&'static str),
    #[error(
        "no tenant with slug {0}: create it first (holdfast tenant create), then restore into it"
    )]
    NoTenant(String),
    #[error("the control database cannot be read: {0}")]
    Control(String),
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
    if manifest.tenant.is_some() {
        return Err(RestoreError::WrongKind(
            "this is one tenant's backup: restore it with holdfast tenant restore SLUG FILE",
        ));
    }
    newer_than_known(&manifest)?;
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

/// Restores one tenant's backup into the tenant `slug`, which must exist (its users stay as
/// they are; records keep naming the users they named). The server must be stopped.
pub fn restore_tenant(
    config: &Config,
    slug: &crate::tenancy::Slug,
    file: &Path,
) -> Result<Restored, RestoreError> {
    let data = &config.data_dir;
    let _lock =
        crate::fsutil::DataDirLock::take(data).map_err(|_| RestoreError::Running(data.clone()))?;
    let incoming = tempfile::Builder::new()
        .prefix(".restore-")
        .tempdir_in(data)?;
    let manifest = verify(file, incoming.path())?;
    let Some(scope) = manifest.tenant.clone() else {
        return Err(RestoreError::WrongKind(
            "this is a backup of the whole appliance: restore it with holdfast restore FILE",
        ));
    };
    newer_than_known(&manifest)?;
    let (control, _) = Database::open_existing(&config.control_db_path(), Schema::Control, 1)
        .map_err(|e| RestoreError::Control(e.to_string()))?;
    let tenant = crate::tenancy::registry::find(
        &*control
            .conn()
            .map_err(|e| RestoreError::Control(e.to_string()))?,
        slug,
    )
    .map_err(|e| RestoreError::Control(e.to_string()))?
    .ok_or_else(|| RestoreError::NoTenant(slug.to_string()))?;
    let target = config.tenants_dir().join(format!("{}.db", tenant.id));
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let aside = data.join(format!("replaced-{stamp}"));
    crate::fsutil::create_private_dir(&aside)?;
    let mut moved = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let from = with_suffix(&target, suffix);
        if from.exists() {
            let to = aside.join(format!("{}.db{suffix}", tenant.id));
            fs::rename(&from, &to)?;
            moved.push((from, to));
        }
    }
    let placed = fs::rename(
        incoming.path().join(format!("tenants/{}.db", scope.id)),
        &target,
    )
    .map_err(RestoreError::from)
    .and_then(|()| {
        Database::open_existing(&target, Schema::Tenant, 1)
            .map(drop)
            .map_err(|e| RestoreError::Migrate(e.to_string()))
    });
    if let Err(err) = placed {
        for suffix in ["", "-wal", "-shm"] {
            let _ = fs::remove_file(with_suffix(&target, suffix));
        }
        for (from, to) in moved {
            let _ = fs::rename(to, from);
        }
        let _ = fs::remove_dir(&aside);
        return Err(err);
    }
    Ok(Restored {
        manifest,
        aside: Some(aside),
    })
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Refuses a backup whose databases are at a schema step this release does not know.
fn newer_than_known(manifest: &Manifest) -> Result<(), RestoreError> {
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
    Ok(())
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
