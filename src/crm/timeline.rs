//! The timeline of every record: created, each field change (old → new), stage moves,
//! activities, deletion and restoration — who and when, newest first. Entries are written by
//! the same transaction as the change they describe, so the two cannot disagree.

use rusqlite::{Connection, params};
use serde::Serialize;
use serde_json::Value;

use super::{CrmError, Kind};

/// One entry.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Entry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub event: String,
    pub detail: Value,
}

/// Appends an entry about record `id` of `kind`.
pub fn record(
    conn: &Connection,
    kind: Kind,
    id: &str,
    actor: &str,
    event: &str,
    detail: &Value,
) -> Result<(), CrmError> {
    conn.prepare_cached(
        "INSERT INTO timeline (record_kind, record_id, at, actor, event, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        kind.as_str(),
        id,
        super::now(),
        actor,
        event,
        detail.to_string()
    ])?;
    Ok(())
}

/// Up to `limit` entries of a record, newest first, older than entry `before` if given.
pub fn page(
    conn: &Connection,
    kind: Kind,
    id: &str,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<Entry>, CrmError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, actor, event, detail FROM timeline
         WHERE record_kind = ?1 AND record_id = ?2 AND seq < ?3
         ORDER BY seq DESC LIMIT ?4",
    )?;
    let entries = stmt
        .query_map(
            params![kind.as_str(), id, before.unwrap_or(i64::MAX), limit],
            |r| {
                let detail: String = r.get(4)?;
                Ok(Entry {
                    seq: r.get(0)?,
                    at: super::values::rfc3339(r.get(1)?),
                    actor: r.get(2)?,
                    event: r.get(3)?,
                    detail: serde_json::from_str(&detail).unwrap_or(Value::Null),
                })
            },
        )?
        .collect::<Result<_, _>>()?;
    Ok(entries)
}

/// Removes a purged record's entries.
pub fn forget(conn: &Connection, kind: Kind, id: &str) -> Result<(), CrmError> {
    conn.execute(
        "DELETE FROM timeline WHERE record_kind = ?1 AND record_id = ?2",
        params![kind.as_str(), id],
    )?;
    Ok(())
}
