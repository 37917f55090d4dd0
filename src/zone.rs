//! Time zones, and the days they cut time into.
//!
//! A zone is named as the IANA database names it (`Europe/Berlin`) and looked up in the copy
//! of that database compiled into the binary, so a container without `/usr/share/zoneinfo`
//! knows every zone and no host file is ever read for a name a client sent. Pages that group
//! by day (my tasks, the calendar) ask a zone where a day starts and which day a moment falls
//! on; daylight saving time moves those boundaries, which is why a fixed offset will not do.

use jiff::Timestamp;
use jiff::civil;
use jiff::tz::TimeZone;
use time::{Date, Month};

/// Longest zone name taken; the longest in the database is 32 bytes.
const LONGEST_NAME: usize = 64;

/// A day of a zone as stored times are compared with it: its date as a date typed alone is
/// kept (midnight UTC of that date), and the moments the day starts and ends in the zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DaySpan {
    pub date: i64,
    pub start: i64,
    pub end: i64,
}

/// A named time zone from the bundled database.
#[derive(Clone, Debug)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Zone {
    /// UTC, the zone of a tenant that set none.
    pub fn utc() -> Self {
        Self {
            name: "UTC".to_owned(),
            tz: TimeZone::UTC,
        }
    }

    /// The zone called `name`, or `None` unless the bundled database has it. Names are
    /// checked for their shape first: letters, digits and `/_+-`, no `..`, at most 64 bytes.
    pub fn named(name: &str) -> Option<Self> {
        let shaped = !name.is_empty()
            && name.len() <= LONGEST_NAME
            && !name.contains("..")
            && !name.starts_with('/')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b));
        if !shaped {
            return None;
        }
        let tz = jiff::tz::db().get(name).ok()?;
        let name = tz.iana_name().unwrap_or(name).to_owned();
        Some(Self { name, tz })
    }

    /// The zone's name as the database spells it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The day it is now in this zone.
    pub fn today(&self) -> Date {
        self.day_of(Timestamp::now().as_second())
    }

    /// The day in this zone of the moment `unix_seconds`.
    pub fn day_of(&self, unix_seconds: i64) -> Date {
        let moment = Timestamp::from_second(unix_seconds).unwrap_or(Timestamp::UNIX_EPOCH);
        from_civil(self.tz.to_datetime(moment).date())
    }

    /// The moment (Unix seconds) `day` starts in this zone: its midnight, or the first moment
    /// after it where a change of the clocks skips midnight.
    pub fn start_of(&self, day: Date) -> i64 {
        let start = to_civil(day)
            .and_then(|d| d.to_zoned_datetime(self.tz.clone()))
            .and_then(|z| z.start_of_day());
        start.map_or_else(
            |_| day.midnight().assume_utc().unix_timestamp(),
            |z| z.timestamp().as_second(),
        )
    }

    /// `day` of this zone as stored times are compared with it.
    pub fn span(&self, day: Date) -> DaySpan {
        DaySpan {
            date: day.midnight().assume_utc().unix_timestamp(),
            start: self.start_of(day),
            end: self.start_of(day.next_day().unwrap_or(day)),
        }
    }

    /// Today in this zone, as stored times are compared with it.
    pub fn today_span(&self) -> DaySpan {
        self.span(self.today())
    }

    /// The clock time of `unix_seconds` in this zone, as `HH:MM`.
    pub fn clock(&self, unix_seconds: i64) -> String {
        let moment = Timestamp::from_second(unix_seconds).unwrap_or(Timestamp::UNIX_EPOCH);
        let time = self.tz.to_datetime(moment).time();
        format!("{:02}:{:02}", time.hour(), time.minute())
    }
}

fn to_civil(day: Date) -> Result<civil::Date, jiff::Error> {
    civil::Date::new(
        i16::try_from(day.year()).unwrap_or(i16::MAX),
        i8::try_from(u8::from(day.month())).unwrap_or(1),
        i8::try_from(day.day()).unwrap_or(1),
    )
}

fn from_civil(day: civil::Date) -> Date {
    let month = u8::try_from(day.month())
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .unwrap_or(Month::January);
    Date::from_calendar_date(
        i32::from(day.year()),
        month,
        u8::try_from(day.day()).unwrap_or(1),
    )
    .unwrap_or(Date::MIN)
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::Zone;

    fn at(moment: time::PrimitiveDateTime) -> i64 {
        moment.assume_utc().unix_timestamp()
    }

    #[test]
    fn names_come_from_the_bundled_database_and_nothing_else() {
        assert_eq!(
            Zone::named("Europe/Berlin").unwrap().name(),
            "Europe/Berlin"
        );
        assert_eq!(
            Zone::named("europe/berlin").unwrap().name(),
            "Europe/Berlin"
        );
        for refused in [
            "",
            "Mars/Olympus_Mons",
            "../../etc/passwd",
            "/etc/localtime",
            "Europe/../Europe/Berlin",
            "Europe/Berlin\n",
            "EST5EDT,M3.2.0,M11.1.0",
            &"A".repeat(65),
        ] {
            assert!(Zone::named(refused).is_none(), "{refused:?} was taken");
        }
    }

    #[test]
    fn a_moment_falls_on_the_day_of_its_zone() {
        let tokyo = Zone::named("Asia/Tokyo").unwrap();
        let late = at(datetime!(2026-03-04 23:30));
        assert_eq!(tokyo.day_of(late), date!(2026 - 03 - 05));
        assert_eq!(tokyo.clock(late), "08:30");
        assert_eq!(Zone::utc().day_of(late), date!(2026 - 03 - 04));
        let new_york = Zone::named("America/New_York").unwrap();
        assert_eq!(new_york.day_of(late), date!(2026 - 03 - 04));
        assert_eq!(
            new_york.day_of(at(datetime!(2026-03-05 02:00))),
            date!(2026 - 03 - 04)
        );
    }

    #[test]
    fn days_start_where_the_clocks_say_across_a_change_of_summer_time() {
        let berlin = Zone::named("Europe/Berlin").unwrap();
        // 29 March 2026: clocks go from 02:00 CET to 03:00 CEST.
        assert_eq!(
            berlin.start_of(date!(2026 - 03 - 29)),
            at(datetime!(2026-03-28 23:00))
        );
        assert_eq!(
            berlin.start_of(date!(2026 - 03 - 30)),
            at(datetime!(2026-03-29 22:00))
        );
        assert_eq!(
            berlin.day_of(at(datetime!(2026-03-29 22:30))),
            date!(2026 - 03 - 30)
        );
        assert_eq!(
            berlin.day_of(at(datetime!(2026-03-28 23:30))),
            date!(2026 - 03 - 29)
        );
        // Where a change skips midnight itself (Santiago, 6 September 2026), the day starts
        // at 01:00.
        let span = berlin.span(date!(2026 - 03 - 29));
        assert_eq!(span.date, at(datetime!(2026-03-29 00:00)));
        assert_eq!(span.end - span.start, 23 * 3600, "a day of 23 hours");
        let santiago = Zone::named("America/Santiago").unwrap();
        assert_eq!(
            santiago.start_of(date!(2026 - 09 - 06)),
            at(datetime!(2026-09-06 04:00))
        );
    }
}
