//! The simulator's market: which minutes have a bar and what the bar holds,
//! as a pure function of (symbol, minute, feed, adjustment), so a test can
//! compute the exact table a request must return.
//!
//! The rules, all derived from stable hashes:
//! - bars exist only on NYSE sessions, from 04:00 to 20:00 New York time (17:00
//!   on an early close), and only at whole minutes;
//! - a minute has a bar with a probability that depends on the feed and on
//!   the hour: nearly every regular minute on `sip`, far fewer before and
//!   after the regular session, and fewer on `iex`, `otc` and `boats` (in that
//!   order); a minute with an `iex` bar always has a `sip` bar too;
//! - thin symbols (see [`is_thin`]) keep only about one minute in eight;
//! - prices follow a random walk per symbol across days and another within
//!   each day, both sampled lazily by midpoint displacement, so any minute is
//!   computed without its predecessors;
//! - every symbol has one split, some pay quarterly dividends and some had a
//!   spin-off ([`corporate_actions`]); `raw` prices jump at the split, the
//!   adjusted ones are scaled as Alpaca would scale them as of 2036-01-01.
//!
//! It is not a model of any real market: `boats` follows the same hours as
//! the other feeds rather than the overnight session.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use chrono_tz::America::New_York;

use super::hash::{bell, fnv1a, mix, mix_seeded, unit};
use crate::alpaca::wire::Bar;
use crate::calendar::{Calendar, Session};
use crate::domain::{Adjustment, Feed, SessionKind, Symbol};

/// The ticker that is always thin, whatever the hash says.
pub const THIN_SYMBOL: &str = "THIN";

/// Thin symbols keep this share of the minutes a normal symbol trades in.
const THIN_DENSITY: f64 = 0.12;

/// Adjusted prices account for every corporate action up to this date.
const ADJUSTED_AS_OF: NaiveDate = NaiveDate::from_ymd_opt(2036, 1, 1).unwrap();

/// Day zero of the slow walk across days.
const WALK_EPOCH: NaiveDate = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();

/// Both walks span a power of two so midpoints are whole numbers.
const MINUTE_SPAN: u64 = 1 << 10;
const DAY_SPAN: u64 = 1 << 14;

/// Volatility of the log price per √minute and per √day.
const MINUTE_SIGMA: f64 = 0.0006;
const DAY_SIGMA: f64 = 0.006;

/// Distinct first parts keep the hashes of different purposes apart.
#[derive(Clone, Copy)]
#[repr(u64)]
enum Purpose {
    Traded = 1,
    Anchor,
    DayWalk,
    MinuteWalk,
    Bar,
    Split,
    Dividend,
    SpinOff,
}

fn hash(purpose: Purpose, parts: &[u64]) -> u64 {
    mix_seeded(purpose as u64, parts)
}

fn ticker(symbol: &Symbol) -> u64 {
    fnv1a(symbol.as_str().as_bytes())
}

/// Whether a symbol trades in few minutes: the ticker `THIN`, and every
/// ticker whose FNV-1a hash is a multiple of 20 (about one in twenty).
pub fn is_thin(symbol: &Symbol) -> bool {
    symbol.as_str() == THIN_SYMBOL || ticker(symbol).is_multiple_of(20)
}

/// The bar of `symbol` for the minute starting at `minute`, or `None` when
/// that minute has no trade (outside sessions, or by the density rules).
pub fn bar_at(
    symbol: &Symbol,
    minute: DateTime<Utc>,
    feed: Feed,
    adjustment: Adjustment,
) -> Option<Bar> {
    let date = minute.with_timezone(&New_York).date_naive();
    let session = Calendar::nyse().session(date).ok()??;
    bar_in_session(symbol, minute, &session, feed, adjustment)
}

/// [`bar_at`] for a caller that already knows the minute's session.
pub(crate) fn bar_in_session(
    symbol: &Symbol,
    minute: DateTime<Utc>,
    session: &Session,
    feed: Feed,
    adjustment: Adjustment,
) -> Option<Bar> {
    let (day_open, day_close) = session.bounds(SessionKind::Extended);
    let whole_minute = minute.timestamp() % 60 == 0 && minute.timestamp_subsec_nanos() == 0;
    if !whole_minute || minute < day_open || minute >= day_close {
        return None;
    }

    let (open, close) = session.bounds(SessionKind::Regular);
    let regular = open <= minute && minute < close;
    if !traded(symbol, minute, feed, regular) {
        return None;
    }

    let index = (minute - day_open).num_minutes() as u64;
    let bar = raw_bar(symbol, session.date, index, minute, feed, regular);
    let actions = corporate_actions(symbol);
    Some(adjust(bar, &actions, session.date, adjustment))
}

