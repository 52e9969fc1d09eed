//! The plan as a person reads it, in the spirit of `terraform plan`: per
//! symbol the windows to fetch (`+`) and to fetch again (`~`), the requests,
//! and one summary line.
//!
//! The text depends only on the plan, never on the wall clock or the machine,
//! so the same facts always print the same bytes and a plan can be
//! snapshotted and diffed in review.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use chrono_tz::America::New_York;

use super::{Action, EstimateBasis, Plan, Reason, Request, SymbolPlan, Window};
use crate::calendar::Calendar;
use crate::domain::SessionKind;

pub fn text(plan: &Plan) -> String {
    let mut out = String::new();
    header(&mut out, plan);
    let (changing, unchanged): (Vec<&SymbolPlan>, Vec<&SymbolPlan>) =
        plan.symbols.iter().partition(|s| !s.windows.is_empty());
    for symbol in &changing {
        symbol_block(&mut out, symbol);
    }
    if !unchanged.is_empty() && !changing.is_empty() {
        let names: Vec<&str> = unchanged.iter().map(|s| s.symbol.as_str()).collect();
        let _ = writeln!(out, "Up to date: {}\n", names.join(", "));
    }
    if !plan.requests.is_empty() {
        requests_block(&mut out, &plan.requests);
    }
    summary(&mut out, plan);
    for warning in &plan.warnings {
        let _ = writeln!(out, "\nWarning: {warning}");
    }
    out
}

fn header(out: &mut String, plan: &Plan) {
    let _ = writeln!(
        out,
        "seedctl plan as of {} ({})",
        plan.as_of.label,
        rfc3339(plan.as_of.instant)
    );
    let _ = writeln!(
        out,
        "calendar {}, coverage from {}",
        plan.calendar_version,
        plan.sources.join(", ")
    );
    out.push('\n');
}

fn symbol_block(out: &mut String, s: &SymbolPlan) {
    let marker = if s.windows.iter().all(|w| w.action == Action::Refetch) {
        '~'
    } else {
        '+'
    };
    let _ = writeln!(
        out,
        "{marker} {}  {} feed, {} prices, {} hours, {}  ({})",
        s.symbol, s.feed, s.adjustment, s.session, s.span, s.origin
    );
    let basis = match s.estimate_basis {
        EstimateBasis::History => "bars estimated from this symbol's history",
        EstimateBasis::UpperBound => "bars estimated at one a minute (no history yet)",
    };
    let _ = writeln!(
        out,
        "    {} of {} sessions covered; {basis}",
        s.covered_sessions, s.desired_sessions
    );
    for w in &s.windows {
        window_line(out, w);
        calendar_notes(out, w, s.session);
    }
    out.push('\n');
}

fn window_line(out: &mut String, w: &Window) {
    let marker = match w.action {
        Action::Fetch => '+',
        Action::Refetch => '~',
    };
    let sessions = if w.sessions == 1 {
        "session".to_string()
    } else {
        "sessions".to_string()
    };
    let _ = write!(
        out,
        "    {marker} {} .. {}  {:>3} {sessions:<8}  ~{} bars",
        new_york(w.start),
        new_york(w.end),
        w.sessions,
        thousands(w.estimated_bars)
    );
    if let Some(reason) = &w.reason {
        let _ = write!(out, "  ({})", describe_reason(reason, w.unrecorded_bars));
    }
    out.push('\n');
}

/// The days inside a window that a reviewer might not expect: weekdays with
/// no session, and early closes.
fn calendar_notes(out: &mut String, w: &Window, kind: SessionKind) {
    let calendar = Calendar::nyse();
    let mut closed = Vec::new();
    let mut day = w.first_session;
    while day < w.last_session {
        if let Some(reason) = calendar.closure(day) {
            closed.push(format!("{day} {reason}"));
        }
        day = day.succ_opt().expect("inside the calendar's range");
    }
    let early: Vec<String> = calendar
        .sessions(w.first_session, w.last_session)
        .unwrap_or_default()
        .iter()
        .filter(|s| s.early_close)
        .map(|s| {
            format!(
                "{} until {}",
                s.date,
                s.bounds(kind).1.with_timezone(&New_York).format("%H:%M")
            )
        })
        .collect();
    if !closed.is_empty() {
        let _ = writeln!(out, "        closed: {}", closed.join(", "));
    }
    if !early.is_empty() {
        let _ = writeln!(out, "        early close: {}", early.join(", "));
    }
}

fn describe_reason(reason: &Reason, unrecorded_bars: i64) -> String {
    match reason {
        Reason::FeedChanged { from, to } => format!("feed changed: {from} -> {to}"),
        Reason::AdjustmentChanged { from, to } => format!("adjustment changed: {from} -> {to}"),
        Reason::Unrecorded => {
            format!(
                "{} bars in the table with no ledger record",
                thousands(unrecorded_bars as u64)
            )
        }
        Reason::Drift { recorded, present } => format!(
            "{} bars recorded, {} in the table",
            thousands(*recorded as u64),
            thousands(*present as u64)
        ),
    }
}

fn requests_block(out: &mut String, requests: &[Request]) {
    let _ = writeln!(
        out,
        "Requests (GET /v2/stocks/bars, timeframe=1Min, up to 10,000 bars a page):"
    );
    for r in requests {
        let symbols: Vec<&str> = r.symbols.iter().map(|s| s.as_str()).collect();
        let pages = if r.estimated_pages == 1 {
            "page"
        } else {
            "pages"
        };
        let _ = writeln!(
            out,
            "  {}  feed={} adjustment={} start={} end={}  ~{} {pages}",
            symbols.join(","),
            r.feed,
            r.adjustment,
            rfc3339(r.start),
            rfc3339(r.end - chrono::Duration::seconds(1)),
            r.estimated_pages
        );
    }
    out.push('\n');
}

fn summary(out: &mut String, plan: &Plan) {
    let s = &plan.summary;
    if !plan.has_changes() {
        let _ = writeln!(
            out,
            "No changes. The table holds what the coverage asks for: {} {}.",
            s.symbols,
            plural(u64::from(s.symbols), "symbol", "symbols")
        );
        return;
    }
    let _ = writeln!(
        out,
        "Plan: {} of {} symbols, {} {}, {} to fetch and {} to fetch again, {} {}, ~{} bars \
         (about {} at {} requests/min).",
        s.symbols_to_change,
        s.symbols,
        thousands(s.sessions),
        plural(s.sessions, "session", "sessions"),
        plural_count(u64::from(s.windows_to_fetch), "window", "windows"),
        s.windows_to_refetch,
        thousands(s.requests),
        plural(s.requests, "request", "requests"),
        thousands(s.estimated_bars),
        duration(s.estimated_seconds),
        plan.rate_limit_per_minute
    );
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

fn plural_count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `1h 05m`, `3m 20s`, `12s`.
pub fn duration(seconds: u64) -> String {
    match seconds {
        s if s >= 3600 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

/// `85860` as `85,860`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn new_york(t: DateTime<Utc>) -> String {
    t.with_timezone(&New_York)
        .format("%Y-%m-%d %H:%M ET")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(85_860), "85,860");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(12), "12s");
        assert_eq!(duration(200), "3m 20s");
        assert_eq!(duration(3900), "1h 05m");
    }
}
