//! The tenant API under `/api/v1`, reached by host (`<slug>.<base_domain>` or a tenant's
//! custom domain) or by path prefix (`/t/<slug>/api/v1`): the same routes either way.

pub(crate) mod audit;
pub(crate) mod auth;
mod crm;

pub(crate) use crm::bulk::apply as bulk_change;
pub(crate) use crm::disposition;
pub(crate) use crm::imports::{launch as launch_import, receive as receive_import};
pub(crate) use crm::saved::trashed;
pub(crate) use crm::user_emails;
mod lookup;
mod resolve;
pub(crate) mod tokens;
pub(crate) mod users;

use actix_web::web;

use crate::web::endpoint::{Module, register};

pub use audit::Page as AuditPage;
pub(crate) use auth::{redeem_link, sign_in};
pub(crate) use crm::{Who as CrmCaller, read as crm_read, write as crm_write};
pub use resolve::{Caller, CurrentTenant, TenantSession, authenticate, resolve};

/// The modules of the tenant API.
pub const MODULES: &[Module] = &[
    auth::MODULE,
    users::MODULE,
    tokens::MODULE,
    audit::MODULE,
    crm::CONTACTS,
    crm::COMPANIES,
    crm::DEALS,
    crm::ACTIVITIES,
    crm::LEADS,
    crm::PIPELINES,
    crm::FIELDS,
    crm::FILES,
    crm::EXPORTS,
    crm::BULK,
    crm::MERGE,
    crm::ERASE,
    crm::IMPORTS,
    crm::REPORTS,
    crm::SAVED,
    crm::SEARCH,
    crm::TEAMS,
];

/// The `{id}` of a tenant route. Named, because routes reached by prefix carry `{tenant}`
/// too.
#[derive(Debug, serde::Deserialize)]
pub struct IdParam {
    pub id: String,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("/t/{tenant}").configure(api_and_app))
        .configure(api_and_app);
}

/// The API and the app's pages, by prefix or by host. One scope holds both: actix does not
/// fall through from a scope whose prefix matched to another.
fn api_and_app(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("/api/v1").configure(|scope| register(scope, MODULES)));
    register(cfg, crate::web::ui::MODULES);
}
