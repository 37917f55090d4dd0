//! Checking a backup without trusting it: the manifest comes first and names only files a
//! backup holds; every file in the archive is in the manifest once, with its size and
//! SHA-256; every file of the manifest is in the archive; and each database passes SQLite's
//! `integrity_check` at the schema version the manifest gives.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::{CONTROL_FILE, FORMAT, FORMAT_VERSION, MANIFEST_FILE, Manifest, measure};

/// Largest manifest read (a backup of thousands of tenants is far below it).
const MAX_MANIFEST: u64 = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot read the backup: {0}")]
    Io(#[from] io::Error),
    #[error("not a Holdfast backup: {0}")]
    NotABackup(String),
    #[error("{name}: {what} differs from the manifest (the file is damaged or was changed)")]
    Mismatch { name: String, what: &'static str },
    #[error("{0} is in the manifest but not in the archive")]
    Missing(String),
    #[error("{0} is in the archive but not in its manifest")]
    Unexpected(String),
    #[error("{name} fails SQLite's integrity check: {detail}")]
    Corrupt { name: String, detail: String },
    #[error("made by a newer Holdfast (backup format {0}); use that release or a later one")]
    Newer(u32),
}

/// Verifies the backup at `file`, unpacking its databases into the directory `into`;
/// answers its manifest.
pub fn verify(file: &Path, into: &Path) -> Result<Manifest, VerifyError> {
    let mut archive = tar::Archive::new(File::open(file)?);
    let mut entries = archive.entries()?;
    let manifest = match entries.next() {
        Some(entry) => read_manifest(entry?)?,
        None => return Err(VerifyError::NotABackup("the archive is empty".into())),
    };
    let mut expected: HashSet<&str> = manifest.files.iter().map(|f| f.name.as_str()).collect();
    fs::create_dir_all(into.join("tenants"))?;
    for entry in entries {
        let mut entry = entry?;
        let name = entry.path()?.to_string_lossy().into_owned();
        if !expected.remove(name.as_str()) {
            return Err(VerifyError::Unexpected(
                crate::text::escape(&name).into_owned(),
            ));
        }
        let listed = manifest
            .files
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| VerifyError::Unexpected(name.clone()))?;
        let target = into.join(&listed.name);
        let mut out = File::create(&target)?;
        let mut tee = Tee {
            reader: &mut entry,
            out: &mut out,
        };
        let (bytes, sha256) = measure(&mut tee)?;
        out.sync_all()?;
        if bytes != listed.bytes {
            return Err(mismatch(&name, "its size"));
        }
        if sha256 != listed.sha256 {
            return Err(mismatch(&name, "its SHA-256"));
        }
        check_database(&target, &name, listed.schema_version)?;
    }
    if let Some(missing) = expected.into_iter().next() {
        return Err(VerifyError::Missing(missing.to_owned()));
    }
    Ok(manifest)
}

fn mismatch(name: &str, what: &'static str) -> VerifyError {
    VerifyError::Mismatch {
        name: name.to_owned(),
        what,
    }
}

/// Reads and checks the manifest: its format, and only names a backup gives its files.
fn read_manifest(entry: tar::Entry<'_, File>) -> Result<Manifest, VerifyError> {
    let name = entry.path()?.to_string_lossy().into_owned();
    if name != MANIFEST_FILE {
        return Err(VerifyError::NotABackup(format!(
            "its first file is not {MANIFEST_FILE}"
        )));
    }
    let mut text = Vec::new();
    entry.take(MAX_MANIFEST).read_to_end(&mut text)?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| VerifyError::NotABackup(format!("its manifest cannot be read: {e}")))?;
    if manifest.format != FORMAT {
        return Err(VerifyError::NotABackup(format!(
            "its manifest is of format {:?}",
            crate::text::escape(&manifest.format)
        )));
    }
    if manifest.format_version > FORMAT_VERSION {
        return Err(VerifyError::Newer(manifest.format_version));
    }
    let mut seen = HashSet::new();
    for file in &manifest.files {
        let allowed = file.name == CONTROL_FILE
            || file
                .name
                .strip_prefix("tenants/")
                .and_then(|n| n.strip_suffix(".db"))
                .is_some_and(|id| id.parse::<crate::tenancy::TenantId>().is_ok());
        if !allowed || !seen.insert(file.name.as_str()) {
            return Err(VerifyError::NotABackup(format!(
                "its manifest names a file no backup holds: {}",
                crate::text::escape(&file.name)
            )));
        }
    }
    match &manifest.tenant {
        None if !seen.contains(CONTROL_FILE) => Err(VerifyError::NotABackup(format!(
            "it holds no {CONTROL_FILE}"
        ))),
        Some(tenant)
            if seen.len() != 1 || !seen.contains(format!("tenants/{}.db", tenant.id).as_str()) =>
        {
            Err(VerifyError::NotABackup(
                "a tenant's backup holds that tenant's database and nothing else".into(),
            ))
        }
        _ => Ok(manifest),
    }
}

/// SQLite's `integrity_check`, and the schema version the manifest gives.
fn check_database(path: &Path, name: &str, schema_version: u32) -> Result<(), VerifyError> {
    let corrupt = |detail: String| VerifyError::Corrupt {
        name: name.to_owned(),
        detail,
    };
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| corrupt(e.to_string()))?;
    let result: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| corrupt(e.to_string()))?;
    if result != "ok" {
        return Err(corrupt(result));
    }
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| corrupt(e.to_string()))?;
    if version != schema_version {
        return Err(mismatch(name, "its schema version"));
    }
    Ok(())
}

/// Copies what it reads to `out`.
struct Tee<'a, R, W> {
    reader: &'a mut R,
    out: &'a mut W,
}

impl<R: Read, W: io::Write> Read for Tee<'_, R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.reader.read(buf)?;
        self.out.write_all(&buf[..n])?;
        Ok(n)
    }
}
