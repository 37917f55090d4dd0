//! The open tenant databases: opened lazily on first use, migrated when behind, and bounded
//! so that an appliance with thousands of tenants keeps only the busiest few open.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use lru::LruCache;

use super::TenantId;
use crate::storage::{Database, MigrationReport, Schema, StorageError};

/// Connections per open tenant database. Writes to one tenant never wait on another's, so a
/// small pool per tenant is enough.
const TENANT_POOL_SIZE: u32 = 4;

/// `Database::open` (creates) or `Database::open_existing` (never creates).
type Opener = fn(&Path, Schema, u32) -> Result<(Database, MigrationReport), StorageError>;

#[derive(Debug, thiserror::Error)]
pub enum TenantDbError {
    #[error("tenant database {0} does not exist")]
    Missing(PathBuf),
    #[error("tenant database {path}: {source}")]
    Storage {
        path: PathBuf,
        #[source]
        source: StorageError,
    },
}

/// Hands out tenant databases by id.
#[derive(Debug)]
pub struct TenantDatabases {
    dir: PathBuf,
    open: Mutex<LruCache<TenantId, Database>>,
}

impl TenantDatabases {
    /// Tenant databases under `dir`, at most `max_open` open at once.
    pub fn new(dir: &Path, max_open: NonZeroUsize) -> Self {
        Self {
            dir: dir.to_path_buf(),
            open: Mutex::new(LruCache::new(max_open)),
        }
    }

    /// The file of a tenant's database.
    pub fn path(&self, id: &TenantId) -> PathBuf {
        self.dir.join(format!("{id}.db"))
    }

    /// Creates and migrates a new tenant's database. Blocking.
    pub fn create(&self, id: &TenantId) -> Result<Database, TenantDbError> {
        let path = self.path(id);
        self.open_with(id, &path, Database::open)
    }

    /// The tenant's database, opened (and migrated if behind) if it is not open yet. Never
    /// creates one. Blocking on first open.
    pub fn get(&self, id: &TenantId) -> Result<Database, TenantDbError> {
        if let Some(db) = self.lock().get(id) {
            return Ok(db.clone());
        }
        let path = self.path(id);
        if !path.is_file() {
            return Err(TenantDbError::Missing(path));
        }
        self.open_with(id, &path, Database::open_existing)
    }

    /// The tenant's database if it is open now; never opens one, so async code may ask.
    pub fn get_open(&self, id: &TenantId) -> Option<Database> {
        self.lock().get(id).cloned()
    }

    fn open_with(
        &self,
        id: &TenantId,
        path: &Path,
        open: Opener,
    ) -> Result<Database, TenantDbError> {
        let (db, _) = open(path, Schema::Tenant, TENANT_POOL_SIZE).map_err(|source| {
            TenantDbError::Storage {
                path: path.to_path_buf(),
                source,
            }
        })?;
        // Statistics for the query planner, bounded so opening stays quick: see
        // `statistics`. Before the pool opens more connections, so all of them load these.
        if let Ok(conn) = db.conn()
            && let Err(err) = super::statistics::refresh(&conn)
        {
            tracing::warn!(
                "cannot refresh the planner's statistics of {}: {err}",
                path.display()
            );
        }
        self.remember(id, &db);
        Ok(db)
    }

    /// Held while a tenant's database file and its row in the control database disagree (a
    /// tenant being created or deleted), by any process: a shared lock on `tenants/.lock`,
    /// which the search for databases no tenant owns takes exclusively, so it never takes a
    /// tenant that is half made. Blocking while that search runs (a moment).
    pub fn changing(&self) -> std::io::Result<std::fs::File> {
        let file = super::orphans::lock_file(&self.dir)?;
        file.lock_shared()?;
        Ok(file)
    }

    /// Closes the tenant's database (if open) so its file can be removed or replaced.
    /// Requests already holding it finish with their handle.
    pub fn forget(&self, id: &TenantId) {
        self.lock().pop(id);
    }

    /// Closes the tenant's database and removes its files (database, WAL and shared memory).
    /// Missing files are fine: removal is what was asked for.
    pub fn remove(&self, id: &TenantId) {
        self.forget(id);
        let path = self.path(id);
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.clone().into_os_string();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }

    /// How many tenant databases are open now.
    pub fn open_count(&self) -> usize {
        self.lock().len()
    }

    fn remember(&self, id: &TenantId, db: &Database) {
        // The least recently used database beyond the bound is dropped here; its pool closes
        // once the last request using it lets go.
        self.lock().put(id.clone(), db.clone());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<TenantId, Database>> {
        // A panic while holding this lock cannot leave the cache inconsistent: every
        // operation on it is a single call.
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(n: usize) -> NonZeroUsize {
        NonZeroUsize::new(n).unwrap()
    }

    #[test]
    fn databases_open_lazily_and_stay_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let dbs = TenantDatabases::new(dir.path(), bound(2));
        let ids: Vec<TenantId> = (0..3).map(|_| TenantId::generate()).collect();
        for id in &ids {
            dbs.create(id).unwrap();
        }
        assert_eq!(dbs.open_count(), 2, "the bound holds");
        for id in &ids {
            let db = dbs.get(id).unwrap();
            let version: u32 = db
                .conn()
                .unwrap()
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(version, Schema::Tenant.latest_version());
        }
        assert_eq!(dbs.open_count(), 2);
    }

    #[test]
    fn a_missing_tenant_database_is_never_created_by_a_read() {
        let dir = tempfile::tempdir().unwrap();
        let dbs = TenantDatabases::new(dir.path(), bound(4));
        let id = TenantId::generate();
        assert!(matches!(dbs.get(&id), Err(TenantDbError::Missing(_))));
        assert!(!dbs.path(&id).exists());
    }

    #[test]
    fn each_tenant_has_its_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let dbs = TenantDatabases::new(dir.path(), bound(4));
        let (a, b) = (TenantId::generate(), TenantId::generate());
        dbs.create(&a)
            .unwrap()
            .conn()
            .unwrap()
            .execute("INSERT INTO tenant_meta VALUES ('name', 'A')", [])
            .unwrap();
        dbs.create(&b).unwrap();
        let in_b: i64 = dbs
            .get(&b)
            .unwrap()
            .conn()
            .unwrap()
            .query_row(
                "SELECT count(*) FROM tenant_meta WHERE key = 'name'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(in_b, 0);
        assert_ne!(dbs.path(&a), dbs.path(&b));
    }
}
