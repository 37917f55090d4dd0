//! The audit log as a page: the tenant's entries newest first, narrowed by a GET form (who,
//! what the action contains, from and to a date — days of the reader's zone), a page at a time
//! with a link to older entries. The API's function (`tenant::audit::entries`) behind a form.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;

use super::{NAV_PATH, sentence, with_status};
use crate::audit::{Entry, Filter};
use crate::error::{ApiError, ErrorCode};
use crate::identity::Role;
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::TenantSession;
use crate::web::tenant::audit::entries;
use crate::web::tenant::users::list_users;
use crate::web::ui::chrome::query_escape;
use crate::web::ui::reader_zone::ReaderZone;
use crate::web::ui::{Chrome, render};
use crate::zone::Zone;

endpoints! { area: Area::TenantApp;
    GET "/settings/audit" => page, Access::Tenant(Role::Admin), 200,
        "The tenant's audit log, newest first, with filters (actor, action, from, to) and paging (before)",
        [InvalidQuery];
}

/// Entries on one page.
const PAGE_SIZE: u32 = 50;

#[derive(Debug, Default, Deserialize)]
struct Params {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    /// `YYYY-MM-DD`, from the start of that day (in the reader's zone).
    #[serde(default)]
    from: String,
    /// `YYYY-MM-DD`, to the end of that day (in the reader's zone).
    #[serde(default)]
    to: String,
    before: Option<i64>,
}

/// An actor the filter offers.
struct Actor {
    value: String,
    label: String,
}

/// An entry as a row.
struct Row {
    entry: Entry,
    at: String,
    actor: String,
}

#[derive(Template)]
#[template(path = "settings_audit.html")]
struct AuditPage {
    chrome: Chrome,
    /// The zone the filter's days are days of.
    zone: String,
    params: Params,
    actors: Vec<Actor>,
    rows: Vec<Row>,
    /// The link to the next (older) page, filters kept.
    older: Option<String>,
    error: Option<String>,
}

/// The start in `zone` of day `text` (`YYYY-MM-DD`) plus `days`, in unix seconds.
fn day(text: &str, name: &str, zone: &Zone, days: i64) -> Result<Option<i64>, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let date = crate::web::ui::activity::parse_day(text).ok_or_else(|| {
        ApiError::with_message(
            ErrorCode::InvalidQuery,
            format!("{name}: a date, YYYY-MM-DD."),
        )
    })?;
    Ok(Some(zone.start_of(date + time::Duration::days(days))))
}

fn filter_of(params: &Params, zone: &Zone) -> Result<Filter, ApiError> {
    let text = |t: &str| Some(t.trim().to_owned()).filter(|t| !t.is_empty());
    Ok(Filter {
        actor: text(&params.actor),
        action: text(&params.action),
        from: day(&params.from, "From", zone, 0)?,
        to: day(&params.to, "To", zone, 1)?,
    })
}

async fn page(
    session: TenantSession,
    state: web::Data<AppState>,
    ReaderZone(zone): ReaderZone,
    params: web::Query<Params>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let users = list_users(&state, &session).await?;
    let names: HashMap<String, String> = users
        .iter()
        .map(|u| (format!("user:{}", u.id), u.email.clone()))
        .collect();
    let (found, error) = match filter_of(&params, &zone) {
        Ok(filter) => (
            entries(&state, &session, filter, params.before, PAGE_SIZE).await?,
            None,
        ),
        Err(error) => (Vec::new(), Some(error)),
    };
    let older = found
        .last()
        .filter(|e| found.len() == PAGE_SIZE as usize && e.seq > 1)
        .map(|e| {
            format!(
                "{}/settings/audit?actor={}&action={}&from={}&to={}&before={}",
                session.current.pages_base(),
                query_escape(&params.actor),
                query_escape(&params.action),
                query_escape(&params.from),
                query_escape(&params.to),
                e.seq
            )
        });
    let rows = found
        .into_iter()
        .map(|entry| Row {
            at: entry.at.format(&Rfc3339).unwrap_or_default(),
            actor: names
                .get(&entry.actor)
                .cloned()
                .unwrap_or_else(|| entry.actor.clone()),
            entry,
        })
        .collect();
    let status = error.as_ref().map(|e| e.code().status());
    let page = AuditPage {
        chrome: Chrome::new(&state, &session, NAV_PATH),
        zone: zone.name().to_owned(),
        actors: users
            .into_iter()
            .map(|u| Actor {
                value: format!("user:{}", u.id),
                label: u.email,
            })
            .collect(),
        params,
        rows,
        older,
        error: error.map(|e| sentence(&e)),
    };
    Ok(with_status(render(&page)?, status))
}
