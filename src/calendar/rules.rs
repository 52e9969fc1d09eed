//! The rules that decide what the NYSE does on a given date from 2000 to
//! 2035: weekends, holidays with their observance, the 13:00 early closes, and
//! the one-off closures. This is date arithmetic only; turning a session day
//! into UTC instants and answering queries is the parent module's job.
//!
//! The rules were checked day by day against the `XNYS` calendar of Python's
//! exchange_calendars 4.13.2 (the fixture test does this on every run) and
//! against the `NYSE` calendar of pandas_market_calendars 5.5.0. All three agree
//! on every session and every early close from 2000 to 2035. The second
//! reference also carries seven interruptions shorter than a day, which this
//! calendar leaves out on purpose:
//!
//! - opening delays for moments of silence: 2001-09-17 (09:33), 2001-10-08
//!   (09:31), 2003-03-20, 2004-06-07 and 2006-12-27 (09:32);
//! - the late opening at 12:00 on 2002-09-11, the first anniversary of the
//!   September 11 attacks;
//! - the close at 15:56 on 2005-06-01 after a systems problem.
//!
//! A session here is the window in which bars may exist, and all of these
//! fall before 2016, where Alpaca's history begins. Keeping the regular
//! window on such a day costs at most a fetch that returns no bars, while a
//! window that is too narrow would silently drop bars.
//!
//! The NYSE announces its holidays about three years ahead; the years after
//! that are projections of the same rules, and a future day of mourning or
//! storm cannot be foreseen. When a rule or a date here changes, bump
//! `CALENDAR_VERSION` so that saved plans show which calendar they used.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// What the exchange does on one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Day {
    Weekend,
    /// A weekday without a session, with the reason a person would give.
    Closed(&'static str),
    /// A session; `early_close` names the reason when it ends at 13:00.
    Session {
        early_close: Option<&'static str>,
    },
}

/// Says what the exchange does on `date`. Closures win over early closes,
/// since a day without a session cannot close early.
pub(super) fn classify(date: NaiveDate) -> Day {
    if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
        return Day::Weekend;
    }

    if let Some(reason) = closure(date) {
        return Day::Closed(reason);
    }

    Day::Session {
        early_close: early_close(date),
    }
}

fn closure(date: NaiveDate) -> Option<&'static str> {
    let one_off = ONE_OFF_CLOSURES
        .iter()
        .find(|(day, _)| *day == date)
        .map(|(_, why)| *why);
    one_off.or_else(|| {
        HOLIDAYS
            .iter()
            .find(|holiday| holiday.observed_in(date.year()) == Some(date))
            .map(|h| h.name)
    })
}

fn early_close(date: NaiveDate) -> Option<&'static str> {
    let one_off = ONE_OFF_EARLY_CLOSES
        .iter()
        .find(|(day, _)| *day == date)
        .map(|(_, why)| *why);
    one_off.or_else(|| {
        EARLY_CLOSES
            .iter()
            .find(|rule| (rule.date_in)(date.year()) == Some(date))
            .map(|r| r.name)
    })
}

/// A yearly holiday on which the exchange is closed all day.
struct Holiday {
    name: &'static str,
    /// The first year the exchange observed it, when that is inside the
    /// calendar's range; `None` when it was observed long before 2000.
    since: Option<i32>,
    rule: DateRule,
}

enum DateRule {
    /// A fixed day of the year, moved off a weekend by `observance`.
    Fixed {
        month: u32,
        day: u32,
        observance: Observance,
    },
    /// The `n`th given weekday of a month, counting from 1.
    NthWeekday { month: u32, weekday: Weekday, n: u8 },
    /// The last given weekday of a month.
    LastWeekday { month: u32, weekday: Weekday },
    /// Two days before Easter Sunday.
    GoodFriday,
}

/// How a fixed-date holiday that falls on a weekend is observed.
#[derive(Clone, Copy)]
enum Observance {
    /// Sunday moves to Monday; Saturday is not made up. New Year's Day works
    /// like this because moving it to Friday would close the exchange on the
    /// last trading day of the year before.
    SundayToMonday,
    /// Saturday moves to Friday and Sunday to Monday.
    NearestWeekday,
}

