//! One tenant in the console: what it uses (users of its seat limit, the size of its
//! database), its settings (name, seat limit, custom domain), suspend and resume, its whole
//! data as an archive, and deleting it — which asks for its slug typed again, and offers the
//! archive first. The operator API's functions do the work.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::ConsoleChrome;
use crate::error::{ApiError, ErrorCode};
use crate::identity::users::{self, UserStatus};
use crate::tenancy::{Change, Tenant, TenantChanges, TenantStatus, registry};
use crate::web::AppState;
use crate::web::admin::{OperatorSession, delete_tenant, update_tenant};
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::ui::{render, see_other};

endpoints! { area: Area::Console;
    GET "/admin/tenants/{slug}" => show, Access::Operator, 200,
        "One tenant: its usage, settings, archive and deletion", [TenantNotFound];
    POST "/admin/tenants/{slug}" => update, Access::Operator, 303,
        "Change the tenant's name, seat limit or custom domain from the form",
        [TenantNotFound, InvalidInput, DomainTaken, ReadOnly];
    POST "/admin/tenants/{slug}/delete" => delete, Access::Operator, 303,
        "Delete the tenant and its data once its slug is typed again", [TenantNotFound, InvalidInput];
}

struct UserRow {
    email: String,
    role: &'static str,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "console_tenant.html")]
struct TenantPage {
    chrome: ConsoleChrome,
    tenant: Tenant,
    users: Vec<UserRow>,
    active_users: usize,
    database_size: String,
    /// The settings form's values (as posted, after a refusal).
    name: String,
    seat_limit: String,
    custom_domain: String,
    timezone: String,
    settings_error: Option<String>,
    delete_error: Option<String>,
}

impl TenantPage {
    fn suspended(&self) -> bool {
        self.tenant.status == TenantStatus::Suspended
    }
}

#[derive(Debug, Deserialize)]
struct SlugParam {
    slug: String,
}

/// Bytes as people read them: "3.2 MB".
pub(super) fn readable_size(bytes: u64) -> String {
    const UNITS: &[&str] = &["bytes", "KB", "MB", "GB", "TB"];
    #[allow(clippy::cast_precision_loss)] // a size shown to one decimal
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit + 1 < UNITS.len() {
        size /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{size:.1} {}", UNITS[unit])
    }
}

/// The size of a tenant's database on disk, its write-ahead log included.
pub(super) fn database_size(state: &AppState, tenant_id: &str) -> u64 {
    let db = state.config.tenants_dir().join(format!("{tenant_id}.db"));
    let wal = db.with_extension("db-wal");
    [db, wal]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// The form's fields as they were posted, to show again after a refusal.
struct Posted {
    settings: Option<(SettingsForm, ApiError)>,
    delete: Option<ApiError>,
}

async fn page(
    state: &web::Data<AppState>,
    operator: &OperatorSession,
    slug: &str,
    posted: Posted,
) -> Result<HttpResponse, ApiError> {
    let wanted: crate::tenancy::Slug = slug
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::TenantNotFound))?;
    let (tenant, all) = state
        .control_db
        .run_as(move |conn| -> Result<_, ApiError> {
            let tenant = registry::find(conn, &wanted)?
                .ok_or_else(|| ApiError::new(ErrorCode::TenantNotFound))?;
            let all = users::list(conn, &tenant.id)?;
            Ok((tenant, all))
        })
        .await?;
    let active_users = all
        .iter()
        .filter(|u| u.status == UserStatus::Active)
        .count();
    let users = all
        .into_iter()
        .map(|u| UserRow {
            email: u.email,
            role: u.role.as_str(),
            status: if u.status == UserStatus::Active {
                "active"
            } else {
                "inactive"
            },
        })
        .collect();
    let status = posted
        .settings
        .as_ref()
        .map(|(_, e)| e)
        .or(posted.delete.as_ref())
        .map(|e| e.code().status());
    let (name, seat_limit, custom_domain, timezone, settings_error) = match posted.settings {
        Some((form, err)) => (
            form.name,
            form.seat_limit,
            form.custom_domain,
            form.timezone,
            Some(err.message().to_owned()),
        ),
        None => (
            tenant.name.clone(),
            tenant.seat_limit.map(|n| n.to_string()).unwrap_or_default(),
            tenant.custom_domain.clone().unwrap_or_default(),
            tenant.timezone.clone(),
            None,
        ),
    };
    let mut answer = render(&TenantPage {
        chrome: ConsoleChrome::new(state, operator, "/admin/tenants"),
        database_size: readable_size(database_size(state, &tenant.id)),
        tenant,
        users,
        active_users,
        name,
        seat_limit,
        custom_domain,
        timezone,
        settings_error,
        delete_error: posted.delete.map(|e| e.message().to_owned()),
    })?;
    if let Some(status) = status {
        *answer.status_mut() = status;
    }
    Ok(answer)
}

