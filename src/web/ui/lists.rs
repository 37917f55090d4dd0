//! The tables of contacts, companies and deals: filter by name and stage, sort, choose the
//! columns, apply a saved view, page on — the API's list (`crm::list::page`) with the
//! caller's visibility, as a page. Members and above also get checkboxes per row and a bulk
//! form (see `list_actions`). One list page, the kind's views and custom fields (one small
//! query each) and, for deals, the pipelines: never a query per row.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use askama::Template;
use serde_json::{Map, Value};

use super::chrome::query_escape;
use super::list_columns::{self as columns, Cell, Column, Names};
use super::list_query::{
    COMPANIES, CONTACTS, DEALS, Resolved, State, Table, columns_query, resolve,
};
use super::{Chrome, render, see_other};
use crate::crm::fields::LIFECYCLE_STAGES;
use crate::crm::list::Query;
use crate::crm::pipelines::Pipeline;
use crate::crm::views::{self, View};
use crate::crm::{CrmError, Kind, custom, pipelines};
use crate::error::ApiError;
use crate::identity::Role;
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{TenantSession, crm_read as read, user_emails};

endpoints! { area: Area::TenantApp;
    GET "/contacts" => contacts, Access::Tenant(Role::Viewer), 200,
        "The contacts table: filters, sort, columns or a saved view", [InvalidInput, InvalidCursor, NotFound];
    GET "/companies" => companies, Access::Tenant(Role::Viewer), 200,
        "The companies table (as /contacts)", [InvalidInput, InvalidCursor, NotFound];
    GET "/deals/table" => deals, Access::Tenant(Role::Viewer), 200,
        "The deals as a table (as /contacts; the stage filter takes a deal's stage)", [InvalidInput, InvalidCursor, NotFound];
}

const PAGE_SIZE: u32 = 50;

/// An option of a select (or a checkbox), chosen or not.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// Options under a heading (`<optgroup>`); no heading, no group.
pub struct Group {
    pub label: String,
    pub options: Vec<Choice>,
}

struct Row {
    id: String,
    name: String,
    cells: Vec<Cell>,
}

/// The applied view, and whether the caller may rename or delete it.
struct Applied {
    id: String,
    name: String,
    may_change: bool,
}

/// What the bulk form offers (members and above, when the appliance takes writes).
pub struct BulkForm {
    owners: Vec<Choice>,
    stages: Vec<Group>,
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    chrome: Chrome,
    table: &'static Table,
    q: String,
    stages: Vec<Group>,
    sorts: Vec<Choice>,
    columns: Vec<Choice>,
    headers: Vec<String>,
    rows: Vec<Row>,
    /// The query string of the next page, if there is one.
    next: Option<String>,
    /// The API's export of this list (its filters, sort and columns), less the format.
    export: String,
    /// The query that shows this table again (what forms posted from it go back to).
    here: String,
    done: Option<String>,
    views: Vec<Choice>,
    applied: Option<Applied>,
    /// Whether the caller may save views (the appliance takes writes).
    can_save: bool,
    bulk: Option<BulkForm>,
    /// The company the table is limited to, kept by the filter form.
    company: String,
}

fn choices<'a>(options: impl Iterator<Item = (&'a str, &'a str)>, chosen: &str) -> Vec<Choice> {
    options
        .map(|(value, label)| Choice {
            value: value.to_owned(),
            label: label.to_owned(),
            selected: value == chosen,
        })
        .collect()
}

/// The stage select's options: lifecycle stages, or each pipeline's stages under its name.
fn stage_groups(table: &Table, pipelines: &[Pipeline], chosen: &str, any: &str) -> Vec<Group> {
    let mut groups = vec![Group {
        label: String::new(),
        options: choices(std::iter::once(("", any)), chosen),
    }];
    if table.kind == Kind::Deal {
        groups.extend(pipelines.iter().map(|p| Group {
            label: p.name.clone(),
            options: choices(
                p.stages.iter().map(|s| (s.id.as_str(), s.name.as_str())),
                chosen,
            ),
        }));
    } else {
        groups[0]
            .options
            .extend(choices(LIFECYCLE_STAGES.iter().map(|s| (*s, *s)), chosen));
    }
    groups
}

fn name_of(kind: Kind, body: &Map<String, Value>) -> String {
    let text = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default();
    let name = match kind {
        Kind::Contact => format!("{} {}", text("first_name"), text("last_name")),
        Kind::Company => text("name").to_owned(),
        Kind::Deal => text("title").to_owned(),
        Kind::Activity => text("subject").to_owned(),
    };
    let name = name.trim();
    if name.is_empty() {
        "(no name)".to_owned()
    } else {
        name.to_owned()
    }
}

async fn contacts(
    s: TenantSession,
    st: web::Data<AppState>,
    q: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    show(&CONTACTS, s, st, &q).await
}

async fn companies(
    s: TenantSession,
    st: web::Data<AppState>,
    q: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    show(&COMPANIES, s, st, &q).await
}

async fn deals(
    s: TenantSession,
    st: web::Data<AppState>,
    q: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    show(&DEALS, s, st, &q).await
}

/// What one read of the tenant's database gives the page.
struct Found {
    views: Vec<View>,
    applied: Option<View>,
    /// Whether the caller may rename or delete the applied view.
    may_change: bool,
    defs: Vec<custom::FieldDef>,
    pipelines: Vec<Pipeline>,
    resolved: Resolved,
    page: crate::crm::list::Page,
}

