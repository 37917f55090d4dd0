//! The console's overview: the license in force, this appliance's instance id, and every
//! tenant with its users.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::ConsoleChrome;
use crate::error::ApiError;
use crate::identity::users;
use crate::tenancy::{TenantStatus, registry};
use crate::web::AppState;
use crate::web::admin::OperatorSession;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::ui::render;

endpoints! { area: Area::Console;
    GET "/admin" => overview, Access::Operator, 200, "The console's overview", [];
}

pub(super) struct LicenseView {
    pub state: String,
    pub customer: String,
    pub edition: String,
    pub seats: String,
    pub tenants: String,
    pub expires: String,
    pub days_left: String,
    pub features: String,
    pub instance_id: String,
}

/// A tenant as the console's tables show it, with the button that suspends or resumes it.
pub(super) struct TenantRow {
    pub name: String,
    pub slug: String,
    pub status: &'static str,
    pub users: usize,
    /// Active users, and the tenant's seat limit where it has one.
    pub seats: String,
    pub database_size: String,
    pub toggle: &'static str,
    pub toggle_label: &'static str,
}

#[derive(Template)]
#[template(path = "console_overview.html")]
struct OverviewPage {
    chrome: ConsoleChrome,
    license: LicenseView,
    tenants: Vec<TenantRow>,
}

/// The license in force, as the overview shows it.
pub(super) async fn license_view(state: &web::Data<AppState>) -> Result<LicenseView, ApiError> {
    let license = std::sync::Arc::clone(&state.license);
    let status = state
        .control_db
        .run_as(move |conn| -> Result<_, ApiError> {
            Ok(license.status(crate::appliance::usage(conn)?))
        })
        .await?;
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "—".to_owned());
    Ok(LicenseView {
        state: status.state.replace('_', " "),
        customer: or_dash(status.customer),
        edition: or_dash(status.edition),
        seats: format!("{} of {}", status.seats_used, status.seats_cap),
        tenants: format!("{} of {}", status.tenants_used, status.tenants_cap),
        expires: status.expires_at.unwrap_or_else(|| "never".to_owned()),
        days_left: status
            .days_left
            .map_or_else(|| "—".to_owned(), |d| d.to_string()),
        features: if status.features.is_empty() {
            "none".to_owned()
        } else {
            status.features.join(", ")
        },
        instance_id: status.instance_id,
    })
}

/// Every tenant with its number of users.
pub(super) async fn tenant_rows(state: &web::Data<AppState>) -> Result<Vec<TenantRow>, ApiError> {
    let sizes = state.clone();
    state
        .control_db
        .run_as(move |conn| -> Result<_, ApiError> {
            registry::list(conn)?
                .into_iter()
                .map(|t| {
                    let suspended = t.status == TenantStatus::Suspended;
                    let all = users::list(conn, &t.id)?;
                    let active = all
                        .iter()
                        .filter(|u| u.status == users::UserStatus::Active)
                        .count();
                    Ok(TenantRow {
                        users: all.len(),
                        seats: match t.seat_limit {
                            Some(limit) => format!("{active} of {limit}"),
                            None => active.to_string(),
                        },
                        database_size: super::tenant::readable_size(super::tenant::database_size(
                            &sizes, &t.id,
                        )),
                        name: t.name,
                        slug: t.slug,
                        status: if suspended { "suspended" } else { "active" },
                        toggle: if suspended { "resume" } else { "suspend" },
                        toggle_label: if suspended { "Resume" } else { "Suspend" },
                    })
                })
                .collect()
        })
        .await
}

async fn overview(
    state: web::Data<AppState>,
    operator: OperatorSession,
) -> Result<HttpResponse, ApiError> {
    render(&OverviewPage {
        chrome: ConsoleChrome::new(&state, &operator, "/admin"),
        license: license_view(&state).await?,
        tenants: tenant_rows(&state).await?,
    })
}
