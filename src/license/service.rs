//! The license as the running appliance holds it: keys verified once when loaded or
//! installed, cached, and evaluated against the time on every read. No request path checks a
//! signature.

use std::sync::{PoisonError, RwLock};

use serde::Serialize;
use time::OffsetDateTime;

use super::engine::{
    Effective, InstallDecision, Usage, check_install, check_not_rolled_back, evaluate,
};
use super::error::LicenseError;
use super::error::rfc3339;
use super::key::VerifiedLicense;
use super::payload::Payload;
use super::store::{self, NewInstall, Stored};
use super::trusted::TrustedKeys;
use crate::appliance::{self, TimeReading};
use crate::storage::{Database, StorageError};

/// What the service holds between refreshes.
#[derive(Debug, Clone)]
struct Cached {
    current: Option<VerifiedLicense>,
    next: Option<VerifiedLicense>,
    generation: i64,
    time: TimeReading,
    /// Stored keys that no longer verify (e.g. a build that stopped trusting their key).
    problems: Vec<String>,
    /// Seats and tenants in use when last counted (on load and each refresh).
    usage: Usage,
}

/// The outcome of an accepted install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallOutcome {
    pub decision: InstallDecision,
    pub license: VerifiedLicense,
    /// A renewal that was waiting for its start and no longer is: replaced by this key (a
    /// newer issue of the license, or another license installed in its place).
    pub dropped_pending: Option<VerifiedLicense>,
}

