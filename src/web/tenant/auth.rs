//! Users sign in to their tenant, out again, and set passwords from one-time links.

use std::time::Instant;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::{CurrentTenant, TenantSession};
use crate::error::{ApiError, ErrorCode};
use crate::identity::sessions::{self, Principal};
use crate::identity::throttle::address_key;
use crate::identity::{Email, LinkPurpose, Role, UserError, users};
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::auth::{
    Credentials, PasswordChange, TENANT_COOKIE, check_password, client_address, end_session,
    rate_limited, session_policy, start_session,
};
use crate::web::endpoint::{Access, Area, endpoints};

endpoints! { area: Area::Tenant;
    POST "/auth/login" => login, Access::TenantPublic, 200,
        "Sign in to the tenant: sets the session cookie, returns the CSRF token",
        [InvalidCredentials, RateLimited];
    POST "/auth/logout" => logout, Access::Tenant(Role::Viewer), 204, "Sign out", [];
    POST "/auth/password" => change_password, Access::Tenant(Role::Viewer), 200,
        "Change your own password (the current one and a new one); ends your other sessions",
        [InvalidCredentials, InvalidPassword, RateLimited];
    GET "/auth/me" => me, Access::Tenant(Role::Viewer), 200,
        "The signed-in user, their tenant and the CSRF token", [];
    POST "/auth/accept-invite" => accept_invite, Access::TenantPublic, 200,
        "Accept an invitation: the link's token and a new password; throttled per address",
        [LinkInvalid, InvalidPassword, SeatLimitReached, LicenseExpired, RateLimited];
    POST "/auth/reset-password" => reset_password, Access::TenantPublic, 200,
        "Set a new password with a reset link's token; ends the user's sessions; throttled per address",
        [LinkInvalid, InvalidPassword, RateLimited];
    GET "/auth/sessions" => list_sessions, Access::Tenant(Role::Viewer), 200,
        "Your own live sessions (by public id; the one asking is marked `current`)", [];
    DELETE "/auth/sessions" => end_other_sessions, Access::Tenant(Role::Viewer), 204,
        "Sign out everywhere else: end all your sessions but this one", [];
    DELETE "/auth/sessions/{id}" => end_session_by_id, Access::Tenant(Role::Viewer), 204,
        "End one of your own sessions by its public id (anyone else's is not found)", [NotFound];
}

async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    current: CurrentTenant,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let Credentials { email, password } = body.into_inner();
    let (cookie, csrf_token, user) = sign_in(&req, &state, &current, &email, password).await?;
    Ok(HttpResponse::Ok().cookie(cookie).json(json!({
        "user": user,
        "tenant": { "slug": current.tenant.slug, "name": current.tenant.name },
        "csrf_token": csrf_token,
    })))
}

/// Checks a user's e-mail and password (throttled; the same answer whether or not the
/// account exists) and starts their session: the cookie to set, the session's CSRF token,
/// the user. The API's sign-in and the sign-in page both come here.
pub(crate) async fn sign_in(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    current: &CurrentTenant,
    email: &str,
    password: String,
) -> Result<(actix_web::cookie::Cookie<'static>, String, users::User), ApiError> {
    note_target(req, format!("user {}", email.trim()));
    let address = client_address(req);
    let email: Option<Email> = email.parse().ok();
    let tenant_id = current.tenant.id.clone();
    let account = format!(
        "user:{tenant_id}:{}",
        email.as_ref().map_or("", Email::as_str)
    );
    let (user, hash) = state
        .control_db
        .run_as(move |conn| -> Result<_, UserError> {
            let Some(email) = email else {
                return Ok((None, None));
            };
            let user = users::find(conn, &tenant_id, &email)?;
            let hash = match &user {
                Some(u) => users::password_hash_of(conn, &u.id)?,
                None => None,
            };
            Ok((user, hash))
        })
        .await?;
    check_password(state, account, &address, hash, password).await?;
    let user = user.ok_or_else(|| ApiError::new(ErrorCode::InvalidCredentials))?;
    let principal = Principal::User {
        id: user.id.clone(),
        tenant_id: current.tenant.id.clone(),
    };
    let (cookie, csrf_token) = start_session(
        state,
        req,
        principal,
        TENANT_COOKIE,
        current.cookie_path.clone(),
    )
    .await?;
    Ok((cookie, csrf_token, user))
}

async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: TenantSession,
) -> Result<HttpResponse, ApiError> {
    let path = session.current.cookie_path.clone();
    end_session(&state, &req, TENANT_COOKIE, path).await
}

/// The caller as the gate found them: no second trip to the database.
async fn me(session: TenantSession) -> Result<HttpResponse, ApiError> {
    let tenant = &session.current.tenant;
    Ok(HttpResponse::Ok().json(json!({
        "user": session.user,
        "role": session.role,
        "tenant": { "slug": tenant.slug, "name": tenant.name },
        "csrf_token": session.csrf_token,
    })))
}

async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: TenantSession,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let PasswordChange {
        current_password,
        new_password,
    } = body.into_inner();
    let user = change_own_password(&req, &state, &session, current_password, new_password).await?;
    Ok(HttpResponse::Ok().json(json!({ "user": user })))
}

/// The signed-in user behind a cookie session and that cookie's value; API tokens have no
/// password and no sessions of their own.
fn signed_in_user(
    req: &HttpRequest,
    session: &TenantSession,
) -> Result<(String, String), ApiError> {
    let (Some(user_id), Some(cookie)) = (session.user_id(), req.cookie(TENANT_COOKIE)) else {
        return Err(ApiError::with_message(
            ErrorCode::Forbidden,
            "Passwords and sessions belong to signed-in users, not to API tokens.",
        ));
    };
    Ok((user_id.to_owned(), cookie.value().to_owned()))
}