/// The share of minutes with a bar. One uniform number per (symbol, minute)
/// is compared with the feed's density, so denser feeds hold a superset.
fn traded(symbol: &Symbol, minute: DateTime<Utc>, feed: Feed, regular: bool) -> bool {
    let density = match (feed, regular) {
        (Feed::Sip, true) => 0.97,
        (Feed::Sip, false) => 0.40,
        (Feed::Iex, true) => 0.70,
        (Feed::Iex, false) => 0.10,
        (Feed::Otc, true) => 0.50,
        (Feed::Otc, false) => 0.08,
        (Feed::Boats, true) => 0.30,
        (Feed::Boats, false) => 0.05,
    };
    let thinning = if is_thin(symbol) { THIN_DENSITY } else { 1.0 };
    let draw = hash(
        Purpose::Traded,
        &[ticker(symbol), minute.timestamp() as u64],
    );
    unit(draw) < density * thinning
}

/// Brownian motion on `[0, span]` from 0, evaluated at `at` by descending
/// the dyadic midpoints: each midpoint is the mean of its ends plus noise of
/// variance a quarter of the interval, so `at` costs log2(span) hashes.
fn walk(seed: u64, span: u64, at: u64) -> f64 {
    let (mut lo, mut hi) = (0, span);
    let (mut at_lo, mut at_hi) = (0.0, bell(mix(&[seed, span])) * (span as f64).sqrt());
    while hi - lo > 1 && at != lo && at != hi {
        let mid = (lo + hi) / 2;
        let spread = ((hi - lo) as f64 / 4.0).sqrt();
        let at_mid = (at_lo + at_hi) / 2.0 + bell(mix(&[seed, mid])) * spread;
        if at < mid {
            (hi, at_hi) = (mid, at_mid);
        } else {
            (lo, at_lo) = (mid, at_mid);
        }
    }
    if at == lo { at_lo } else { at_hi }
}

/// The split-adjusted price level of a symbol at the start of a day.
fn day_price(symbol: &Symbol, date: NaiveDate) -> f64 {
    let ticker = ticker(symbol);
    let anchor = 20.0 * 2f64.powf(4.3 * unit(hash(Purpose::Anchor, &[ticker])));
    let day = (date - WALK_EPOCH).num_days().clamp(0, DAY_SPAN as i64) as u64;
    let seed = hash(Purpose::DayWalk, &[ticker]);
    anchor * (DAY_SIGMA * walk(seed, DAY_SPAN, day)).exp()
}

/// The bar as the split-adjusted walk gives it, before rounding, before the
/// split is undone for earlier days and before any requested adjustment.
fn raw_bar(
    symbol: &Symbol,
    date: NaiveDate,
    index: u64,
    minute: DateTime<Utc>,
    feed: Feed,
    regular: bool,
) -> Bar {
    let (ticker, day) = (ticker(symbol), date.num_days_from_ce() as u64);
    let level = day_price(symbol, date);
    let seed = hash(Purpose::MinuteWalk, &[ticker, day]);
    let price_at = |i| level * (MINUTE_SIGMA * walk(seed, MINUTE_SPAN, i)).exp();
    let (open, close) = (price_at(index), price_at(index + 1));

    let at = minute.timestamp() as u64;
    let noise = |lane: u64| unit(hash(Purpose::Bar, &[ticker, at, lane]));
    let high = open.max(close) * (1.0 + 0.0008 * noise(1));
    let low = open.min(close) * (1.0 - 0.0008 * noise(2));
    let vwap = low + (high - low) * (0.25 + 0.5 * noise(3));

    let typical = if regular { 8_000.0 } else { 400.0 };
    let share = match feed {
        Feed::Sip => 1.0,
        Feed::Iex => 0.03,
        Feed::Otc => 0.15,
        Feed::Boats => 0.05,
    };
    let volume = ((typical * share * (0.1 + 1.9 * noise(4))).round() as u64).max(1);
    let trade_size = 40.0 + 160.0 * noise(5);
    let trades = ((volume as f64 / trade_size).round() as u64).clamp(1, volume);

    Bar {
        t: minute,
        o: open,
        h: high,
        l: low,
        c: close,
        v: volume,
        n: trades,
        vw: vwap,
    }
}

