//! SQLite storage: a small pool per database file, the same PRAGMAs on every connection,
//! embedded migrations applied on open, and blocking work kept off the async executor.

pub mod commits;
mod migrations;
mod watch;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use r2d2::{Pool, PooledConnection};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};

pub use migrations::{MigrationReport, Schema, migrate as migrate_connection};
pub use watch::{ChangeWatch, Generations, OTHER_PROCESSES_SEEN_WITHIN};

/// How long a connection waits for another writer before giving up with `SQLITE_BUSY`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Applied to every new connection: WAL so readers never block the writer, foreign keys on,
/// a busy timeout so short write bursts queue instead of failing, and `synchronous=NORMAL`,
/// which in WAL mode keeps every committed transaction safe from a process crash. The WAL
/// is copied back into the file by the hook that counts commits ([`commits`]), every
/// [`commits::CHECKPOINT_PAGES`] pages.
const CONNECTION_PRAGMAS: &str = "
    PRAGMA journal_mode = WAL;
    PRAGMA foreign_keys = ON;
    PRAGMA synchronous = NORMAL;
";

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("database connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error(
        "database {path} is at schema version {found}, newer than this Holdfast knows ({supported}); \
         it was written by a newer release: install that release again, or restore a backup taken with this one"
    )]
    SchemaTooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        version: u32,
        name: String,
        source: rusqlite::Error,
    },
    #[error("database task was cancelled")]
    Cancelled,
}

/// Opens a connection with Holdfast's PRAGMAs; used by the pool and by migrations alike.
pub fn configure_connection(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_handler(Some(wait_for_writer))?;
    conn.execute_batch(CONNECTION_PRAGMAS)?;
    commits::count_commits(conn);
    Ok(())
}

/// A connection of its own to the database at `path`, with Holdfast's PRAGMAs: for work that
/// runs on a thread of its own, outside the pool.
pub fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    configure_connection(&conn)?;
    Ok(conn)
}

/// Waits for another connection's write lock, looking again every millisecond for up to
/// [`BUSY_TIMEOUT`]. SQLite's own busy timeout backs off to a look every 100 ms: a writer
/// that commits batch after batch (an import) then takes the lock again before a waiting
/// request ever sees it free, and the request fails after the whole timeout.
fn wait_for_writer(attempts: i32) -> bool {
    if u128::try_from(attempts).unwrap_or(u128::MAX) >= BUSY_TIMEOUT.as_millis() {
        return false;
    }
    std::thread::sleep(Duration::from_millis(1));
    true
}

/// One SQLite database file with its connection pool.
#[derive(Debug, Clone)]
pub struct Database {
    pool: Pool<SqliteConnectionManager>,
    path: PathBuf,
    /// Moves whenever anyone commits to the file: stamps cached answers read from it.
    generations: Arc<Generations>,
    /// Connections asked for when none was idle: how often, and how long they took.
    waits: Arc<PoolWaits>,
    /// The one connection this process writes the file through: see [`Database::writer`].
    writer: Pool<SqliteConnectionManager>,
}

/// Waits for a pooled connection, counted for the metrics.
#[derive(Debug, Default)]
pub struct PoolWaits {
    pub count: std::sync::atomic::AtomicU64,
    pub micros: std::sync::atomic::AtomicU64,
}

impl PoolWaits {
    /// A connection from `pool`, counting the wait if none was idle.
    fn get(
        &self,
        pool: &Pool<SqliteConnectionManager>,
    ) -> Result<PooledConnection<SqliteConnectionManager>, r2d2::Error> {
        use std::sync::atomic::Ordering::Relaxed;
        if pool.state().idle_connections > 0 {
            return pool.get();
        }
        let started = std::time::Instant::now();
        let conn = pool.get();
        self.count.fetch_add(1, Relaxed);
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.micros.fetch_add(micros, Relaxed);
        conn
    }
}

impl Database {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// Blocking: call it from a blocking context.
    pub fn open(
        path: &Path,
        schema: Schema,
        pool_size: u32,
    ) -> Result<(Self, MigrationReport), StorageError> {
        Self::open_with(path, schema, pool_size, OpenFlags::default())
    }

    /// Opens the database at `path` only if the file exists: a tenant whose database is gone
    /// must not get a fresh empty one by accident.
    pub fn open_existing(
        path: &Path,
        schema: Schema,
        pool_size: u32,
    ) -> Result<(Self, MigrationReport), StorageError> {
        let flags = OpenFlags::default() - OpenFlags::SQLITE_OPEN_CREATE;
        Self::open_with(path, schema, pool_size, flags)
    }

