//! Backups of the whole appliance: one tar file holding a consistent snapshot of the control
//! database and of every tenant's database, taken while the server runs and writes, and a
//! manifest first (instance id, version, each file's schema version, size and SHA-256).
//!
//! Each database is copied with `VACUUM INTO`, which reads it in one transaction: the copy is
//! the database as it was at one commit, whatever writers do meanwhile. The control database
//! is copied first and names the tenants to copy, so a tenant made during the backup is
//! either whole in it or absent from it, never a database no tenant owns.
//!
//! `verify` checks an archive without trusting it; `restore` verifies before it replaces
//! anything (see `restore`).

mod restore;
mod verify;

pub use restore::{RestoreError, Restored, restore, restore_tenant};
pub use verify::{VerifyError, verify};

use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;

/// The archive format, as its manifest names it.
pub const FORMAT: &str = "holdfast-backup";
pub const FORMAT_VERSION: u32 = 1;
/// The control database's name inside an archive; tenants' are `tenants/<id>.db`.
pub const CONTROL_FILE: &str = "holdfast.db";
/// A backup's manifest, the archive's first file.
pub const MANIFEST_FILE: &str = "manifest.json";

/// What a backup holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub instance_id: String,
    pub holdfast_version: String,
    pub created_at: String,
    /// Set for one tenant's backup (`holdfast tenant backup`), which holds only its database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<TenantScope>,
    pub files: Vec<BackupFile>,
}

/// The tenant a one-tenant backup is of.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TenantScope {
    pub id: String,
    pub slug: String,
    pub name: String,
}

/// One database in a backup.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupFile {
    /// `holdfast.db` or `tenants/<id>.db`.
    pub name: String,
    /// The tenant's slug; none for the control database.
    pub tenant: Option<String>,
    /// SQLite `user_version`: the schema step the database is at.
    pub schema_version: u32,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("cannot write the backup: {0}")]
    Io(#[from] io::Error),
    #[error("cannot copy a database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("there is no appliance in {0} (no control database)")]
    NoAppliance(PathBuf),
    #[error("the disk the backup goes to is full; nothing was kept of this backup")]
    DiskFull,
}

