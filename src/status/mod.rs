//! The readiness report behind `seedctl status`: per symbol, how much of the
//! coverage the ledger holds, what the bars table says about it (the latest
//! bar, the bars of the last two sessions, bars with no ledger record, drift),
//! the last runs, and a verdict with its reasons.
//!
//! Coverage comes from the planner itself (a [`Plan`] made from the ledger),
//! so the report and `seedctl plan` can never disagree about a gap. The
//! report is built from values here; [`gather`] collects them from Postgres
//! and [`render`] prints them. [`verify`] holds the pure steps of the deeper
//! check, `seedctl verify`. Nothing here writes to the database or fetches
//! from Alpaca.

mod gather;
pub mod render;
#[cfg(test)]
mod tests;
pub mod verify;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::calendar::{Calendar, Session};
use crate::domain::{Adjustment, Feed, SessionKind, Symbol};
use crate::ledger::{Presence, PresenceProbe};
use crate::plan::{AsOf, Drift, Plan, Reason, SymbolPlan, Window};

pub use gather::{Options, StatusError, gather};

/// The version of the report's JSON (`seedctl status --format json`).
pub const FORMAT_VERSION: u32 = 1;

/// How many of a symbol's newest desired sessions the spot check counts bars
/// in: the newest can be thin when it is the session in progress.
pub const RECENT_SESSIONS: usize = 2;

/// The report, as printed and as serialized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub format_version: u32,
    pub seedctl_version: String,
    pub calendar_version: String,
    pub as_of: AsOf,
    /// The database and table (no password).
    pub target: String,
    pub sources: Vec<String>,
    /// Whether the ledger's counts were compared with the table.
    pub drift_checked: bool,
    pub symbols: Vec<SymbolStatus>,
    /// The newest runs first.
    pub runs: Vec<Run>,
    /// What the database is missing that explains the rest (no schema yet, an
    /// older loader's table), and plan warnings.
    pub notes: Vec<String>,
    pub verdict: Verdict,
}

/// What the report says about one symbol of the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SymbolStatus {
    pub symbol: Symbol,
    pub feed: Feed,
    pub adjustment: Adjustment,
    pub session: SessionKind,
    pub span: String,
    pub origin: String,
    pub desired_sessions: u32,
    pub covered_sessions: u32,
    pub first_session: Option<NaiveDate>,
    pub last_session: Option<NaiveDate>,
    /// The stretches the ledger does not cover as the spec asks: the plan's
    /// windows.
    pub gaps: Vec<Window>,
    /// The newest bar of the symbol in the table, whatever the coverage.
    pub latest_bar: Option<DateTime<Utc>>,
    /// Bars in the table in each of the newest desired sessions.
    pub recent_sessions: Vec<SessionBars>,
    /// Bars in the gaps that the ledger does not know about.
    pub unrecorded_bars: i64,
    /// Ledger entries in the desired sessions whose count no longer matches
    /// the table.
    pub drift: Vec<Drift>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SessionBars {
    pub session: NaiveDate,
    pub bars: i64,
}

/// One row of `seedctl.runs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Run {
    pub id: i64,
    pub command: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: RunOutcome,
    pub planned_windows: i64,
    pub windows: i64,
    pub requests: i64,
    pub bars: i64,
    pub retries: i64,
    pub error: Option<String>,
}

/// How a run ended, or that it has not (yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    Running,
    Succeeded,
    Failed,
    Interrupted,
}

impl RunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Running => "running",
            RunOutcome::Succeeded => "succeeded",
            RunOutcome::Failed => "failed",
            RunOutcome::Interrupted => "interrupted",
        }
    }
}

impl fmt::Display for RunOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunOutcome {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            RunOutcome::Running,
            RunOutcome::Succeeded,
            RunOutcome::Failed,
            RunOutcome::Interrupted,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
        .ok_or_else(|| {
            format!("a run's outcome `{s}` is none of running, succeeded, failed, interrupted")
        })
    }
}

/// READY, or NOT READY with every reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub ready: bool,
    pub reasons: Vec<NotReady>,
}

/// One reason the table is not ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NotReady {
    /// Desired sessions the ledger does not cover as the spec asks.
    NotCovered {
        symbol: Symbol,
        first_session: NaiveDate,
        last_session: NaiveDate,
        sessions: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<Reason>,
    },
    /// A ledger entry whose bars are no longer all in the table, or no
    /// longer alone.
    Drifted {
        symbol: Symbol,
        session: NaiveDate,
        recorded: i64,
        present: i64,
    },
    /// `seedctl.runs` is empty: nothing was ever fetched by seedctl here.
    NoRun,
    /// The newest run did not succeed (or is still going).
    LastRun {
        id: i64,
        command: String,
        started_at: DateTime<Utc>,
        outcome: RunOutcome,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
}

