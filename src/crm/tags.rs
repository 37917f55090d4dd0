//! Tags: one list per tenant, on contacts, companies and deals. Naming a tag that does not
//! exist yet makes it; names compare without case.

use std::collections::HashMap;

use rusqlite::{Connection, params};
use serde::Serialize;
use serde_json::json;

use super::{CrmError, Kind};

/// Longest tag name, in characters.
pub const MAX_NAME: usize = 50;
/// Most tags on one record.
pub const MAX_PER_RECORD: usize = 50;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Tag {
    pub id: String,
    pub name: String,
    pub color: Option<String>,
    /// Live records carrying it.
    pub uses: i64,
}

/// Checks a record's list of tag names: each a line of 1 to 50 characters, without repeats.
pub fn checked_names(given: &serde_json::Value) -> Result<Vec<String>, CrmError> {
    let items = given
        .as_array()
        .ok_or_else(|| CrmError::invalid("tags", "must be a list of names"))?;
    if items.len() > MAX_PER_RECORD {
        return Err(CrmError::invalid(
            "tags",
            format!("a record may carry at most {MAX_PER_RECORD} tags"),
        ));
    }
    let mut names: Vec<String> = Vec::new();
    for item in items {
        let name = super::values::line("tags", item)?;
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(CrmError::invalid(
                "tags",
                format!("a tag is 1 to {MAX_NAME} characters"),
            ));
        }
        if !names
            .iter()
            .any(|n| n.to_lowercase() == name.to_lowercase())
        {
            names.push(name);
        }
    }
    Ok(names)
}

/// Gives record `id` exactly the tags `names` (making missing tags); returns its tags
/// before and after, by name, sorted.
pub fn set(
    conn: &Connection,
    kind: Kind,
    id: &str,
    names: &[String],
) -> Result<(Vec<String>, Vec<String>), CrmError> {
    let before = of(conn, kind, &[id.to_owned()])?
        .remove(id)
        .unwrap_or_default();
    conn.execute(
        "DELETE FROM record_tags WHERE record_kind = ?1 AND record_id = ?2",
        params![kind.as_str(), id],
    )?;
    for name in names {
        conn.prepare_cached(
            "INSERT INTO tags (id, name, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING",
        )?
        .execute(params![super::new_id(), name, super::now()])?;
        conn.prepare_cached(
            "INSERT OR IGNORE INTO record_tags (record_kind, record_id, tag_id)
             SELECT ?1, ?2, id FROM tags WHERE name = ?3",
        )?
        .execute(params![kind.as_str(), id, name])?;
    }
    let after = of(conn, kind, &[id.to_owned()])?
        .remove(id)
        .unwrap_or_default();
    Ok((before, after))
}

/// Makes the tags of `names` that do not exist yet. `known` keeps tag ids by lower-cased
/// name between calls: an import tags many records with few tags.
pub fn ensure<S: std::hash::BuildHasher>(
    conn: &Connection,
    names: &[String],
    known: &mut HashMap<String, String, S>,
) -> Result<(), CrmError> {
    for name in names {
        let folded = name.to_lowercase();
        if known.contains_key(&folded) {
            continue;
        }
        conn.prepare_cached(
            "INSERT INTO tags (id, name, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO NOTHING",
        )?
        .execute(params![super::new_id(), name, super::now()])?;
        let tag: String = conn
            .prepare_cached("SELECT id FROM tags WHERE name = ?1")?
            .query_row([name], |r| r.get(0))?;
        known.insert(folded, tag);
    }
    Ok(())
}

/// The tag names of each of `ids`, sorted.
pub fn of(
    conn: &Connection,
    kind: Kind,
    ids: &[String],
) -> Result<HashMap<String, Vec<String>>, CrmError> {
    let mut stmt = conn.prepare_cached(
        "SELECT rt.record_id, t.name FROM record_tags rt JOIN tags t ON t.id = rt.tag_id
         WHERE rt.record_kind = ?1 AND rt.record_id IN (SELECT value FROM json_each(?2))
         ORDER BY t.name COLLATE NOCASE",
    )?;
    let mut tags: HashMap<String, Vec<String>> = HashMap::new();
    let rows = stmt.query_map(params![kind.as_str(), json!(ids).to_string()], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (id, name) = row?;
        tags.entry(id).or_default().push(name);
    }
    Ok(tags)
}

/// Every tag of the tenant, with how many live records carry it.
pub fn list(conn: &Connection) -> Result<Vec<Tag>, CrmError> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.id, t.name, t.color,
                (SELECT count(*) FROM record_tags rt WHERE rt.tag_id = t.id)
         FROM tags t ORDER BY t.name COLLATE NOCASE",
    )?;
    let tags = stmt
        .query_map([], |r| {
            Ok(Tag {
                id: r.get(0)?,
                name: r.get(1)?,
                color: r.get(2)?,
                uses: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(tags)
}
