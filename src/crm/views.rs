//! Saved views: a list as someone left it — filters, sort, columns — private to its owner or
//! shared with the tenant (shared views are made and changed by admins).

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::list::Filter;
use super::{Actor, CrmError, Kind, values};
use crate::identity::Role;

/// Most views one person keeps per kind, and most columns of one view.
pub const MAX_VIEWS: i64 = 100;
pub const MAX_COLUMNS: usize = 100;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct View {
    pub id: String,
    pub record_kind: Kind,
    pub name: String,
    pub owner_id: String,
    pub shared: bool,
    pub filters: Vec<Filter>,
    pub sort: Option<String>,
    pub columns: Vec<String>,
    pub version: i64,
}

/// A view as a client sends it; on a change, only what is given.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewInput {
    pub record_kind: Option<Kind>,
    pub name: Option<String>,
    pub shared: Option<bool>,
    pub filters: Option<Vec<Filter>>,
    pub sort: Option<String>,
    pub columns: Option<Vec<String>>,
}

const COLUMNS: &str = "id, record_kind, name, owner_id, shared, filters, sort, columns, version";

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<View> {
    let kind: String = r.get(1)?;
    let filters: String = r.get(5)?;
    let columns: String = r.get(7)?;
    Ok(View {
        id: r.get(0)?,
        record_kind: Kind::parse(&kind).unwrap_or(Kind::Contact),
        name: r.get(2)?,
        owner_id: r.get(3)?,
        shared: r.get(4)?,
        filters: serde_json::from_str(&filters).unwrap_or_default(),
        sort: r.get(6)?,
        columns: serde_json::from_str(&columns).unwrap_or_default(),
        version: r.get(8)?,
    })
}

/// The views `actor` sees: their own and the shared ones, of `kind` or all kinds.
pub fn list(conn: &Connection, actor: &Actor, kind: Option<Kind>) -> Result<Vec<View>, CrmError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM saved_views
         WHERE (shared = 1 OR owner_id = ?1) AND (?2 IS NULL OR record_kind = ?2)
           AND deleted_at IS NULL
         ORDER BY record_kind, name"
    ))?;
    let views = stmt
        .query_map(params![actor.user_id, kind.map(Kind::as_str)], read)?
        .collect::<Result<_, _>>()?;
    Ok(views)
}

/// A view `actor` sees.
pub fn get(conn: &Connection, actor: &Actor, id: &str) -> Result<View, CrmError> {
    conn.query_row(
        &format!(
            "SELECT {COLUMNS} FROM saved_views
             WHERE id = ?1 AND (shared = 1 OR owner_id = ?2) AND deleted_at IS NULL"
        ),
        params![id, actor.user_id],
        read,
    )
    .optional()?
    .ok_or(CrmError::Missing("view"))
}

/// Whether `actor` may change or remove `view`: its owner, or an admin for a shared one.
pub fn may_change(actor: &Actor, view: &View) -> bool {
    actor.user_id.as_deref() == Some(view.owner_id.as_str())
        || (view.shared && actor.role.at_least(Role::Admin))
}

fn check(conn: &Connection, actor: &Actor, view: &View) -> Result<(), CrmError> {
    let name = values::line("name", &json!(view.name))?;
    if name.is_empty() || name.chars().count() > 100 {
        return Err(CrmError::invalid("name", "must be 1 to 100 characters"));
    }
    if view.shared && !actor.role.at_least(Role::Admin) {
        return Err(CrmError::invalid("shared", "only admins share views"));
    }
    if view.columns.len() > MAX_COLUMNS {
        return Err(CrmError::invalid(
            "columns",
            format!("at most {MAX_COLUMNS}"),
        ));
    }
    // Filters and sort must make a list now: try them.
    let query = super::list::Query {
        filters: view.filters.clone(),
        sort: view.sort.clone(),
        limit: Some(1),
        cursor: None,
    };
    super::list::page(
        conn,
        view.record_kind,
        &query,
        &super::visibility::Scope::OwnedBy(Vec::new()),
        None,
    )?;
    Ok(())
}

