//! The tenant's audit log, for its admins.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::TenantSession;
use crate::audit;
use crate::error::ApiError;
use crate::identity::Role;
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};

endpoints! { area: Area::Tenant;
    GET "/audit" => list, Access::Tenant(Role::Admin), 200,
        "The tenant's audit log, newest first (?before=<seq>&limit=<n>)", [InvalidQuery];
}

/// A page of the audit log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    pub before: Option<i64>,
    pub limit: Option<u32>,
}

impl Page {
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
    let Page { before, limit } = page.into_inner();
    let entries = entries(
        &state,
        &session,
        audit::Filter::default(),
        before,
        limit.unwrap_or(100),
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
