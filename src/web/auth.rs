//! Signing in and being signed in, shared by the operator API and the tenant API: session
//! cookies, CSRF for cookie-authenticated writes, password checks that take the same time
//! whether or not the account exists, and throttling of failed attempts.

use std::time::Instant;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::AppState;
use crate::config::Config;
use crate::error::{ApiError, ErrorCode};
use crate::identity::password;
use crate::identity::sessions::{self, Principal, Session, SessionPolicy};
use crate::identity::setup::constant_time_eq;

/// The operator console's session cookie.
pub const ADMIN_COOKIE: &str = "holdfast_admin";
/// A tenant user's session cookie (its path scopes it to one tenant's prefix when routed by
/// prefix).
pub const TENANT_COOKIE: &str = "holdfast_session";
/// The header carrying the session's CSRF token on cookie-authenticated writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// `POST …/auth/login`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

/// `POST …/auth/password`: a signed-in person changes their own password.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

pub fn session_policy(config: &Config) -> SessionPolicy {
    let secs = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    SessionPolicy {
        idle_secs: secs(config.session_idle),
        lifetime_secs: secs(config.session_lifetime),
    }
}

pub use super::forwarded::client_address;

/// A session cookie: `HttpOnly`, `SameSite=Strict`, scoped to `path`, `Secure` when configured.
pub fn session_cookie(
    config: &Config,
    name: &'static str,
    value: String,
    path: String,
) -> Cookie<'static> {
    let mut cookie = Cookie::build(name, value)
        .path(path)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(config.cookie_secure)
        .finish();
    if let Ok(secs) = i64::try_from(config.session_lifetime.as_secs()) {
        cookie.set_max_age(CookieDuration::seconds(secs));
    }
    cookie
}

/// A cookie that makes the browser forget the session.
fn removal_cookie(config: &Config, name: &'static str, path: String) -> Cookie<'static> {
    let mut cookie = session_cookie(config, name, String::new(), path);
    cookie.make_removal();
    cookie
}

/// Signs out: ends the session behind `cookie_name` and tells the browser to forget it.
pub async fn end_session(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    cookie_name: &'static str,
    cookie_path: String,
) -> Result<HttpResponse, ApiError> {
    if let Some(cookie) = req.cookie(cookie_name) {
        let value = cookie.value().to_owned();
        state
            .control_db
            .run(move |conn| sessions::end(conn, &value))
            .await?;
    }
    Ok(HttpResponse::NoContent()
        .cookie(removal_cookie(&state.config, cookie_name, cookie_path))
        .finish())
}

/// Starts a session for `principal`, ending whatever session this browser had under
/// `cookie_name` (signing in always makes a new id: no fixation). Returns the cookie to set
/// and the session's CSRF token.
pub async fn start_session(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    principal: Principal,
    cookie_name: &'static str,
    cookie_path: String,
) -> Result<(Cookie<'static>, String), ApiError> {
    let policy = session_policy(&state.config);
    let address = client_address(req);
    let user_agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let old = req.cookie(cookie_name).map(|c| c.value().to_owned());
    let started = state
        .control_db
        .run(move |conn| {
            if let Some(old) = old {
                sessions::end(conn, &old)?;
            }
            let origin = sessions::Origin {
                address: Some(&address),
                user_agent: user_agent.as_deref(),
            };
            sessions::start(conn, &principal, origin, policy)
        })
        .await?;
    let cookie = session_cookie(&state.config, cookie_name, started.cookie, cookie_path);
    Ok((cookie, started.csrf_token))
}

/// Checks a password against a stored hash (or the decoy when there is none), behind the
/// sign-in throttle. Every failure answers the same `invalid_credentials`.
pub async fn check_password(
    state: &web::Data<AppState>,
    account: String,
    address: &str,
    stored_hash: Option<String>,
    attempt_text: String,
) -> Result<(), ApiError> {
    // Reserved before the verify, so a burst sent at once cannot outrun the count.
    let attempt = state
        .sign_in_throttle
        .reserve(&account, address, Instant::now())
        .map_err(rate_limited)?;
    let matched = web::block(move || {
        let exists = stored_hash.is_some();
        let hash = stored_hash.as_deref().unwrap_or(password::decoy_hash());
        password::verify(&attempt_text, hash) && exists
    })
    .await
    .map_err(ApiError::internal)?;
    if matched {
        attempt.succeed();
        Ok(())
    } else {
        attempt.fail(Instant::now());
        Err(ApiError::new(ErrorCode::InvalidCredentials))
    }
}

/// The refusal of a throttled attempt, with how long to wait.
pub fn rate_limited(wait: std::time::Duration) -> ApiError {
    ApiError::new(ErrorCode::RateLimited).retry_after(wait.as_secs().max(1))
}

/// Marks a page's form post: its CSRF token is in the body, which the gate reads and checks
/// only once the caller is authenticated (`ui::check_form_csrf`), so that nobody can make
/// the server read a body without a session.
#[derive(Debug, Clone, Copy)]
pub struct CsrfInForm;

/// Cookie-authenticated writes must carry the session's CSRF token: another site can make a
/// browser send the cookie, but cannot read the token.
pub fn require_csrf(req: &HttpRequest, session: &Session) -> Result<(), ApiError> {
    use actix_web::HttpMessage as _;
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    if req.extensions().get::<CsrfInForm>().is_some() {
        return Ok(());
    }
    let sent = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if constant_time_eq(sent.as_bytes(), session.csrf_token.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::CsrfFailed))
    }
}
