//! The tenant app: pages rendered on the server from templates compiled into the binary
//! (askama, under `assets/templates/`, checked at build time), on the same route table and
//! gate as the API, calling the same domain functions. Every page works without JavaScript:
//! forms post (with the session's CSRF token in a hidden field, which the gate checks like
//! the API's header), and answer with a redirect to a page.
//!
//! Refusals on these routes come back as pages too (see [`answered`]): a caller who is not
//! signed in is sent to the sign-in page, anything else gets a page that says what happened.

mod board;
mod chrome;
mod dashboard;
mod format;
mod lists;
mod record;
pub(crate) mod record_form;
mod search;
mod set_password;
mod sign_in;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::error::{ApiError, ErrorCode};
use crate::web::endpoint::Module;

pub use chrome::{Banner, Chrome, NavItem, license_banners};
pub(crate) use sign_in::{
    SignInPage, check_form_token, form_cookie, new_form_token, signed_in, signed_out,
};

/// The pages of the tenant app.
pub const MODULES: &[Module] = &[
    sign_in::MODULE,
    set_password::MODULE,
    dashboard::MODULE,
    lists::MODULE,
    // Fixed paths (`/contacts/new`) before the `{id}` of the same place.
    record::contact_pages::MODULE,
    record::company_pages::MODULE,
    board::MODULE,
    record::deal_pages::MODULE,
    search::MODULE,
];

/// A rendered page.
pub fn render(page: &impl Template) -> Result<HttpResponse, ApiError> {
    let html = page.render().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// `303 See Other` to `location`: where a form's post leads.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// Where the tenant's pages live: `/t/<slug>` when reached by prefix, nothing by host.
pub fn base_of(req: &HttpRequest) -> String {
    req.match_info()
        .get("tenant")
        .map(|slug| format!("/t/{slug}"))
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    code: &'a str,
}

/// The page of a refusal: the sign-in page for a caller who is not signed in, else a page
/// with the refusal's status, message and code.
fn refusal_page(req: &HttpRequest, err: &ApiError) -> HttpResponse {
    if err.code() == ErrorCode::Unauthenticated && req.method() == actix_web::http::Method::GET {
        let next = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let sign_in = if req.path() == "/admin" || req.path().starts_with("/admin/") {
            "/admin/sign-in".to_owned()
        } else {
            format!("{}/sign-in", base_of(req))
        };
        let location = format!("{sign_in}?next={}", chrome::query_escape(next));
        return see_other(&location);
    }
    let status = err.code().status();
    let title = status.canonical_reason().unwrap_or("Refused");
    let page = ErrorPage {
        title,
        message: err.message(),
        code: err.code().as_str(),
    };
    let html = page
        .render()
        .unwrap_or_else(|_| format!("{title}: {}", err.code().as_str()));
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(html)
}

/// Checks the CSRF token a page's form posted (its `csrf` field) against `expected`, the
/// authenticated session's, and puts the body back for the handler. The gate calls this only
/// after authenticating the caller, so the body of an anonymous post is never read. Callers
/// with an API token (`expected` is `None`) need no token: nothing of theirs is ambient.
pub async fn check_form_csrf(
    req: &mut ServiceRequest,
    expected: Option<&str>,
) -> Result<(), actix_web::Error> {
    use actix_web::HttpMessage as _;
    use futures_util::StreamExt as _;
    let Some(expected) = expected else {
        return Ok(());
    };
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let refused = || ApiError::new(ErrorCode::CsrfFailed);
    if !is_form {
        return Err(refused().into());
    }
    let limit = req
        .app_data::<actix_web::web::Data<crate::web::AppState>>()
        .map_or(1024 * 1024, |s| s.config.max_body_bytes);
    let mut payload = req.take_payload();
    let mut body = actix_web::web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::new(ErrorCode::PayloadTooLarge).into());
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let sent = form_urlencoded::parse(&body)
        .find(|(name, _)| name == "csrf")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    if !crate::identity::setup::constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
        return Err(refused().into());
    }
    req.set_payload(actix_web::dev::Payload::from(body));
    Ok(())
}

/// The pages' counterpart of `refusals::answered`: a refusal of the gate, or an error a page
/// handler returned, leaves as a page.
pub async fn answered<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let request = req.request().clone();
    match next.call(req).await {
        Ok(response) => {
            let refusal = response
                .response()
                .error()
                .and_then(|e| e.as_error::<ApiError>())
                .map(|e| refusal_page(&request, e));
            Ok(match refusal {
                Some(page) => response.into_response(page).map_into_right_body(),
                None => response.map_into_left_body(),
            })
        }
        Err(err) => {
            let page = match err.as_error::<ApiError>() {
                Some(api) => refusal_page(&request, api),
                None => HttpResponse::build(StatusCode::INTERNAL_SERVER_ERROR).finish(),
            };
            Ok(ServiceResponse::new(request, page).map_into_right_body())
        }
    }
}
