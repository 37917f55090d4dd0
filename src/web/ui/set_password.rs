//! The pages one-time links open: a new user accepts an invitation, or a user resets their
//! password. The link's token travels in the fragment (never sent to a server, never in a
//! log); the page's script puts it into the form, and without the script the form asks for
//! it. Either way the form posts here, and on success goes on to the sign-in page.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{render, see_other};
use crate::error::{ApiError, ErrorCode};
use crate::identity::LinkPurpose;
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{CurrentTenant, redeem_link};

endpoints! { area: Area::TenantApp;
    GET "/accept-invite" => accept_form, Access::TenantPublic, 200,
        "The page an invitation link opens: set a password", [];
    POST "/accept-invite" => accept, Access::TenantPublic, 303,
        "Accept an invitation with the form; on to the sign-in page",
        [LinkInvalid, InvalidPassword, InvalidInput, SeatLimitReached, LicenseExpired, RateLimited];
    GET "/reset-password" => reset_form, Access::TenantPublic, 200,
        "The page a password reset link opens: set a new password", [];
    POST "/reset-password" => reset, Access::TenantPublic, 303,
        "Set a new password with the form; on to the sign-in page",
        [LinkInvalid, InvalidPassword, InvalidInput, RateLimited];
}

#[derive(Template)]
#[template(path = "set_password.html")]
struct SetPasswordPage<'a> {
    heading: &'a str,
    tenant_name: &'a str,
    action: String,
    token: &'a str,
    error: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetPasswordForm {
    #[serde(default)]
    token: String,
    password: String,
    confirm: String,
}

fn heading(purpose: LinkPurpose) -> &'static str {
    match purpose {
        LinkPurpose::Invite => "Set your password",
        LinkPurpose::Reset => "Set a new password",
    }
}

fn path(purpose: LinkPurpose) -> &'static str {
    match purpose {
        LinkPurpose::Invite => "accept-invite",
        LinkPurpose::Reset => "reset-password",
    }
}

fn page(
    purpose: LinkPurpose,
    current: &CurrentTenant,
    token: &str,
    error: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    render(&SetPasswordPage {
        heading: heading(purpose),
        tenant_name: &current.tenant.name,
        action: format!("{}/{}", current.pages_base(), path(purpose)),
        token,
        error,
    })
}

async fn accept_form(current: CurrentTenant) -> Result<HttpResponse, ApiError> {
    page(LinkPurpose::Invite, &current, "", None)
}

async fn reset_form(current: CurrentTenant) -> Result<HttpResponse, ApiError> {
    page(LinkPurpose::Reset, &current, "", None)
}

async fn accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    current: CurrentTenant,
    form: web::Form<SetPasswordForm>,
) -> Result<HttpResponse, ApiError> {
    submit(LinkPurpose::Invite, req, state, current, form.into_inner()).await
}

async fn reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    current: CurrentTenant,
    form: web::Form<SetPasswordForm>,
) -> Result<HttpResponse, ApiError> {
    submit(LinkPurpose::Reset, req, state, current, form.into_inner()).await
}

async fn submit(
    purpose: LinkPurpose,
    req: HttpRequest,
    state: web::Data<AppState>,
    current: CurrentTenant,
    form: SetPasswordForm,
) -> Result<HttpResponse, ApiError> {
    let refused = |err: &ApiError, token: &str| -> Result<HttpResponse, ApiError> {
        let mut answer = page(purpose, &current, token, Some(err.message()))?;
        *answer.status_mut() = err.code().status();
        Ok(answer)
    };
    if form.password != form.confirm {
        let err = ApiError::with_message(ErrorCode::InvalidInput, "The two passwords differ.");
        return refused(&err, &form.token);
    }
    let token = form.token.trim().to_owned();
    let tenant = current.clone();
    match redeem_link(purpose, &req, &state, tenant, token.clone(), form.password).await {
        Ok(user) => Ok(see_other(&format!(
            "{}/sign-in?email={}",
            current.pages_base(),
            super::chrome::query_escape(&user.email)
        ))),
        Err(err) if err.code() != ErrorCode::Internal => refused(&err, &token),
        Err(err) => Err(err),
    }
}
