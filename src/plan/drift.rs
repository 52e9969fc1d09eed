//! Drift: ledger entries whose bar count no longer matches the bars table,
//! because rows were deleted or added after the entry was recorded.
//!
//! Finding drift means counting rows in the bars table, which is the fact
//! gatherer's job (`crate::db::find_drift`, over [`Draft::drift_probes`]).
//! Here drift is only planned: a drifted entry stops counting as covered, and
//! the gap it leaves is fetched again with the two counts as its reason.
//! Whether to look for drift at all is [`super::Settings::refresh`]'s call,
//! not this module's.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{Draft, GapPiece, gaps};
use crate::domain::{Adjustment, Feed, Symbol};
use crate::ledger::{Ledger, LedgerEntry};

/// A ledger entry, and the bars the table holds in its minutes today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    pub symbol: Symbol,
    pub session_date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub feed: Feed,
    pub adjustment: Adjustment,
    /// Bars the ledger recorded when the minutes were fetched.
    pub recorded: i64,
    /// Bars the table holds in `[start, end)` now.
    pub present: i64,
}

impl Drift {
    fn is_entry(&self, entry: &LedgerEntry) -> bool {
        entry.symbol == self.symbol && entry.start == self.start && entry.end == self.end
    }

    fn overlaps(&self, piece: &GapPiece) -> bool {
        self.start < piece.end && self.end > piece.start
    }
}

/// A question for the database: which ledger entries of `symbol` that
/// overlap `[start, end)` no longer match the bars table?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftProbe {
    pub symbol: Symbol,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Draft {
    /// Per symbol, the span of its desired sessions: drift outside it changes
    /// nothing the spec asks for, and is not worth counting.
    pub fn drift_probes(&self) -> Vec<DriftProbe> {
        self.targets
            .iter()
            .filter_map(|t| {
                Some(DriftProbe {
                    symbol: t.target.symbol.clone(),
                    start: t.desired.first()?.start,
                    end: t.desired.last()?.end,
                })
            })
            .collect()
    }

    /// Plans the drifted entries again: they no longer count as covered, and
    /// the gap pieces that take them in carry their counts. An entry held
    /// with another feed or adjustment covers nothing anyway and keeps its
    /// own reason.
    pub fn with_drift(mut self, ledger: &Ledger, drift: &[Drift]) -> Draft {
        for t in &mut self.targets {
            let wanted = (t.target.feed, t.target.adjustment);
            let drifted: Vec<&Drift> = drift
                .iter()
                .filter(|d| d.symbol == t.target.symbol && (d.feed, d.adjustment) == wanted)
                .collect();
            if drifted.is_empty() {
                continue;
            }

            let kept: Vec<LedgerEntry> = ledger
                .for_symbol(&t.target.symbol)
                .iter()
                .filter(|e| !drifted.iter().any(|d| d.is_entry(e)))
                .cloned()
                .collect();
            t.pieces = gaps::find_gaps(&t.target, &t.desired, &kept);
            mark(&mut t.pieces, &drifted);
        }
        self
    }
}

