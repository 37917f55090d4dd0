//! Merging duplicates: two or more contacts (or companies) become one. The survivor keeps its
//! own values and takes, from the others in the order given, whatever it lacks — a field left
//! empty, another e-mail address or phone, a custom value — and every tag, activity, deal,
//! note and attachment of theirs. The others go to the trash, restorable as any deleted
//! record; their timelines and the survivor's tell of the merge.
//!
//! Links that a record may have many of (a deal's contacts, an activity's records, tags) are
//! copied to the survivor and also left on the merged record, so that a restore brings it back
//! whole. Links a record has one of (a contact's or deal's company, an attachment's record)
//! move to the survivor, each move a change of that record with its timeline entry.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, params};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::fields::{FieldType, Writable};
use super::records::{self, Env, Note, Record};
use super::{CrmError, Kind, timeline};

/// Most records merged into one at a time.
pub const MAX_MERGED: usize = 20;

/// What clients send: the records to merge into the one named by the route.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Merge {
    /// The records that go into the survivor, in the order their values are taken.
    pub ids: Vec<String>,
}

/// Merges `merged` into `survivor` (at version `expected`, if given); the caller's transaction
/// commits. Answers the survivor as it now is.
pub fn merge(
    conn: &Connection,
    kind: Kind,
    survivor: &str,
    expected: Option<i64>,
    merged: &[String],
    env: Env<'_>,
) -> Result<Record, CrmError> {
    if !matches!(kind, Kind::Contact | Kind::Company) {
        return Err(CrmError::Invalid(format!(
            "only contacts and companies merge, not a {kind}"
        )));
    }
    check_ids(survivor, merged)?;
    let mut kept = records::get(conn, kind, survivor, env.visibility)?;
    if let Some(expected) = expected {
        records::check_version(&kept, expected)?;
    }
    let mut others = Vec::with_capacity(merged.len());
    for id in merged {
        others.push(records::get(conn, kind, id, env.visibility)?);
    }
    for other in &others {
        if !records::may_delete(env.actor, other.owner.as_deref(), &other.created_by) {
            return Err(CrmError::NotYours);
        }
    }
    let filled = filled(kind, &kept, &others);
    let input = records::parse(conn, kind, &filled, false)?;
    let ids: Vec<&str> = merged.iter().map(String::as_str).collect();
    let note = Note {
        event: Some("merged"),
        extra: Map::from_iter([("merged".to_owned(), json!(ids))]),
    };
    let version = kept.version;
    kept = records::update_noting(conn, kind, survivor, None, input, env, &note)?;
    if kept.version == version {
        // Nothing of the survivor's own changed; its timeline tells of the merge all the same.
        timeline::record(
            conn,
            kind,
            survivor,
            &env.actor.name,
            "merged",
            &json!({ "merged": ids }),
        )?;
    }
    for other in &others {
        let moved = take_links(conn, kind, survivor, &other.id, env)?;
        records::trash(conn, kind, &other.id, None, env)?;
        timeline::record(
            conn,
            kind,
            &other.id,
            &env.actor.name,
            "merged_into",
            &json!({ "survivor": survivor, "moved": moved }),
        )?;
    }
    records::get(conn, kind, survivor, env.visibility)
}

