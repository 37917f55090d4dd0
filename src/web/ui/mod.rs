//! The tenant app: pages rendered on the server from templates compiled into the binary
//! (askama, under `assets/templates/`, checked at build time), on the same route table and
//! gate as the API, calling the same domain functions. Every page works without JavaScript:
//! forms post (with the session's CSRF token in a hidden field, which the gate checks like
//! the API's header), and answer with a redirect to a page.
//!
//! Refusals on these routes come back as pages too (see [`answered`]): a caller who is not
//! signed in is sent to the sign-in page, anything else gets a page that says what happened.

mod account;
mod activity;
mod board;
mod brand;
mod calendar;
mod chrome;
mod csrf;
mod dashboard;
mod format;
mod import_plan;
mod imports;
mod link_names;
mod list_actions;
mod list_columns;
mod list_query;
mod list_views;
mod lists;
mod reader_zone;
mod record;
mod record_actions;
pub(crate) mod record_form;
mod record_links;
mod search;
mod set_password;
mod settings;
mod sign_in;
mod tasks;
mod trash;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::error::{ApiError, ErrorCode};
use crate::web::endpoint::Module;

pub use chrome::{Banner, Chrome, NavItem, license_banners};
pub use csrf::check_form_csrf;
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
    imports::MODULE,
    settings::MODULE,
    settings::users::MODULE,
    settings::tokens::MODULE,
    settings::audit::MODULE,
    account::MODULE,
    settings::pipelines::MODULE,
    settings::fields::MODULE,
    settings::branding::MODULE,
    brand::MODULE,
    trash::MODULE,
    tasks::MODULE,
    calendar::MODULE,
    list_views::MODULE,
    list_actions::MODULE,
    record_links::MODULE,
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
