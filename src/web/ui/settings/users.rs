//! Users and roles: the tenant's users and its seats, the form to invite someone (the answer
//! shows their one-time link, or says it was mailed), and per user: change the role,
//! deactivate or reactivate, make a password reset link. Every rule is the API's
//! (`tenant::users`): the pages call the same functions and show their refusals.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{NAV_PATH, roles_up_to, sentence, uncached, when, with_status};
use crate::error::{ApiError, ErrorCode};
use crate::identity::users::{Seats, UserStatus};
use crate::identity::{Role, User, sessions, users};
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::users::{Change, add_user, change, list_users, password_link};
use crate::web::tenant::{IdParam, TenantSession};
use crate::web::ui::{Chrome, render, see_other};

endpoints! { area: Area::TenantApp;
    GET "/settings/users" => page, Access::Tenant(Role::Admin), 200,
        "The tenant's users and seats, with the form to invite someone", [];
    POST "/settings/users" => invite, Access::Tenant(Role::Admin), 200,
        "Invite a user (e-mail, role); the answer shows their one-time link, or that it was mailed",
        [InvalidInput, UserExists, SeatLimitReached, LicenseExpired];
    POST "/settings/users/{id}/role" => set_role, Access::Tenant(Role::Admin), 303,
        "Change a user's role", [InvalidInput, UserNotFound, LastOwner, ReadOnly];
    POST "/settings/users/{id}/deactivate" => deactivate, Access::Tenant(Role::Admin), 303,
        "Deactivate a user: frees the seat, ends their sessions", [UserNotFound, LastOwner];
    POST "/settings/users/{id}/reactivate" => reactivate, Access::Tenant(Role::Admin), 303,
        "Reactivate a user, if a seat is free", [UserNotFound, SeatLimitReached, LicenseExpired];
    POST "/settings/users/{id}/reset-password" => reset_link, Access::Tenant(Role::Admin), 200,
        "Make a one-time link for a user to set a new password; the answer shows it",
        [UserNotFound, UserDeactivated];
}

/// A user as a row of the table.
struct Row {
    user: User,
    /// When they last signed in, while a session of theirs lives (RFC 3339).
    last_sign_in: Option<String>,
    /// The caller may change this user (only owners touch owners; nobody their own row).
    manageable: bool,
}

impl Row {
    fn active(&self) -> bool {
        self.user.status != UserStatus::Deactivated
    }
}

/// What the last action made: a link to hand over (or the news that it was mailed).
struct Made {
    what: &'static str,
    email: String,
    link: String,
    mailed: bool,
}

#[derive(Template)]
#[template(path = "settings_users.html")]
struct UsersPage {
    chrome: Chrome,
    rows: Vec<Row>,
    seats: Seats,
    /// Roles this caller may give.
    roles: Vec<&'static str>,
    made: Option<Made>,
    /// A refusal of the invitation form, and what was typed in it.
    invite_error: Option<String>,
    invite_email: String,
    /// A refusal of an action on a user.
    row_error: Option<String>,
}

impl UsersPage {
    fn tenant_cap_text(&self) -> String {
        self.seats
            .tenant_cap
            .map_or_else(|| "no limit of its own".to_owned(), |cap| format!("{cap}"))
    }
}

/// What a page shows besides the table.
#[derive(Default)]
struct Outcome {
    made: Option<Made>,
    invite_error: Option<ApiError>,
    invite_email: String,
    row_error: Option<ApiError>,
}

