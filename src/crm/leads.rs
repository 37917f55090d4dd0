//! Converting a lead: a contact or company in stage `lead` (or `qualified`) becomes a
//! customer in one call, and can get its first deal in the same transaction.

use rusqlite::Connection;
use rusqlite::types::Value as Sql;
use serde_json::{Map, Value, json};

use super::records::{self, Env, Record};
use super::{CrmError, Kind, timeline};

/// Makes record `id` (a contact or company) a customer and, if `deal` is given, creates that
/// deal linked to it (a contact's company too, unless the deal names its own).
pub fn convert(
    conn: &Connection,
    kind: Kind,
    id: &str,
    deal: Option<Map<String, Value>>,
    expected: Option<i64>,
    env: Env<'_>,
) -> Result<(Record, Option<Record>), CrmError> {
    if !matches!(kind, Kind::Contact | Kind::Company) {
        return Err(CrmError::Invalid(format!("a {kind} is not converted")));
    }
    let record = records::find(conn, kind, id, env.visibility, false)?;
    if let Some(expected) = expected {
        records::check_version(&record, expected)?;
    }
    let before = record.body["lifecycle_stage"].clone();
    let deal = match deal {
        Some(mut body) => {
            match kind {
                Kind::Contact => {
                    let mut contacts: Vec<Value> = body
                        .get("contact_ids")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    contacts.push(json!(id));
                    body.insert("contact_ids".into(), Value::Array(contacts));
                    if !body.contains_key("company_id") && !record.body["company_id"].is_null() {
                        body.insert("company_id".into(), record.body["company_id"].clone());
                    }
                }
                _ => {
                    body.entry("company_id").or_insert_with(|| json!(id));
                }
            }
            let input = records::parse(conn, Kind::Deal, &body, true)?;
            Some(records::create(conn, Kind::Deal, input, env)?)
        }
        None => None,
    };
    if before != "customer" {
        let params = vec![Sql::Text(id.to_owned())];
        records::bump(
            conn,
            kind,
            &["lifecycle_stage = 'customer'".to_owned()],
            params,
            &env.actor.name,
        )?;
    }
    let detail = json!({
        "lifecycle_stage": [before, "customer"],
        "deal_id": deal.as_ref().map(|d| d.id.clone()),
    });
    timeline::record(conn, kind, id, &env.actor.name, "converted", &detail)?;
    Ok((records::get(conn, kind, id, env.visibility)?, deal))
}
