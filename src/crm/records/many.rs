//! The same change of fields to many records at once, as two set-based statements: each
//! record's timeline entry, then the `UPDATE`. It makes exactly what changing each record in
//! turn makes (the same checks, a version more and one timeline entry for each record that
//! changes, nothing for one that holds the values already), without reading each record:
//! a bulk change of 250,000 contacts wrote them one by one in about 8 s, holding the
//! tenant's write lock all along.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, params_from_iter};
use serde_json::Value;

use super::input::{Input, check_references};
use super::{Env, Note};
use crate::crm::fields::FieldType;
use crate::crm::{CrmError, Kind, values};

/// Changes the records `ids` (live ones the caller may see) as `input` says, told in the
/// timeline as `note` says; answers how many changed. `None` when `input` is not a change
/// this can make — tags, custom fields, a deal's contacts, an activity's links, times and
/// lists (stored otherwise than the timeline shows them), or an empty value (which may
/// leave a record without the name it needs) — and the records must change one by one.
pub fn change_all_noting(
    conn: &Connection,
    kind: Kind,
    ids: &[String],
    input: &Input,
    env: Env<'_>,
    note: &Note,
) -> Result<Option<usize>, CrmError> {
    if !plain(input) {
        return Ok(None);
    }
    check_references(conn, input, env)?;
    // ?1 ids, ?2 now, ?3 actor, ?4 kind, ?5 event, ?6 the entry's extra members; then each
    // field's new value as the timeline shows it, then each field's value (last, so the
    // `UPDATE`, which uses only the values, has as many parameters as both).
    let mut params = vec![
        Sql::Text(serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())),
        Sql::Integer(crate::crm::now()),
        Sql::Text(env.actor.name.clone()),
        Sql::Text(kind.as_str().into()),
        Sql::Text(note.event.unwrap_or("updated").into()),
        Sql::Text(Value::Object(note.extra.clone()).to_string()),
    ];
    let shown = params.len() + 1;
    let given = shown + input.values.len();
    params.extend(
        input
            .values
            .iter()
            .map(|(field, value)| Sql::Text(values::to_json(field.ty, value.clone()).to_string())),
    );
    params.extend(input.values.iter().map(|(_, value)| value.clone()));
    let mut differs = Vec::new();
    let mut sets = Vec::new();
    // Only the fields that change, each as [old, new], as one change of the record tells it.
    let mut detail = "'{}'".to_owned();
    for (i, (field, _)) in input.values.iter().enumerate() {
        let (name, value, shown) = (field.name, given + i, shown + i);
        differs.push(format!("{name} IS NOT ?{value}"));
        sets.push(format!("{name} = ?{value}"));
        detail = format!(
            "json_patch({detail}, CASE WHEN {name} IS NOT ?{value} \
             THEN json_object('{name}', json_array({name}, json(?{shown}))) ELSE '{{}}' END)"
        );
    }
    let differs = differs.join(" OR ");
    let chosen =
        format!("id IN (SELECT value FROM json_each(?1)) AND deleted_at IS NULL AND ({differs})");
    let table = kind.table();
    conn.prepare_cached(&format!(
        "INSERT INTO timeline (record_kind, record_id, at, actor, event, detail)
         SELECT ?4, id, ?2, ?3, ?5, json_patch({detail}, ?6) FROM {table}
         WHERE {chosen} ORDER BY seq"
    ))?
    .execute(params_from_iter(params.iter()))?;
    let changed = conn
        .prepare_cached(&format!(
            "UPDATE {table} SET {}, updated_at = ?2, updated_by = ?3, version = version + 1
             WHERE {chosen}",
            sets.join(", ")
        ))?
        .execute(params_from_iter(params.iter()))?;
    Ok(Some(changed))
}

/// Whether `input` sets built-in fields only, each to a value stored as the timeline shows
/// it, none of them empty.
fn plain(input: &Input) -> bool {
    input.custom.is_none()
        && input.tags.is_none()
        && input.contact_ids.is_none()
        && input.links.is_none()
        && !input.values.is_empty()
        && input.values.iter().all(|(field, value)| {
            !matches!(
                field.ty,
                FieldType::Time | FieldType::Emails | FieldType::Phones | FieldType::Count
            ) && match value {
                Sql::Null | Sql::Blob(_) => false,
                Sql::Text(text) => !text.is_empty(),
                Sql::Integer(_) | Sql::Real(_) => true,
            }
        })
}
