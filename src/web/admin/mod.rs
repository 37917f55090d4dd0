//! The operator API under `/api/v1/admin`: sign-in, the license, tenants and operators.
//! Every route but sign-in needs an operator session ([`OperatorSession`]).

mod audit;
mod auth;
mod backups;
mod license;
mod operators;
mod tenants;

use actix_web::{FromRequest, HttpMessage as _, HttpRequest, dev::Payload, web};

use super::AppState;
use super::auth::{ADMIN_COOKIE, require_csrf, session_policy};
use super::endpoint::{Module, register};
use crate::error::{ApiError, ErrorCode};
use crate::identity::secret;
use crate::identity::sessions::{self, Freshness, Principal, Session};

/// The modules of the operator API.
pub const MODULES: &[Module] = &[
    auth::MODULE,
    audit::MODULE,
    backups::MODULE,
    license::MODULE,
    tenants::MODULE,
    operators::MODULE,
];

pub(crate) use auth::sign_in as operator_sign_in;
pub(crate) use operators::{add_operator, deactivate_operator};
pub(crate) use tenants::{change_status, create_tenant, delete_tenant, update_tenant};

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
    let session = resume(&state, cookie)
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

/// The live session behind `cookie`: from the callers' cache while it is fresh there (see
/// `web::callers`), else from the database, which also records its use or ends it.
async fn resume(state: &AppState, cookie: String) -> Result<Option<Session>, ApiError> {
    let policy = session_policy(&state.config);
    let hash = secret::well_formed(&cookie).then(|| secret::hash(&cookie));
    let at = sessions::now();
    let (generation, cached) = state.callers.look(|entries| {
        let session = entries.session(hash.as_deref()?)?;
        (session.freshness(at, policy) == Freshness::Fresh).then_some(session)
    });
    if cached.is_some() {
        return Ok(cached);
    }
    let session = state
        .control_db
        .run(move |conn| sessions::resume(conn, &cookie, policy))
        .await?;
    if let (Some(session), Some(hash)) = (&session, hash) {
        let session = session.clone();
        state
            .callers
            .fill(generation, |entries| entries.put_session(hash, session));
    }
    Ok(session)
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
