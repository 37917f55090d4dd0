//! Which tenant a request is for, and who is signed in to it. Code that serves a tenant gets
//! a [`CurrentTenant`] and so holds only that tenant; a session of another tenant is treated
//! as if the thing asked for did not exist.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use crate::error::{ApiError, ErrorCode};
use crate::identity::sessions::{self, Principal};
use crate::tenancy::{Slug, Tenant, TenantStatus, registry};
use crate::web::AppState;
use crate::web::auth::{TENANT_COOKIE, require_csrf, session_policy};

/// The tenant a request addresses, active (a suspended tenant answers `tenant_suspended`).
#[derive(Debug, Clone)]
pub struct CurrentTenant {
    pub tenant: Tenant,
    /// Where this tenant's cookies live: its prefix, or the whole host.
    pub cookie_path: String,
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no app state")))
}

/// The request's host name, lower-case, without port.
fn host_name(req: &HttpRequest) -> String {
    let info = req.connection_info();
    let host = info.host();
    let name = if host.starts_with('[') {
        host.split(']').next().map_or(host, |h| &h[1..])
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

async fn resolve(req: &HttpRequest) -> Result<CurrentTenant, ApiError> {
    let state = state(req)?;
    let not_found = || ApiError::new(ErrorCode::TenantNotFound);
    if let Some(text) = req.match_info().get("tenant") {
        let slug = text.parse::<Slug>().map_err(|_| not_found())?;
        let cookie_path = format!("/t/{text}");
        let tenant = state
            .control_db
            .run_as(move |conn| registry::find(conn, &slug))
            .await?
            .ok_or_else(not_found)?;
        return checked(tenant, cookie_path);
    }
    let host = host_name(req);
    let slug = state.config.base_domain.as_deref().and_then(|base| {
        host.strip_suffix(base)
            .and_then(|rest| rest.strip_suffix('.'))
            .and_then(|label| label.parse::<Slug>().ok())
    });
    let tenant = state
        .control_db
        .run_as(move |conn| match slug {
            Some(slug) => registry::find(conn, &slug),
            None => registry::find_by_domain(conn, &host),
        })
        .await?
        .ok_or_else(not_found)?;
    checked(tenant, "/".to_owned())
}

fn checked(tenant: Tenant, cookie_path: String) -> Result<CurrentTenant, ApiError> {
    if tenant.status == TenantStatus::Suspended {
        return Err(ApiError::new(ErrorCode::TenantSuspended));
    }
    Ok(CurrentTenant {
        tenant,
        cookie_path,
    })
}

impl FromRequest for CurrentTenant {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { resolve(&req).await })
    }
}

/// A user signed in to the tenant the request addresses.
#[derive(Debug, Clone)]
pub struct TenantSession {
    pub current: CurrentTenant,
    pub user_id: String,
    pub csrf_token: String,
}

impl FromRequest for TenantSession {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let current = resolve(&req).await?;
            let state = state(&req)?;
            let cookie = req
                .cookie(TENANT_COOKIE)
                .map(|c| c.value().to_owned())
                .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated))?;
            let policy = session_policy(&state.config);
            let session = state
                .control_db
                .run(move |conn| sessions::resume(conn, &cookie, policy))
                .await?
                .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated))?;
            match &session.principal {
                Principal::User { id, tenant_id } if *tenant_id == current.tenant.id => {
                    require_csrf(&req, &session)?;
                    Ok(TenantSession {
                        user_id: id.clone(),
                        csrf_token: session.csrf_token.clone(),
                        current,
                    })
                }
                // Another tenant's session: as far as it can tell, nothing is here.
                Principal::User { .. } => Err(ApiError::new(ErrorCode::NotFound)),
                Principal::Operator { .. } => Err(ApiError::new(ErrorCode::Unauthenticated)),
            }
        })
    }
}
