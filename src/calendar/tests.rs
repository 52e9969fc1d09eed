use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::*;

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn instant(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// What the calendar says about one weekday, in the terms the tables use.
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    Full,
    Early(&'static str),
    Closed(&'static str),
}

fn observed(on: &str) -> Expect {
    let calendar = Calendar::nyse();
    let day = date(on);
    match calendar.session(day).unwrap() {
        Some(session) if session.early_close => Expect::Early(
            calendar
                .early_close_reason(day)
                .expect("an early close has a reason"),
        ),
        Some(_) => Expect::Full,
        None => Expect::Closed(
            calendar
                .closure(day)
                .expect("a closed weekday has a reason"),
        ),
    }
}

fn check_table(table: &[(&str, Expect)]) {
    let wrong: Vec<String> = table
        .iter()
        .map(|(day, expected)| (day, expected, observed(day)))
        .filter(|(_, expected, actual)| *expected != actual)
        .map(|(day, expected, actual)| format!("{day}: expected {expected:?}, got {actual:?}"))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn holidays_and_their_observance() {
    use Expect::*;
    check_table(&[
        ("2026-01-01", Closed("New Year's Day")),
        // On a Sunday it moves to Monday; on a Saturday nothing is made up.
        ("2012-01-02", Closed("New Year's Day")),
        ("2023-01-02", Closed("New Year's Day")),
        ("2034-01-02", Closed("New Year's Day")),
        ("2021-12-31", Full),
        ("2032-12-31", Full),
        ("2000-01-17", Closed("Martin Luther King Jr. Day")),
        ("2026-01-19", Closed("Martin Luther King Jr. Day")),
        ("2000-02-21", Closed("Washington's Birthday")),
        ("2026-02-16", Closed("Washington's Birthday")),
        ("2000-04-21", Closed("Good Friday")),
        ("2008-03-21", Closed("Good Friday")),
        ("2026-04-03", Closed("Good Friday")),
        ("2035-03-23", Closed("Good Friday")),
        ("2026-04-06", Full),
        ("2000-05-29", Closed("Memorial Day")),
        ("2027-05-31", Closed("Memorial Day")),
        ("2027-05-24", Full),
        ("2026-09-07", Closed("Labor Day")),
        ("2000-11-23", Closed("Thanksgiving Day")),
        ("2026-11-26", Closed("Thanksgiving Day")),
        ("2026-12-25", Closed("Christmas Day")),
        ("2021-12-24", Closed("Christmas Day")),
        ("2022-12-26", Closed("Christmas Day")),
        ("2022-12-23", Full),
        ("2027-12-24", Closed("Christmas Day")),
        ("2025-07-04", Closed("Independence Day")),
        ("2026-07-03", Closed("Independence Day")),
        ("2027-07-05", Closed("Independence Day")),
        // Days some other calendars close and the NYSE does not.
        ("2026-10-12", Full),
        ("2026-11-11", Full),
        ("2024-11-05", Full),
    ]);
}

#[test]
fn juneteenth_is_observed_from_2022() {
    use Expect::*;
    check_table(&[
        ("2020-06-19", Full),
        // June 19, 2021 was a Saturday; the holiday was not yet observed.
        ("2021-06-18", Full),
        ("2022-06-20", Closed("Juneteenth National Independence Day")),
        ("2023-06-19", Closed("Juneteenth National Independence Day")),
        ("2026-06-19", Closed("Juneteenth National Independence Day")),
        ("2027-06-18", Closed("Juneteenth National Independence Day")),
        ("2033-06-20", Closed("Juneteenth National Independence Day")),
    ]);
}

#[test]
fn early_closes_only_in_the_years_they_applied() {
    use Expect::*;
    check_table(&[
        ("2000-07-03", Early("day before Independence Day")),
        ("2001-07-03", Early("day before Independence Day")),
        ("2003-07-03", Early("day before Independence Day")),
        ("2025-07-03", Early("day before Independence Day")),
        // July 4 on a Thursday: Friday after until 2012, Wednesday before since.
        ("2002-07-03", Full),
        ("2002-07-05", Early("day after Independence Day")),
        ("2013-07-03", Early("day before Independence Day")),
        ("2013-07-05", Full),
        ("2024-07-03", Early("day before Independence Day")),
        ("2024-07-05", Full),
        // Independence Day on a weekend or a Monday brings no early close.
        ("2004-07-02", Full),
        ("2009-07-02", Full),
        ("2022-07-01", Full),
        ("2026-07-02", Full),
        ("2027-07-02", Full),
        ("2000-11-24", Early("day after Thanksgiving")),
        ("2026-11-27", Early("day after Thanksgiving")),
        ("2001-12-24", Early("Christmas Eve")),
        ("2025-12-24", Early("Christmas Eve")),
        ("2026-12-24", Early("Christmas Eve")),
        // Christmas Eve on a Friday is the holiday; on a weekend, Friday is full.
        ("2021-12-23", Full),
        ("2022-12-23", Full),
        ("2027-12-23", Full),
        ("2003-12-26", Early("day after Christmas")),
        ("2008-12-26", Full),
        ("2014-12-26", Full),
        ("2025-12-26", Full),
    ]);
}

#[test]
fn one_off_closures() {
    use Expect::*;
    check_table(&[
        ("2001-09-10", Full),
        ("2001-09-11", Closed("September 11 attacks")),
        ("2001-09-12", Closed("September 11 attacks")),
        ("2001-09-13", Closed("September 11 attacks")),
        ("2001-09-14", Closed("September 11 attacks")),
        ("2001-09-17", Full),
        (
            "2004-06-11",
            Closed("National Day of Mourning for Ronald Reagan"),
        ),
        ("2007-01-01", Closed("New Year's Day")),
        (
            "2007-01-02",
            Closed("National Day of Mourning for Gerald Ford"),
        ),
        ("2012-10-29", Closed("Hurricane Sandy")),
        ("2012-10-30", Closed("Hurricane Sandy")),
        ("2012-10-31", Full),
        (
            "2018-12-05",
            Closed("National Day of Mourning for George H. W. Bush"),
        ),
        (
            "2025-01-09",
            Closed("National Day of Mourning for Jimmy Carter"),
        ),
        // Sub-day delays are not modelled: see the rules module.
        ("2002-09-11", Full),
    ]);
}

#[test]
fn utc_times_follow_daylight_saving() {
    let cases = [
        // 2026: clocks go forward on March 8 and back on November 1.
        ("2026-03-06", "2026-03-06T14:30:00Z", "2026-03-06T21:00:00Z"),
        ("2026-03-09", "2026-03-09T13:30:00Z", "2026-03-09T20:00:00Z"),
        ("2026-10-30", "2026-10-30T13:30:00Z", "2026-10-30T20:00:00Z"),
        ("2026-11-02", "2026-11-02T14:30:00Z", "2026-11-02T21:00:00Z"),
        ("2026-11-27", "2026-11-27T14:30:00Z", "2026-11-27T18:00:00Z"),
        // Before 2007, daylight saving ran from April to October.
        ("2006-03-13", "2006-03-13T14:30:00Z", "2006-03-13T21:00:00Z"),
        ("2007-03-12", "2007-03-12T13:30:00Z", "2007-03-12T20:00:00Z"),
        ("2006-10-30", "2006-10-30T14:30:00Z", "2006-10-30T21:00:00Z"),
        ("2007-10-30", "2007-10-30T13:30:00Z", "2007-10-30T20:00:00Z"),
    ];
    for (day, open, close) in cases {
        let session = Calendar::nyse().session(date(day)).unwrap().unwrap();
        assert_eq!(
            (session.open, session.close),
            (instant(open), instant(close)),
            "{day}"
        );
    }
}

#[test]
fn bounds_and_minutes_per_kind() {
    use SessionKind::*;
    let cases = [
        (
            "2026-07-01",
            Regular,
            "2026-07-01T13:30:00Z",
            "2026-07-01T20:00:00Z",
            390,
        ),
        (
            "2026-07-01",
            Extended,
            "2026-07-01T08:00:00Z",
            "2026-07-02T00:00:00Z",
            960,
        ),
        (
            "2026-11-27",
            Regular,
            "2026-11-27T14:30:00Z",
            "2026-11-27T18:00:00Z",
            210,
        ),
        (
            "2026-11-27",
            Extended,
            "2026-11-27T09:00:00Z",
            "2026-11-27T22:00:00Z",
            780,
        ),
    ];
    for (day, kind, start, end, minutes) in cases {
        let session = Calendar::nyse().session(date(day)).unwrap().unwrap();
        assert_eq!(
            session.bounds(kind),
            (instant(start), instant(end)),
            "{day} {kind}"
        );
        assert_eq!(session.minutes(kind), minutes, "{day} {kind}");
    }
}

#[test]
fn thanksgiving_2026_leaves_30_sessions_from_october_21_to_december_2() {
    let sessions = Calendar::nyse()
        .sessions(date("2026-10-21"), date("2026-12-02"))
        .unwrap();
    assert_eq!(sessions.len(), 30);
    assert_eq!(sessions.first().unwrap().date, date("2026-10-21"));
    assert_eq!(sessions.last().unwrap().date, date("2026-12-02"));
    assert!(sessions.windows(2).all(|pair| pair[0].date < pair[1].date));
}

#[test]
fn sessions_on_single_days_and_weekends() {
    let calendar = Calendar::nyse();
    let weekend = calendar
        .sessions(date("2026-11-28"), date("2026-11-29"))
        .unwrap();
    assert!(weekend.is_empty());
    let one = calendar
        .sessions(date("2026-11-27"), date("2026-11-27"))
        .unwrap();
    assert_eq!(
        one.iter().map(|s| s.date).collect::<Vec<_>>(),
        [date("2026-11-27")]
    );
    assert_eq!(calendar.session(date("2026-11-28")).unwrap(), None);
    assert_eq!(calendar.closure(date("2026-11-28")), None);
    assert_eq!(calendar.closure(date("2026-11-27")), None);
}

fn closed_dates(as_of: &str, n: usize, kind: SessionKind) -> Result<Vec<String>, CalendarError> {
    let sessions = Calendar::nyse().last_closed(instant(as_of), n, kind)?;
    Ok(sessions
        .iter()
        .map(|session| session.date.to_string())
        .collect())
}

fn in_progress_date(as_of: &str, kind: SessionKind) -> Option<String> {
    Calendar::nyse()
        .in_progress(instant(as_of), kind)
        .map(|session| session.date.to_string())
}

/// An instant, a kind, the sessions `last_closed` should return when asked
/// for as many as listed, and the session `in_progress` should return.
type Moment = (
    &'static str,
    SessionKind,
    &'static [&'static str],
    Option<&'static str>,
);

#[test]
fn last_closed_and_in_progress_around_thanksgiving() {
    use SessionKind::*;
    let moments: [Moment; 9] = [
        // Exactly at the close the session is over, not in progress.
        ("2026-11-25T21:00:00Z", Regular, &["2026-11-25"], None),
        (
            "2026-11-25T20:59:59Z",
            Regular,
            &["2026-11-24"],
            Some("2026-11-25"),
        ),
        // The extended day runs on until 20:00 New York time.
        (
            "2026-11-25T21:00:00Z",
            Extended,
            &["2026-11-24"],
            Some("2026-11-25"),
        ),
        ("2026-11-26T01:00:00Z", Extended, &["2026-11-25"], None),
        // On the holiday nothing is in progress.
        (
            "2026-11-26T17:00:00Z",
            Regular,
            &["2026-11-24", "2026-11-25"],
            None,
        ),
        ("2026-11-26T17:00:00Z", Extended, &["2026-11-25"], None),
        // Before the regular open, the extended day has already begun.
        ("2026-11-27T14:00:00Z", Regular, &["2026-11-25"], None),
        (
            "2026-11-27T14:00:00Z",
            Extended,
            &["2026-11-25"],
            Some("2026-11-27"),
        ),
        // After an early close, on the weekend.
        (
            "2026-11-28T12:00:00Z",
            Regular,
            &["2026-11-24", "2026-11-25", "2026-11-27"],
            None,
        ),
    ];
    for (as_of, kind, closed, in_progress) in moments {
        let expected: Vec<String> = closed.iter().map(|day| day.to_string()).collect();
        let actual = closed_dates(as_of, closed.len(), kind);
        assert_eq!(actual, Ok(expected), "last_closed at {as_of} {kind}");
        let running = in_progress.map(str::to_string);
        assert_eq!(
            in_progress_date(as_of, kind),
            running,
            "in_progress at {as_of} {kind}"
        );
    }
}

#[test]
fn last_closed_with_nothing_asked_is_empty() {
    assert_eq!(
        closed_dates("2026-11-28T12:00:00Z", 0, SessionKind::Regular),
        Ok(vec![])
    );
}

#[test]
fn last_closed_at_the_start_of_the_range() {
    use SessionKind::Regular;
    assert_eq!(
        closed_dates("2000-01-03T21:00:00Z", 1, Regular),
        Ok(vec!["2000-01-03".into()])
    );

    let too_many = closed_dates("2000-01-03T21:00:00Z", 2, Regular).unwrap_err();
    let CalendarError::NotEnoughSessions {
        wanted: 2,
        available: 1,
        ..
    } = too_many
    else {
        panic!("expected too few sessions, got {too_many:?}");
    };
    assert!(
        too_many.to_string().contains("starts on 2000-01-01"),
        "{too_many}"
    );

    let before = closed_dates("1999-12-31T23:00:00Z", 1, Regular);
    assert_eq!(
        before,
        Err(CalendarError::OutOfRange {
            date: date("1999-12-31")
        })
    );
    assert_eq!(in_progress_date("2000-01-03T14:29:59Z", Regular), None);
    assert_eq!(
        in_progress_date("2000-01-03T14:30:00Z", Regular),
        Some("2000-01-03".into())
    );
}

#[test]
fn last_closed_at_the_end_of_the_range() {
    use SessionKind::*;
    let last = Ok(vec!["2035-12-31".to_string()]);
    assert_eq!(closed_dates("2035-12-31T21:00:00Z", 1, Regular), last);
    // 23:59:59 in New York on the last day is still inside the range.
    assert_eq!(closed_dates("2036-01-01T04:59:59Z", 1, Extended), last);

    let after = closed_dates("2036-01-01T05:00:00Z", 1, Regular);
    assert_eq!(
        after,
        Err(CalendarError::OutOfRange {
            date: date("2036-01-01")
        })
    );
    assert_eq!(in_progress_date("2036-01-01T05:00:00Z", Extended), None);
}

#[test]
fn dates_outside_the_range_are_refused() {
    let calendar = Calendar::nyse();
    assert_eq!(
        (calendar.first_date(), calendar.last_date()),
        (date("2000-01-01"), date("2035-12-31"))
    );

    let before = calendar.session(date("1999-12-31")).unwrap_err();
    assert_eq!(
        before,
        CalendarError::OutOfRange {
            date: date("1999-12-31")
        }
    );
    assert!(
        before
            .to_string()
            .contains("covers 2000-01-01 to 2035-12-31"),
        "{before}"
    );

    let after = calendar
        .sessions(date("2035-12-01"), date("2036-01-02"))
        .unwrap_err();
    assert_eq!(
        after,
        CalendarError::OutOfRange {
            date: date("2036-01-02")
        }
    );
    assert_eq!(calendar.closure(date("2036-01-01")), None);
}

#[test]
fn a_backwards_range_is_refused() {
    let result = Calendar::nyse().sessions(date("2026-12-02"), date("2026-10-21"));
    let expected = CalendarError::BackwardsRange {
        from: date("2026-12-02"),
        to: date("2026-10-21"),
    };
    assert_eq!(result, Err(expected));
}

#[test]
fn every_weekday_is_either_a_session_or_a_closure() {
    let calendar = Calendar::nyse();
    let weekdays = calendar
        .first_date()
        .iter_days()
        .take_while(|day| *day <= calendar.last_date())
        .filter(|day| day.weekday().number_from_monday() <= 5);
    for day in weekdays {
        let session = calendar.session(day).unwrap();
        assert_ne!(session.is_some(), calendar.closure(day).is_some(), "{day}");
    }
}
