//! Branding, for a tenant's admins when the license includes it: the accent colour (only
//! one white text stays readable on) and a logo (a small raster image), shown on every page
//! of the tenant and its sign-in page through `brand.css` and `brand/logo`.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::StreamExt as _;
use serde::Deserialize;

use crate::crm::CrmError;
use crate::crm::branding::{self, MAX_LOGO_BYTES};
use crate::error::{ApiError, ErrorCode};
use crate::identity::Role;
use crate::license::Feature;
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{TenantSession, crm_read as read, crm_write as write};
use crate::web::ui::{Chrome, render};

endpoints! { area: Area::TenantApp;
    GET "/settings/branding" => show, Access::Tenant(Role::Admin), 200,
        "The tenant's brand: accent colour and logo", [];
    POST "/settings/branding" => set_accent, Access::Tenant(Role::Admin), 303,
        "Set or clear the accent colour", [InvalidInput, FeatureNotLicensed, ReadOnly];
    POST "/settings/branding/logo" => set_logo, Access::Tenant(Role::Admin), 303,
        "Upload the logo (multipart: csrf, logo)", [InvalidInput, BadRequest, FeatureNotLicensed, ReadOnly];
    POST "/settings/branding/logo/delete" => remove_logo, Access::Tenant(Role::Admin), 303,
        "Go back to Holdfast's logo", [FeatureNotLicensed, ReadOnly];
}

#[derive(Template)]
#[template(path = "settings_branding.html")]
struct BrandingPage {
    chrome: Chrome,
    licensed: bool,
    accent: String,
    has_logo: bool,
    max_logo_kb: usize,
    error: Option<String>,
}

async fn page(
    session: &TenantSession,
    state: &web::Data<AppState>,
    refusal: Option<ApiError>,
) -> Result<HttpResponse, ApiError> {
    let licensed = state.license.effective().feature(Feature::Branding).is_ok();
    let brand = read(state, session, |conn, _| branding::get(conn)).await?;
    let status = refusal.as_ref().map(|e| e.code().status());
    let answer = render(&BrandingPage {
        chrome: Chrome::new(state, session, "/settings"),
        licensed,
        accent: brand.accent.unwrap_or_default(),
        has_logo: brand.logo.is_some(),
        max_logo_kb: MAX_LOGO_BYTES / 1024,
        error: refusal.map(|e| e.message().to_owned()),
    })?;
    Ok(super::with_status(answer, status))
}

async fn show(
    session: TenantSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    page(&session, &state, None).await
}

/// Does one change when the license includes branding; back to the page, or the page with
/// the refusal.
async fn change<F>(
    session: &TenantSession,
    state: &web::Data<AppState>,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&rusqlite::Connection) -> Result<(), CrmError> + Send + 'static,
{
    let done = match state.license.effective().feature(Feature::Branding) {
        Ok(()) => write(state, session, move |conn, _| work(conn)).await,
        Err(refusal) => Err(refusal.into()),
    };
    super::after_form(session, done, "/settings/branding", |err| {
        page(session, state, Some(err))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccentForm {
    #[serde(rename = "csrf", default)]
    _csrf: serde::de::IgnoredAny,
    #[serde(default)]
    accent: String,
    /// "Use Holdfast's colour" instead of saving one.
    reset: Option<String>,
}

async fn set_accent(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<AccentForm>,
) -> Result<HttpResponse, ApiError> {
    note_target(&req, "branding: accent colour".to_owned());
    let form = form.into_inner();
    let accent = form.reset.is_none().then_some(form.accent);
    change(&session, &state, move |conn| {
        branding::set_accent(conn, accent.as_deref())
    })
    .await
}

/// The `logo` part of the upload, at most one byte more than a logo may be (so that a
/// larger one is refused without being read whole).
async fn logo_part(parts: &mut Multipart) -> Result<Vec<u8>, ApiError> {
    let broken = |e: actix_multipart::MultipartError| {
        ApiError::with_message(ErrorCode::BadRequest, format!("The upload is broken: {e}"))
    };
    while let Some(field) = parts.next().await {
        let mut field = field.map_err(broken)?;
        if field.name() != Some("logo") {
            while field.next().await.is_some() {}
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            bytes.extend_from_slice(&chunk.map_err(broken)?);
            if bytes.len() > MAX_LOGO_BYTES {
                break;
            }
        }
        return Ok(bytes);
    }
    Ok(Vec::new())
}

async fn set_logo(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    mut parts: Multipart,
) -> Result<HttpResponse, ApiError> {
    note_target(&req, "branding: logo".to_owned());
    let bytes = match logo_part(&mut parts).await {
        Ok(bytes) => bytes,
        Err(err) => return page(&session, &state, Some(err)).await,
    };
    change(&session, &state, move |conn| {
        branding::set_logo(conn, &bytes)
    })
    .await
}

async fn remove_logo(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    note_target(&req, "branding: logo".to_owned());
    change(&session, &state, branding::remove_logo).await
}
