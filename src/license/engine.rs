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
    /// Active users of all tenants (deactivated users and operators do not count).
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
                installed: old.issued_at(),
            });
        }
    }
    let in_force_now = evaluate(current, next, now);
    let starts_later = payload.not_before().is_some_and(|nbf| now < nbf);
    let something_in_force = matches!(
        in_force_now.state,
        LicenseState::Valid | LicenseState::Grace | LicenseState::Expired
    );
    Ok(if starts_later && something_in_force {
        InstallDecision::Next
    } else {
        InstallDecision::Current
    })
}
