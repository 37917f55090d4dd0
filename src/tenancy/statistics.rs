//! The query planner's statistics of a tenant database (`sqlite_stat1`), refreshed when the
//! database opens and once an hour.
//!
//! Without statistics SQLite can pick an index that makes a list page sort a whole table, so
//! Holdfast keeps them for its own tables. It keeps none for the search indexes' shadow
//! tables (`*_fts_data`, `*_fts_idx`, …): FTS5 writes its own statements against them,
//! which assume a lookup by rowid. Statistics taken while a tenant was young say that
//! `contacts_fts_data` has two rows, and SQLite then runs FTS5's "delete this segment's
//! pages" as a scan of the whole index — on every write, so a tenant of 250,000 contacts
//! managed 50 writes a second. Without statistics the planner assumes a large table and
//! seeks.

use rusqlite::Connection;

/// Refreshes the statistics of tables that have changed enough (bounded work: at most 400
/// rows of each index are sampled) and drops any of the search indexes' tables. Blocking.
pub fn refresh(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "BEGIN IMMEDIATE;
         PRAGMA analysis_limit = 400;
         PRAGMA optimize = 0x10002;
         DELETE FROM sqlite_stat1 WHERE tbl LIKE '%\\_fts\\_%' ESCAPE '\\';
         COMMIT;
         ANALYZE sqlite_schema;",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{query_plan, scratch_tenant_db};

    #[test]
    fn search_index_pages_are_deleted_by_rowid_however_young_the_statistics() {
        let (_dir, db) = scratch_tenant_db(2);
        let conn = db.conn().unwrap();
        conn.execute(
            "INSERT INTO contacts (id, first_name, created_at, created_by, updated_at, updated_by)
             VALUES ('0123456789abcdef0123456789abcdef', 'Ada', 1, 'x', 1, 'x')",
            [],
        )
        .unwrap();
        // Statistics of a young tenant as an earlier Holdfast kept them: two rows in the
        // search index, what `PRAGMA optimize` records while a tenant is new.
        conn.execute_batch(
            "ANALYZE; UPDATE sqlite_stat1 SET stat = '2' WHERE tbl = 'contacts_fts_data';",
        )
        .unwrap();
        refresh(&conn).unwrap();
        // Any connection of the pool, opened afterwards, plans with what is in the file.
        let conn = Connection::open(db.path()).unwrap();
        // FTS5's own statement, as it removes a merged segment.
        let delete = query_plan(
            &conn,
            "DELETE FROM 'main'.'contacts_fts_data' WHERE id>=? AND id<=?",
        );
        assert!(delete.starts_with("SEARCH"), "{delete}");
        let kept: Vec<String> = conn
            .prepare("SELECT DISTINCT tbl FROM sqlite_stat1")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(kept.iter().any(|t| t == "contacts"), "{kept:?}");
        assert!(!kept.iter().any(|t| t.contains("_fts_")), "{kept:?}");
    }
}
