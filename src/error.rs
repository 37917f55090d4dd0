//! The one error table: every refusal Holdfast gives over HTTP has a stable snake_case code, an
//! HTTP status and a message, defined here once.
//!
//! Handlers return [`ApiError`]; it renders as `{"error": {"code": "...", "message": "..."}}`.
//! The user sees the message; the cause chain goes to the log (through the request span), so
//! database text and file paths never reach a response.

use std::borrow::Cow;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident => ($code:literal, $status:literal, $message:literal), )+) => {
        /// A stable error code. Clients match on [`ErrorCode::as_str`]; never rename one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )+
        }

        impl ErrorCode {
            /// Every code, in table order (used by the API description and by tests).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+];

            /// The code as clients see it.
            pub const fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)+ }
            }

            /// The HTTP status this code is answered with.
            pub fn status(self) -> StatusCode {
                let status = match self { $(ErrorCode::$variant => $status,)+ };
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }

            /// The message used when a handler has nothing more precise to say.
            pub const fn default_message(self) -> &'static str {
                match self { $(ErrorCode::$variant => $message,)+ }
            }
        }
    };
}

error_codes! {
    /// No route, asset or record at this address.
    NotFound => ("not_found", 404, "Nothing exists at this address."),
    /// The route exists but not for this method.
    MethodNotAllowed => ("method_not_allowed", 405, "This method is not allowed here."),
    /// A JSON body that does not parse or does not match the expected shape.
    InvalidJson => ("invalid_json", 400, "The request body is not valid JSON for this call."),
    /// A body whose content type is not the one the call takes.
    UnsupportedMediaType => ("unsupported_media_type", 415, "The request body must be JSON (Content-Type: application/json)."),
    /// A body larger than the configured limit.
    PayloadTooLarge => ("payload_too_large", 413, "The request body is larger than this server accepts."),
    /// A path parameter that is not of the expected form.
    InvalidPath => ("invalid_path", 404, "Nothing exists at this address."),
    /// A query string that does not parse.
    InvalidQuery => ("invalid_query", 400, "The query string is not valid for this call."),
    /// A request that is well-formed but wrong in some other way.
    BadRequest => ("bad_request", 400, "The request is not valid."),
    /// A license key that cannot be installed; the message carries the reason.
    LicenseInvalid => ("license_invalid", 422, "The license key is not valid."),
    /// The license is past its grace period: no new users or tenants.
    LicenseExpired => ("license_expired", 403, "The license has expired; install a new key."),
    /// Every seat the license pays for is in use.
    SeatLimitReached => ("seat_limit_reached", 403, "All seats of the license are in use."),
    /// Every tenant the license pays for exists.
    TenantLimitReached => ("tenant_limit_reached", 403, "All tenants of the license are in use."),
    /// A premium feature the license does not include.
    FeatureNotLicensed => ("feature_not_licensed", 403, "The license does not include this feature."),
    /// Business writes after the license's grace period.
    ReadOnly => ("read_only", 403, "The license has expired: Holdfast is read-only until a new key is installed."),
    /// The call needs a signed-in session or a bearer token.
    Unauthenticated => ("unauthenticated", 401, "Sign in first."),
    /// Signed in, but the role does not allow this.
    Forbidden => ("forbidden", 403, "Your role does not allow this."),
    /// A cookie-authenticated write without the session's CSRF token in `X-CSRF-Token`.
    CsrfFailed => ("csrf_failed", 403, "The request lacks this session's CSRF token (X-CSRF-Token)."),
    /// Wrong e-mail or password; the same answer for both, by design.
    InvalidCredentials => ("invalid_credentials", 401, "The e-mail address or password is not right."),
    /// Too many failed sign-ins for this account or address; see `Retry-After`.
    RateLimited => ("rate_limited", 429, "Too many failed attempts; wait before trying again."),
    /// No tenant at this host or prefix.
    TenantNotFound => ("tenant_not_found", 404, "There is no tenant at this address."),
    /// The tenant is suspended: no sign-in, no API, no tokens.
    TenantSuspended => ("tenant_suspended", 403, "This tenant is suspended; ask the appliance's operators."),
    /// A tenant slug already in use.
    SlugTaken => ("slug_taken", 409, "A tenant with this slug already exists."),
    /// A custom domain already used by another tenant.
    DomainTaken => ("domain_taken", 409, "This domain is already another tenant's."),
    /// A user with this e-mail address already exists in the tenant.
    UserExists => ("user_exists", 409, "A user with this e-mail address already exists."),
    /// No such user in this tenant.
    UserNotFound => ("user_not_found", 404, "There is no such user."),
    /// The tenant's last active owner cannot be removed or demoted.
    LastOwner => ("last_owner", 409, "The tenant must keep at least one active owner."),
    /// The user is deactivated; reactivate them first.
    UserDeactivated => ("user_deactivated", 409, "The user is deactivated."),
    /// A one-time link that is unknown, used or expired.
    LinkInvalid => ("link_invalid", 400, "This link is unknown, used or expired."),
    /// An operator with this e-mail address already exists.
    OperatorExists => ("operator_exists", 409, "An operator with this e-mail address already exists."),
    /// No such operator.
    OperatorNotFound => ("operator_not_found", 404, "There is no such operator."),
    /// The appliance's last active operator cannot be removed.
    LastOperator => ("last_operator", 409, "The appliance must keep at least one active operator."),
    /// A password outside the accepted length, common, a pattern, or made of the e-mail address
    /// or the product's name; the message says which.
    InvalidPassword => ("invalid_password", 422, "The password must be 10 to 1024 characters and hard to guess."),
    /// A field of the request that is not acceptable; the message names it.
    InvalidInput => ("invalid_input", 422, "A field of the request is not valid."),
    /// A write whose `If-Match` names a version of the record that is no longer current.
    VersionMismatch => ("version_mismatch", 412, "The record has changed since you read it; read it again and redo your change."),
    /// A change to a record without `If-Match`: two people editing one record must never
    /// silently overwrite each other.
    IfMatchRequired => ("if_match_required", 428, "Send the record's ETag in If-Match, so that a change made meanwhile is not overwritten."),
    /// A change that would break the data's rules (a stage that still holds deals, a name in use).
    Conflict => ("conflict", 409, "This change conflicts with the data as it is."),
    /// A member deleting or restoring another's record.
    NotYourRecord => ("not_your_record", 403, "Members delete and restore only their own records."),
    /// A list cursor this list did not give out, or one that was altered.
    InvalidCursor => ("invalid_cursor", 400, "The cursor is not valid for this list."),
    /// A file to import that is not CSV text Holdfast can read (binary, not UTF-8, no rows).
    InvalidFile => ("invalid_file", 422, "The file cannot be imported: it is not a CSV file Holdfast can read."),
    /// A backup that could not be made (a full disk, a database that cannot be read); the log
    /// says why.
    BackupFailed => ("backup_failed", 500, "The backup could not be made; the server's log says why."),
    /// A dependency (the control database) cannot be reached.
    NotReady => ("not_ready", 503, "Holdfast is not ready to serve requests."),
    /// The disk under the databases is full: the change was rolled back.
    StorageFull => ("storage_full", 507, "The server's disk is full, so nothing was changed; the operator must free space."),
    /// Anything unexpected; details are in the log under the request id.
    Internal => ("internal_error", 500, "Something went wrong on our side; the request id in X-Request-Id identifies it in the log."),
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ErrorCode {
    /// The code whose text is `code`, for domain errors that carry their code as text.
    pub fn find(code: &str) -> Option<ErrorCode> {
        Self::ALL.iter().copied().find(|c| c.as_str() == code)
    }
}

/// A refusal or failure answered over HTTP.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: Cow<'static, str>,
    cause: Option<anyhow::Error>,
    retry_after_secs: Option<u64>,
}

