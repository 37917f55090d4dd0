//! Throttling of failed sign-ins, per account and per client address. After `max_failures`
//! failures within `window`, the key is locked for a while that doubles with each further
//! failure (up to `max_lock`); while locked, even the right password is refused, so guessing
//! cannot continue. Kept in memory: a restart forgives, which an attacker cannot trigger.
//!
//! An attempt is reserved before its password is checked and counted as it ends, so guesses
//! sent at once cannot all slip through before the first failure is counted: failures plus
//! attempts still being checked never exceed the budget, whatever the concurrency.

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
    /// Attempts reserved and not yet ended.
    in_flight: u32,
    since: Instant,
    locked_until: Option<Instant>,
}

impl Record {
    fn fresh(now: Instant) -> Self {
        Record {
            failures: 0,
            in_flight: 0,
            since: now,
            locked_until: None,
        }
    }

    fn idle(&self) -> bool {
        self.failures == 0 && self.in_flight == 0 && self.locked_until.is_none()
    }
}

/// Failure counts by key (an account or an address).
#[derive(Debug)]
pub struct Throttle {
    policy: ThrottlePolicy,
    records: Mutex<HashMap<String, Record>>,
}

/// Entries kept before old ones are swept, so a flood of addresses cannot grow memory.
const SWEEP_AT: usize = 10_000;
/// What a caller refused only because its budget is held by attempts still being checked is
/// told to wait.
const BUSY_RETRY: Duration = Duration::from_secs(1);

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

    /// The record of `key`, its window restarted if it has passed and no lock holds.
    fn record<'m>(
        &self,
        records: &'m mut HashMap<String, Record>,
        key: &str,
        now: Instant,
    ) -> &'m mut Record {
        let policy = self.policy;
        if records.len() >= SWEEP_AT {
            records.retain(|_, r| {
                r.in_flight > 0
                    || now.duration_since(r.since) < policy.window
                    || r.locked_until.is_some_and(|u| u > now)
            });
        }
        let record = records.entry(key.to_owned()).or_insert(Record::fresh(now));
        let lock_over = record.locked_until.is_none_or(|u| u <= now);
        if now.duration_since(record.since) >= policy.window && lock_over {
            *record = Record {
                in_flight: record.in_flight,
                ..Record::fresh(now)
            };
        }
        record
    }

    /// Reserves one attempt for `key`: `Err(retry_after)` while it is locked, or while its
    /// failures and the attempts still in flight use up its budget (one attempt at a time
    /// once a lock has passed). Every reservation must end
    /// as a failure, a success, or (dropped) neither.
    pub fn reserve(&self, key: &str, now: Instant) -> Result<Reservation<'_>, Duration> {
        let max = self.policy.max_failures;
        let mut records = self.records();
        let record = self.record(&mut records, key, now);
        if let Some(until) = record.locked_until.filter(|u| *u > now) {
            return Err(until - now);
        }
        // After a lock has passed, one attempt at a time: each failure locks again.
        let budget = max.saturating_sub(record.failures).max(1);
        if record.in_flight >= budget {
            return Err(BUSY_RETRY);
        }
        record.in_flight += 1;
        Ok(Reservation {
            throttle: self,
            key: key.to_owned(),
            ended: false,
        })
    }

    /// Ends a reservation that decided nothing (the check could not run).
    fn release(&self, key: &str) {
        let mut records = self.records();
        if let Some(record) = records.get_mut(key) {
            record.in_flight = record.in_flight.saturating_sub(1);
            if record.idle() {
                records.remove(key);
            }
        }
    }

    /// Ends a reservation as a failure; returns the lock it caused, if any.
    fn fail(&self, key: &str, now: Instant) -> Option<Duration> {
        let policy = self.policy;
        let mut records = self.records();
        let record = self.record(&mut records, key, now);
        record.in_flight = record.in_flight.saturating_sub(1);
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

    /// Ends a reservation as a success, which clears the key's failures.
    fn succeed(&self, key: &str) {
        let mut records = self.records();
        if let Some(record) = records.get_mut(key) {
            record.in_flight = record.in_flight.saturating_sub(1);
            record.failures = 0;
            record.locked_until = None;
            if record.idle() {
                records.remove(key);
            }
        }
    }
}

/// One reserved attempt at a key. Dropped without an outcome (the check could not run, or
/// the client went away), it gives its place back.
#[derive(Debug)]
#[must_use = "a reservation ends in succeed or fail"]
pub struct Reservation<'t> {
    throttle: &'t Throttle,
    key: String,
    ended: bool,
}

impl Reservation<'_> {
    /// Counts the attempt as a failure; returns the lock it caused, if any.
    pub fn fail(mut self, now: Instant) -> Option<Duration> {
        self.ended = true;
        self.throttle.fail(&self.key, now)
    }

    /// The attempt succeeded: the key's failures are cleared.
    pub fn succeed(mut self) {
        self.ended = true;
        self.throttle.succeed(&self.key);
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.ended {
            self.throttle.release(&self.key);
        }
    }
}

