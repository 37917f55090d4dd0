//! Whose address a request came to. A tenant's host (`<slug>.<base_domain>`, or its custom
//! domain) serves that tenant alone; the console (`/api/v1/admin/…`, `/setup`) and the
//! prefix-routed tenants (`/t/<slug>/…`) live on the appliance's own addresses:
//! `appliance_hosts` when set, else any host that is not a tenant's.
//!
//! [`confine`] enforces it for every request, before routing, by an allowlist: on a host that
//! is not the appliance's, only the paths of [`served_on_every_host`] are served — a route
//! added later stays off tenants' hosts unless it is added there.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use super::AppState;
use super::callers::TenantKey;
use crate::config::Config;
use crate::error::{ApiError, ErrorCode};
use crate::tenancy::{Slug, registry};

/// What a host is to Holdfast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// The appliance's own address: everything is served.
    Appliance,
    /// A tenant's host or custom domain (existing or not): that tenant's routes only.
    Tenant,
    /// Neither (a host not in `appliance_hosts`): the same as a tenant's host of nobody.
    Elsewhere,
}

/// The label of `host` when it is a single label directly under `base_domain`.
fn label_under<'a>(host: &'a str, base_domain: &str) -> Option<&'a str> {
    host.strip_suffix(base_domain)?
        .strip_suffix('.')
        .filter(|label| !label.is_empty() && !label.contains('.'))
}

/// Whether `host` names a tenant by its form alone: `<slug>.<base_domain>`, for any valid
/// slug, whether or not that tenant exists (so the console never answers there). Reserved
/// slugs (`www`, `admin`, …) are not tenants' and may be the appliance's.
pub fn names_a_tenant(config: &Config, host: &str) -> bool {
    config
        .base_domain
        .as_deref()
        .and_then(|base| label_under(host, base))
        .is_some_and(|label| label.parse::<Slug>().is_ok())
}

/// Whether `host` may be a tenant's custom domain: not an IP address, not `localhost`.
fn could_be_a_custom_domain(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_err()
        && host != "localhost"
        && !host.ends_with(".localhost")
}

/// Which site `host` is (`None`: the request named no host).
pub async fn site(state: &AppState, host: Option<&str>) -> Result<Site, ApiError> {
    if let Some(host) = host {
        if names_a_tenant(&state.config, host) {
            return Ok(Site::Tenant);
        }
        // Custom domains are DNS names, never addresses or `localhost` (see
        // `registry::custom_domain`): those hosts need no lookup, which spares every request
        // to the appliance by its address a trip to the database.
        if could_be_a_custom_domain(host) && is_custom_domain(state, host).await? {
            return Ok(Site::Tenant);
        }
    }
    let listed = &state.config.appliance_hosts;
    if listed.is_empty() || host.is_some_and(|h| listed.iter().any(|l| l == h)) {
        Ok(Site::Appliance)
    } else {
        Ok(Site::Elsewhere)
    }
}

/// Whether `host` is a tenant's custom domain: from the callers' cache, which also keeps a few
/// hosts that are not (the appliance's own names), else from the database.
async fn is_custom_domain(state: &AppState, host: &str) -> Result<bool, ApiError> {
    let key = TenantKey::Host(host.to_owned());
    let (generation, known) = state.callers.look(|entries| {
        if entries.tenant(&key).is_some() {
            Some(true)
        } else {
            entries.unclaimed(host).then_some(false)
        }
    });
    if let Some(known) = known {
        return Ok(known);
    }
    let name = host.to_owned();
    let tenant = state
        .control_db
        .run_as(move |conn| registry::find_by_domain(conn, &name))
        .await?;
    let claimed = tenant.is_some();
    state.callers.fill(generation, |entries| match tenant {
        Some(tenant) => entries.put_tenant(key, tenant),
        None => entries.put_unclaimed(host.to_owned()),
    });
    Ok(claimed)
}

