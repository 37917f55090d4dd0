//! API tokens: the tenant's tokens (never their secrets), the form to make one — its secret
//! is on the answer page once, with a copy button, and never again — and revoking. The
//! API's functions (`tenant::tokens`) behind forms.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{NAV_PATH, roles_up_to, sentence, uncached, when, with_status};
use crate::error::{ApiError, ErrorCode};
use crate::identity::Role;
use crate::identity::tokens::ApiToken;
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::tokens::{create_token, list_tokens, revoke_token};
use crate::web::tenant::users::list_users;
use crate::web::tenant::{IdParam, TenantSession};
use crate::web::ui::{Chrome, render, see_other};

endpoints! { area: Area::TenantApp;
    GET "/settings/tokens" => page, Access::Tenant(Role::Admin), 200,
        "The tenant's API tokens, with the form to make one", [FeatureNotLicensed];
    POST "/settings/tokens" => create, Access::Tenant(Role::Admin), 200,
        "Make an API token (name, role, days to expiry); the answer shows its secret once",
        [FeatureNotLicensed, InvalidInput, ReadOnly];
    POST "/settings/tokens/{id}/revoke" => revoke, Access::Tenant(Role::Admin), 303,
        "Revoke a token; it stops working at once", [NotFound];
}

/// A token as a row of the table.
struct Row {
    token: ApiToken,
    maker: String,
    created: String,
    expires: Option<String>,
    last_used: Option<String>,
}

#[derive(Template)]
#[template(path = "settings_tokens.html")]
struct TokensPage {
    chrome: Chrome,
    rows: Vec<Row>,
    roles: Vec<&'static str>,
    /// The token just made and its secret: on this answer only.
    made: Option<(ApiToken, String)>,
    error: Option<String>,
    form: TokenForm,
}

async fn tokens_page(
    state: &web::Data<AppState>,
    session: &TenantSession,
    made: Option<(ApiToken, String)>,
    form: TokenForm,
    error: Option<ApiError>,
) -> Result<HttpResponse, ApiError> {
    let tokens = list_tokens(state, session).await?;
    let makers: HashMap<String, String> = list_users(state, session)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect();
    let rows = tokens
        .into_iter()
        .map(|token| Row {
            maker: token
                .created_by
                .as_ref()
                .and_then(|id| makers.get(id).cloned())
                .unwrap_or_else(|| "—".to_owned()),
            created: when(token.created_at),
            expires: token.expires_at.map(when),
            last_used: token.last_used_at.map(when),
            token,
        })
        .collect();
    let status = error.as_ref().map(|e| e.code().status());
    let page = TokensPage {
        chrome: Chrome::new(state, session, NAV_PATH),
        rows,
        roles: roles_up_to(session.role),
        made,
        error: error.map(|e| sentence(&e)),
        form,
    };
    Ok(uncached(with_status(render(&page)?, status)))
}

async fn page(
    session: TenantSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    tokens_page(&state, &session, None, TokenForm::default(), None).await
}

#[derive(Debug, Default, Deserialize)]
struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    /// Days until it stops working; empty for never.
    #[serde(default)]
    expires_in_days: String,
}

impl TokenForm {
    fn role(&self) -> Result<Role, ApiError> {
        self.role.parse().map_err(|e: String| {
            ApiError::with_message(ErrorCode::InvalidInput, format!("role: {e}."))
        })
    }

    fn days(&self) -> Result<Option<u32>, ApiError> {
        let text = self.expires_in_days.trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse().map(Some).map_err(|_| {
            ApiError::with_message(
                ErrorCode::InvalidInput,
                "Expires in: a whole number of days, 1 to 3650, or empty for never.",
            )
        })
    }
}

/// The answer is the page itself, with the secret on it: a redirect would have to carry
/// the secret somewhere it could be seen again.
async fn create(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    let made = match (form.role(), form.days()) {
        (Ok(role), Ok(days)) => {
            create_token(&req, &state, &session, form.name.clone(), role, days).await
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match made {
        Ok(made) => tokens_page(&state, &session, Some(made), TokenForm::default(), None).await,
        Err(error) => tokens_page(&state, &session, None, form, Some(error)).await,
    }
}

async fn revoke(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    match revoke_token(&req, &state, &session, path.into_inner().id).await {
        Ok(_) => Ok(see_other(&format!(
            "{}/settings/tokens",
            session.current.pages_base()
        ))),
        Err(error) if error.code() == ErrorCode::NotFound => Err(error),
        Err(error) => tokens_page(&state, &session, None, TokenForm::default(), Some(error)).await,
    }
}
