//! What the pages of activities share: an activity as pages show it, its dates as `<time>`
//! elements, the list of activities a set of filters selects (the API's list, followed
//! across its pages), and making one (the API's create path).

use std::collections::HashSet;

use actix_web::web;
use rusqlite::Connection;
use serde_json::{Map, Value};
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::crm::list::{self, Filter, Query};
use crate::crm::records::Record;
use crate::crm::visibility::Scope;
use crate::crm::{CrmError, Kind};
use crate::error::{ApiError, ErrorCode};
use crate::web::AppState;
use crate::web::tenant::{TenantSession, crm_write as write};
use crate::zone::Zone;

/// A date or moment as a page states it. A date typed in a form is kept as midnight UTC and
/// stays that date in every zone (a task due on the 5th is due on the 5th in Tokyo too); any
/// other moment falls on the day, and shows the clock time, of the reader's zone.
pub struct When {
    /// For the `<time>` element: the date alone for a date, else the moment as the API wrote
    /// it (the script shows it in the browser's own locale and zone).
    pub datetime: String,
    /// What the page says without script: the date, or the date and time in the reader's zone.
    pub text: String,
    /// A moment's time of day in the reader's zone (`HH:MM`); a date has none.
    pub clock: Option<String>,
    pub day: Date,
    /// Unix seconds, to order a day's items by: a date counts from the start of its day.
    pub at: i64,
}

impl When {
    fn of(body: &Map<String, Value>, name: &str, zone: &Zone) -> Option<Self> {
        let text = body.get(name)?.as_str()?;
        let at = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .ok()?
            .to_offset(time::UtcOffset::UTC);
        let seconds = at.unix_timestamp();
        Some(if at.time() == time::Time::MIDNIGHT {
            Self {
                datetime: day_text(at.date()),
                text: day_text(at.date()),
                clock: None,
                day: at.date(),
                at: zone.start_of(at.date()),
            }
        } else {
            let day = zone.day_of(seconds);
            let clock = zone.clock(seconds);
            Self {
                datetime: text.to_owned(),
                text: format!("{} {clock}", day_text(day)),
                clock: Some(clock),
                day,
                at: seconds,
            }
        })
    }
}

/// An activity on a page.
pub struct ActivityView {
    pub id: String,
    pub version: i64,
    /// task, call, meeting, email or note.
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub due: Option<When>,
    pub starts: Option<When>,
    pub done: Option<When>,
}

/// `record` as a page shows it to a reader in `zone`.
pub fn view(record: &Record, zone: &Zone) -> ActivityView {
    let text = |name: &str| {
        record
            .body
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    ActivityView {
        id: record.id.clone(),
        version: record.version,
        kind: text("kind"),
        subject: text("subject"),
        body: text("body"),
        due: When::of(&record.body, "due_at", zone),
        starts: When::of(&record.body, "starts_at", zone),
        done: When::of(&record.body, "done_at", zone),
    }
}

/// A filter of the API's list.
pub fn filter(field: &str, op: list::Op, value: Value) -> Filter {
    Filter {
        field: field.to_owned(),
        op,
        value,
    }
}

/// The activities `filters` select in the order of `sort`, following the list's cursor up
/// to `most` records.
pub fn select(
    conn: &Connection,
    filters: Vec<Filter>,
    sort: Option<&str>,
    most: usize,
    (scope, me): (&Scope, Option<&str>),
) -> Result<Vec<Record>, CrmError> {
    let mut query = Query {
        filters,
        sort: sort.map(str::to_owned),
        limit: Some(list::MAX_LIMIT),
        cursor: None,
    };
    let mut found = Vec::new();
    loop {
        let page = list::page(conn, Kind::Activity, &query, scope, me)?;
        found.extend(page.records);
        match page.next_cursor {
            Some(next) if found.len() < most => query.cursor = Some(next),
            _ => break,
        }
    }
    found.truncate(most);
    Ok(found)
}

/// Makes an activity from `body` as the API's `POST /activities` does.
pub async fn create(
    state: &web::Data<AppState>,
    session: &TenantSession,
    body: Map<String, Value>,
) -> Result<Record, ApiError> {
    write(state, session, move |conn, who| {
        who.create(conn, Kind::Activity, &body, &HashSet::new())
    })
    .await
}

/// A day as `YYYY-MM-DD`.
pub fn day_text(day: Date) -> String {
    day.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

/// A `YYYY-MM-DD` typed in a form.
pub fn parse_day(text: &str) -> Option<Date> {
    Date::parse(text.trim(), format_description!("[year]-[month]-[day]")).ok()
}

/// The moment a date typed in `field` stands for (midnight UTC), or `None` when left empty.
pub fn typed_day(field: &str, text: &str) -> Result<Option<String>, ApiError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    parse_day(text)
        .map(|day| Some(format!("{}T00:00:00Z", day_text(day))))
        .ok_or_else(|| {
            ApiError::with_message(
                ErrorCode::InvalidInput,
                format!("{field}: must be a date such as 2026-12-31"),
            )
        })
}

/// Now, as the API's times are written.
pub fn now_text() -> String {
    crate::crm::values::rfc3339(crate::crm::now())
}
