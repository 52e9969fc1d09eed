//! The readiness report as a person reads it: a block per symbol, the last
//! runs, notes, and the verdict last, with one line per reason.
//!
//! Like the plan, the text depends only on the report: the same facts print
//! the same bytes, so it snapshots cleanly. Times are New York time, as the
//! sessions are.

use std::fmt::Write;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::America::New_York;

use super::{NotReady, Report, Run, RunOutcome, SymbolStatus};
use crate::plan::Reason;
use crate::plan::render::{duration, rfc3339, thousands};

pub fn text(report: &Report) -> String {
    let mut out = String::new();
    header(&mut out, report);
    for symbol in &report.symbols {
        symbol_block(&mut out, symbol, report.drift_checked);
    }
    runs_block(&mut out, &report.runs);
    if !report.notes.is_empty() {
        let _ = writeln!(out, "Notes:");
        for note in &report.notes {
            let _ = writeln!(out, "  - {note}");
        }
        out.push('\n');
    }
    verdict(&mut out, report);
    out
}

fn header(out: &mut String, report: &Report) {
    let _ = writeln!(
        out,
        "seedctl status as of {} ({})",
        report.as_of.label,
        rfc3339(report.as_of.instant)
    );
    let _ = writeln!(
        out,
        "calendar {}, coverage from {}",
        report.calendar_version,
        report.sources.join(", ")
    );
    let _ = writeln!(out, "database {}", report.target);
    out.push('\n');
}

fn symbol_block(out: &mut String, s: &SymbolStatus, drift_checked: bool) {
    let _ = writeln!(
        out,
        "{}  {} feed, {} prices, {} hours, {}  ({})",
        s.symbol, s.feed, s.adjustment, s.session, s.span, s.origin
    );
    let covered = match (s.first_session, s.last_session) {
        (Some(first), Some(last)) => format!(
            "{} of {} sessions, {first} .. {last}",
            s.covered_sessions, s.desired_sessions
        ),
        _ => "no session is desired yet".to_string(),
    };
    field(out, "covered", &covered);
    let latest = s.latest_bar.map_or("none".to_string(), new_york);
    field(out, "latest bar", &latest);
    if !s.recent_sessions.is_empty() {
        let label = format!("last {}", s.recent_sessions.len());
        let counts: Vec<String> = s
            .recent_sessions
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let unit = if i == 0 { " bars" } else { "" };
                format!("{}{unit} on {}", thousands(r.bars.max(0) as u64), r.session)
            })
            .collect();
        field(out, &label, &counts.join(", "));
    }
    field(
        out,
        "unrecorded",
        &count_or_none(s.unrecorded_bars, "bar", "bars"),
    );
    let drift = if drift_checked {
        count_or_none(s.drift.len() as i64, "ledger entry", "ledger entries")
    } else {
        "not checked".to_string()
    };
    field(out, "drifted", &drift);
    out.push('\n');
}

fn field(out: &mut String, label: &str, value: &str) {
    let _ = writeln!(out, "    {label:<12} {value}");
}

fn count_or_none(n: i64, one: &str, many: &str) -> String {
    match n {
        0 => "none".to_string(),
        1 => format!("1 {one}"),
        n => format!("{} {many}", thousands(n.max(0) as u64)),
    }
}

fn runs_block(out: &mut String, runs: &[Run]) {
    if runs.is_empty() {
        let _ = writeln!(out, "Last runs: none recorded\n");
        return;
    }
    let _ = writeln!(out, "Last runs (newest first):");
    for run in runs {
        run_line(out, run);
    }
    out.push('\n');
}

fn run_line(out: &mut String, run: &Run) {
    let took = match run.finished_at {
        Some(finished) => {
            let seconds = (finished - run.started_at).num_seconds().max(0) as u64;
            format!("took {}", duration(seconds))
        }
        None => "not finished".to_string(),
    };
    let _ = writeln!(
        out,
        "  #{} {}, started {}, {took}: {}",
        run.id,
        run.command,
        new_york(run.started_at),
        run.outcome
    );
    let retries = match run.retries {
        1 => "1 retry".to_string(),
        n => format!("{n} retries"),
    };
    let _ = writeln!(
        out,
        "      {} of {} windows, {} requests, {} bars, {retries}",
        run.windows,
        run.planned_windows,
        thousands(run.requests.max(0) as u64),
        thousands(run.bars.max(0) as u64),
    );
    if let Some(error) = &run.error {
        let _ = writeln!(out, "      error: {error}");
    }
}

fn verdict(out: &mut String, report: &Report) {
    if report.verdict.ready {
        let sessions: u64 = report
            .symbols
            .iter()
            .map(|s| u64::from(s.desired_sessions))
            .sum();
        let drift = if report.drift_checked {
            "nothing drifted"
        } else {
            "drift not checked"
        };
        let _ = writeln!(
            out,
            "READY: {} symbols, {} sessions covered, {drift}, the last run succeeded.",
            report.symbols.len(),
            thousands(sessions)
        );
        return;
    }
    let _ = writeln!(out, "NOT READY:");
    for reason in &report.verdict.reasons {
        let _ = writeln!(out, "  - {}", describe(reason));
    }
}

/// One reason, in one line that names the symbol and the sessions.
pub fn describe(reason: &NotReady) -> String {
    match reason {
        NotReady::NotCovered {
            symbol,
            first_session,
            last_session,
            sessions,
            reason,
        } => {
            let what = match reason {
                None => "not covered".to_string(),
                Some(reason) => format!("not covered ({})", describe_gap(reason)),
            };
            let count = if *sessions == 1 {
                "session"
            } else {
                "sessions"
            };
            format!(
                "{symbol}: {} {what}, {sessions} {count}",
                dates(*first_session, *last_session)
            )
        }
        NotReady::Drifted {
            symbol,
            session,
            recorded,
            present,
        } => format!(
            "{symbol}: {session} drifted: {} bars recorded, {} in the table",
            thousands((*recorded).max(0) as u64),
            thousands((*present).max(0) as u64)
        ),
        NotReady::NoRun => "no seedctl run is recorded in this database".to_string(),
        NotReady::LastRun {
            id,
            command,
            started_at,
            outcome,
            error,
        } => {
            let state = match outcome {
                RunOutcome::Running => "is still running".to_string(),
                other => other.to_string(),
            };
            let error = error.as_ref().map_or(String::new(), |e| format!(": {e}"));
            format!(
                "the last run, #{id} ({command}, started {}), {state}{error}",
                new_york(*started_at)
            )
        }
    }
}

fn describe_gap(reason: &Reason) -> String {
    match reason {
        Reason::FeedChanged { from, to } => format!("recorded from {from}, wanted {to}"),
        Reason::AdjustmentChanged { from, to } => {
            format!("recorded with {from} prices, wanted {to}")
        }
        Reason::Unrecorded => "bars in the table with no ledger record".to_string(),
        Reason::Drift { recorded, present } => {
            format!("{recorded} bars recorded, {present} in the table")
        }
    }
}

fn dates(first: NaiveDate, last: NaiveDate) -> String {
    if first == last {
        first.to_string()
    } else {
        format!("{first} .. {last}")
    }
}

fn new_york(t: DateTime<Utc>) -> String {
    t.with_timezone(&New_York)
        .format("%Y-%m-%d %H:%M ET")
        .to_string()
}
