//! Tenants as operators manage them.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::OperatorSession;
use crate::error::{ApiError, ErrorCode};
use crate::identity::{Email, users};
use crate::provision::{self, Owner};
use crate::tenancy::{Slug, TenantChanges, TenantError, TenantStatus, registry};
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};

endpoints! { area: Area::Admin;
    GET "/tenants" => list, Access::Operator, 200, "Every tenant", [];
    POST "/tenants" => create, Access::Operator, 201,
        "Create a tenant on its own database, optionally inviting its owner",
        [InvalidInput, SlugTaken, TenantLimitReached, SeatLimitReached, LicenseExpired];
    GET "/tenants/{slug}" => show, Access::Operator, 200, "One tenant and its users", [TenantNotFound];
    PATCH "/tenants/{slug}" => update, Access::Operator, 200,
        "Change a tenant's name, seat limit or custom domain (null removes a limit or domain)",
        [TenantNotFound, InvalidInput, DomainTaken, ReadOnly];
    DELETE "/tenants/{slug}" => delete, Access::Operator, 204,
        "Delete a tenant and its database (?confirm=<slug>)", [TenantNotFound, InvalidInput];
    POST "/tenants/{slug}/suspend" => suspend, Access::Operator, 200,
        "Stop the tenant's sign-ins, sessions, API and tokens at once; data is kept",
        [TenantNotFound];
    POST "/tenants/{slug}/resume" => resume, Access::Operator, 200, "Let a suspended tenant back in",
        [TenantNotFound];
    GET "/tenants/{slug}/archive" => archive, Access::Operator, 200,
        "The tenant's whole data as one tar of JSON and CSV files with a manifest (sizes, counts, SHA-256)",
        [TenantNotFound];
}

async fn archive(
    state: web::Data<AppState>,
    operator: OperatorSession,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let slug = slug(&path.into_inner())?;
    let tenant = state
        .control_db
        .run_as(move |conn| {
            registry::find(conn, &slug)
                .map_err(ApiError::from)?
                .ok_or_else(|| ApiError::new(ErrorCode::TenantNotFound))
        })
        .await?;
    crate::web::archive_download::respond(&state, tenant, operator.actor()).await
}

fn slug(text: &str) -> Result<Slug, ApiError> {
    text.parse()
        .map_err(|_| ApiError::new(ErrorCode::TenantNotFound))
}

