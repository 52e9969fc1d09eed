//! The plan as a pure function: spec, calendar, clock, ledger and bars
//! present in, windows and requests out. No database here.

use chrono::{DateTime, NaiveDate, Utc};

use super::*;
use crate::calendar::Calendar;
use crate::domain::{Adjustment, Feed, SessionKind, Symbol};
use crate::ledger::{Ledger, LedgerEntry, Presence};
use crate::spec::{Origin, Span, Spec, Target};

fn date(s: &str) -> NaiveDate {
    s.parse().expect("a test date")
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("a test timestamp")
}

fn end_of(day: &str) -> AsOf {
    AsOf::parse(Some(day), Utc::now()).expect("a date parses")
}

fn target(symbol: &str, span: Span) -> Target {
    Target {
        symbol: symbol.parse().expect("a test symbol"),
        feed: Feed::Iex,
        adjustment: Adjustment::RAW,
        session: SessionKind::Extended,
        span,
        include_current: false,
        origin: Origin {
            source: "plans/test.yaml".into(),
            line: 3,
            column: 5,
        },
    }
}

fn spec(targets: Vec<Target>) -> Spec {
    Spec { targets }
}

/// Ledger entries for whole sessions of one symbol, as apply writes them.
fn recorded(t: &Target, from: &str, to: &str, feed: Feed, bars: i64) -> Vec<LedgerEntry> {
    let sessions = Calendar::nyse()
        .sessions(date(from), date(to))
        .expect("in range");
    sessions
        .iter()
        .map(|s| {
            let (start, end) = s.bounds(t.session);
            LedgerEntry {
                symbol: t.symbol.clone(),
                session_date: s.date,
                start,
                end,
                feed,
                adjustment: t.adjustment,
                bars,
            }
        })
        .collect()
}

fn plan_with(spec: &Spec, as_of: AsOf, ledger: &Ledger, presence: &Presence) -> Plan {
    plan_with_settings(spec, as_of, ledger, presence, Settings::default())
}

fn plan_with_settings(
    spec: &Spec,
    as_of: AsOf,
    ledger: &Ledger,
    presence: &Presence,
    settings: Settings,
) -> Plan {
    let calendar = Calendar::nyse();
    let draft = Draft::new(spec, calendar, as_of, ledger, settings).expect("plannable");
    draft.finish(calendar, presence, "test".into())
}

const THIRTY_DAYS: Span = Span::TradingDays(30);

#[test]
fn an_empty_ledger_plans_every_session_in_one_window() {
    let spec = spec(vec![target("SPY", THIRTY_DAYS)]);
    let plan = plan_with(
        &spec,
        end_of("2026-12-02"),
        &Ledger::default(),
        &Presence::default(),
    );

    let spy = &plan.symbols[0];
    assert_eq!((spy.desired_sessions, spy.covered_sessions), (30, 0));
    assert_eq!(spy.first_session, Some(date("2026-10-21")));
    assert_eq!(spy.last_session, Some(date("2026-12-02")));
    let [window] = spy.windows.as_slice() else {
        panic!("one window: {:?}", spy.windows)
    };
    assert_eq!(window.action, Action::Fetch);
    assert_eq!(
        window.start,
        at("2026-10-21T08:00:00Z"),
        "04:00 New York, daylight time"
    );
    assert_eq!(
        window.end,
        at("2026-12-03T01:00:00Z"),
        "20:00 New York, standard time"
    );
    // 29 full extended days of 960 minutes and the early close of 2026-11-27
    // (04:00 to 17:00).
    assert_eq!(window.minutes, 29 * 960 + 780);
    assert_eq!(window.estimated_bars, window.minutes as u64);
}

#[test]
fn symbols_with_the_same_window_share_one_request() {
    let spec = spec(
        ["SPY", "QQQ", "AAPL"]
            .map(|s| target(s, THIRTY_DAYS))
            .to_vec(),
    );
    let plan = plan_with(
        &spec,
        end_of("2026-12-02"),
        &Ledger::default(),
        &Presence::default(),
    );

    let [request] = plan.requests.as_slice() else {
        panic!("one request: {:?}", plan.requests)
    };
    let names: Vec<&str> = request.symbols.iter().map(Symbol::as_str).collect();
    assert_eq!(names, ["AAPL", "QQQ", "SPY"]);
    assert_eq!(request.estimated_bars, 3 * (29 * 960 + 780));
    assert_eq!(request.estimated_pages, 9, "85,860 bars at 10,000 a page");
    assert_eq!(plan.summary.requests, request.estimated_pages);
    assert_eq!(plan.summary.sessions, 90);
}

