//! The plan: which minutes to fetch, per symbol and window, and the requests
//! that fetch them.
//!
//! Planning is a pure function of facts: the spec, the calendar, the clock,
//! the ledger and the bars present in the table. Gathering those facts (from
//! files and Postgres) and executing the plan (against Alpaca) happen around
//! it, so everything here is tested without a database or a network.
//!
//! It happens in two steps because one fact depends on the first result: a
//! [`Draft`] finds the gaps from spec, calendar and ledger, and says on which
//! days the bars table should be asked how many bars it holds
//! ([`Draft::presence_probes`]); [`Draft::finish`] then tells the bars that
//! the ledger does not know about from plain gaps, merges gaps into windows
//! and windows into requests.

mod drift;
mod gaps;
pub mod render;
mod requests;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::{CALENDAR_VERSION, Calendar, CalendarError};
use crate::domain::{Adjustment, Feed, SessionKind, Symbol};
use crate::ledger::{Ledger, Presence, PresenceProbe};
use crate::spec::{Span, Spec};

pub use drift::{Drift, DriftProbe};
pub use gaps::{DesiredSession, GapPiece};

/// The version of the saved plan's JSON schema (`seedctl plan --format json`).
/// Bumped on any change a reader of the JSON would notice.
pub const FORMAT_VERSION: u32 = 1;

/// Alpaca serves at most this many bars per page, across all the symbols of
/// a request.
pub const BARS_PER_PAGE: u64 = 10_000;

/// The first day Alpaca has bars for.
pub const SOURCE_FIRST_DAY: NaiveDate = NaiveDate::from_ymd_opt(2016, 1, 1).expect("valid date");

/// Knobs that shape the plan but are not part of the spec.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Requests a minute the account may make; used for the time estimate.
    pub rate_limit_per_minute: u32,
    /// Symbols in one multi-symbol request, at most.
    pub max_symbols_per_request: usize,
    /// Sessions in one request, at most: bounds what one request holds in
    /// memory, whatever the plan's size.
    pub max_sessions_per_request: usize,
    /// How old a minute must be before its bar is final, per feed.
    pub settle: SettleTimes,
    /// Also plan again the ledger entries whose bar count no longer matches
    /// the table ([`Draft::with_drift`]). Finding them reads the bars of the
    /// desired sessions, which a plan from the ledger alone never touches.
    pub refresh: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rate_limit_per_minute: 200,
            max_symbols_per_request: 100,
            max_sessions_per_request: 64,
            settle: SettleTimes::default(),
            refresh: false,
        }
    }
}

/// Recent bars are not final: Alpaca recomputes a bar about 30 s after its
/// minute, and a free plan may not ask for the last 15 minutes of SIP data.
/// A minute is only planned (and recorded) once it is older than its feed's
/// settle time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettleTimes {
    pub iex: Duration,
    pub other: Duration,
}

impl Default for SettleTimes {
    fn default() -> Self {
        SettleTimes {
            iex: Duration::from_secs(2 * 60),
            other: Duration::from_secs(16 * 60),
        }
    }
}

impl SettleTimes {
    pub fn for_feed(&self, feed: Feed) -> Duration {
        match feed {
            Feed::Iex => self.iex,
            Feed::Sip | Feed::Otc | Feed::Boats => self.other,
        }
    }
}

/// The plan's clock, and how the user gave it (for the header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsOf {
    pub instant: DateTime<Utc>,
    /// `2026-12-02, end of day in New York`, or the timestamp as given.
    pub label: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{symbol} ({origin}): {source}")]
    Calendar {
        symbol: Symbol,
        origin: String,
        #[source]
        source: CalendarError,
    },
    #[error(
        "the plan needs about {planned} requests, more than --max-requests {max}; narrow the \
         coverage or raise the budget"
    )]
    OverBudget { planned: u64, max: u64 },
}

/// What to do with a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Never fetched.
    Fetch,
    /// Fetched before, or present in the table, but not as the spec asks.
    Refetch,
}

