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
    /// An older key of the same license than the one installed.
    Superseded,
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
        "the key was issued at {issued_at}, after this appliance's time {now}: check the system clock"
    )]
    IssuedInFuture {
        issued_at: OffsetDateTime,
        now: OffsetDateTime,
    },
    #[error(
        "license {license_id} is installed in a newer issue (issued {installed}); an older key of it cannot replace it"
    )]
    Superseded {
        license_id: String,
        installed: OffsetDateTime,
    },
    #[error("the license expired and its grace period ended at {grace_ended}")]
    Expired { grace_ended: OffsetDateTime },
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
