//! How long the plan takes as a pure function, for 500 and 5,000 symbols over
//! 252 sessions: with an empty ledger (the first seed) and with every other
//! session recorded (the worst shape: a window per gap).
//!
//! Run with `cargo bench --bench plan`; the figures are written down in the
//! README. No database is involved: this is the planner alone.

use std::hint::black_box;
use std::time::{Duration, Instant};

use seedctl::calendar::Calendar;
use seedctl::domain::{Adjustment, Feed, SessionKind, Symbol};
use seedctl::ledger::{Ledger, LedgerEntry, Presence};
use seedctl::plan::{AsOf, Draft, Settings};
use seedctl::spec::{Origin, Span, Spec, Target};

const SESSIONS: u32 = 252;

fn symbol(i: usize) -> Symbol {
    let letters: String = format!("{i:05}")
        .bytes()
        .map(|d| (b'A' + (d - b'0')) as char)
        .collect();
    letters.parse().expect("five letters make a ticker")
}

fn spec(symbols: usize) -> Spec {
    let targets = (0..symbols)
        .map(|i| Target {
            symbol: symbol(i),
            feed: Feed::Iex,
            adjustment: Adjustment::RAW,
            session: SessionKind::Extended,
            span: Span::TradingDays(SESSIONS),
            include_current: false,
            origin: Origin {
                source: "bench.yaml".into(),
                line: 1,
                column: 1,
            },
        })
        .collect();
    Spec { targets }
}

fn every_other_session(spec: &Spec, as_of: &AsOf) -> Ledger {
    let calendar = Calendar::nyse();
    let sessions = calendar
        .last_closed(as_of.instant, SESSIONS as usize, SessionKind::Extended)
        .expect("in range");
    let entries = spec.targets.iter().flat_map(|t| {
        sessions.iter().step_by(2).map(move |s| {
            let (start, end) = s.bounds(SessionKind::Extended);
            LedgerEntry {
                symbol: t.symbol.clone(),
                session_date: s.date,
                start,
                end,
                feed: Feed::Iex,
                adjustment: Adjustment::RAW,
                bars: 600,
            }
        })
    });
    Ledger::from_entries(entries)
}

fn time(label: &str, spec: &Spec, as_of: &AsOf, ledger: &Ledger) {
    let calendar = Calendar::nyse();
    let mut best = Duration::MAX;
    let mut requests = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let draft = Draft::new(spec, calendar, as_of.clone(), ledger, Settings::default())
            .expect("plannable");
        let plan = draft.finish(calendar, &Presence::default(), "bench".into());
        best = best.min(started.elapsed());
        requests = plan.summary.requests;
        black_box(plan);
    }
    println!(
        "{label:<46} {:>8.1} ms  ({requests} requests)",
        best.as_secs_f64() * 1000.0
    );
}

fn main() {
    let as_of = AsOf::parse(Some("2026-12-02"), chrono::Utc::now()).expect("a date");
    for symbols in [500, 5_000] {
        let spec = spec(symbols);
        time(
            &format!("{symbols} symbols x {SESSIONS} sessions, empty ledger"),
            &spec,
            &as_of,
            &Ledger::default(),
        );
        let ledger = every_other_session(&spec, &as_of);
        time(
            &format!("{symbols} symbols x {SESSIONS} sessions, half recorded"),
            &spec,
            &as_of,
            &ledger,
        );
    }
}