/// Why a window is fetched again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// The ledger holds these minutes from another feed.
    FeedChanged { from: Feed, to: Feed },
    /// The ledger holds these minutes with another adjustment.
    AdjustmentChanged { from: Adjustment, to: Adjustment },
    /// The table holds bars here that the ledger does not know about (an
    /// older loader's, or written by hand).
    Unrecorded,
    /// The ledger recorded these minutes, but the table no longer holds the
    /// bars it counted: rows were deleted or added since.
    Drift { recorded: i64, present: i64 },
}

/// Consecutive sessions of one symbol with nothing covered between them.
/// Only the first and last session may be partial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// Start of the first minute to fetch.
    pub start: DateTime<Utc>,
    /// End of the last minute to fetch (exclusive).
    pub end: DateTime<Utc>,
    pub first_session: NaiveDate,
    pub last_session: NaiveDate,
    pub sessions: u32,
    pub minutes: i64,
    /// Bars the table already holds in this window with no ledger record.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unrecorded_bars: i64,
    pub estimated_bars: u64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// The plan for one symbol of the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolPlan {
    pub symbol: Symbol,
    pub feed: Feed,
    pub adjustment: Adjustment,
    pub session: SessionKind,
    /// The span as the spec gives it, in words (`last 30 trading days`).
    pub span: String,
    pub origin: String,
    pub desired_sessions: u32,
    pub covered_sessions: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_session: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_session: Option<NaiveDate>,
    /// Whether the estimate comes from this symbol's own history in the
    /// ledger (`history`) or is the upper bound of one bar a minute.
    pub estimate_basis: EstimateBasis,
    pub windows: Vec<Window>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EstimateBasis {
    History,
    UpperBound,
}

/// One multi-symbol request to Alpaca's bars endpoint, paged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub symbols: Vec<Symbol>,
    pub feed: Feed,
    pub adjustment: Adjustment,
    /// Which bars of the served range are kept: a regular-session request
    /// spanning several days also receives the extended hours between them.
    pub session: SessionKind,
    pub start: DateTime<Utc>,
    /// Exclusive; sent to Alpaca (whose `end` is inclusive) as one second
    /// earlier.
    pub end: DateTime<Utc>,
    pub estimated_bars: u64,
    pub estimated_pages: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub symbols: u32,
    pub symbols_to_change: u32,
    /// Symbol-sessions with anything to fetch.
    pub sessions: u64,
    pub windows_to_fetch: u32,
    pub windows_to_refetch: u32,
    /// HTTP requests, counting every page.
    pub requests: u64,
    pub estimated_bars: u64,
    pub estimated_seconds: u64,
}

/// A complete plan, as printed and as saved for `seedctl apply`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub seedctl_version: String,
    pub calendar_version: String,
    pub as_of: AsOf,
    /// The database and table the plan was made against (no password).
    pub target: String,
    pub sources: Vec<String>,
    pub rate_limit_per_minute: u32,
    pub symbols: Vec<SymbolPlan>,
    pub requests: Vec<Request>,
    pub summary: Summary,
    pub warnings: Vec<String>,
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        !self.requests.is_empty()
    }

    /// Refuses a plan that needs more requests than the budget allows.
    pub fn check_budget(&self, max_requests: Option<u64>) -> Result<(), PlanError> {
        match max_requests {
            Some(max) if self.summary.requests > max => Err(PlanError::OverBudget {
                planned: self.summary.requests,
                max,
            }),
            _ => Ok(()),
        }
    }
}

/// The gaps of every symbol, before the bars table has been consulted.
#[derive(Debug, Clone)]
pub struct Draft {
    as_of: AsOf,
    settings: Settings,
    targets: Vec<TargetGaps>,
    warnings: Vec<String>,
}

#[derive(Debug, Clone)]
struct TargetGaps {
    target: crate::spec::Target,
    desired: Vec<DesiredSession>,
    pieces: Vec<GapPiece>,
    /// Bars the ledger recorded per session date, whatever their feed.
    recorded: BTreeMap<NaiveDate, i64>,
    density: Option<f64>,
}