/// The signed-in user changes their password, proving the current one first (through the
/// sign-in throttle, so a stolen session cannot guess it); their other sessions end. The
/// API's and the account page's way alike.
pub(crate) async fn change_own_password(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    session: &TenantSession,
    current_password: String,
    new_password: String,
) -> Result<users::User, ApiError> {
    let (user_id, cookie) = signed_in_user(req, session)?;
    let tenant = session.current.tenant.clone();
    let (tenant_id, id) = (tenant.id.clone(), user_id.clone());
    let (user, hash) = state
        .control_db
        .run_as(move |conn| -> Result<_, UserError> {
            let user = users::find_by_id(conn, &tenant_id, &id)?;
            Ok((user, users::password_hash_of(conn, &id)?))
        })
        .await?;
    let user = user.ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated))?;
    note_target(req, format!("user {}", user.email));
    let account = format!("user:{}:{}", tenant.id, user.email);
    check_password(state, account, &client_address(req), hash, current_password).await?;
    Ok(state
        .control_db
        .run_as(move |conn| users::change_password(conn, &tenant, &user_id, &new_password, &cookie))
        .await?)
}

async fn list_sessions(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: TenantSession,
) -> Result<HttpResponse, ApiError> {
    let all = own_sessions(&req, &state, &session).await?;
    Ok(HttpResponse::Ok().json(json!({ "sessions": all })))
}

/// The signed-in user's own live sessions, the one asking marked.
pub(crate) async fn own_sessions(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    session: &TenantSession,
) -> Result<Vec<sessions::SessionInfo>, ApiError> {
    let (user_id, cookie) = signed_in_user(req, session)?;
    let policy = session_policy(&state.config);
    Ok(state
        .control_db
        .run(move |conn| sessions::list_of_user(conn, &user_id, &cookie, policy))
        .await?)
}

async fn end_session_by_id(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: TenantSession,
    path: web::Path<super::IdParam>,
) -> Result<HttpResponse, ApiError> {
    end_own_session(&req, &state, &session, path.into_inner().id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ends session `id` of the signed-in user; a session of anyone else is not found.
pub(crate) async fn end_own_session(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    session: &TenantSession,
    id: String,
) -> Result<(), ApiError> {
    let (user_id, _) = signed_in_user(req, session)?;
    note_target(req, format!("session {id}"));
    let ended = state
        .control_db
        .run(move |conn| sessions::end_of_user(conn, &user_id, &id))
        .await?;
    if ended {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::NotFound))
    }
}

async fn end_other_sessions(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: TenantSession,
) -> Result<HttpResponse, ApiError> {
    end_others(&req, &state, &session).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Signs the signed-in user out everywhere but here.
pub(crate) async fn end_others(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    session: &TenantSession,
) -> Result<(), ApiError> {
    let (user_id, cookie) = signed_in_user(req, session)?;
    note_target(req, "other sessions".to_owned());
    let principal = Principal::User {
        id: user_id,
        tenant_id: session.current.tenant.id.clone(),
    };
    Ok(state
        .control_db
        .run(move |conn| sessions::end_others(conn, &principal, &cookie))
        .await?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Redeem {
    token: String,
    password: String,
}

async fn accept_invite(
    req: HttpRequest,
    state: web::Data<AppState>,
    current: CurrentTenant,
    body: web::Json<Redeem>,
) -> Result<HttpResponse, ApiError> {
    redeem(
        LinkPurpose::Invite,
        &req,
        &state,
        current,
        body.into_inner(),
    )
    .await
}

async fn reset_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    current: CurrentTenant,
    body: web::Json<Redeem>,
) -> Result<HttpResponse, ApiError> {
    redeem(LinkPurpose::Reset, &req, &state, current, body.into_inner()).await
}

/// Redeems a one-time link for `purpose`: the link's token and the new password. Unknown
/// tokens count against the client's address, which is locked out after twenty in a while,
/// like failed sign-ins.
async fn redeem(
    purpose: LinkPurpose,
    req: &HttpRequest,
    state: &web::Data<AppState>,
    current: CurrentTenant,
    Redeem { token, password }: Redeem,
) -> Result<HttpResponse, ApiError> {
    let user = redeem_link(purpose, req, state, current, token, password).await?;
    Ok(HttpResponse::Ok().json(json!({ "user": user })))
}

/// Sets a user's password with a one-time link's token (throttled per address): the API's
/// and the pages' way alike.
pub(crate) async fn redeem_link(
    purpose: LinkPurpose,
    req: &HttpRequest,
    state: &web::Data<AppState>,
    current: CurrentTenant,
    token: String,
    password: String,
) -> Result<users::User, ApiError> {
    let address = address_key(&client_address(req));
    let attempt = state
        .link_throttle
        .reserve(&address, Instant::now())
        .map_err(rate_limited)?;
    let license = state.license.effective();
    let tenant = current.tenant;
    let redeemed = state
        .control_db
        .run_as(move |conn| users::redeem_link(conn, &license, &tenant, purpose, &token, &password))
        .await;
    let user = match redeemed {
        Ok(user) => user,
        Err(err) => {
            if matches!(err, UserError::LinkInvalid) {
                let _ = attempt.fail(Instant::now());
            }
            return Err(err.into());
        }
    };
    note_target(req, format!("user {}", user.email));
    Ok(user)
}
