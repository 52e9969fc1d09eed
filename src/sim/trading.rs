//! The trading-API side of the simulator: `GET /v2/calendar` and
//! `GET /v2/clock`, both answered from the NYSE calendar and the simulator's
//! clock. Accounts, orders and positions are not simulated.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, Utc};
use chrono_tz::America::New_York;

use crate::alpaca::wire::{CalendarDay, Clock};
use crate::calendar::{Calendar, CalendarError, Session};
use crate::domain::SessionKind;

/// The market days from `from` to `to`, inclusive; holidays are absent.
pub(crate) fn calendar_days(
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<CalendarDay>, CalendarError> {
    if to < from {
        return Ok(Vec::new());
    }
    let sessions = Calendar::nyse().sessions(from, to)?;
    Ok(sessions.iter().map(calendar_day).collect())
}

fn calendar_day(session: &Session) -> CalendarDay {
    let wall_clock = |at: DateTime<Utc>| at.with_timezone(&New_York).time();
    let (session_open, session_close) = session.bounds(SessionKind::Extended);
    CalendarDay {
        date: session.date,
        open: wall_clock(session.open),
        close: wall_clock(session.close),
        session_open: wall_clock(session_open),
        session_close: wall_clock(session_close),
    }
}

/// How far ahead the clock looks for the next open and close; longer than
/// any run of closed days the NYSE has had since 2000 (five, in 2001).
const LOOKAHEAD: TimeDelta = TimeDelta::days(14);

#[derive(Debug, thiserror::Error)]
pub(crate) enum ClockError {
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error("the calendar has no session in the two weeks from {0}")]
    NoSessionAhead(NaiveDate),
}

/// The regular session's state at `now`, in New York offsets.
pub(crate) fn clock_at(now: DateTime<Utc>) -> Result<Clock, ClockError> {
    let today = now.with_timezone(&New_York).date_naive();
    let sessions = Calendar::nyse().sessions(today, today + LOOKAHEAD)?;
    let is_open = sessions.iter().any(|s| s.open <= now && now < s.close);
    let next_open = sessions.iter().map(|s| s.open).find(|open| *open > now);
    let next_close = sessions.iter().map(|s| s.close).find(|close| *close > now);
    let (Some(next_open), Some(next_close)) = (next_open, next_close) else {
        return Err(ClockError::NoSessionAhead(today));
    };
    Ok(Clock {
        timestamp: new_york(now),
        is_open,
        next_open: new_york(next_open),
        next_close: new_york(next_close),
    })
}

fn new_york(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&New_York).fixed_offset()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn the_clock_during_a_session_points_at_tomorrows_open() {
        let clock = clock_at(at("2024-03-05T15:00:00Z")).unwrap();
        assert!(clock.is_open);
        assert_eq!(clock.timestamp.to_rfc3339(), "2024-03-05T10:00:00-05:00");
        assert_eq!(clock.next_close.to_rfc3339(), "2024-03-05T16:00:00-05:00");
        assert_eq!(clock.next_open.to_rfc3339(), "2024-03-06T09:30:00-05:00");
    }

    #[test]
    fn the_clock_on_a_weekend_points_at_monday() {
        let clock = clock_at(at("2024-03-09T15:00:00Z")).unwrap();
        assert!(!clock.is_open);
        assert_eq!(clock.next_open.to_rfc3339(), "2024-03-11T09:30:00-04:00");
        assert_eq!(clock.next_close.to_rfc3339(), "2024-03-11T16:00:00-04:00");
    }

    #[test]
    fn calendar_days_skip_weekends_and_use_wall_clock_times() {
        let from = NaiveDate::from_ymd_opt(2024, 3, 8).unwrap();
        let days = calendar_days(from, from + TimeDelta::days(3)).unwrap();
        let dates: Vec<String> = days.iter().map(|d| d.date.to_string()).collect();
        assert_eq!(dates, ["2024-03-08", "2024-03-11"]);
        let json = serde_json::to_string(&days[1]).unwrap();
        let expected = concat!(
            r#"{"date":"2024-03-11","open":"09:30","close":"16:00","#,
            r#""session_open":"0400","session_close":"2000"}"#
        );
        assert_eq!(json, expected);
    }
}
