//! Reading and writing records of every kind, by their field descriptions: one way to check
//! input, keep versions, write the timeline and honour visibility, for all of them.

use std::collections::HashSet;

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde_json::{Map, Value, json};

use super::custom::{self, FieldDef};
use super::fields::{Field, FieldType, Writable};
use super::visibility::Visibility;
use super::{Actor, CrmError, Kind, pipelines, tags, timeline, values};

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

/// A checked write: built-in values, custom values, tags and links, each only if given.
#[derive(Debug, Default)]
pub struct Input {
    pub values: Vec<(&'static Field, Sql)>,
    pub custom: Option<Map<String, Value>>,
    pub tags: Option<Vec<String>>,
    /// A deal's contacts.
    pub contact_ids: Option<Vec<String>>,
    /// An activity's records.
    pub links: Option<Vec<(Kind, String)>>,
}

impl Input {
    fn value(&self, name: &str) -> Option<&Sql> {
        self.values
            .iter()
            .find(|(f, _)| f.name == name)
            .map(|(_, v)| v)
    }

    fn set(&mut self, field: &'static Field, value: Sql) {
        self.values.retain(|(f, _)| f.name != field.name);
        self.values.push((field, value));
    }
}

/// Whether a write of `kind` names a user, so the caller must know the tenant's users.
pub fn names_a_user(kind: Kind, body: &Map<String, Value>) -> bool {
    body.keys()
        .any(|k| kind.field(k).is_some_and(|f| f.ty == FieldType::User))
}

/// Checks a client's body for a record of `kind`: unknown members, fields Holdfast keeps,
/// wrong types and values that break a definition are refused, naming the field.
pub fn parse(
    conn: &Connection,
    kind: Kind,
    body: &Map<String, Value>,
    creating: bool,
) -> Result<Input, CrmError> {
    let mut input = Input::default();
    for (name, value) in body {
        match name.as_str() {
            "custom" => {
                let defs = custom::live(conn, kind)?;
                input.custom = Some(custom::check_values(&defs, value)?);
            }
            "tags" if kind.tagged() => input.tags = Some(tags::checked_names(value)?),
            "contact_ids" if kind == Kind::Deal => {
                input.contact_ids = Some(ids("contact_ids", value)?);
            }
            "links" if kind == Kind::Activity => input.links = Some(links(value)?),
            _ => {
                let field = kind.field(name).ok_or_else(|| {
                    CrmError::invalid(name, format!("is not a field of a {kind}"))
                })?;
                match field.writable {
                    Writable::Always => {}
                    Writable::OnCreate if creating => {}
                    Writable::OnCreate => {
                        return Err(CrmError::invalid(
                            name,
                            "changes through its own call (a stage move)",
                        ));
                    }
                    Writable::Never => return Err(CrmError::invalid(name, "is kept by Holdfast")),
                }
                input
                    .values
                    .push((field, values::to_sql(name, field.ty, value)?));
            }
        }
    }
    Ok(input)
}

fn ids(name: &str, value: &Value) -> Result<Vec<String>, CrmError> {
    let items = value
        .as_array()
        .ok_or_else(|| CrmError::invalid(name, "must be a list of ids"))?;
    if items.len() > MAX_LINKS {
        return Err(CrmError::invalid(
            name,
            format!("may hold at most {MAX_LINKS} ids"),
        ));
    }
    let mut kept: Vec<String> = Vec::new();
    for item in items {
        match item.as_str() {
            Some(id) if super::is_id(id) => {
                if !kept.iter().any(|k| k == id) {
                    kept.push(id.to_owned());
                }
            }
            _ => return Err(CrmError::invalid(name, "must be a list of ids")),
        }
    }
    Ok(kept)
}

fn links(value: &Value) -> Result<Vec<(Kind, String)>, CrmError> {
    let bad = || {
        CrmError::invalid(
            "links",
            r#"must be a list of {"kind": "contact", "company" or "deal", "id": …}"#,
        )
    };
    let items = value.as_array().ok_or_else(bad)?;
    if items.len() > MAX_LINKS {
        return Err(CrmError::invalid(
            "links",
            format!("may hold at most {MAX_LINKS} records"),
        ));
    }
    let mut kept: Vec<(Kind, String)> = Vec::new();
    for item in items {
        let object = item.as_object().filter(|o| o.len() == 2).ok_or_else(bad)?;
        let kind = object["kind"]
            .as_str()
            .and_then(Kind::parse)
            .filter(|k| *k != Kind::Activity);
        let id = object
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| super::is_id(id));
        let (Some(kind), Some(id)) = (kind, id) else {
            return Err(bad());
        };
        if !kept.iter().any(|(k, i)| *k == kind && i == id) {
            kept.push((kind, id.to_owned()));
        }
    }
    Ok(kept)
}

