//! The calendar: the meetings (by their start) and tasks (by their due date) of a week or a
//! month, as a list per day — an accessible list that wide screens lay out as a grid — with
//! links to the previous and next one and to today. Days are the reader's: a meeting falls on
//! the day of its start in the reader's zone, a task due on a date on that date.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::json;
use time::{Date, Duration, Month};

use super::activity::{self, ActivityView, When, day_text, filter};
use super::reader_zone::ReaderZone;
use super::{Chrome, render};
use crate::crm::Kind;
use crate::crm::list::Op;
use crate::error::{ApiError, ErrorCode};
use crate::identity::Role;
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{TenantSession, crm_read as read};

endpoints! { area: Area::TenantApp;
    GET "/calendar" => page, Access::Tenant(Role::Viewer), 200,
        "Meetings and tasks of a week or month (`view`, `date`), a list per day",
        [InvalidQuery];
}

/// Most meetings, and most tasks, one calendar shows.
const MOST: usize = 1000;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    view: Option<String>,
    date: Option<String>,
}

struct Item {
    activity: ActivityView,
    /// Its start (meetings) or due date (tasks).
    when: When,
}

struct Day {
    date: String,
    /// Its place in a week (1 = Monday), for the month's grid.
    weekday: u8,
    today: bool,
    items: Vec<Item>,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    chrome: Chrome,
    /// The zone days are cut by.
    zone: String,
    /// `week` or `month`.
    view: &'static str,
    title: String,
    days: Vec<Day>,
    previous: String,
    next: String,
    date: String,
}

/// The first day shown and the day after the last, and where the links lead.
fn span(view: &str, date: Date) -> (Date, Date, Date, Date) {
    if view == "month" {
        let first = date.replace_day(1).unwrap_or(date);
        let length = first.month().length(first.year());
        let end = first + Duration::days(i64::from(length));
        let previous = (first - Duration::days(1)).replace_day(1).unwrap_or(first);
        (first, end, previous, end)
    } else {
        let first = date - Duration::days(i64::from(date.weekday().number_days_from_monday()));
        let end = first + Duration::days(7);
        (first, end, first - Duration::days(7), end)
    }
}

fn title(view: &str, first: Date) -> String {
    if view == "month" {
        format!("{} {}", month_name(first.month()), first.year())
    } else {
        format!("Week of {}", day_text(first))
    }
}

fn month_name(month: Month) -> String {
    format!("{month}")
}

async fn page(
    session: TenantSession,
    state: web::Data<AppState>,
    ReaderZone(zone): ReaderZone,
    params: web::Query<Params>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let view = if params.view.as_deref() == Some("month") {
        "month"
    } else {
        "week"
    };
    let today = zone.today();
    let date = match params.date.as_deref().filter(|d| !d.is_empty()) {
        None => today,
        Some(text) => activity::parse_day(text).ok_or_else(|| {
            ApiError::with_message(
                ErrorCode::InvalidQuery,
                "date: must be a date such as 2026-12-31.",
            )
        })?,
    };
    let (first, end, previous, next) = span(view, date);
    // A date keeps its day in every zone and a moment takes the reader's: ask for a day more
    // on each side (no zone is a day from UTC) and place each by its own day below.
    let range = json!({
        "from": format!("{}T00:00:00Z", day_text(first - Duration::days(1))),
        "to": format!("{}T23:59:59Z", day_text(end)),
    });
    let found = read(&state, &session, move |conn, who| {
        let scope = who.visibility.scope(Kind::Activity);
        let me = who.actor.user_id.as_deref();
        let mut found = Vec::new();
        for (kind, field) in [("meeting", "starts_at"), ("task", "due_at")] {
            let filters = vec![
                filter("kind", Op::Eq, json!(kind)),
                filter(field, Op::Range, range.clone()),
            ];
            found.push(activity::select(
                conn,
                filters,
                Some(field),
                MOST,
                (&scope, me),
            )?);
        }
        Ok::<_, crate::crm::CrmError>(found)
    })
    .await?;
    let mut days: Vec<Day> = std::iter::successors(Some(first), |d| d.next_day())
        .take_while(|d| *d < end)
        .map(|d| Day {
            date: day_text(d),
            weekday: d.weekday().number_from_monday(),
            today: d == today,
            items: Vec::new(),
        })
        .collect();
    for record in found.iter().flatten() {
        let mut activity = activity::view(record, &zone);
        let when = if activity.kind == "meeting" {
            activity.starts.take()
        } else {
            activity.due.take()
        };
        let Some(when) = when else {
            continue;
        };
        let index = usize::try_from((when.day - first).whole_days()).unwrap_or(usize::MAX);
        if let Some(slot) = days.get_mut(index) {
            slot.items.push(Item { activity, when });
        }
    }
    for day in &mut days {
        day.items.sort_by_key(|item| item.when.at);
    }
    render(&CalendarPage {
        chrome: Chrome::new(&state, &session, "/calendar"),
        zone: zone.name().to_owned(),
        view,
        title: title(view, first),
        days,
        previous: day_text(previous),
        next: day_text(next),
        date: day_text(date),
    })
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::span;

    #[test]
    fn a_week_starts_on_monday_and_a_month_on_its_first() {
        assert_eq!(
            span("week", date!(2026 - 03 - 05)),
            (
                date!(2026 - 03 - 02),
                date!(2026 - 03 - 09),
                date!(2026 - 02 - 23),
                date!(2026 - 03 - 09)
            )
        );
        assert_eq!(
            span("month", date!(2026 - 03 - 31)),
            (
                date!(2026 - 03 - 01),
                date!(2026 - 04 - 01),
                date!(2026 - 02 - 01),
                date!(2026 - 04 - 01)
            )
        );
        assert_eq!(
            span("month", date!(2026 - 01 - 15)).2,
            date!(2025 - 12 - 01)
        );
    }
}
