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
        "The appliance's audit log, newest first (?before=<seq>&limit=<n>)", [InvalidQuery];
}

async fn list(
    _operator: OperatorSession,
    state: web::Data<AppState>,
    page: web::Query<AuditPage>,
) -> Result<HttpResponse, ApiError> {
    let AuditPage { before, limit } = page.into_inner();
    let entries = state
        .control_db
        .run(move |conn| audit::list(conn, before, limit.unwrap_or(100)))
        .await?;
    Ok(HttpResponse::Ok().json(AuditPage::render(&entries)))
}
