//! Headers every response carries. The CSP allows no inline script or style and nothing from
//! another origin, which is also what keeps the UI working on an air-gapped network.
//! `Cache-Control: no-store` keeps sessions' answers, secrets and one-time links out of
//! browser and proxy caches; a handler that sets its own (static assets) keeps it.

use actix_web::middleware::DefaultHeaders;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// What a response may be cached as when its handler does not say.
pub const DEFAULT_CACHE_CONTROL: &str = "no-store";

/// The security headers, each added unless the response has it already; `tls` adds HSTS,
/// which only makes sense when we serve HTTPS ourselves.
pub fn headers(tls: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("Cache-Control", DEFAULT_CACHE_CONTROL))
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), payment=()",
        ))
        .add(("Cross-Origin-Opener-Policy", "same-origin"));
    if tls {
        headers.add(("Strict-Transport-Security", "max-age=31536000"))
    } else {
        headers
    }
}
