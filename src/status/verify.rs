//! `seedctl verify`, the deep check: a random sample of recorded ledger
//! windows is fetched again and compared with the table value by value.
//!
//! Drift (see `seedctl status`) compares counts, which catches rows deleted
//! or added; only the source can tell a row whose values changed (a revised
//! bar, an edit by hand, a loader that rounded). This module holds the pure
//! steps: which windows may be sampled, the seeded sample, the requests that
//! fetch it within a budget, the comparison, and the text. Fetching and
//! reading the table are `commands::verify`'s job; so is what to do with a
//! window that differs.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use chrono_tz::America::New_York;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::IndexedRandom;

use crate::alpaca::client::BarsQuery;
use crate::alpaca::wire::{Bar, MAX_LIMIT};
use crate::ledger::{Ledger, LedgerEntry};
use crate::plan::render::{rfc3339, thousands};
use crate::plan::{AsOf, DriftProbe};
use crate::spec::Spec;

/// Symbols in one request, at most, as for `apply`.
const MAX_SYMBOLS_PER_REQUEST: usize = 100;

/// Differences listed per window; the rest are counted.
const DIFFERENCES_SHOWN: usize = 5;

/// A bar as the table holds it. `trade_count` and `vwap` may be NULL in a
/// table that an older loader created.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoredBar {
    pub ts: DateTime<Utc>,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: i64,
    pub trade_count: Option<i64>,
    pub vwap: Option<f64>,
}

/// The ledger windows a verify may sample: those of the coverage's symbols,
/// in their desired sessions (`probes`, one per symbol), recorded with the
/// feed and adjustment the coverage asks for. Sorted by symbol and start.
pub fn candidates(spec: &Spec, ledger: &Ledger, probes: &[DriftProbe]) -> Vec<LedgerEntry> {
    let mut windows = Vec::new();
    for target in &spec.targets {
        let Some(probe) = probes.iter().find(|p| p.symbol == target.symbol) else {
            continue;
        };
        windows.extend(
            ledger
                .for_symbol(&target.symbol)
                .iter()
                .filter(|e| e.start < probe.end && e.end > probe.start)
                .filter(|e| e.feed == target.feed && e.adjustment == target.adjustment)
                .cloned(),
        );
    }
    windows
}

/// `size` windows drawn without replacement, in the order drawn. The same
/// seed draws the same windows from the same candidates.
pub fn sample(candidates: &[LedgerEntry], size: usize, seed: u64) -> Vec<LedgerEntry> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    candidates.sample(&mut rng, size).cloned().collect()
}

/// One request of the sample and the windows it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleRequest {
    pub query: BarsQuery,
    pub windows: Vec<LedgerEntry>,
}

impl SampleRequest {
    /// Pages the request should take, from the bars the ledger recorded.
    pub fn estimated_pages(&self) -> u64 {
        pages_for(self.windows.iter().map(|w| w.bars).sum())
    }

    fn takes(&self, window: &LedgerEntry) -> bool {
        let q = &self.query;
        (q.start, q.end, q.feed, q.adjustment)
            == (window.start, window.end, window.feed, window.adjustment)
            && q.symbols.len() < MAX_SYMBOLS_PER_REQUEST
    }
}

fn pages_for(bars: i64) -> u64 {
    (bars.max(1) as u64).div_ceil(u64::from(MAX_LIMIT))
}

/// The requests that fetch a sample, within a budget of pages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SamplePlan {
    pub requests: Vec<SampleRequest>,
    /// Windows of the sample left out to stay within the budget.
    pub left_out: usize,
}