    fn open_with(
        path: &Path,
        schema: Schema,
        pool_size: u32,
        flags: OpenFlags,
    ) -> Result<(Self, MigrationReport), StorageError> {
        let mut conn = Connection::open_with_flags(path, flags)?;
        configure_connection(&conn)?;
        let report = migrations::migrate(&mut conn, schema, path)?;
        drop(conn);

        let manager = || {
            SqliteConnectionManager::file(path)
                .with_flags(flags)
                .with_init(|conn| configure_connection(conn))
        };
        let pool = Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(10))
            .build(manager())?;
        // A writer waits for its turn as long as it would for SQLite's lock.
        let writer = Pool::builder()
            .max_size(1)
            .min_idle(Some(0))
            .connection_timeout(BUSY_TIMEOUT)
            .build(manager())?;
        Ok((
            Self {
                pool,
                path: path.to_path_buf(),
                generations: Arc::default(),
                waits: Arc::default(),
                writer,
            },
            report,
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits for a connection of this pool so far.
    pub fn pool_waits(&self) -> &PoolWaits {
        &self.waits
    }

    /// Connections the pool holds, and how many of them are idle.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    /// The connection for a write transaction: one per file and process, so this process's
    /// writers take turns here and each begins the moment the last one ends (at SQLite's
    /// lock, a waiter looks again only a millisecond later: `wait_for_writer`). Being the
    /// only one that writes, its page cache stays valid from one transaction to the next;
    /// when connections of the pool took turns to write, each found the file changed by
    /// another and read its pages again. Writers of other processes (the CLI) still meet at
    /// SQLite's lock, which is what guarantees one writer at a time. Blocking; never ask
    /// for it while holding it.
    pub fn writer(&self) -> Result<PooledConnection<SqliteConnectionManager>, StorageError> {
        Ok(self.writer.get()?)
    }

    /// What has been committed to this file, as a number: see [`Generations`].
    pub fn generations(&self) -> &Generations {
        &self.generations
    }

    /// A pooled connection for blocking callers (the CLI). Async code uses [`Database::run`].
    pub fn conn(&self) -> Result<PooledConnection<SqliteConnectionManager>, StorageError> {
        Ok(self.waits.get(&self.pool)?)
    }

    /// Runs `work` with a connection on the blocking thread pool, so SQLite never stalls the
    /// async executor.
    pub async fn run<T, F>(&self, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StorageError> + Send + 'static,
    {
        let (pool, waits) = (self.pool.clone(), Arc::clone(&self.waits));
        tokio::task::spawn_blocking(move || {
            let mut conn = waits.get(&pool)?;
            work(&mut conn)
        })
        .await
        .map_err(|_| StorageError::Cancelled)?
    }

    /// [`Database::run`] for work whose errors are the caller's own type (a domain error,
    /// or the API's), so handlers keep their refusals' codes.
    pub async fn run_as<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        let (pool, waits) = (self.pool.clone(), Arc::clone(&self.waits));
        tokio::task::spawn_blocking(move || {
            let mut conn = waits.get(&pool).map_err(StorageError::from)?;
            work(&mut conn)
        })
        .await
        .map_err(|_| E::from(StorageError::Cancelled))?
    }
}

/// How SQLite would run `sql`: the details of `EXPLAIN QUERY PLAN`, joined by `; `. For
/// tests that keep a query on its index.
#[cfg(test)]
pub fn query_plan(conn: &Connection, sql: &str) -> String {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    // Unbound parameters are NULL: enough for a plan.
    let rows = stmt
        .query_map(
            rusqlite::params_from_iter(vec![rusqlite::types::Null; stmt.parameter_count()]),
            |r| r.get::<_, String>(3),
        )
        .unwrap();
    rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
}

/// A new tenant database in a directory of its own, removed when the directory is dropped.
/// For tests that need the tenant schema and nothing else.
#[cfg(test)]
pub fn scratch_tenant_db(pool_size: u32) -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = Database::open(&dir.path().join("t.db"), Schema::Tenant, pool_size).unwrap();
    (dir, db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_is_one_connection_that_writers_take_in_turn() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = Database::open(&dir.path().join("t.db"), Schema::Control, 2).unwrap();
        db.writer()
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let first = db.writer().unwrap();
        first
            .execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (1)")
            .unwrap();
        let next = {
            let db = db.clone();
            std::thread::spawn(move || {
                // Waits for the turn, not for SQLite's lock: it never sees the first's
                // transaction open.
                let conn = db.writer().unwrap();
                assert!(conn.is_autocommit());
                conn.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
                    .unwrap()
            })
        };
        std::thread::sleep(Duration::from_millis(100));
        assert!(!next.is_finished(), "the next writer waits for its turn");
        first.execute_batch("COMMIT").unwrap();
        drop(first);
        assert_eq!(
            next.join().unwrap(),
            1,
            "and then sees what the first wrote"
        );
    }

    #[test]
    fn every_connection_gets_the_pragmas() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = Database::open(&dir.path().join("t.db"), Schema::Control, 2).unwrap();
        // Take two connections at once so both come from the pool's initialiser.
        let a = db.conn().unwrap();
        let b = db.conn().unwrap();
        for conn in [&a, &b] {
            let mode: String = conn
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .unwrap();
            let fk: i64 = conn
                .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
                .unwrap();
            let sync: i64 = conn
                .query_row("PRAGMA synchronous", [], |r| r.get(0))
                .unwrap();
            assert_eq!(mode, "wal");
            assert_eq!(fk, 1);
            assert_eq!(sync, 1, "NORMAL");
        }
        // A writer waits for another's lock instead of failing at once.
        a.execute_batch("CREATE TABLE t (x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)")
            .unwrap();
        let holder = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            a.execute_batch("COMMIT").unwrap();
        });
        b.execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (2); COMMIT")
            .expect("waited for the lock");
        holder.join().unwrap();
    }
}
