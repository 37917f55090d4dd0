//! How the forms of a record's page name another record without an id: a company by its
//! name, a contact by an e-mail address or a name. The text must name exactly one live record
//! the caller can see; otherwise the refusal says so next to the field, listing a few
//! candidates written so that typing one back names it alone (`Acme (acme.com)`,
//! `Ann Lee <ann@lee.test>`). The lists are the API's (`crm::list::page`), with the caller's
//! visibility.

use rusqlite::Connection;
use serde_json::{Map, Value, json};

use crate::crm::list::{self, Filter, Op, Query};
use crate::crm::records::{self, Record};
use crate::crm::{CrmError, Kind};
use crate::web::tenant::CrmCaller as Who;

/// How many candidates a refusal lists.
const CANDIDATES: u32 = 5;
/// How many records of the same name are looked at to tell them apart.
const SAME_NAME: u32 = 50;

fn text<'a>(body: &'a Map<String, Value>, name: &str) -> &'a str {
    body.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn first_email(body: &Map<String, Value>) -> &str {
    body.get("emails")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// A company as a form names it: `Name (domain)`, or `Name (id)` without a domain.
pub fn company_label(record: &Record) -> String {
    let name = text(&record.body, "name");
    match text(&record.body, "domain") {
        "" => format!("{name} ({})", record.id),
        domain => format!("{name} ({domain})"),
    }
}

/// A contact's name, or its first e-mail address when it has none.
pub fn contact_name(body: &Map<String, Value>) -> String {
    let name = format!("{} {}", text(body, "first_name"), text(body, "last_name"));
    match name.trim() {
        "" => first_email(body).to_owned(),
        name => name.to_owned(),
    }
}

/// A contact as a form names it: `Name <e-mail>`, or `Name (id)` without an address.
fn contact_label(record: &Record) -> String {
    let name = contact_name(&record.body);
    match first_email(&record.body) {
        "" => format!("{name} ({})", record.id),
        email => format!("{name} <{email}>"),
    }
}

fn eq(field: &str, value: &str) -> Filter {
    Filter {
        field: field.to_owned(),
        op: Op::Eq,
        value: json!(value),
    }
}

/// Up to `limit` live records of `kind` the caller can see that `filters` select.
fn select(
    conn: &Connection,
    who: &Who,
    kind: Kind,
    filters: Vec<Filter>,
    limit: u32,
) -> Result<Vec<Record>, CrmError> {
    let query = Query {
        filters,
        sort: None,
        limit: Some(limit),
        cursor: None,
    };
    let scope = who.visibility.scope(kind);
    Ok(list::page(conn, kind, &query, &scope, who.actor.user_id.as_deref())?.records)
}

/// `Name (qualifier)` or `Name <qualifier>` as the name and the qualifier.
fn qualified(typed: &str) -> (&str, Option<&str>) {
    for (open, close) in [(" (", ')'), (" <", '>')] {
        if let Some(inner) = typed.strip_suffix(close)
            && let Some((name, qualifier)) = inner.rsplit_once(open)
        {
            return (name.trim(), Some(qualifier.trim()));
        }
    }
    (typed, None)
}

/// The one record of `found`, or the refusal of `field` naming what was typed and listing
/// candidates (`others`, asked only when nothing matched).
fn one(
    field: &str,
    typed: &str,
    found: Vec<Record>,
    label: fn(&Record) -> String,
    others: impl FnOnce() -> Result<Vec<Record>, CrmError>,
) -> Result<Record, CrmError> {
    let listed = |records: &[Record]| {
        records
            .iter()
            .take(CANDIDATES as usize)
            .map(label)
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut found = found;
    match found.len() {
        1 => Ok(found.swap_remove(0)),
        0 => {
            let others = others()?;
            let hint = if others.is_empty() {
                String::new()
            } else {
                format!(" Did you mean: {}?", listed(&others))
            };
            Err(CrmError::invalid(
                field,
                format!("nothing you can see is called “{typed}”.{hint}"),
            ))
        }
        n => Err(CrmError::invalid(
            field,
            format!(
                "{} records are called “{typed}”: {}. Type one of them as written here.",
                if n >= SAME_NAME as usize {
                    "many".to_owned()
                } else {
                    n.to_string()
                },
                listed(&found)
            ),
        )),
    }
}

/// The company `typed` names, or none when it is empty. `chosen` is the id the page last
/// showed (or the type-ahead picked): kept while the text still names it, so two companies
/// of the same name stay apart.
pub fn company(
    conn: &Connection,
    who: &Who,
    typed: &str,
    chosen: Option<&str>,
) -> Result<Option<String>, CrmError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    if let Some(id) = chosen.filter(|id| !id.is_empty()) {
        match records::find(conn, Kind::Company, id, &who.visibility, false) {
            Ok(record)
                if text(&record.body, "name") == typed || company_label(&record) == typed =>
            {
                return Ok(Some(record.id));
            }
            Ok(_) | Err(CrmError::NotFound(_)) => {}
            Err(err) => return Err(err),
        }
    }
    let (name, qualifier) = qualified(typed);
    let mut found = select(conn, who, Kind::Company, vec![eq("name", name)], SAME_NAME)?;
    if let Some(q) = qualifier {
        found.retain(|r| r.id == q || text(&r.body, "domain") == q);
        if found.is_empty() {
            found = select(conn, who, Kind::Company, vec![eq("name", typed)], SAME_NAME)?;
        }
    }
    let others = || {
        let like = Filter {
            field: "name".into(),
            op: Op::Contains,
            value: json!(name),
        };
        select(conn, who, Kind::Company, vec![like], CANDIDATES)
    };
    one("company", typed, found, company_label, others).map(|r| Some(r.id))
}

/// The contact `typed` names: an e-mail address, `First Last`, a single name, or a
/// candidate as a refusal listed it.
pub fn contact(conn: &Connection, who: &Who, typed: &str) -> Result<Record, CrmError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err(CrmError::invalid(
            "contact",
            "type an e-mail address or a name",
        ));
    }
    let (name, qualifier) = qualified(typed);
    let by_email = |email: &str| {
        select(
            conn,
            who,
            Kind::Contact,
            vec![eq("emails", &email.to_lowercase())],
            SAME_NAME,
        )
    };
    let found = match qualifier {
        Some(q) if q.contains('@') => by_email(q)?,
        Some(id) => records::some(conn, Kind::Contact, &[id.to_owned()], &who.visibility)?,
        None if name.contains('@') => by_email(name)?,
        None => by_name(conn, who, name)?,
    };
    let others = || {
        let last = name.rsplit(' ').next().unwrap_or(name);
        let like = Filter {
            field: "last_name".into(),
            op: Op::Contains,
            value: json!(last),
        };
        select(conn, who, Kind::Contact, vec![like], CANDIDATES)
    };
    one("contact", typed, found, contact_label, others)
}