impl ApiError {
    /// A refusal with the code's default message.
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            message: Cow::Borrowed(code.default_message()),
            cause: None,
            retry_after_secs: None,
        }
    }

    /// A refusal with a message made for this case. The message is shown to the user, so it
    /// must not contain internal details.
    pub fn with_message(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
            cause: None,
            retry_after_secs: None,
        }
    }

    /// An unexpected failure: the user sees the generic message, the log gets `cause`. A
    /// full disk is the one failure said as it is (`storage_full`): the caller can do nothing
    /// about it, the operator must, and the transaction it broke changed nothing.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        let cause = cause.into();
        let code = if is_disk_full(&cause) {
            ErrorCode::StorageFull
        } else {
            ErrorCode::Internal
        };
        Self::new(code).caused_by(cause)
    }

    /// Attach the underlying cause, which is logged and never shown.
    #[must_use]
    pub fn caused_by(mut self, cause: impl Into<anyhow::Error>) -> Self {
        self.cause = Some(cause.into());
        self
    }

    /// Tell the client when to try again (`Retry-After`).
    #[must_use]
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs.max(1));
        self
    }

    /// A domain error whose stable code is in this table; anything else is internal.
    pub fn from_domain(code: &str, err: impl std::error::Error + Send + Sync + 'static) -> Self {
        match ErrorCode::find(code) {
            Some(code) if code != ErrorCode::Internal => {
                Self::with_message(code, format!("{err}."))
            }
            _ => Self::internal(err),
        }
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The cause kept for the log, if any.
    pub fn cause(&self) -> Option<&anyhow::Error> {
        self.cause.as_ref()
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<crate::license::Refusal> for ApiError {
    fn from(refusal: crate::license::Refusal) -> Self {
        use crate::license::Refusal;
        let code = match refusal {
            Refusal::SeatLimitReached { .. } => ErrorCode::SeatLimitReached,
            Refusal::TenantLimitReached { .. } => ErrorCode::TenantLimitReached,
            Refusal::FeatureNotLicensed(_) => ErrorCode::FeatureNotLicensed,
            Refusal::ReadOnly => ErrorCode::ReadOnly,
            Refusal::LicenseExpired => ErrorCode::LicenseExpired,
        };
        Self::with_message(code, format!("{refusal}."))
    }
}

impl From<crate::identity::UserError> for ApiError {
    fn from(err: crate::identity::UserError) -> Self {
        match err {
            crate::identity::UserError::Refused(refusal) => refusal.into(),
            other => Self::from_domain(other.code(), other),
        }
    }
}

impl From<crate::identity::password::PasswordError> for ApiError {
    fn from(err: crate::identity::password::PasswordError) -> Self {
        Self::from_domain(err.code(), err)
    }
}

impl From<crate::identity::operators::OperatorError> for ApiError {
    fn from(err: crate::identity::operators::OperatorError) -> Self {
        Self::from_domain(err.code(), err)
    }
}

impl From<crate::identity::tokens::TokenError> for ApiError {
    fn from(err: crate::identity::tokens::TokenError) -> Self {
        Self::from_domain(err.code(), err)
    }
}

impl From<crate::tenancy::TenantError> for ApiError {
    fn from(err: crate::tenancy::TenantError) -> Self {
        use crate::tenancy::TenantError;
        match err {
            TenantError::Refused(refusal) => refusal.into(),
            TenantError::SlugTaken(_) => {
                Self::with_message(ErrorCode::SlugTaken, format!("{err}."))
            }
            TenantError::NotFound(_) => Self::new(ErrorCode::TenantNotFound),
            TenantError::BadName | TenantError::BadDomain(_) | TenantError::BadTimeZone(_) => {
                Self::with_message(ErrorCode::InvalidInput, format!("{err}."))
            }
            TenantError::DomainTaken(_) => {
                Self::with_message(ErrorCode::DomainTaken, format!("{err}."))
            }
            other => Self::internal(other),
        }
    }
}

impl From<crate::provision::ProvisionError> for ApiError {
    fn from(err: crate::provision::ProvisionError) -> Self {
        match err {
            crate::provision::ProvisionError::Tenant(err) => err.into(),
            crate::provision::ProvisionError::Owner(err) => err.into(),
        }
    }
}

/// Whether `err`, or anything it wraps, is SQLite's `SQLITE_FULL` or the system's `ENOSPC`.
pub fn is_disk_full(err: &anyhow::Error) -> bool {
    use crate::storage::StorageError;
    const ENOSPC: i32 = 28;
    let sqlite_full =
        |e: &rusqlite::Error| e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull);
    let storage_full = |e: &StorageError| matches!(e, StorageError::Sqlite(e) if sqlite_full(e));
    err.chain().any(|e| {
        e.downcast_ref::<rusqlite::Error>().is_some_and(sqlite_full)
            || e.downcast_ref::<StorageError>().is_some_and(storage_full)
            || e.downcast_ref::<crate::crm::CrmError>()
                .is_some_and(|e| matches!(e, crate::crm::CrmError::Storage(s) if storage_full(s)))
            || e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.raw_os_error() == Some(ENOSPC))
    })
}

