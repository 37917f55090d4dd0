//! One search across contacts, companies, deals and activity text, with SQLite FTS5: every
//! word matches as a prefix (type-ahead), results come grouped by kind, each with a snippet
//! whose matching parts are marked. The newest 500 matches of each kind are ranked, so a
//! two-letter prefix over a million records stays fast: first those whose title (a name, a
//! subject) has a word starting with each word typed, then with some of them, newest first
//! within each. (BM25 was tried: it counts every match of each prefix in the whole index to
//! weigh it, 10–20 ms a kind at a million contacts, and for a few typed letters what was
//! typed at the start of a name says more.) The indexes follow the records by triggers, in
//! the same transaction.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, params, params_from_iter};
use serde::Serialize;

use super::snippet::{CLOSE, OPEN, snippet};
use super::visibility::Visibility;
use super::{CrmError, Kind};

/// Most words of a query, and longest query, in characters.
pub const MAX_TERMS: usize = 8;
pub const MAX_QUERY: usize = 200;
/// Most results per kind.
pub const MAX_PER_KIND: u32 = 50;

/// A piece of a snippet: text, and whether it matched.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct Part {
    pub text: String,
    #[serde(rename = "match")]
    pub matched: bool,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Hit {
    pub id: String,
    pub title: String,
    pub snippet: Vec<Part>,
}

/// Hits of each kind, in the order of [`Kind::ALL`].
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Results {
    pub contacts: Vec<Hit>,
    pub companies: Vec<Hit>,
    pub deals: Vec<Hit>,
    pub activities: Vec<Hit>,
}

/// The FTS5 query for what someone typed: each word a quoted prefix, so that no input is
/// read as FTS5 syntax (`OR`, `NEAR`, `col:`, quotes).
pub fn fts_query(text: &str) -> Result<String, CrmError> {
    Ok(words(text)?
        .iter()
        .map(|word| format!("\"{}\"*", word.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" "))
}

/// The words of what someone typed, as searched for.
fn words(text: &str) -> Result<Vec<String>, CrmError> {
    if text.chars().count() > MAX_QUERY {
        return Err(CrmError::invalid(
            "q",
            format!("may be at most {MAX_QUERY} characters"),
        ));
    }
    let words: Vec<String> = text
        .split_whitespace()
        .map(|word| {
            word.chars()
                .filter(|c| !c.is_control() && *c != OPEN && *c != CLOSE)
                .collect::<String>()
        })
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .take(MAX_TERMS)
        .collect();
    if words.is_empty() {
        return Err(CrmError::invalid("q", "needs a word to search for"));
    }
    Ok(words)
}

/// How well a title answers the words typed: how many of them start a word of it.
fn title_score(title: &str, typed: &[String]) -> usize {
    let title = title.to_lowercase();
    let title_words: Vec<&str> = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    typed
        .iter()
        .filter(|typed| {
            let typed = typed.to_lowercase();
            title_words.iter().any(|w| w.starts_with(&typed))
        })
        .count()
}

fn parts(snippet: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = snippet;
    while !rest.is_empty() {
        let (before, after) = rest.split_once(OPEN).unwrap_or((rest, ""));
        if !before.is_empty() {
            parts.push(Part {
                text: before.to_owned(),
                matched: false,
            });
        }
        if after.is_empty() {
            break;
        }
        let (matched, tail) = after.split_once(CLOSE).unwrap_or((after, ""));
        parts.push(Part {
            text: matched.to_owned(),
            matched: true,
        });
        rest = tail;
    }
    parts
}

/// The newest matches ranked, at most this many per kind: ranking every match of a short
/// prefix (`ma*` matches half of a million contacts) would take far too long for type-ahead.
const RANKED: u32 = 500;

fn search_kind(
    conn: &Connection,
    kind: Kind,
    (query, typed): (&str, &[String]),
    visibility: &Visibility,
    limit: u32,
) -> Result<Vec<Hit>, CrmError> {
    let table = kind.table();
    let mut params = vec![Sql::Text(query.to_owned())];
    let visible = visibility.scope(kind).condition(kind, &mut params);
    // First the newest matches the caller sees, with their titles…
    let sql = format!(
        "SELECT {table}.seq, {table}.id, {title}
         FROM {table}_fts JOIN {table} ON {table}.seq = {table}_fts.rowid
         WHERE {table}_fts MATCH ?1 AND {table}.deleted_at IS NULL AND {visible}
         ORDER BY {table}_fts.rowid DESC LIMIT {RANKED}",
        title = kind.title_sql(),
    );
    let mut recent: Vec<(usize, i64, Hit)> = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(params), |r| {
            let title: String = r.get(2)?;
            Ok((
                title_score(&title, typed),
                r.get(0)?,
                Hit {
                    id: r.get(1)?,
                    title,
                    snippet: Vec::new(),
                },
            ))
        })?
        .collect::<Result<_, _>>()?;
    // …the best `limit` of them (the sort is stable: newest first within a score)…
    recent.sort_by_key(|(score, _, _)| std::cmp::Reverse(*score));
    recent.truncate(limit as usize);
    if recent.is_empty() {
        return Ok(Vec::new());
    }
    // …then their snippets, from their own texts: asking FTS5 would evaluate the query again.
    let best: Vec<i64> = recent.iter().map(|(_, seq, _)| *seq).collect();
    let columns = indexed(kind);
    let sql = format!(
        "SELECT seq, {} FROM {table} WHERE seq IN (SELECT value FROM json_each(?1))",
        columns.join(", ")
    );
    let mut snippets: std::collections::HashMap<i64, String> = conn
        .prepare_cached(&sql)?
        .query_map(params![serde_json::json!(best).to_string()], |r| {
            let texts = (1..=columns.len())
                .map(|i| Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default()))
                .collect::<rusqlite::Result<Vec<String>>>()?;
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            Ok((r.get::<_, i64>(0)?, snippet(&texts, typed)))
        })?
        .collect::<Result<_, _>>()?;
    Ok(recent
        .into_iter()
        .map(|(_, seq, mut hit)| {
            hit.snippet = parts(&snippets.remove(&seq).unwrap_or_default());
            hit
        })
        .collect())
}