fn check_ids(survivor: &str, merged: &[String]) -> Result<(), CrmError> {
    if merged.is_empty() {
        return Err(CrmError::invalid(
            "ids",
            "name at least one record to merge",
        ));
    }
    if merged.len() > MAX_MERGED {
        return Err(CrmError::invalid(
            "ids",
            format!("at most {MAX_MERGED} records merge at once"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for id in merged {
        if id == survivor {
            return Err(CrmError::invalid(
                "ids",
                "a record cannot merge into itself",
            ));
        }
        if !seen.insert(id) {
            return Err(CrmError::invalid("ids", format!("{id} is named twice")));
        }
    }
    Ok(())
}

/// The change that gives the survivor what it lacks: each empty field from the first other
/// record that has it, every other address and phone, missing custom values, every tag.
fn filled(kind: Kind, kept: &Record, others: &[Record]) -> Map<String, Value> {
    let mut change = Map::new();
    for field in kind.fields() {
        if field.writable != Writable::Always {
            continue;
        }
        let own = kept.body.get(field.name).unwrap_or(&Value::Null);
        if matches!(field.ty, FieldType::Emails | FieldType::Phones) {
            let mut all = own.as_array().cloned().unwrap_or_default();
            let before = all.len();
            for other in others {
                for item in other.body[field.name].as_array().into_iter().flatten() {
                    if !all.contains(item) {
                        all.push(item.clone());
                    }
                }
            }
            if all.len() > before {
                change.insert(field.name.into(), Value::Array(all));
            }
        } else if is_empty(own)
            && let Some(value) = others
                .iter()
                .map(|o| &o.body[field.name])
                .find(|v| !is_empty(v))
        {
            change.insert(field.name.into(), value.clone());
        }
    }
    let own_custom = kept.body.get("custom").and_then(Value::as_object);
    let mut custom = Map::new();
    for other in others {
        for (key, value) in other.body["custom"].as_object().into_iter().flatten() {
            let own = own_custom.and_then(|c| c.get(key)).unwrap_or(&Value::Null);
            if is_empty(own) && !is_empty(value) && !custom.contains_key(key) {
                custom.insert(key.clone(), value.clone());
            }
        }
    }
    if !custom.is_empty() {
        change.insert("custom".into(), Value::Object(custom));
    }
    let mut tags: Vec<Value> = kept.body["tags"].as_array().cloned().unwrap_or_default();
    let before = tags.len();
    for other in others {
        for tag in other.body["tags"].as_array().into_iter().flatten() {
            if !tags.contains(tag) {
                tags.push(tag.clone());
            }
        }
    }
    if tags.len() > before {
        change.insert("tags".into(), Value::Array(tags));
    }
    change
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Gives the survivor `from`'s links: copies the many-to-many ones, moves the single ones.
/// Answers what moved, for `from`'s timeline.
fn take_links(
    conn: &Connection,
    kind: Kind,
    survivor: &str,
    from: &str,
    env: Env<'_>,
) -> Result<Value, CrmError> {
    let what = kind.as_str();
    let activities = conn.execute(
        "INSERT OR IGNORE INTO activity_links (activity_id, record_kind, record_id)
         SELECT activity_id, record_kind, ?3 FROM activity_links
         WHERE record_kind = ?1 AND record_id = ?2",
        params![what, from, survivor],
    )?;
    let attachments = conn.execute(
        "UPDATE attachments SET record_id = ?3 WHERE record_kind = ?1 AND record_id = ?2",
        params![what, from, survivor],
    )?;
    let mut moved = json!({ "activities": activities, "attachments": attachments });
    match kind {
        Kind::Contact => {
            moved["deals"] = json!(conn.execute(
                "INSERT OR IGNORE INTO deal_contacts (deal_id, contact_id)
                 SELECT deal_id, ?2 FROM deal_contacts WHERE contact_id = ?1",
                params![from, survivor],
            )?);
        }
        Kind::Company => {
            moved["contacts"] = json!(repoint_company(conn, Kind::Contact, from, survivor, env)?);
            moved["deals"] = json!(repoint_company(conn, Kind::Deal, from, survivor, env)?);
        }
        Kind::Deal | Kind::Activity => {}
    }
    Ok(moved)
}

/// Moves the live records of `kind` at company `from` to company `to`, each a change with its
/// version and timeline entry. Every such record moves, whoever may see it: the company it
/// named is going away.
fn repoint_company(
    conn: &Connection,
    kind: Kind,
    from: &str,
    to: &str,
    env: Env<'_>,
) -> Result<usize, CrmError> {
    let table = kind.table();
    let ids: Vec<String> = conn
        .prepare(&format!(
            "SELECT id FROM {table} WHERE company_id = ?1 AND deleted_at IS NULL"
        ))?
        .query_map([from], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in &ids {
        records::bump(
            conn,
            kind,
            &["company_id = ?2".into()],
            vec![Sql::Text(id.clone()), Sql::Text(to.to_owned())],
            &env.actor.name,
        )?;
        timeline::record(
            conn,
            kind,
            id,
            &env.actor.name,
            "updated",
            &json!({ "company_id": [from, to], "merge": true }),
        )?;
    }
    Ok(ids.len())
}
