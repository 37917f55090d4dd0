//! Versioned, append-only schema migrations, embedded from `migrations/<schema>/NNNN_name.sql`.
//!
//! The schema version is SQLite's `user_version`, which lives in the database header and so
//! changes in the same transaction as the migration itself: a crash leaves either the old or
//! the new schema, never half of one. Each migration runs in its own `BEGIN IMMEDIATE`
//! transaction and re-reads the version inside it, so two processes opening the same file at
//! once apply each step exactly once.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};
use rust_embed::RustEmbed;

use super::StorageError;

#[derive(RustEmbed)]
#[folder = "migrations/"]
#[include = "*.sql"]
struct MigrationFiles;

/// Which set of migrations a database follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// The appliance's own database, `holdfast.db`.
    Control,
    /// One tenant's business data, `tenants/<tenant-id>.db`.
    Tenant,
}

impl Schema {
    fn dir(self) -> &'static str {
        match self {
            Schema::Control => "control",
            Schema::Tenant => "tenant",
        }
    }

    /// The version a database reaches once every embedded migration is applied.
    pub fn latest_version(self) -> u32 {
        migrations(self).last().map_or(0, |m| m.version)
    }
}

/// One embedded migration.
#[derive(Debug, Clone)]
pub struct Migration {
    pub version: u32,
    pub name: String,
    pub sql: String,
}

/// What [`migrate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    pub from: u32,
    pub to: u32,
    /// `(version, name)` of every migration applied now.
    pub applied: Vec<(u32, String)>,
}

/// The embedded migrations of `schema`, in version order. A file whose name is not
/// `NNNN_name.sql` is a build mistake that the unit tests below catch.
pub fn migrations(schema: Schema) -> Vec<Migration> {
    let prefix = format!("{}/", schema.dir());
    let mut list: Vec<Migration> = MigrationFiles::iter()
        .filter_map(|path| {
            let file = path.strip_prefix(&prefix)?.to_owned();
            let (version, rest) = file.split_once('_')?;
            let version = version.parse().ok()?;
            let name = rest.strip_suffix(".sql")?.to_owned();
            let sql = String::from_utf8(MigrationFiles::get(&path)?.data.into_owned()).ok()?;
            Some(Migration { version, name, sql })
        })
        .collect();
    list.sort_by_key(|m| m.version);
    list
}

fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Brings the database to the latest schema, refusing one written by a newer release.
pub fn migrate(
    conn: &mut Connection,
    schema: Schema,
    path: &Path,
) -> Result<MigrationReport, StorageError> {
    let list = migrations(schema);
    let latest = list.last().map_or(0, |m| m.version);
    let from = user_version(conn)?;
    if from > latest {
        return Err(StorageError::SchemaTooNew {
            path: path.to_path_buf(),
            found: from,
            supported: latest,
        });
    }
    let mut applied = Vec::new();
    for migration in list.into_iter().filter(|m| m.version > from) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if user_version(&tx)? >= migration.version {
            continue; // Another process applied it while we waited for the lock.
        }
        tx.execute_batch(&migration.sql)
            .map_err(|source| StorageError::Migration {
                version: migration.version,
                name: migration.name.clone(),
                source,
            })?;
        tx.pragma_update(None, "user_version", migration.version)?;
        tx.commit()?;
        applied.push((migration.version, migration.name));
    }
    Ok(MigrationReport {
        from,
        to: user_version(conn)?,
        applied,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_a_numbered_migration_without_gaps() {
        for schema in [Schema::Control, Schema::Tenant] {
            let files = MigrationFiles::iter()
                .filter(|p| p.starts_with(&format!("{}/", schema.dir())))
                .count();
            let list = migrations(schema);
            assert_eq!(list.len(), files, "a file in migrations/ is misnamed");
            for (index, migration) in list.iter().enumerate() {
                assert_eq!(
                    migration.version as usize,
                    index + 1,
                    "migration versions must run 1, 2, 3… without gaps"
                );
            }
        }
    }

    #[test]
    fn migrating_twice_changes_nothing_the_second_time() {
        let mut conn = Connection::open_in_memory().unwrap();
        let first = migrate(&mut conn, Schema::Control, Path::new(":memory:")).unwrap();
        assert_eq!(first.from, 0);
        assert_eq!(first.to, Schema::Control.latest_version());
        let second = migrate(&mut conn, Schema::Control, Path::new(":memory:")).unwrap();
        assert!(second.applied.is_empty());
        assert_eq!(second.from, second.to);
    }

    #[test]
    fn a_failing_migration_leaves_the_previous_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        // A table the first migration wants to create already exists, so it fails.
        conn.execute_batch("CREATE TABLE appliance_meta (x)")
            .unwrap();
        let err = migrate(&mut conn, Schema::Control, Path::new(":memory:")).unwrap_err();
        assert!(
            matches!(err, StorageError::Migration { version: 1, .. }),
            "{err}"
        );
        assert_eq!(user_version(&conn).unwrap(), 0);
    }
}