/// The columns of a kind's search index (`<table>_fts`, over the same columns of its table).
fn indexed(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Contact => &["first_name", "last_name", "emails", "phones", "title"],
        Kind::Company => &["name", "domain", "website"],
        Kind::Deal => &["title"],
        Kind::Activity => &["subject", "body"],
    }
}

/// Searches every kind for `text`, at most `limit` hits of each.
pub fn search(
    conn: &Connection,
    text: &str,
    visibility: &Visibility,
    limit: u32,
) -> Result<Results, CrmError> {
    if !(1..=MAX_PER_KIND).contains(&limit) {
        return Err(CrmError::invalid(
            "limit",
            format!("must be 1 to {MAX_PER_KIND}"),
        ));
    }
    let query = fts_query(text)?;
    let typed = words(text)?;
    let asked = (query.as_str(), typed.as_slice());
    Ok(Results {
        contacts: search_kind(conn, Kind::Contact, asked, visibility, limit)?,
        companies: search_kind(conn, Kind::Company, asked, visibility, limit)?,
        deals: search_kind(conn, Kind::Deal, asked, visibility, limit)?,
        activities: search_kind(conn, Kind::Activity, asked, visibility, limit)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_never_becomes_fts_syntax() {
        assert_eq!(fts_query("ada").unwrap(), "\"ada\"*");
        assert_eq!(fts_query("ada OR x").unwrap(), "\"ada\"* \"OR\"* \"x\"*");
        assert_eq!(
            fts_query("a\"b title:x").unwrap(),
            "\"a\"\"b\"* \"title:x\"*"
        );
        assert!(fts_query(" - \" * ").is_err());
        assert!(fts_query(&"a ".repeat(200)).is_err());
    }

    #[test]
    fn titles_that_start_with_what_was_typed_come_first() {
        let typed = |t: &str| words(t).unwrap();
        assert_eq!(title_score("Ada Lovelace", &typed("ada lov")), 2);
        assert_eq!(title_score("Ada Byron", &typed("ada lov")), 1);
        assert_eq!(title_score("Call about Ada's engine", &typed("ADA")), 1);
        assert_eq!(
            title_score("Canada trip", &typed("ada")),
            0,
            "inside a word"
        );
        assert_eq!(title_score("", &typed("ada")), 0);
    }

    #[test]
    fn the_columns_snippets_are_made_of_are_those_the_index_holds() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::storage::migrate_connection(
            &mut conn,
            crate::storage::Schema::Tenant,
            std::path::Path::new(":memory:"),
        )
        .unwrap();
        for kind in Kind::ALL {
            let mut columns = conn
                .prepare(&format!(
                    "SELECT name FROM pragma_table_info('{}_fts')",
                    kind.table()
                ))
                .unwrap();
            let columns: Vec<String> = columns
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(columns, indexed(kind), "{kind:?}");
        }
    }

    #[test]
    fn snippets_come_in_marked_parts() {
        let text = format!("Ada {OPEN}Love{CLOSE}lace");
        assert_eq!(
            parts(&text),
            vec![
                Part {
                    text: "Ada ".into(),
                    matched: false
                },
                Part {
                    text: "Love".into(),
                    matched: true
                },
                Part {
                    text: "lace".into(),
                    matched: false
                },
            ]
        );
    }
}
