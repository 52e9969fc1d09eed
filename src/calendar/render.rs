//! Renders a stretch of the calendar for `seedctl calendar`: a table for a
//! person, or CSV and JSON for programs. Only formatting lives here; which
//! days are sessions is decided by the calendar itself.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use chrono_tz::America::New_York;

use super::{CALENDAR_VERSION, Calendar, CalendarError, Session};

/// The output formats of `seedctl calendar`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CalendarFormat {
    /// A table in New York time, with the closed weekdays and their reasons.
    Text,
    /// `date,open,close`, one line per session, times in RFC 3339 UTC.
    Csv,
    /// An array of `{"date", "open", "close", "early_close"}` objects.
    Json,
}

/// Renders the sessions from `from` to `to`, both included.
pub fn render(
    calendar: &Calendar,
    from: NaiveDate,
    to: NaiveDate,
    format: CalendarFormat,
) -> Result<String, CalendarError> {
    let sessions = calendar.sessions(from, to)?;
    Ok(match format {
        CalendarFormat::Text => text(calendar, from, to, sessions),
        CalendarFormat::Csv => csv(sessions),
        CalendarFormat::Json => json(sessions),
    })
}

fn csv(sessions: &[Session]) -> String {
    let mut out = String::from("date,open,close\n");
    for session in sessions {
        let (open, close) = (utc(session.open), utc(session.close));
        out.push_str(&format!("{},{open},{close}\n", session.date));
    }
    out
}

fn json(sessions: &[Session]) -> String {
    let mut out = serde_json::to_string_pretty(sessions).expect("sessions always serialize");
    out.push('\n');
    out
}

/// One line per weekday: the session's hours in New York time, or why the
/// exchange is closed. Weekends are left out.
fn text(calendar: &Calendar, from: NaiveDate, to: NaiveDate, sessions: &[Session]) -> String {
    let mut out = format!("NYSE sessions {from} to {to}, New York time ({CALENDAR_VERSION})\n\n");
    let mut closed = 0;
    for date in from.iter_days().take_while(|date| *date <= to) {
        let line = match sessions.binary_search_by_key(&date, |session| session.date) {
            Ok(index) => session_line(calendar, &sessions[index]),
            Err(_) => match calendar.closure(date) {
                Some(reason) => {
                    closed += 1;
                    format!("closed: {reason}")
                }
                None => continue,
            },
        };
        out.push_str(&format!("{date}  {}  {line}\n", date.format("%a")));
    }

    let early = sessions
        .iter()
        .filter(|session| session.early_close)
        .count();
    out.push_str(&format!(
        "\n{}, {}, {}\n",
        counted(sessions.len(), "session", "sessions"),
        counted(early, "early close", "early closes"),
        counted(closed, "closed weekday", "closed weekdays"),
    ));
    out
}

fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn session_line(calendar: &Calendar, session: &Session) -> String {
    let open = session.open.with_timezone(&New_York);
    let close = session.close.with_timezone(&New_York);
    let hours = format!(
        "{}-{} {}",
        open.format("%H:%M"),
        close.format("%H:%M"),
        close.format("%Z")
    );
    match calendar.early_close_reason(session.date) {
        Some(reason) => format!("{hours}  early close: {reason}"),
        None => hours,
    }
}

fn utc(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn thanksgiving_week(format: CalendarFormat) -> String {
        render(
            Calendar::nyse(),
            date("2026-11-23"),
            date("2026-12-01"),
            format,
        )
        .unwrap()
    }

    #[test]
    fn text_lists_hours_early_closes_and_closed_weekdays() {
        insta::assert_snapshot!(thanksgiving_week(CalendarFormat::Text));
    }

    #[test]
    fn json_is_an_array_of_sessions() {
        insta::assert_snapshot!(thanksgiving_week(CalendarFormat::Json));
    }

    #[test]
    fn csv_has_one_line_per_session_in_utc() {
        let expected = "date,open,close\n\
            2026-11-25,2026-11-25T14:30:00Z,2026-11-25T21:00:00Z\n\
            2026-11-27,2026-11-27T14:30:00Z,2026-11-27T18:00:00Z\n";
        let csv = render(
            Calendar::nyse(),
            date("2026-11-25"),
            date("2026-11-29"),
            CalendarFormat::Csv,
        );
        assert_eq!(csv.unwrap(), expected);
    }

    #[test]
    fn rendering_outside_the_range_is_refused() {
        let result = render(
            Calendar::nyse(),
            date("2035-12-01"),
            date("2036-01-31"),
            CalendarFormat::Csv,
        );
        assert_eq!(
            result,
            Err(CalendarError::OutOfRange {
                date: date("2036-01-31")
            })
        );
    }
}