/// Saves a new view of `actor`'s.
pub fn create(conn: &Connection, actor: &Actor, input: ViewInput) -> Result<View, CrmError> {
    let owner = actor
        .user_id
        .clone()
        .ok_or_else(|| CrmError::Invalid("views belong to people; a token has none".into()))?;
    let view = View {
        id: super::new_id(),
        record_kind: input
            .record_kind
            .ok_or_else(|| CrmError::invalid("record_kind", "is required"))?,
        name: input.name.unwrap_or_default(),
        owner_id: owner,
        shared: input.shared.unwrap_or(false),
        filters: input.filters.unwrap_or_default(),
        sort: input.sort,
        columns: input.columns.unwrap_or_default(),
        version: 1,
    };
    check(conn, actor, &view)?;
    let count: i64 = conn.query_row(
        "SELECT count(*) FROM saved_views WHERE owner_id = ?1 AND record_kind = ?2 AND deleted_at IS NULL",
        params![view.owner_id, view.record_kind.as_str()],
        |r| r.get(0),
    )?;
    if count >= MAX_VIEWS {
        return Err(CrmError::Conflict(format!(
            "at most {MAX_VIEWS} views per kind of record"
        )));
    }
    let now = super::now();
    conn.execute(
        "INSERT INTO saved_views (id, record_kind, name, owner_id, shared, filters, sort, columns, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        params![
            view.id,
            view.record_kind.as_str(),
            view.name.trim(),
            view.owner_id,
            view.shared,
            json!(view.filters).to_string(),
            view.sort,
            json!(view.columns).to_string(),
            now
        ],
    )?;
    get(conn, actor, &view.id)
}

/// Changes a view (its kind stays).
pub fn change(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    input: ViewInput,
) -> Result<View, CrmError> {
    let mut view = get(conn, actor, id)?;
    if !may_change(actor, &view) {
        return Err(CrmError::NotYours);
    }
    if input.record_kind.is_some_and(|k| k != view.record_kind) {
        return Err(CrmError::invalid(
            "record_kind",
            "a view keeps its kind of record",
        ));
    }
    if let Some(name) = input.name {
        view.name = name;
    }
    if let Some(shared) = input.shared {
        view.shared = shared;
    }
    if let Some(filters) = input.filters {
        view.filters = filters;
    }
    if input.sort.is_some() {
        view.sort = input.sort;
    }
    if let Some(columns) = input.columns {
        view.columns = columns;
    }
    check(conn, actor, &view)?;
    conn.execute(
        "UPDATE saved_views SET name = ?2, shared = ?3, filters = ?4, sort = ?5, columns = ?6,
             version = version + 1, updated_at = ?7 WHERE id = ?1",
        params![
            id,
            view.name.trim(),
            view.shared,
            json!(view.filters).to_string(),
            view.sort,
            json!(view.columns).to_string(),
            super::now()
        ],
    )?;
    get(conn, actor, id)
}

/// Removes a view; removing it again is done already.
pub fn remove(conn: &Connection, actor: &Actor, id: &str) -> Result<(), CrmError> {
    let gone: Option<(String, bool)> = conn
        .query_row(
            "SELECT owner_id, shared FROM saved_views WHERE id = ?1 AND deleted_at IS NOT NULL",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((owner, shared)) = gone {
        let mine = actor.user_id.as_deref() == Some(owner.as_str());
        return if mine || (shared && actor.role.at_least(Role::Admin)) {
            Ok(())
        } else {
            Err(CrmError::Missing("view"))
        };
    }
    let view = get(conn, actor, id)?;
    if !may_change(actor, &view) {
        return Err(CrmError::NotYours);
    }
    conn.execute(
        "UPDATE saved_views SET deleted_at = ?2 WHERE id = ?1",
        params![id, super::now()],
    )?;
    Ok(())
}