async fn show(
    state: web::Data<AppState>,
    operator: OperatorSession,
    path: web::Path<SlugParam>,
) -> Result<HttpResponse, ApiError> {
    let none = Posted {
        settings: None,
        delete: None,
    };
    page(&state, &operator, &path.slug, none).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsForm {
    /// Checked by the gate.
    #[serde(rename = "csrf", default)]
    _csrf: serde::de::IgnoredAny,
    name: String,
    #[serde(default)]
    seat_limit: String,
    #[serde(default)]
    custom_domain: String,
    #[serde(default)]
    timezone: String,
}

/// The changes a settings form asks for: an empty seat limit or domain removes it; an empty
/// time zone is UTC.
fn changes_of(form: &SettingsForm) -> Result<TenantChanges, ApiError> {
    let seat_limit = match form.seat_limit.trim() {
        "" => Change::Clear,
        text => Change::Set(text.parse::<u32>().map_err(|_| {
            ApiError::with_message(
                ErrorCode::InvalidInput,
                "The seat limit must be a whole number, or empty for none.",
            )
        })?),
    };
    let custom_domain = match form.custom_domain.trim() {
        "" => Change::Clear,
        domain => Change::Set(domain.to_owned()),
    };
    let timezone = match form.timezone.trim() {
        "" => "UTC".to_owned(),
        zone => zone.to_owned(),
    };
    Ok(TenantChanges {
        name: Some(form.name.clone()),
        seat_limit,
        custom_domain,
        timezone: Some(timezone),
    })
}

async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    operator: OperatorSession,
    path: web::Path<SlugParam>,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    note_target(&req, format!("tenant {}", path.slug));
    let changed = match changes_of(&form) {
        Ok(changes) => update_tenant(&state, &path.slug, changes).await,
        Err(err) => Err(err),
    };
    match changed {
        Ok(tenant) => Ok(see_other(&format!("/admin/tenants/{}", tenant.slug))),
        Err(err)
            if err.code().status().is_client_error() && err.code() != ErrorCode::TenantNotFound =>
        {
            let posted = Posted {
                settings: Some((form, err)),
                delete: None,
            };
            page(&state, &operator, &path.slug, posted).await
        }
        Err(err) => Err(err),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteForm {
    #[serde(rename = "csrf", default)]
    _csrf: serde::de::IgnoredAny,
    #[serde(default)]
    confirm: String,
}

async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    operator: OperatorSession,
    path: web::Path<SlugParam>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, ApiError> {
    note_target(&req, format!("tenant {}", path.slug));
    match delete_tenant(&state, &path.slug, Some(&form.confirm)).await {
        Ok(()) => Ok(see_other("/admin/tenants")),
        Err(err) if err.code() == ErrorCode::InvalidInput => {
            let posted = Posted {
                settings: None,
                delete: Some(err),
            };
            page(&state, &operator, &path.slug, posted).await
        }
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::readable_size;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(readable_size(0), "0 bytes");
        assert_eq!(readable_size(999), "999 bytes");
        assert_eq!(readable_size(1_500), "1.5 KB");
        assert_eq!(readable_size(3_200_000), "3.2 MB");
    }
}