const HOLIDAYS: [Holiday; 10] = [
    Holiday {
        name: "New Year's Day",
        since: None,
        rule: DateRule::Fixed {
            month: 1,
            day: 1,
            observance: Observance::SundayToMonday,
        },
    },
    // Observed by the NYSE since 1998, so in every year of this calendar.
    Holiday {
        name: "Martin Luther King Jr. Day",
        since: None,
        rule: DateRule::NthWeekday {
            month: 1,
            weekday: Weekday::Mon,
            n: 3,
        },
    },
    Holiday {
        name: "Washington's Birthday",
        since: None,
        rule: DateRule::NthWeekday {
            month: 2,
            weekday: Weekday::Mon,
            n: 3,
        },
    },
    Holiday {
        name: "Good Friday",
        since: None,
        rule: DateRule::GoodFriday,
    },
    Holiday {
        name: "Memorial Day",
        since: None,
        rule: DateRule::LastWeekday {
            month: 5,
            weekday: Weekday::Mon,
        },
    },
    // Made a federal holiday in June 2021, too late for the NYSE to close
    // that year; first observed on Monday 2022-06-20.
    Holiday {
        name: "Juneteenth National Independence Day",
        since: Some(2022),
        rule: DateRule::Fixed {
            month: 6,
            day: 19,
            observance: Observance::NearestWeekday,
        },
    },
    Holiday {
        name: "Independence Day",
        since: None,
        rule: DateRule::Fixed {
            month: 7,
            day: 4,
            observance: Observance::NearestWeekday,
        },
    },
    Holiday {
        name: "Labor Day",
        since: None,
        rule: DateRule::NthWeekday {
            month: 9,
            weekday: Weekday::Mon,
            n: 1,
        },
    },
    Holiday {
        name: "Thanksgiving Day",
        since: None,
        rule: DateRule::NthWeekday {
            month: 11,
            weekday: Weekday::Thu,
            n: 4,
        },
    },
    Holiday {
        name: "Christmas Day",
        since: None,
        rule: DateRule::Fixed {
            month: 12,
            day: 25,
            observance: Observance::NearestWeekday,
        },
    },
];

impl Holiday {
    /// The weekday on which the holiday is observed in `year`, if any.
    fn observed_in(&self, year: i32) -> Option<NaiveDate> {
        if self.since.is_some_and(|first| year < first) {
            return None;
        }
        self.rule.date_in(year)
    }
}

impl DateRule {
    fn date_in(&self, year: i32) -> Option<NaiveDate> {
        match *self {
            DateRule::Fixed {
                month,
                day,
                observance,
            } => observe(NaiveDate::from_ymd_opt(year, month, day)?, observance),
            DateRule::NthWeekday { month, weekday, n } => {
                NaiveDate::from_weekday_of_month_opt(year, month, weekday, n)
            }
            DateRule::LastWeekday { month, weekday } => last_weekday(year, month, weekday),
            DateRule::GoodFriday => easter_sunday(year)?.checked_sub_days(Days::new(2)),
        }
    }
}

fn observe(date: NaiveDate, observance: Observance) -> Option<NaiveDate> {
    match (date.weekday(), observance) {
        (Weekday::Sat, Observance::SundayToMonday) => None,
        (Weekday::Sat, Observance::NearestWeekday) => date.pred_opt(),
        (Weekday::Sun, _) => date.succ_opt(),
        _ => Some(date),
    }
}

fn last_weekday(year: i32, month: u32, weekday: Weekday) -> Option<NaiveDate> {
    let fifth = NaiveDate::from_weekday_of_month_opt(year, month, weekday, 5);
    fifth.or_else(|| NaiveDate::from_weekday_of_month_opt(year, month, weekday, 4))
}

/// Easter Sunday in the Gregorian calendar, by the anonymous algorithm
/// published in Nature in 1876 (the one Meeus gives).
fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let golden = year % 19;
    let (century, year_of_century) = (year / 100, year % 100);
    let (leap_centuries, century_rest) = (century / 4, century % 4);
    let moon_correction = (century - (century + 8) / 25 + 1) / 3;
    let epact = (19 * golden + century - leap_centuries - moon_correction + 15) % 30;
    let (leap_years, year_rest) = (year_of_century / 4, year_of_century % 4);
    let to_sunday = (32 + 2 * century_rest + 2 * leap_years - epact - year_rest) % 7;
    let late = (golden + 11 * epact + 22 * to_sunday) / 451;
    let count = epact + to_sunday - 7 * late + 114;
    NaiveDate::from_ymd_opt(year, (count / 31) as u32, (count % 31 + 1) as u32)
}

/// A yearly session that closes at 13:00 instead of 16:00.
struct EarlyClose {
    name: &'static str,
    date_in: fn(i32) -> Option<NaiveDate>,
}

