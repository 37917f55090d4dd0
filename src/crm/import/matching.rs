//! What an import matches its rows on (an e-mail address, a domain, an id, a custom
//! field's value), and each row's key: worked out on the reading thread, so the writing
//! one only looks the key up.

use rusqlite::types::Value as Sql;
use serde_json::Value;

use super::convert::Prepared;
use crate::crm::{CrmError, Kind, custom};

/// What rows are matched on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchOn {
    Email,
    Domain,
    Id,
    Custom(String),
}

/// What rows of `kind` are matched on: `given` (`email`, `domain`, `id`, `custom.<key>`),
/// or by default e-mail for contacts, domain for companies, id for deals.
pub fn match_on(
    kind: Kind,
    given: Option<&str>,
    defs: &[custom::FieldDef],
) -> Result<MatchOn, CrmError> {
    let bad = |why: &str| CrmError::invalid("match_on", why);
    match given {
        None => Ok(match kind {
            Kind::Contact => MatchOn::Email,
            Kind::Company => MatchOn::Domain,
            _ => MatchOn::Id,
        }),
        Some("email") if kind == Kind::Contact => Ok(MatchOn::Email),
        Some("domain") if kind == Kind::Company => Ok(MatchOn::Domain),
        Some("id") => Ok(MatchOn::Id),
        Some(other) => match other.strip_prefix("custom.") {
            Some(key) if defs.iter().any(|d| d.key == key) => Ok(MatchOn::Custom(key.to_owned())),
            Some(_) => Err(bad("names no custom field of this kind of record")),
            None => Err(bad(&format!(
                "must be {}id or custom.<key>",
                match kind {
                    Kind::Contact => "email, ",
                    Kind::Company => "domain, ",
                    _ => "",
                }
            ))),
        },
    }
}

/// The key a row is matched on, if it has a value there: `k` and the value, as the run's
/// keys hold it (a company made by name is kept as `c` and the name).
pub fn key(match_on: &MatchOn, prepared: &Prepared) -> Option<String> {
    let text = match match_on {
        MatchOn::Id => prepared.id.clone(),
        // The address as the record stores it (checked and normalised), its first one.
        MatchOn::Email => match prepared.value("emails") {
            Some(Sql::Text(list)) => serde_json::from_str::<Vec<String>>(list)
                .ok()
                .and_then(|l| l.into_iter().next()),
            _ => None,
        },
        MatchOn::Domain => match prepared.value("domain") {
            Some(Sql::Text(d)) => Some(d.clone()),
            _ => None,
        },
        MatchOn::Custom(key) => match prepared.custom.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) | None => None,
            Some(other) => Some(other.to_string()),
        },
    }?;
    Some(format!("k{text}"))
}