/// Gives each piece the summed counts of the drifted entries it overlaps.
fn mark(pieces: &mut [GapPiece], drifted: &[&Drift]) {
    for piece in pieces {
        let overlapping: Vec<&&Drift> = drifted.iter().filter(|d| d.overlaps(piece)).collect();
        if overlapping.is_empty() {
            continue;
        }
        let recorded = overlapping.iter().map(|d| d.recorded).sum();
        let present = overlapping.iter().map(|d| d.present).sum();
        piece.drift = Some((recorded, present));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Calendar;
    use crate::domain::SessionKind;
    use crate::ledger::Presence;
    use crate::plan::{Action, AsOf, Plan, Reason, Settings};
    use crate::spec::{Origin, Span, Spec, Target};

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("a test date")
    }

    fn spy() -> Target {
        Target {
            symbol: "SPY".parse().expect("a symbol"),
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

    /// Every session of the 30 days before 2026-12-02 recorded with 900 bars.
    fn full_ledger(feed: Feed) -> Vec<LedgerEntry> {
        let sessions = Calendar::nyse()
            .sessions(date("2026-10-21"), date("2026-12-02"))
            .expect("in range");
        sessions
            .iter()
            .map(|s| {
                let (start, end) = s.bounds(SessionKind::Extended);
                LedgerEntry {
                    symbol: spy().symbol,
                    session_date: s.date,
                    start,
                    end,
                    feed,
                    adjustment: Adjustment::RAW,
                    bars: 900,
                }
            })
            .collect()
    }

    fn drift_of(entry: &LedgerEntry, present: i64) -> Drift {
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

    fn draft_for(entries: &[LedgerEntry]) -> (Draft, Ledger) {
        let as_of = AsOf::parse(Some("2026-12-02"), Utc::now()).expect("a date");
        let spec = Spec {
            targets: vec![spy()],
        };
        let ledger = Ledger::from_entries(entries.iter().cloned());
        let draft = Draft::new(&spec, Calendar::nyse(), as_of, &ledger, Settings::default())
            .expect("plannable");
        (draft, ledger)
    }

    fn finish(draft: Draft) -> Plan {
        draft.finish(Calendar::nyse(), &Presence::default(), "test".into())
    }

    fn session(entries: &[LedgerEntry], day: &str) -> LedgerEntry {
        let found = entries.iter().find(|e| e.session_date == date(day));
        found.expect("a recorded session").clone()
    }

    #[test]
    fn a_drifted_entry_is_fetched_again_with_its_counts() {
        let entries = full_ledger(Feed::Iex);
        let drift = [drift_of(&session(&entries, "2026-11-25"), 880)];

        let (draft, _) = draft_for(&entries);
        assert!(
            !finish(draft).has_changes(),
            "without refresh, drift is not planned"
        );

        let (draft, ledger) = draft_for(&entries);
        let plan = finish(draft.with_drift(&ledger, &drift));
        let symbol = &plan.symbols[0];
        assert_eq!(symbol.covered_sessions, 29);
        let [window] = symbol.windows.as_slice() else {
            panic!("one window: {:#?}", symbol.windows)
        };
        assert_eq!(window.action, Action::Refetch);
        let expected = Reason::Drift {
            recorded: 900,
            present: 880,
        };
        assert_eq!(window.reason, Some(expected));
        assert_eq!(
            (window.first_session, window.sessions),
            (date("2026-11-25"), 1)
        );
        assert_eq!((window.start, window.end), (drift[0].start, drift[0].end));
        assert_eq!(plan.requests.len(), 1);
    }

    #[test]
    fn consecutive_drifted_sessions_share_a_window_and_add_their_counts() {
        let entries = full_ledger(Feed::Iex);
        let drift = [
            drift_of(&session(&entries, "2026-11-30"), 0),
            drift_of(&session(&entries, "2026-12-01"), 950),
            drift_of(&session(&entries, "2026-12-02"), 10),
        ];
        let (draft, ledger) = draft_for(&entries);
        let plan = finish(draft.with_drift(&ledger, &drift));

        let [window] = plan.symbols[0].windows.as_slice() else {
            panic!("one window: {:#?}", plan.symbols[0].windows)
        };
        assert_eq!(window.sessions, 3);
        let expected = Reason::Drift {
            recorded: 2700,
            present: 960,
        };
        assert_eq!(window.reason, Some(expected));
    }

    #[test]
    fn drift_next_to_a_plain_gap_is_one_window_marked_as_drift() {
        let mut entries = full_ledger(Feed::Iex);
        let mut morning = session(&entries, "2026-11-25");
        entries.retain(|e| e.session_date != morning.session_date);
        // Only the morning was recorded, and it has since lost bars.
        morning.end = morning.start + chrono::Duration::hours(8);
        entries.push(morning.clone());
        let drift = [drift_of(&morning, 100)];

        let (draft, ledger) = draft_for(&entries);
        let plan = finish(draft.with_drift(&ledger, &drift));
        let [window] = plan.symbols[0].windows.as_slice() else {
            panic!("one window: {:#?}", plan.symbols[0].windows)
        };
        assert_eq!(window.minutes, 960, "the whole session is fetched again");
        let expected = Reason::Drift {
            recorded: 900,
            present: 100,
        };
        assert_eq!(window.reason, Some(expected));
    }

    #[test]
    fn drift_in_minutes_of_another_feed_keeps_the_feed_change() {
        let entries = full_ledger(Feed::Sip);
        let drift = [drift_of(&session(&entries, "2026-11-25"), 0)];
        let (draft, ledger) = draft_for(&entries);
        let plan = finish(draft.with_drift(&ledger, &drift));

        let [window] = plan.symbols[0].windows.as_slice() else {
            panic!("one window: {:#?}", plan.symbols[0].windows)
        };
        assert_eq!(window.sessions, 30);
        let expected = Reason::FeedChanged {
            from: Feed::Sip,
            to: Feed::Iex,
        };
        assert_eq!(window.reason, Some(expected));
    }

    #[test]
    fn drift_probes_span_the_desired_sessions() {
        let (draft, _) = draft_for(&[]);
        let probes = draft.drift_probes();
        let [probe] = probes.as_slice() else {
            panic!("one probe per symbol")
        };
        assert_eq!(
            probe.start,
            "2026-10-21T08:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            probe.end,
            "2026-12-03T01:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
