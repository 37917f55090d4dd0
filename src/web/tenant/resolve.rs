//! Which tenant a request is for, and who is signed in to it. Code that serves a tenant gets
//! a [`CurrentTenant`] and so holds only that tenant; a session of another tenant is treated
//! as if the thing asked for did not exist.

use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, dev::Payload, web};

use super::lookup::{self, Addressed, Credential, Found, Presented};
use crate::error::{ApiError, ErrorCode};
use crate::identity::sessions::Principal;
use crate::identity::{Role, User};
use crate::license::Feature;
use crate::tenancy::{Tenant, TenantStatus};
use crate::web::AppState;
use crate::web::auth::{TENANT_COOKIE, require_csrf, session_policy};

/// The tenant a request addresses, active (a suspended tenant answers `tenant_suspended`).
#[derive(Debug, Clone)]
pub struct CurrentTenant {
    pub tenant: Tenant,
    /// Where this tenant's cookies live: its prefix, or the whole host.
    pub cookie_path: String,
}

impl CurrentTenant {
    /// Where this tenant's pages live: `/t/<slug>` when reached by prefix, nothing on its own
    /// host.
    pub fn pages_base(&self) -> &str {
        self.cookie_path.trim_end_matches('/')
    }
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no app state")))
}

/// The tenant a request addresses, by prefix or host; active, or refused.
pub async fn resolve(req: &HttpRequest) -> Result<CurrentTenant, ApiError> {
    let state = state(req)?;
    let (addressed, cookie_path) = Addressed::of(req, &state.config)?;
    let tenant = lookup::tenant(&state, addressed)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::TenantNotFound))?;
    checked(tenant, cookie_path)
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

/// The tenant the route's gate resolved; on a route for signed-in callers, theirs.
impl FromRequest for CurrentTenant {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let extensions = req.extensions();
        let found = extensions
            .get::<Self>()
            .cloned()
            .or_else(|| extensions.get::<TenantSession>().map(|s| s.current.clone()));
        std::future::ready(found.ok_or_else(|| ungated(req)))
    }
}

fn ungated(req: &HttpRequest) -> ApiError {
    ApiError::internal(anyhow::anyhow!(
        "{} takes a tenant but its route is not gated for tenants",
        req.path()
    ))
}

/// Who is calling a tenant route: a signed-in user (cookie session) or an API token, of the
/// tenant the request addresses.
#[derive(Debug, Clone)]
pub enum Caller {
    User { id: String },
    Token { id: String },
}

/// An authenticated caller of the tenant the request addresses, with their role.
#[derive(Debug, Clone)]
pub struct TenantSession {
    pub current: CurrentTenant,
    pub caller: Caller,
    pub role: Role,
    /// The session's CSRF token (cookie sessions only).
    pub csrf_token: Option<String>,
    /// The signed-in user, as read when the request was authenticated (cookie sessions only).
    pub user: Option<User>,
    /// The call's audit entry, for its write transaction to commit with the change (set by
    /// the gate on calls that may change state).
    pub audit: Option<crate::web::audit_trail::EntryInTransaction>,
}

impl TenantSession {
    /// Refuses with `forbidden` unless the caller's role includes `minimum`.
    pub fn require(&self, minimum: Role) -> Result<(), ApiError> {
        if self.role.at_least(minimum) {
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::Forbidden))
        }
    }

    /// The signed-in user's id; token callers have none.
    pub fn user_id(&self) -> Option<&str> {
        match &self.caller {
            Caller::User { id } => Some(id),
            Caller::Token { .. } => None,
        }
    }

    /// How the audit log names this actor.
    pub fn actor(&self) -> String {
        match &self.caller {
            Caller::User { id } => format!("user:{id}"),
            Caller::Token { id } => format!("token:{id}"),
        }
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// Authenticates the caller of a tenant route: an API token (`Authorization: Bearer`) or a
/// session cookie with, on writes, its CSRF token. This runs before every tenant request, so
/// the tenant, the token or session and the user come from the callers' cache when it holds
/// them, else in one blocking call (see `lookup`).
pub async fn authenticate(req: &HttpRequest) -> Result<TenantSession, ApiError> {
    let state = state(req)?;
    let (addressed, cookie_path) = Addressed::of(req, &state.config)?;
    let credential = if let Some(token) = bearer(req) {
        Credential::token(token)
    } else if let Some(cookie) = req.cookie(TENANT_COOKIE) {
        Credential::cookie(cookie.value().to_owned())
    } else {
        Credential::Nothing
    };
    let policy = session_policy(&state.config);
    let Found { tenant, presented } = lookup::caller(&state, addressed, credential, policy)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::TenantNotFound))?;
    let current = checked(tenant, cookie_path)?;
    match presented {
        Some(Presented::Token(holder)) => {
            let holder = holder.ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated))?;
            if holder.tenant_id != current.tenant.id {
                // Another tenant's token: as far as it can tell, nothing is here.
                return Err(ApiError::new(ErrorCode::NotFound));
            }
            // A token keeps working for reads after a license lapses, but only while the
            // license includes tokens at all.
            state.license.effective().feature(Feature::ApiTokens)?;
            Ok(TenantSession {
                current,
                caller: Caller::Token { id: holder.id },
                role: holder.role,
                csrf_token: None,
                user: None,
                audit: None,
            })
        }
        Some(Presented::Session(Some((session, user)))) => {
            let Some(user) = user else {
                return Err(match session.principal {
                    // Another tenant's session: as far as it can tell, nothing is here.
                    Principal::User { .. } => ApiError::new(ErrorCode::NotFound),
                    Principal::Operator { .. } => ApiError::new(ErrorCode::Unauthenticated),
                });
            };
            require_csrf(req, &session)?;
            Ok(TenantSession {
                current,
                caller: Caller::User {
                    id: user.id.clone(),
                },
                role: user.role,
                csrf_token: Some(session.csrf_token),
                user: Some(user),
                audit: None,
            })
        }
        Some(Presented::Session(None) | Presented::Nothing) | None => {
            Err(ApiError::new(ErrorCode::Unauthenticated))
        }
    }
}

/// The caller the route's gate authenticated (see `endpoint::gate`).
impl FromRequest for TenantSession {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<Self>()
                .cloned()
                .ok_or_else(|| ungated(req)),
        )
    }
}
