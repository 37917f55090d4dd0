//! Tenant admins manage their tenant's users. Only owners may make, change or remove owners.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::TenantSession;
use crate::error::{ApiError, ErrorCode};
use crate::identity::password::NewPassword;
use crate::identity::{Email, Role, User, users};
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};

endpoints! { area: Area::Tenant;
    GET "/users" => list, Access::Tenant(Role::Viewer), 200, "The tenant's users", [];
    POST "/users" => create, Access::Tenant(Role::Admin), 201,
        "Add a user with a password, or invite them (a one-time link); takes a seat",
        [InvalidInput, InvalidPassword, UserExists, SeatLimitReached, LicenseExpired];
    GET "/users/{id}" => show, Access::Tenant(Role::Viewer), 200, "One user", [UserNotFound];
    PATCH "/users/{id}" => update, Access::Tenant(Role::Admin), 200, "Change a user's role",
        [UserNotFound, LastOwner, ReadOnly];
    POST "/users/{id}/deactivate" => deactivate, Access::Tenant(Role::Admin), 200,
        "Deactivate a user: frees the seat, ends their sessions, keeps their data",
        [UserNotFound, LastOwner];
    POST "/users/{id}/reactivate" => reactivate, Access::Tenant(Role::Admin), 200,
        "Reactivate a user, if a seat is free", [UserNotFound, SeatLimitReached, LicenseExpired];
    POST "/users/{id}/reset-password" => reset_password, Access::Tenant(Role::Admin), 200,
        "A one-time link for the user to set a new password", [UserNotFound, UserDeactivated];
}

async fn list(
    session: TenantSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let all = list_users(&state, &session).await?;
    Ok(HttpResponse::Ok().json(json!({ "users": all })))
}

/// The users of the caller's tenant, by e-mail address.
pub(crate) async fn list_users(
    state: &web::Data<AppState>,
    session: &TenantSession,
) -> Result<Vec<User>, ApiError> {
    let tenant_id = session.current.tenant.id.clone();
    Ok(state
        .control_db
        .run_as(move |conn| users::list(conn, &tenant_id))
        .await?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    email: String,
    role: Role,
    /// Without a password the user is invited by a one-time link.
    password: Option<String>,
}

/// Only an owner may hand out, take away or touch the owner role.
fn guard_owner_role(session: &TenantSession, roles: &[Role]) -> Result<(), ApiError> {
    if roles.contains(&Role::Owner) && !session.role.at_least(Role::Owner) {
        return Err(ApiError::with_message(
            ErrorCode::Forbidden,
            "Only owners may give, change or take away the owner role.",
        ));
    }
    Ok(())
}

async fn create(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<NewUser>,
) -> Result<HttpResponse, ApiError> {
    let NewUser {
        email,
        role,
        password,
    } = body.into_inner();
    let added = add_user(&req, &state, &session, &email, role, password).await?;
    Ok(HttpResponse::Created().json(json!({
        "user": added.user,
        "invite_link": added.invite_link,
        "mailed": added.mailed,
    })))
}

/// A user just added: their invitation link (without a password), and whether it was mailed.
#[derive(Debug)]
pub(crate) struct Added {
    pub user: User,
    pub invite_link: Option<String>,
    pub mailed: bool,
}

/// Adds a user to the caller's tenant with a password, or invites them by a one-time link
/// (mailed when mail is configured); takes a seat. Only owners make owners. The API's and
/// the pages' way alike.
pub(crate) async fn add_user(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    session: &TenantSession,
    email: &str,
    role: Role,
    password: Option<String>,
) -> Result<Added, ApiError> {
    note_target(req, format!("user {} as {role}", email.trim()));
    guard_owner_role(session, &[role])?;
    let email: Email = email
        .parse()
        .map_err(|e| ApiError::with_message(ErrorCode::InvalidInput, format!("email: {e}.")))?;
    let password = password
        .map(|p| NewPassword::new(&p, email.as_str()))
        .transpose()?;
    let license = state.license.effective();
    let tenant = session.current.tenant.clone();
    let base_url = state.config.base_url();
    let (invite_link, user) = state
        .control_db
        .run_as(move |conn| {
            users::create(conn, &license, &tenant, &email, role, password.as_ref())
                .map(|c| (c.invite.map(|l| l.url(&base_url, &tenant.slug)), c.user))
        })
        .await?;
    let mailed = match &invite_link {
        Some(link) => {
            let letter = crate::mail::invitation(
                &user.email,
                &session.current.tenant.name,
                role.as_str(),
                link,
            );
            crate::web::mailer::deliver(state, letter).await
        }
        None => false,
    };
    Ok(Added {
        user,
        invite_link,
        mailed,
    })
}

/// The user `id` of the caller's tenant; any other id is not found. Names them in the
/// audit log.
async fn target(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    session: &TenantSession,
    id: String,
) -> Result<User, ApiError> {
    let tenant_id = session.current.tenant.id.clone();
    let user = state
        .control_db
        .run_as(move |conn| users::find_by_id(conn, &tenant_id, &id))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::UserNotFound))?;
    note_target(req, format!("user {}", user.email));
    Ok(user)
}

