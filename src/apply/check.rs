//! What a fetched symbol-window may write, decided before anything is
//! written: which minutes the ledger will record, which bars are kept, and
//! whether the bars are sane at all.
//!
//! Pure functions over values; the executor calls them per symbol as the
//! pages arrive.

use chrono::{DateTime, DurationRound, Utc};

use crate::alpaca::wire;
use crate::calendar::Calendar;
use crate::db::{BarRow, FetchedPiece};
use crate::domain::{SessionKind, Symbol};
use crate::plan::Window;

/// The minutes of `windows` inside `[start, end)`, one piece per session,
/// before any settle cut-off.
pub fn pieces(
    windows: &[Window],
    kind: SessionKind,
    calendar: &Calendar,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<FetchedPiece> {
    let mut pieces = Vec::new();
    for w in windows.iter().filter(|w| w.start < end && w.end > start) {
        let sessions = calendar
            .sessions(w.first_session, w.last_session)
            .unwrap_or_default();
        for session in sessions {
            let (open, close) = session.bounds(kind);
            let from = open.max(w.start).max(start);
            let to = close.min(w.end).min(end);
            if from < to {
                pieces.push(FetchedPiece {
                    session_date: session.date,
                    start: from,
                    end: to,
                });
            }
        }
    }
    pieces
}

/// The pieces cut at the settle cut-off: newer minutes may still be revised,
/// so they stay a gap for the next run.
pub fn settled(pieces: &[FetchedPiece], cutoff: DateTime<Utc>) -> Vec<FetchedPiece> {
    let cutoff = cutoff
        .duration_trunc(chrono::Duration::minutes(1))
        .unwrap_or(cutoff);
    pieces
        .iter()
        .filter(|p| p.start < cutoff)
        .map(|p| FetchedPiece {
            end: p.end.min(cutoff),
            ..*p
        })
        .collect()
}

/// Why a symbol-window's bars were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Violation {
    #[error("bar at {t} lies outside the requested window {start} to {end}")]
    OutsideWindow {
        t: DateTime<Utc>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    #[error("bar at {t} does not start on a whole minute")]
    NotOnMinute { t: DateTime<Utc> },
    #[error("bars are not in ascending time order at {t}")]
    OutOfOrder { t: DateTime<Utc> },
    #[error("bar at {t} has a price that is not a finite number")]
    NotFinite { t: DateTime<Utc> },
    #[error("bar at {t} has open {o}, close {c} outside its low {l} and high {h}")]
    OutsideRange {
        t: DateTime<Utc>,
        o: f64,
        h: f64,
        l: f64,
        c: f64,
    },
    #[error("volume {v} of the bar at {t} does not fit the table")]
    VolumeTooLarge { t: DateTime<Utc>, v: u64 },
    #[error("{symbol} was not asked for in this request")]
    UnexpectedSymbol { symbol: Symbol },
}

/// Checks every bar and converts the ones inside `pieces` into rows. Bars in
/// the requested range but outside every piece (the extended hours between
/// regular sessions) are dropped: asked for by the range, not wanted.
pub fn accept_bars(
    bars: &[wire::Bar],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    pieces: &[FetchedPiece],
) -> Result<Vec<BarRow>, Violation> {
    let mut rows = Vec::with_capacity(bars.len());
    let mut previous: Option<DateTime<Utc>> = None;
    for bar in bars {
        check_bar(bar, start, end)?;
        if previous.is_some_and(|p| p >= bar.t) {
            return Err(Violation::OutOfOrder { t: bar.t });
        }
        previous = Some(bar.t);
        if pieces.iter().any(|p| bar.t >= p.start && bar.t < p.end) {
            rows.push(row(bar)?);
        }
    }
    Ok(rows)
}

fn check_bar(bar: &wire::Bar, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<(), Violation> {
    let t = bar.t;
    if t < start || t >= end {
        return Err(Violation::OutsideWindow { t, start, end });
    }
    if t.duration_trunc(chrono::Duration::minutes(1)).ok() != Some(t) {
        return Err(Violation::NotOnMinute { t });
    }
    if ![bar.o, bar.h, bar.l, bar.c, bar.vw]
        .iter()
        .all(|x| x.is_finite())
    {
        return Err(Violation::NotFinite { t });
    }
    let within = |x: f64| bar.l <= x && x <= bar.h;
    if !within(bar.o) || !within(bar.c) {
        return Err(Violation::OutsideRange {
            t,
            o: bar.o,
            h: bar.h,
            l: bar.l,
            c: bar.c,
        });
    }
    Ok(())
}

fn row(bar: &wire::Bar) -> Result<BarRow, Violation> {
    let too_large = |v| Violation::VolumeTooLarge { t: bar.t, v };
    Ok(BarRow {
        ts: bar.t,
        open: bar.o,
        high: bar.h,
        low: bar.l,
        close: bar.c,
        volume: i64::try_from(bar.v).map_err(|_| too_large(bar.v))?,
        trade_count: i64::try_from(bar.n).map_err(|_| too_large(bar.n))?,
        vwap: bar.vw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Action;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn bar(t: &str, o: f64, h: f64, l: f64, c: f64) -> wire::Bar {
        wire::Bar {
            t: at(t),
            o,
            h,
            l,
            c,
            v: 100,
            n: 3,
            vw: (h + l) / 2.0,
        }
    }

    fn window(start: &str, end: &str, first: &str, last: &str) -> Window {
        Window {
            action: Action::Fetch,
            reason: None,
            start: at(start),
            end: at(end),
            first_session: first.parse().unwrap(),
            last_session: last.parse().unwrap(),
            sessions: 0,
            minutes: 0,
            unrecorded_bars: 0,
            estimated_bars: 0,
        }
    }

    #[test]
    fn a_regular_window_gives_one_piece_per_session() {
        let w = window(
            "2026-11-25T14:30:00Z",
            "2026-11-30T21:00:00Z",
            "2026-11-25",
            "2026-11-30",
        );
        let p = pieces(
            &[w],
            SessionKind::Regular,
            Calendar::nyse(),
            w_start(),
            w_end(),
        );
        let spans: Vec<(String, String)> = p
            .iter()
            .map(|p| (p.start.to_rfc3339(), p.end.to_rfc3339()))
            .collect();
        assert_eq!(
            spans,
            [
                (
                    "2026-11-25T14:30:00+00:00".into(),
                    "2026-11-25T21:00:00+00:00".into()
                ),
                (
                    "2026-11-27T14:30:00+00:00".into(),
                    "2026-11-27T18:00:00+00:00".into()
                ),
                (
                    "2026-11-30T14:30:00+00:00".into(),
                    "2026-11-30T21:00:00+00:00".into()
                ),
            ],
            "Thanksgiving has no piece, and the early close ends at 13:00"
        );
    }

    fn w_start() -> DateTime<Utc> {
        at("2026-11-01T00:00:00Z")
    }

    fn w_end() -> DateTime<Utc> {
        at("2026-12-31T00:00:00Z")
    }

    #[test]
    fn unsettled_minutes_are_not_recorded() {
        let p = [FetchedPiece {
            session_date: "2026-12-03".parse().unwrap(),
            start: at("2026-12-03T09:00:00Z"),
            end: at("2026-12-03T16:00:00Z"),
        }];
        let cut = settled(&p, at("2026-12-03T14:58:30Z"));
        assert_eq!(cut[0].end, at("2026-12-03T14:58:00Z"));
        assert!(settled(&p, at("2026-12-03T08:00:00Z")).is_empty());
    }

    #[test]
    fn bars_outside_the_pieces_are_dropped_and_bad_bars_refused() {
        let (start, end) = (at("2026-11-25T14:30:00Z"), at("2026-11-26T21:00:00Z"));
        let piece = FetchedPiece {
            session_date: "2026-11-25".parse().unwrap(),
            start,
            end: at("2026-11-25T21:00:00Z"),
        };
        let good = [
            bar("2026-11-25T14:30:00Z", 10.0, 11.0, 9.0, 10.5),
            bar("2026-11-25T22:00:00Z", 10.0, 11.0, 9.0, 10.5), // after hours: dropped
        ];
        assert_eq!(accept_bars(&good, start, end, &[piece]).unwrap().len(), 1);

        let cases: [(wire::Bar, &str); 4] = [
            (
                bar("2026-11-25T14:00:00Z", 10.0, 11.0, 9.0, 10.5),
                "outside the requested window",
            ),
            (
                bar("2026-11-25T14:30:30Z", 10.0, 11.0, 9.0, 10.5),
                "whole minute",
            ),
            (
                bar("2026-11-25T14:31:00Z", f64::NAN, 11.0, 9.0, 10.5),
                "not a finite",
            ),
            (
                bar("2026-11-25T14:31:00Z", 12.0, 11.0, 9.0, 10.5),
                "outside its low",
            ),
        ];
        for (bad, expected) in cases {
            let err = accept_bars(&[bad], start, end, &[piece]).unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
        }
        let twice = [good[0], good[0]];
        assert!(matches!(
            accept_bars(&twice, start, end, &[piece]),
            Err(Violation::OutOfOrder { .. })
        ));
    }
}