/// The corporate actions of one symbol, fixed by its ticker's hash.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CorporateActions {
    /// Every symbol splits once, `split_ratio` for one, on this date.
    pub split_date: NaiveDate,
    pub split_ratio: u32,
    /// Half the symbols pay this share of their price each quarter, going ex
    /// on the 15th of February, May, August and November.
    pub quarterly_dividend: Option<f64>,
    /// A quarter of the symbols had a spin-off that took 8% of their value.
    pub spin_off_date: Option<NaiveDate>,
}

/// Spin-offs scale earlier prices by this factor.
const SPIN_OFF_FACTOR: f64 = 0.92;

pub fn corporate_actions(symbol: &Symbol) -> CorporateActions {
    let ticker = ticker(symbol);
    let date_in_2016_to_2025 = |purpose| {
        let offset = hash(purpose, &[ticker]) % 3650;
        NaiveDate::from_ymd_opt(2016, 1, 1).unwrap() + TimeDelta::days(offset as i64)
    };
    let dividend = hash(Purpose::Dividend, &[ticker]);
    CorporateActions {
        split_date: date_in_2016_to_2025(Purpose::Split),
        split_ratio: 2 + (hash(Purpose::Split, &[ticker, 1]) % 3) as u32,
        quarterly_dividend: dividend
            .is_multiple_of(2)
            .then(|| 0.002 + 0.006 * unit(dividend)),
        spin_off_date: hash(Purpose::SpinOff, &[ticker, 1])
            .is_multiple_of(4)
            .then(|| date_in_2016_to_2025(Purpose::SpinOff)),
    }
}

/// Undoes the split for days before it (raw history has the higher prices
/// and lower volumes), then applies the requested adjustments and rounds:
/// raw prices to cents, adjusted ones to 4 decimals, as Alpaca serves them.
fn adjust(bar: Bar, actions: &CorporateActions, date: NaiveDate, adjustment: Adjustment) -> Bar {
    let kinds = AdjustmentKinds::of(adjustment);
    let before_split = date < actions.split_date;
    let ratio = if before_split {
        f64::from(actions.split_ratio)
    } else {
        1.0
    };
    let raw = rounded(scaled(bar, ratio, 1.0 / ratio), 100.0);

    let mut factor = 1.0;
    let mut volume_factor = 1.0;
    if kinds.split {
        factor /= ratio;
        volume_factor = ratio;
    }
    if let (true, Some(share)) = (kinds.dividend, actions.quarterly_dividend) {
        factor *= (1.0 - share).powi(dividends_after(date) as i32);
    }
    if let (true, Some(spun)) = (kinds.spin_off, actions.spin_off_date) {
        factor *= if date < spun { SPIN_OFF_FACTOR } else { 1.0 };
    }
    if factor == 1.0 && volume_factor == 1.0 {
        return raw;
    }
    rounded(scaled(raw, factor, volume_factor), 10_000.0)
}

fn scaled(bar: Bar, price: f64, volume: f64) -> Bar {
    Bar {
        o: bar.o * price,
        h: bar.h * price,
        l: bar.l * price,
        c: bar.c * price,
        vw: bar.vw * price,
        v: ((bar.v as f64 * volume).round() as u64).max(1),
        ..bar
    }
}

/// Rounds prices to `1/per_unit`, the low down and the high up, so that the
/// bar stays consistent (`l <= o, c, vw <= h`) and positive. The slack keeps
/// a price already on the grid (`123.45` is `12344.999...` cents) in place.
fn rounded(bar: Bar, per_unit: f64) -> Bar {
    const SLACK: f64 = 1e-6;
    let tick = 1.0 / per_unit;
    let low = ((bar.l * per_unit + SLACK).floor() / per_unit).max(tick);
    let high = ((bar.h * per_unit - SLACK).ceil() / per_unit).max(low);
    let near = |p: f64| ((p * per_unit).round() / per_unit).clamp(low, high);
    Bar {
        o: near(bar.o),
        h: high,
        l: low,
        c: near(bar.c),
        vw: near(bar.vw),
        ..bar
    }
}

