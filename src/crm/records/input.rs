//! What clients send for a record, checked field by field, and the rules of references and
//! of a record as a whole.

use rusqlite::Connection;
use rusqlite::types::Value as Sql;
use serde_json::{Map, Value};

use super::{Env, MAX_LINKS, is_visible};
use crate::crm::custom::{self};
use crate::crm::fields::{Field, FieldType, Writable};
use crate::crm::{CrmError, Kind, tags, values};

/// A checked write: built-in values, custom values, tags and links, each only if given.
#[derive(Debug, Default, Clone)]
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
    pub(super) fn value(&self, name: &str) -> Option<&Sql> {
        self.values
            .iter()
            .find(|(f, _)| f.name == name)
            .map(|(_, v)| v)
    }

    pub(super) fn set(&mut self, field: &'static Field, value: Sql) {
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
            Some(id) if crate::crm::is_id(id) => {
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
            .filter(|id| crate::crm::is_id(id));
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
pub(super) fn check_references(
    conn: &Connection,
    input: &Input,
    env: Env<'_>,
) -> Result<(), CrmError> {
    for (field, value) in &input.values {
        let Sql::Text(id) = value else { continue };
        match field.ty {
            FieldType::Company if !is_visible(conn, Kind::Company, id, env.visibility)? => {
                return Err(CrmError::invalid(field.name, "there is no such company"));
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
        if !is_visible(conn, Kind::Contact, id, env.visibility)? {
            return Err(CrmError::invalid(
                "contact_ids",
                format!("there is no contact {id}"),
            ));
        }
    }
    for (linked, id) in input.links.iter().flatten() {
        if !is_visible(conn, *linked, id, env.visibility)? {
            return Err(CrmError::invalid(
                "links",
                format!("there is no {linked} {id}"),
            ));
        }
    }
    Ok(())
}

/// The rules of a record as a whole, on its values after the write.
pub fn check_whole(kind: Kind, value: &dyn Fn(&str) -> Option<Sql>) -> Result<(), CrmError> {
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