/// Refuses references to what is not there, or not visible to the caller: a company, a
/// deal's contacts, an activity's records, a user of another tenant.
fn check_references(conn: &Connection, input: &Input, env: Env<'_>) -> Result<(), CrmError> {
    for (field, value) in &input.values {
        let Sql::Text(id) = value else { continue };
        match field.ty {
            FieldType::Company => {
                find(conn, Kind::Company, id, env.visibility, false)
                    .map_err(|_| CrmError::invalid(field.name, "there is no such company"))?;
            }
            FieldType::User if !env.users.contains(id) => {
                return Err(CrmError::invalid(
                    field.name,
                    "there is no such user in this tenant",
                ));
            }
            _ => {}
        }
    }
    for id in input.contact_ids.iter().flatten() {
        find(conn, Kind::Contact, id, env.visibility, false)
            .map_err(|_| CrmError::invalid("contact_ids", format!("there is no contact {id}")))?;
    }
    for (linked, id) in input.links.iter().flatten() {
        find(conn, *linked, id, env.visibility, false)
            .map_err(|_| CrmError::invalid("links", format!("there is no {linked} {id}")))?;
    }
    Ok(())
}

/// The rules of a record as a whole, on its values after the write.
fn check_whole(kind: Kind, value: &dyn Fn(&str) -> Option<Sql>) -> Result<(), CrmError> {
    let empty = |name: &str| match value(name) {
        None | Some(Sql::Null) => true,
        Some(Sql::Text(t)) => t.is_empty() || t == "[]",
        Some(_) => false,
    };
    match kind {
        Kind::Contact if empty("first_name") && empty("last_name") && empty("emails") => {
            Err(CrmError::Invalid(
                "a contact needs a first name, a last name or an e-mail address".into(),
            ))
        }
        Kind::Company if empty("name") => Err(CrmError::invalid("name", "may not be empty")),
        Kind::Deal if empty("title") => Err(CrmError::invalid("title", "may not be empty")),
        Kind::Activity if empty("subject") => Err(CrmError::invalid("subject", "may not be empty")),
        Kind::Activity if empty("kind") => Err(CrmError::invalid("kind", "is required")),
        _ => Ok(()),
    }
}

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
    let id = super::new_id();
    let now = super::now();
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
    let now = super::now();
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
    let mut current = find(conn, kind, id, env.visibility, false)?;
    if let Some(expected) = expected {
        check_version(&current, expected)?;
    }
    decorate(conn, std::slice::from_mut(&mut current))?;
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
        return get(conn, kind, id, env.visibility);
    }
    bump(conn, kind, &sets, params, &env.actor.name)?;
    timeline::record(
        conn,
        kind,
        id,
        &env.actor.name,
        "updated",
        &Value::Object(changes),
    )?;
    get(conn, kind, id, env.visibility)
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
    params.push(Sql::Integer(super::now()));
    let at = params.len();
    params.push(Sql::Text(actor.to_owned()));
    let by = params.len();
    let mut all: Vec<String> = sets.to_vec();
    all.push(format!("updated_at = ?{at}"));
    all.push(format!("updated_by = ?{by}"));
    all.push("version = version + 1".into());
    conn.execute(
        &format!(
            "UPDATE {} SET {} WHERE id = ?1",
            kind.table(),
            all.join(", ")
        ),
        params_from_iter(params),
    )?;
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
pub fn may_delete(actor: &Actor, record: &Record) -> bool {
    use crate::identity::Role;
    actor.role.at_least(Role::Admin)
        || (actor.role.at_least(Role::Member)
            && (record.created_by == actor.name
                || (actor.user_id.is_some() && record.owner == actor.user_id)))
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
            return if may_delete(env.actor, &trashed) {
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
    if !may_delete(env.actor, &record) {
        return Err(CrmError::NotYours);
    }
    let params = vec![
        Sql::Text(id.to_owned()),
        Sql::Integer(super::now()),
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
    if !may_delete(env.actor, &record) {
        return Err(CrmError::NotYours);
    }
    if !record.body.contains_key("deleted_at") {
        return get(conn, kind, id, env.visibility);
    }
    // Past the trash's retention it is gone, even if nothing has purged it yet (a refusal
    // rolls back, so this call cannot purge it itself).
    if super::trash::expired(conn, kind, id)? {
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
