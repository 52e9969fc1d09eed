//! Desired minutes minus covered minutes, per symbol: the gaps, and the
//! windows they merge into.
//!
//! Minutes are handled as half-open UTC intervals, never one by one: a
//! symbol-session is one interval, and the ledger's entries are intervals too.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, DurationRound, NaiveDate, TimeZone, Utc};
use chrono_tz::America::New_York;
use rangemap::{RangeMap, RangeSet};

use super::{Action, PlanError, Reason, Window};
use crate::calendar::{Calendar, Session};
use crate::domain::{Adjustment, Feed};
use crate::ledger::LedgerEntry;
use crate::spec::{Span, Target};

/// The part of one session that the spec wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DesiredSession {
    pub session: Session,
    pub start: DateTime<Utc>,
    /// The session's end, or for the session in progress the newest settled
    /// minute.
    pub end: DateTime<Utc>,
    pub in_progress: bool,
}

/// A stretch of a desired session that the ledger does not cover as the spec
/// asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GapPiece {
    pub session_date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The piece begins where its desired session begins.
    pub at_session_start: bool,
    /// The piece ends where its desired session ends.
    pub at_session_end: bool,
    /// What the ledger holds here instead, if anything.
    pub held_as: Option<(Feed, Adjustment)>,
    /// Bars recorded and bars present of the drifted ledger entries this
    /// piece takes in, when planned with drift.
    pub drift: Option<(i64, i64)>,
}

/// The sessions a target wants at the plan's clock, oldest first.
pub fn desired_sessions(
    target: &Target,
    calendar: &Calendar,
    as_of: DateTime<Utc>,
    settle: Duration,
) -> Result<Vec<DesiredSession>, PlanError> {
    let kind = target.session;
    let calendar_error = |source| PlanError::Calendar {
        symbol: target.symbol.clone(),
        origin: target.origin.to_string(),
        source,
    };
    let closed: Vec<Session> = match target.span {
        Span::TradingDays(n) => calendar
            .last_closed(as_of, n as usize, kind)
            .map_err(calendar_error)?
            .to_vec(),
        Span::Dates { from, to } => {
            let today = as_of.with_timezone(&New_York).date_naive();
            let to = to.map_or(today, |to| to.min(today));
            if from > to {
                Vec::new()
            } else {
                let sessions = calendar.sessions(from, to).map_err(calendar_error)?;
                sessions
                    .iter()
                    .filter(|s| s.bounds(kind).1 <= as_of)
                    .copied()
                    .collect()
            }
        }
    };

    let mut desired: Vec<DesiredSession> = closed
        .into_iter()
        .map(|session| {
            let (start, end) = session.bounds(kind);
            DesiredSession {
                session,
                start,
                end,
                in_progress: false,
            }
        })
        .collect();
    if target.include_current && includes_today(&target.span, as_of) {
        desired.extend(in_progress(calendar, target, as_of, settle));
    }
    Ok(desired)
}

fn includes_today(span: &Span, as_of: DateTime<Utc>) -> bool {
    match span {
        Span::TradingDays(_) | Span::Dates { to: None, .. } => true,
        Span::Dates { to: Some(to), .. } => *to >= as_of.with_timezone(&New_York).date_naive(),
    }
}

/// The settled part of the session in progress, if it has one yet.
fn in_progress(
    calendar: &Calendar,
    target: &Target,
    as_of: DateTime<Utc>,
    settle: Duration,
) -> Option<DesiredSession> {
    let session = calendar.in_progress(as_of, target.session)?;
    let (start, _) = session.bounds(target.session);
    let settled = as_of - chrono::Duration::from_std(settle).ok()?;
    let end = settled.duration_trunc(chrono::Duration::minutes(1)).ok()?;
    (end > start).then_some(DesiredSession {
        session,
        start,
        end,
        in_progress: true,
    })
}

