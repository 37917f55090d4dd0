//! Licensing: the key format, offline verification against compiled-in vendor keys, and the
//! enforcement engine that turns (key, time, usage) into what the appliance may do.
//!
//! Signatures are checked when a key is installed or loaded at start, never per request: the
//! server keeps the verified keys in [`LicenseService`] and evaluates the state from them.
//! Licensing never deletes or deactivates anything; its harshest state is read-only.

mod engine;
mod error;
mod issue;
mod key;
mod payload;
mod service;
mod store;
#[cfg(test)]
mod testkit;
mod trusted;

pub use engine::{
    COMMUNITY_MAX_SEATS, COMMUNITY_MAX_TENANTS, Effective, InstallDecision, LicenseState,
    NewestIssue, Refusal, Usage, WARNING_DAYS, check_install, check_not_rolled_back, evaluate,
};
pub use error::{InvalidReason, LicenseError, rfc3339};
pub use issue::{IssueRequest, SigningKeyFile, issue_key};
pub use key::{KEY_PREFIX, KeyId, MAX_KEY_LEN, VerifiedLicense, decode_unverified, hex};
pub use payload::{DEFAULT_GRACE_DAYS, FORMAT_VERSION, Feature, Payload};
pub use service::{InstallError, InstallOutcome, LicenseService, LicenseStatus, PendingRenewal};
pub use store::Installed;
pub use trusted::{PUBLIC_KEY_TAG, TrustedKey, TrustedKeys};
