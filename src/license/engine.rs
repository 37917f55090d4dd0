//! The enforcement engine: pure functions from (installed keys, time, usage) to the state of
//! the license and each decision. No I/O and no clock reading here: time is passed in, so
//! every boundary can be tested to the second.

use serde::Serialize;
use time::OffsetDateTime;

use super::error::LicenseError;
use super::key::VerifiedLicense;
use super::payload::Feature;

/// Without a license: one tenant, five seats, no premium features.
pub const COMMUNITY_MAX_SEATS: u32 = 5;
pub const COMMUNITY_MAX_TENANTS: u32 = 1;
/// Admins and operators are warned this many days before expiry.
pub const WARNING_DAYS: i64 = 30;
/// How far in the future of our clock a key may have been issued (clock skew).
pub const ISSUE_SKEW_SECS: i64 = 5 * 60;

/// The effective license state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenseState {
    /// No key: community limits.
    Unlicensed,
    Valid,
    /// Past expiry, within the grace days: everything works, with warnings.
    Grace,
    /// Past grace: read-only. Sign-in, reading, export and installing a key still work.
    Expired,
    /// The installed key's not-before date has not come: community limits until it does.
    NotYetValid,
}

impl LicenseState {
    pub fn as_str(self) -> &'static str {
        match self {
            LicenseState::Unlicensed => "unlicensed",
            LicenseState::Valid => "valid",
            LicenseState::Grace => "grace",
            LicenseState::Expired => "expired",
            LicenseState::NotYetValid => "not_yet_valid",
        }
    }
}

/// What is in use, counted across the appliance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Users of all tenants holding a seat: active ones and pending invitations
    /// (deactivated users and operators do not count).
    pub seats: u32,
    pub tenants: u32,
}

/// A refusal by the license, with its stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("all {cap} seats of the license are in use")]
    SeatLimitReached { cap: u32 },
    #[error("all {cap} tenants of the license are in use")]
    TenantLimitReached { cap: u32 },
    #[error("the license does not include {0}")]
    FeatureNotLicensed(Feature),
    #[error("the license has expired; Holdfast is read-only until a new key is installed")]
    ReadOnly,
    #[error("the license has expired; install a new key to add users or tenants")]
    LicenseExpired,
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::SeatLimitReached { .. } => "seat_limit_reached",
            Refusal::TenantLimitReached { .. } => "tenant_limit_reached",
            Refusal::FeatureNotLicensed(_) => "feature_not_licensed",
            Refusal::ReadOnly => "read_only",
            Refusal::LicenseExpired => "license_expired",
        }
    }
}

/// The license in force at one instant, and what it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    pub state: LicenseState,
    /// The key in force (absent when unlicensed).
    pub license: Option<VerifiedLicense>,
    /// A renewal waiting for its not-before date.
    pub pending: Option<VerifiedLicense>,
    pub now: OffsetDateTime,
    pub max_seats: u32,
    pub max_tenants: u32,
    pub features: Vec<Feature>,
}

/// Chooses the key in force at `now` — a pending renewal takes over at its not-before second —
/// and derives the state.
pub fn evaluate(
    current: Option<&VerifiedLicense>,
    next: Option<&VerifiedLicense>,
    now: OffsetDateTime,
) -> Effective {
    let next_due = next.is_some_and(|n| n.payload().not_before().is_none_or(|nbf| nbf <= now));
    let (in_force, pending) = if next_due {
        (next, None)
    } else {
        (current.or(next), next.filter(|_| current.is_some()))
    };
    let Some(license) = in_force else {
        return community(LicenseState::Unlicensed, None, now);
    };
    let payload = license.payload();
    let state = if payload.not_before().is_some_and(|nbf| now < nbf) {
        LicenseState::NotYetValid
    } else {
        match (payload.expires_at(), payload.grace_ends_at()) {
            (Some(exp), _) if now < exp => LicenseState::Valid,
            (Some(_), Some(grace_end)) if now < grace_end => LicenseState::Grace,
            (Some(_), _) => LicenseState::Expired,
            (None, _) => LicenseState::Valid,
        }
    };
    if state == LicenseState::NotYetValid {
        return community(state, Some(license.clone()), now);
    }
    Effective {
        state,
        license: Some(license.clone()),
        pending: pending.cloned(),
        now,
        max_seats: payload.max_seats,
        max_tenants: payload.max_tenants,
        features: payload.known_features(),
    }
}

