//! The tables of contacts and companies: filter by name and lifecycle stage, sort, page on —
//! the API's list (`crm::list::page`) with the caller's visibility, as a page.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::{Map, Value};

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
    GET "/contacts" => list::<Contacts>, Access::Tenant(Role::Viewer), 200,
        "The contacts table", [InvalidInput, InvalidCursor];
    GET "/companies" => list::<Companies>, Access::Tenant(Role::Viewer), 200,
        "The companies table", [InvalidInput, InvalidCursor];
}

const PAGE_SIZE: u32 = 50;

/// One kind's table.
trait Table {
    const KIND: Kind;
    const TITLE: &'static str;
    const PLURAL: &'static str;
    const NOUN: &'static str;
    /// The field the search box filters (`contains`), and its label.
    const Q: (&'static str, &'static str);
    /// The sorts offered: the list's field names and their labels; the first is the default.
    const SORTS: &'static [(&'static str, &'static str)];
    /// The headers of the columns after the name.
    const HEADERS: &'static [&'static str];
    fn name(body: &Map<String, Value>) -> String;
    fn cells(body: &Map<String, Value>) -> Vec<String>;
}

fn text(body: &Map<String, Value>, name: &str) -> String {
    body.get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn first(body: &Map<String, Value>, name: &str) -> String {
    body.get(name)
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

struct Contacts;
impl Table for Contacts {
    const KIND: Kind = Kind::Contact;
    const TITLE: &'static str = "Contacts";
    const PLURAL: &'static str = "contacts";
    const NOUN: &'static str = "contact";
    const Q: (&'static str, &'static str) = ("last_name", "Last name contains");
    const SORTS: &'static [(&'static str, &'static str)] = &[
        ("last_name", "Last name"),
        ("-updated_at", "Recently changed"),
        ("-created_at", "Newest"),
    ];
    const HEADERS: &'static [&'static str] = &["Name", "E-mail", "Title", "Stage", "Updated"];
    fn name(body: &Map<String, Value>) -> String {
        format!("{} {}", text(body, "first_name"), text(body, "last_name"))
            .trim()
            .to_owned()
    }
    fn cells(body: &Map<String, Value>) -> Vec<String> {
        vec![
            first(body, "emails"),
            text(body, "title"),
            text(body, "lifecycle_stage"),
            text(body, "updated_at"),
        ]
    }
}

struct Companies;
impl Table for Companies {
    const KIND: Kind = Kind::Company;
    const TITLE: &'static str = "Companies";
    const PLURAL: &'static str = "companies";
    const NOUN: &'static str = "company";
    const Q: (&'static str, &'static str) = ("name", "Name contains");
    const SORTS: &'static [(&'static str, &'static str)] = &[
        ("name", "Name"),
        ("-updated_at", "Recently changed"),
        ("-created_at", "Newest"),
    ];
    const HEADERS: &'static [&'static str] = &["Name", "Domain", "Industry", "Stage", "Updated"];
    fn name(body: &Map<String, Value>) -> String {
        text(body, "name")
    }
    fn cells(body: &Map<String, Value>) -> Vec<String> {
        vec![
            text(body, "domain"),
            text(body, "industry"),
            text(body, "lifecycle_stage"),
            text(body, "updated_at"),
        ]
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default)]
    q: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    sort: String,
    /// Only the records of this company (a company's page links here for all its contacts).
    #[serde(default)]
    company: String,
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
    cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    chrome: Chrome,
    title: &'static str,
    plural: &'static str,
    noun: &'static str,
    q_label: &'static str,
    q: String,
    stages: Vec<Choice>,
    sorts: Vec<Choice>,
    headers: &'static [&'static str],
    rows: Vec<Row>,
    /// The query string of the next page, if there is one.
    next: Option<String>,
    /// The API's export of this list (its filters and sort), less the format.
    export: String,
    /// The company the list is limited to, kept by the filter form.
    company: String,
}

fn choices(
    options: impl Iterator<Item = (&'static str, &'static str)>,
    chosen: &str,
) -> Vec<Choice> {
    options
        .map(|(value, label)| Choice {
            value,
            label,
            selected: value == chosen,
        })
        .collect()
}

async fn list<T: Table>(
    session: TenantSession,
    state: web::Data<AppState>,
    params: web::Query<Params>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let sort = if T::SORTS.iter().any(|(s, _)| *s == params.sort) {
        params.sort.clone()
    } else {
        T::SORTS[0].0.to_owned()
    };
    let mut filters = Vec::new();
    if !params.q.trim().is_empty() {
        filters.push(Filter {
            field: T::Q.0.to_owned(),
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
    if T::KIND != Kind::Company && crate::crm::is_id(&params.company) {
        filters.push(Filter {
            field: "company_id".to_owned(),
            op: Op::Eq,
            value: Value::String(params.company.clone()),
        });
    }
    let export = format!(
        "{}/api/v1/export/{}?filters={}&sort={}",
        session.current.pages_base(),
        T::PLURAL,
        query_escape(&serde_json::to_string(&filters).map_err(ApiError::internal)?),
        query_escape(&sort),
    );
    let query = Query {
        filters,
        sort: Some(sort.clone()),
        limit: Some(PAGE_SIZE),
        cursor: params.cursor.clone(),
    };
    let page = read(&state, &session, move |conn, who| {
        let scope = who.visibility.scope(T::KIND);
        crate::crm::list::page(conn, T::KIND, &query, &scope, who.actor.user_id.as_deref())
    })
    .await?;
    let rows = page
        .records
        .iter()
        .map(|r| Row {
            id: r.id.clone(),
            name: T::name(&r.body),
            cells: T::cells(&r.body),
        })
        .collect();
    let next = page.next_cursor.map(|cursor| {
        format!(
            "q={}&stage={}&sort={}&company={}&cursor={}",
            query_escape(&params.q),
            query_escape(&params.stage),
            query_escape(&sort),
            query_escape(&params.company),
            query_escape(&cursor)
        )
    });
    render(&ListPage {
        chrome: Chrome::new(&state, &session, &format!("/{}", T::PLURAL)),
        title: T::TITLE,
        plural: T::PLURAL,
        noun: T::NOUN,
        q_label: T::Q.1,
        q: params.q,
        stages: choices(
            std::iter::once(("", "Any")).chain(LIFECYCLE_STAGES.iter().map(|s| (*s, *s))),
            &params.stage,
        ),
        sorts: choices(T::SORTS.iter().copied(), &sort),
        headers: &T::HEADERS[1..],
        rows,
        next,
        export,
        company: params.company,
    })
}