#[test]
fn a_fully_recorded_thin_symbol_plans_nothing() {
    // Three bars a day: most minutes have no bar, and that is not a gap.
    let thin = target("THIN", THIRTY_DAYS);
    let ledger = Ledger::from_entries(recorded(&thin, "2026-10-21", "2026-12-02", Feed::Iex, 3));
    let presence = Presence::default();
    let plan = plan_with(&spec(vec![thin]), end_of("2026-12-02"), &ledger, &presence);

    assert!(!plan.has_changes());
    assert!(plan.symbols[0].windows.is_empty());
    assert_eq!(plan.symbols[0].covered_sessions, 30);
    assert_eq!(plan.summary.requests, 0);
}

#[test]
fn a_hole_in_the_ledger_is_planned_and_nothing_else() {
    let spy = target("SPY", THIRTY_DAYS);
    let mut entries = recorded(&spy, "2026-10-21", "2026-11-04", Feed::Iex, 500);
    entries.extend(recorded(&spy, "2026-11-10", "2026-12-02", Feed::Iex, 500));
    let plan = plan_with(
        &spec(vec![spy]),
        end_of("2026-12-02"),
        &Ledger::from_entries(entries),
        &Presence::default(),
    );

    let [window] = plan.symbols[0].windows.as_slice() else {
        panic!("one window")
    };
    assert_eq!(
        (window.first_session, window.last_session),
        (date("2026-11-05"), date("2026-11-09"))
    );
    assert_eq!(window.sessions, 3, "Thursday, Friday and Monday");
    assert_eq!(plan.symbols[0].estimate_basis, EstimateBasis::History);
    // 500 bars in each of 26 full sessions and one early close (780 minutes).
    let density: f64 = 27.0 * 500.0 / (26.0 * 960.0 + 780.0);
    assert_eq!(window.estimated_bars, (3.0 * 960.0 * density).ceil() as u64);
}

#[test]
fn a_feed_change_fetches_again_with_its_reason() {
    let spy = target("SPY", THIRTY_DAYS);
    let ledger = Ledger::from_entries(recorded(&spy, "2026-10-21", "2026-12-02", Feed::Sip, 900));
    let plan = plan_with(
        &spec(vec![spy]),
        end_of("2026-12-02"),
        &ledger,
        &Presence::default(),
    );

    let [window] = plan.symbols[0].windows.as_slice() else {
        panic!("one window")
    };
    assert_eq!(window.action, Action::Refetch);
    assert_eq!(
        window.reason,
        Some(Reason::FeedChanged {
            from: Feed::Sip,
            to: Feed::Iex
        })
    );
    assert_eq!(window.sessions, 30);
}

#[test]
fn bars_without_a_ledger_record_are_fetched_again() {
    let spy = target("SPY", THIRTY_DAYS);
    let spec = spec(vec![spy.clone()]);
    let ledger = Ledger::default();
    let calendar = Calendar::nyse();
    let draft = Draft::new(
        &spec,
        calendar,
        end_of("2026-12-02"),
        &ledger,
        Settings::default(),
    )
    .expect("plannable");

    let probes = draft.presence_probes();
    assert_eq!(probes.len(), 1);
    assert_eq!(
        probes[0].start,
        at("2026-10-21T04:00:00Z"),
        "New York midnight"
    );
    assert_eq!(probes[0].end, at("2026-12-03T05:00:00Z"));

    // An older loader wrote two of the sessions.
    let presence = Presence::from_counts([
        ((spy.symbol.clone(), date("2026-10-21")), 700),
        ((spy.symbol.clone(), date("2026-10-22")), 650),
    ]);
    let plan = draft.finish(calendar, &presence, "test".into());
    let windows = &plan.symbols[0].windows;
    assert_eq!(windows.len(), 2);
    assert_eq!(windows[0].reason, Some(Reason::Unrecorded));
    assert_eq!(windows[0].unrecorded_bars, 1350);
    assert_eq!(windows[0].sessions, 2);
    assert_eq!(
        (windows[1].action, windows[1].sessions),
        (Action::Fetch, 28)
    );
    // Both windows are fetched by one request.
    assert_eq!(plan.requests.len(), 1);
}

