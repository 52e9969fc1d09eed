//! The NYSE trading calendar from 2000-01-01 to 2035-12-31, computed offline
//! from the exchange's rules so that `plan` needs no network: which dates are
//! sessions, when each one opens and closes in UTC, and why a weekday has no
//! session.
//!
//! It knows the exchange's schedule, not what happened in the market: a halt
//! or a delayed opening of a few minutes is not in it (see `rules` for the
//! ones that were left out and why). Times come from the time zone database,
//! so daylight saving needs no special case.

mod render;
mod rules;

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::America::New_York;
use serde::Serialize;

use crate::domain::SessionKind;
use rules::Day;

pub use render::{CalendarFormat, render};

/// Names the rules the sessions were computed from; every plan records it.
pub const CALENDAR_VERSION: &str = "xnys-2000-2035.1";

const FIRST_DATE: NaiveDate = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
const LAST_DATE: NaiveDate = NaiveDate::from_ymd_opt(2035, 12, 31).unwrap();

const REGULAR_OPEN: NaiveTime = hm(9, 30);
const REGULAR_CLOSE: NaiveTime = hm(16, 0);
const REGULAR_EARLY_CLOSE: NaiveTime = hm(13, 0);
const EXTENDED_OPEN: NaiveTime = hm(4, 0);
const EXTENDED_CLOSE: NaiveTime = hm(20, 0);
const EXTENDED_EARLY_CLOSE: NaiveTime = hm(17, 0);

/// Why a query could not be answered from the calendar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error(
        "{date} is outside the NYSE calendar, which covers {FIRST_DATE} to {LAST_DATE} \
         ({CALENDAR_VERSION}); choose dates in that range"
    )]
    OutOfRange { date: NaiveDate },

    #[error("the date range {from} to {to} is backwards: its first date comes after its last")]
    BackwardsRange { from: NaiveDate, to: NaiveDate },

    #[error(
        "only {available} {kind} sessions had closed by {as_of} since the NYSE calendar \
         starts on {FIRST_DATE}, but {wanted} were asked for; ask for fewer days or a later date"
    )]
    NotEnoughSessions {
        wanted: usize,
        available: usize,
        as_of: DateTime<Utc>,
        kind: SessionKind,
    },
}

/// One trading day. `open` and `close` are the regular session's; the
/// extended hours come from [`Session::bounds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Session {
    pub date: NaiveDate,
    pub open: DateTime<Utc>,
    pub close: DateTime<Utc>,
    pub early_close: bool,
}

impl Session {
    fn new(date: NaiveDate, early_close: bool) -> Session {
        let close = if early_close {
            REGULAR_EARLY_CLOSE
        } else {
            REGULAR_CLOSE
        };
        Session {
            date,
            open: new_york(date, REGULAR_OPEN),
            close: new_york(date, close),
            early_close,
        }
    }

    /// Half-open `[start, end)` in UTC of the part of the day for this kind.
    pub fn bounds(&self, kind: SessionKind) -> (DateTime<Utc>, DateTime<Utc>) {
        match kind {
            SessionKind::Regular => (self.open, self.close),
            SessionKind::Extended => {
                let close = if self.early_close {
                    EXTENDED_EARLY_CLOSE
                } else {
                    EXTENDED_CLOSE
                };
                (
                    new_york(self.date, EXTENDED_OPEN),
                    new_york(self.date, close),
                )
            }
        }
    }

    /// How many one-minute bars fit in the bounds for this kind.
    pub fn minutes(&self, kind: SessionKind) -> i64 {
        let (start, end) = self.bounds(kind);
        (end - start).num_minutes()
    }
}

