//! The route table. Every API route is declared once, with who may call it and the error codes
//! it can answer; the same declaration registers the route, describes it in the OpenAPI
//! document, and drives the test that walks every route with every role and a foreign tenant.
//! A route cannot exist without being in the table.

use actix_web::HttpMessage as _;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::error::ErrorCode;
use crate::identity::Role;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (the one-time setup; a token in the body authorises it).
    Public,
    /// A signed-in operator.
    Operator,
    /// Anyone, on a resolved, active tenant (sign-in, invitation links).
    TenantPublic,
    /// A signed-in user of the tenant with at least this role (owner > admin > member > viewer).
    Tenant(Role),
}

/// Where a route lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// At the root of the server.
    Root,
    /// Under `/api/v1/admin`.
    Admin,
    /// Under `/api/v1` on a tenant's host, and under `/t/{tenant}/api/v1`.
    Tenant,
    /// The tenant app's pages: at the root of a tenant's host, and under `/t/{tenant}`.
    TenantApp,
    /// The operator console's pages, under `/admin`.
    Console,
}

impl Area {
    /// Pages answer with pages: forms carry the CSRF token in their body, and refusals come
    /// back as pages (see `web::ui`).
    pub const fn is_pages(self) -> bool {
        matches!(self, Area::TenantApp | Area::Console)
    }
}

impl Area {
    /// The path prefix routes of this area are mounted under (the host-routed form for
    /// tenants).
    pub const fn base(self) -> &'static str {
        match self {
            Area::Root | Area::TenantApp | Area::Console => "",
            Area::Admin => "/api/v1/admin",
            Area::Tenant => "/api/v1",
        }
    }
}

/// Makes the JSON Schema of a request or response body from its Rust type.
pub type SchemaOf = fn(&mut schemars::SchemaGenerator) -> schemars::Schema;

/// The schema of `T`, as a reference to its definition where it has a name.
pub fn schema_of<T: schemars::JsonSchema>(
    generator: &mut schemars::SchemaGenerator,
) -> schemars::Schema {
    generator.subschema_for::<T>()
}

/// `Some(schema_of::<T>)`, or `None` without a type: for `endpoints!`.
macro_rules! schema {
    () => {
        None
    };
    ($t:ty) => {
        Some($crate::web::endpoint::schema_of::<$t> as $crate::web::endpoint::SchemaOf)
    };
}

pub(crate) use schema;

/// One API route.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    pub method: &'static str,
    /// Relative to the area's base, with `{name}` parameters.
    pub path: &'static str,
    pub area: Area,
    pub access: Access,
    /// The status of a successful answer (201 for what is made, 204 for what answers with
    /// no body), declared rather than guessed from the path.
    pub success: u16,
    pub summary: &'static str,
    /// Refusals particular to this route (the common ones are added by [`Endpoint::errors`]).
    pub errors: &'static [ErrorCode],
    /// The request body's schema, from the type the handler reads.
    pub request: Option<SchemaOf>,
    /// The success answer's schema, from the type the handler writes.
    pub response: Option<SchemaOf>,
}

impl Endpoint {
    /// The full path in its host-routed form.
    pub fn full_path(&self) -> String {
        format!("{}{}", self.area.base(), self.path)
    }

    /// Every error code this route can answer.
    pub fn errors(&self) -> Vec<ErrorCode> {
        let mut codes = vec![ErrorCode::Internal];
        match self.access {
            Access::Public => {}
            Access::Operator => codes.push(ErrorCode::Unauthenticated),
            Access::TenantPublic => {
                codes.extend([ErrorCode::TenantNotFound, ErrorCode::TenantSuspended]);
            }
            Access::Tenant(_) => codes.extend([
                // The tenant's database busy past the pool's wait.
                ErrorCode::NotReady,
                ErrorCode::TenantNotFound,
                ErrorCode::TenantSuspended,
                ErrorCode::Unauthenticated,
                ErrorCode::Forbidden,
                ErrorCode::NotFound,
            ]),
        }
        if !matches!(self.method, "GET" | "HEAD") {
            if matches!(self.access, Access::Operator | Access::Tenant(_)) {
                codes.push(ErrorCode::CsrfFailed);
            }
            codes.extend([
                ErrorCode::InvalidJson,
                ErrorCode::UnsupportedMediaType,
                ErrorCode::PayloadTooLarge,
            ]);
        }
        codes.extend_from_slice(self.errors);
        codes.sort_by_key(|c| c.as_str());
        codes.dedup();
        codes
    }
}

