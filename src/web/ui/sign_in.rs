//! Signing in and out with a form. Before there is a session there is no session token to
//! put in the form, so the sign-in form carries a token of its own that the page also set
//! as a cookie (`SameSite=Strict`): another site can make a browser post the form, but
//! cannot read the token to put in it.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{render, see_other};
use crate::error::{ApiError, ErrorCode};
use crate::identity::Role;
use crate::identity::setup::constant_time_eq;
use crate::web::AppState;
use crate::web::auth::{TENANT_COOKIE, end_session};
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{CurrentTenant, TenantSession, sign_in};

endpoints! { area: Area::TenantApp;
    GET "/sign-in" => form, Access::TenantPublic, 200, "The sign-in page", [];
    POST "/sign-in" => submit, Access::TenantPublic, 303,
        "Sign in with the form; on to the page asked for",
        [InvalidCredentials, RateLimited];
    POST "/sign-out" => sign_out, Access::Tenant(Role::Viewer), 303,
        "Sign out; on to the sign-in page", [];
}

/// The sign-in form's own token (see the module's comment).
const FORM_COOKIE: &str = "holdfast_sign_in";

#[derive(Template)]
#[template(path = "sign_in.html")]
pub(crate) struct SignInPage<'a> {
    /// What is signed in to: the tenant's name, or the console.
    pub heading: &'a str,
    /// Where the form posts.
    pub action: &'a str,
    pub csrf: &'a str,
    pub next: &'a str,
    pub email: &'a str,
    pub error: Option<&'a str>,
    /// A tenant's pages base, whose brand (stylesheet and logo) the page wears; none for the
    /// console.
    pub brand: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
struct Next {
    next: Option<String>,
    /// Filled in after a one-time link set the password.
    email: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    email: String,
    password: String,
}

async fn form(
    current: CurrentTenant,
    state: web::Data<AppState>,
    query: web::Query<Next>,
) -> Result<HttpResponse, ApiError> {
    let token = new_form_token();
    let next = safe_next(current.pages_base(), query.next.as_deref());
    let action = format!("{}/sign-in", current.pages_base());
    let mut page = render(&SignInPage {
        heading: &current.tenant.name,
        action: &action,
        csrf: &token,
        next: &next,
        email: query.email.as_deref().unwrap_or_default(),
        error: None,
        brand: Some(current.pages_base()),
    })?;
    page.add_cookie(&form_cookie(&state, current.cookie_path.clone(), token))
        .map_err(ApiError::internal)?;
    Ok(page)
}

/// The cookie that holds a sign-in form's token, for the pages under `path`.
pub(crate) fn form_cookie(state: &AppState, path: String, token: String) -> Cookie<'static> {
    Cookie::build(FORM_COOKIE, token)
        .path(path)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.cookie_secure)
        .max_age(CookieDuration::hours(1))
        .finish()
}

async fn submit(
    req: HttpRequest,
    current: CurrentTenant,
    state: web::Data<AppState>,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, ApiError> {
    let SignInForm {
        csrf,
        next,
        email,
        password,
    } = form.into_inner();
    let expected = check_form_token(&req, &csrf)?;
    let next = safe_next(current.pages_base(), Some(&next));
    match sign_in(&req, &state, &current, &email, password).await {
        Ok((cookie, _, _)) => signed_in(&state, current.cookie_path.clone(), &cookie, &next),
        Err(err)
            if matches!(
                err.code(),
                ErrorCode::InvalidCredentials | ErrorCode::RateLimited
            ) =>
        {
            // The form again, with the reason next to it and the e-mail kept.
            let action = format!("{}/sign-in", current.pages_base());
            let mut page = render(&SignInPage {
                heading: &current.tenant.name,
                action: &action,
                csrf: &expected,
                next: &next,
                email: &email,
                error: Some(err.message()),
                brand: Some(current.pages_base()),
            })?;
            *page.status_mut() = err.code().status();
            Ok(page)
        }
        Err(err) => Err(err),
    }
}

/// A sign-in's answer: on to `next` with the session's cookie, the form's token (under
/// `form_path`) spent.
pub(crate) fn signed_in(
    state: &AppState,
    form_path: String,
    session: &Cookie<'static>,
    next: &str,
) -> Result<HttpResponse, ApiError> {
    let mut done = see_other(next);
    done.add_cookie(session).map_err(ApiError::internal)?;
    let mut spent = form_cookie(state, form_path, String::new());
    spent.make_removal();
    done.add_cookie(&spent).map_err(ApiError::internal)?;
    Ok(done)
}

/// The sign-in form's token, if the form posted the one its cookie holds; else
/// `csrf_failed`.
pub(crate) fn check_form_token(req: &HttpRequest, posted: &str) -> Result<String, ApiError> {
    let expected = req.cookie(FORM_COOKIE).map(|c| c.value().to_owned());
    match expected {
        Some(e) if !e.is_empty() && constant_time_eq(e.as_bytes(), posted.as_bytes()) => Ok(e),
        _ => Err(ApiError::with_message(
            ErrorCode::CsrfFailed,
            "The sign-in form had expired. Open the sign-in page again.",
        )),
    }
}

/// A fresh token for a sign-in form.
pub(crate) fn new_form_token() -> String {
    crate::identity::secret::Secret::generate().text
}

/// Where to go after signing in: a path of this tenant's pages, never another site (an open
/// redirect) or another tenant.
fn safe_next(base: &str, next: Option<&str>) -> String {
    let home = format!("{base}/");
    match next {
        Some(path)
            if path.starts_with(&home)
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => home,
    }
}

async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: TenantSession,
) -> Result<HttpResponse, ApiError> {
    let path = session.current.cookie_path.clone();
    let ended = end_session(&state, &req, TENANT_COOKIE, path).await?;
    signed_out(&ended, &format!("{}/sign-in", session.current.pages_base()))
}

/// A sign-out's answer: on to `to`, with the cookies that end the session (from
/// `end_session`'s answer).
pub(crate) fn signed_out(ended: &HttpResponse, to: &str) -> Result<HttpResponse, ApiError> {
    let mut done = see_other(to);
    for cookie in ended.cookies() {
        done.add_cookie(&cookie).map_err(ApiError::internal)?;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn sign_in_leads_only_to_this_tenants_pages() {
        assert_eq!(
            safe_next("/t/acme", Some("/t/acme/contacts?q=a")),
            "/t/acme/contacts?q=a"
        );
        assert_eq!(safe_next("", Some("/contacts")), "/contacts");
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/t/other/",
            "/t/acme",
            "/\\evil",
        ] {
            assert_eq!(safe_next("/t/acme", Some(bad)), "/t/acme/", "{bad}");
        }
        assert_eq!(safe_next("", Some("//evil.example/x")), "/");
        assert_eq!(safe_next("/t/acme", None), "/t/acme/");
    }
}
