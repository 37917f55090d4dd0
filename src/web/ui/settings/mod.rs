//! The tenant's settings, for its admins: a hub linking each section, and one module per
//! section. A new section is a module of its own and one more entry in [`SECTIONS`].

pub(super) mod audit;
pub(super) mod branding;
pub(super) mod fields;
pub(super) mod pipelines;
pub(super) mod tokens;
pub(super) mod users;

use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Chrome, render};
use crate::error::ApiError;
use crate::identity::Role;
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::TenantSession;

endpoints! { area: Area::TenantApp;
    GET "/settings" => hub, Access::Tenant(Role::Admin), 200,
        "The settings: a link to each section the caller's role may use", [];
}

/// One section of the settings, as the hub lists it.
#[derive(Debug, Clone, Copy)]
pub struct Section {
    pub label: &'static str,
    /// Below the tenant's base (`/settings/users`).
    pub path: &'static str,
    pub description: &'static str,
    /// The least role the section is offered to (its routes refuse anyone below anyway).
    pub role: Role,
}

/// The sections of the settings, in the hub's order.
pub const SECTIONS: &[Section] = &[
    Section {
        label: "Users and roles",
        path: "/settings/users",
        description: "Invite people, change their roles, deactivate them, make password reset links; seats in use.",
        role: Role::Admin,
    },
    Section {
        label: "API tokens",
        path: "/settings/tokens",
        description: "Tokens for scripts and integrations: make one, see its secret once, revoke it.",
        role: Role::Admin,
    },
    Section {
        label: "Pipelines and stages",
        path: "/settings/pipelines",
        description: "The stages deals move through, their win probabilities, which close a deal.",
        role: Role::Admin,
    },
    Section {
        label: "Custom fields",
        path: "/settings/fields",
        description: "Fields of your own on contacts, companies, deals and activities.",
        role: Role::Admin,
    },
    Section {
        label: "Branding",
        path: "/settings/branding",
        description: "Your colour and logo on every page (a licensed feature).",
        role: Role::Admin,
    },
    Section {
        label: "Audit log",
        path: "/settings/audit",
        description: "Every change made in this tenant: who, what, when, from where.",
        role: Role::Admin,
    },
];

/// Where every settings page puts the navigation's mark.
const NAV_PATH: &str = "/settings";

#[derive(Template)]
#[template(path = "settings.html")]
struct HubPage {
    chrome: Chrome,
    sections: Vec<Section>,
}

async fn hub(session: TenantSession, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    render(&HubPage {
        chrome: Chrome::new(&state, &session, NAV_PATH),
        sections: SECTIONS
            .iter()
            .filter(|s| session.role.at_least(s.role))
            .copied()
            .collect(),
    })
}

/// Unix seconds as RFC 3339, for `<time datetime>` (the page's script localises it).
pub(super) fn when(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// A page that shows a secret (a token, a one-time link): never kept by a cache.
pub(super) fn uncached(mut response: HttpResponse) -> HttpResponse {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `response` with the status of a refusal, when it answers a refused form.
pub(super) fn with_status(
    mut response: HttpResponse,
    status: Option<actix_web::http::StatusCode>,
) -> HttpResponse {
    if let Some(status) = status {
        *response.status_mut() = status;
    }
    response
}

/// The answer to a section's form: back to the section (`path`, below the tenant's base)
/// once `done`, the section's page again with a refusal of the caller's (`refused`), or the
/// server's error.
pub(super) async fn after_form<F, Fut>(
    session: &TenantSession,
    done: Result<(), ApiError>,
    path: &str,
    refused: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(ApiError) -> Fut,
    Fut: Future<Output = Result<HttpResponse, ApiError>>,
{
    match done {
        Ok(()) => Ok(super::see_other(&format!(
            "{}{path}",
            session.current.pages_base()
        ))),
        Err(err) if err.code().status().is_client_error() => refused(err).await,
        Err(err) => Err(err),
    }
}

/// The roles `role` may hand out: its own and those below (only owners make owners).
pub(super) fn roles_up_to(role: Role) -> Vec<&'static str> {
    [Role::Viewer, Role::Member, Role::Admin, Role::Owner]
        .into_iter()
        .filter(|r| role.at_least(*r))
        .map(Role::as_str)
        .collect()
}

/// A refusal's message as a sentence on a page: domain messages start in lower case.
pub(super) fn sentence(error: &ApiError) -> String {
    let text = error.message();
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
