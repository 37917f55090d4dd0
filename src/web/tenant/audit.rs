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
    let id = session
        .current
        .tenant
        .id
        .parse()
        .map_err(ApiError::internal)?;
    let databases = std::sync::Arc::clone(&state.tenant_dbs);
    let Page { before, limit } = page.into_inner();
    let entries = web::block(move || -> anyhow::Result<_> {
        let db = databases.get(&id)?;
        Ok(audit::list(&*db.conn()?, before, limit.unwrap_or(100))?)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(Page::render(&entries)))
}