fn community(
    state: LicenseState,
    license: Option<VerifiedLicense>,
    now: OffsetDateTime,
) -> Effective {
    Effective {
        state,
        license,
        pending: None,
        now,
        max_seats: COMMUNITY_MAX_SEATS,
        max_tenants: COMMUNITY_MAX_TENANTS,
        features: Vec::new(),
    }
}

impl Effective {
    fn writable(&self) -> bool {
        self.state != LicenseState::Expired
    }

    /// May one more seat be used (create, invite, reactivate a user)?
    pub fn may_add_seat(&self, usage: Usage) -> Result<(), Refusal> {
        if !self.writable() {
            return Err(Refusal::LicenseExpired);
        }
        if usage.seats >= self.max_seats {
            return Err(Refusal::SeatLimitReached {
                cap: self.max_seats,
            });
        }
        Ok(())
    }

    /// May one more tenant be created?
    pub fn may_add_tenant(&self, usage: Usage) -> Result<(), Refusal> {
        if !self.writable() {
            return Err(Refusal::LicenseExpired);
        }
        if usage.tenants >= self.max_tenants {
            return Err(Refusal::TenantLimitReached {
                cap: self.max_tenants,
            });
        }
        Ok(())
    }

    /// Is a premium feature licensed? (Kept after expiry: sign-in by SSO must keep working.)
    pub fn feature(&self, feature: Feature) -> Result<(), Refusal> {
        if self.features.contains(&feature) {
            Ok(())
        } else {
            Err(Refusal::FeatureNotLicensed(feature))
        }
    }

    /// Are business writes allowed? Refused only after grace.
    pub fn may_write(&self) -> Result<(), Refusal> {
        if self.writable() {
            Ok(())
        } else {
            Err(Refusal::ReadOnly)
        }
    }

    /// Expiry of the key in force, if it expires.
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        self.license.as_ref().and_then(|l| l.payload().expires_at())
    }

    /// The first second of the read-only state, if the license expires.
    pub fn grace_ends_at(&self) -> Option<OffsetDateTime> {
        self.license
            .as_ref()
            .and_then(|l| l.payload().grace_ends_at())
    }

    /// Whole days until expiry, rounded up (0 on the last partial day, negative once past).
    pub fn days_left(&self) -> Option<i64> {
        self.expires_at().map(|exp| {
            let secs = (exp - self.now).whole_seconds();
            if secs > 0 {
                (secs + 86_399) / 86_400
            } else {
                secs / 86_400
            }
        })
    }

    /// Should admins and operators see a licensing warning? In grace, within the warning
    /// window before expiry, and once expired. Ordinary users are not warned.
    pub fn warn_admins(&self) -> bool {
        match self.state {
            LicenseState::Grace | LicenseState::Expired | LicenseState::NotYetValid => true,
            LicenseState::Valid => self.days_left().is_some_and(|d| d <= WARNING_DAYS),
            LicenseState::Unlicensed => false,
        }
    }

    /// Is usage over the caps (after a smaller license)? Nothing is removed; additions are
    /// refused until usage is back under the caps.
    pub fn over_cap(&self, usage: Usage) -> bool {
        usage.seats > self.max_seats || usage.tenants > self.max_tenants
    }
}

/// Where an accepted key goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallDecision {
    /// In force from now on.
    Current,
    /// A renewal: the key in force stays until the new key's not-before second.
    Next,
}

