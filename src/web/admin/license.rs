//! The license as operators see and renew it.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::OperatorSession;
use crate::error::ApiError;
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};

endpoints! { area: Area::Admin;
    GET "/license" => show, Access::Operator, 200,
        "The license in force: state, seats and tenants used/cap, dates, history", [];
    PUT "/license" => install, Access::Operator, 200,
        "Install a license key; a refused key leaves the license unchanged",
        [LicenseInvalid, LicenseExpired];
}

async fn status_json(state: &web::Data<AppState>) -> Result<serde_json::Value, ApiError> {
    let license = std::sync::Arc::clone(&state.license);
    state
        .control_db
        .run_as(move |conn| -> Result<_, ApiError> {
            let usage = crate::appliance::usage(conn)?;
            let mut value =
                serde_json::to_value(license.status(usage)).map_err(ApiError::internal)?;
            value["history"] =
                serde_json::to_value(license.history()?).map_err(ApiError::internal)?;
            Ok(value)
        })
        .await
}

async fn show(
    state: web::Data<AppState>,
    _operator: OperatorSession,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(status_json(&state).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InstallBody {
    key: String,
}

/// Installs a key; a refused key leaves the license in force unchanged. Installing works in
/// every license state: it is the way out of read-only.
async fn install(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    operator: OperatorSession,
    body: web::Json<InstallBody>,
) -> Result<HttpResponse, ApiError> {
    let license = std::sync::Arc::clone(&state.license);
    let key = body.into_inner().key;
    let by = operator.actor();
    note_target(&req, "license key");
    let outcome = web::block(move || license.install(&key, &by))
        .await
        .map_err(ApiError::internal)??;
    note_target(
        &req,
        format!("license {}", outcome.license.payload().license_id),
    );
    Ok(HttpResponse::Ok().json(status_json(&state).await?))
}