/// A module's routes: its table and the function that registers exactly those routes. Areas
/// list modules, never routes, so the table and the server cannot drift apart.
#[derive(Debug, Clone, Copy)]
pub struct Module {
    pub endpoints: &'static [Endpoint],
    pub routes: fn(&mut actix_web::web::ServiceConfig),
}

/// Every endpoint of `modules`.
pub fn endpoints_of(modules: &[Module]) -> Vec<Endpoint> {
    modules
        .iter()
        .flat_map(|m| m.endpoints.iter().copied())
        .collect()
}

/// Registers every route of `modules`.
pub fn register(cfg: &mut actix_web::web::ServiceConfig, modules: &[Module]) {
    for module in modules {
        (module.routes)(cfg);
    }
}

/// Checks who is calling before anything else about the request is looked at (its body
/// included), as the route table says, and leaves the caller in the request's extensions for
/// the handler's extractor.
/// A route that lists [`ErrorCode::ReadOnly`] changes data, which an expired license freezes:
/// the gate refuses it before the handler runs. Routes that do not list it keep working
/// read-only (see [`READ_ONLY_ALLOWED`]).
pub async fn gate(
    (area, access): (Area, Access),
    action: String,
    errors: &'static [ErrorCode],
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // A page's form carries the CSRF token in its body: read once the caller is known.
    let form_post = area.is_pages()
        && req.method() == actix_web::http::Method::POST
        && matches!(access, Access::Operator | Access::Tenant(_));
    if form_post {
        req.extensions_mut().insert(super::auth::CsrfInForm);
    }
    match access {
        Access::Public => {}
        Access::Operator => {
            let operator = super::admin::authenticate(req.request()).await?;
            if form_post {
                super::ui::check_form_csrf(&mut req, Some(&operator.csrf_token)).await?;
            }
            req.extensions_mut().insert(operator);
            if let Err(refusal) = frozen(&req, errors) {
                let response = req.error_response(refusal);
                super::audit_trail::record_call(action, &response).await;
                return Ok(response.map_into_right_body());
            }
        }
        Access::TenantPublic => {
            let tenant = super::tenant::resolve(req.request()).await?;
            req.extensions_mut().insert(tenant);
        }
        Access::Tenant(minimum) => {
            let mut session = super::tenant::authenticate(req.request()).await?;
            session.audit =
                super::audit_trail::entry_in_transaction(req.request(), &session, &action);
            if form_post {
                super::ui::check_form_csrf(&mut req, session.csrf_token.as_deref()).await?;
            }
            let allowed = session.require(minimum).and_then(|()| frozen(&req, errors));
            req.extensions_mut().insert(session);
            if let Err(refusal) = allowed {
                // An identified caller beyond their role, or writing while read-only:
                // refused, and on the record.
                let response = req.error_response(refusal);
                super::audit_trail::record_call(action, &response).await;
                return Ok(response.map_into_right_body());
            }
        }
    }
    let response = next.call(req).await?;
    super::audit_trail::record_call(action, &response).await;
    Ok(response.map_into_left_body())
}

/// `read_only` if the route changes data and the license has expired past its grace.
fn frozen(req: &ServiceRequest, errors: &[ErrorCode]) -> Result<(), crate::error::ApiError> {
    if !errors.contains(&ErrorCode::ReadOnly) {
        return Ok(());
    }
    match req.app_data::<actix_web::web::Data<super::AppState>>() {
        Some(state) => Ok(state.license.effective().may_write()?),
        None => Ok(()),
    }
}

/// The writes that keep working after a license's grace, so that its customer can get in,
/// take access away and renew: everything else that writes lists `ReadOnly` (data is frozen)
/// or `LicenseExpired` (a seat or a tenant would be added). A test holds every route to this.
pub const READ_ONLY_ALLOWED: &[&str] = &[
    // Getting in and out, and setting passwords (one's own, or from a one-time link).
    "POST /setup",
    "POST /api/v1/admin/auth/login",
    "POST /api/v1/admin/auth/logout",
    "POST /api/v1/admin/auth/password",
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/logout",
    "POST /api/v1/auth/password",
    "POST /api/v1/auth/reset-password",
    "DELETE /api/v1/auth/sessions",
    "DELETE /api/v1/auth/sessions/{id}",
    "POST /api/v1/users/{id}/reset-password",
    // Renewing.
    "PUT /api/v1/admin/license",
    // Taking access away, or giving back access already paid for.
    "POST /api/v1/users/{id}/deactivate",
    "DELETE /api/v1/tokens/{id}",
    "POST /api/v1/admin/tenants/{slug}/suspend",
    "POST /api/v1/admin/tenants/{slug}/resume",
    "DELETE /api/v1/admin/tenants/{slug}",
    "POST /api/v1/admin/operators/{id}/deactivate",
    // The same, as the tenant app's pages.
    "POST /sign-in",
    "POST /sign-out",
    "POST /reset-password",
    "POST /account/password",
    "POST /account/sessions/{id}/end",
    "POST /account/sessions/end-others",
    "POST /settings/users/{id}/deactivate",
    "POST /settings/users/{id}/reset-password",
    "POST /settings/tokens/{id}/revoke",
    // Erasing a person's data on request: a duty under data-protection law, licensed or not.
    "POST /api/v1/contacts/{id}/erase",
    // A backup protects the data whatever the license says.
    "POST /api/v1/admin/backups",
    // Operators take no seat and are who renews.
    "POST /api/v1/admin/operators",
];

