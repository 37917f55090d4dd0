//! Users sign in to their tenant, out again, and set passwords from one-time links.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::{CurrentTenant, TenantSession};
use crate::error::{ApiError, ErrorCode};
use crate::identity::sessions::Principal;
use crate::identity::{Email, Role, UserError, users};
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::auth::{
    Credentials, TENANT_COOKIE, check_password, client_address, end_session, start_session,
};
use crate::web::endpoint::{Access, Area, endpoints};

endpoints! { area: Area::Tenant;
    POST "/auth/login" => login, Access::TenantPublic,
        "Sign in to the tenant: sets the session cookie, returns the CSRF token",
        [InvalidCredentials, RateLimited];
    POST "/auth/logout" => logout, Access::Tenant(Role::Viewer), "Sign out", [];
    GET "/auth/me" => me, Access::Tenant(Role::Viewer),
        "The signed-in user, their tenant and the CSRF token", [];
    POST "/auth/accept-invite" => redeem, Access::TenantPublic,
        "Accept an invitation: the link's token and a new password",
        [LinkInvalid, InvalidPassword, SeatLimitReached, LicenseExpired];
    POST "/auth/reset-password" => redeem, Access::TenantPublic,
        "Set a new password with a reset link's token", [LinkInvalid, InvalidPassword];
}

async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    current: CurrentTenant,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let Credentials { email, password } = body.into_inner();
    note_target(&req, format!("user {}", email.trim()));
    let address = client_address(&req);
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
    check_password(&state, account, &address, hash, password).await?;
    let user = user.ok_or_else(|| ApiError::new(ErrorCode::InvalidCredentials))?;
    let principal = Principal::User {
        id: user.id.clone(),
        tenant_id: current.tenant.id.clone(),
    };
    let (cookie, csrf_token) = start_session(
        &state,
        &req,
        principal,
        TENANT_COOKIE,
        current.cookie_path.clone(),
    )
    .await?;
    Ok(HttpResponse::Ok().cookie(cookie).json(json!({
        "user": user,
        "tenant": { "slug": current.tenant.slug, "name": current.tenant.name },
        "csrf_token": csrf_token,
    })))
}

async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: TenantSession,
) -> Result<HttpResponse, ApiError> {
    let path = session.current.cookie_path.clone();
    end_session(&state, &req, TENANT_COOKIE, path).await
}

async fn me(state: web::Data<AppState>, session: TenantSession) -> Result<HttpResponse, ApiError> {
    let tenant_id = session.current.tenant.id.clone();
    let user_id = session.user_id().map(str::to_owned);
    let user = state
        .control_db
        .run_as(move |conn| match user_id {
            Some(id) => users::find_by_id(conn, &tenant_id, &id),
            None => Ok(None),
        })
        .await?;
    let tenant = &session.current.tenant;
    Ok(HttpResponse::Ok().json(json!({
        "user": user,
        "role": session.role,
        "tenant": { "slug": tenant.slug, "name": tenant.name },
        "csrf_token": session.csrf_token,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Redeem {
    token: String,
    password: String,
}

/// Accepts an invitation or a password reset: the link's token and the new password.
async fn redeem(
    req: HttpRequest,
    state: web::Data<AppState>,
    current: CurrentTenant,
    body: web::Json<Redeem>,
) -> Result<HttpResponse, ApiError> {
    let Redeem { token, password } = body.into_inner();
    let license = state.license.effective();
    let tenant = current.tenant;
    let user = state
        .control_db
        .run_as(move |conn| users::redeem_link(conn, &license, &tenant, &token, &password))
        .await?;
    note_target(&req, format!("user {}", user.email));
    Ok(HttpResponse::Ok().json(json!({ "user": user })))
}