/// How many quarterly ex-dividend dates fall after `date`, up to the date the
/// adjustments are computed as of.
fn dividends_after(date: NaiveDate) -> u32 {
    let passed = |d: NaiveDate| {
        let this_year = [2, 5, 8, 11]
            .iter()
            .filter(|m| (**m, 15) <= (d.month(), d.day()))
            .count();
        d.year() as u32 * 4 + this_year as u32
    };
    passed(ADJUSTED_AS_OF).saturating_sub(passed(date))
}

/// The kinds an [`Adjustment`] asks for, read from its canonical spelling
/// because the domain type keeps its flags to itself.
struct AdjustmentKinds {
    split: bool,
    dividend: bool,
    spin_off: bool,
}

impl AdjustmentKinds {
    fn of(adjustment: Adjustment) -> Self {
        let spelled = adjustment.to_string();
        let has = |kind| spelled == "all" || spelled.split(',').any(|k| k == kind);
        AdjustmentKinds {
            split: has("split"),
            dividend: has("dividend"),
            spin_off: has("spin-off"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbol(s: &str) -> Symbol {
        s.parse().unwrap()
    }

    /// Every whole minute of a New York date, in UTC.
    fn minutes_of(date: &str) -> Vec<DateTime<Utc>> {
        let date: NaiveDate = date.parse().unwrap();
        let midnight = crate::sim::query::new_york_midnight(date);
        (0..24 * 60)
            .map(|i| midnight + TimeDelta::minutes(i))
            .collect()
    }

    fn day_bars(s: &str, date: &str, feed: Feed, adjustment: Adjustment) -> Vec<Bar> {
        let sym = symbol(s);
        minutes_of(date)
            .into_iter()
            .filter_map(|m| bar_at(&sym, m, feed, adjustment))
            .collect()
    }

    fn new_york_hhmm(bar: &Bar) -> String {
        bar.t.with_timezone(&New_York).format("%H:%M").to_string()
    }

    #[test]
    fn bars_are_sane_and_repeatable() {
        for s in ["AAPL", "SPY", "THIN", "BRK.B", "Z9"] {
            for feed in Feed::ALL {
                let bars = day_bars(s, "2024-03-05", feed, Adjustment::RAW);
                assert!(!bars.is_empty(), "{s} {feed}");
                assert_eq!(bars, day_bars(s, "2024-03-05", feed, Adjustment::RAW));
                for b in &bars {
                    let prices = [b.o, b.h, b.l, b.c, b.vw];
                    assert!(prices.iter().all(|p| p.is_finite() && *p > 0.0), "{b:?}");
                    assert!(b.l <= b.o.min(b.c) && b.o.max(b.c) <= b.h, "{b:?}");
                    assert!(b.l <= b.vw && b.vw <= b.h, "{b:?}");
                    assert!(b.v >= 1 && (1..=b.v).contains(&b.n), "{b:?}");
                }
            }
        }
    }

    #[test]
    fn bars_only_within_the_extended_day_of_a_session() {
        let bars = day_bars("AAPL", "2024-03-05", Feed::Sip, Adjustment::RAW);
        let first = new_york_hhmm(&bars[0]);
        let last = new_york_hhmm(bars.last().unwrap());
        assert!(
            ("04:00".."04:15").contains(&first.as_str()),
            "first bar at {first}"
        );
        assert!(
            ("19:45".."20:00").contains(&last.as_str()),
            "last bar at {last}"
        );
        assert!(day_bars("AAPL", "2024-03-09", Feed::Sip, Adjustment::RAW).is_empty());
        let off_minute = bars[0].t + TimeDelta::seconds(30);
        assert_eq!(
            bar_at(&symbol("AAPL"), off_minute, Feed::Sip, Adjustment::RAW),
            None
        );
    }

    #[test]
    fn feeds_and_hours_differ_in_density() {
        let regular = |b: &&Bar| ("09:30".."16:00").contains(&new_york_hhmm(b).as_str());
        let share = |s: &str, feed, in_regular: bool| {
            let bars = day_bars(s, "2024-03-05", feed, Adjustment::RAW);
            let count = bars.iter().filter(|b| regular(b) == in_regular).count();
            count as f64 / if in_regular { 390.0 } else { 570.0 }
        };
        assert!(share("AAPL", Feed::Sip, true) > 0.9);
        assert!(share("AAPL", Feed::Sip, false) < 0.6);
        assert!(share("AAPL", Feed::Iex, true) < share("AAPL", Feed::Sip, true));
        assert!(share("AAPL", Feed::Iex, false) < share("AAPL", Feed::Sip, false));
        assert!(share(THIN_SYMBOL, Feed::Sip, true) < 0.25, "THIN is thin");
    }

    #[test]
    fn every_iex_minute_also_has_a_sip_bar() {
        let sip: Vec<_> = day_bars("MSFT", "2024-03-05", Feed::Sip, Adjustment::RAW);
        let iex = day_bars("MSFT", "2024-03-05", Feed::Iex, Adjustment::RAW);
        assert!(iex.iter().all(|i| sip.iter().any(|s| s.t == i.t)));
        assert!(
            iex.iter()
                .all(|i| sip.iter().any(|s| s.t == i.t && s.v > i.v && s.o == i.o))
        );
    }

    #[test]
    fn prices_walk_on_from_one_minute_to_the_next() {
        let bars = day_bars("AAPL", "2024-03-05", Feed::Sip, Adjustment::RAW);
        let consecutive = bars
            .windows(2)
            .filter(|w| w[1].t - w[0].t == TimeDelta::minutes(1));
        let mut count = 0;
        for pair in consecutive {
            assert_eq!(pair[0].c, pair[1].o, "{pair:?}");
            count += 1;
        }
        assert!(count > 300);
    }

    #[test]
    fn thin_symbols_are_the_fixed_one_and_one_in_twenty() {
        assert!(is_thin(&symbol(THIN_SYMBOL)));
        assert!(!is_thin(&symbol("AAPL")));
        let thin = (0..2000)
            .filter(|i| is_thin(&symbol(&format!("T{i}"))))
            .count();
        assert!((70..130).contains(&thin), "{thin} of 2000 are thin");
    }

    #[test]
    fn split_adjustment_scales_only_bars_before_the_split() {
        let sym = symbol("AAPL");
        let actions = corporate_actions(&sym);
        let ratio = f64::from(actions.split_ratio);
        let split: Adjustment = "split".parse().unwrap();
        let trading_day = |step: i64| {
            let day = |k: i64| (actions.split_date + TimeDelta::days(step * k)).to_string();
            (1..)
                .map(day)
                .find(|d| !day_bars("AAPL", d, Feed::Sip, Adjustment::RAW).is_empty())
        };
        let (before, after) = (trading_day(-1).unwrap(), trading_day(1).unwrap());

        let raw = day_bars("AAPL", &before, Feed::Sip, Adjustment::RAW);
        let adjusted = day_bars("AAPL", &before, Feed::Sip, split);
        assert_eq!(raw.len(), adjusted.len());
        for (r, a) in raw.iter().zip(&adjusted) {
            assert!((a.o * ratio - r.o).abs() < 0.001 * ratio, "{r:?} {a:?}");
            assert_eq!(a.v, r.v * u64::from(actions.split_ratio));
        }
        let raw = day_bars("AAPL", &after, Feed::Sip, Adjustment::RAW);
        assert_eq!(raw, day_bars("AAPL", &after, Feed::Sip, split));
    }

    #[test]
    fn dividend_and_spin_off_adjustments_lower_earlier_prices() {
        let payer = (0..100)
            .map(|i| symbol(&format!("D{i}")))
            .find(|s| {
                let actions = corporate_actions(s);
                let spin_off_later = actions.spin_off_date.is_some_and(|d| d.year() > 2016);
                actions.quarterly_dividend.is_some() && spin_off_later
            })
            .unwrap();
        let minute = "2016-01-05T15:00:00Z".parse().unwrap();
        let bar = |adjustment: &str| bar_at(&payer, minute, Feed::Sip, adjustment.parse().unwrap());
        let (split, dividend, all) = (
            bar("split").unwrap(),
            bar("dividend").unwrap(),
            bar("all").unwrap(),
        );
        assert!(dividend.c < bar("raw").unwrap().c);
        assert!(
            all.c < split.c,
            "dividends and the spin-off lower split prices further"
        );
        assert_eq!(bar("spin-off,dividend,split"), Some(all));
    }

    #[test]
    fn dividends_are_counted_per_quarter_up_to_the_horizon() {
        let date = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(dividends_after(date("2035-11-15")), 0);
        assert_eq!(dividends_after(date("2035-11-14")), 1);
        assert_eq!(dividends_after(date("2034-12-31")), 4);
        assert_eq!(dividends_after(date("2040-01-01")), 0);
    }
}