impl From<crate::storage::StorageError> for ApiError {
    fn from(err: crate::storage::StorageError) -> Self {
        Self::internal(err)
    }
}

impl From<crate::license::InstallError> for ApiError {
    fn from(err: crate::license::InstallError) -> Self {
        match err {
            crate::license::InstallError::Refused(refused) => refused.into(),
            crate::license::InstallError::Storage(storage) => Self::internal(storage),
        }
    }
}

impl From<crate::license::LicenseError> for ApiError {
    fn from(err: crate::license::LicenseError) -> Self {
        let code = if err.reason().is_some() {
            ErrorCode::LicenseInvalid
        } else {
            ErrorCode::LicenseExpired
        };
        Self::with_message(code, err.one_line())
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let Some(secs) = self.retry_after_secs {
            response.insert_header((actix_web::http::header::RETRY_AFTER, secs.to_string()));
        }
        response.json(ErrorBody {
            error: ErrorDetail {
                code: self.code.as_str(),
                message: &self.message,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_map_to_error_statuses() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "duplicate code {text}");
            assert!(
                text.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{text} is not snake_case"
            );
            let status = code.status();
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{text} answers {status}"
            );
            assert!(!code.default_message().is_empty());
        }
    }

    #[test]
    fn license_refusals_keep_their_codes_over_http() {
        use crate::license::{Feature, Refusal};
        for (refusal, code) in [
            (Refusal::SeatLimitReached { cap: 5 }, "seat_limit_reached"),
            (
                Refusal::TenantLimitReached { cap: 1 },
                "tenant_limit_reached",
            ),
            (
                Refusal::FeatureNotLicensed(Feature::Sso),
                "feature_not_licensed",
            ),
            (Refusal::ReadOnly, "read_only"),
            (Refusal::LicenseExpired, "license_expired"),
        ] {
            assert_eq!(refusal.code(), code);
            assert_eq!(ApiError::from(refusal).code().as_str(), code);
        }
        let invalid = crate::license::LicenseError::Malformed("x".into());
        let api = ApiError::from(invalid);
        assert_eq!(api.code().as_str(), "license_invalid");
        assert!(api.message().contains("(malformed)"), "{}", api.message());
    }

