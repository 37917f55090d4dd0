//! The trash: records deleted in the last `trash_retention_days` (a setting), restorable with
//! their links; after that, or when an admin empties it, purged for good — the record, its
//! tags, links, timeline, attachments and search entry.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, params, params_from_iter};
use serde::Serialize;

use super::records::may_delete;
use super::visibility::Visibility;
use super::{Actor, CrmError, Kind, settings, timeline, values};

/// A record in the trash.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Trashed {
    pub kind: Kind,
    pub id: String,
    pub title: String,
    pub deleted_at: String,
    pub deleted_by: Option<String>,
    /// When it goes for good.
    pub purge_at: String,
}

/// The trash as `actor` may restore it (admins: everything; members: their own), newest
/// first, at most `limit` per kind. With `purge`, purges what is past its time first (not
/// on a read-only appliance, where nothing changes: expired records are only left out).
pub fn list(
    conn: &Connection,
    actor: &Actor,
    visibility: &Visibility,
    limit: u32,
    purge: bool,
) -> Result<Vec<Trashed>, CrmError> {
    if purge {
        purge_expired(conn)?;
    }
    let retention = settings::get(conn)?.trash_retention_days;
    let cutoff = super::now() - retention * 86_400;
    let mut all = Vec::new();
    for kind in Kind::ALL {
        let table = kind.table();
        let mut params = Vec::new();
        let visible = visibility.scope(kind).condition(kind, &mut params);
        let sql = format!(
            "SELECT {table}.id, {}, {table}.deleted_at, {table}.deleted_by, {table}.created_by, {table}.{}
             FROM {table} WHERE {table}.deleted_at >= {cutoff} AND {visible}
             ORDER BY {table}.deleted_at DESC LIMIT {limit}",
            kind.title_sql(),
            kind.owner_column(),
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(params), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })?;
        for row in rows {
            let (id, title, deleted_at, deleted_by, created_by, owner) = row?;
            if may_delete(actor, owner.as_deref(), &created_by) {
                all.push(Trashed {
                    kind,
                    id,
                    title,
                    deleted_at: values::rfc3339(deleted_at),
                    deleted_by,
                    purge_at: values::rfc3339(deleted_at + retention * 86_400),
                });
            }
        }
    }
    all.sort_by(|a, b| b.deleted_at.cmp(&a.deleted_at));
    Ok(all)
}

/// Purges records deleted longer ago than the retention; returns how many.
pub fn purge_expired(conn: &Connection) -> Result<usize, CrmError> {
    let retention = settings::get(conn)?.trash_retention_days;
    let cutoff = super::now() - retention * 86_400;
    let mut purged = 0;
    for kind in Kind::ALL {
        purged += purge_where(conn, kind, "deleted_at < ?1", vec![Sql::Integer(cutoff)])?;
    }
    Ok(purged)
}

/// Whether a trashed record is past the retention.
pub fn expired(conn: &Connection, kind: Kind, id: &str) -> Result<bool, CrmError> {
    let cutoff = super::now() - settings::get(conn)?.trash_retention_days * 86_400;
    let deleted: Option<i64> = conn.query_row(
        &format!("SELECT deleted_at FROM {} WHERE id = ?1", kind.table()),
        [id],
        |r| r.get(0),
    )?;
    Ok(deleted.is_some_and(|at| at < cutoff))
}

/// Purges everything in the trash (admins).
pub fn empty(conn: &Connection) -> Result<usize, CrmError> {
    let mut purged = 0;
    for kind in Kind::ALL {
        purged += purge_where(conn, kind, "deleted_at IS NOT NULL", Vec::new())?;
    }
    Ok(purged)
}

/// Purges one record, live or trashed, and all that hangs on it (a contact's erasure).
pub fn purge(conn: &Connection, kind: Kind, id: &str) -> Result<usize, CrmError> {
    purge_where(conn, kind, "id = ?1", vec![Sql::Text(id.to_owned())])
}

/// Purges the records of `kind` matching `condition`, and all that hangs on them.
fn purge_where(
    conn: &Connection,
    kind: Kind,
    condition: &str,
    params: Vec<Sql>,
) -> Result<usize, CrmError> {
    let table = kind.table();
    let ids: Vec<String> = conn
        .prepare(&format!("SELECT id FROM {table} WHERE {condition}"))?
        .query_map(params_from_iter(params), |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in &ids {
        conn.execute(
            "DELETE FROM record_tags WHERE record_kind = ?1 AND record_id = ?2",
            params![kind.as_str(), id],
        )?;
        conn.execute(
            "DELETE FROM activity_links WHERE record_kind = ?1 AND record_id = ?2",
            params![kind.as_str(), id],
        )?;
        conn.execute(
            "DELETE FROM attachments WHERE record_kind = ?1 AND record_id = ?2",
            params![kind.as_str(), id],
        )?;
        timeline::forget(conn, kind, id)?;
        // Contacts and deals that named a purged company keep no dangling reference
        // (ON DELETE SET NULL); deal contacts and activity links go with their record.
        conn.execute(&format!("DELETE FROM {table} WHERE id = ?1"), [id])?;
    }
    Ok(ids.len())
}
