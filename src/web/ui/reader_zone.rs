//! The reader's time zone, which pages cut days by (my tasks, the calendar) and state times
//! in: the zone the reader's browser reports, kept by the pages' script in the `holdfast_tz`
//! cookie; without it (no script yet, or none at all) the tenant's zone (UTC unless an
//! operator set one). A cookie naming no zone of the bundled database is ignored rather than
//! refused: it only decides how days are cut, and the tenant's zone is a sound answer.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use crate::error::ApiError;
use crate::web::tenant::TenantSession;
use crate::zone::Zone;

/// The cookie the pages' script keeps the browser's zone in.
pub const COOKIE: &str = "holdfast_tz";

/// The zone a page is for. Pages name it in a `data-zone` attribute; the script reloads such
/// a page once when it has just told the server a different zone.
pub struct ReaderZone(pub Zone);

impl ReaderZone {
    /// The zone `req`'s reader is in.
    pub fn of(req: &HttpRequest) -> Self {
        let zone = req
            .cookie(COOKIE)
            .and_then(|cookie| Zone::named(cookie.value()))
            .or_else(|| {
                req.extensions()
                    .get::<TenantSession>()
                    .and_then(|session| Zone::named(&session.current.tenant.timezone))
            })
            .unwrap_or_else(Zone::utc);
        Self(zone)
    }
}

impl FromRequest for ReaderZone {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Self::of(req)))
    }
}
