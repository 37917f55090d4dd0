//! Creating, changing, trashing and restoring records, each with its timeline entry in the
//! same transaction.

use std::collections::HashSet;

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde_json::{Map, Value, json};

use crate::crm::fields::FieldType;
use crate::crm::visibility::Visibility;
use crate::crm::{Actor, CrmError, Kind, pipelines, tags, timeline, values};

use super::input::{Input, check_references, check_whole};
use super::{Env, Record, decorate, find, get};

/// Creates a record; writes its timeline entry (and one on each linked record) in the same
/// transaction. The caller commits.
pub fn create(
    conn: &Connection,
    kind: Kind,
    mut input: Input,
    env: Env<'_>,
) -> Result<Record, CrmError> {
    check_references(conn, &input, env)?;
    let owner_field = kind
        .field(kind.owner_column())
        .ok_or(CrmError::Missing("owner"))?;
    if let (None, Some(user)) = (input.value(owner_field.name), &env.actor.user_id) {
        input.set(owner_field, Sql::Text(user.clone()));
    }
    if kind == Kind::Deal {
        deal_defaults(conn, &mut input)?;
    }
    check_whole(kind, &|name| input.value(name).cloned())?;
    let id = crate::crm::new_id();
    let now = crate::crm::now();
    let mut names = vec![
        "id",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "custom",
    ];
    let mut params = vec![
        Sql::Text(id.clone()),
        Sql::Integer(now),
        Sql::Text(env.actor.name.clone()),
        Sql::Integer(now),
        Sql::Text(env.actor.name.clone()),
        Sql::Text(
            Value::Object(stored_custom(input.custom.take().unwrap_or_default(), None)).to_string(),
        ),
    ];
    for (field, value) in &input.values {
        names.push(field.name);
        params.push(value.clone());
    }
    let marks: Vec<String> = (1..=params.len()).map(|i| format!("?{i}")).collect();
    conn.prepare_cached(&format!(
        "INSERT INTO {} ({}) VALUES ({})",
        kind.table(),
        names.join(", "),
        marks.join(", ")
    ))?
    .execute(params_from_iter(params))?;
    let actor = &env.actor.name;
    if let Some(names) = &input.tags {
        tags::set(conn, kind, &id, names)?;
    }
    if let Some(contacts) = &input.contact_ids {
        set_deal_contacts(conn, &id, contacts)?;
    }
    if let Some(links) = &input.links {
        set_links(conn, &id, links, actor)?;
    }
    timeline::record(conn, kind, &id, actor, "created", &json!({}))?;
    get(conn, kind, &id, &Visibility::all())
}

/// Keeps only non-null custom values, over `previous` when changing.
fn stored_custom(given: Map<String, Value>, previous: Option<&str>) -> Map<String, Value> {
    let mut stored: Map<String, Value> = previous
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_default();
    for (key, value) in given {
        if value.is_null() {
            stored.remove(&key);
        } else {
            stored.insert(key, value);
        }
    }
    stored
}

/// A new deal's currency (the tenant's), pipeline and stage (the first pipeline's first
/// stage) when not given; its status from its stage.
fn deal_defaults(conn: &Connection, input: &mut Input) -> Result<(), CrmError> {
    let field = |name| Kind::Deal.field(name).ok_or(CrmError::Missing("field"));
    if input.value("currency").is_none() {
        let currency = pipelines::default_currency(conn)?;
        input.set(field("currency")?, Sql::Text(currency));
    }
    let text = |v: Option<&Sql>| match v {
        Some(Sql::Text(t)) => Some(t.clone()),
        _ => None,
    };
    let stage = pipelines::stage_for(
        conn,
        text(input.value("pipeline_id")).as_deref(),
        text(input.value("stage_id")).as_deref(),
    )?;
    let now = crate::crm::now();
    input.set(field("pipeline_id")?, Sql::Text(stage.pipeline_id.clone()));
    input.set(field("stage_id")?, Sql::Text(stage.id.clone()));
    input.set(field("status")?, Sql::Text(stage.kind.clone()));
    input.set(field("stage_entered_at")?, Sql::Integer(now));
    if stage.kind != "open" {
        input.set(field("closed_at")?, Sql::Integer(now));
    }
    Ok(())
}

