//! Duplicates, found on demand among the live records the caller sees: contacts that share an
//! e-mail address, or a name and a company; companies that share a domain, or a name once case,
//! accents, punctuation and a legal form (`Inc.`, `GmbH`) are set aside. Each group comes with
//! its records, ready to be merged (`merge`).
//!
//! SQLite groups the rows (sorting on disk past its cache), so memory stays flat however many
//! records the tenant holds; names are compared by a function registered for the query.

use std::collections::HashMap;

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, params_from_iter};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::records;
use super::visibility::Visibility;
use super::{CrmError, Kind, custom};

/// Most groups one answer holds.
pub const MAX_GROUPS: usize = 500;

/// Why records are taken for duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Contacts sharing an e-mail address (any of theirs).
    Email,
    /// Contacts with the same name at the same company (or both at none); companies with the
    /// same name.
    Name,
    /// Companies with the same domain (`www.` aside).
    Domain,
}

impl Reason {
    /// The reasons that apply to `kind`, in the order they are looked for.
    pub fn of(kind: Kind) -> &'static [Reason] {
        match kind {
            Kind::Contact => &[Reason::Email, Reason::Name],
            Kind::Company => &[Reason::Domain, Reason::Name],
            Kind::Deal | Kind::Activity => &[],
        }
    }
}

/// Records that look like one another.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Group {
    pub reason: Reason,
    /// What they share, as compared (an address, a folded name, a domain).
    pub key: String,
    /// The records, oldest first: the first is the usual survivor.
    #[schemars(with = "Vec<Map<String, Value>>")]
    pub records: Vec<Map<String, Value>>,
}

/// An answer: the first groups, and how many there are.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Duplicates {
    pub groups: Vec<Group>,
    /// Groups found in all.
    pub total: usize,
}

/// Finds duplicates of `kind` by `reasons`, at most `limit` groups in the answer.
pub fn find(
    conn: &Connection,
    kind: Kind,
    reasons: &[Reason],
    limit: usize,
    visibility: &Visibility,
) -> Result<Duplicates, CrmError> {
    register(conn)?;
    let mut found: Vec<(Reason, String, Vec<String>)> = Vec::new();
    let mut total = 0;
    for &reason in reasons {
        if !Reason::of(kind).contains(&reason) {
            return Err(CrmError::invalid(
                "by",
                format!("{kind} duplicates are found by: {}", names(kind)),
            ));
        }
        let mut params = Vec::new();
        let visible = visibility.scope(kind).condition(kind, &mut params);
        let sql = grouping(kind, reason, &visible);
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query(params_from_iter(params))?;
        while let Some(row) = rows.next()? {
            total += 1;
            if found.len() < limit {
                let ids: String = row.get(1)?;
                let mut ids: Vec<(i64, String)> = serde_json::from_str(&ids).unwrap_or_default();
                ids.sort_unstable();
                found.push((
                    reason,
                    row.get(0)?,
                    ids.into_iter().map(|(_, id)| id).collect(),
                ));
            }
        }
    }
    let bodies = bodies(conn, kind, &found)?;
    let groups = found
        .into_iter()
        .map(|(reason, key, ids)| Group {
            reason,
            key,
            records: ids
                .iter()
                .filter_map(|id| bodies.get(id).cloned())
                .collect(),
        })
        .collect();
    Ok(Duplicates { groups, total })
}

