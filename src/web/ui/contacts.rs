//! The contacts table: filter by last name and lifecycle stage, sort, page on — the API's
//! list (`crm::list::page`) with the caller's visibility, as a page.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::Value;

use super::chrome::query_escape;
use super::{Chrome, render};
use crate::crm::Kind;
use crate::crm::fields::LIFECYCLE_STAGES;
use crate::crm::list::{Filter, Op, Query};
use crate::error::ApiError;
use crate::identity::Role;
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::TenantSession;
use crate::web::tenant::crm_read as read;

endpoints! { area: Area::TenantApp;
    GET "/contacts" => contacts, Access::Tenant(Role::Viewer), 200, "The contacts table",
        [InvalidInput];
}

/// The sorts offered: the list's field names, and their labels.
const SORTS: &[(&str, &str)] = &[
    ("last_name", "Last name"),
    ("-updated_at", "Recently changed"),
    ("-created_at", "Newest"),
];
const PAGE_SIZE: u32 = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default)]
    q: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    sort: String,
    cursor: Option<String>,
}

/// An option of a select, chosen or not.
struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

struct Row {
    id: String,
    name: String,
    email: String,
    title: String,
    stage: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "contacts.html")]
struct ContactsPage {
    chrome: Chrome,
    q: String,
    stages: Vec<Choice>,
    sorts: Vec<Choice>,
    rows: Vec<Row>,
    /// The query string of the next page, if there is one.
    next: Option<String>,
}

async fn contacts(
    session: TenantSession,
    state: web::Data<AppState>,
    params: web::Query<Params>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let sort = if SORTS.iter().any(|(s, _)| *s == params.sort) {
        params.sort.clone()
    } else {
        SORTS[0].0.to_owned()
    };
    let mut filters = Vec::new();
    if !params.q.trim().is_empty() {
        filters.push(Filter {
            field: "last_name".to_owned(),
            op: Op::Contains,
            value: Value::String(params.q.trim().to_owned()),
        });
    }
    if LIFECYCLE_STAGES.contains(&params.stage.as_str()) {
        filters.push(Filter {
            field: "lifecycle_stage".to_owned(),
            op: Op::Eq,
            value: Value::String(params.stage.clone()),
        });
    }
    let query = Query {
        filters,
        sort: Some(sort.clone()),
        limit: Some(PAGE_SIZE),
        cursor: params.cursor.clone(),
    };
    let page = read(&state, &session, move |conn, who| {
        crate::crm::list::page(
            conn,
            Kind::Contact,
            &query,
            &who.visibility.scope(Kind::Contact),
            who.actor.user_id.as_deref(),
        )
    })
    .await?;
    let rows = page.records.iter().map(|r| row(&r.id, &r.body)).collect();
    let next = page.next_cursor.map(|cursor| {
        format!(
            "q={}&stage={}&sort={}&cursor={}",
            query_escape(&params.q),
            query_escape(&params.stage),
            query_escape(&sort),
            query_escape(&cursor)
        )
    });
    render(&ContactsPage {
        chrome: Chrome::new(&state, &session, "/contacts"),
        q: params.q,
        stages: std::iter::once(("", "Any"))
            .chain(LIFECYCLE_STAGES.iter().map(|s| (*s, *s)))
            .map(|(value, label)| Choice {
                value,
                label,
                selected: value == params.stage,
            })
            .collect(),
        sorts: SORTS
            .iter()
            .map(|(value, label)| Choice {
                value,
                label,
                selected: *value == sort,
            })
            .collect(),
        rows,
        next,
    })
}

fn row(id: &str, body: &serde_json::Map<String, Value>) -> Row {
    let text = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default();
    let name = format!("{} {}", text("first_name"), text("last_name"))
        .trim()
        .to_owned();
    let email = body
        .get("emails")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Row {
        id: id.to_owned(),
        name,
        email,
        title: text("title").to_owned(),
        stage: text("lifecycle_stage").to_owned(),
        updated: text("updated_at").to_owned(),
    }
}