async fn find(
    table: &'static Table,
    state: &web::Data<AppState>,
    session: &TenantSession,
    asked: State,
) -> Result<Found, ApiError> {
    read(state, session, move |conn, who| {
        let views = views::list(conn, &who.actor, Some(table.kind))?;
        let applied = match &asked.view {
            Some(id) => Some(
                views
                    .iter()
                    .find(|v| v.id == *id)
                    .cloned()
                    .ok_or(CrmError::Missing("view"))?,
            ),
            None => None,
        };
        let may_change = applied
            .as_ref()
            .is_some_and(|v| views::may_change(&who.actor, v));
        let resolved = resolve(table, &asked, applied.as_ref());
        let defs = custom::live(conn, table.kind)?;
        let pipelines = if table.kind == Kind::Deal {
            pipelines::list(conn)?
        } else {
            Vec::new()
        };
        let query = Query {
            filters: resolved.filters.clone(),
            sort: Some(resolved.sort.clone()),
            limit: Some(PAGE_SIZE),
            cursor: asked.cursor.clone(),
        };
        let scope = who.visibility.scope(table.kind);
        let page = crate::crm::list::page(
            conn,
            table.kind,
            &query,
            &scope,
            who.actor.user_id.as_deref(),
        )?;
        Ok(Found {
            views,
            applied,
            may_change,
            defs,
            pipelines,
            resolved,
            page,
        })
    })
    .await
}

/// The API's export of what the table lists: its filters, sort, and the name's fields and
/// the chosen columns.
fn export_of(
    table: &Table,
    session: &TenantSession,
    resolved: &Resolved,
    shown: &[Column],
) -> Result<String, ApiError> {
    let mut names: Vec<String> = table.named.iter().map(|n| (*n).to_owned()).collect();
    names.extend(shown.iter().map(|c| c.name.clone()));
    Ok(format!(
        "{}/api/v1/export/{}?filters={}&sort={}&columns={}",
        session.current.pages_base(),
        table.plural,
        query_escape(&serde_json::to_string(&resolved.filters).map_err(ApiError::internal)?),
        query_escape(&resolved.sort),
        columns_query(&names),
    ))
}

async fn show(
    table: &'static Table,
    session: TenantSession,
    state: web::Data<AppState>,
    pairs: &[(String, String)],
) -> Result<HttpResponse, ApiError> {
    let asked = State::parse(pairs)?;
    let base = session.current.pages_base().to_owned();
    if asked.scattered {
        return Ok(see_other(&format!(
            "{base}{}?{}",
            table.path,
            asked.query()
        )));
    }
    let chrome = Chrome::new(&state, &session, table.path);
    let found = find(table, &state, &session, asked.clone()).await?;
    let all = columns::all(table.kind, &found.defs);
    let shown = columns::chosen(&all, &found.resolved.columns, table.defaults);
    let bulk_offered = chrome.can_edit;
    let users: HashMap<String, String> = if bulk_offered || columns::names_users(&shown) {
        user_emails(&state, &session).await?.into_iter().collect()
    } else {
        HashMap::new()
    };
    let names = Names {
        users,
        pipelines: found.pipelines,
    };
    let rows = found
        .page
        .records
        .iter()
        .map(|r| Row {
            id: r.id.clone(),
            name: name_of(table.kind, &r.body),
            cells: shown
                .iter()
                .map(|c| columns::cell(c, &r.body, &names))
                .collect(),
        })
        .collect();
    let here = asked.query();
    let next = found.page.next_cursor.map(|cursor| {
        let sep = if here.is_empty() { "" } else { "&" };
        format!("{here}{sep}cursor={}", query_escape(&cursor))
    });
    let export = export_of(table, &session, &found.resolved, &shown)?;
    let bulk = bulk_offered.then(|| bulk_form(table, &names));
    let applied = found.applied.map(|v| Applied {
        may_change: found.may_change,
        id: v.id,
        name: v.name,
    });
    let chosen_view = asked.view.clone().unwrap_or_default();
    render(&ListPage {
        company: asked.company.clone(),
        table,
        q: found.resolved.q.clone(),
        stages: stage_groups(table, &names.pipelines, &found.resolved.stage, "Any"),
        sorts: choices(table.sorts.iter().copied(), &found.resolved.sort),
        columns: all
            .iter()
            .map(|c| Choice {
                value: c.name.clone(),
                label: c.label.clone(),
                selected: shown.iter().any(|s| s.name == c.name),
            })
            .collect(),
        headers: shown.iter().map(|c| c.label.clone()).collect(),
        rows,
        next,
        export,
        here,
        done: asked.done,
        views: found
            .views
            .iter()
            .map(|v| Choice {
                selected: v.id == chosen_view,
                label: if v.shared {
                    format!("{} (shared)", v.name)
                } else {
                    v.name.clone()
                },
                value: v.id.clone(),
            })
            .collect(),
        applied,
        can_save: state.license.effective().may_write().is_ok(),
        bulk,
        chrome,
    })
}

fn bulk_form(table: &Table, names: &Names) -> BulkForm {
    let mut owners: Vec<(&str, &str)> = names
        .users
        .iter()
        .map(|(id, email)| (id.as_str(), email.as_str()))
        .collect();
    owners.sort_by(|a, b| a.1.cmp(b.1));
    BulkForm {
        owners: choices(std::iter::once(("", "No owner")).chain(owners), "\u{0}"),
        stages: stage_groups(table, &names.pipelines, "\u{0}", "Choose a stage")
            .into_iter()
            .map(|mut g| {
                g.options.retain(|o| !o.value.is_empty());
                g
            })
            .filter(|g| !g.options.is_empty())
            .collect(),
    }
}
