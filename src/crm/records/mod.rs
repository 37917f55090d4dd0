//! Reading and writing records of every kind, by their field descriptions: one way to check
//! input, keep versions, write the timeline and honour visibility, for all of them. `input`
//! checks what clients send; `write` changes records; this file reads them.

mod input;
mod many;
mod write;

pub use input::{Input, check_whole, names_a_user, parse};
pub use many::change_all_noting;
pub use write::{
    Note, bump, change_noting, check_version, create, may_delete, restore, trash, update,
    update_noting, version,
};

use std::collections::HashSet;

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde_json::{Map, Value, json};

use super::custom::{self, FieldDef};
use super::visibility::Visibility;
use super::{Actor, CrmError, Kind, tags, values};

/// Most links of one activity, or contacts of one deal.
pub const MAX_LINKS: usize = 100;

/// A record as clients see it, with what the server needs to decide about it.
#[derive(Debug, Clone)]
pub struct Record {
    pub kind: Kind,
    pub seq: i64,
    pub id: String,
    pub version: i64,
    pub owner: Option<String>,
    pub created_by: String,
    pub body: Map<String, Value>,
}

impl Record {
    /// The ETag of this version.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// What the caller is: who acts, what they see, which users exist in their tenant.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    pub actor: &'a Actor,
    pub visibility: &'a Visibility,
    /// The ids of the tenant's users, when the write names one.
    pub users: &'a HashSet<String>,
}

const SYSTEM_COLUMNS: &str =
    "seq, id, version, created_at, created_by, updated_at, updated_by, deleted_at, custom";
const FIRST_FIELD: usize = 9;