async fn list(
    state: web::Data<AppState>,
    _operator: OperatorSession,
) -> Result<HttpResponse, ApiError> {
    let tenants = state.control_db.run_as(|conn| registry::list(conn)).await?;
    Ok(HttpResponse::Ok().json(json!({ "tenants": tenants })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTenant {
    slug: String,
    name: String,
    /// Invites this address as the tenant's owner.
    owner_email: Option<String>,
}

/// Creates a tenant (and invites its owner). With an owner, both happen or neither.
async fn create(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    _operator: OperatorSession,
    body: web::Json<NewTenant>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let made = create_tenant(&req, &state, &body.slug, &body.name, body.owner_email).await?;
    Ok(HttpResponse::Created().json(json!({
        "tenant": made.tenant, "owner_invite_link": made.owner_invite_link, "mailed": made.mailed,
    })))
}

/// A tenant just made, with its owner's invitation link (mailed when SMTP is set).
#[derive(Debug)]
pub(crate) struct NewTenantMade {
    pub tenant: crate::tenancy::Tenant,
    pub owner_invite_link: Option<String>,
    pub mailed: bool,
}

/// Creates a tenant with `slug` and `name`, inviting `owner_email` as its owner: what the
/// operator API and the console both do.
pub(crate) async fn create_tenant(
    req: &actix_web::HttpRequest,
    state: &web::Data<AppState>,
    slug: &str,
    name: &str,
    owner_email: Option<String>,
) -> Result<NewTenantMade, ApiError> {
    note_target(req, format!("tenant {}", slug.trim()));
    let slug: Slug = slug
        .parse()
        .map_err(|e| ApiError::with_message(ErrorCode::InvalidInput, format!("slug: {e}.")))?;
    let owner: Option<Email> = owner_email
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e| {
            ApiError::with_message(ErrorCode::InvalidInput, format!("owner_email: {e}."))
        })?;
    let databases = std::sync::Arc::clone(&state.tenant_dbs);
    let license = std::sync::Arc::clone(&state.license);
    let config = std::sync::Arc::clone(&state.config);
    let name = name.to_owned();
    let (tenant, link) = state
        .control_db
        .run_as(move |conn| -> Result<_, ApiError> {
            let owner = owner.as_ref().map(|email| Owner {
                email,
                password: None,
            });
            let provisioned =
                provision::tenant_with_owner(conn, &databases, &license, &slug, &name, owner)?;
            let link = provisioned
                .owner_invite
                .map(|l| l.url(&config.base_url(), &provisioned.tenant.slug));
            Ok((provisioned.tenant, link))
        })
        .await?;
    let mailed = match (&link, owner_email) {
        (Some(link), Some(email)) => {
            let letter = crate::mail::invitation(email.trim(), &tenant.name, "owner", link);
            crate::web::mailer::deliver(state, letter).await
        }
        _ => false,
    };
    Ok(NewTenantMade {
        tenant,
        owner_invite_link: link,
        mailed,
    })
}

async fn show(
    state: web::Data<AppState>,
    _operator: OperatorSession,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let slug = slug(&path)?;
    let tenant = state
        .control_db
        .run_as(move |conn| -> Result<_, ApiError> {
            let tenant = registry::find(conn, &slug)?
                .ok_or_else(|| ApiError::new(ErrorCode::TenantNotFound))?;
            let users = users::list(conn, &tenant.id)?;
            Ok(json!({ "tenant": tenant, "users": users }))
        })
        .await?;
    Ok(HttpResponse::Ok().json(tenant))
}

async fn update(
    state: web::Data<AppState>,
    _operator: OperatorSession,
    path: web::Path<String>,
    body: web::Json<TenantChanges>,
) -> Result<HttpResponse, ApiError> {
    let tenant = update_tenant(&state, &path, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(json!({ "tenant": tenant })))
}

/// Changes the tenant `slug`'s name, seat limit or custom domain: the operator API and the
/// console.
pub(crate) async fn update_tenant(
    state: &web::Data<AppState>,
    slug: &str,
    changes: TenantChanges,
) -> Result<crate::tenancy::Tenant, ApiError> {
    let slug = self::slug(slug)?;
    let config = std::sync::Arc::clone(&state.config);
    Ok(state
        .control_db
        .run_as(move |conn| registry::update(conn, &slug, &changes, &config))
        .await?)
}

async fn set_status(
    state: web::Data<AppState>,
    path: &str,
    status: TenantStatus,
) -> Result<HttpResponse, ApiError> {
    let tenant = change_status(&state, path, status).await?;
    Ok(HttpResponse::Ok().json(json!({ "tenant": tenant })))
}

/// Suspends or resumes the tenant `slug`: the operator API and the console.
pub(crate) async fn change_status(
    state: &web::Data<AppState>,
    slug: &str,
    status: TenantStatus,
) -> Result<crate::tenancy::Tenant, ApiError> {
    let slug = self::slug(slug)?;
    Ok(state
        .control_db
        .run_as(move |conn| registry::set_status(conn, &slug, status))
        .await?)
}

async fn suspend(
    state: web::Data<AppState>,
    _operator: OperatorSession,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_status(state, &path, TenantStatus::Suspended).await
}

async fn resume(
    state: web::Data<AppState>,
    _operator: OperatorSession,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_status(state, &path, TenantStatus::Active).await
}

#[derive(Debug, Deserialize)]
struct Confirm {
    confirm: Option<String>,
}

/// Deletes a tenant and its database. The caller confirms by repeating the slug
/// (`?confirm=<slug>`), as the CLI asks for `--yes`.
async fn delete(
    state: web::Data<AppState>,
    _operator: OperatorSession,
    path: web::Path<String>,
    query: web::Query<Confirm>,
) -> Result<HttpResponse, ApiError> {
    delete_tenant(&state, &path, query.confirm.as_deref()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes the tenant `slug` and its database once `confirm` repeats its slug: the operator
/// API and the console.
pub(crate) async fn delete_tenant(
    state: &web::Data<AppState>,
    slug: &str,
    confirm: Option<&str>,
) -> Result<(), ApiError> {
    let slug = self::slug(slug)?;
    if confirm.map(str::trim) != Some(slug.as_str()) {
        return Err(ApiError::with_message(
            ErrorCode::InvalidInput,
            "Deleting a tenant removes its data for good: repeat its slug to confirm.",
        ));
    }
    let databases = std::sync::Arc::clone(&state.tenant_dbs);
    state
        .control_db
        .run_as(move |conn| -> Result<_, TenantError> { registry::delete(conn, &databases, &slug) })
        .await?;
    Ok(())
}
