//! Lists of records: filters on any field (built-in or custom), tags and owner, a sort on any
//! field, and keyset pages that stay stable while records are added (the cursor names the
//! last row's sort value and `seq`, not an offset).

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, params_from_iter};
use serde::Deserialize;
use serde_json::{Value, json};

use super::cursor::{self, Position};
use super::custom::{self, FieldDef};
use super::fields::{self, FieldType};
use super::records::{self, Record};
use super::visibility::Scope;
use super::{CrmError, Kind, values};

/// Most records on one page.
pub const MAX_LIMIT: u32 = 100;
/// Most filters on one list.
pub const MAX_FILTERS: usize = 20;

/// One filter as clients send it.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    pub field: String,
    pub op: Op,
    #[serde(default)]
    pub value: Value,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    In,
    /// `{"from": …, "to": …}`, both ends included, either left out.
    Range,
    Contains,
    /// Text that begins with the value, ignoring case (ASCII): on a name the list is sorted
    /// by, found through the name's index rather than by walking it.
    StartsWith,
    Empty,
    NotEmpty,
}

/// What a list asks for.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub filters: Vec<Filter>,
    /// A field name, `-` first for descending; the default is newest first.
    pub sort: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// One page.
#[derive(Debug)]
pub struct Page {
    pub records: Vec<Record>,
    pub next_cursor: Option<String>,
}

/// What a filter or sort names: an expression over the kind's table, with its parameters.
struct Target {
    sql: String,
    params: Vec<Sql>,
    ty: Checked,
    nullable: bool,
}