/// Judges a new key against what is installed. Refuses a key bound to another instance, one
/// issued in our future (the clock is behind), one already past grace, and an older key of
/// an installed license (no rollback to last year's larger key).
pub fn check_install(
    new: &VerifiedLicense,
    current: Option<&VerifiedLicense>,
    next: Option<&VerifiedLicense>,
    now: OffsetDateTime,
    instance_id: &str,
) -> Result<InstallDecision, LicenseError> {
    let payload = new.payload();
    if let Some(bound_to) = &payload.instance
        && bound_to != instance_id
    {
        return Err(LicenseError::WrongInstance {
            bound_to: bound_to.clone(),
            this: instance_id.to_owned(),
        });
    }
    if payload.issued_at > now.unix_timestamp() + ISSUE_SKEW_SECS {
        return Err(LicenseError::IssuedInFuture {
            issued_at: payload.issued_at(),
            now,
        });
    }
    if let Some(grace_end) = payload.grace_ends_at()
        && now >= grace_end
    {
        return Err(LicenseError::Expired {
            grace_ended: grace_end,
        });
    }
    for installed in [current, next].into_iter().flatten() {
        let old = installed.payload();
        if old.license_id == payload.license_id && payload.issued_at < old.issued_at {
            return Err(LicenseError::Superseded {
                license_id: old.license_id.clone(),
                newest: old.issued_at(),
                same_second: false,
            });
        }
    }
    let in_force_now = evaluate(current, next, now);
    let starts = payload.not_before().filter(|nbf| now < *nbf);
    let in_force = match in_force_now.state {
        LicenseState::Valid | LicenseState::Grace | LicenseState::Expired => {
            in_force_now.license.as_ref()
        }
        _ => None,
    };
    match (starts, in_force) {
        // A renewal of the license in force waits for its start; it replaces any renewal
        // already waiting (an older issue was refused above).
        (Some(_), Some(old)) if old.payload().license_id == payload.license_id => {
            Ok(InstallDecision::Next)
        }
        // Waiting would leave another license in force and this one's fate unclear; it
        // would replace it at once and drop to community limits until it starts.
        (Some(starts), Some(old)) => Err(LicenseError::NotARenewal {
            license_id: payload.license_id.clone(),
            in_force: old.payload().license_id.clone(),
            starts,
        }),
        _ => Ok(InstallDecision::Current),
    }
}

/// The newest issue of a license the appliance has ever accepted, from its install history:
/// its issue time and the payload part of every key accepted at that time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewestIssue {
    pub issued_at: i64,
    pub payloads: Vec<String>,
}

