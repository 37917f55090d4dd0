//! Facts about this appliance that outlive any one process: its instance id and the time
//! high-water mark.

use std::fmt;

use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use crate::storage::StorageError;

/// How far behind the high-water mark the system clock may be before it counts as set back.
/// Less than this is ordinary drift (NTP corrections, a VM resumed from a snapshot).
pub const CLOCK_SET_BACK_TOLERANCE_SECS: i64 = 24 * 60 * 60;

/// The id of this installation, made once when its control database is created. A license
/// key may be bound to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceId(String);

impl InstanceId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads the instance id.
pub fn instance_id(conn: &Connection) -> Result<InstanceId, StorageError> {
    let id: String = conn.query_row(
        "SELECT value FROM appliance_meta WHERE key = 'instance_id'",
        [],
        |row| row.get(0),
    )?;
    Ok(InstanceId(id))
}

/// What the appliance knows about time after looking at the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeReading {
    /// The system clock now.
    pub clock: OffsetDateTime,
    /// The latest time ever seen, this reading included.
    pub high_water: OffsetDateTime,
    /// When the clock was last seen set back by more than the tolerance, and by how many
    /// seconds; `None` if never.
    pub set_back: Option<(OffsetDateTime, i64)>,
}

impl TimeReading {
    /// The time licensing judges by: the later of the clock and the high-water mark.
    pub fn effective_now(&self) -> OffsetDateTime {
        self.clock.max(self.high_water)
    }

    /// Is the system clock now behind the mark by more than the tolerance?
    pub fn clock_is_set_back(&self) -> bool {
        (self.high_water - self.clock).whole_seconds() > CLOCK_SET_BACK_TOLERANCE_SECS
    }
}

fn from_unix(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Records `clock` as seen: the mark only moves forward, and a clock set back by more than a
/// day is remembered so it can be reported. One short write transaction.
pub fn observe_time(
    conn: &mut Connection,
    clock: OffsetDateTime,
) -> Result<TimeReading, StorageError> {
    let now = clock.unix_timestamp();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mark: i64 = tx.query_row("SELECT high_water_unix FROM clock WHERE id = 1", [], |r| {
        r.get(0)
    })?;
    let behind = mark - now;
    if behind > CLOCK_SET_BACK_TOLERANCE_SECS {
        tx.execute(
            "UPDATE clock SET set_back_seen_unix = ?1, set_back_by_secs = ?2 WHERE id = 1",
            params![now, behind],
        )?;
    } else if now > mark {
        tx.execute(
            "UPDATE clock SET high_water_unix = ?1 WHERE id = 1",
            params![now],
        )?;
    }
    let (high_water, seen, by): (i64, Option<i64>, Option<i64>) = tx.query_row(
        "SELECT high_water_unix, set_back_seen_unix, set_back_by_secs FROM clock WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    tx.commit()?;
    Ok(TimeReading {
        clock,
        high_water: from_unix(high_water),
        set_back: seen.zip(by).map(|(at, by)| (from_unix(at), by)),
    })
}

/// The stored reading without writing anything (for read-only callers).
pub fn last_reading(conn: &Connection, clock: OffsetDateTime) -> Result<TimeReading, StorageError> {
    let row: Option<(i64, Option<i64>, Option<i64>)> = conn
        .query_row(
            "SELECT high_water_unix, set_back_seen_unix, set_back_by_secs FROM clock WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (high_water, seen, by) = row.unwrap_or((clock.unix_timestamp(), None, None));
    Ok(TimeReading {
        clock,
        high_water: from_unix(high_water),
        set_back: seen.zip(by).map(|(at, by)| (from_unix(at), by)),
    })
}

/// What the appliance has in use, as the license counts it.
pub fn usage(conn: &Connection) -> Result<crate::license::Usage, StorageError> {
    Ok(crate::license::Usage {
        seats: crate::identity::users::seats_in_use(conn)?,
        tenants: crate::tenancy::registry::count(conn)?,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use time::Duration;

    use super::*;
    use crate::storage::Schema;

    fn control_db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::storage::migrate_connection(&mut conn, Schema::Control, Path::new(":memory:"))
            .unwrap();
        conn
    }

    #[test]
    fn the_instance_id_is_made_once_and_stays() {
        let conn = control_db();
        let id = instance_id(&conn).unwrap();
        assert_eq!(id.as_str().len(), 20);
        assert!(id.as_str().chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(instance_id(&conn).unwrap(), id);
        assert_ne!(
            instance_id(&control_db()).unwrap(),
            id,
            "each install differs"
        );
    }

    #[test]
    fn the_mark_only_moves_forward() {
        let mut conn = control_db();
        let t0 = OffsetDateTime::now_utc() + Duration::days(10);
        let first = observe_time(&mut conn, t0).unwrap();
        assert_eq!(first.high_water.unix_timestamp(), t0.unix_timestamp());
        assert_eq!(first.effective_now(), t0);

        // An hour back is drift: the mark stays, nothing is reported.
        let drift = observe_time(&mut conn, t0 - Duration::hours(1)).unwrap();
        assert_eq!(drift.high_water.unix_timestamp(), t0.unix_timestamp());
        assert_eq!(drift.effective_now().unix_timestamp(), t0.unix_timestamp());
        assert!(!drift.clock_is_set_back());
        assert!(drift.set_back.is_none());
    }

    #[test]
    fn a_clock_set_back_more_than_a_day_is_reported_and_remembered() {
        let mut conn = control_db();
        let t0 = OffsetDateTime::now_utc() + Duration::days(10);
        observe_time(&mut conn, t0).unwrap();
        let back = t0 - Duration::days(3);
        let reading = observe_time(&mut conn, back).unwrap();
        assert!(reading.clock_is_set_back());
        assert_eq!(
            reading.effective_now().unix_timestamp(),
            t0.unix_timestamp()
        );
        let (_, by) = reading.set_back.unwrap();
        assert_eq!(by, 3 * 24 * 3600);

        // Still remembered after the clock is fixed.
        let fixed = observe_time(&mut conn, t0 + Duration::minutes(1)).unwrap();
        assert!(!fixed.clock_is_set_back());
        assert!(fixed.set_back.is_some());
    }
}
