//! The setup page (`assets/templates/setup.html`): the form, a refused form again with the
//! refusal next to its field (what was typed kept, passwords aside), and what was set up. The
//! form works without JavaScript: the one-time token travels in the address's fragment,
//! which browsers never send, so the form has a field for it; the page's script fills it
//! from the fragment and hides it.

use actix_web::HttpResponse;
use actix_web::http::header;
use askama::Template;
use serde_json::Value;

use super::setup::SetupForm;
use crate::error::{ApiError, ErrorCode};

/// A refusal, next to the field it names.
#[derive(Debug, Default)]
struct Errors {
    general: Option<String>,
    token: Option<String>,
    email: Option<String>,
    password: Option<String>,
    license: Option<String>,
    slug: Option<String>,
    name: Option<String>,
    owner: Option<String>,
}

/// What was set up.
struct Done {
    operator: String,
    license: String,
    tenant: Option<String>,
    invite_link: Option<String>,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage<'a> {
    form: &'a SetupForm,
    errors: Errors,
    done: Option<Done>,
}

fn page(
    page: &SetupPage<'_>,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, ApiError> {
    let html = page.render().map_err(ApiError::internal)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html))
}

/// Puts `err` next to the field it names; a refusal no field explains goes above the form.
fn placed(err: &ApiError) -> Errors {
    let mut errors = Errors::default();
    let message = err.message();
    let named = |prefix: &str| message.strip_prefix(prefix).map(str::to_owned);
    match err.code() {
        ErrorCode::NotFound => {
            errors.token = Some(
                "This is not the setup token Holdfast printed, or setup is already done.".into(),
            );
        }
        ErrorCode::LicenseInvalid => errors.license = Some(message.to_owned()),
        ErrorCode::InvalidPassword => errors.password = Some(message.to_owned()),
        _ => {
            if let Some(why) = named("operator.email: ") {
                errors.email = Some(why);
            } else if let Some(why) = named("tenant.slug: ") {
                errors.slug = Some(why);
            } else if let Some(why) = named("tenant.name: ") {
                errors.name = Some(why);
            } else if let Some(why) = named("tenant.owner_email: ") {
                errors.owner = Some(why);
            } else {
                errors.general = Some(message.to_owned());
            }
        }
    }
    if errors.general.is_none() {
        errors.general = Some("Nothing was set up: see the field marked below.".into());
    }
    errors
}

/// The form, as typed (passwords aside), with the refusal if any and its status.
pub(super) fn form(form: &SetupForm, refusal: Option<ApiError>) -> Result<HttpResponse, ApiError> {
    let refusal = match refusal {
        Some(err) if !err.code().status().is_client_error() => return Err(err),
        other => other,
    };
    let status = refusal
        .as_ref()
        .map_or(actix_web::http::StatusCode::OK, |e| e.code().status());
    let errors = refusal.as_ref().map(placed).unwrap_or_default();
    page(
        &SetupPage {
            form,
            errors,
            done: None,
        },
        status,
    )
}

/// What `created` (the JSON answer) says was set up, as a page.
pub(super) fn done(created: &Value) -> Result<HttpResponse, ApiError> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let tenant = created
        .get("tenant")
        .map(|t| format!("{} ({})", text(&t["name"]), text(&t["slug"])));
    let done = Done {
        operator: text(&created["operator"]["email"]),
        license: text(&created["license"]),
        tenant,
        invite_link: created
            .get("owner_invite_link")
            .and_then(Value::as_str)
            .map(str::to_owned),
    };
    page(
        &SetupPage {
            form: &SetupForm::default(),
            errors: Errors::default(),
            done: Some(done),
        },
        actix_web::http::StatusCode::CREATED,
    )
}