fn set_deal_contacts(conn: &Connection, deal: &str, contacts: &[String]) -> Result<(), CrmError> {
    conn.execute("DELETE FROM deal_contacts WHERE deal_id = ?1", [deal])?;
    let mut insert =
        conn.prepare_cached("INSERT INTO deal_contacts (deal_id, contact_id) VALUES (?1, ?2)")?;
    for contact in contacts {
        insert.execute([deal, contact])?;
    }
    Ok(())
}

/// Links an activity to its records; each newly linked record's timeline shows it.
fn set_links(
    conn: &Connection,
    activity: &str,
    links: &[(Kind, String)],
    actor: &str,
) -> Result<(), CrmError> {
    let before: HashSet<(String, String)> = conn
        .prepare_cached("SELECT record_kind, record_id FROM activity_links WHERE activity_id = ?1")?
        .query_map([activity], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    conn.execute(
        "DELETE FROM activity_links WHERE activity_id = ?1",
        [activity],
    )?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO activity_links (activity_id, record_kind, record_id) VALUES (?1, ?2, ?3)",
    )?;
    for (kind, id) in links {
        insert.execute([activity, kind.as_str(), id])?;
        if !before.contains(&(kind.as_str().to_owned(), id.clone())) {
            timeline::record(
                conn,
                *kind,
                id,
                actor,
                "activity_linked",
                &json!({ "activity_id": activity }),
            )?;
        }
    }
    Ok(())
}

/// Refuses unless the record is at `expected` version.
pub fn check_version(record: &Record, expected: i64) -> Result<(), CrmError> {
    if record.version == expected {
        Ok(())
    } else {
        Err(CrmError::VersionMismatch {
            current: record.version,
        })
    }
}

/// Changes the fields given, if the record is still at version `expected` (`None`: whatever
/// version is current, as `If-Match: *` asks); records each
/// changed field (old → new) in the timeline. A write that changes nothing leaves the
/// version as it is.
pub fn update(
    conn: &Connection,
    kind: Kind,
    id: &str,
    expected: Option<i64>,
    input: Input,
    env: Env<'_>,
) -> Result<Record, CrmError> {
    update_noting(conn, kind, id, expected, input, env, &Note::default())
}

/// How a change is told in the timeline: its event (`updated` unless said) and what else the
/// entry carries besides the changed fields (the import it came from).
#[derive(Debug, Default)]
pub struct Note {
    pub event: Option<&'static str>,
    pub extra: Map<String, Value>,
}

/// [`update`], told in the timeline as `note` says.
pub fn update_noting(
    conn: &Connection,
    kind: Kind,
    id: &str,
    expected: Option<i64>,
    input: Input,
    env: Env<'_>,
    note: &Note,
) -> Result<Record, CrmError> {
    change_noting(conn, kind, id, expected, input, env, note)?;
    get(conn, kind, id, env.visibility)
}