/// Every NYSE session in the calendar's range, with the reasons for the
/// weekdays that have none.
#[derive(Debug)]
pub struct Calendar {
    /// Sorted by date.
    sessions: Vec<Session>,
    /// Weekdays without a session, sorted by date.
    closures: Vec<(NaiveDate, &'static str)>,
    /// The reason of each early close, sorted by date.
    early_closes: Vec<(NaiveDate, &'static str)>,
}

impl Calendar {
    /// The NYSE calendar, computed on first use.
    pub fn nyse() -> &'static Calendar {
        static NYSE: OnceLock<Calendar> = OnceLock::new();
        NYSE.get_or_init(Calendar::build)
    }

    fn build() -> Calendar {
        let mut calendar = Calendar {
            sessions: Vec::new(),
            closures: Vec::new(),
            early_closes: Vec::new(),
        };
        for date in FIRST_DATE.iter_days().take_while(|date| *date <= LAST_DATE) {
            match rules::classify(date) {
                Day::Weekend => {}
                Day::Closed(reason) => calendar.closures.push((date, reason)),
                Day::Session { early_close } => {
                    calendar
                        .sessions
                        .push(Session::new(date, early_close.is_some()));
                    calendar
                        .early_closes
                        .extend(early_close.map(|reason| (date, reason)));
                }
            }
        }
        calendar
    }

    pub fn first_date(&self) -> NaiveDate {
        FIRST_DATE
    }

    pub fn last_date(&self) -> NaiveDate {
        LAST_DATE
    }

    /// The session on `date`, or `None` on a weekend or a closure.
    pub fn session(&self, date: NaiveDate) -> Result<Option<Session>, CalendarError> {
        check_range(date)?;
        let found = self
            .sessions
            .binary_search_by_key(&date, |session| session.date);
        Ok(found.ok().map(|index| self.sessions[index]))
    }

    /// The sessions from `from` to `to`, both included.
    pub fn sessions(&self, from: NaiveDate, to: NaiveDate) -> Result<&[Session], CalendarError> {
        check_range(from)?;
        check_range(to)?;
        if from > to {
            return Err(CalendarError::BackwardsRange { from, to });
        }

        let start = self.sessions.partition_point(|session| session.date < from);
        let end = self.sessions.partition_point(|session| session.date <= to);
        Ok(&self.sessions[start..end])
    }

    /// Why a weekday is not a session ("Thanksgiving Day", "Hurricane
    /// Sandy", ...); `None` for sessions, weekends and dates outside the range.
    pub fn closure(&self, date: NaiveDate) -> Option<&'static str> {
        reason_on(&self.closures, date)
    }

    /// Why a session closes early ("day after Thanksgiving", ...); `None`
    /// for a full session or a day without one.
    fn early_close_reason(&self, date: NaiveDate) -> Option<&'static str> {
        reason_on(&self.early_closes, date)
    }

    /// The `n` most recent sessions whose `kind` bounds had ended at or
    /// before `as_of`, oldest first.
    pub fn last_closed(
        &self,
        as_of: DateTime<Utc>,
        n: usize,
        kind: SessionKind,
    ) -> Result<&[Session], CalendarError> {
        // Past the range the calendar cannot tell which sessions came last.
        check_range(as_of.with_timezone(&New_York).date_naive())?;

        let closed = self
            .sessions
            .partition_point(|session| session.bounds(kind).1 <= as_of);
        let start = closed
            .checked_sub(n)
            .ok_or(CalendarError::NotEnoughSessions {
                wanted: n,
                available: closed,
                as_of,
                kind,
            })?;
        Ok(&self.sessions[start..closed])
    }

    /// The session whose `kind` bounds contain `as_of`, if any.
    pub fn in_progress(&self, as_of: DateTime<Utc>, kind: SessionKind) -> Option<Session> {
        let first_open = self
            .sessions
            .partition_point(|session| session.bounds(kind).1 <= as_of);
        let session = self.sessions.get(first_open)?;
        (session.bounds(kind).0 <= as_of).then_some(*session)
    }
}

fn check_range(date: NaiveDate) -> Result<(), CalendarError> {
    if (FIRST_DATE..=LAST_DATE).contains(&date) {
        Ok(())
    } else {
        Err(CalendarError::OutOfRange { date })
    }
}

fn reason_on(reasons: &[(NaiveDate, &'static str)], date: NaiveDate) -> Option<&'static str> {
    let found = reasons.binary_search_by_key(&date, |(day, _)| *day);
    found.ok().map(|index| reasons[index].1)
}

/// The UTC instant of a New York wall-clock time. Exchange hours lie between
/// 04:00 and 20:00, and New York changes its clocks at 02:00, so the local
/// time always exists and is never ambiguous.
fn new_york(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = New_York.from_local_datetime(&date.and_time(time));
    local
        .single()
        .expect("exchange hours never fall in a clock change")
        .with_timezone(&Utc)
}

const fn hm(hour: u32, minute: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(hour, minute, 0) {
        Some(time) => time,
        None => panic!("the exchange hours are valid times"),
    }
}

#[cfg(test)]
mod tests;