impl SamplePlan {
    /// Windows with the same minutes, feed and adjustment share a request.
    /// Windows are taken in the order drawn, and one that would push the
    /// estimate past `max_requests` is left out.
    pub fn new(sample: Vec<LedgerEntry>, max_requests: u64) -> SamplePlan {
        let mut plan = SamplePlan::default();
        for window in sample {
            let slot = plan.requests.iter().position(|r| r.takes(&window));
            let (pages_before, bars_before) = slot.map_or((0, 0), |i| {
                let request = &plan.requests[i];
                (
                    request.estimated_pages(),
                    request.windows.iter().map(|w| w.bars).sum(),
                )
            });
            let pages =
                plan.estimated_pages() - pages_before + pages_for(bars_before + window.bars);
            if pages > max_requests {
                plan.left_out += 1;
                continue;
            }
            match slot {
                Some(i) => {
                    plan.requests[i].query.symbols.push(window.symbol.clone());
                    plan.requests[i].windows.push(window);
                }
                None => plan.requests.push(SampleRequest {
                    query: query_for(&window),
                    windows: vec![window],
                }),
            }
        }
        plan
    }

    pub fn windows(&self) -> usize {
        self.requests.iter().map(|r| r.windows.len()).sum()
    }

    pub fn estimated_pages(&self) -> u64 {
        self.requests
            .iter()
            .map(SampleRequest::estimated_pages)
            .sum()
    }
}

fn query_for(window: &LedgerEntry) -> BarsQuery {
    BarsQuery {
        symbols: vec![window.symbol.clone()],
        feed: window.feed,
        adjustment: window.adjustment,
        start: window.start,
        end: window.end,
    }
}

/// One way a stored window differs from what the source serves now.
#[derive(Debug, Clone, PartialEq)]
pub enum Difference {
    /// Served, but not in the table.
    Missing { ts: DateTime<Utc> },
    /// In the table, but not served.
    Extra { ts: DateTime<Utc> },
    /// In both, with another value.
    Changed {
        ts: DateTime<Utc>,
        field: &'static str,
        stored: String,
        served: String,
    },
}

/// A sampled window, compared.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowCheck {
    pub window: LedgerEntry,
    pub served: usize,
    pub stored: usize,
    pub differences: Vec<Difference>,
}

