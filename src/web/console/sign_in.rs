//! Operators sign in to the console with a form, and out again.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::error::{ApiError, ErrorCode};
use crate::web::AppState;
use crate::web::admin::{OperatorSession, operator_sign_in};
use crate::web::auth::{ADMIN_COOKIE, end_session};
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::ui::{
    SignInPage, check_form_token, form_cookie, new_form_token, render, signed_in, signed_out,
};

endpoints! { area: Area::Console;
    GET "/admin/sign-in" => form, Access::Public, 200, "The console's sign-in page", [];
    POST "/admin/sign-in" => submit, Access::Public, 303,
        "Sign in to the console with the form", [InvalidCredentials, RateLimited];
    POST "/admin/sign-out" => sign_out, Access::Operator, 303, "Sign out of the console", [];
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

#[derive(Debug, Deserialize)]
struct Next {
    next: Option<String>,
}

/// Only the console's own pages, after signing in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if (path == "/admin" || path.starts_with("/admin/"))
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/admin".to_owned(),
    }
}

fn page(
    csrf: &str,
    next: &str,
    email: &str,
    error: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    render(&SignInPage {
        heading: "the Holdfast console",
        action: "/admin/sign-in",
        csrf,
        next,
        email,
        error,
        brand: None,
    })
}

async fn form(
    state: web::Data<AppState>,
    query: web::Query<Next>,
) -> Result<HttpResponse, ApiError> {
    let token = new_form_token();
    let mut answer = page(&token, &safe_next(query.next.as_deref()), "", None)?;
    answer
        .add_cookie(&form_cookie(&state, "/admin".to_owned(), token))
        .map_err(ApiError::internal)?;
    Ok(answer)
}

async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, ApiError> {
    let SignInForm {
        csrf,
        next,
        email,
        password,
    } = form.into_inner();
    let token = check_form_token(&req, &csrf)?;
    let next = safe_next(Some(&next));
    match operator_sign_in(&req, &state, &email, password).await {
        Ok((cookie, _, _)) => signed_in(&state, "/admin".to_owned(), &cookie, &next),
        Err(err)
            if matches!(
                err.code(),
                ErrorCode::InvalidCredentials | ErrorCode::RateLimited
            ) =>
        {
            let mut answer = page(&token, &next, &email, Some(err.message()))?;
            *answer.status_mut() = err.code().status();
            Ok(answer)
        }
        Err(err) => Err(err),
    }
}

async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    _operator: OperatorSession,
) -> Result<HttpResponse, ApiError> {
    let ended = end_session(&state, &req, ADMIN_COOKIE, "/".to_owned()).await?;
    signed_out(&ended, "/admin/sign-in")
}