/// The columns read for a record of `kind`, prefixed by its table.
pub fn columns(kind: Kind) -> String {
    let table = kind.table();
    SYSTEM_COLUMNS
        .split(", ")
        .chain(kind.fields().iter().map(|f| f.name))
        .map(|c| format!("{table}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a row selected with [`columns`].
pub fn read(kind: Kind, defs: &[FieldDef], row: &rusqlite::Row<'_>) -> rusqlite::Result<Record> {
    let id: String = row.get(1)?;
    let version: i64 = row.get(2)?;
    let created_by: String = row.get(4)?;
    let mut body = Map::new();
    body.insert("id".into(), json!(id));
    let mut owner = None;
    for (i, field) in kind.fields().iter().enumerate() {
        let value: Sql = row.get(FIRST_FIELD + i)?;
        if let (true, Sql::Text(o)) = (field.name == kind.owner_column(), &value) {
            owner = Some(o.clone());
        }
        body.insert(field.name.into(), values::to_json(field.ty, value));
    }
    let custom_text: String = row.get(8)?;
    body.insert(
        "custom".into(),
        Value::Object(custom::visible(defs, &custom_text)),
    );
    body.insert("version".into(), json!(version));
    body.insert("created_at".into(), json!(values::rfc3339(row.get(3)?)));
    body.insert("created_by".into(), json!(created_by));
    body.insert("updated_at".into(), json!(values::rfc3339(row.get(5)?)));
    body.insert("updated_by".into(), row.get::<_, String>(6)?.into());
    if let Some(deleted) = row.get::<_, Option<i64>>(7)? {
        body.insert("deleted_at".into(), json!(values::rfc3339(deleted)));
    }
    Ok(Record {
        kind,
        seq: row.get(0)?,
        id,
        version,
        owner,
        created_by,
        body,
    })
}

/// Adds to each record what lives beside it: tags, a deal's contacts, an activity's links.
pub fn decorate(conn: &Connection, records: &mut [Record]) -> Result<(), CrmError> {
    let Some(kind) = records.first().map(|r| r.kind) else {
        return Ok(());
    };
    let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    if kind.tagged() {
        let mut tags = tags::of(conn, kind, &ids)?;
        for record in records.iter_mut() {
            let names = tags.remove(&record.id).unwrap_or_default();
            record.body.insert("tags".into(), json!(names));
        }
    }
    let related = match kind {
        Kind::Deal => Some((
            "contact_ids",
            "SELECT deal_id, contact_id FROM deal_contacts WHERE deal_id IN (SELECT value FROM json_each(?1)) ORDER BY contact_id",
        )),
        Kind::Activity => Some((
            "links",
            "SELECT activity_id, json_object('kind', record_kind, 'id', record_id) FROM activity_links
             WHERE activity_id IN (SELECT value FROM json_each(?1)) ORDER BY record_kind, record_id",
        )),
        _ => None,
    };
    if let Some((member, sql)) = related {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map([json!(ids).to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut by_record: std::collections::HashMap<String, Vec<Value>> =
            std::collections::HashMap::new();
        for row in rows {
            let (id, item) = row?;
            let item = serde_json::from_str(&item).unwrap_or(Value::String(item));
            by_record.entry(id).or_default().push(item);
        }
        for record in records.iter_mut() {
            let items = by_record.remove(&record.id).unwrap_or_default();
            record.body.insert(member.into(), Value::Array(items));
        }
    }
    Ok(())
}

/// A live record the caller may see, decorated.
pub fn get(
    conn: &Connection,
    kind: Kind,
    id: &str,
    visibility: &Visibility,
) -> Result<Record, CrmError> {
    let mut record = find(conn, kind, id, visibility, false)?;
    decorate(conn, std::slice::from_mut(&mut record))?;
    Ok(record)
}

/// Whether a live record the caller may see exists (one indexed lookup: what a reference
/// check needs, without reading the record).
pub fn is_visible(
    conn: &Connection,
    kind: Kind,
    id: &str,
    visibility: &Visibility,
) -> Result<bool, CrmError> {
    if !super::is_id(id) {
        return Ok(false);
    }
    let mut params = vec![Sql::Text(id.to_owned())];
    let visible = visibility.scope(kind).condition(kind, &mut params);
    let table = kind.table();
    let sql = format!(
        "SELECT 1 FROM {table} WHERE {table}.id = ?1 AND {table}.deleted_at IS NULL AND {visible}"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .exists(params_from_iter(params))?)
}

/// A record (live, or in the trash if `trashed`) the caller may see; not decorated.
pub fn find(
    conn: &Connection,
    kind: Kind,
    id: &str,
    visibility: &Visibility,
    trashed: bool,
) -> Result<Record, CrmError> {
    if !super::is_id(id) {
        return Err(CrmError::NotFound(kind));
    }
    let defs = custom::live(conn, kind)?;
    let mut params = vec![Sql::Text(id.to_owned())];
    let visible = visibility.scope(kind).condition(kind, &mut params);
    let deleted = if trashed { "IS NOT NULL" } else { "IS NULL" };
    let sql = format!(
        "SELECT {} FROM {table} WHERE {table}.id = ?1 AND {table}.deleted_at {deleted} AND {visible}",
        columns(kind),
        table = kind.table(),
    );
    conn.prepare_cached(&sql)?
        .query_row(params_from_iter(params), |row| read(kind, &defs, row))
        .optional()?
        .ok_or(CrmError::NotFound(kind))
}

/// The live records of `kind` among `ids` that the caller may see, in the order of `ids`,
/// decorated: one query for all of them (what a page listing a deal's contacts needs).
pub fn some(
    conn: &Connection,
    kind: Kind,
    ids: &[String],
    visibility: &Visibility,
) -> Result<Vec<Record>, CrmError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let defs = custom::live(conn, kind)?;
    let mut params = vec![Sql::Text(json!(ids).to_string())];
    let visible = visibility.scope(kind).condition(kind, &mut params);
    let sql = format!(
        "SELECT {} FROM {table} WHERE {table}.id IN (SELECT value FROM json_each(?1)) AND {table}.deleted_at IS NULL AND {visible}",
        columns(kind),
        table = kind.table(),
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut found = stmt
        .query_map(params_from_iter(params), |row| read(kind, &defs, row))?
        .collect::<Result<Vec<_>, _>>()?;
    found.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
    decorate(conn, &mut found)?;
    Ok(found)
}