/// Why an install did not happen.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(transparent)]
    Refused(#[from] LicenseError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The appliance's license.
#[derive(Debug)]
pub struct LicenseService {
    db: Database,
    trusted: TrustedKeys,
    instance_id: String,
    cache: RwLock<Cached>,
}

fn verify_stored(
    stored: Option<&store::Installed>,
    trusted: &TrustedKeys,
    problems: &mut Vec<String>,
) -> Option<VerifiedLicense> {
    let installed = stored?;
    match VerifiedLicense::verify(&installed.key, trusted) {
        Ok(license) => Some(license),
        Err(err) => {
            problems.push(format!(
                "stored key of license {} is ignored: {}",
                installed.license_id,
                err.one_line()
            ));
            None
        }
    }
}

impl LicenseService {
    /// Loads and verifies the stored keys and records the time. Blocking.
    pub fn load(db: &Database, trusted: TrustedKeys) -> Result<Self, StorageError> {
        let mut conn = db.conn()?;
        let instance_id = appliance::instance_id(&conn)?.to_string();
        let time = appliance::observe_time(&mut conn, OffsetDateTime::now_utc())?;
        let stored = store::load(&conn)?;
        let usage = appliance::usage(&conn)?;
        drop(conn);
        let mut cache = Self::verify_all(&stored, &trusted, time);
        cache.usage = usage;
        Ok(Self {
            db: db.clone(),
            trusted,
            instance_id,
            cache: RwLock::new(cache),
        })
    }

    fn verify_all(stored: &Stored, trusted: &TrustedKeys, time: TimeReading) -> Cached {
        let mut problems = Vec::new();
        Cached {
            current: verify_stored(stored.current.as_ref(), trusted, &mut problems),
            next: verify_stored(stored.next.as_ref(), trusted, &mut problems),
            generation: stored.generation,
            time,
            problems,
            usage: Usage::default(),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Cached> {
        self.cache.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The license in force now. Cheap: no I/O, no signature.
    pub fn effective(&self) -> Effective {
        let cache = self.read();
        let now = OffsetDateTime::now_utc().max(cache.time.high_water);
        evaluate(cache.current.as_ref(), cache.next.as_ref(), now)
    }

    /// Seats and tenants in use as last counted (a refresh counts them: at most a few
    /// seconds old in a running server). Cheap: no I/O.
    pub fn last_usage(&self) -> Usage {
        self.read().usage
    }

    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    pub fn trusted(&self) -> &TrustedKeys {
        &self.trusted
    }

    /// Picks up keys installed by another process, and (with `observe`) records the time and
    /// promotes a renewal whose time has come. Blocking; the server calls it on a timer.
    pub fn refresh(&self, observe: bool) -> Result<(), StorageError> {
        let mut conn = self.db.conn()?;
        let time = if observe {
            appliance::observe_time(&mut conn, OffsetDateTime::now_utc())?
        } else {
            self.read().time
        };
        let effective_next_due = {
            let cache = self.read();
            cache.next.as_ref().is_some_and(|n| {
                n.payload()
                    .not_before()
                    .is_none_or(|nbf| nbf <= time.effective_now())
            })
        };
        if observe && effective_next_due {
            store::promote_next(&mut conn)?;
        }
        let generation = store::generation(&conn)?;
        let usage = appliance::usage(&conn)?;
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        if generation == cache.generation {
            cache.time = time;
        } else {
            let stored = store::load(&conn)?;
            *cache = Self::verify_all(&stored, &self.trusted, time);
        }
        cache.usage = usage;
        Ok(())
    }

    /// Verifies `input` and installs it if the engine accepts it; the previous license stays
    /// when it refuses. Takes effect in this process at once and in a running server within
    /// seconds. Blocking.
    pub fn install(&self, input: &str, installed_by: &str) -> Result<InstallOutcome, InstallError> {
        let license = VerifiedLicense::verify(input, &self.trusted)?;
        let mut conn = self.db.conn()?;
        let time = appliance::observe_time(&mut conn, OffsetDateTime::now_utc())?;
        let now = time.effective_now();
        let payload = license.payload();
        let trusted = &self.trusted;
        let instance = self.instance_id.as_str();
        let mut dropped_pending = None;
        let decided = store::install_with(&mut conn, |tx, stored| {
            let mut ignored = Vec::new();
            let current = verify_stored(stored.current.as_ref(), trusted, &mut ignored);
            let next = verify_stored(stored.next.as_ref(), trusted, &mut ignored);
            let newest = store::newest_issue(tx, &payload.license_id)?;
            check_not_rolled_back(&license, newest.as_ref())?;
            let decision = check_install(&license, current.as_ref(), next.as_ref(), now, instance)?;
            // Either way the slot of the pending renewal is taken or cleared: say so.
            dropped_pending = next.filter(|n| n.payload_part() != license.payload_part());
            Ok::<_, InstallError>((
                decision,
                NewInstall {
                    key: license.text(),
                    license_id: &payload.license_id,
                    issued_at: payload.issued_at,
                    not_before: payload.not_before,
                    installed_at: now.unix_timestamp(),
                    installed_by,
                },
            ))
        })?;
        let decision = decided?;
        drop(conn);
        self.refresh(false)?;
        Ok(InstallOutcome {
            decision,
            license,
            dropped_pending,
        })
    }

    /// Every accepted install, newest first. Blocking.
    pub fn history(&self) -> Result<Vec<store::Installed>, StorageError> {
        let conn = self.db.conn()?;
        store::history(&conn)
    }

    /// Everything `license status` shows.
    pub fn status(&self, usage: Usage) -> LicenseStatus {
        let effective = self.effective();
        let cache = self.read();
        let payload = effective.license.as_ref().map(VerifiedLicense::payload);
        let time_text = |t: Option<OffsetDateTime>| t.map(rfc3339);
        LicenseStatus {
            state: effective.state.as_str(),
            customer: payload.map(|p| p.customer.clone()),
            edition: payload.map(|p| p.edition.clone()),
            license_id: payload.map(|p| p.license_id.clone()),
            seats_used: usage.seats,
            seats_cap: effective.max_seats,
            tenants_used: usage.tenants,
            tenants_cap: effective.max_tenants,
            over_cap: effective.over_cap(usage),
            features: effective
                .features
                .iter()
                .map(|f| f.as_str().to_owned())
                .collect(),
            issued_at: time_text(payload.map(Payload::issued_at)),
            not_before: time_text(payload.and_then(Payload::not_before)),
            expires_at: time_text(effective.expires_at()),
            grace_ends_at: time_text(effective.grace_ends_at()),
            days_left: effective.days_left(),
            warn_admins: effective.warn_admins(),
            unknown_features: payload.map(Payload::unknown_features).unwrap_or_default(),
            instance_binding: payload.and_then(|p| p.instance.clone()),
            pending_renewal_from: effective
                .pending
                .as_ref()
                .and_then(|p| p.payload().not_before())
                .map(rfc3339),
            pending_renewal: effective
                .pending
                .as_ref()
                .map(|p| PendingRenewal::of(p.payload())),
            instance_id: self.instance_id.clone(),
            trusted_key_ids: self.trusted.ids(),
            demo_key_trusted: self.trusted.demo_key_trusted(),
            clock_set_back: cache.time.clock_is_set_back(),
            clock_set_back_last_seen: cache.time.set_back.map(|(at, _)| rfc3339(at)),
            problems: cache.problems.clone(),
        }
    }
}

/// A renewal installed ahead of its start, as the status shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingRenewal {
    pub license_id: String,
    pub issued_at: String,
    pub starts_at: Option<String>,
    pub expires_at: Option<String>,
    pub seats_cap: u32,
    pub tenants_cap: u32,
    pub features: Vec<String>,
}

impl PendingRenewal {
    fn of(p: &Payload) -> Self {
        Self {
            license_id: p.license_id.clone(),
            issued_at: rfc3339(p.issued_at()),
            starts_at: p.not_before().map(rfc3339),
            expires_at: p.expires_at().map(rfc3339),
            seats_cap: p.max_seats,
            tenants_cap: p.max_tenants,
            features: p.features.clone(),
        }
    }
}

/// The license as `holdfast license status` and the operator API report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[allow(clippy::struct_excessive_bools)] // A report: each flag is a separate fact to show.
pub struct LicenseStatus {
    pub state: &'static str,
    pub customer: Option<String>,
    pub edition: Option<String>,
    pub license_id: Option<String>,
    pub seats_used: u32,
    pub seats_cap: u32,
    pub tenants_used: u32,
    pub tenants_cap: u32,
    pub over_cap: bool,
    /// Features this build knows and grants.
    pub features: Vec<String>,
    /// Feature names in the key this build does not know: kept, shown, granting nothing.
    pub unknown_features: Vec<String>,
    /// The instance id the key is bound to, if it is bound.
    pub instance_binding: Option<String>,
    pub issued_at: Option<String>,
    pub not_before: Option<String>,
    pub expires_at: Option<String>,
    pub grace_ends_at: Option<String>,
    pub days_left: Option<i64>,
    pub warn_admins: bool,
    pub pending_renewal_from: Option<String>,
    pub pending_renewal: Option<PendingRenewal>,
    pub instance_id: String,
    pub trusted_key_ids: Vec<String>,
    pub demo_key_trusted: bool,
    pub clock_set_back: bool,
    pub clock_set_back_last_seen: Option<String>,
    pub problems: Vec<String>,
}
