//! The tenant API under `/api/v1`, reached by host (`<slug>.<base_domain>` or a tenant's
//! custom domain) or by path prefix (`/t/<slug>/api/v1`): the same routes either way.

mod auth;
mod resolve;

use actix_web::web;

pub use resolve::{CurrentTenant, TenantSession};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("/t/{tenant}").configure(api))
        .configure(api);
}

fn api(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("/api/v1").configure(auth::routes));
}
