//! What every page of the tenant app shows around its content: the tenant, the navigation,
//! who is signed in (and the form to sign out, with its CSRF token), and the license banners.

use crate::identity::Role;
use crate::license::{LicenseState, TrustedKeys};
use crate::web::AppState;
use crate::web::tenant::TenantSession;

/// One entry of the navigation.
#[derive(Debug)]
pub struct NavItem {
    pub label: &'static str,
    pub path: &'static str,
    pub current: bool,
}

/// A banner above the page: `warning` or `danger`.
#[derive(Debug)]
pub struct Banner {
    pub level: &'static str,
    pub text: String,
}

/// The frame of a page.
#[derive(Debug)]
pub struct Chrome {
    pub tenant_name: String,
    /// Prefix of the tenant's pages (`/t/<slug>`, or empty on the tenant's own host).
    pub base: String,
    pub user_name: String,
    pub role: &'static str,
    /// May this caller change records? Edit controls are offered only then (the server
    /// refuses anyway).
    pub can_edit: bool,
    /// May this caller manage the tenant's data (import, settings)?
    pub is_admin: bool,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub banners: Vec<Banner>,
}

/// The navigation: label, path, and the role it is offered to.
const NAV: &[(&str, &str, Role)] = &[
    ("Dashboard", "/", Role::Viewer),
    ("Contacts", "/contacts", Role::Viewer),
    ("Companies", "/companies", Role::Viewer),
    ("Deals", "/deals", Role::Viewer),
    ("Tasks", "/tasks", Role::Viewer),
    ("Calendar", "/calendar", Role::Viewer),
    ("Import", "/imports", Role::Admin),
    ("Trash", "/trash", Role::Member),
    ("Settings", "/settings", Role::Admin),
];

impl Chrome {
    pub fn new(state: &AppState, session: &TenantSession, current_path: &str) -> Self {
        let nav = NAV
            .iter()
            .filter(|(_, _, role)| session.role.at_least(*role))
            .map(|(label, path, _)| NavItem {
                label,
                path,
                current: *path == current_path,
            })
            .collect();
        Self {
            tenant_name: session.current.tenant.name.clone(),
            base: session.current.pages_base().to_owned(),
            user_name: session
                .user
                .as_ref()
                .map_or_else(String::new, |u| u.email.clone()),
            role: session.role.as_str(),
            can_edit: state.license.effective().may_write().is_ok()
                && session.role.at_least(Role::Member),
            is_admin: session.role.at_least(Role::Admin),
            csrf: session.csrf_token.clone().unwrap_or_default(),
            nav,
            banners: license_banners(state, session.role.at_least(Role::Admin)),
        }
    }
}

/// The license banners: the demo key and read-only to everyone (they explain what people
/// see), expiry, grace and usage over the license's caps to those who can do something
/// about it (`renews`: operators, and a tenant's admins and owners).
pub fn license_banners(state: &AppState, renews: bool) -> Vec<Banner> {
    let effective = state.license.effective();
    let mut banners = Vec::new();
    if TrustedKeys::builtin().demo_key_trusted() {
        banners.push(Banner {
            level: "warning",
            text: "This appliance trusts the DEMO vendor key: anyone can issue license keys for it. Not for production use.".to_owned(),
        });
    }
    let usage = state.license.last_usage();
    if renews && effective.over_cap(usage) {
        banners.push(Banner {
            level: "danger",
            text: format!(
                "This appliance uses {} seat(s) and {} tenant(s); the license allows {} and {}. Nothing was removed, but no user or tenant can be added until usage is back within the license.",
                usage.seats, usage.tenants, effective.max_seats, effective.max_tenants
            ),
        });
    }
    match effective.state {
        LicenseState::Expired => banners.push(Banner {
            level: "danger",
            text: "The license has expired: Holdfast is read-only until a new license key is installed.".to_owned(),
        }),
        LicenseState::Grace if renews => banners.push(Banner {
            level: "danger",
            text: format!(
                "The license has expired; everything works for {} more day(s) of grace, then Holdfast turns read-only.",
                effective
                    .grace_ends_at()
                    .map_or(0, |end| (end - effective.now).whole_days().max(0))
            ),
        }),
        LicenseState::Valid if renews && effective.warn_admins() => {
            banners.push(Banner {
                level: "warning",
                text: format!(
                    "The license expires in {} day(s).",
                    effective.days_left().unwrap_or(0)
                ),
            });
        }
        _ => {}
    }
    banners
}

/// `text` safe inside a URL's query string.
pub fn query_escape(text: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}
