//! Static files embedded from `assets/`, served only from an allowlist of file types, with
//! their content type, a content-hash ETag and revalidation on every use (an upgrade changes
//! the bytes, and a browser must never keep the old ones).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rust_embed::RustEmbed;

use super::read_only_resource;
use crate::error::{ApiError, ErrorCode};

/// Public files. Templates and anything else under `assets/` stay private to the binary.
#[derive(RustEmbed)]
#[folder = "assets/"]
#[include = "css/*.css"]
#[include = "js/*.js"]
#[include = "img/*.svg"]
#[include = "img/*.png"]
#[include = "fonts/*.woff2"]
struct PublicAssets;

const CACHE_CONTROL: &str = "public, no-cache";
const WELCOME_PAGE: &str = include_str!("../../assets/pages/welcome.html");

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(read_only_resource("/assets/{path:.+}", asset))
        .service(read_only_resource("/", welcome));
}

/// The appliance's welcome page; on a tenant's own host, its app's dashboard.
async fn welcome(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    if let Some(state) = req.app_data::<web::Data<super::AppState>>() {
        let host = super::forwarded::host(&req);
        if super::hosts::site(state, host.as_deref()).await? == super::hosts::Site::Tenant {
            return Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/dashboard"))
                .finish());
        }
    }
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(WELCOME_PAGE.replace("{{version}}", crate::build_info::VERSION)))
}

async fn asset(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let file = PublicAssets::get(&path).ok_or(ApiError::new(ErrorCode::NotFound))?;
    let hash = file.metadata.sha256_hash();
    let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(&hash[..16]));

    let matches_etag = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if matches_etag {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL));
    if matches_etag {
        return Ok(response.finish());
    }
    let mime = file.metadata.mimetype();
    let content_type = if mime.starts_with("text/") || mime.ends_with("javascript") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    };
    Ok(response
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_str(&content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
        ))
        .body(file.data.into_owned()))
}
