//! Has anyone changed the database since we last looked? A [`ChangeWatch`] keeps one
//! connection of its own and asks SQLite's `PRAGMA data_version`, which moves whenever
//! another connection commits: one of this process's pool, or another process (the CLI)
//! writing the same file. Its own connection never writes, so every commit counts.
//!
//! In WAL mode the answer comes from the WAL index in shared memory: no file is read, and
//! the check costs a few microseconds (two `fcntl` calls for the read lock; measured at about
//! 3 µs). It never waits for a busy lock (a busy database counts as changed); the rare cases
//! where SQLite itself does more — the first reader after a writer crashed rebuilds the WAL
//! index, and a reader racing a WAL reset retries — are SQLite's own, bounded work.
//!
//! Most looks do not ask at all. The process counts its own connections' commits as they
//! happen ([`commits`](super::commits)): while that count has not moved since the last ask,
//! none of the process's connections committed, and the last answer still holds for them —
//! exactly, so a change made through the server is seen by the very next look. Only another
//! process's commits are invisible to the count; for them the watch asks SQLite again once
//! [`OTHER_PROCESSES_SEEN_WITHIN`] has passed since it last did. A page read on every request
//! then costs one atomic load and a clock read instead of the two system calls (a third of
//! a kept list page's time; see BENCHMARKS.md), and a change by the CLI is seen within a
//! millisecond of its commit, sooner than the CLI can exit.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use super::{StorageError, commits};

/// How long a watch trusts its last answer about other processes' commits, while this
/// process's own connections commit nothing.
pub const OTHER_PROCESSES_SEEN_WITHIN: Duration = Duration::from_millis(1);

/// One connection that tells whether the database changed since it last answered.
#[derive(Debug)]
pub struct ChangeWatch {
    conn: Connection,
    /// The version seen last; `None` before the first look and after a failed one.
    seen: Option<i64>,
    /// The process's commit count and the time, both taken just before SQLite was last
    /// asked: if either moved on, the answer may be out of date.
    asked: (u64, Instant),
}

impl ChangeWatch {
    /// Watches the existing database at `path` (it must already be in WAL mode).
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags)?;
        // Never wait for a lock: a look that cannot answer at once counts as a change, and
        // the caller falls back to reading the database the ordinary way.
        conn.busy_timeout(Duration::ZERO)?;
        Ok(Self {
            conn,
            seen: None,
            asked: (commits::count(), Instant::now()),
        })
    }

    /// Whether another connection committed since the last call (true on the first call,
    /// and whenever the answer cannot be had: when unsure, say it changed). A commit by
    /// this process is seen at once; one by another process within
    /// [`OTHER_PROCESSES_SEEN_WITHIN`].
    pub fn changed(&mut self) -> bool {
        let now = (commits::count(), Instant::now());
        let (count, at) = self.asked;
        if self.seen.is_some()
            && now.0 == count
            && now.1.saturating_duration_since(at) < OTHER_PROCESSES_SEEN_WITHIN
        {
            return false;
        }
        // Taken before asking: a commit racing the question moves the count past it, and
        // the next look asks again.
        self.asked = now;
        let version = self
            .conn
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut stmt| stmt.query_row([], |r| r.get::<_, i64>(0)));
        match version {
            Ok(version) => self.seen.replace(version) != Some(version),
            Err(err) => {
                tracing::warn!("cannot tell whether the database changed: {err}");
                self.seen = None;
                true
            }
        }
    }
}

/// Numbers handed out by every [`Generations`] of the process: never reused, so an answer
/// stamped by one database handle can never pass for another's (a tenant's file replaced by
/// a restore gets a new handle, whose first number is new).
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

/// A number that stays the same exactly as long as nobody commits to one database: what a
/// cache of answers read from it is stamped with. Its watch opens on first use and closes
/// with the [`Database`](super::Database) handle that owns it.
#[derive(Debug, Default)]
pub struct Generations {
    watched: Mutex<Option<Watched>>,
}

#[derive(Debug)]
struct Watched {
    watch: ChangeWatch,
    current: u64,
}

