//! `GET /search`: one query across contacts, companies, deals and activities.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::read;
use crate::crm::search;
use crate::error::ApiError;
use crate::identity::Role;
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::TenantSession;

endpoints! { area: Area::Tenant;
    GET "/search" => find, Access::Tenant(Role::Viewer), 200,
        "Search every kind of record; every word matches as a prefix; hits grouped by kind",
        [InvalidQuery, InvalidInput], out: search::Results;
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    q: String,
    /// Most hits of each kind (default 10).
    limit: Option<u32>,
}

async fn find(
    session: TenantSession,
    state: web::Data<AppState>,
    params: web::Query<SearchParams>,
) -> Result<HttpResponse, ApiError> {
    let SearchParams { q, limit } = params.into_inner();
    let results = read(&state, &session, move |conn, who| {
        search::search(conn, &q, &who.visibility, limit.unwrap_or(10))
    })
    .await?;
    Ok(HttpResponse::Ok().json(results))
}