const EARLY_CLOSES: [EarlyClose; 4] = [
    EarlyClose {
        name: "day before Independence Day",
        date_in: day_before_independence_day,
    },
    EarlyClose {
        name: "day after Independence Day",
        date_in: day_after_independence_day,
    },
    EarlyClose {
        name: "day after Thanksgiving",
        date_in: day_after_thanksgiving,
    },
    EarlyClose {
        name: "Christmas Eve",
        date_in: christmas_eve,
    },
];

/// July 3 closes early when July 4 falls on a Tuesday, Wednesday or Friday.
/// When July 4 is a Thursday, the exchange closed early on Friday July 5
/// until 2012 (in this range: 2002) and on Wednesday July 3 from 2013 on.
/// When July 4 is on a weekend or a Monday there is no early close: July 3
/// is then the observed holiday or a weekend, and the Friday before a
/// Monday holiday is a full session (2004, 2010, 2021, 2027).
fn day_before_independence_day(year: i32) -> Option<NaiveDate> {
    let july_4 = NaiveDate::from_ymd_opt(year, 7, 4)?;
    match july_4.weekday() {
        Weekday::Tue | Weekday::Wed | Weekday::Fri => july_4.pred_opt(),
        Weekday::Thu if year >= 2013 => july_4.pred_opt(),
        _ => None,
    }
}

fn day_after_independence_day(year: i32) -> Option<NaiveDate> {
    let july_4 = NaiveDate::from_ymd_opt(year, 7, 4)?;
    let before_2013_rule = july_4.weekday() == Weekday::Thu && year < 2013;
    before_2013_rule.then(|| july_4.succ_opt()).flatten()
}

fn day_after_thanksgiving(year: i32) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, 11, Weekday::Thu, 4)?.succ_opt()
}

/// December 24 closes early from Monday to Thursday. On a Friday it is the
/// observed Christmas holiday; on a weekend there is nothing to close, and
/// the Friday before is a full session.
fn christmas_eve(year: i32) -> Option<NaiveDate> {
    let eve = NaiveDate::from_ymd_opt(year, 12, 24)?;
    let weekday = eve.weekday();
    matches!(
        weekday,
        Weekday::Mon | Weekday::Tue | Weekday::Wed | Weekday::Thu
    )
    .then_some(eve)
}

/// Days the exchange did not open that no yearly rule explains.
const ONE_OFF_CLOSURES: [(NaiveDate, &str); 10] = [
    (ymd(2001, 9, 11), "September 11 attacks"),
    (ymd(2001, 9, 12), "September 11 attacks"),
    (ymd(2001, 9, 13), "September 11 attacks"),
    (ymd(2001, 9, 14), "September 11 attacks"),
    (
        ymd(2004, 6, 11),
        "National Day of Mourning for Ronald Reagan",
    ),
    (ymd(2007, 1, 2), "National Day of Mourning for Gerald Ford"),
    (ymd(2012, 10, 29), "Hurricane Sandy"),
    (ymd(2012, 10, 30), "Hurricane Sandy"),
    (
        ymd(2018, 12, 5),
        "National Day of Mourning for George H. W. Bush",
    ),
    (ymd(2025, 1, 9), "National Day of Mourning for Jimmy Carter"),
];

/// Early closes that no yearly rule explains. Christmas on a Thursday does
/// not by itself make the Friday after a short day: 2008-12-26, 2014-12-26
/// and 2025-12-26 were full sessions; only 2003 had this early close.
const ONE_OFF_EARLY_CLOSES: [(NaiveDate, &str); 1] = [(ymd(2003, 12, 26), "day after Christmas")];

const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => panic!("the calendar tables hold only valid dates"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn easter_sunday_matches_published_dates() {
        let known = [
            (2000, 4, 23),
            (2001, 4, 15),
            (2008, 3, 23),
            (2011, 4, 24),
            (2016, 3, 27),
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2035, 3, 25),
        ];
        for (year, month, day) in known {
            assert_eq!(
                easter_sunday(year),
                NaiveDate::from_ymd_opt(year, month, day),
                "{year}"
            );
        }
    }

    #[test]
    fn weekends_are_never_sessions() {
        assert_eq!(classify(ymd(2026, 11, 28)), Day::Weekend);
        assert_eq!(classify(ymd(2021, 12, 25)), Day::Weekend);
        assert_eq!(
            classify(ymd(2026, 11, 30)),
            Day::Session { early_close: None }
        );
    }
}
