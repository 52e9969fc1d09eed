//! The verdict and the reasons, from plain values: no database here.

use chrono::{DateTime, NaiveDate, Utc};

use super::render::describe;
use super::*;
use crate::calendar::Calendar;
use crate::ledger::{Ledger, LedgerEntry};
use crate::plan::{Draft, Settings};
use crate::spec::{Origin, Span, Spec, Target};

fn date(s: &str) -> NaiveDate {
    s.parse().expect("a test date")
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("a test timestamp")
}

fn target(symbol: &str) -> Target {
    Target {
        symbol: symbol.parse().expect("a test symbol"),
        feed: Feed::Iex,
        adjustment: Adjustment::RAW,
        session: SessionKind::Extended,
        span: Span::TradingDays(30),
        include_current: false,
        origin: Origin {
            source: "plans/test.yaml".into(),
            line: 3,
            column: 5,
        },
    }
}

/// SPY recorded with 900 bars a session from `from` to 2026-12-02.
fn ledger_from(from: &str) -> Vec<LedgerEntry> {
    let sessions = Calendar::nyse()
        .sessions(date(from), date("2026-12-02"))
        .expect("in range");
    sessions
        .iter()
        .map(|s| {
            let (start, end) = s.bounds(SessionKind::Extended);
            LedgerEntry {
                symbol: target("SPY").symbol,
                session_date: s.date,
                start,
                end,
                feed: Feed::Iex,
                adjustment: Adjustment::RAW,
                bars: 900,
            }
        })
        .collect()
}

fn plan(entries: Vec<LedgerEntry>) -> Plan {
    let as_of = AsOf::parse(Some("2026-12-02"), Utc::now()).expect("a date");
    let spec = Spec {
        targets: vec![target("SPY")],
    };
    let ledger = Ledger::from_entries(entries);
    let calendar = Calendar::nyse();
    let draft =
        Draft::new(&spec, calendar, as_of, &ledger, Settings::default()).expect("plannable");
    draft.finish(calendar, &Presence::default(), "test".into())
}

fn run(id: i64, outcome: RunOutcome, error: Option<&str>) -> Run {
    Run {
        id,
        command: "apply".into(),
        started_at: at("2026-12-02T21:05:00Z"),
        finished_at: Some(at("2026-12-02T21:09:12Z")),
        outcome,
        planned_windows: 3,
        windows: 3,
        requests: 4,
        bars: 2700,
        retries: 0,
        error: error.map(str::to_string),
    }
}

fn facts(plan: Plan, drift: Vec<Drift>, runs: Vec<Run>) -> Facts {
    Facts {
        plan,
        drift: Some(drift),
        latest_bars: BTreeMap::new(),
        recent: Presence::default(),
        runs,
        notes: Vec::new(),
    }
}

fn drifted(entry: &LedgerEntry, present: i64) -> Drift {
    Drift {
        symbol: entry.symbol.clone(),
        session_date: entry.session_date,
        start: entry.start,
        end: entry.end,
        feed: entry.feed,
        adjustment: entry.adjustment,
        recorded: entry.bars,
        present,
    }
}

fn reasons(report: &Report) -> Vec<String> {
    report.verdict.reasons.iter().map(describe).collect()
}

#[test]
fn the_verdict_names_every_reason() {
    let full = ledger_from("2026-10-21");
    let thanksgiving_eve = full
        .iter()
        .find(|e| e.session_date == date("2026-11-25"))
        .expect("a recorded session");
    let succeeded = || vec![run(2, RunOutcome::Succeeded, None)];
    let cases: Vec<(&str, Facts, Vec<&str>)> = vec![
        (
            "all covered",
            facts(plan(full.clone()), vec![], succeeded()),
            vec![],
        ),
        (
            "a gap",
            facts(plan(ledger_from("2026-10-23")), vec![], succeeded()),
            vec!["SPY: 2026-10-21 .. 2026-10-22 not covered, 2 sessions"],
        ),
        (
            "drift",
            facts(
                plan(full.clone()),
                vec![drifted(thanksgiving_eve, 897)],
                succeeded(),
            ),
            vec!["SPY: 2026-11-25 drifted: 900 bars recorded, 897 in the table"],
        ),
        (
            "no run",
            facts(plan(full.clone()), vec![], vec![]),
            vec!["no seedctl run is recorded in this database"],
        ),
        (
            "a failed run after a good one",
            facts(
                plan(full.clone()),
                vec![],
                vec![
                    run(3, RunOutcome::Failed, Some("connection reset")),
                    run(2, RunOutcome::Succeeded, None),
                ],
            ),
            vec!["the last run, #3 (apply, started 2026-12-02 16:05 ET), failed: connection reset"],
        ),
        (
            "a run in progress",
            facts(
                plan(full.clone()),
                vec![],
                vec![run(4, RunOutcome::Running, None)],
            ),
            vec!["the last run, #4 (apply, started 2026-12-02 16:05 ET), is still running"],
        ),
    ];
    for (name, facts, expected) in cases {
        let report = Report::new(facts, Calendar::nyse());
        assert_eq!(reasons(&report), expected, "{name}");
        assert_eq!(report.is_ready(), expected.is_empty(), "{name}");
    }
}

#[test]
fn a_feed_change_is_named_in_the_reason() {
    let mut entries = ledger_from("2026-10-21");
    entries.iter_mut().for_each(|e| e.feed = Feed::Sip);
    let report = Report::new(
        facts(
            plan(entries),
            vec![],
            vec![run(1, RunOutcome::Succeeded, None)],
        ),
        Calendar::nyse(),
    );
    assert_eq!(
        reasons(&report),
        ["SPY: 2026-10-21 .. 2026-12-02 not covered (recorded from sip, wanted iex), 30 sessions"]
    );
}

#[test]
fn the_spot_check_counts_the_two_newest_desired_sessions() {
    let plan = plan(ledger_from("2026-10-21"));
    let probes = recent_probes(&plan, Calendar::nyse());
    let ranges: Vec<_> = probes.iter().map(|p| (p.start, p.end)).collect();
    assert_eq!(
        ranges,
        [
            (at("2026-12-01T09:00:00Z"), at("2026-12-02T01:00:00Z")),
            (at("2026-12-02T09:00:00Z"), at("2026-12-03T01:00:00Z")),
        ]
    );

    let spy = target("SPY").symbol;
    let mut facts = facts(plan, vec![], vec![]);
    facts.recent = Presence::from_counts([((spy.clone(), date("2026-12-02")), 958)]);
    let report = Report::new(facts, Calendar::nyse());
    let recent = &report.symbols[0].recent_sessions;
    assert_eq!(
        recent,
        &[
            SessionBars {
                session: date("2026-12-01"),
                bars: 0
            },
            SessionBars {
                session: date("2026-12-02"),
                bars: 958
            },
        ]
    );
}

#[test]
fn run_outcomes_read_back_from_their_names() {
    for outcome in [
        RunOutcome::Running,
        RunOutcome::Succeeded,
        RunOutcome::Failed,
        RunOutcome::Interrupted,
    ] {
        assert_eq!(outcome.as_str().parse::<RunOutcome>(), Ok(outcome));
    }
    assert!("paused".parse::<RunOutcome>().is_err());
}
