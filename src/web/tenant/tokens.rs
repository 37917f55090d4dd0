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
    state.license.effective().feature(Feature::ApiTokens)?;
    let tenant_id = session.current.tenant.id.clone();
    let all = state
        .control_db
        .run_as(move |conn| tokens::list(conn, &tenant_id))
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "tokens": all })))
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
    // Read-only is refused by the route's gate (the table lists `ReadOnly`).
    state.license.effective().feature(Feature::ApiTokens)?;
    let Caller::User { id: user_id } = session.caller.clone() else {
        // A token cannot mint tokens: a leaked one must not be able to outlive its revocation.
        return Err(ApiError::with_message(
            ErrorCode::Forbidden,
            "API tokens are made by signed-in users, not by other tokens.",
        ));
    };
    let NewToken {
        name,
        role,
        expires_in_days,
    } = body.into_inner();
    crate::web::audit_trail::note_target(&req, format!("token {:?} as {role}", name.trim()));
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
    let (token, secret) = state
        .control_db
        .run_as(move |conn| {
            tokens::create(conn, &tenant_id, &name, role, Some(&user_id), expires_at)
        })
        .await?;
    Ok(HttpResponse::Created().json(json!({ "token": token, "secret": secret })))
}

/// Revoking keeps working in every license state: taking access away is never blocked. A
/// token is its maker's, so as with users, only owners touch the tokens of owners.
async fn revoke(
    session: TenantSession,
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<super::IdParam>,
) -> Result<HttpResponse, ApiError> {
    let tenant_id = session.current.tenant.id.clone();
    let id = path.into_inner().id;
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
    crate::web::audit_trail::note_target(&req, format!("token {:?}", token.name));
    if maker_role == Some(Role::Owner) {
        session.require(Role::Owner)?;
    }
    state
        .control_db
        .run_as(move |conn| tokens::revoke(conn, &tenant_id, &id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
