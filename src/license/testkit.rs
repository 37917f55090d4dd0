//! Keys for the license unit tests, signed by a throwaway vendor key.

use time::OffsetDateTime;

use super::issue::{IssueRequest, SigningKeyFile, issue_key};
use super::key::VerifiedLicense;
use super::payload::{FORMAT_VERSION, Payload};
use super::trusted::TrustedKeys;

pub const DAY: i64 = 86_400;
/// A fixed "now" so every boundary is exact.
pub const T0: i64 = 1_800_000_000;

pub fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap()
}

pub fn payload() -> Payload {
    Payload {
        format: FORMAT_VERSION,
        license_id: "lic-1".to_owned(),
        customer: "Acme Corporation International".to_owned(),
        edition: "enterprise".to_owned(),
        issued_at: T0,
        not_before: None,
        expires_at: Some(T0 + 365 * DAY),
        grace_days: 14,
        max_seats: 50,
        max_tenants: 5,
        features: vec!["sso".to_owned(), "branding".to_owned()],
        instance: None,
    }
}

pub struct Vendor {
    pub key: SigningKeyFile,
}

impl Vendor {
    pub fn new() -> Self {
        Self {
            key: SigningKeyFile::generate(),
        }
    }

    pub fn trusted(&self) -> TrustedKeys {
        TrustedKeys::only(vec![self.key.public()])
    }

    pub fn issue(&self, payload: Payload) -> VerifiedLicense {
        issue_key(&self.key, &IssueRequest { payload }).unwrap()
    }

    pub fn issue_with(&self, change: impl FnOnce(&mut Payload)) -> VerifiedLicense {
        let mut p = payload();
        change(&mut p);
        self.issue(p)
    }
}