/// Writes a backup of the appliance in `config`'s data directory into `out_dir`; answers the
/// archive's path and manifest. The archive appears whole or not at all (written under a
/// temporary name, synced, then renamed).
pub fn create(config: &Config, out_dir: &Path) -> Result<(PathBuf, Manifest), BackupError> {
    let control = config.control_db_path();
    if !control.exists() {
        return Err(BackupError::NoAppliance(config.data_dir.clone()));
    }
    crate::fsutil::create_private_dir(out_dir)?;
    let scratch = tempfile::Builder::new()
        .prefix(".backup-")
        .tempdir_in(out_dir)?;
    let control_copy = scratch.path().join(CONTROL_FILE);
    copy_database(&control, &control_copy)?;
    let (instance_id, tenants) = {
        let conn = Connection::open_with_flags(&control_copy, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let instance: String = conn.query_row(
            "SELECT value FROM appliance_meta WHERE key = 'instance_id'",
            [],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare("SELECT id, slug FROM tenants ORDER BY created_at, id")?;
        let tenants: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        (instance, tenants)
    };
    let mut files = vec![described(&control_copy, CONTROL_FILE, None)?];
    fs::create_dir(scratch.path().join("tenants"))?;
    for (id, slug) in tenants {
        let name = format!("tenants/{id}.db");
        let source = config.tenants_dir().join(format!("{id}.db"));
        let copy = scratch.path().join(&name);
        copy_database(&source, &copy)?;
        files.push(described(&copy, &name, Some(slug))?);
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        instance_id,
        holdfast_version: crate::build_info::VERSION.into(),
        created_at: crate::crm::values::rfc3339(crate::crm::now()),
        tenant: None,
        files,
    };
    let path = finish(&manifest, scratch.path(), out_dir, "holdfast-backup")?;
    Ok((path, manifest))
}

/// Writes a backup of one tenant's database into `out_dir`, while the server runs.
pub fn create_tenant(
    config: &Config,
    tenant: &crate::tenancy::Tenant,
    instance_id: &str,
    out_dir: &Path,
) -> Result<(PathBuf, Manifest), BackupError> {
    crate::fsutil::create_private_dir(out_dir)?;
    let scratch = tempfile::Builder::new()
        .prefix(".backup-")
        .tempdir_in(out_dir)?;
    fs::create_dir(scratch.path().join("tenants"))?;
    let name = format!("tenants/{}.db", tenant.id);
    let copy = scratch.path().join(&name);
    copy_database(
        &config.tenants_dir().join(format!("{}.db", tenant.id)),
        &copy,
    )?;
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        instance_id: instance_id.into(),
        holdfast_version: crate::build_info::VERSION.into(),
        created_at: crate::crm::values::rfc3339(crate::crm::now()),
        tenant: Some(TenantScope {
            id: tenant.id.clone(),
            slug: tenant.slug.clone(),
            name: tenant.name.clone(),
        }),
        files: vec![described(&copy, &name, Some(tenant.slug.clone()))?],
    };
    let stem = format!("holdfast-tenant-{}", tenant.slug);
    let path = finish(&manifest, scratch.path(), out_dir, &stem)?;
    Ok((path, manifest))
}

/// Writes the archive of the files in `scratch` and gives it its name in `out_dir`.
fn finish(
    manifest: &Manifest,
    scratch: &Path,
    out_dir: &Path,
    stem: &str,
) -> Result<PathBuf, BackupError> {
    let stamp = manifest.created_at.replace([':', '-'], "");
    let path = unused_name(out_dir, &format!("{stem}-{stamp}"));
    let partial = scratch.join("archive.tar");
    write_archive(&partial, manifest, scratch, crate::crm::now())?;
    fs::rename(&partial, &path)?;
    File::open(out_dir)?.sync_all()?;
    Ok(path)
}

/// `out_dir/<stem>.tar`, or with `-2`, `-3`… if taken (two backups in one second).
fn unused_name(out_dir: &Path, stem: &str) -> PathBuf {
    let mut path = out_dir.join(format!("{stem}.tar"));
    let mut n = 2;
    while path.exists() {
        path = out_dir.join(format!("{stem}-{n}.tar"));
        n += 1;
    }
    path
}

/// Copies the database at `source` to the new file `target` as of one commit.
fn copy_database(source: &Path, target: &Path) -> Result<(), BackupError> {
    // Read-write, not read-only: a reader of a WAL database may need to create its shared
    // memory file; `VACUUM INTO` itself only reads.
    let conn = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.execute(
        "VACUUM INTO ?1",
        [target.to_str().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "a path that is not UTF-8")
        })?],
    )
    .map_err(|e| {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
            BackupError::DiskFull
        } else {
            e.into()
        }
    })?;
    Ok(())
}

/// A copied database's manifest entry.
fn described(path: &Path, name: &str, tenant: Option<String>) -> Result<BackupFile, BackupError> {
    let schema_version = {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))?
    };
    let (bytes, sha256) = measure(&mut File::open(path)?)?;
    Ok(BackupFile {
        name: name.into(),
        tenant,
        schema_version,
        bytes,
        sha256,
    })
}

/// The size and SHA-256 of what `reader` gives.
pub(crate) fn measure(reader: &mut impl io::Read) -> io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let bytes = io::copy(reader, &mut hasher)?;
    Ok((bytes, crate::license::hex(&hasher.finalize())))
}

/// The tar: the manifest, then each file, synced to disk.
fn write_archive(
    path: &Path,
    manifest: &Manifest,
    dir: &Path,
    mtime: i64,
) -> Result<(), BackupError> {
    let file = File::create(path)?;
    let mut tar = tar::Builder::new(BufWriter::new(file));
    let mtime = u64::try_from(mtime).unwrap_or(0);
    let json = serde_json::to_vec_pretty(manifest).map_err(io::Error::other)?;
    crate::archive::append(&mut tar, MANIFEST_FILE, json.len() as u64, mtime, &json[..])?;
    for entry in &manifest.files {
        let source = File::open(dir.join(&entry.name))?;
        crate::archive::append(&mut tar, &entry.name, entry.bytes, mtime, source)?;
    }
    let file = tar
        .into_inner()?
        .into_inner()
        .map_err(io::IntoInnerError::into_error)?;
    file.sync_all()?;
    Ok(())
}