async fn users_page(
    state: &web::Data<AppState>,
    session: &TenantSession,
    outcome: Outcome,
) -> Result<HttpResponse, ApiError> {
    let all = list_users(state, session).await?;
    let (license, tenant) = (state.license.effective(), session.current.tenant.clone());
    let (seats, signed_in) = state
        .control_db
        .run_as(move |conn| -> Result<_, users::UserError> {
            let seats = users::seats(conn, &license, &tenant)?;
            Ok((seats, sessions::last_sign_ins(conn, &tenant.id)?))
        })
        .await?;
    let me = session.user_id().unwrap_or_default().to_owned();
    let rows = all
        .into_iter()
        .map(|user| Row {
            last_sign_in: signed_in.get(&user.id).map(|at| when(*at)),
            manageable: user.id != me
                && (user.role != Role::Owner || session.role.at_least(Role::Owner)),
            user,
        })
        .collect();
    let status = outcome
        .invite_error
        .as_ref()
        .or(outcome.row_error.as_ref())
        .map(|e| e.code().status());
    let page = UsersPage {
        chrome: Chrome::new(state, session, NAV_PATH),
        rows,
        seats,
        roles: roles_up_to(session.role),
        made: outcome.made,
        invite_error: outcome.invite_error.map(|e| sentence(&e)),
        invite_email: outcome.invite_email,
        row_error: outcome.row_error.map(|e| sentence(&e)),
    };
    Ok(uncached(with_status(render(&page)?, status)))
}

async fn page(
    session: TenantSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    users_page(&state, &session, Outcome::default()).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteForm {
    #[serde(rename = "csrf", default)]
    _csrf: serde::de::IgnoredAny,
    email: String,
    role: String,
}

fn role_of(text: &str) -> Result<Role, ApiError> {
    text.parse()
        .map_err(|e: String| ApiError::with_message(ErrorCode::InvalidInput, format!("role: {e}.")))
}

/// The answer to the invitation form is a page, not a redirect: the one-time link is shown
/// on it once and kept nowhere else.
async fn invite(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<InviteForm>,
) -> Result<HttpResponse, ApiError> {
    let InviteForm { email, role, .. } = form.into_inner();
    let added = match role_of(&role) {
        Ok(role) => add_user(&req, &state, &session, &email, role, None).await,
        Err(e) => Err(e),
    };
    let outcome = match added {
        Ok(added) => Outcome {
            made: Some(Made {
                what: "invitation",
                email: added.user.email,
                link: added.invite_link.unwrap_or_default(),
                mailed: added.mailed,
            }),
            ..Outcome::default()
        },
        Err(error) => Outcome {
            invite_error: Some(error),
            invite_email: email,
            ..Outcome::default()
        },
    };
    users_page(&state, &session, outcome).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleForm {
    #[serde(rename = "csrf", default)]
    _csrf: serde::de::IgnoredAny,
    role: String,
}

/// After an action on a user: back to the list, or the list with the refusal.
async fn after(
    state: &web::Data<AppState>,
    session: &TenantSession,
    done: Result<User, ApiError>,
) -> Result<HttpResponse, ApiError> {
    match done {
        Ok(_) => Ok(see_other(&format!(
            "{}/settings/users",
            session.current.pages_base()
        ))),
        Err(error) => {
            let outcome = Outcome {
                row_error: Some(error),
                ..Outcome::default()
            };
            users_page(state, session, outcome).await
        }
    }
}

async fn set_role(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    form: web::Form<RoleForm>,
) -> Result<HttpResponse, ApiError> {
    let done = match role_of(&form.role) {
        Ok(role) => {
            change(
                &req,
                &state,
                &session,
                path.into_inner().id,
                Change::Role(role),
            )
            .await
        }
        Err(e) => Err(e),
    };
    after(&state, &session, done).await
}

async fn deactivate(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let done = change(&req, &state, &session, id, Change::Deactivate).await;
    after(&state, &session, done).await
}

async fn reactivate(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let done = change(&req, &state, &session, id, Change::Reactivate).await;
    after(&state, &session, done).await
}

/// Like the invitation, the answer is the page with the link on it, once.
async fn reset_link(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let outcome = match password_link(&req, &state, &session, path.into_inner().id).await {
        Ok((user, link, mailed)) => Outcome {
            made: Some(Made {
                what: "password reset link",
                email: user.email,
                link,
                mailed,
            }),
            ..Outcome::default()
        },
        Err(error) => Outcome {
            row_error: Some(error),
            ..Outcome::default()
        },
    };
    users_page(&state, &session, outcome).await
}
