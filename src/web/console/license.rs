//! Installing a license key from the console. A refused key says exactly why (the refusal's
//! code and reason), and the license in force stays.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::ConsoleChrome;
use crate::error::ApiError;
use crate::web::AppState;
use crate::web::admin::OperatorSession;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::ui::render;

endpoints! { area: Area::Console;
    GET "/admin/license" => show, Access::Operator, 200, "The license page", [];
    POST "/admin/license" => install, Access::Operator, 200,
        "Install a license key from the form; a refused key leaves the license unchanged",
        [LicenseInvalid, LicenseExpired];
}

#[derive(Template)]
#[template(path = "console_license.html")]
struct LicensePage {
    chrome: ConsoleChrome,
    state: String,
    customer: String,
    key: String,
    error: Option<String>,
    done: Option<String>,
}

async fn page(
    state: &web::Data<AppState>,
    operator: &OperatorSession,
    key: String,
    error: Option<String>,
    done: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let license = super::overview::license_view(state).await?;
    render(&LicensePage {
        chrome: ConsoleChrome::new(state, operator, "/admin/license"),
        state: license.state,
        customer: if license.customer == "—" {
            String::new()
        } else {
            license.customer
        },
        key,
        error,
        done,
    })
}

async fn show(
    state: web::Data<AppState>,
    operator: OperatorSession,
) -> Result<HttpResponse, ApiError> {
    page(&state, &operator, String::new(), None, None).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyForm {
    /// Checked by the gate.
    #[serde(rename = "csrf", default)]
    _csrf: serde::de::IgnoredAny,
    key: String,
}

async fn install(
    req: HttpRequest,
    state: web::Data<AppState>,
    operator: OperatorSession,
    form: web::Form<KeyForm>,
) -> Result<HttpResponse, ApiError> {
    let key = form.into_inner().key;
    note_target(&req, "license key");
    let license = std::sync::Arc::clone(&state.license);
    let by = operator.actor();
    let typed = key.clone();
    let outcome = web::block(move || license.install(&typed, &by))
        .await
        .map_err(ApiError::internal)?;
    match outcome {
        Ok(installed) => {
            let payload = installed.license.payload();
            note_target(&req, format!("license {}", payload.license_id));
            let done = format!(
                "Installed: {} ({}), {} seats, {} tenants.",
                payload.customer, payload.edition, payload.max_seats, payload.max_tenants
            );
            page(&state, &operator, String::new(), None, Some(done)).await
        }
        Err(refusal) => {
            let err = ApiError::from(refusal);
            let why = format!("{} ({})", err.message(), err.code().as_str());
            let mut answer = page(&state, &operator, key, Some(why), None).await?;
            *answer.status_mut() = err.code().status();
            Ok(answer)
        }
    }
}
