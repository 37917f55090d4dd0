//! The dashboard: open pipeline value by stage, activities due and overdue, recent changes —
//! the API's dashboard (`crm::reports::dashboard`) as a page.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde_json::Value;

use super::reader_zone::ReaderZone;
use super::{Chrome, render};
use crate::error::ApiError;
use crate::identity::Role;
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::TenantSession;
use crate::web::tenant::crm_read as read;

endpoints! { area: Area::TenantApp;
    GET "/" => dashboard, Access::Tenant(Role::Viewer), 200, "The dashboard", [];
    GET "/dashboard" => dashboard, Access::Tenant(Role::Viewer), 200,
        "The dashboard (where `/` leads on a tenant's own host)", [];
}

struct StageRow {
    name: String,
    count: i64,
    value: Vec<super::format::Amount>,
}

struct PipelineRows {
    name: String,
    stages: Vec<StageRow>,
}

struct Change {
    kind: String,
    href: String,
    title: String,
    event: String,
    at: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    /// The zone "today" is cut by.
    zone: String,
    pipelines: Vec<PipelineRows>,
    due_today: i64,
    overdue: i64,
    recent: Vec<Change>,
}

async fn dashboard(
    session: TenantSession,
    state: web::Data<AppState>,
    ReaderZone(zone): ReaderZone,
) -> Result<HttpResponse, ApiError> {
    let now = crate::crm::now();
    let today = zone.today_span();
    let board = read(&state, &session, move |conn, who| {
        crate::crm::reports::dashboard(conn, &who.visibility, now, &today)
    })
    .await?;
    let (due_today, overdue) = board["activities_due"].as_array().map_or((0, 0), |rows| {
        rows.iter().fold((0, 0), |(d, o), r| {
            (
                d + r["due_today"].as_i64().unwrap_or(0),
                o + r["overdue"].as_i64().unwrap_or(0),
            )
        })
    });
    let page = DashboardPage {
        chrome: Chrome::new(&state, &session, "/"),
        zone: zone.name().to_owned(),
        pipelines: pipelines(&board["pipelines"]),
        due_today,
        overdue,
        recent: recent(&board["recent_changes"]),
    };
    render(&page)
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Each stage's open deals, with their value per currency ("12,500.00 EUR · 3,000.00 USD"):
/// amounts of different currencies are never added up.
fn pipelines(value: &Value) -> Vec<PipelineRows> {
    value
        .as_array()
        .map(|pipelines| {
            pipelines
                .iter()
                .map(|p| PipelineRows {
                    name: text(&p["name"]),
                    stages: p["stages"]
                        .as_array()
                        .map(|stages| stages.iter().map(stage_row).collect())
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn stage_row(stage: &Value) -> StageRow {
    let totals = stage["totals"].as_array().cloned().unwrap_or_default();
    let value = totals
        .iter()
        .filter_map(|t| {
            Some(super::format::Amount::new(
                t["amount"].as_i64()?,
                &text(&t["currency"]),
            ))
        })
        .collect();
    StageRow {
        name: text(&stage["stage"]["name"]),
        count: stage["count"].as_i64().unwrap_or(0),
        value,
    }
}

fn recent(value: &Value) -> Vec<Change> {
    value
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    let kind = text(&r["record_kind"]);
                    Change {
                        href: format!("/{}s/{}", kind, text(&r["record_id"])),
                        kind,
                        title: text(&r["title"]),
                        event: text(&r["event"]).replace('_', " "),
                        at: text(&r["at"]),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}