/// Contacts called `name`: first and last name when it has a space, else the last name or,
/// failing that, the first.
fn by_name(conn: &Connection, who: &Who, name: &str) -> Result<Vec<Record>, CrmError> {
    if let Some((first, last)) = name.split_once(' ') {
        let filters = vec![eq("first_name", first.trim()), eq("last_name", last.trim())];
        return select(conn, who, Kind::Contact, filters, SAME_NAME);
    }
    let found = select(
        conn,
        who,
        Kind::Contact,
        vec![eq("last_name", name)],
        SAME_NAME,
    )?;
    if !found.is_empty() {
        return Ok(found);
    }
    select(
        conn,
        who,
        Kind::Contact,
        vec![eq("first_name", name)],
        SAME_NAME,
    )
}

#[cfg(test)]
mod tests {
    use super::qualified;

    #[test]
    fn a_candidate_typed_back_names_its_qualifier() {
        assert_eq!(qualified("Acme (acme.com)"), ("Acme", Some("acme.com")));
        assert_eq!(
            qualified("Ann Lee <ann@lee.test>"),
            ("Ann Lee", Some("ann@lee.test"))
        );
        assert_eq!(qualified("Acme"), ("Acme", None));
        assert_eq!(qualified("(x)"), ("(x)", None));
    }
}