/// `path` is `prefix` or below it, segment-wise (as actix matches a scope).
fn is_under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Paths served on every host: a tenant's host-routed API (`/api/v1/…` but the operator
/// API), static assets, the probes, the welcome page. `path` is the path as the router
/// matches it (percent-decoded where actix decodes).
pub fn served_on_every_host(path: &str) -> bool {
    matches!(path, "/" | "/healthz" | "/readyz")
        || is_under(path, "/assets")
        || (is_under(path, "/api/v1") && !is_under(path, "/api/v1/admin"))
}

/// Paths only the appliance's own addresses serve: the console and its API, the setup, the
/// metrics, and the prefix routes (`/t/<slug>/…`). A tenant's host serves the rest: its app's
/// pages and its host-routed API.
pub fn appliance_only(path: &str) -> bool {
    ["/admin", "/setup", "/metrics", "/t", "/api/v1/admin"]
        .iter()
        .any(|prefix| is_under(path, prefix))
}

/// Serves the console and the prefix routes only on the appliance's addresses, and a tenant's
/// app only on its hosts; elsewhere they answer `not_found`, as if they did not exist.
pub async fn confine(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if served_on_every_host(req.match_info().as_str()) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let host = super::forwarded::host(req.request());
    match site(&state, host.as_deref()).await {
        Ok(Site::Appliance) => Ok(next.call(req).await?.map_into_left_body()),
        Ok(Site::Tenant) if !appliance_only(req.match_info().as_str()) => {
            Ok(next.call(req).await?.map_into_left_body())
        }
        Ok(Site::Tenant | Site::Elsewhere) => Ok(req
            .error_response(ApiError::new(ErrorCode::NotFound))
            .map_into_right_body()),
        Err(err) => Ok(req.error_response(err).map_into_right_body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_tenant_api_assets_probes_and_welcome_are_served_everywhere() {
        for path in [
            "/",
            "/healthz",
            "/readyz",
            "/assets/css/holdfast.css",
            "/api/v1/auth/login",
            "/api/v1/openapi.json",
            "/api/v1/administrators",
        ] {
            assert!(served_on_every_host(path), "{path}");
        }
        for path in [
            "/setup",
            "/api/v1/admin",
            "/api/v1/admin/",
            "/api/v1/admin/auth/login",
            "/t/acme/api/v1/auth/login",
            "/t/acme/accept-invite",
            "/nope",
            "/healthz/extra",
            "/assetsx",
        ] {
            assert!(!served_on_every_host(path), "{path}");
        }
    }

    #[test]
    fn the_console_setup_metrics_and_prefixes_are_the_appliances_alone() {
        for path in [
            "/admin",
            "/admin/license",
            "/setup",
            "/metrics",
            "/t/acme/contacts",
            "/api/v1/admin/tenants",
        ] {
            assert!(appliance_only(path), "{path}");
        }
        for path in [
            "/",
            "/dashboard",
            "/contacts",
            "/sign-in",
            "/administrators",
            "/tenants",
            "/api/v1/contacts",
        ] {
            assert!(!appliance_only(path), "{path}");
        }
    }

    #[test]
    fn a_tenant_host_is_any_slug_directly_under_the_base_domain() {
        let config = Config::from_settings(crate::config::Settings {
            base_domain: Some("crm.test".into()),
            data_dir: Some("/srv/holdfast".into()),
            ..crate::config::Settings::default()
        })
        .unwrap();
        for host in ["acme.crm.test", "nobody-yet.crm.test"] {
            assert!(names_a_tenant(&config, host), "{host}");
        }
        for host in [
            "crm.test",
            "www.crm.test",
            "admin.crm.test",
            "a.b.crm.test",
            "acmecrm.test",
            "acme.crm.test.evil",
            "127.0.0.1",
        ] {
            assert!(!names_a_tenant(&config, host), "{host}");
        }
    }
}
