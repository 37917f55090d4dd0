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
    POST "/admin/license/file" => install_file, Access::Operator, 200,
        "Install a license key from an uploaded file (multipart: csrf, key_file)",
        [LicenseInvalid, LicenseExpired, BadRequest];
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
    install_key(&req, &state, &operator, form.into_inner().key).await
}

/// The key file's text: at most one byte more than a key may be, so a larger file is
/// refused as the key it is not, without being read whole.
async fn key_file(parts: &mut actix_multipart::Multipart) -> Result<String, ApiError> {
    use futures_util::StreamExt as _;
    let broken = |e: actix_multipart::MultipartError| {
        ApiError::with_message(
            crate::error::ErrorCode::BadRequest,
            format!("The upload is broken: {e}"),
        )
    };
    let mut bytes = Vec::new();
    while let Some(field) = parts.next().await {
        let mut field = field.map_err(broken)?;
        let wanted = field.name() == Some("key_file");
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(broken)?;
            if wanted && bytes.len() <= crate::license::MAX_KEY_LEN {
                bytes.extend_from_slice(&chunk);
            }
        }
    }
    Ok(String::from_utf8_lossy(&bytes).trim().to_owned())
}

async fn install_file(
    req: HttpRequest,
    state: web::Data<AppState>,
    operator: OperatorSession,
    mut parts: actix_multipart::Multipart,
) -> Result<HttpResponse, ApiError> {
    let key = key_file(&mut parts).await?;
    install_key(&req, &state, &operator, key).await
}

/// Installs `key`, pasted or uploaded: the page says what was installed, or exactly why the
/// key was refused (and the license in force stays).
async fn install_key(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    operator: &OperatorSession,
    key: String,
) -> Result<HttpResponse, ApiError> {
    note_target(req, "license key");
    let license = std::sync::Arc::clone(&state.license);
    let by = operator.actor();
    let typed = key.clone();
    let outcome = web::block(move || license.install(&typed, &by))
        .await
        .map_err(ApiError::internal)?;
    match outcome {
        Ok(installed) => {
            let payload = installed.license.payload();
            note_target(req, format!("license {}", payload.license_id));
            let done = format!(
                "Installed: {} ({}), {} seats, {} tenants.",
                payload.customer, payload.edition, payload.max_seats, payload.max_tenants
            );
            page(state, operator, String::new(), None, Some(done)).await
        }
        Err(refusal) => {
            let err = ApiError::from(refusal);
            let why = format!("{} ({})", err.message(), err.code().as_str());
            let mut answer = page(state, operator, key, Some(why), None).await?;
            *answer.status_mut() = err.code().status();
            Ok(answer)
        }
    }
}
