//! Tenant databases that no tenant owns. Creating a tenant writes its database file and then
//! commits its row; deleting one removes the row and then the file. A crash between the two
//! steps leaves a file without a tenant. The server looks for such files at start and every
//! hour, and moves each (with its WAL and shared-memory files) to `orphans/` in the data
//! directory, saying so in the log — never deleting it: it may hold data someone wants.
//!
//! Whoever creates or deletes a tenant holds `tenants/.lock` shared meanwhile (see
//! `TenantDatabases::changing`), in whatever process; the search holds it exclusively, and
//! skips its turn if it cannot have it at once: a tenant half made is never taken for an
//! orphan.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rusqlite::Connection;

use super::TenantId;

/// A database moved aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orphan {
    pub file: PathBuf,
    pub moved_to: PathBuf,
}

/// The lock file of `tenants_dir`.
pub fn lock_file(tenants_dir: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(tenants_dir.join(".lock"))
}

/// Moves the tenant databases in `tenants_dir` that no row of `conn`'s `tenants` table names
/// into `orphans_dir`. Moves none while a tenant is being created or deleted.
pub fn tidy(
    conn: &Connection,
    tenants_dir: &Path,
    orphans_dir: &Path,
) -> Result<Vec<Orphan>, io::Error> {
    let lock = lock_file(tenants_dir)?;
    if lock.try_lock().is_err() {
        return Ok(Vec::new());
    }
    let owned = |id: &str| -> Result<bool, io::Error> {
        conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM tenants WHERE id = ?1)",
            [id],
            |r| r.get(0),
        )
        .map_err(io::Error::other)
    };
    let mut moved = Vec::new();
    for entry in fs::read_dir(tenants_dir)? {
        let path = entry?.path();
        let Some(id) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".db"))
            .filter(|id| id.parse::<TenantId>().is_ok())
        else {
            continue;
        };
        if owned(id)? {
            continue;
        }
        crate::fsutil::create_private_dir(orphans_dir)?;
        let stamp = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let target = orphans_dir.join(format!("{id}-{stamp}.db"));
        // The WAL first: a database file moved without its WAL would lose what the WAL holds.
        for suffix in ["-wal", "-shm"] {
            let from = with_suffix(&path, suffix);
            if from.exists() {
                fs::rename(&from, with_suffix(&target, suffix))?;
            }
        }
        fs::rename(&path, &target)?;
        moved.push(Orphan {
            file: path,
            moved_to: target,
        });
    }
    Ok(moved)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_no_tenant_owns_are_moved_with_their_wal_and_none_mid_change() {
        let dir = tempfile::tempdir().unwrap();
        let tenants = dir.path().join("tenants");
        let orphans = dir.path().join("orphans");
        fs::create_dir(&tenants).unwrap();
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE tenants (id TEXT PRIMARY KEY)")
            .unwrap();
        let owned = TenantId::generate();
        conn.execute("INSERT INTO tenants (id) VALUES (?1)", [owned.as_str()])
            .unwrap();
        let lost = TenantId::generate();
        for id in [&owned, &lost] {
            fs::write(tenants.join(format!("{id}.db")), b"data").unwrap();
        }
        fs::write(tenants.join(format!("{lost}.db-wal")), b"wal").unwrap();
        fs::write(tenants.join("notes.txt"), b"not a database").unwrap();

        // While a tenant is being made (here or in another process), nothing moves.
        let making = lock_file(&tenants).unwrap();
        making.lock_shared().unwrap();
        assert!(tidy(&conn, &tenants, &orphans).unwrap().is_empty());
        drop(making);

        let moved = tidy(&conn, &tenants, &orphans).unwrap();
        assert_eq!(moved.len(), 1);
        assert_eq!(moved[0].file, tenants.join(format!("{lost}.db")));
        assert_eq!(fs::read(&moved[0].moved_to).unwrap(), b"data");
        assert_eq!(
            fs::read(with_suffix(&moved[0].moved_to, "-wal")).unwrap(),
            b"wal"
        );
        for kept in [format!("{owned}.db"), "notes.txt".into()] {
            assert!(tenants.join(&kept).exists(), "{kept}");
        }
        assert!(tidy(&conn, &tenants, &orphans).unwrap().is_empty());
    }
}