impl Generations {
    /// The generation now, if the watch is open (well under a microsecond, or about 3 µs
    /// when the watch asks SQLite; never opens a file, so async code may ask). `None` until
    /// [`Generations::now`] has opened the watch.
    pub fn peek(&self) -> Option<u64> {
        let mut watched = self.lock();
        let watched = watched.as_mut()?;
        if watched.watch.changed() {
            watched.current = NEXT_GENERATION.fetch_add(1, Ordering::Relaxed);
        }
        Some(watched.current)
    }

    /// The generation now, opening the watch on `path` first if needed. Blocking. Ask
    /// before reading: an answer read after this call and stamped with its number is
    /// dropped by the next look after any commit, even one racing the read.
    pub fn now(&self, path: &Path) -> Result<u64, StorageError> {
        {
            let mut watched = self.lock();
            if watched.is_none() {
                let mut watch = ChangeWatch::open(path)?;
                watch.changed();
                *watched = Some(Watched {
                    watch,
                    current: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
                });
            }
        }
        Ok(self.peek().unwrap_or(0))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Watched>> {
        // Every change under this lock is one assignment: a panic cannot leave it torn.
        self.watched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{Database, Schema};

    fn database() -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = Database::open(&dir.path().join("c.db"), Schema::Control, 2).unwrap();
        (dir, db)
    }

    #[test]
    fn commits_of_the_pool_and_of_other_processes_are_seen_and_reads_are_not() {
        let (_dir, db) = database();
        let mut watch = ChangeWatch::open(db.path()).unwrap();
        assert!(watch.changed(), "the first look knows nothing");
        assert!(!watch.changed());

        let reads: i64 = db
            .conn()
            .unwrap()
            .query_row("SELECT count(*) FROM tenants", [], |r| r.get(0))
            .unwrap();
        assert_eq!(reads, 0);
        assert!(!watch.changed(), "a read is no change");

        db.conn()
            .unwrap()
            .execute("UPDATE clock SET high_water_unix = high_water_unix + 1", [])
            .unwrap();
        assert!(watch.changed(), "a commit through the pool");
        assert!(!watch.changed());

        // A connection of its own, as another process (the CLI) would have: its commit is
        // not counted, and is seen once the watch asks SQLite again.
        let other = Connection::open(db.path()).unwrap();
        other
            .execute("UPDATE clock SET high_water_unix = high_water_unix + 1", [])
            .unwrap();
        std::thread::sleep(OTHER_PROCESSES_SEEN_WITHIN);
        assert!(watch.changed(), "a commit by another connection");
        assert!(!watch.changed());
    }

    #[test]
    fn a_commit_of_the_process_is_seen_at_once_however_recently_the_watch_asked() {
        let (_dir, db) = database();
        let mut watch = ChangeWatch::open(db.path()).unwrap();
        watch.changed();
        // Look after look, each one as soon as the last: a commit between two of them must
        // be seen by the second, as a request right after the change that answered it.
        for round in 0..100 {
            assert!(!watch.changed(), "round {round}: nothing committed");
            db.conn()
                .unwrap()
                .execute("UPDATE clock SET high_water_unix = high_water_unix + 1", [])
                .unwrap();
            assert!(watch.changed(), "round {round}: a commit through the pool");
        }
    }

    #[test]
    fn a_rolled_back_write_is_no_change() {
        let (_dir, db) = database();
        let mut watch = ChangeWatch::open(db.path()).unwrap();
        watch.changed();
        let mut conn = db.conn().unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute("UPDATE clock SET high_water_unix = high_water_unix + 1", [])
            .unwrap();
        tx.rollback().unwrap();
        assert!(!watch.changed());
    }

    #[test]
    fn a_generation_holds_until_a_commit_and_is_never_another_handles() {
        let (dir, db) = database();
        assert_eq!(db.generations().peek(), None, "no watch until a read asks");
        let first = db.generations().now(db.path()).unwrap();
        assert_eq!(db.generations().peek(), Some(first), "reads change nothing");
        db.conn()
            .unwrap()
            .execute("UPDATE clock SET high_water_unix = high_water_unix + 1", [])
            .unwrap();
        let second = db.generations().peek().unwrap();
        assert_ne!(second, first, "a commit moves it");
        assert_eq!(db.generations().peek(), Some(second));

        // The same file opened again (as after a restore) starts from a number of its own.
        let (again, _) = Database::open(&dir.path().join("c.db"), Schema::Control, 2).unwrap();
        let other = again.generations().now(again.path()).unwrap();
        assert!(other != first && other != second);
    }
}