#[test]
fn recorded_bars_are_not_mistaken_for_unrecorded_ones() {
    let spy = target("SPY", THIRTY_DAYS);
    let mut entries = recorded(&spy, "2026-10-21", "2026-12-02", Feed::Iex, 400);
    // One session is only half recorded: its afternoon is a gap.
    let half = entries
        .iter_mut()
        .find(|e| e.session_date == date("2026-11-18"))
        .expect("a session");
    half.end = at("2026-11-18T17:00:00Z");
    let presence = Presence::from_counts([((spy.symbol.clone(), date("2026-11-18")), 400)]);
    let plan = plan_with(
        &spec(vec![spy]),
        end_of("2026-12-02"),
        &Ledger::from_entries(entries),
        &presence,
    );

    let [window] = plan.symbols[0].windows.as_slice() else {
        panic!("one window")
    };
    assert_eq!(window.action, Action::Fetch);
    assert_eq!(
        (window.start, window.end),
        (at("2026-11-18T17:00:00Z"), at("2026-11-19T01:00:00Z"))
    );
}

#[test]
fn regular_sessions_follow_holidays_early_closes_and_daylight_saving() {
    let mut spy = target(
        "SPY",
        Span::Dates {
            from: date("2026-10-30"),
            to: Some(date("2026-11-30")),
        },
    );
    spy.session = SessionKind::Regular;
    let plan = plan_with(
        &spec(vec![spy]),
        end_of("2026-12-02"),
        &Ledger::default(),
        &Presence::default(),
    );

    let [window] = plan.symbols[0].windows.as_slice() else {
        panic!("one window")
    };
    assert_eq!(
        window.start,
        at("2026-10-30T13:30:00Z"),
        "09:30 daylight time"
    );
    assert_eq!(
        window.end,
        at("2026-11-30T21:00:00Z"),
        "16:00 standard time"
    );
    // 21 sessions: November 2026 has 20 weekdays less Thanksgiving, plus
    // 2026-10-30; one of them (11-27) closes at 13:00.
    assert_eq!(window.sessions, 21);
    assert_eq!(window.minutes, 20 * 390 + 210);
}

#[test]
fn a_regular_plan_for_many_symbols_asks_session_by_session() {
    // 40 symbols x 390 minutes fill more than a page per session; one request
    // over the whole span would also carry the extended hours between them.
    let symbols: Vec<Target> = (0..40)
        .map(|i| {
            let mut t = target(&format!("S{i:02}"), Span::TradingDays(5));
            t.session = SessionKind::Regular;
            t
        })
        .collect();
    let plan = plan_with(
        &spec(symbols),
        end_of("2026-12-02"),
        &Ledger::default(),
        &Presence::default(),
    );
    assert_eq!(plan.requests.len(), 5);
    assert!(plan.requests.iter().all(|r| r.symbols.len() == 40));
    let pages: Vec<u64> = plan.requests.iter().map(|r| r.estimated_pages).collect();
    assert_eq!(
        pages,
        [2, 1, 2, 2, 2],
        "40 x 390 bars a session; 40 x 210 on the early close"
    );

    // Three symbols do better with one request spanning the five days.
    let few: Vec<Target> = (0..3)
        .map(|i| {
            let mut t = target(&format!("S{i:02}"), Span::TradingDays(5));
            t.session = SessionKind::Regular;
            t
        })
        .collect();
    let plan = plan_with(
        &spec(few),
        end_of("2026-12-02"),
        &Ledger::default(),
        &Presence::default(),
    );
    assert_eq!(plan.requests.len(), 1);
}

#[test]
fn long_windows_are_cut_into_bounded_requests() {
    let settings = Settings {
        max_sessions_per_request: 10,
        ..Settings::default()
    };
    let spec = spec(vec![target("SPY", THIRTY_DAYS)]);
    let plan = plan_with_settings(
        &spec,
        end_of("2026-12-02"),
        &Ledger::default(),
        &Presence::default(),
        settings,
    );

    assert_eq!(plan.symbols[0].windows.len(), 1, "the window stays whole");
    assert_eq!(plan.requests.len(), 3);
    assert_eq!(plan.requests[0].start, at("2026-10-21T08:00:00Z"));
    assert_eq!(plan.requests[2].end, at("2026-12-03T01:00:00Z"));
    for pair in plan.requests.windows(2) {
        assert!(pair[0].end <= pair[1].start, "chunks do not overlap");
    }
}