impl Draft {
    pub fn new(
        spec: &Spec,
        calendar: &Calendar,
        as_of: AsOf,
        ledger: &Ledger,
        settings: Settings,
    ) -> Result<Draft, PlanError> {
        let mut warnings = Vec::new();
        let mut targets = Vec::with_capacity(spec.targets.len());
        for target in &spec.targets {
            let settle = settings.settle.for_feed(target.feed);
            let desired = gaps::desired_sessions(target, calendar, as_of.instant, settle)?;
            if let Some(first) = desired
                .first()
                .filter(|d| d.session.date < SOURCE_FIRST_DAY)
            {
                warnings.push(format!(
                    "{}: the span starts on {}, before Alpaca's data begins ({}); sessions \
                     before then will be fetched and come back empty",
                    target.symbol, first.session.date, SOURCE_FIRST_DAY
                ));
            }
            let entries = ledger.for_symbol(&target.symbol);
            targets.push(TargetGaps {
                pieces: gaps::find_gaps(target, &desired, entries),
                recorded: gaps::recorded_bars_by_session(entries),
                density: gaps::bar_density(target.feed, entries),
                target: target.clone(),
                desired,
            });
        }
        Ok(Draft {
            as_of,
            settings,
            targets,
            warnings,
        })
    }

    /// The ranges of the bars table to count bars in: per symbol, the New
    /// York days that have gaps.
    pub fn presence_probes(&self) -> Vec<PresenceProbe> {
        self.targets
            .iter()
            .filter_map(|t| {
                let first = t.pieces.first()?.session_date;
                let last = t.pieces.last()?.session_date;
                Some(PresenceProbe {
                    symbol: t.target.symbol.clone(),
                    start: gaps::new_york_midnight(first),
                    end: gaps::new_york_midnight(last.succ_opt()?),
                })
            })
            .collect()
    }

    /// Completes the plan once the bars table has answered the probes.
    pub fn finish(self, calendar: &Calendar, presence: &Presence, target: String) -> Plan {
        let symbols: Vec<SymbolPlan> = self
            .targets
            .iter()
            .map(|t| symbol_plan(t, presence))
            .collect();
        let density = self.targets_density();
        let requests = requests::build(&symbols, calendar, &density, &self.settings);
        let summary = summarize(&symbols, &requests, self.settings.rate_limit_per_minute);
        let mut sources: Vec<String> = self
            .targets
            .iter()
            .map(|t| t.target.origin.source.clone())
            .collect();
        sources.sort();
        sources.dedup();
        Plan {
            format_version: FORMAT_VERSION,
            seedctl_version: env!("CARGO_PKG_VERSION").to_string(),
            calendar_version: CALENDAR_VERSION.to_string(),
            as_of: self.as_of,
            target,
            sources,
            rate_limit_per_minute: self.settings.rate_limit_per_minute,
            symbols,
            requests,
            summary,
            warnings: self.warnings,
        }
    }

    fn targets_density(&self) -> BTreeMap<Symbol, f64> {
        self.targets
            .iter()
            .map(|t| (t.target.symbol.clone(), t.density.unwrap_or(1.0)))
            .collect()
    }
}

fn symbol_plan(t: &TargetGaps, presence: &Presence) -> SymbolPlan {
    let target = &t.target;
    let unrecorded = |date: NaiveDate| {
        let recorded = t.recorded.get(&date).copied().unwrap_or(0);
        (presence.bars(&target.symbol, date) - recorded).max(0)
    };
    let wanted = (target.feed, target.adjustment);
    let windows = gaps::windows(&t.pieces, wanted, unrecorded, t.density.unwrap_or(1.0));
    let gap_sessions: std::collections::BTreeSet<NaiveDate> =
        t.pieces.iter().map(|p| p.session_date).collect();
    SymbolPlan {
        symbol: target.symbol.clone(),
        feed: target.feed,
        adjustment: target.adjustment,
        session: target.session,
        span: describe_span(&target.span, target.include_current),
        origin: target.origin.to_string(),
        desired_sessions: t.desired.len() as u32,
        covered_sessions: (t.desired.len() - gap_sessions.len()) as u32,
        first_session: t.desired.first().map(|d| d.session.date),
        last_session: t.desired.last().map(|d| d.session.date),
        estimate_basis: if t.density.is_some() {
            EstimateBasis::History
        } else {
            EstimateBasis::UpperBound
        },
        windows,
    }
}