/// How a target's values are checked: as a built-in field's, or as the custom field's
/// (an index into the definitions).
#[derive(Clone, Copy)]
enum Checked {
    Builtin(&'static str, FieldType),
    Custom(usize),
}

fn target(kind: Kind, defs: &[FieldDef], name: &str) -> Result<Target, CrmError> {
    let table = kind.table();
    if let Some(key) = name.strip_prefix("custom.") {
        let (i, def) = defs
            .iter()
            .enumerate()
            .find(|(_, d)| d.key == key)
            .ok_or_else(|| {
                CrmError::invalid(name, "is not a custom field of this kind of record")
            })?;
        return Ok(Target {
            sql: format!("json_extract({table}.custom, ?)"),
            params: vec![Sql::Text(def.path())],
            ty: Checked::Custom(i),
            nullable: true,
        });
    }
    let field = kind
        .field(name)
        .or_else(|| fields::SYSTEM.iter().find(|f| f.name == name))
        .ok_or_else(|| CrmError::invalid(name, format!("is not a field of a {kind}")))?;
    let nullable = !matches!(
        field.ty,
        FieldType::Name
            | FieldType::Emails
            | FieldType::Phones
            | FieldType::Currency
            | FieldType::Pipeline
            | FieldType::Stage
            | FieldType::Count
    ) && !matches!(
        field.name,
        "created_at"
            | "updated_at"
            | "lifecycle_stage"
            | "status"
            | "kind"
            | "created_by"
            | "updated_by"
    );
    // Creation order is `seq`'s order, which every index ends with.
    let column = if field.name == "created_at" {
        "seq"
    } else {
        field.name
    };
    Ok(Target {
        sql: format!("{table}.{column}"),
        params: Vec::new(),
        ty: Checked::Builtin(field.name, field.ty),
        nullable,
    })
}

/// A value of a filter, checked as the field's own values are.
fn filter_value(
    target: &Target,
    defs: &[FieldDef],
    value: &Value,
    me: Option<&str>,
) -> Result<Sql, CrmError> {
    match target.ty {
        // "me": the caller (a token's maker).
        Checked::Builtin(_, FieldType::User) if value == "me" => {
            Ok(me.map_or(Sql::Null, |m| Sql::Text(m.to_owned())))
        }
        Checked::Builtin(name, FieldType::Emails | FieldType::Phones) => {
            Ok(Sql::Text(values::line(name, value)?.to_lowercase()))
        }
        Checked::Builtin(name, FieldType::Name) => Ok(Sql::Text(values::line(name, value)?)),
        Checked::Builtin(name, ty) => values::to_sql(name, ty, value),
        Checked::Custom(i) => {
            let def = &defs[i];
            let checked = match def.kind {
                custom::CustomKind::MultiSelect => def
                    .check(&json!([value]))?
                    .get(0)
                    .cloned()
                    .unwrap_or(Value::Null),
                _ => def.check(value)?,
            };
            Ok(match checked {
                Value::Bool(b) => Sql::Integer(i64::from(b)),
                Value::Number(n) => n
                    .as_i64()
                    .map_or_else(|| Sql::Real(n.as_f64().unwrap_or(0.0)), Sql::Integer),
                Value::String(s) => Sql::Text(s),
                _ => Sql::Null,
            })
        }
    }
}

/// Appends `value` to `params` and answers its placeholder.
fn push(params: &mut Vec<Sql>, value: Sql) -> String {
    params.push(value);
    format!("?{}", params.len())
}

/// A filter on tags: has the tag (`eq`), one of the tags (`in`), none, or any.
fn tag_condition(kind: Kind, filter: &Filter, params: &mut Vec<Sql>) -> Result<String, CrmError> {
    let table = kind.table();
    let names: Vec<Value> = match (filter.op, &filter.value) {
        (Op::Eq, v @ Value::String(_)) => vec![v.clone()],
        (Op::In, Value::Array(items)) if items.iter().all(Value::is_string) => items.clone(),
        (Op::Empty | Op::NotEmpty, _) => Vec::new(),
        _ => {
            return Err(CrmError::invalid(
                "tags",
                "filters by eq (a name), in (names), empty or not_empty",
            ));
        }
    };
    let k = push(params, Sql::Text(kind.as_str().into()));
    let exists = |names: &str| {
        format!(
            "EXISTS (SELECT 1 FROM record_tags rt JOIN tags t ON t.id = rt.tag_id WHERE rt.record_kind = {k} AND rt.record_id = {table}.id{names})"
        )
    };
    Ok(match filter.op {
        Op::Empty => format!("NOT {}", exists("")),
        Op::NotEmpty => exists(""),
        _ => {
            let list = push(params, Sql::Text(json!(names).to_string()));
            exists(&format!(
                " AND t.name IN (SELECT value FROM json_each({list}))"
            ))
        }
    })
}

/// A filter on an activity's links: linked to the record `{"kind", "id"}` (`eq`). Found
/// through the links' index by record, so a record's activities are read without walking
/// every activity.
fn link_condition(filter: &Filter, params: &mut Vec<Sql>) -> Result<String, CrmError> {
    let refused = || CrmError::invalid("links", r#"filters by eq {"kind": …, "id": …}"#);
    let linked = filter.value.as_object().filter(|_| filter.op == Op::Eq);
    let kind = linked
        .and_then(|o| o.get("kind"))
        .and_then(Value::as_str)
        .and_then(Kind::parse)
        .filter(|k| *k != Kind::Activity)
        .ok_or_else(refused)?;
    let id = linked
        .and_then(|o| o.get("id"))
        .and_then(Value::as_str)
        .ok_or_else(refused)?;
    params.push(Sql::Text(kind.as_str().to_owned()));
    let k = params.len();
    params.push(Sql::Text(id.to_owned()));
    let i = params.len();
    Ok(format!(
        "activities.id IN (SELECT activity_id FROM activity_links WHERE record_kind = ?{k} AND record_id = ?{i})"
    ))
}

/// The placeholders of the values an `eq` or `in` filter lists, each checked as the field's.
fn one_of(
    target: &Target,
    defs: &[FieldDef],
    filter: &Filter,
    me: Option<&str>,
    params: &mut Vec<Sql>,
) -> Result<String, CrmError> {
    let items: Vec<Value> = match (&filter.op, &filter.value) {
        (Op::Eq, v) => vec![v.clone()],
        (Op::In, Value::Array(items)) if !items.is_empty() && items.len() <= 100 => items.clone(),
        _ => {
            return Err(CrmError::invalid(
                &filter.field,
                "in takes a list of 1 to 100 values",
            ));
        }
    };
    let mut marks = Vec::new();
    for item in &items {
        marks.push(push(params, filter_value(target, defs, item, me)?));
    }
    Ok(marks.join(", "))
}

/// One filter as SQL, its parameters appended to `params`.
fn condition(
    kind: Kind,
    defs: &[FieldDef],
    filter: &Filter,
    me: Option<&str>,
    sort_name: &str,
    params: &mut Vec<Sql>,
) -> Result<String, CrmError> {
    if filter.field == "tags" && kind.tagged() {
        return tag_condition(kind, filter, params);
    }
    if filter.field == "links" && kind == Kind::Activity {
        return link_condition(filter, params);
    }
    let target = target(kind, defs, &filter.field)?;
    let mut expr = target.sql.clone();
    for p in &target.params {
        params.push(p.clone());
        expr = expr.replacen('?', &format!("?{}", params.len()), 1);
    }
    let list_field = matches!(
        target.ty,
        Checked::Builtin(_, FieldType::Emails | FieldType::Phones)
    ) || matches!(target.ty, Checked::Custom(i) if defs[i].kind == custom::CustomKind::MultiSelect);
    let name = filter.field.as_str();
    // A field of a few words (a stage, a status) matches a large share of the records, so
    // walking the sort's index and checking it on each row finds a page far sooner than
    // fetching every match by its own index and sorting them: the unary `+` keeps SQLite
    // from choosing the filter's index. Sorted by creation, both orders agree.
    if matches!(
        target.ty,
        Checked::Builtin(_, FieldType::Choice(_) | FieldType::Currency)
    ) && sort_name != name
        && sort_name != "created_at"
    {
        expr = format!("+{expr}");
    }
    Ok(match filter.op {
        Op::Empty if list_field => format!("coalesce(json_array_length({expr}), 0) = 0"),
        Op::NotEmpty if list_field => format!("coalesce(json_array_length({expr}), 0) > 0"),
        Op::Empty => format!("({expr} IS NULL OR {expr} = '')"),
        Op::NotEmpty => format!("({expr} IS NOT NULL AND {expr} <> '')"),
        Op::Eq | Op::In => {
            let marks = one_of(&target, defs, filter, me, params)?;
            if list_field {
                format!("EXISTS (SELECT 1 FROM json_each({expr}) WHERE lower(value) IN ({marks}))")
            } else if matches!(target.ty, Checked::Builtin(_, FieldType::Name)) {
                // Names are indexed ignoring case: the first finds them through the index
                // (without it, every record is read), the second keeps exactly what was asked.
                format!("({expr} COLLATE NOCASE IN ({marks}) AND {expr} IN ({marks}))")
            } else {
                format!("{expr} IN ({marks})")
            }
        }
        Op::StartsWith if !list_field => {
            let text = values::line(name, &filter.value)?;
            if text.is_empty() {
                return Err(CrmError::invalid(name, "starts_with needs some text"));
            }
            // Every text that begins with `text` sorts from it up to it followed by the
            // largest character there is.
            let low = push(params, Sql::Text(text.clone()));
            let high = push(params, Sql::Text(format!("{text}{}", char::MAX)));
            format!("({expr} COLLATE NOCASE >= {low} AND {expr} COLLATE NOCASE < {high})")
        }
        Op::StartsWith => {
            return Err(CrmError::invalid(name, "starts_with is for a text field"));
        }
        Op::Contains => {
            let text = values::line(name, &filter.value)?;
            if text.is_empty() {
                return Err(CrmError::invalid(name, "contains needs some text"));
            }
            let escaped = text
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let mark = push(params, Sql::Text(format!("%{escaped}%")));
            format!("{expr} LIKE {mark} ESCAPE '\\'")
        }
        Op::Range => {
            let bounds = filter
                .value
                .as_object()
                .filter(|o| !o.is_empty() && o.keys().all(|k| k == "from" || k == "to"))
                .ok_or_else(|| CrmError::invalid(name, r#"range takes {"from": …, "to": …}"#))?;
            let mut parts = Vec::new();
            for (end, op) in [("from", ">="), ("to", "<=")] {
                if let Some(bound) = bounds.get(end) {
                    let value = filter_value(&target, defs, bound, me)?;
                    parts.push(format!("{expr} {op} {}", push(params, value)));
                }
            }
            format!("({})", parts.join(" AND "))
        }
    })
}

/// The filters, sort and scope as one identity for cursors.
fn identity(kind: Kind, query: &Query) -> String {
    format!(
        "{kind}|{}|{}",
        serde_json::to_string(&query.filters).unwrap_or_default(),
        query.sort.as_deref().unwrap_or("")
    )
}

/// The rows a list selects, in its order: the SQL up to (not including) `LIMIT`, and what
/// reading them needs.
struct Selection {
    sql: String,
    params: Vec<Sql>,
    defs: Vec<FieldDef>,
    /// The columns before the sort value.
    width: usize,
}

/// What `query` selects of `kind` that `scope` lets the caller see, after the cursor if it
/// gives one (`cursor` then holds its key and the list's identity).
fn select(
    conn: &Connection,
    kind: Kind,
    query: &Query,
    scope: &Scope,
    me: Option<&str>,
    cursor: Option<(&[u8], &str)>,
) -> Result<Selection, CrmError> {
    if query.filters.len() > MAX_FILTERS {
        return Err(CrmError::invalid(
            "filters",
            format!("at most {MAX_FILTERS}"),
        ));
    }
    let defs = custom::live(conn, kind)?;
    let table = kind.table();
    let mut params = Vec::new();
    let mut conditions = vec![
        format!("{table}.deleted_at IS NULL"),
        scope.condition(kind, &mut params),
    ];
    let (sort_name, descending) = match query.sort.as_deref() {
        None | Some("") => ("created_at", true),
        Some(s) => s.strip_prefix('-').map_or((s, false), |rest| (rest, true)),
    };
    for filter in &query.filters {
        conditions.push(condition(kind, &defs, filter, me, sort_name, &mut params)?);
    }
    let sort = target(kind, &defs, sort_name)?;
    let mut sort_expr = sort.sql.clone();
    for p in &sort.params {
        params.push(p.clone());
        sort_expr = sort_expr.replacen('?', &format!("?{}", params.len()), 1);
    }
    // Names sort as people read them, "de Vries" beside "Devlin" (ASCII case ignored), as
    // their indexes are kept.
    if matches!(sort.ty, Checked::Builtin(_, FieldType::Name)) {
        sort_expr.push_str(" COLLATE NOCASE");
    }
    if let (Some(given), Some((key, list))) = (&query.cursor, cursor) {
        let at = cursor::decode(key, list, given)?;
        conditions.push(after(
            table,
            &sort_expr,
            sort.nullable,
            descending,
            &at,
            &mut params,
        ));
    }
    let dir = if descending { "DESC" } else { "ASC" };
    let order = if sort.nullable {
        format!("({sort_expr}) IS NULL, {sort_expr} {dir}, {table}.seq {dir}")
    } else {
        format!("{sort_expr} {dir}, {table}.seq {dir}")
    };
    let columns = records::columns(kind);
    Ok(Selection {
        sql: format!(
            "SELECT {columns}, {sort_expr} FROM {table} WHERE {} ORDER BY {order}",
            conditions.join(" AND "),
        ),
        width: columns.split(", ").count(),
        params,
        defs,
    })
}

/// One page of `kind`, as `query` asks, of what `scope` lets the caller see.
pub fn page(
    conn: &Connection,
    kind: Kind,
    query: &Query,
    scope: &Scope,
    me: Option<&str>,
) -> Result<Page, CrmError> {
    let limit = query.limit.unwrap_or(25);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(CrmError::invalid(
            "limit",
            format!("must be 1 to {MAX_LIMIT}"),
        ));
    }
    let list = identity(kind, query);
    let key = cursor::key(conn)?;
    let selection = select(conn, kind, query, scope, me, Some((&key, &list)))?;
    let mut stmt = conn.prepare_cached(&format!("{} LIMIT {}", selection.sql, limit + 1))?;
    let mut rows = stmt.query(params_from_iter(selection.params))?;
    let mut found: Vec<(Record, Value)> = Vec::new();
    while let Some(row) = rows.next()? {
        let record = records::read(kind, &selection.defs, row)?;
        let value = sql_to_json(row.get::<_, Sql>(selection.width)?);
        found.push((record, value));
    }
    let next_cursor = if found.len() > limit as usize {
        found.truncate(limit as usize);
        found.last().map(|(r, value)| {
            cursor::encode(
                &key,
                &list,
                Position {
                    value: value.clone(),
                    seq: r.seq,
                },
            )
        })
    } else {
        None
    };
    let mut records: Vec<Record> = found.into_iter().map(|(r, _)| r).collect();
    records::decorate(conn, &mut records)?;
    Ok(Page {
        records,
        next_cursor,
    })
}

/// Every record `query` selects (its cursor and limit aside), in its order, handed to
/// `each` in decorated chunks of up to `chunk`; stops early when `each` answers false. Only
/// a chunk is held at a time.
pub fn each(
    conn: &Connection,
    kind: Kind,
    query: &Query,
    scope: &Scope,
    me: Option<&str>,
    chunk: usize,
    mut each: impl FnMut(&mut [Record]) -> Result<bool, CrmError>,
) -> Result<(), CrmError> {
    let selection = select(conn, kind, query, scope, me, None)?;
    let mut stmt = conn.prepare(&selection.sql)?;
    let mut rows = stmt.query(params_from_iter(selection.params))?;
    let mut records: Vec<Record> = Vec::with_capacity(chunk);
    loop {
        let done = match rows.next()? {
            Some(row) => {
                records.push(records::read(kind, &selection.defs, row)?);
                false
            }
            None => true,
        };
        if (done || records.len() >= chunk) && !records.is_empty() {
            records::decorate(conn, &mut records)?;
            if !each(&mut records)? {
                return Ok(());
            }
            records.clear();
        }
        if done {
            return Ok(());
        }
    }
}

/// The ids of every record `query` selects (its cursor and limit aside), in its order:
/// what a bulk change by filter needs, without reading or decorating the records.
pub fn ids(
    conn: &Connection,
    kind: Kind,
    query: &Query,
    scope: &Scope,
    me: Option<&str>,
) -> Result<Vec<String>, CrmError> {
    let selection = select(conn, kind, query, scope, me, None)?;
    let mut stmt = conn.prepare(&selection.sql)?;
    let ids = stmt
        .query_map(params_from_iter(selection.params), |row| row.get("id"))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

fn sql_to_json(value: Sql) -> Value {
    match value {
        Sql::Integer(n) => json!(n),
        Sql::Real(x) => json!(x),
        Sql::Text(t) => json!(t),
        Sql::Null | Sql::Blob(_) => Value::Null,
    }
}

fn json_to_sql(value: &Value) -> Sql {
    match value {
        Value::Number(n) => n
            .as_i64()
            .map_or_else(|| Sql::Real(n.as_f64().unwrap_or(0.0)), Sql::Integer),
        Value::String(s) => Sql::Text(s.clone()),
        Value::Bool(b) => Sql::Integer(i64::from(*b)),
        _ => Sql::Null,
    }
}

/// The rows after `at` in the list's order (nulls last, then `seq`).
fn after(
    table: &str,
    expr: &str,
    nullable: bool,
    descending: bool,
    at: &Position,
    params: &mut Vec<Sql>,
) -> String {
    let cmp = if descending { "<" } else { ">" };
    let seq = format!("{table}.seq");
    params.push(Sql::Integer(at.seq));
    let s = format!("?{}", params.len());
    if at.value.is_null() {
        return format!("({expr} IS NULL AND {seq} {cmp} {s})");
    }
    params.push(json_to_sql(&at.value));
    let v = format!("?{}", params.len());
    let keyed = format!("({expr} {cmp} {v} OR ({expr} = {v} AND {seq} {cmp} {s}))");
    if nullable {
        format!("({expr} IS NULL OR {keyed})")
    } else {
        keyed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::visibility::Visibility;
    use crate::storage::{query_plan, scratch_tenant_db};

    /// A name asked for exactly (as a form naming a company does) is found through the
    /// name's index, which keeps names ignoring case.
    #[test]
    fn a_name_asked_for_exactly_is_found_through_its_index() {
        let (_dir, db) = scratch_tenant_db(1);
        let conn = db.conn().unwrap();
        for (kind, field, op, value, index) in [
            (
                Kind::Company,
                "name",
                Op::Eq,
                json!("Acme"),
                "companies_by_name",
            ),
            (
                Kind::Contact,
                "last_name",
                Op::In,
                json!(["Lovelace", "Hopper"]),
                "contacts_by_last_name",
            ),
        ] {
            let query = Query {
                filters: vec![Filter {
                    field: field.into(),
                    op,
                    value,
                }],
                ..Query::default()
            };
            let all = Visibility::all().scope(kind);
            let selection = select(&conn, kind, &query, &all, None, None).unwrap();
            let plan = query_plan(&conn, &selection.sql);
            assert!(
                plan.contains(&format!("SEARCH {} USING INDEX {index}", kind.table())),
                "{field}: {plan}"
            );
        }
    }
}
