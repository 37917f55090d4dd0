//! Operators sign in and out.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::OperatorSession;
use crate::error::{ApiError, ErrorCode};
use crate::identity::sessions::Principal;
use crate::identity::{Email, operators};
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::auth::{
    ADMIN_COOKIE, Credentials, PasswordChange, check_password, client_address, end_session,
    start_session,
};
use crate::web::endpoint::{Access, Area, endpoints};

endpoints! { area: Area::Admin;
    POST "/auth/login" => login, Access::Public, 200,
        "Sign in as an operator: sets the session cookie, returns the CSRF token",
        [InvalidCredentials, RateLimited];
    POST "/auth/logout" => logout, Access::Operator, 204, "Sign out", [];
    GET "/auth/me" => me, Access::Operator, 200, "The signed-in operator and the CSRF token", [];
    POST "/auth/password" => change_password, Access::Operator, 200,
        "Change your own password (the current one and a new one); ends your other sessions",
        [InvalidCredentials, InvalidPassword, RateLimited];
}

async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let Credentials { email, password } = body.into_inner();
    let (cookie, csrf_token, operator) = sign_in(&req, &state, &email, password).await?;
    Ok(HttpResponse::Ok()
        .cookie(cookie)
        .json(json!({ "operator": operator, "csrf_token": csrf_token })))
}

/// Checks an operator's e-mail and password (throttled; the same answer whether or not the
/// account exists) and starts their session: the API's sign-in and the console's.
pub(crate) async fn sign_in(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    email: &str,
    password: String,
) -> Result<
    (
        actix_web::cookie::Cookie<'static>,
        String,
        operators::Operator,
    ),
    ApiError,
> {
    note_target(req, format!("operator {}", email.trim()));
    let address = client_address(req);
    // An address that is not an e-mail address is treated like an unknown one: same work,
    // same answer.
    let email: Option<Email> = email.parse().ok();
    let account = format!("operator:{}", email.as_ref().map_or("", |e| e.as_str()));
    let lookup = email.clone();
    let (operator, hash) = state
        .control_db
        .run_as(move |conn| -> Result<_, ApiError> {
            let Some(email) = lookup else {
                return Ok((None, None));
            };
            let operator = operators::find(conn, &email)?;
            let hash = match &operator {
                Some(op) => operators::password_hash_of(conn, &op.id)?,
                None => None,
            };
            Ok((operator, hash))
        })
        .await?;
    check_password(state, account, &address, hash, password).await?;
    let operator = operator.ok_or_else(|| ApiError::new(ErrorCode::InvalidCredentials))?;
    let principal = Principal::Operator {
        id: operator.id.clone(),
    };
    let (cookie, csrf_token) =
        start_session(state, req, principal, ADMIN_COOKIE, "/".to_owned()).await?;
    Ok((cookie, csrf_token, operator))
}

async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    _session: OperatorSession,
) -> Result<HttpResponse, ApiError> {
    end_session(&state, &req, ADMIN_COOKIE, "/".to_owned()).await
}

async fn me(
    state: web::Data<AppState>,
    session: OperatorSession,
) -> Result<HttpResponse, ApiError> {
    let id = session.operator_id.clone();
    let operator = state
        .control_db
        .run_as(move |conn| operators::find_by_id(conn, &id))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated))?;
    Ok(HttpResponse::Ok().json(json!({ "operator": operator, "csrf_token": session.csrf_token })))
}

/// The signed-in operator changes their password, proving the current one first (through
/// the sign-in throttle); their other sessions end.
async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: OperatorSession,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let cookie = req
        .cookie(ADMIN_COOKIE)
        .map(|c| c.value().to_owned())
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated))?;
    let PasswordChange {
        current_password,
        new_password,
    } = body.into_inner();
    let id = session.operator_id.clone();
    let (operator, hash) = state
        .control_db
        .run_as(move |conn| -> Result<_, ApiError> {
            Ok((
                operators::find_by_id(conn, &id)?,
                operators::password_hash_of(conn, &id)?,
            ))
        })
        .await?;
    let operator = operator.ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated))?;
    note_target(&req, format!("operator {}", operator.email));
    let account = format!("operator:{}", operator.email);
    check_password(
        &state,
        account,
        &client_address(&req),
        hash,
        current_password,
    )
    .await?;
    let id = session.operator_id;
    let operator = state
        .control_db
        .run_as(move |conn| operators::change_password(conn, &id, &new_password, &cookie))
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "operator": operator })))
}
