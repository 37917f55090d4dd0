//! `POST /setup`: the first operator of a fresh appliance, optionally with a license and a
//! first tenant and owner, authorised by the one-time token `serve` printed. Once an
//! operator exists, `/setup` answers 404 forever. It takes JSON (the API, scripts) or the
//! setup page's form, which answers a page (see `setup_page`): both run the same setup.

use actix_web::web::Either;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::endpoint::{Access, Area, endpoints};
use super::setup_page;
use crate::error::{ApiError, ErrorCode};
use crate::identity::password::{self, NewPassword};
use crate::identity::{Email, operators, setup};
use crate::provision::{self, Owner};
use crate::tenancy::Slug;

endpoints! { area: Area::Root;
    GET "/setup" => page, Access::Public, 200, "The setup page, while setup is open", [NotFound];
    POST "/setup" => run_setup, Access::Public, 201,
        "One-time setup: the first operator, optionally a license and the first tenant",
        [NotFound, InvalidInput, InvalidPassword, LicenseInvalid];
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetupBody {
    token: String,
    operator: Account,
    /// A license key to install.
    license: Option<String>,
    tenant: Option<FirstTenant>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Account {
    email: String,
    password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FirstTenant {
    slug: String,
    name: String,
    /// The tenant's owner: invited by link, or active at once when a password is given.
    owner_email: Option<String>,
    owner_password: Option<String>,
}

/// The setup form; its script copies the token from the address's fragment into the form
/// (without the script, the form asks for it).
async fn page(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if !state.control_db.run(|conn| setup::is_open(conn)).await? {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    setup_page::form(&SetupForm::default(), None)
}

fn invalid(field: &str, err: impl std::fmt::Display) -> ApiError {
    ApiError::with_message(ErrorCode::InvalidInput, format!("{field}: {err}."))
}

async fn run_setup(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    body: Either<web::Json<SetupBody>, web::Form<SetupForm>>,
) -> Result<HttpResponse, ApiError> {
    match body {
        Either::Left(body) => {
            let created = set_up(&req, &state, body.into_inner()).await?;
            Ok(HttpResponse::Created().json(created))
        }
        Either::Right(form) => {
            let form = form.into_inner();
            match set_up(&req, &state, form.body()).await {
                Ok(created) => setup_page::done(&created),
                Err(err) => setup_page::form(&form, Some(err)),
            }
        }
    }
}

/// Sets up the appliance as `body` asks: what the JSON answer says was made.
async fn set_up(
    req: &actix_web::HttpRequest,
    state: &web::Data<AppState>,
    body: SetupBody,
) -> Result<Value, ApiError> {
    let token = body.token.clone();
    let open = state
        .control_db
        .run(move |conn| setup::accepts(conn, &token))
        .await?;
    if !open {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    super::audit_trail::note_target(req, format!("operator {}", body.operator.email.trim()));
    // Everything that can be checked is checked before anything changes.
    let email: Email = body
        .operator
        .email
        .parse()
        .map_err(|e| invalid("operator.email", e))?;
    let operator_password = NewPassword::new(&body.operator.password, email.as_str())?;
    let hash = web::block(move || password::hash(&operator_password))
        .await
        .map_err(ApiError::internal)??;
    let tenant = match body.tenant {
        Some(t) => Some(checked_tenant(t)?),
        None => None,
    };
    if let Some(key) = body.license {
        let license = std::sync::Arc::clone(&state.license);
        web::block(move || license.install(&key, "setup"))
            .await
            .map_err(ApiError::internal)??;
    }

    let token = body.token;
    let databases = std::sync::Arc::clone(&state.tenant_dbs);
    let license = std::sync::Arc::clone(&state.license);
    let base_url = state.config.base_url();
    let created = state
        .control_db
        .run_as(move |conn| -> Result<_, ApiError> {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(crate::storage::StorageError::from)?;
            // Checked again under the write lock: two setups at once make one operator.
            if !setup::accepts(&tx, &token)? {
                return Err(ApiError::new(ErrorCode::NotFound));
            }
            let operator = operators::insert(&tx, &email, &hash)?;
            setup::close(&tx)?;
            tx.commit().map_err(crate::storage::StorageError::from)?;

            let Some((slug, name, owner)) = tenant else {
                return Ok(json!({ "operator": operator }));
            };
            let owner = owner.as_ref().map(|(email, password)| Owner {
                email,
                password: password.as_ref(),
            });
            let provisioned =
                provision::tenant_with_owner(conn, &databases, &license, &slug, &name, owner)?;
            let tenant = provisioned.tenant;
            let invite_link = provisioned
                .owner_invite
                .map(|l| l.url(&base_url, &tenant.slug));
            Ok(json!({ "operator": operator, "tenant": tenant, "owner_invite_link": invite_link }))
        })
        .await?;
    let mut created = created;
    created["license"] = json!(state.license.effective().state.as_str());
    Ok(created)
}

/// The setup page's form, as posted.
#[derive(Debug, Default, Deserialize)]
pub(super) struct SetupForm {
    #[serde(default)]
    pub(super) token: String,
    #[serde(default)]
    pub(super) email: String,
    #[serde(default)]
    pub(super) password: String,
    #[serde(default)]
    pub(super) license: String,
    #[serde(default)]
    pub(super) slug: String,
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) owner: String,
}

impl SetupForm {
    /// What the form asks for, as the JSON body says it: blank optional fields left out, a
    /// tenant only with a short name (its display name that name when not given).
    fn body(&self) -> SetupBody {
        let given = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
        let tenant = given(&self.slug).map(|slug| FirstTenant {
            name: given(&self.name).unwrap_or_else(|| slug.clone()),
            slug,
            owner_email: given(&self.owner),
            owner_password: None,
        });
        SetupBody {
            token: self.token.trim().to_owned(),
            operator: Account {
                email: self.email.trim().to_owned(),
                password: self.password.clone(),
            },
            license: given(&self.license),
            tenant,
        }
    }
}

type CheckedTenant = (Slug, String, Option<(Email, Option<NewPassword>)>);

fn checked_tenant(t: FirstTenant) -> Result<CheckedTenant, ApiError> {
    let slug: Slug = t.slug.parse().map_err(|e| invalid("tenant.slug", e))?;
    let name = t.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(invalid(
            "tenant.name",
            "must be 1 to 200 printable characters",
        ));
    }
    let owner = match t.owner_email {
        Some(email) => {
            let email: Email = email
                .parse()
                .map_err(|e| invalid("tenant.owner_email", e))?;
            let password = t
                .owner_password
                .map(|p| NewPassword::new(&p, email.as_str()))
                .transpose()
                .map_err(|e| {
                    ApiError::with_message(
                        ErrorCode::InvalidPassword,
                        format!("tenant.owner_password: {e}."),
                    )
                })?;
            Some((email, password))
        }
        None if t.owner_password.is_some() => {
            return Err(invalid(
                "tenant.owner_password",
                "given without owner_email",
            ));
        }
        None => None,
    };
    Ok((slug, name, owner))
}
