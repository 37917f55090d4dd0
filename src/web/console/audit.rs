//! The appliance's audit log in the console: newest first, a page at a time (`before` the
//! last entry shown), as the operator API gives it.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::ConsoleChrome;
use crate::audit::{self, Entry};
use crate::error::ApiError;
use crate::web::AppState;
use crate::web::admin::OperatorSession;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::ui::render;

endpoints! { area: Area::Console;
    GET "/admin/audit" => list, Access::Operator, 200, "The appliance's audit log", [InvalidQuery];
}

/// Entries on a page.
const PAGE: u32 = 50;

#[derive(Template)]
#[template(path = "console_audit.html")]
struct AuditPage {
    chrome: ConsoleChrome,
    entries: Vec<Entry>,
    /// The `before` of the next page, if there is one.
    next: Option<i64>,
}

impl AuditPage {
    fn at(entry: &Entry) -> String {
        entry
            .at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    before: Option<i64>,
}

async fn list(
    state: web::Data<AppState>,
    operator: OperatorSession,
    params: web::Query<Params>,
) -> Result<HttpResponse, ApiError> {
    let before = params.into_inner().before;
    let entries = state
        .control_db
        .run(move |conn| audit::list(conn, before, PAGE))
        .await?;
    let next = (entries.len() == PAGE as usize)
        .then(|| entries.last().map(|e| e.seq))
        .flatten()
        .filter(|seq| *seq > 1);
    render(&AuditPage {
        chrome: ConsoleChrome::new(&state, &operator, "/admin/audit"),
        entries,
        next,
    })
}
