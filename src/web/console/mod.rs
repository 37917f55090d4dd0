//! The operator console under `/admin`: sign-in, an overview of the license and the tenants,
//! installing a license key, and creating, suspending and resuming tenants. Pages like the
//! tenant app's (`web::ui`): on the route table and its gate, forms that post and redirect,
//! refusals as pages; the operator API's functions do the work.

mod license;
mod overview;
mod sign_in;
mod tenants;

use crate::license::{LicenseState, TrustedKeys};
use crate::web::AppState;
use crate::web::admin::OperatorSession;
use crate::web::endpoint::Module;
use crate::web::ui::{Banner, NavItem};

/// The pages of the console.
pub const MODULES: &[Module] = &[
    sign_in::MODULE,
    overview::MODULE,
    license::MODULE,
    tenants::MODULE,
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
];

impl ConsoleChrome {
    pub fn new(state: &AppState, operator: &OperatorSession, current: &str) -> Self {
        let effective = state.license.effective();
        let mut banners = Vec::new();
        if TrustedKeys::builtin().demo_key_trusted() {
            banners.push(Banner {
                level: "warning",
                text: "This appliance trusts the DEMO vendor key: anyone can issue license keys for it. Not for production use.".to_owned(),
            });
        }
        match effective.state {
            LicenseState::Expired => banners.push(Banner {
                level: "danger",
                text: "The license has expired: every tenant is read-only until a new license key is installed.".to_owned(),
            }),
            LicenseState::Grace => banners.push(Banner {
                level: "danger",
                text: "The license has expired and is in its grace days: install a renewed key before the tenants turn read-only.".to_owned(),
            }),
            LicenseState::Valid if effective.warn_admins() => banners.push(Banner {
                level: "warning",
                text: format!(
                    "The license expires in {} day(s).",
                    effective.days_left().unwrap_or(0)
                ),
            }),
            _ => {}
        }
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
            banners,
        }
    }
}