fn names(kind: Kind) -> String {
    Reason::of(kind)
        .iter()
        .map(|r| serde_json::to_value(r).map_or_else(|_| String::new(), |v| v.to_string()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The query that groups `kind`'s live, visible records by `reason`: each row a key and the
/// JSON array of its records' `[seq, id]`.
fn grouping(kind: Kind, reason: Reason, visible: &str) -> String {
    let (key, extra_group, from, having) = match (kind, reason) {
        (Kind::Contact, Reason::Email) => (
            "lower(mail.value)",
            "",
            "contacts, json_each(contacts.emails) AS mail",
            "mail.value <> ''",
        ),
        (Kind::Contact, _) => (
            "holdfast_person(contacts.first_name || ' ' || contacts.last_name)",
            ", ifnull(contacts.company_id, '')",
            "contacts",
            "(contacts.first_name <> '' OR contacts.last_name <> '')",
        ),
        (_, Reason::Domain) => (
            "CASE WHEN companies.domain LIKE 'www.%' THEN substr(companies.domain, 5) ELSE companies.domain END",
            "",
            "companies",
            "companies.domain IS NOT NULL AND companies.domain <> ''",
        ),
        (_, _) => (
            "holdfast_company(companies.name)",
            "",
            "companies",
            "companies.name <> ''",
        ),
    };
    let table = kind.table();
    format!(
        "SELECT key, json_group_array(json_array(seq, id)) FROM (
             SELECT DISTINCT {key} AS key{extra_group} AS company, {table}.seq AS seq, {table}.id AS id
             FROM {from}
             WHERE {table}.deleted_at IS NULL AND {having} AND {visible})
         WHERE key <> ''
         GROUP BY key, company HAVING count(*) > 1
         ORDER BY key, company",
        extra_group = if extra_group.is_empty() {
            ", ''"
        } else {
            extra_group
        },
    )
}

/// The bodies of the records the groups name, by id.
fn bodies(
    conn: &Connection,
    kind: Kind,
    groups: &[(Reason, String, Vec<String>)],
) -> Result<HashMap<String, Map<String, Value>>, CrmError> {
    let ids: Vec<&String> = groups.iter().flat_map(|(_, _, ids)| ids).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let defs = custom::live(conn, kind)?;
    let table = kind.table();
    let sql = format!(
        "SELECT {} FROM {table} WHERE {table}.id IN (SELECT value FROM json_each(?1))",
        records::columns(kind)
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut found: Vec<records::Record> = stmt
        .query_map([serde_json::json!(ids).to_string()], |row| {
            records::read(kind, &defs, row)
        })?
        .collect::<Result<_, _>>()?;
    records::decorate(conn, &mut found)?;
    Ok(found.into_iter().map(|r| (r.id, r.body)).collect())
}

/// Registers the name foldings on `conn` (again, harmlessly, on a connection that has them).
fn register(conn: &Connection) -> Result<(), CrmError> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("holdfast_person", 1, flags, |ctx| {
        Ok(ctx.get::<Option<String>>(0)?.map(|t| folded_words(&t)))
    })?;
    conn.create_scalar_function("holdfast_company", 1, flags, |ctx| {
        Ok(ctx.get::<Option<String>>(0)?.map(|t| company_name(&t)))
    })?;
    Ok(())
}

/// Lower case, accents gone, words of letters and digits separated by one space:
/// "  José  O'Brien " → "jose o brien".
pub fn folded_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
    {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
    out
}

/// Legal forms that say nothing about which company it is.
const LEGAL_FORMS: &[&str] = &[
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "company",
    "ltd",
    "limited",
    "llc",
    "llp",
    "lp",
    "plc",
    "gmbh",
    "ag",
    "kg",
    "sa",
    "sas",
    "sarl",
    "srl",
    "spa",
    "bv",
    "nv",
    "oy",
    "ab",
    "as",
    "pty",
];

/// A company's name as compared: folded, without its legal form ("ACME, Inc." → "acme"); a name
/// that is only a legal form stays as it is.
pub fn company_name(text: &str) -> String {
    let folded = folded_words(text);
    let mut words: Vec<&str> = folded.split(' ').collect();
    while words.len() > 1 && words.last().is_some_and(|w| LEGAL_FORMS.contains(w)) {
        words.pop();
    }
    words.join(" ")
}

/// Reads `by` as clients give it: a reason, or none for all of `kind`'s.
pub fn reasons(kind: Kind, by: Option<&str>) -> Result<Vec<Reason>, CrmError> {
    match by {
        None | Some("") => Ok(Reason::of(kind).to_vec()),
        Some(text) => serde_json::from_value::<Reason>(Value::String(text.to_owned()))
            .ok()
            .filter(|r| Reason::of(kind).contains(r))
            .map(|r| vec![r])
            .ok_or_else(|| {
                CrmError::invalid(
                    "by",
                    format!("{kind} duplicates are found by: {}", names(kind)),
                )
            }),
    }
}

/// How many groups an answer holds when `limit` is given (or not).
pub fn limit(given: Option<usize>) -> Result<usize, CrmError> {
    match given {
        None => Ok(50),
        Some(n) if (1..=MAX_GROUPS).contains(&n) => Ok(n),
        Some(_) => Err(CrmError::invalid(
            "limit",
            format!("must be from 1 to {MAX_GROUPS}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_case_accents_and_punctuation() {
        assert_eq!(folded_words("  José  O'Brien "), "jose o brien");
        assert_eq!(folded_words("ANNA-MARIA"), "anna maria");
        assert_eq!(folded_words("!!"), "");
    }

    #[test]
    fn company_names_lose_their_legal_form() {
        assert_eq!(company_name("ACME, Inc."), "acme");
        assert_eq!(company_name("Acme GmbH & Co. KG"), "acme");
        assert_eq!(company_name("Müller AG"), "muller");
        assert_eq!(company_name("Inc"), "inc");
        assert_eq!(company_name("Company of Wolves Ltd"), "company of wolves");
    }

    #[test]
    fn each_kind_takes_only_its_reasons() {
        assert_eq!(
            reasons(Kind::Contact, None).unwrap(),
            vec![Reason::Email, Reason::Name]
        );
        assert_eq!(
            reasons(Kind::Company, Some("domain")).unwrap(),
            vec![Reason::Domain]
        );
        assert!(reasons(Kind::Contact, Some("domain")).is_err());
        assert!(reasons(Kind::Company, Some("nonsense")).is_err());
    }
}
