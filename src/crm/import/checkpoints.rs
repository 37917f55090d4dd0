//! An import's pages copied from the write-ahead log into the database file by a thread of
//! their own while the import goes on writing. A connection that commits checkpoints the log
//! itself once it has grown large enough, and then writes nothing else until the copy is
//! done: for an import that is a tenth of its time, which the machine's other core can take.
//!
//! A passive checkpoint never waits for the import's lock nor holds it: it copies what is
//! committed. The import's own connection stops checkpointing while this runs and takes the
//! job back afterwards.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::Connection;

use crate::storage;

/// How often the log is copied: often enough that it stays small, seldom enough that each
/// copy is worth its wake-up.
const EVERY: Duration = Duration::from_millis(50);

/// Runs `work` on `conn` while another thread checkpoints the same database.
pub fn alongside<T>(conn: &mut Connection, work: impl FnOnce(&mut Connection) -> T) -> T {
    // An in-memory or temporary database has no log to copy.
    let Some(path) = conn.path().filter(|p| !p.is_empty()).map(str::to_owned) else {
        return work(conn);
    };
    let Ok(copier) = storage::open_connection(std::path::Path::new(&path)) else {
        return work(conn);
    };
    storage::commits::checkpoint_on_commit(conn, false);
    let done = &AtomicBool::new(false);
    let result = std::thread::scope(|s| {
        let copying = s.spawn(move || {
            while !done.load(Ordering::Acquire) {
                std::thread::park_timeout(EVERY);
                // A failed copy is retried on the next round; the import's commits are
                // what count, and they do not depend on it.
                let _ = copier.execute_batch("PRAGMA wal_checkpoint(PASSIVE)");
            }
        });
        // Stops the copying however `work` ends, a panic included: the scope waits for it.
        let _stop = Stop {
            done,
            copying: copying.thread(),
        };
        work(conn)
    });
    // Back to checkpointing on commit, as every connection does.
    storage::commits::checkpoint_on_commit(conn, true);
    result
}

/// Ends the copying when dropped.
struct Stop<'a> {
    done: &'a AtomicBool,
    copying: &'a std::thread::Thread,
}

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Release);
        self.copying.unpark();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_copied_by_another_thread_while_the_work_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = storage::open_connection(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
        let file_bytes = |p: &std::path::Path| std::fs::metadata(p).unwrap().len();
        let before = file_bytes(&path);
        alongside(&mut conn, |conn| {
            // 4 MiB committed, then the copy is awaited while the work still runs.
            conn.execute_batch(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1024)
                 INSERT INTO t SELECT randomblob(4096) FROM n",
            )
            .unwrap();
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while file_bytes(&path) < before + 4 * 1024 * 1024 {
                assert!(std::time::Instant::now() < deadline, "never copied");
                std::thread::sleep(Duration::from_millis(10));
            }
        });

        // Checkpointing on commit again: a commit past the threshold is copied at once.
        let copied = file_bytes(&path);
        let pages = storage::commits::CHECKPOINT_PAGES + 100;
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
             INSERT INTO t SELECT randomblob(4000) FROM n",
            [pages],
        )
        .unwrap();
        assert!(file_bytes(&path) > copied + u64::try_from(pages).unwrap() * 4000);
    }

    #[test]
    fn a_panic_in_the_work_stops_the_copying_and_goes_on_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = storage::open_connection(&dir.path().join("t.db")).unwrap();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            alongside(&mut conn, |_| panic!("the work failed"));
        }));
        assert!(caught.is_err());
    }
}
