//! Tenants in the console: the list, a form that creates one and invites its owner (the
//! invitation link is shown once, and mailed when SMTP is set), and suspend and resume.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::ConsoleChrome;
use super::overview::{TenantRow, tenant_rows};
use crate::error::{ApiError, ErrorCode};
use crate::tenancy::TenantStatus;
use crate::web::AppState;
use crate::web::admin::{OperatorSession, change_status, create_tenant};
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::ui::record_form::{FieldView, Input, Spec, Values, views};
use crate::web::ui::{render, see_other};

endpoints! { area: Area::Console;
    GET "/admin/tenants" => list, Access::Operator, 200, "The tenants page", [];
    POST "/admin/tenants" => create, Access::Operator, 201,
        "Create a tenant from the form, inviting its owner",
        [InvalidInput, SlugTaken, TenantLimitReached, SeatLimitReached, LicenseExpired];
    POST "/admin/tenants/{slug}/suspend" => suspend, Access::Operator, 303,
        "Suspend a tenant; back to the tenants", [TenantNotFound];
    POST "/admin/tenants/{slug}/resume" => resume, Access::Operator, 303,
        "Resume a tenant; back to the tenants", [TenantNotFound];
}

const FIELDS: &[Spec] = &[
    Spec {
        name: "name",
        label: "Name",
        input: Input::Text,
        create_only: false,
    },
    Spec {
        name: "slug",
        label: "Slug (its address: /t/<slug>/)",
        input: Input::Text,
        create_only: false,
    },
    Spec {
        name: "owner_email",
        label: "Owner's e-mail (invited)",
        input: Input::Text,
        create_only: false,
    },
];

struct Made {
    name: String,
    link: Option<String>,
    mailed: bool,
}

#[derive(Template)]
#[template(path = "console_tenants.html")]
struct TenantsPage {
    chrome: ConsoleChrome,
    tenants: Vec<TenantRow>,
    fields: Vec<FieldView>,
    error: Option<String>,
    made: Option<Made>,
}

async fn page(
    state: &web::Data<AppState>,
    operator: &OperatorSession,
    values: &Values,
    refusal: Option<&ApiError>,
    made: Option<Made>,
) -> Result<HttpResponse, ApiError> {
    let (fields, error) = views(FIELDS, values, true, refusal, &[]);
    let mut answer = render(&TenantsPage {
        chrome: ConsoleChrome::new(state, operator, "/admin/tenants"),
        tenants: tenant_rows(state).await?,
        fields,
        error,
        made,
    })?;
    if let Some(err) = refusal {
        *answer.status_mut() = err.code().status();
    }
    Ok(answer)
}

async fn list(
    state: web::Data<AppState>,
    operator: OperatorSession,
) -> Result<HttpResponse, ApiError> {
    page(&state, &operator, &Values::new(), None, None).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTenantForm {
    /// Checked by the gate.
    #[serde(rename = "csrf", default)]
    _csrf: serde::de::IgnoredAny,
    name: String,
    slug: String,
    #[serde(default)]
    owner_email: String,
}

async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    operator: OperatorSession,
    form: web::Form<NewTenantForm>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    let owner = Some(form.owner_email.trim().to_owned()).filter(|e| !e.is_empty());
    match create_tenant(&req, &state, &form.slug, &form.name, owner).await {
        Ok(made) => {
            let made = Made {
                name: made.tenant.name,
                link: made.owner_invite_link,
                mailed: made.mailed,
            };
            let mut answer = page(&state, &operator, &Values::new(), None, Some(made)).await?;
            *answer.status_mut() = actix_web::http::StatusCode::CREATED;
            Ok(answer)
        }
        Err(err) if err.code() != ErrorCode::Internal => {
            let values: Values = [
                ("name".to_owned(), form.name),
                ("slug".to_owned(), form.slug),
                ("owner_email".to_owned(), form.owner_email),
            ]
            .into_iter()
            .collect();
            page(&state, &operator, &values, Some(&err), None).await
        }
        Err(err) => Err(err),
    }
}

#[derive(Debug, Deserialize)]
struct SlugParam {
    slug: String,
}

async fn suspend(
    state: web::Data<AppState>,
    _operator: OperatorSession,
    path: web::Path<SlugParam>,
) -> Result<HttpResponse, ApiError> {
    change_status(&state, &path.slug, TenantStatus::Suspended).await?;
    Ok(see_other("/admin/tenants"))
}

async fn resume(
    state: web::Data<AppState>,
    _operator: OperatorSession,
    path: web::Path<SlugParam>,
) -> Result<HttpResponse, ApiError> {
    change_status(&state, &path.slug, TenantStatus::Active).await?;
    Ok(see_other("/admin/tenants"))
}