/// The facts a report is made of, as gathered.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The plan from the ledger alone: coverage and gaps per symbol.
    pub plan: Plan,
    /// Drifted ledger entries; None when drift was not checked.
    pub drift: Option<Vec<Drift>>,
    pub latest_bars: BTreeMap<Symbol, DateTime<Utc>>,
    /// Bars per symbol and date, counted within [`recent_probes`].
    pub recent: Presence,
    pub runs: Vec<Run>,
    pub notes: Vec<String>,
}

/// The newest desired sessions of a symbol, oldest first.
fn recent_sessions(symbol: &SymbolPlan, calendar: &Calendar) -> Vec<Session> {
    let (Some(first), Some(last)) = (symbol.first_session, symbol.last_session) else {
        return Vec::new();
    };
    let sessions = calendar.sessions(first, last).unwrap_or_default();
    sessions[sessions.len().saturating_sub(RECENT_SESSIONS)..].to_vec()
}

/// What to count for the spot check: each symbol's newest desired sessions,
/// within the hours the spec asks for, one probe per session.
pub fn recent_probes(plan: &Plan, calendar: &Calendar) -> Vec<PresenceProbe> {
    let mut probes = Vec::new();
    for symbol in &plan.symbols {
        for session in recent_sessions(symbol, calendar) {
            let (start, end) = session.bounds(symbol.session);
            probes.push(PresenceProbe {
                symbol: symbol.symbol.clone(),
                start,
                end,
            });
        }
    }
    probes
}

impl Report {
    pub fn new(facts: Facts, calendar: &Calendar) -> Report {
        let drift_checked = facts.drift.is_some();
        let mut drift_by_symbol: BTreeMap<Symbol, Vec<Drift>> = BTreeMap::new();
        for d in facts.drift.into_iter().flatten() {
            drift_by_symbol.entry(d.symbol.clone()).or_default().push(d);
        }

        let symbols: Vec<SymbolStatus> = facts
            .plan
            .symbols
            .into_iter()
            .map(|s| {
                let drift = drift_by_symbol.remove(&s.symbol).unwrap_or_default();
                let latest = facts.latest_bars.get(&s.symbol).copied();
                symbol_status(s, drift, latest, &facts.recent, calendar)
            })
            .collect();
        let mut notes = facts.notes;
        notes.extend(facts.plan.warnings);
        let verdict = verdict(&symbols, &facts.runs);
        Report {
            format_version: FORMAT_VERSION,
            seedctl_version: facts.plan.seedctl_version,
            calendar_version: facts.plan.calendar_version,
            as_of: facts.plan.as_of,
            target: facts.plan.target,
            sources: facts.plan.sources,
            drift_checked,
            symbols,
            runs: facts.runs,
            notes,
            verdict,
        }
    }

    pub fn is_ready(&self) -> bool {
        self.verdict.ready
    }
}

fn symbol_status(
    s: SymbolPlan,
    drift: Vec<Drift>,
    latest_bar: Option<DateTime<Utc>>,
    recent: &Presence,
    calendar: &Calendar,
) -> SymbolStatus {
    let recent_sessions = recent_sessions(&s, calendar)
        .iter()
        .map(|session| SessionBars {
            session: session.date,
            bars: recent.bars(&s.symbol, session.date),
        })
        .collect();
    SymbolStatus {
        unrecorded_bars: s.windows.iter().map(|w| w.unrecorded_bars).sum(),
        symbol: s.symbol,
        feed: s.feed,
        adjustment: s.adjustment,
        session: s.session,
        span: s.span,
        origin: s.origin,
        desired_sessions: s.desired_sessions,
        covered_sessions: s.covered_sessions,
        first_session: s.first_session,
        last_session: s.last_session,
        gaps: s.windows,
        latest_bar,
        recent_sessions,
        drift,
    }
}

/// READY when every desired session is covered, nothing drifted, and the
/// newest run succeeded.
fn verdict(symbols: &[SymbolStatus], runs: &[Run]) -> Verdict {
    let mut reasons = Vec::new();
    for s in symbols {
        reasons.extend(s.gaps.iter().map(|w| NotReady::NotCovered {
            symbol: s.symbol.clone(),
            first_session: w.first_session,
            last_session: w.last_session,
            sessions: w.sessions,
            reason: w.reason,
        }));
        reasons.extend(s.drift.iter().map(|d| NotReady::Drifted {
            symbol: s.symbol.clone(),
            session: d.session_date,
            recorded: d.recorded,
            present: d.present,
        }));
    }
    match runs.first() {
        None => reasons.push(NotReady::NoRun),
        Some(run) if run.outcome != RunOutcome::Succeeded => reasons.push(NotReady::LastRun {
            id: run.id,
            command: run.command.clone(),
            started_at: run.started_at,
            outcome: run.outcome,
            error: run.error.clone(),
        }),
        Some(_) => {}
    }
    Verdict {
        ready: reasons.is_empty(),
        reasons,
    }
}
