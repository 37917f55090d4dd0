//! The pages one-time links lead to: a tenant's user sets a password after an invitation or a
//! reset. They need the tenant to exist and be active, like the API they post to.

use actix_web::{HttpResponse, http::header};

use super::endpoint::{Access, Area, endpoints};
use super::tenant::CurrentTenant;

endpoints! { area: Area::Root;
    GET "/t/{tenant}/accept-invite" => set_password, Access::TenantPublic, 200,
        "The page an invitation link opens: set a password", [];
    GET "/t/{tenant}/reset-password" => set_password, Access::TenantPublic, 200,
        "The page a password reset link opens: set a new password", [];
}

const SET_PASSWORD_PAGE: &str = include_str!("../../assets/pages/set-password.html");

/// Text safe inside HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

async fn set_password(current: CurrentTenant) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(SET_PASSWORD_PAGE.replace("{{tenant}}", &escape(&current.tenant.name)))
}
