//! The tenant's audit log, for its admins.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::TenantSession;
use crate::audit;
use crate::error::{ApiError, ErrorCode};
use crate::identity::Role;
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};

endpoints! { area: Area::Tenant;
    GET "/audit" => list, Access::Tenant(Role::Admin), 200,
        "The tenant's audit log, newest first (?before=<seq>&limit=<n>; filters: actor, action (contains), from and to (RFC 3339))", [InvalidQuery];
}

/// A page of the audit log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    pub before: Option<i64>,
    pub limit: Option<u32>,
    /// The actor, exactly (`user:<id>`, `token:<id>`, `operator:<id>`).
    pub actor: Option<String>,
    /// Text the action contains.
    pub action: Option<String>,
    /// From this moment on (RFC 3339).
    pub from: Option<String>,
    /// Before this moment (RFC 3339).
    pub to: Option<String>,
}

impl Page {
    /// The filters the page's query asks for; a moment that is not RFC 3339 is refused.
    pub fn filter(&self) -> Result<audit::Filter, ApiError> {
        let moment = |name: &str, text: &Option<String>| -> Result<Option<i64>, ApiError> {
            text.as_deref()
                .filter(|t| !t.is_empty())
                .map(|t| {
                    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                        .map(time::OffsetDateTime::unix_timestamp)
                        .map_err(|_| {
                            ApiError::with_message(
                                ErrorCode::InvalidQuery,
                                format!("{name} must be a moment such as 2026-12-06T09:00:00Z."),
                            )
                        })
                })
                .transpose()
        };
        let text = |t: &Option<String>| t.clone().filter(|t| !t.is_empty());
        Ok(audit::Filter {
            actor: text(&self.actor),
            action: text(&self.action),
            from: moment("from", &self.from)?,
            to: moment("to", &self.to)?,
        })
    }

    /// The page as JSON, with the cursor of the next one.
    pub fn render(entries: &[audit::Entry]) -> serde_json::Value {
        let next = entries.last().map(|e| e.seq).filter(|seq| *seq > 1);
        json!({ "entries": entries, "next_before": next })
    }
}

async fn list(
    session: TenantSession,
    state: web::Data<AppState>,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let page = page.into_inner();
    let filter = page.filter()?;
    let entries = entries(
        &state,
        &session,
        filter,
        page.before,
        page.limit.unwrap_or(100),
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::render(&entries)))
}

/// Entries of the caller's tenant's audit log that pass `filter`, newest first, before the
/// `before` cursor: the API's and the pages' way alike.
pub(crate) async fn entries(
    state: &web::Data<AppState>,
    session: &TenantSession,
    filter: audit::Filter,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<audit::Entry>, ApiError> {
    let id = session
        .current
        .tenant
        .id
        .parse()
        .map_err(ApiError::internal)?;
    let databases = std::sync::Arc::clone(&state.tenant_dbs);
    web::block(move || -> anyhow::Result<_> {
        let db = databases.get(&id)?;
        Ok(audit::search(&*db.conn()?, &filter, before, limit)?)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}