/// Declares a module's routes:
/// `METHOD "path" => handler, access, success status, "summary", [ErrorCode…], in: Body, out: Answer;`
/// (`in` and `out` name the types whose schemas describe the bodies; each may be left out).
/// Makes `ENDPOINTS` (the table) and `routes` (the registration) from the same lines.
macro_rules! endpoints {
    (area: $area:expr; $( $method:ident $path:literal => $handler:path, $access:expr, $success:literal, $summary:literal, [$($err:ident),* $(,)?] $(, in: $body:ty)? $(, out: $reply:ty)?; )+) => {
        pub const ENDPOINTS: &[$crate::web::endpoint::Endpoint] = &[
            $( $crate::web::endpoint::Endpoint {
                method: stringify!($method),
                path: $path,
                area: $area,
                access: $access,
                success: $success,
                summary: $summary,
                errors: &[$($crate::error::ErrorCode::$err),*],
                request: $crate::web::endpoint::schema!($($body)?),
                response: $crate::web::endpoint::schema!($($reply)?),
            }, )+
        ];

        /// This module's table and routes, for its area's list.
        pub const MODULE: $crate::web::endpoint::Module = $crate::web::endpoint::Module {
            endpoints: ENDPOINTS,
            routes,
        };

        fn routes(cfg: &mut actix_web::web::ServiceConfig) {
            $( cfg.service(
                actix_web::web::resource($path)
                    // A resource-level guard, so that other methods fall through to the
                    // resource of the same path that takes them.
                    .guard(actix_web::guard::Method(actix_web::http::Method::$method))
                    .wrap(actix_web::middleware::from_fn(|req, next| {
                        $crate::web::endpoint::gate(
                            ($area, $access),
                            format!("{} {}{}", stringify!($method), $area.base(), $path),
                            &[$($crate::error::ErrorCode::$err),*],
                            req,
                            next,
                        )
                    }))
                    // Outermost: a refusal of the gate leaves as a response (see `refusals`).
                    .wrap(actix_web::middleware::from_fn(|req, next| {
                        $crate::web::refusals::answered_in($area, req, next)
                    }))
                    .route(actix_web::web::route().to($handler)),
            ); )+
        }
    };
}

pub(crate) use endpoints;

#[cfg(test)]
mod tests {
    use super::*;

    /// A new write route, of the API or of the tenant app's pages, must decide what it does on
    /// an expired license: list `ReadOnly`, list `LicenseExpired`, or be one of the few that
    /// keep working.
    #[test]
    fn every_write_route_decides_what_an_expired_license_allows() {
        let mut undecided = Vec::new();
        let mut allowed = Vec::new();
        let pages = crate::web::page_endpoints();
        for endpoint in crate::web::api_endpoints().into_iter().chain(pages) {
            if matches!(endpoint.method, "GET" | "HEAD") {
                continue;
            }
            let name = format!("{} {}", endpoint.method, endpoint.full_path());
            let decided = endpoint
                .errors
                .iter()
                .any(|c| matches!(c, ErrorCode::ReadOnly | ErrorCode::LicenseExpired));
            if READ_ONLY_ALLOWED.contains(&name.as_str()) {
                assert!(
                    !endpoint.errors.contains(&ErrorCode::ReadOnly),
                    "{name} is allowed read-only yet lists read_only"
                );
                allowed.push(name);
            } else if !decided {
                undecided.push(name);
            }
        }
        assert!(undecided.is_empty(), "undecided: {undecided:?}");
        assert_eq!(
            allowed.len(),
            READ_ONLY_ALLOWED.len(),
            "stale entries: {allowed:?}"
        );
    }
}
