//! The appliance's audit log, for operators.

use actix_web::{HttpResponse, web};

use super::OperatorSession;
use crate::audit;
use crate::error::ApiError;
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::AuditPage;

endpoints! { area: Area::Admin;
    GET "/audit" => list, Access::Operator, 200,
        "The appliance's audit log, newest first (?before=<seq>&limit=<n>; filters: actor, action (contains), from and to (RFC 3339))", [InvalidQuery];
}

async fn list(
    _operator: OperatorSession,
    state: web::Data<AppState>,
    page: web::Query<AuditPage>,
) -> Result<HttpResponse, ApiError> {
    let page = page.into_inner();
    let filter = page.filter()?;
    let (before, limit) = (page.before, page.limit.unwrap_or(100));
    let entries = state
        .control_db
        .run(move |conn| audit::search(conn, &filter, before, limit))
        .await?;
    Ok(HttpResponse::Ok().json(AuditPage::render(&entries)))
}
