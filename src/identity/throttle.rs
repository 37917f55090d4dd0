//! Throttling of failed sign-ins, per account and per client address. After `max_failures`
//! failures within `window`, the key is locked for a while that doubles with each further
//! failure (up to `max_lock`); while locked, even the right password is refused, so guessing
//! cannot continue. Kept in memory: a restart forgives, which an attacker cannot trigger.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How strict one throttle is.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub max_failures: u32,
    pub window: Duration,
    pub first_lock: Duration,
    pub max_lock: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    since: Instant,
    locked_until: Option<Instant>,
}

/// Failure counts by key (an account or an address).
#[derive(Debug)]
pub struct Throttle {
    policy: ThrottlePolicy,
    records: Mutex<HashMap<String, Record>>,
}

/// Entries kept before old ones are swept, so a flood of addresses cannot grow memory.
const SWEEP_AT: usize = 10_000;

impl Throttle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            records: Mutex::new(HashMap::new()),
        }
    }

    fn records(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
        // A panic while holding the lock cannot leave a record half-written.
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `Err(retry_after)` while `key` is locked.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        match self.records().get(key).and_then(|r| r.locked_until) {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Counts a failure; returns the lock it caused, if any.
    pub fn fail(&self, key: &str, now: Instant) -> Option<Duration> {
        let policy = self.policy;
        let mut records = self.records();
        if records.len() >= SWEEP_AT {
            records.retain(|_, r| {
                now.duration_since(r.since) < policy.window
                    || r.locked_until.is_some_and(|u| u > now)
            });
        }
        let record = records.entry(key.to_owned()).or_insert(Record {
            failures: 0,
            since: now,
            locked_until: None,
        });
        let lock_over = record.locked_until.is_none_or(|u| u <= now);
        if now.duration_since(record.since) >= policy.window && lock_over {
            *record = Record {
                failures: 0,
                since: now,
                locked_until: None,
            };
        }
        record.failures += 1;
        if record.failures < policy.max_failures {
            return None;
        }
        let doublings = (record.failures - policy.max_failures).min(16);
        let lock = policy
            .first_lock
            .saturating_mul(1 << doublings)
            .min(policy.max_lock);
        record.locked_until = Some(now + lock);
        Some(lock)
    }

    /// A success clears the key's record.
    pub fn succeed(&self, key: &str) {
        self.records().remove(key);
    }
}

/// The two throttles every sign-in passes: one per account, one per address.
#[derive(Debug)]
pub struct SignInThrottle {
    pub accounts: Throttle,
    pub addresses: Throttle,
}

impl Default for SignInThrottle {
    fn default() -> Self {
        Self {
            accounts: Throttle::new(ThrottlePolicy {
                max_failures: 5,
                window: Duration::from_secs(15 * 60),
                first_lock: Duration::from_secs(30),
                max_lock: Duration::from_secs(15 * 60),
            }),
            addresses: Throttle::new(ThrottlePolicy {
                max_failures: 20,
                window: Duration::from_secs(15 * 60),
                first_lock: Duration::from_secs(60),
                max_lock: Duration::from_secs(30 * 60),
            }),
        }
    }
}

impl SignInThrottle {
    /// `Err(retry_after)` if either the account or the address is locked.
    pub fn check(&self, account: &str, address: &str, now: Instant) -> Result<(), Duration> {
        self.accounts.check(account, now)?;
        self.addresses.check(address, now)
    }

    pub fn fail(&self, account: &str, address: &str, now: Instant) {
        self.accounts.fail(account, now);
        self.addresses.fail(address, now);
    }

    /// A correct password clears the account; the address keeps its count, so one valid
    /// account cannot be used to reset guessing at others.
    pub fn succeed(&self, account: &str) {
        self.accounts.succeed(account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> Throttle {
        Throttle::new(ThrottlePolicy {
            max_failures: 3,
            window: Duration::from_secs(60),
            first_lock: Duration::from_secs(10),
            max_lock: Duration::from_secs(40),
        })
    }

    #[test]
    fn locks_after_max_failures_doubling_up_to_the_maximum() {
        let t = throttle();
        let start = Instant::now();
        assert_eq!(t.fail("a", start), None);
        assert_eq!(t.fail("a", start), None);
        assert!(t.check("a", start).is_ok());
        assert_eq!(t.fail("a", start), Some(Duration::from_secs(10)));
        assert_eq!(t.check("a", start), Err(Duration::from_secs(10)));
        assert!(t.check("b", start).is_ok(), "other keys are untouched");
        let later = start + Duration::from_secs(11);
        assert!(t.check("a", later).is_ok());
        assert_eq!(t.fail("a", later), Some(Duration::from_secs(20)));
        assert_eq!(t.fail("a", later), Some(Duration::from_secs(40)));
        assert_eq!(t.fail("a", later), Some(Duration::from_secs(40)), "capped");
        t.succeed("a");
        assert!(t.check("a", later).is_ok());
    }

    #[test]
    fn failures_outside_the_window_are_forgotten() {
        let t = throttle();
        let start = Instant::now();
        t.fail("a", start);
        t.fail("a", start);
        let much_later = start + Duration::from_secs(61);
        assert_eq!(t.fail("a", much_later), None, "a fresh window");
    }
}
