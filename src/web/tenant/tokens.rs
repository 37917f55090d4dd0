//! API tokens (licensed feature `api_tokens`): tenant admins make them for scripts, see them
//! once, and revoke them.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use super::{Caller, TenantSession};
use crate::error::{ApiError, ErrorCode};
use crate::identity::{Role, tokens};
use crate::license::Feature;
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};

endpoints! { area: Area::Tenant;
    GET "/tokens" => list, Access::Tenant(Role::Admin), 200, "The tenant's API tokens (never their secrets)",
        [FeatureNotLicensed];
    POST "/tokens" => create, Access::Tenant(Role::Admin), 201,
        "Make an API token with a role and an optional expiry; its secret is shown once",
        [FeatureNotLicensed, InvalidInput, ReadOnly];
    DELETE "/tokens/{id}" => revoke, Access::Tenant(Role::Admin), 204,
        "Revoke a token; it stops working at once (an owner's tokens, only owners)", [NotFound];
}

async fn list(
    session: TenantSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let all = list_tokens(&state, &session).await?;
    Ok(HttpResponse::Ok().json(json!({ "tokens": all })))
}

/// The tokens of the caller's tenant, newest first (never their secrets).
pub(crate) async fn list_tokens(
    state: &web::Data<AppState>,
    session: &TenantSession,
) -> Result<Vec<tokens::ApiToken>, ApiError> {
    state.license.effective().feature(Feature::ApiTokens)?;
    let tenant_id = session.current.tenant.id.clone();
    Ok(state
        .control_db
        .run_as(move |conn| tokens::list(conn, &tenant_id))
        .await?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    role: Role,
    /// Days until the token stops working; without it, it lasts until revoked.
    expires_in_days: Option<u32>,
}

async fn create(
    session: TenantSession,
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<NewToken>,
) -> Result<HttpResponse, ApiError> {
    let NewToken {
        name,
        role,
        expires_in_days,
    } = body.into_inner();
    let (token, secret) = create_token(&req, &state, &session, name, role, expires_in_days).await?;
    Ok(HttpResponse::Created().json(json!({ "token": token, "secret": secret })))
}

/// Makes a token of the caller's tenant with a role no higher than the caller's, lasting
/// `expires_in_days` (1 to 3650) or until revoked: the token and its secret, shown once.
/// Only signed-in users make tokens. The API's and the pages' way alike.
pub(crate) async fn create_token(
    req: &actix_web::HttpRequest,
    state: &web::Data<AppState>,
    session: &TenantSession,
    name: String,
    role: Role,
    expires_in_days: Option<u32>,
) -> Result<(tokens::ApiToken, String), ApiError> {
    // Read-only is refused by the route's gate (the table lists `ReadOnly`).
    state.license.effective().feature(Feature::ApiTokens)?;
    let Caller::User { id: user_id } = session.caller.clone() else {
        // A token cannot mint tokens: a leaked one must not be able to outlive its revocation.
        return Err(ApiError::with_message(
            ErrorCode::Forbidden,
            "API tokens are made by signed-in users, not by other tokens.",
        ));
    };
    crate::web::audit_trail::note_target(req, format!("token {:?} as {role}", name.trim()));
    if !session.role.at_least(role) {
        return Err(ApiError::with_message(
            ErrorCode::Forbidden,
            "A token cannot have a role above its maker's.",
        ));
    }
    let expires_at = match expires_in_days {
        Some(0 | 3651..) => {
            return Err(ApiError::with_message(
                ErrorCode::InvalidInput,
                "expires_in_days: must be 1 to 3650.",
            ));
        }
        Some(days) => Some(OffsetDateTime::now_utc().unix_timestamp() + i64::from(days) * 86_400),
        None => None,
    };
    let tenant_id = session.current.tenant.id.clone();
    Ok(state
        .control_db
        .run_as(move |conn| {
            tokens::create(conn, &tenant_id, &name, role, Some(&user_id), expires_at)
        })
        .await?)
}

/// Revoking keeps working in every license state: taking access away is never blocked.
async fn revoke(
    session: TenantSession,
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<super::IdParam>,
) -> Result<HttpResponse, ApiError> {
    revoke_token(&req, &state, &session, path.into_inner().id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Revokes token `id` of the caller's tenant; it stops working at once. A token is its
/// maker's, so as with users, only owners touch the tokens of owners. The API's and the
/// pages' way alike.
pub(crate) async fn revoke_token(
    req: &actix_web::HttpRequest,
    state: &web::Data<AppState>,
    session: &TenantSession,
    id: String,
) -> Result<tokens::ApiToken, ApiError> {
    let tenant_id = session.current.tenant.id.clone();
    let (token, maker_role) = {
        let (tenant_id, id) = (tenant_id.clone(), id.clone());
        state
            .control_db
            .run_as(move |conn| -> Result<_, tokens::TokenError> {
                let token =
                    tokens::find(conn, &tenant_id, &id)?.ok_or(tokens::TokenError::NotFound)?;
                let maker_role = tokens::maker_role(conn, &token)?;
                Ok((token, maker_role))
            })
            .await?
    };
    crate::web::audit_trail::note_target(req, format!("token {:?}", token.name));
    if maker_role == Some(Role::Owner) {
        session.require(Role::Owner)?;
    }
    Ok(state
        .control_db
        .run_as(move |conn| tokens::revoke(conn, &tenant_id, &id))
        .await?)
}