    #[test]
    fn identity_refusals_keep_their_codes_over_http() {
        use crate::identity::UserError;
        use crate::identity::operators::OperatorError;
        use crate::identity::password::PasswordError;
        let users = [
            UserError::EmailTaken("a@b.c".into()),
            UserError::NotFound("a@b.c".into()),
            UserError::TenantSeatsFull { cap: 3 },
            UserError::LastOwner,
            UserError::Deactivated("a@b.c".into()),
            UserError::LinkInvalid,
            UserError::Password(PasswordError::Length),
            UserError::Password(PasswordError::Common),
        ];
        for err in users {
            let code = err.code();
            assert_eq!(ApiError::from(err).code().as_str(), code);
        }
        let operators = [
            OperatorError::EmailTaken("a@b.c".into()),
            OperatorError::NotFound("x".into()),
            OperatorError::LastOperator,
        ];
        for err in operators {
            let code = err.code();
            assert_eq!(ApiError::from(err).code().as_str(), code);
        }
        let weak = ApiError::from(PasswordError::Personal);
        assert_eq!(weak.code().as_str(), "invalid_password");
        assert!(
            weak.message().contains("e-mail address"),
            "{}",
            weak.message()
        );
        let failed = ApiError::from(PasswordError::Hashing);
        assert_eq!(failed.code(), ErrorCode::Internal);
    }

    #[test]
    fn internal_errors_never_show_their_cause() {
        let err = ApiError::internal(anyhow::anyhow!("disk I/O error at /var/lib/holdfast"));
        let body = actix_web::body::to_bytes(err.error_response().into_body());
        let body = futures_util::FutureExt::now_or_never(body)
            .expect("body is ready")
            .expect("body reads");
        let text = String::from_utf8(body.to_vec()).expect("utf-8");
        assert!(text.contains("\"code\":\"internal_error\""), "{text}");
        assert!(!text.contains("/var/lib"), "{text}");
    }

    #[test]
    fn a_full_disk_is_said_as_it_is_however_deep_it_lies() {
        let full = || {
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
                None,
            )
        };
        let crm = crate::crm::CrmError::Storage(crate::storage::StorageError::Sqlite(full()));
        assert_eq!(ApiError::from(crm).code(), ErrorCode::StorageFull);
        assert_eq!(ApiError::internal(full()).code(), ErrorCode::StorageFull);
        let io = std::io::Error::from_raw_os_error(28);
        assert_eq!(ApiError::internal(io).code(), ErrorCode::StorageFull);
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        assert_eq!(ApiError::internal(busy).code(), ErrorCode::Internal);
        assert_eq!(ErrorCode::StorageFull.status().as_u16(), 507);
    }
}
