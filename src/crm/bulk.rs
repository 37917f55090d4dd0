//! Bulk changes: the same change to many records — chosen by id or by a list's filters — in
//! the caller's one transaction: all of them, or (on any refusal) none. Each record changes
//! as a single change would (its checks, its version, its timeline entry), so a bulk change
//! is never a way around a rule.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::list::{self, Filter, Query};
use super::records::{self, Env, Note};
use super::{CrmError, Kind, pipelines, tags};

/// Most records one bulk change may name by id.
pub const MAX_IDS: usize = 10_000;

/// A bulk change as clients send it: `ids` or `filters`, and what to do.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bulk {
    /// The records, by id.
    pub ids: Option<Vec<String>>,
    /// The records a list with these filters holds (as `GET` of the list takes them).
    pub filters: Option<Vec<Filter>>,
    /// Fields to set, as a change of one record takes them (`owner_id`, `lifecycle_stage`,
    /// `custom`, …; for deals, `stage_id` moves them).
    #[serde(default)]
    pub set: Map<String, Value>,
    #[serde(default)]
    pub add_tags: Vec<String>,
    #[serde(default)]
    pub remove_tags: Vec<String>,
    /// Move the records to the trash instead.
    #[serde(default)]
    pub delete: bool,
}

/// What a bulk change did.
#[derive(Debug, Clone, Copy, Serialize, schemars::JsonSchema)]
pub struct Outcome {
    /// Records chosen.
    pub matched: usize,
    /// Records changed (the others held the values already).
    pub changed: usize,
}

/// Applies `bulk` to records of `kind` the caller sees; the caller's transaction commits.
pub fn apply(
    conn: &rusqlite::Connection,
    kind: Kind,
    bulk: &Bulk,
    env: Env<'_>,
) -> Result<Outcome, CrmError> {
    let ids = chosen(conn, kind, bulk, env)?;
    let something = bulk.delete
        || !bulk.set.is_empty()
        || !bulk.add_tags.is_empty()
        || !bulk.remove_tags.is_empty();
    if !something {
        return Err(CrmError::Invalid(
            "say what to change: set, add_tags, remove_tags or delete".into(),
        ));
    }
    if bulk.delete
        && (!bulk.set.is_empty() || !bulk.add_tags.is_empty() || !bulk.remove_tags.is_empty())
    {
        return Err(CrmError::Invalid(
            "delete moves records to the trash; it goes with no other change".into(),
        ));
    }
    let mut set = bulk.set.clone();
    let stage = if kind == Kind::Deal {
        set.remove("stage_id")
    } else {
        None
    };
    let stage = stage
        .map(|s| {
            s.as_str()
                .map(str::to_owned)
                .ok_or_else(|| CrmError::invalid("stage_id", "must be an id"))
        })
        .transpose()?;
    let add = tags::checked_names(&json!(bulk.add_tags))?;
    let remove = tags::checked_names(&json!(bulk.remove_tags))?;
    if (!add.is_empty() || !remove.is_empty()) && !kind.tagged() {
        return Err(CrmError::invalid(
            "add_tags",
            format!("a {kind} has no tags"),
        ));
    }
    // Checked once, before any record changes; what each record may name (an owner, a
    // company) is checked again as each one changes.
    let input = records::parse(conn, kind, &set, false)?;
    let note = Note {
        event: None,
        extra: [("bulk".to_owned(), json!(true))].into_iter().collect(),
    };
    if !bulk.delete
        && stage.is_none()
        && add.is_empty()
        && remove.is_empty()
        && let Some(changed) = records::change_all_noting(conn, kind, &ids, &input, env, &note)?
    {
        return Ok(Outcome {
            matched: ids.len(),
            changed,
        });
    }
    let mut changed = 0;
    for id in &ids {
        if bulk.delete {
            records::trash(conn, kind, id, None, env)?;
            changed += 1;
            continue;
        }
        let moved = match &stage {
            Some(stage) => {
                let before = records::version(conn, kind, id)?;
                pipelines::move_deal(conn, id, stage, None, None, env)?.version != before
            }
            None => false,
        };
        let mut input = input.clone();
        if !add.is_empty() || !remove.is_empty() {
            let mut names: Vec<String> = tags::of(conn, kind, std::slice::from_ref(id))?
                .remove(id)
                .unwrap_or_default();
            names.retain(|n| !remove.iter().any(|r| r.eq_ignore_ascii_case(n)));
            for name in &add {
                if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                    names.push(name.clone());
                }
            }
            input.tags = Some(names);
        }
        if records::change_noting(conn, kind, id, None, input, env, &note)? || moved {
            changed += 1;
        }
    }
    Ok(Outcome {
        matched: ids.len(),
        changed,
    })
}

/// The ids of the records `bulk` chooses: all of its `ids` (each one the caller sees), or
/// what its `filters` select.
fn chosen(
    conn: &rusqlite::Connection,
    kind: Kind,
    bulk: &Bulk,
    env: Env<'_>,
) -> Result<Vec<String>, CrmError> {
    match (&bulk.ids, &bulk.filters) {
        (Some(ids), None) => {
            if ids.len() > MAX_IDS {
                return Err(CrmError::invalid(
                    "ids",
                    format!("at most {MAX_IDS}; choose more with filters"),
                ));
            }
            let mut unique: Vec<String> = Vec::with_capacity(ids.len());
            for id in ids {
                if !super::is_id(id) || !records::is_visible(conn, kind, id, env.visibility)? {
                    return Err(CrmError::invalid("ids", format!("there is no {kind} {id}")));
                }
                if !unique.contains(id) {
                    unique.push(id.clone());
                }
            }
            Ok(unique)
        }
        (None, Some(filters)) => {
            let query = Query {
                filters: filters.clone(),
                sort: Some("-created_at".into()),
                limit: None,
                cursor: None,
            };
            list::ids(
                conn,
                kind,
                &query,
                &env.visibility.scope(kind),
                env.actor.user_id.as_deref(),
            )
        }
        _ => Err(CrmError::Invalid(
            "choose the records with either ids or filters".into(),
        )),
    }
}
