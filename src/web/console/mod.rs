//! The operator console under `/admin`: sign-in, an overview of the license and the tenants,
//! installing a license key, tenants (create, settings, suspend and resume, archive, delete),
//! operators, the audit log and the system page. Pages like the
//! tenant app's (`web::ui`): on the route table and its gate, forms that post and redirect,
//! refusals as pages; the operator API's functions do the work.

mod audit;
mod license;
mod operators;
mod overview;
mod sign_in;
mod system;
mod tenant;
mod tenants;

use crate::web::AppState;
use crate::web::admin::OperatorSession;
use crate::web::endpoint::Module;
use crate::web::ui::{Banner, NavItem, license_banners};

/// The pages of the console.
pub const MODULES: &[Module] = &[
    sign_in::MODULE,
    overview::MODULE,
    license::MODULE,
    tenants::MODULE,
    tenant::MODULE,
    operators::MODULE,
    audit::MODULE,
    system::MODULE,
];

/// What every console page shows around its content.
#[derive(Debug)]
pub struct ConsoleChrome {
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub banners: Vec<Banner>,
}

const NAV: &[(&str, &str)] = &[
    ("Overview", "/admin"),
    ("License", "/admin/license"),
    ("Tenants", "/admin/tenants"),
    ("Operators", "/admin/operators"),
    ("Audit log", "/admin/audit"),
    ("System", "/admin/system"),
];

impl ConsoleChrome {
    pub fn new(state: &AppState, operator: &OperatorSession, current: &str) -> Self {
        Self {
            csrf: operator.csrf_token.clone(),
            nav: NAV
                .iter()
                .map(|(label, path)| NavItem {
                    label,
                    path,
                    current: *path == current,
                })
                .collect(),
            banners: license_banners(state, true),
        }
    }
}
