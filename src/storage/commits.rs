//! Every commit made by this process's connections, counted as it happens. SQLite calls a
//! connection's WAL hook right after each commit, once the commit is visible to every other
//! connection and before the statement that made it returns; the hook here adds one to a
//! count the whole process shares. A [`ChangeWatch`](super::ChangeWatch) that sees the
//! count unchanged knows that none of the process's own connections committed since it
//! last looked, without asking the database.
//!
//! SQLite keeps one WAL hook per connection, and its automatic checkpoint is itself a WAL
//! hook (`PRAGMA wal_autocheckpoint` installs it in place of any other). So the hook here
//! also does that checkpoint, and nothing may set `wal_autocheckpoint` on a Holdfast
//! connection: [`checkpoint_on_commit`] is the switch instead.

use std::ffi::c_int;
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::Connection;
use rusqlite::hooks::Wal;

/// The log size (in pages) at which a connection copies the log into the database file
/// after its commit, instead of SQLite's 1,000: a record write rewrites the same
/// search-index pages again and again, and a checkpoint copies each page once however often
/// it was written, so fewer checkpoints copy less (record creation under load went up
/// 10–20 %; see BENCHMARKS.md).
pub const CHECKPOINT_PAGES: c_int = 8000;

/// Commits by any connection this process configured, to any database.
static COMMITS: AtomicU64 = AtomicU64::new(0);

/// How many commits this process's connections have made so far. A connection opened
/// without [`count_commits`] (another process's, or a raw one) is not counted.
pub fn count() -> u64 {
    COMMITS.load(Ordering::Acquire)
}

/// Counts `conn`'s commits from now on, and has it checkpoint the log after a commit that
/// leaves it at [`CHECKPOINT_PAGES`] or more.
pub fn count_commits(conn: &Connection) {
    checkpoint_on_commit(conn, true);
}

/// Whether `conn` checkpoints the log after its commits (it always counts them): off while
/// another thread does the copying (an import).
pub fn checkpoint_on_commit(conn: &Connection, checkpoint: bool) {
    if checkpoint {
        conn.wal_hook(Some(counted_then_checkpointed));
    } else {
        conn.wal_hook(Some(counted));
    }
}

#[expect(
    clippy::unnecessary_wraps,
    reason = "the signature a WAL hook must have"
)]
fn counted(_: &Wal, _: c_int) -> rusqlite::Result<()> {
    COMMITS.fetch_add(1, Ordering::Release);
    Ok(())
}

fn counted_then_checkpointed(wal: &Wal, pages: c_int) -> rusqlite::Result<()> {
    counted(wal, pages)?;
    if pages >= CHECKPOINT_PAGES {
        // As SQLite's own automatic checkpoint: a checkpoint that cannot finish now (a
        // reader holds old pages) is done by a later commit; the commit stands either way.
        let _ = wal.checkpoint();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_bytes(path: &std::path::Path) -> u64 {
        std::fs::metadata(path).unwrap().len()
    }

    /// A database of one table in WAL mode, its commits counted.
    fn database(dir: &tempfile::TempDir) -> (std::path::PathBuf, Connection) {
        let path = dir.path().join("t.db");
        let conn = super::super::open_connection(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
        (path, conn)
    }

    /// Commits `pages` pages of 4 KiB in one transaction.
    fn write_pages(conn: &Connection, pages: u32) {
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
             INSERT INTO t SELECT randomblob(4000) FROM n",
            [pages],
        )
        .unwrap();
    }

    #[test]
    fn each_commit_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        let (_path, conn) = database(&dir);
        let before = count();
        conn.execute("INSERT INTO t VALUES (1)", []).unwrap();
        // Other tests commit at the same time: the count only ever grows.
        assert!(count() > before, "an autocommit statement");
        let after_one = count();
        conn.execute_batch("BEGIN; INSERT INTO t VALUES (2); INSERT INTO t VALUES (3); COMMIT;")
            .unwrap();
        assert!(count() > after_one, "a transaction");
    }

    #[test]
    fn a_large_commit_is_checkpointed_unless_checkpoints_are_off() {
        let dir = tempfile::tempdir().unwrap();
        let (path, conn) = database(&dir);
        let pages = u32::try_from(CHECKPOINT_PAGES).unwrap() + 100;

        checkpoint_on_commit(&conn, false);
        let before = file_bytes(&path);
        write_pages(&conn, pages);
        assert_eq!(file_bytes(&path), before, "left in the log");

        checkpoint_on_commit(&conn, true);
        write_pages(&conn, pages);
        assert!(
            file_bytes(&path) > 2 * u64::from(pages) * 4000,
            "both commits copied into the file"
        );
    }
}
