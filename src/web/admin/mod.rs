//! The operator API under `/api/v1/admin`: sign-in, the license, tenants and operators.
//! Every route but sign-in needs an operator session ([`OperatorSession`]).

mod audit;
mod auth;
mod license;
mod operators;
mod tenants;

use actix_web::{FromRequest, HttpMessage as _, HttpRequest, dev::Payload, web};

use super::AppState;
use super::auth::{ADMIN_COOKIE, require_csrf, session_policy};
use super::endpoint::{Module, register};
use crate::error::{ApiError, ErrorCode};
use crate::identity::sessions::{self, Principal};

/// The modules of the operator API.
pub const MODULES: &[Module] = &[
    auth::MODULE,
    audit::MODULE,
    license::MODULE,
    tenants::MODULE,
    operators::MODULE,
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("/api/v1/admin").configure(|scope| register(scope, MODULES)));
}

/// A signed-in operator. Extracting it checks the session and, for writes, the CSRF token.
#[derive(Debug, Clone)]
pub struct OperatorSession {
    pub operator_id: String,
    pub csrf_token: String,
}

impl OperatorSession {
    /// How the audit log names this actor.
    pub fn actor(&self) -> String {
        format!("operator:{}", self.operator_id)
    }
}

/// Authenticates an operator from the session cookie, checking CSRF on writes.
pub async fn authenticate(req: &HttpRequest) -> Result<OperatorSession, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no app state")))?;
    let cookie = req
        .cookie(ADMIN_COOKIE)
        .map(|c| c.value().to_owned())
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated))?;
    let policy = session_policy(&state.config);
    let session = state
        .control_db
        .run(move |conn| sessions::resume(conn, &cookie, policy))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated))?;
    let Principal::Operator { id } = &session.principal else {
        return Err(ApiError::new(ErrorCode::Unauthenticated));
    };
    require_csrf(req, &session)?;
    Ok(OperatorSession {
        operator_id: id.clone(),
        csrf_token: session.csrf_token.clone(),
    })
}

/// The operator the route's gate authenticated (see `endpoint::gate`).
impl FromRequest for OperatorSession {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(req.extensions().get::<Self>().cloned().ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "{} takes an operator but its route is not gated for operators",
                req.path()
            ))
        }))
    }
}