/// How many failures one client address gets (sign-ins, one-time links) before it waits.
pub const ADDRESS_POLICY: ThrottlePolicy = ThrottlePolicy {
    max_failures: 20,
    window: Duration::from_secs(15 * 60),
    first_lock: Duration::from_secs(60),
    max_lock: Duration::from_secs(30 * 60),
};

/// The key an address is throttled by: IPv6 clients by their /64, which one subscriber
/// usually holds whole, so rotating addresses within it buys no more guesses.
pub fn address_key(address: &str) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => address.to_owned(),
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
            addresses: Throttle::new(ADDRESS_POLICY),
        }
    }
}

/// One reserved sign-in attempt, at an account from an address.
#[derive(Debug)]
#[must_use = "an attempt ends in succeed or fail"]
pub struct Attempt<'t> {
    account: Reservation<'t>,
    address: Reservation<'t>,
}

impl SignInThrottle {
    /// Reserves an attempt at `account` from `address`: `Err(retry_after)` if either has no
    /// budget left.
    pub fn reserve(
        &self,
        account: &str,
        address: &str,
        now: Instant,
    ) -> Result<Attempt<'_>, Duration> {
        let account = self.accounts.reserve(account, now)?;
        let address = self.addresses.reserve(&address_key(address), now)?;
        Ok(Attempt { account, address })
    }
}

impl Attempt<'_> {
    /// A wrong password: counted against the account and the address.
    pub fn fail(self, now: Instant) {
        let _ = self.account.fail(now);
        let _ = self.address.fail(now);
    }

    /// The right password clears the account; the address keeps its count, so one valid
    /// account cannot be used to reset guessing at others.
    pub fn succeed(self) {
        self.account.succeed();
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

    /// One whole attempt that fails.
    fn guess(t: &Throttle, key: &str, now: Instant) -> Result<Option<Duration>, Duration> {
        Ok(t.reserve(key, now)?.fail(now))
    }

    #[test]
    fn locks_after_max_failures_doubling_up_to_the_maximum() {
        let t = throttle();
        let start = Instant::now();
        assert_eq!(guess(&t, "a", start), Ok(None));
        assert_eq!(guess(&t, "a", start), Ok(None));
        assert_eq!(guess(&t, "a", start), Ok(Some(Duration::from_secs(10))));
        assert_eq!(
            t.reserve("a", start).map(drop),
            Err(Duration::from_secs(10))
        );
        assert!(t.reserve("b", start).is_ok(), "other keys are untouched");
        let later = start + Duration::from_secs(11);
        assert_eq!(guess(&t, "a", later), Ok(Some(Duration::from_secs(20))));
        assert!(guess(&t, "a", later).is_err(), "locked again");
        // Failures counted while locked (attempts reserved before the lock) keep doubling.
        assert_eq!(t.fail("a", later), Some(Duration::from_secs(40)));
        assert_eq!(t.fail("a", later), Some(Duration::from_secs(40)), "capped");
        let later = later + Duration::from_secs(41);
        t.reserve("a", later).unwrap().succeed();
        assert!(t.reserve("a", later).is_ok());
    }

    #[test]
    fn failures_outside_the_window_are_forgotten() {
        let t = throttle();
        let start = Instant::now();
        guess(&t, "a", start).unwrap();
        guess(&t, "a", start).unwrap();
        let much_later = start + Duration::from_secs(61);
        assert_eq!(guess(&t, "a", much_later), Ok(None), "a fresh window");
    }

    #[test]
    fn attempts_in_flight_hold_the_budget_until_they_end() {
        let t = throttle();
        let now = Instant::now();
        let mut held: Vec<_> = (0..3).map(|_| t.reserve("a", now).unwrap()).collect();
        assert_eq!(
            t.reserve("a", now).map(drop),
            Err(BUSY_RETRY),
            "a burst gets no more attempts than the budget"
        );
        held.pop();
        held.push(t.reserve("a", now).unwrap());
        for attempt in held {
            let _ = attempt.fail(now);
        }
        assert!(t.reserve("a", now).is_err(), "then locked");
    }

    #[test]
    fn an_attempt_dropped_without_an_outcome_gives_its_reservation_back() {
        let t = SignInThrottle::default();
        let now = Instant::now();
        let attempts: Vec<_> = (0..5)
            .map(|_| t.reserve("acct", "addr", now).unwrap())
            .collect();
        assert!(t.reserve("acct", "addr", now).is_err());
        drop(attempts);
        t.reserve("acct", "addr", now).unwrap().succeed();
        assert!(t.accounts.records().is_empty(), "nothing left behind");
        assert!(t.addresses.records().is_empty(), "nothing left behind");
    }

    #[test]
    fn ipv6_clients_are_throttled_by_their_64() {
        assert_eq!(
            address_key("2001:db8:1:2:aaaa::1"),
            address_key("2001:db8:1:2:bbbb::9")
        );
        assert_ne!(
            address_key("2001:db8:1:2::1"),
            address_key("2001:db8:1:3::1")
        );
        assert_eq!(address_key("192.0.2.7"), "192.0.2.7");
    }
}