fn describe_span(span: &Span, include_current: bool) -> String {
    let base = match span {
        Span::TradingDays(n) => format!("last {n} trading days"),
        Span::Dates { from, to: Some(to) } => format!("{from} to {to}"),
        Span::Dates { from, to: None } => format!("{from} onward"),
    };
    if include_current {
        format!("{base} and the session in progress")
    } else {
        base
    }
}

fn summarize(symbols: &[SymbolPlan], requests: &[Request], rate_limit: u32) -> Summary {
    let windows = symbols.iter().flat_map(|s| &s.windows);
    let count = |action| windows.clone().filter(|w| w.action == action).count() as u32;
    let pages: u64 = requests.iter().map(|r| r.estimated_pages).sum();
    Summary {
        symbols: symbols.len() as u32,
        symbols_to_change: symbols.iter().filter(|s| !s.windows.is_empty()).count() as u32,
        sessions: symbols
            .iter()
            .map(|s| u64::from(s.desired_sessions - s.covered_sessions))
            .sum(),
        windows_to_fetch: count(Action::Fetch),
        windows_to_refetch: count(Action::Refetch),
        requests: pages,
        estimated_bars: windows.map(|w| w.estimated_bars).sum(),
        estimated_seconds: (pages * 60).div_ceil(u64::from(rate_limit.max(1))),
    }
}

impl AsOf {
    /// The clock from `--as-of`: a bare date means the end of that day in New
    /// York; otherwise an RFC 3339 timestamp. None means now.
    pub fn parse(raw: Option<&str>, now: DateTime<Utc>) -> Result<AsOf, String> {
        let Some(raw) = raw else {
            return Ok(AsOf {
                instant: now,
                label: "now".to_string(),
            });
        };
        if let Ok(date) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            let next = date
                .succ_opt()
                .ok_or_else(|| format!("`{raw}` is out of range"))?;
            return Ok(AsOf {
                instant: gaps::new_york_midnight(next),
                label: format!("{date}, end of day in New York"),
            });
        }
        DateTime::parse_from_rfc3339(raw)
            .map(|t| AsOf {
                instant: t.to_utc(),
                label: raw.to_string(),
            })
            .map_err(|_| {
                format!(
                    "`{raw}` is neither a date (2026-12-02) nor an RFC 3339 timestamp \
                     (2026-12-02T15:30:00-05:00)"
                )
            })
    }
}

impl Plan {
    /// A saved plan brought up to date with the ledger: windows covered
    /// since the plan was made are dropped (and said so), windows covered in
    /// part are trimmed, and the requests are made again from what is left.
    pub fn without_covered(
        mut self,
        calendar: &Calendar,
        ledger: &Ledger,
        settings: &Settings,
    ) -> (Plan, Vec<String>) {
        let mut skipped = Vec::new();
        let mut density = BTreeMap::new();
        for symbol in &mut self.symbols {
            let entries = ledger.for_symbol(&symbol.symbol);
            let (windows, gone) = gaps::trim_covered(symbol, calendar, entries);
            skipped.extend(gone.into_iter().map(|w| {
                format!(
                    "{}: {} to {} was covered since the plan was made; skipped",
                    symbol.symbol, w.first_session, w.last_session
                )
            }));
            let (bars, minutes) = symbol.windows.iter().fold((0u64, 0i64), |(b, m), w| {
                (b + w.estimated_bars, m + w.minutes)
            });
            density.insert(symbol.symbol.clone(), bars as f64 / minutes.max(1) as f64);
            symbol.windows = windows;
        }
        self.requests = requests::build(&self.symbols, calendar, &density, settings);
        self.summary = summarize(&self.symbols, &self.requests, self.rate_limit_per_minute);
        (self, skipped)
    }
}