/// Desired minus covered, as pieces of sessions in time order. Covered means
/// recorded in the ledger with the feed and adjustment the target asks for.
pub fn find_gaps(
    target: &Target,
    desired: &[DesiredSession],
    entries: &[LedgerEntry],
) -> Vec<GapPiece> {
    let mut covered = RangeSet::new();
    let mut held_otherwise = RangeMap::new();
    for entry in entries {
        if entry.feed == target.feed && entry.adjustment == target.adjustment {
            covered.insert(entry.start..entry.end);
        } else {
            held_otherwise.insert(entry.start..entry.end, (entry.feed, entry.adjustment));
        }
    }

    let mut pieces = Vec::new();
    for d in desired {
        let wanted = d.start..d.end;
        for gap in covered.gaps(&wanted) {
            let held_as = held_otherwise
                .overlapping(&gap)
                .next()
                .map(|(_, held)| *held);
            pieces.push(GapPiece {
                session_date: d.session.date,
                start: gap.start,
                end: gap.end,
                at_session_start: gap.start == d.start,
                at_session_end: gap.end == d.end,
                held_as,
                drift: None,
            });
        }
    }
    pieces
}

/// Bars the ledger has recorded per session, from any feed: what the bars
/// table should hold for that day if nothing else wrote to it.
pub fn recorded_bars_by_session(entries: &[LedgerEntry]) -> BTreeMap<NaiveDate, i64> {
    let mut recorded = BTreeMap::new();
    for entry in entries {
        *recorded.entry(entry.session_date).or_insert(0) += entry.bars;
    }
    recorded
}

/// Bars per minute this symbol has had on this feed, from the ledger. None
/// until at least a regular session's worth of minutes was recorded: one
/// short window says little.
pub fn bar_density(feed: Feed, entries: &[LedgerEntry]) -> Option<f64> {
    let (bars, minutes) = entries
        .iter()
        .filter(|e| e.feed == feed)
        .fold((0i64, 0i64), |(b, m), e| (b + e.bars, m + e.minutes()));
    (minutes >= 390).then(|| (bars as f64 / minutes as f64).min(1.0))
}

pub fn new_york_midnight(date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    // New York's clocks change at 02:00, so midnight is never skipped or doubled.
    New_York
        .from_local_datetime(&midnight)
        .single()
        .expect("midnight is unambiguous")
        .to_utc()
}

/// Merges gap pieces into windows: consecutive sessions with nothing covered
/// between them and the same action and reason. `unrecorded` gives, per
/// session, the bars the table holds that the ledger does not know about;
/// `wanted` is the feed and adjustment the spec asks for.
pub fn windows(
    pieces: &[GapPiece],
    wanted: (Feed, Adjustment),
    unrecorded: impl Fn(NaiveDate) -> i64,
    density: f64,
) -> Vec<Window> {
    let mut windows: Vec<Window> = Vec::new();
    let mut previous: Option<&GapPiece> = None;
    for piece in pieces {
        let new_session = previous.is_none_or(|p| p.session_date != piece.session_date);
        let unrecorded_bars = if new_session {
            unrecorded(piece.session_date)
        } else {
            0
        };
        let (action, reason) = classify(piece, wanted, unrecorded_bars);
        let minutes = (piece.end - piece.start).num_minutes();
        let continues = previous.is_some_and(|p| {
            p.at_session_end && piece.at_session_start && p.session_date < piece.session_date
        });
        let joined = windows
            .last()
            .filter(|w| continues && w.action == action)
            .and_then(|w| joined_reason(w.reason, reason));
        match (windows.last_mut(), joined) {
            (Some(w), Some(joined)) => {
                w.reason = joined;
                w.end = piece.end;
                w.last_session = piece.session_date;
                w.sessions += 1;
                w.minutes += minutes;
                w.unrecorded_bars += unrecorded_bars;
            }
            _ => windows.push(Window {
                action,
                reason,
                start: piece.start,
                end: piece.end,
                first_session: piece.session_date,
                last_session: piece.session_date,
                sessions: 1,
                minutes,
                unrecorded_bars,
                estimated_bars: 0,
            }),
        }
        previous = Some(piece);
    }
    for w in &mut windows {
        w.estimated_bars = (w.minutes as f64 * density).ceil() as u64;
    }
    windows
}

