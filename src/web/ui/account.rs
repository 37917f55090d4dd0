//! The signed-in user's own account: change their password (the API's `POST /auth/password`
//! behind a form, errors next to the fields), and their sessions — where they are signed in,
//! this one marked — with a way to sign out any other, or every other at once.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, render, see_other};
use crate::error::{ApiError, ErrorCode};
use crate::identity::Role;
use crate::identity::sessions::SessionInfo;
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::auth::{change_own_password, end_others, end_own_session, own_sessions};
use crate::web::tenant::{IdParam, TenantSession};

endpoints! { area: Area::TenantApp;
    GET "/account" => page, Access::Tenant(Role::Viewer), 200,
        "Your account: change your password, see and end your sessions", [];
    POST "/account/password" => change_password, Access::Tenant(Role::Viewer), 303,
        "Change your password (current, new, confirmed); ends your other sessions",
        [InvalidInput, InvalidCredentials, InvalidPassword, RateLimited];
    POST "/account/sessions/{id}/end" => end_one, Access::Tenant(Role::Viewer), 303,
        "Sign out one of your other sessions", [NotFound];
    POST "/account/sessions/end-others" => end_every_other, Access::Tenant(Role::Viewer), 303,
        "Sign out everywhere else", [];
}

/// A session as a row.
struct Row {
    info: SessionInfo,
    created: String,
    last_seen: String,
}

/// Errors of the password form, by field.
#[derive(Debug, Default)]
struct FieldErrors {
    current: Option<String>,
    new: Option<String>,
    confirm: Option<String>,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    /// Token callers have no password or sessions here.
    signed_in: bool,
    rows: Vec<Row>,
    errors: FieldErrors,
    notice: Option<&'static str>,
}

impl AccountPage {
    fn others(&self) -> bool {
        self.rows.iter().any(|r| !r.info.current)
    }
}

#[derive(Debug, Default, Deserialize)]
struct Notice {
    done: Option<String>,
}

/// What a `?done=` after a redirect says.
fn notice_of(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "password" => Some("Your password is changed; your other sessions were signed out."),
        "ended" => Some("That session is signed out."),
        "others" => Some("Every other session is signed out."),
        _ => None,
    }
}

async fn account_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    session: &TenantSession,
    errors: FieldErrors,
    notice: Option<&'static str>,
    status: Option<actix_web::http::StatusCode>,
) -> Result<HttpResponse, ApiError> {
    let when = super::settings::when;
    let signed_in = session.user_id().is_some();
    let rows = if signed_in {
        own_sessions(req, state, session)
            .await?
            .into_iter()
            .map(|info| Row {
                created: when(info.created_at),
                last_seen: when(info.last_seen_at),
                info,
            })
            .collect()
    } else {
        Vec::new()
    };
    let page = AccountPage {
        chrome: Chrome::new(state, session, "/account"),
        signed_in,
        rows,
        errors,
        notice,
    };
    let mut response = render(&page)?;
    if let Some(status) = status {
        *response.status_mut() = status;
    }
    Ok(response)
}

async fn page(
    req: HttpRequest,
    session: TenantSession,
    state: web::Data<AppState>,
    query: web::Query<Notice>,
) -> Result<HttpResponse, ApiError> {
    let notice = notice_of(query.done.as_deref());
    account_page(&req, &state, &session, FieldErrors::default(), notice, None).await
}

/// The form's names are the API's (`current_password`, `new_password`) and one more.
#[derive(Debug, Deserialize)]
#[allow(clippy::struct_field_names)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

fn back(session: &TenantSession, done: &str) -> HttpResponse {
    see_other(&format!(
        "{}/account?done={done}",
        session.current.pages_base()
    ))
}

async fn change_password(
    req: HttpRequest,
    session: TenantSession,
    state: web::Data<AppState>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, ApiError> {
    let PasswordForm {
        current_password,
        new_password,
        confirm_password,
    } = form.into_inner();
    let changed = if new_password == confirm_password {
        change_own_password(&req, &state, &session, current_password, new_password).await
    } else {
        Err(ApiError::with_message(
            ErrorCode::InvalidInput,
            "The new password and its confirmation differ.",
        ))
    };
    let Err(error) = changed else {
        return Ok(back(&session, "password"));
    };
    let message = Some(super::settings::sentence(&error));
    let errors = match error.code() {
        ErrorCode::InvalidInput => FieldErrors {
            confirm: message,
            ..FieldErrors::default()
        },
        ErrorCode::InvalidPassword => FieldErrors {
            new: message,
            ..FieldErrors::default()
        },
        ErrorCode::InvalidCredentials | ErrorCode::RateLimited => FieldErrors {
            current: message,
            ..FieldErrors::default()
        },
        _ => return Err(error),
    };
    let status = Some(error.code().status());
    account_page(&req, &state, &session, errors, None, status).await
}

async fn end_one(
    req: HttpRequest,
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    end_own_session(&req, &state, &session, path.into_inner().id).await?;
    Ok(back(&session, "ended"))
}

async fn end_every_other(
    req: HttpRequest,
    session: TenantSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    end_others(&req, &state, &session).await?;
    Ok(back(&session, "others"))
}