impl WindowCheck {
    pub fn matches(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Compares a window's stored bars with the bars served for it, minute by
/// minute: counts exactly, prices to twelve significant digits (see
/// `same_price`). Served bars outside the window are ignored; both lists
/// must be sorted by time.
pub fn compare(window: &LedgerEntry, served: &[Bar], stored: &[StoredBar]) -> WindowCheck {
    let served: Vec<&Bar> = served
        .iter()
        .filter(|b| b.t >= window.start && b.t < window.end)
        .collect();
    let mut differences = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < served.len() || j < stored.len() {
        match (served.get(i), stored.get(j)) {
            (Some(a), Some(b)) if a.t == b.ts => {
                changed_values(a, b, &mut differences);
                (i, j) = (i + 1, j + 1);
            }
            (Some(a), b) if b.is_none_or(|b| a.t < b.ts) => {
                differences.push(Difference::Missing { ts: a.t });
                i += 1;
            }
            (_, Some(b)) => {
                differences.push(Difference::Extra { ts: b.ts });
                j += 1;
            }
            (_, None) => unreachable!("the loop stops when both lists are done"),
        }
    }
    WindowCheck {
        window: window.clone(),
        served: served.len(),
        stored: stored.len(),
        differences,
    }
}

/// A field's stored value (NULL as None) and the served one.
enum Field {
    Price(Option<f64>, f64),
    Count(Option<i64>, u64),
}

fn changed_values(served: &Bar, stored: &StoredBar, out: &mut Vec<Difference>) {
    let fields = [
        ("o", Field::Price(Some(stored.open), served.o)),
        ("h", Field::Price(Some(stored.high), served.h)),
        ("l", Field::Price(Some(stored.low), served.l)),
        ("c", Field::Price(Some(stored.close), served.c)),
        ("v", Field::Count(Some(stored.volume), served.v)),
        ("n", Field::Count(stored.trade_count, served.n)),
        ("vw", Field::Price(stored.vwap, served.vw)),
    ];
    for (field, values) in fields {
        let (same, stored_value, served_value) = match values {
            Field::Price(s, v) => (
                s.is_some_and(|s| same_price(s, v)),
                s.map(|s| s.to_string()),
                v.to_string(),
            ),
            Field::Count(s, v) => (
                s.is_some_and(|s| u64::try_from(s) == Ok(v)),
                s.map(|s| s.to_string()),
                v.to_string(),
            ),
        };
        if !same {
            out.push(Difference::Changed {
                ts: served.t,
                field,
                stored: stored_value.unwrap_or_else(|| "NULL".to_string()),
                served: served_value,
            });
        }
    }
}

/// Equal to twelve significant digits. The bars reach the table through a
/// JSON parser that may round the last bit differently from another
/// loader's; a price that differs only there has not changed.
fn same_price(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

/// What a verify did, for the text.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyReport {
    pub as_of: AsOf,
    pub seed: u64,
    pub candidates: usize,
    pub left_out: usize,
    pub requests: u64,
    /// Sorted by symbol and start.
    pub checks: Vec<WindowCheck>,
    /// Ledger entries removed because their window differs.
    pub forgotten: u64,
}

impl VerifyReport {
    pub fn differing(&self) -> usize {
        self.checks.iter().filter(|c| !c.matches()).count()
    }
}

pub fn render(report: &VerifyReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "seedctl verify as of {} ({})",
        report.as_of.label,
        rfc3339(report.as_of.instant)
    );
    let mut sampled = format!(
        "sampled {} of {} recorded windows with --seed {}",
        report.checks.len(),
        report.candidates,
        report.seed
    );
    if report.left_out > 0 {
        let _ = write!(
            sampled,
            " ({} more left out to stay within --max-requests)",
            report.left_out
        );
    }
    let _ = writeln!(out, "{sampled}; {} requests\n", report.requests);
    for check in &report.checks {
        check_lines(&mut out, check);
    }
    if !report.checks.is_empty() {
        out.push('\n');
    }
    summary(&mut out, report);
    out
}

fn check_lines(out: &mut String, check: &WindowCheck) {
    let w = &check.window;
    let verdict = if check.matches() {
        "ok     "
    } else {
        "differs"
    };
    let _ = writeln!(
        out,
        "  {verdict}  {:<6} {}  {}-{} ET  {} bars in the table, {} served",
        w.symbol.as_str(),
        w.session_date,
        w.start.with_timezone(&New_York).format("%H:%M"),
        w.end.with_timezone(&New_York).format("%H:%M"),
        thousands(check.stored as u64),
        thousands(check.served as u64)
    );
    for difference in check.differences.iter().take(DIFFERENCES_SHOWN) {
        let _ = writeln!(out, "             {}", describe(difference));
    }
    let hidden = check.differences.len().saturating_sub(DIFFERENCES_SHOWN);
    if hidden > 0 {
        let _ = writeln!(out, "             and {hidden} more differences");
    }
}

fn describe(difference: &Difference) -> String {
    let minute = |t: &DateTime<Utc>| t.with_timezone(&New_York).format("%H:%M ET").to_string();
    match difference {
        Difference::Missing { ts } => format!("{} served, missing from the table", minute(ts)),
        Difference::Extra { ts } => format!("{} in the table, not served", minute(ts)),
        Difference::Changed {
            ts,
            field,
            stored,
            served,
        } => format!(
            "{} {field}: {stored} in the table, {served} served",
            minute(ts)
        ),
    }
}

fn summary(out: &mut String, report: &VerifyReport) {
    if report.checks.is_empty() {
        let _ = writeln!(
            out,
            "Nothing to verify: the ledger records no window of this coverage."
        );
        return;
    }
    let bars: usize = report.checks.iter().map(|c| c.served).sum();
    let differing = report.differing();
    let _ = writeln!(
        out,
        "Verified {} windows ({} bars served): {} match, {differing} differ.",
        report.checks.len(),
        thousands(bars as u64),
        report.checks.len() - differing
    );
    if differing > 0 {
        let _ = writeln!(
            out,
            "Removed {} ledger entries: `seedctl plan` shows their windows as gaps again, and \
             `seedctl apply` fetches them.",
            report.forgotten
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Adjustment, Feed, Symbol};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("a test timestamp")
    }

    fn entry(symbol: &str, day: &str, bars: i64) -> LedgerEntry {
        let start = at(&format!("{day}T14:30:00Z"));
        LedgerEntry {
            symbol: symbol.parse().expect("a symbol"),
            session_date: day.parse().expect("a date"),
            start,
            end: start + chrono::Duration::minutes(390),
            feed: Feed::Iex,
            adjustment: Adjustment::RAW,
            bars,
        }
    }

    fn bar(ts: &str, close: f64) -> Bar {
        Bar {
            t: at(ts),
            o: 100.0,
            h: 101.0,
            l: 99.0,
            c: close,
            v: 1200,
            n: 14,
            vw: 100.25,
        }
    }

    fn stored(b: &Bar) -> StoredBar {
        StoredBar {
            ts: b.t,
            open: b.o,
            high: b.h,
            low: b.l,
            close: b.c,
            volume: b.v as i64,
            trade_count: Some(b.n as i64),
            vwap: Some(b.vw),
        }
    }

    #[test]
    fn the_same_seed_draws_the_same_windows() {
        let days = ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"];
        let candidates: Vec<LedgerEntry> = ["SPY", "QQQ", "AAPL"]
            .iter()
            .flat_map(|s| days.iter().map(move |d| entry(s, d, 300)))
            .collect();
        let first = sample(&candidates, 5, 42);
        assert_eq!(first.len(), 5);
        assert_eq!(first, sample(&candidates, 5, 42));
        assert_ne!(first, sample(&candidates, 5, 43));
        assert_eq!(sample(&candidates, 50, 1).len(), candidates.len());
    }

    #[test]
    fn windows_with_the_same_minutes_share_a_request_within_the_budget() {
        let sample = vec![
            entry("SPY", "2026-11-02", 6_000),
            entry("QQQ", "2026-11-03", 300),
            entry("AAPL", "2026-11-02", 6_000),
            entry("MSFT", "2026-11-04", 300),
        ];
        let plan = SamplePlan::new(sample.clone(), 10);
        let symbols: Vec<Vec<&str>> = plan
            .requests
            .iter()
            .map(|r| r.query.symbols.iter().map(Symbol::as_str).collect())
            .collect();
        assert_eq!(symbols, [vec!["SPY", "AAPL"], vec!["QQQ"], vec!["MSFT"]]);
        assert_eq!(plan.requests[0].estimated_pages(), 2, "12,000 bars");

        // With three requests' budget, MSFT's would be the fourth page.
        let plan = SamplePlan::new(sample, 3);
        assert_eq!((plan.windows(), plan.left_out), (3, 1));
    }

    #[test]
    fn every_kind_of_difference_is_found() {
        let window = entry("SPY", "2026-11-02", 3);
        let served = [
            bar("2026-11-02T14:29:00Z", 1.0), // before the window: ignored
            bar("2026-11-02T14:30:00Z", 100.5),
            bar("2026-11-02T14:31:00Z", 100.5),
            bar("2026-11-02T14:33:00Z", 100.5),
        ];
        let mut table: Vec<StoredBar> = served[1..3].iter().map(stored).collect();
        table[1].close = 100.25;
        table[1].trade_count = None;
        table.push(stored(&bar("2026-11-02T14:32:00Z", 100.5)));

        let check = compare(&window, &served, &table);
        assert_eq!((check.served, check.stored), (3, 3));
        let lines: Vec<String> = check.differences.iter().map(describe).collect();
        assert_eq!(
            lines,
            [
                "09:31 ET c: 100.25 in the table, 100.5 served",
                "09:31 ET n: NULL in the table, 14 served",
                "09:32 ET in the table, not served",
                "09:33 ET served, missing from the table",
            ]
        );
    }

    #[test]
    fn bars_equal_but_for_the_last_bit_match() {
        let window = entry("SPY", "2026-11-02", 2);
        let served = [
            bar("2026-11-02T14:30:00Z", 100.1),
            bar("2026-11-02T14:31:00Z", 0.3),
        ];
        let mut table: Vec<StoredBar> = served.iter().map(stored).collect();
        table[1].close = 0.1 + 0.2;
        assert_ne!(table[1].close, served[1].c, "one bit apart");
        assert!(compare(&window, &served, &table).matches());
    }
}