fn email_of(user: &User) -> Result<Email, ApiError> {
    user.email.parse().map_err(ApiError::internal)
}

async fn show(
    session: TenantSession,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<super::IdParam>,
) -> Result<HttpResponse, ApiError> {
    let user = target(&req, &state, &session, path.into_inner().id).await?;
    Ok(HttpResponse::Ok().json(json!({ "user": user })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Update {
    role: Role,
}

async fn update(
    session: TenantSession,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<super::IdParam>,
    body: web::Json<Update>,
) -> Result<HttpResponse, ApiError> {
    let role = body.into_inner().role;
    let user = change(
        &req,
        &state,
        &session,
        path.into_inner().id,
        Change::Role(role),
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "user": user })))
}

/// What an admin changes about a user of their tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Role(Role),
    Deactivate,
    Reactivate,
}

/// Changes user `id` of the caller's tenant: their role, or deactivates or reactivates
/// them. Only owners touch owners; the tenant keeps an active owner; reactivating takes a
/// seat. The API's and the pages' way alike.
pub(crate) async fn change(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    session: &TenantSession,
    id: String,
    change: Change,
) -> Result<User, ApiError> {
    let user = target(req, state, session, id).await?;
    match change {
        Change::Role(role) => guard_owner_role(session, &[user.role, role])?,
        Change::Deactivate | Change::Reactivate => guard_owner_role(session, &[user.role])?,
    }
    let license = state.license.effective();
    let (tenant, email) = (session.current.tenant.clone(), email_of(&user)?);
    Ok(state
        .control_db
        .run_as(move |conn| match change {
            Change::Role(role) => users::set_role(conn, &tenant, &email, role),
            Change::Deactivate => users::deactivate(conn, &tenant, &email),
            Change::Reactivate => users::reactivate(conn, &license, &tenant, &email),
        })
        .await?)
}

/// Deactivating stays possible after the license lapses: it is how an appliance over its
/// cap gets back under it, and how access is taken away.
async fn deactivate(
    session: TenantSession,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<super::IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let user = change(&req, &state, &session, id, Change::Deactivate).await?;
    Ok(HttpResponse::Ok().json(json!({ "user": user })))
}

async fn reactivate(
    session: TenantSession,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<super::IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let user = change(&req, &state, &session, id, Change::Reactivate).await?;
    Ok(HttpResponse::Ok().json(json!({ "user": user })))
}

async fn reset_password(
    session: TenantSession,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<super::IdParam>,
) -> Result<HttpResponse, ApiError> {
    let (user, link, mailed) = password_link(&req, &state, &session, path.into_inner().id).await?;
    Ok(HttpResponse::Ok().json(json!({ "user": user, "link": link, "mailed": mailed })))
}

/// A one-time link for user `id` to set a new password (mailed when mail is configured):
/// the user, the link, whether it was mailed. Only owners make links for owners.
pub(crate) async fn password_link(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    session: &TenantSession,
    id: String,
) -> Result<(User, String, bool), ApiError> {
    let user = target(req, state, session, id).await?;
    guard_owner_role(session, &[user.role])?;
    let (tenant, email) = (session.current.tenant.clone(), email_of(&user)?);
    let base_url = state.config.base_url();
    let (user, link) = state
        .control_db
        .run_as(move |conn| {
            users::password_link(conn, &tenant, &email)
                .map(|(user, link)| (user, link.url(&base_url, &tenant.slug)))
        })
        .await?;
    let letter = crate::mail::password_reset(&user.email, &session.current.tenant.name, &link);
    let mailed = crate::web::mailer::deliver(state, letter).await;
    Ok((user, link, mailed))
}
