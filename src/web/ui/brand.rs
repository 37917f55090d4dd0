//! A tenant's brand as its pages wear it: `brand.css` (its accent colour) and `brand/logo`
//! (its logo, or Holdfast's). Served on the sign-in page too, so anyone who can reach the
//! tenant may read them — they say nothing the sign-in page does not show. Without the
//! licensed `branding` feature both are Holdfast's own. Each answer carries an ETag and is
//! revalidated on use, so a changed brand shows on the next page.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest as _, Sha256};

use crate::crm::branding::{self, Branding};
use crate::error::ApiError;
use crate::license::Feature;
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::CurrentTenant;

endpoints! { area: Area::TenantApp;
    GET "/brand.css" => stylesheet, Access::TenantPublic, 200,
        "The tenant's brand colour as a stylesheet (empty without one)", [];
    GET "/brand/logo" => logo, Access::TenantPublic, 200,
        "The tenant's logo (Holdfast's, by redirect, without one)", [];
}

/// The tenant's brand, when the license includes branding.
pub(super) async fn brand_of(
    state: &web::Data<AppState>,
    current: &CurrentTenant,
) -> Result<Branding, ApiError> {
    if state
        .license
        .effective()
        .feature(Feature::Branding)
        .is_err()
    {
        return Ok(Branding::default());
    }
    let id: crate::tenancy::TenantId = current.tenant.id.parse().map_err(ApiError::internal)?;
    let databases = std::sync::Arc::clone(&state.tenant_dbs);
    web::block(move || -> Result<Branding, ApiError> {
        let db = databases.get(&id).map_err(ApiError::internal)?;
        let conn = db.conn().map_err(ApiError::internal)?;
        Ok(branding::get(&conn)?)
    })
    .await
    .map_err(ApiError::internal)?
}

/// `body` with its ETag, or `304` when the caller has this version already.
fn revalidated(req: &HttpRequest, content_type: &str, body: Vec<u8>) -> HttpResponse {
    let etag = format!("\"{:x}\"", Sha256::digest(&body));
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag));
    let mut answer = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    answer
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    if fresh {
        answer.finish()
    } else {
        answer.content_type(content_type).body(body)
    }
}

async fn stylesheet(
    req: HttpRequest,
    state: web::Data<AppState>,
    current: CurrentTenant,
) -> Result<HttpResponse, ApiError> {
    let brand = brand_of(&state, &current).await?;
    let css = branding::stylesheet(&brand).into_bytes();
    Ok(revalidated(&req, "text/css; charset=utf-8", css))
}

async fn logo(
    req: HttpRequest,
    state: web::Data<AppState>,
    current: CurrentTenant,
) -> Result<HttpResponse, ApiError> {
    match brand_of(&state, &current).await?.logo {
        Some(logo) => Ok(revalidated(&req, logo.content_type, logo.bytes)),
        None => Ok(HttpResponse::Found()
            .insert_header((header::LOCATION, "/assets/img/holdfast.svg"))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .finish()),
    }
}