/// Refuses rollback by any order of installs: a key older than the newest issue of its
/// license ever accepted, or issued at that same second with another payload (two different
/// keys of one issue would let the older-looking one come back).
pub fn check_not_rolled_back(
    new: &VerifiedLicense,
    newest: Option<&NewestIssue>,
) -> Result<(), LicenseError> {
    let Some(newest) = newest else {
        return Ok(());
    };
    let payload = new.payload();
    let same_second = payload.issued_at == newest.issued_at;
    let known = newest.payloads.iter().any(|p| p == new.payload_part());
    if payload.issued_at < newest.issued_at || (same_second && !known) {
        return Err(LicenseError::Superseded {
            license_id: payload.license_id.clone(),
            newest: OffsetDateTime::from_unix_timestamp(newest.issued_at)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            same_second,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::license::testkit::{DAY, T0, Vendor, at};

    const EXP: i64 = T0 + 365 * DAY;
    const GRACE_END: i64 = EXP + 14 * DAY;

    fn state_at(license: &VerifiedLicense, secs: i64) -> LicenseState {
        evaluate(Some(license), None, at(secs)).state
    }

    #[test]
    fn no_key_means_community_limits() {
        let e = evaluate(None, None, at(T0));
        assert_eq!(e.state, LicenseState::Unlicensed);
        assert_eq!((e.max_seats, e.max_tenants), (5, 1));
        assert!(e.features.is_empty());
        assert_eq!(
            e.feature(Feature::Sso),
            Err(Refusal::FeatureNotLicensed(Feature::Sso))
        );
        assert!(e.may_write().is_ok());
        assert!(!e.warn_admins());
    }

    #[test]
    fn every_state_boundary_is_exact_to_the_second() {
        let vendor = Vendor::new();
        let license = vendor.issue_with(|_| {});
        assert_eq!(state_at(&license, T0), LicenseState::Valid);
        assert_eq!(
            state_at(&license, EXP - 1),
            LicenseState::Valid,
            "last valid second"
        );
        assert_eq!(
            state_at(&license, EXP),
            LicenseState::Grace,
            "the second of expiry"
        );
        assert_eq!(
            state_at(&license, GRACE_END - 1),
            LicenseState::Grace,
            "last second of grace"
        );
        assert_eq!(state_at(&license, GRACE_END), LicenseState::Expired);
        let perpetual = vendor.issue_with(|p| p.expires_at = None);
        assert_eq!(
            state_at(&perpetual, T0 + 100 * 365 * DAY),
            LicenseState::Valid
        );
        let later = vendor.issue_with(|p| p.not_before = Some(T0 + DAY));
        assert_eq!(state_at(&later, T0 + DAY - 1), LicenseState::NotYetValid);
        assert_eq!(
            state_at(&later, T0 + DAY),
            LicenseState::Valid,
            "not-before second"
        );
    }

    #[test]
    fn grace_works_fully_and_expiry_is_read_only() {
        let license = Vendor::new().issue_with(|_| {});
        let usage = Usage {
            seats: 3,
            tenants: 1,
        };
        let grace = evaluate(Some(&license), None, at(EXP + DAY));
        assert!(grace.may_write().is_ok());
        assert!(grace.may_add_seat(usage).is_ok());
        assert!(grace.warn_admins());
        let expired = evaluate(Some(&license), None, at(GRACE_END));
        assert_eq!(expired.may_write(), Err(Refusal::ReadOnly));
        assert_eq!(expired.may_add_seat(usage), Err(Refusal::LicenseExpired));
        assert_eq!(expired.may_add_tenant(usage), Err(Refusal::LicenseExpired));
        assert!(
            expired.feature(Feature::Sso).is_ok(),
            "sign-in by SSO keeps working"
        );
        assert_eq!(Refusal::ReadOnly.code(), "read_only");
    }

    #[test]
    fn not_yet_valid_keys_give_community_limits() {
        let license = Vendor::new().issue_with(|p| p.not_before = Some(T0 + 10 * DAY));
        let e = evaluate(Some(&license), None, at(T0));
        assert_eq!(e.state, LicenseState::NotYetValid);
        assert_eq!(
            (e.max_seats, e.max_tenants),
            (COMMUNITY_MAX_SEATS, COMMUNITY_MAX_TENANTS)
        );
    }

    #[test]
    fn caps_refuse_at_the_limit_and_never_below() {
        let e = evaluate(Some(&Vendor::new().issue_with(|_| {})), None, at(T0));
        assert!(
            e.may_add_seat(Usage {
                seats: 49,
                tenants: 0
            })
            .is_ok()
        );
        assert_eq!(
            e.may_add_seat(Usage {
                seats: 50,
                tenants: 0
            }),
            Err(Refusal::SeatLimitReached { cap: 50 })
        );
        assert!(
            e.may_add_tenant(Usage {
                seats: 0,
                tenants: 4
            })
            .is_ok()
        );
        assert_eq!(
            e.may_add_tenant(Usage {
                seats: 0,
                tenants: 5
            })
            .unwrap_err()
            .code(),
            "tenant_limit_reached"
        );
        assert!(e.over_cap(Usage {
            seats: 51,
            tenants: 0
        }));
        assert!(!e.over_cap(Usage {
            seats: 50,
            tenants: 5
        }));
        assert!(e.feature(Feature::Branding).is_ok());
        assert!(e.feature(Feature::ApiTokens).is_err());
    }

    #[test]
    fn warnings_start_thirty_days_before_expiry() {
        let license = Vendor::new().issue_with(|_| {});
        assert!(!evaluate(Some(&license), None, at(EXP - 31 * DAY)).warn_admins());
        let e = evaluate(Some(&license), None, at(EXP - 30 * DAY));
        assert_eq!(e.days_left(), Some(30));
        assert!(e.warn_admins());
    }

    #[test]
    fn a_renewal_takes_over_at_its_not_before_second() {
        let vendor = Vendor::new();
        let current = vendor.issue_with(|_| {});
        let renewal = vendor.issue_with(|p| {
            p.issued_at = T0 + 300 * DAY;
            p.not_before = Some(EXP);
            p.expires_at = Some(EXP + 365 * DAY);
            p.max_seats = 80;
        });
        let before = evaluate(Some(&current), Some(&renewal), at(EXP - 1));
        assert_eq!(before.max_seats, 50);
        assert_eq!(before.pending.as_ref(), Some(&renewal));
        let after = evaluate(Some(&current), Some(&renewal), at(EXP));
        assert_eq!(after.state, LicenseState::Valid, "no grace gap at renewal");
        assert_eq!(after.max_seats, 80);
        assert!(after.pending.is_none());
    }

    #[test]
    fn install_refuses_other_instances_future_keys_dead_keys_and_rollback() {
        let vendor = Vendor::new();
        let now = at(T0 + DAY);
        let bound = vendor.issue_with(|p| p.instance = Some("aaaa".to_owned()));
        assert!(check_install(&bound, None, None, now, "aaaa").is_ok());
        assert_eq!(
            check_install(&bound, None, None, now, "bbbb")
                .unwrap_err()
                .reason(),
            Some(crate::license::InvalidReason::WrongInstance)
        );

        let future = vendor.issue_with(|p| p.issued_at = T0 + DAY + ISSUE_SKEW_SECS + 1);
        assert!(matches!(
            check_install(&future, None, None, now, "x"),
            Err(LicenseError::IssuedInFuture { .. })
        ));
        let skewed = vendor.issue_with(|p| p.issued_at = T0 + DAY + ISSUE_SKEW_SECS);
        assert!(
            check_install(&skewed, None, None, now, "x").is_ok(),
            "small skew is fine"
        );

        let license = vendor.issue_with(|_| {});
        let dead = at(GRACE_END);
        assert_eq!(
            check_install(&license, None, None, dead, "x")
                .unwrap_err()
                .code(),
            "license_expired"
        );
        assert!(check_install(&license, None, None, at(GRACE_END - 1), "x").is_ok());

        let newer = vendor.issue_with(|p| p.issued_at = T0 + 10);
        let older = vendor.issue_with(|p| {
            p.issued_at = T0;
            p.max_seats = 500;
        });
        assert!(matches!(
            check_install(&older, Some(&newer), None, now, "x"),
            Err(LicenseError::Superseded { .. })
        ));
        let other_license = vendor.issue_with(|p| p.license_id = "lic-2".to_owned());
        assert!(check_install(&other_license, Some(&newer), None, now, "x").is_ok());
    }

    #[test]
    fn a_future_key_is_pending_only_while_something_is_in_force() {
        let vendor = Vendor::new();
        let current = vendor.issue_with(|_| {});
        let renewal = vendor.issue_with(|p| {
            p.not_before = Some(EXP);
            p.expires_at = Some(EXP + 365 * DAY);
        });
        let now = at(T0 + DAY);
        assert_eq!(
            check_install(&renewal, Some(&current), None, now, "x").unwrap(),
            InstallDecision::Next
        );
        assert_eq!(
            check_install(&renewal, None, None, now, "x").unwrap(),
            InstallDecision::Current
        );
    }

    #[test]
    fn the_newest_issue_ever_accepted_bounds_every_later_install() {
        let vendor = Vendor::new();
        let newest = vendor.issue_with(|p| p.issued_at = T0 + DAY);
        let record = NewestIssue {
            issued_at: T0 + DAY,
            payloads: vec![newest.payload_part().to_owned()],
        };
        assert!(
            check_not_rolled_back(&newest, Some(&record)).is_ok(),
            "the same key again"
        );
        let older = vendor.issue_with(|_| {});
        assert!(matches!(
            check_not_rolled_back(&older, Some(&record)),
            Err(LicenseError::Superseded {
                same_second: false,
                ..
            })
        ));
        let twin = vendor.issue_with(|p| {
            p.issued_at = T0 + DAY;
            p.max_seats += 1;
        });
        assert!(matches!(
            check_not_rolled_back(&twin, Some(&record)),
            Err(LicenseError::Superseded {
                same_second: true,
                ..
            })
        ));
        let later = vendor.issue_with(|p| p.issued_at = T0 + 2 * DAY);
        assert!(check_not_rolled_back(&later, Some(&record)).is_ok());
        assert!(
            check_not_rolled_back(&older, None).is_ok(),
            "a license never seen"
        );
    }

    #[test]
    fn a_key_starting_later_waits_only_if_it_renews_the_license_in_force() {
        let vendor = Vendor::new();
        let current = vendor.issue_with(|_| {});
        let stranger = vendor.issue_with(|p| {
            p.license_id = "another".to_owned();
            p.not_before = Some(EXP);
            p.expires_at = Some(EXP + 365 * DAY);
        });
        let now = at(T0 + DAY);
        assert!(matches!(
            check_install(&stranger, Some(&current), None, now, "x"),
            Err(LicenseError::NotARenewal { .. })
        ));
        assert_eq!(
            check_install(&stranger, None, None, now, "x").unwrap(),
            InstallDecision::Current,
            "with nothing in force it is installed, waiting on community limits"
        );
    }
}
