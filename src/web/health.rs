//! Probes for orchestrators: `/healthz` says the process answers, `/readyz` that the control
//! database answers a query and can take the write lock (a database that cannot be written
//! is not ready, even if it can be read).

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::{AppState, read_only_resource};
use crate::error::{ApiError, ErrorCode};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(read_only_resource("/healthz", healthz))
        .service(read_only_resource("/readyz", readyz));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let created_at = state
        .control_db
        .run(|conn| {
            // Taking the write lock and letting it go proves writes can happen; the
            // transaction is rolled back when dropped, so the probe changes nothing.
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            Ok(tx.query_row(
                "SELECT value FROM appliance_meta WHERE key = 'created_at'",
                [],
                |row| row.get::<_, String>(0),
            )?)
        })
        .await
        .map_err(|err| ApiError::new(ErrorCode::NotReady).caused_by(err))?;
    Ok(HttpResponse::Ok().json(json!({
        "status": "ready",
        "checks": { "control_db": "ok" },
        "data_created_at": created_at,
    })))
}