/// [`update_noting`] without reading the record back: answers whether anything changed
/// (what a bulk change or an import needs of each of many records).
pub fn change_noting(
    conn: &Connection,
    kind: Kind,
    id: &str,
    expected: Option<i64>,
    input: Input,
    env: Env<'_>,
    note: &Note,
) -> Result<bool, CrmError> {
    let mut current = find(conn, kind, id, env.visibility, false)?;
    if let Some(expected) = expected {
        check_version(&current, expected)?;
    }
    if input.tags.is_some() || input.contact_ids.is_some() || input.links.is_some() {
        // Only what is compared below: a change of fields alone needs none of it.
        decorate(conn, std::slice::from_mut(&mut current))?;
    }
    check_references(conn, &input, env)?;
    let mut changes = Map::new();
    let mut sets = Vec::new();
    let mut params = vec![Sql::Text(id.to_owned())];
    for (field, value) in &input.values {
        let old = current.body.get(field.name).cloned().unwrap_or(Value::Null);
        let new = values::to_json(field.ty, value.clone());
        if old != new {
            changes.insert(field.name.into(), json!([old, new]));
            params.push(value.clone());
            sets.push(format!("{} = ?{}", field.name, params.len()));
        }
    }
    check_whole(kind, &|name| {
        input.value(name).cloned().or_else(|| {
            kind.field(name)
                .map(|f| json_to_sql(f.ty, current.body.get(name)))
        })
    })?;
    if let Some(given) = input.custom {
        let old_custom = current.body.get("custom").cloned().unwrap_or_default();
        let mut any = false;
        for (key, new) in &given {
            let old = old_custom.get(key).cloned().unwrap_or(Value::Null);
            if &old != new {
                changes.insert(format!("custom.{key}"), json!([old, new]));
                any = true;
            }
        }
        if any {
            let stored: String = conn.query_row(
                &format!("SELECT custom FROM {} WHERE id = ?1", kind.table()),
                [id],
                |r| r.get(0),
            )?;
            params.push(Sql::Text(
                Value::Object(stored_custom(given, Some(&stored))).to_string(),
            ));
            sets.push(format!("custom = ?{}", params.len()));
        }
    }
    if let Some(names) = &input.tags {
        let (before, after) = tags::set(conn, kind, id, names)?;
        if before != after {
            changes.insert("tags".into(), json!([before, after]));
        }
    }
    if let Some(contacts) = &input.contact_ids {
        let before = current
            .body
            .get("contact_ids")
            .cloned()
            .unwrap_or(json!([]));
        let mut after = contacts.clone();
        after.sort();
        if before != json!(after) {
            set_deal_contacts(conn, id, contacts)?;
            changes.insert("contact_ids".into(), json!([before, after]));
        }
    }
    if let Some(links) = &input.links {
        let before = current.body.get("links").cloned().unwrap_or(json!([]));
        set_links(conn, id, links, &env.actor.name)?;
        let mut after = vec![current.clone()];
        decorate(conn, &mut after)?;
        let after = after[0].body.get("links").cloned().unwrap_or(json!([]));
        if before != after {
            changes.insert("links".into(), json!([before, after]));
        }
    }
    if changes.is_empty() {
        return Ok(false);
    }
    bump(conn, kind, &sets, params, &env.actor.name)?;
    changes.extend(note.extra.clone());
    timeline::record(
        conn,
        kind,
        id,
        &env.actor.name,
        note.event.unwrap_or("updated"),
        &Value::Object(changes),
    )?;
    Ok(true)
}

/// The version record `id` is at (in the trash or not).
pub fn version(conn: &Connection, kind: Kind, id: &str) -> Result<i64, CrmError> {
    conn.prepare_cached(&format!(
        "SELECT version FROM {} WHERE id = ?1",
        kind.table()
    ))?
    .query_row([id], |r| r.get(0))
    .optional()?
    .ok_or(CrmError::NotFound(kind))
}

/// Writes `sets` (with `params`, whose first is the id) and moves the record to its next
/// version.
pub fn bump(
    conn: &Connection,
    kind: Kind,
    sets: &[String],
    mut params: Vec<Sql>,
    actor: &str,
) -> Result<(), CrmError> {
    params.push(Sql::Integer(crate::crm::now()));
    let at = params.len();
    params.push(Sql::Text(actor.to_owned()));
    let by = params.len();
    let mut all: Vec<String> = sets.to_vec();
    all.push(format!("updated_at = ?{at}"));
    all.push(format!("updated_by = ?{by}"));
    all.push("version = version + 1".into());
    // Cached: the same fields change again and again (a bulk change, an import's updates).
    conn.prepare_cached(&format!(
        "UPDATE {} SET {} WHERE id = ?1",
        kind.table(),
        all.join(", ")
    ))?
    .execute(params_from_iter(params))?;
    Ok(())
}

