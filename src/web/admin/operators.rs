//! Operators manage each other.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::OperatorSession;
use crate::error::{ApiError, ErrorCode};
use crate::identity::password::NewPassword;
use crate::identity::{Email, operators};
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};

endpoints! { area: Area::Admin;
    GET "/operators" => list, Access::Operator, 200, "Every operator", [];
    POST "/operators" => create, Access::Operator, 201, "Add an operator",
        [InvalidInput, InvalidPassword, OperatorExists];
    POST "/operators/{id}/deactivate" => deactivate, Access::Operator, 200,
        "Deactivate an operator and end their sessions", [OperatorNotFound, LastOperator];
}

async fn list(
    state: web::Data<AppState>,
    _operator: OperatorSession,
) -> Result<HttpResponse, ApiError> {
    let all = state
        .control_db
        .run_as(|conn| operators::list(conn))
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "operators": all })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOperator {
    email: String,
    password: String,
}

async fn create(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    _operator: OperatorSession,
    body: web::Json<NewOperator>,
) -> Result<HttpResponse, ApiError> {
    let NewOperator { email, password } = body.into_inner();
    let created = add_operator(&req, &state, &email, &password).await?;
    Ok(HttpResponse::Created().json(json!({ "operator": created })))
}

/// Adds an operator with a password: the operator API and the console.
pub(crate) async fn add_operator(
    req: &actix_web::HttpRequest,
    state: &web::Data<AppState>,
    email: &str,
    password: &str,
) -> Result<operators::Operator, ApiError> {
    note_target(req, format!("operator {}", email.trim()));
    let email: Email = email
        .parse()
        .map_err(|e| ApiError::with_message(ErrorCode::InvalidInput, format!("email: {e}.")))?;
    let password = NewPassword::new(password, email.as_str())?;
    Ok(state
        .control_db
        .run_as(move |conn| operators::create(conn, &email, &password))
        .await?)
}

async fn deactivate(
    state: web::Data<AppState>,
    _operator: OperatorSession,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let operator = deactivate_operator(&state, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(json!({ "operator": operator })))
}

/// Deactivates an operator and ends their sessions (never the last active one): the
/// operator API and the console.
pub(crate) async fn deactivate_operator(
    state: &web::Data<AppState>,
    id: String,
) -> Result<operators::Operator, ApiError> {
    Ok(state
        .control_db
        .run_as(move |conn| operators::deactivate(conn, &id))
        .await?)
}
