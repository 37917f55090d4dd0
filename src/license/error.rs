//! Why a key is refused. The codes and reasons are stable: the CLI prints them and the API
//! returns them.

use std::fmt;

use time::OffsetDateTime;

use super::key::KeyId;

/// The precise reason behind `license_invalid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidReason {
    /// Not a Holdfast license key at all, or damaged.
    Malformed,
    /// The payload was changed after signing, or signed by another key.
    BadSignature,
    /// Signed by a vendor key this build does not trust.
    UnknownKey,
    /// Bound to another appliance's instance id.
    WrongInstance,
    /// Issued in the future of this appliance's clock: the clock is behind.
    IssuedInFuture,
    /// An older issue of a license than one already accepted (or another key issued at the
    /// same second): no rollback.
    Superseded,
    /// A key that starts later but does not renew the license in force.
    NotARenewal,
}

impl InvalidReason {
    pub const fn as_str(self) -> &'static str {
        match self {
            InvalidReason::Malformed => "malformed",
            InvalidReason::BadSignature => "bad_signature",
            InvalidReason::UnknownKey => "unknown_key",
            InvalidReason::WrongInstance => "wrong_instance",
            InvalidReason::IssuedInFuture => "issued_in_future",
            InvalidReason::Superseded => "superseded",
            InvalidReason::NotARenewal => "not_a_renewal",
        }
    }
}

/// A key refused at install or inspection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LicenseError {
    #[error("malformed license key: {0}")]
    Malformed(String),
    #[error("bad signature: the key was altered or not signed by vendor key {0}")]
    BadSignature(KeyId),
    #[error("unknown vendor key {0}: this build does not trust the key that signed it")]
    UnknownKey(KeyId),
    #[error("the key is bound to instance {bound_to}, and this appliance is instance {this}")]
    WrongInstance { bound_to: String, this: String },
    #[error(
        "the key was issued at {}, after this appliance's time {}: check the system clock",
        rfc3339(*issued_at),
        rfc3339(*now)
    )]
    IssuedInFuture {
        issued_at: OffsetDateTime,
        now: OffsetDateTime,
    },
    #[error(
        "license {license_id} was already accepted in an issue of {}; {}",
        rfc3339(*newest),
        if *same_second {
            "another key issued at that same second cannot replace it"
        } else {
            "an older issue of it cannot replace it"
        }
    )]
    Superseded {
        license_id: String,
        newest: OffsetDateTime,
        same_second: bool,
    },
    #[error(
        "the key starts at {} and belongs to license {license_id}, not to license {in_force}, \
         which is in force: only a renewal of the license in force can wait for its start; \
         install it from {} on",
        rfc3339(*starts),
        rfc3339(*starts)
    )]
    NotARenewal {
        license_id: String,
        in_force: String,
        starts: OffsetDateTime,
    },
    #[error("the license expired and its grace period ended at {}", rfc3339(*grace_ended))]
    Expired { grace_ended: OffsetDateTime },
}

/// A time as Holdfast prints it everywhere: RFC 3339, UTC.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

impl LicenseError {
    /// `license_invalid` or `license_expired`.
    pub fn code(&self) -> &'static str {
        match self {
            LicenseError::Expired { .. } => "license_expired",
            _ => "license_invalid",
        }
    }

    /// The reason within `license_invalid`.
    pub fn reason(&self) -> Option<InvalidReason> {
        Some(match self {
            LicenseError::Malformed(_) => InvalidReason::Malformed,
            LicenseError::BadSignature(_) => InvalidReason::BadSignature,
            LicenseError::UnknownKey(_) => InvalidReason::UnknownKey,
            LicenseError::WrongInstance { .. } => InvalidReason::WrongInstance,
            LicenseError::IssuedInFuture { .. } => InvalidReason::IssuedInFuture,
            LicenseError::Superseded { .. } => InvalidReason::Superseded,
            LicenseError::NotARenewal { .. } => InvalidReason::NotARenewal,
            LicenseError::Expired { .. } => return None,
        })
    }

    /// `license_invalid (bad_signature): …` — the one line the CLI prints.
    pub fn one_line(&self) -> String {
        match self.reason() {
            Some(reason) => format!("{} ({}): {self}", self.code(), reason.as_str()),
            None => format!("{}: {self}", self.code()),
        }
    }
}

impl fmt::Display for InvalidReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