/// The reason of a window that takes in a piece with `next`'s reason, if
/// the two may share a window: the same reason, or drift (whose counts add).
fn joined_reason(current: Option<Reason>, next: Option<Reason>) -> Option<Option<Reason>> {
    match (current, next) {
        (
            Some(Reason::Drift { recorded, present }),
            Some(Reason::Drift {
                recorded: r,
                present: p,
            }),
        ) => Some(Some(Reason::Drift {
            recorded: recorded + r,
            present: present + p,
        })),
        (current, next) => (current == next).then_some(current),
    }
}

fn classify(
    piece: &GapPiece,
    wanted: (Feed, Adjustment),
    unrecorded_bars: i64,
) -> (Action, Option<Reason>) {
    let (feed, adjustment) = wanted;
    match piece.held_as {
        Some((held_feed, _)) if held_feed != feed => (
            Action::Refetch,
            Some(Reason::FeedChanged {
                from: held_feed,
                to: feed,
            }),
        ),
        Some((_, held_adjustment)) => (
            Action::Refetch,
            Some(Reason::AdjustmentChanged {
                from: held_adjustment,
                to: adjustment,
            }),
        ),
        None => match piece.drift {
            Some((recorded, present)) => {
                (Action::Refetch, Some(Reason::Drift { recorded, present }))
            }
            None if unrecorded_bars > 0 => (Action::Refetch, Some(Reason::Unrecorded)),
            None => (Action::Fetch, None),
        },
    }
}

/// A saved symbol plan's windows less what the ledger now covers with the
/// symbol's feed and adjustment: the windows left (trimmed to their first
/// and last uncovered minute) and the ones now fully covered.
pub fn trim_covered(
    symbol: &super::SymbolPlan,
    calendar: &Calendar,
    entries: &[LedgerEntry],
) -> (Vec<Window>, Vec<Window>) {
    let mut covered = RangeSet::new();
    for e in entries
        .iter()
        .filter(|e| e.feed == symbol.feed && e.adjustment == symbol.adjustment)
    {
        covered.insert(e.start..e.end);
    }
    let (mut kept, mut gone) = (Vec::new(), Vec::new());
    for w in &symbol.windows {
        let sessions = calendar
            .sessions(w.first_session, w.last_session)
            .unwrap_or_default();
        let remaining: Vec<(NaiveDate, std::ops::Range<DateTime<Utc>>)> = sessions
            .iter()
            .flat_map(|s| {
                let (open, close) = s.bounds(symbol.session);
                let wanted = open.max(w.start)..close.min(w.end);
                covered
                    .gaps(&wanted)
                    .map(|g| (s.date, g))
                    .collect::<Vec<_>>()
            })
            .collect();
        let (Some(first), Some(last)) = (remaining.first(), remaining.last()) else {
            gone.push(w.clone());
            continue;
        };
        let minutes: i64 = remaining
            .iter()
            .map(|(_, r)| (r.end - r.start).num_minutes())
            .sum();
        let mut dates: Vec<NaiveDate> = remaining.iter().map(|(d, _)| *d).collect();
        dates.dedup();
        let scale = minutes as f64 / w.minutes.max(1) as f64;
        kept.push(Window {
            start: first.1.start,
            end: last.1.end,
            first_session: first.0,
            last_session: last.0,
            sessions: dates.len() as u32,
            minutes,
            estimated_bars: (w.estimated_bars as f64 * scale).ceil() as u64,
            ..w.clone()
        });
    }
    (kept, gone)
}