#[test]
fn the_session_in_progress_is_planned_up_to_the_settle_time() {
    let mut spy = target("SPY", Span::TradingDays(2));
    spy.include_current = true;
    // 10:00 in New York on a Thursday.
    let as_of = AsOf {
        instant: at("2026-12-03T15:00:00Z"),
        label: "test".into(),
    };
    let plan = plan_with(
        &spec(vec![spy]),
        as_of,
        &Ledger::default(),
        &Presence::default(),
    );

    let s = &plan.symbols[0];
    assert_eq!(s.desired_sessions, 3);
    assert_eq!(s.last_session, Some(date("2026-12-03")));
    let [window] = s.windows.as_slice() else {
        panic!("one window")
    };
    assert_eq!(
        window.end,
        at("2026-12-03T14:58:00Z"),
        "two minutes settle on iex"
    );
}

#[test]
fn a_span_before_the_source_has_data_warns_but_plans() {
    let spy = target(
        "SPY",
        Span::Dates {
            from: date("2015-12-28"),
            to: Some(date("2016-01-05")),
        },
    );
    let plan = plan_with(
        &spec(vec![spy]),
        end_of("2026-12-02"),
        &Ledger::default(),
        &Presence::default(),
    );
    assert_eq!(plan.symbols[0].desired_sessions, 6);
    assert_eq!(plan.warnings.len(), 1);
    assert!(
        plan.warnings[0].contains("before Alpaca's data begins"),
        "{}",
        plan.warnings[0]
    );
}

#[test]
fn the_budget_refuses_a_larger_plan() {
    let spec = spec(vec![target("SPY", THIRTY_DAYS)]);
    let plan = plan_with(
        &spec,
        end_of("2026-12-02"),
        &Ledger::default(),
        &Presence::default(),
    );
    assert!(plan.check_budget(Some(plan.summary.requests)).is_ok());
    let err = plan.check_budget(Some(1)).expect_err("over budget");
    assert!(
        err.to_string().contains("more than --max-requests 1"),
        "{err}"
    );
}

#[test]
fn the_clock_reads_dates_and_timestamps() {
    let as_of = AsOf::parse(Some("2026-07-01"), Utc::now()).expect("a date");
    assert_eq!(as_of.instant, at("2026-07-02T04:00:00Z"));
    let as_of = AsOf::parse(Some("2026-07-01T10:00:00-04:00"), Utc::now()).expect("a timestamp");
    assert_eq!(as_of.instant, at("2026-07-01T14:00:00Z"));
    assert!(AsOf::parse(Some("yesterday"), Utc::now()).is_err());
}

#[test]
fn a_saved_plan_drops_what_was_covered_since_and_trims_the_rest() {
    let spy = target("SPY", THIRTY_DAYS);
    let qqq = target("QQQ", THIRTY_DAYS);
    let spec = spec(vec![spy.clone(), qqq.clone()]);
    let saved = plan_with(
        &spec,
        end_of("2026-12-02"),
        &Ledger::default(),
        &Presence::default(),
    );
    let json = serde_json::to_string(&saved).expect("a plan serializes");
    let saved: Plan = serde_json::from_str(&json).expect("and reads back");

    // Since the plan was made: all of SPY, and QQQ's first ten sessions.
    let mut entries = recorded(&spy, "2026-10-21", "2026-12-02", Feed::Iex, 500);
    entries.extend(recorded(&qqq, "2026-10-21", "2026-11-03", Feed::Iex, 500));
    let ledger = Ledger::from_entries(entries);
    let (plan, skipped) = saved.without_covered(Calendar::nyse(), &ledger, &Settings::default());

    assert_eq!(
        skipped,
        ["SPY: 2026-10-21 to 2026-12-02 was covered since the plan was made; skipped"]
    );
    assert!(plan.symbols[0].windows.is_empty(), "SPY has nothing left");
    let [window] = plan.symbols[1].windows.as_slice() else {
        panic!("QQQ keeps one window")
    };
    assert_eq!(
        (window.first_session, window.sessions),
        (date("2026-11-04"), 20)
    );
    assert_eq!(
        window.start,
        at("2026-11-04T09:00:00Z"),
        "04:00 New York, after the change to standard time"
    );
    let [request] = plan.requests.as_slice() else {
        panic!("one request")
    };
    assert_eq!(request.symbols, [qqq.symbol]);
    assert_eq!(request.start, window.start);
}