fn json_to_sql(ty: FieldType, value: Option<&Value>) -> Sql {
    match value {
        None | Some(Value::Null) => Sql::Null,
        Some(Value::String(s)) => Sql::Text(s.clone()),
        Some(Value::Number(n)) => n.as_i64().map_or(Sql::Null, Sql::Integer),
        Some(other @ Value::Array(_)) if matches!(ty, FieldType::Emails | FieldType::Phones) => {
            Sql::Text(other.to_string())
        }
        Some(other) => Sql::Text(other.to_string()),
    }
}

/// Whether the caller may move this record to the trash: admins any record, members their
/// own (owned or made by them), viewers none.
pub fn may_delete(actor: &Actor, owner: Option<&str>, created_by: &str) -> bool {
    use crate::identity::Role;
    actor.role.at_least(Role::Admin)
        || (actor.role.at_least(Role::Member)
            && (created_by == actor.name
                || actor.user_id.as_deref().is_some_and(|me| owner == Some(me))))
}

/// Moves a record to the trash, with its links and tags kept for a restore.
pub fn trash(
    conn: &Connection,
    kind: Kind,
    id: &str,
    expected: Option<i64>,
    env: Env<'_>,
) -> Result<(), CrmError> {
    let record = match find(conn, kind, id, env.visibility, false) {
        // In the trash already: done, as asked (a repeated DELETE is not an error).
        Err(CrmError::NotFound(_)) => {
            let trashed = find(conn, kind, id, env.visibility, true)?;
            return if may_delete(env.actor, trashed.owner.as_deref(), &trashed.created_by) {
                Ok(())
            } else {
                Err(CrmError::NotYours)
            };
        }
        found => found?,
    };
    if let Some(expected) = expected {
        check_version(&record, expected)?;
    }
    if !may_delete(env.actor, record.owner.as_deref(), &record.created_by) {
        return Err(CrmError::NotYours);
    }
    let params = vec![
        Sql::Text(id.to_owned()),
        Sql::Integer(crate::crm::now()),
        Sql::Text(env.actor.name.clone()),
    ];
    bump(
        conn,
        kind,
        &["deleted_at = ?2".into(), "deleted_by = ?3".into()],
        params,
        &env.actor.name,
    )?;
    timeline::record(conn, kind, id, &env.actor.name, "deleted", &json!({}))?;
    Ok(())
}

/// Takes a record out of the trash.
pub fn restore(conn: &Connection, kind: Kind, id: &str, env: Env<'_>) -> Result<Record, CrmError> {
    let record = match find(conn, kind, id, env.visibility, true) {
        // Not in the trash: live already, as asked.
        Err(CrmError::NotFound(_)) => find(conn, kind, id, env.visibility, false)?,
        found => found?,
    };
    if !may_delete(env.actor, record.owner.as_deref(), &record.created_by) {
        return Err(CrmError::NotYours);
    }
    if !record.body.contains_key("deleted_at") {
        return get(conn, kind, id, env.visibility);
    }
    // Past the trash's retention it is gone, even if nothing has purged it yet (a refusal
    // rolls back, so this call cannot purge it itself).
    if crate::crm::trash::expired(conn, kind, id)? {
        return Err(CrmError::NotFound(kind));
    }
    bump(
        conn,
        kind,
        &["deleted_at = NULL".into(), "deleted_by = NULL".into()],
        vec![Sql::Text(id.to_owned())],
        &env.actor.name,
    )?;
    timeline::record(conn, kind, id, &env.actor.name, "restored", &json!({}))?;
    get(conn, kind, id, env.visibility)
}
