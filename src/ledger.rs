//! The ledger: what seedctl knows it has fetched, as plain values.
//!
//! A minute with no trades has no bar, so the bars table cannot say whether a
//! minute was fetched. The ledger can: each entry states that every bar the
//! feed has for a symbol in `[start, end)` was written, and how many there
//! were. Entries lie within one session and never overlap for one symbol.
//!
//! This module only holds and queries the values; reading and writing them in
//! Postgres is `crate::db`'s job.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::domain::{Adjustment, Feed, Symbol};

/// One fetched interval of one symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    pub symbol: Symbol,
    pub session_date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub feed: Feed,
    pub adjustment: Adjustment,
    pub bars: i64,
}

impl LedgerEntry {
    pub fn minutes(&self) -> i64 {
        (self.end - self.start).num_minutes()
    }
}

/// The ledger entries of the symbols a plan looks at, grouped by symbol and
/// sorted by start.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    by_symbol: BTreeMap<Symbol, Vec<LedgerEntry>>,
}

impl Ledger {
    pub fn from_entries(entries: impl IntoIterator<Item = LedgerEntry>) -> Self {
        let mut by_symbol: BTreeMap<Symbol, Vec<LedgerEntry>> = BTreeMap::new();
        for entry in entries {
            by_symbol
                .entry(entry.symbol.clone())
                .or_default()
                .push(entry);
        }
        for entries in by_symbol.values_mut() {
            entries.sort_by_key(|e| e.start);
        }
        Ledger { by_symbol }
    }

    pub fn for_symbol(&self, symbol: &Symbol) -> &[LedgerEntry] {
        self.by_symbol.get(symbol).map_or(&[], Vec::as_slice)
    }

    pub fn is_empty(&self) -> bool {
        self.by_symbol.is_empty()
    }

    pub fn len(&self) -> usize {
        self.by_symbol.values().map(Vec::len).sum()
    }
}

/// Bars present in the bars table per symbol and New York calendar date, for
/// the days a plan asked about. Compared with the ledger's counts for the
/// same day, it reveals bars that the ledger does not know about.
#[derive(Debug, Clone, Default)]
pub struct Presence {
    counts: BTreeMap<(Symbol, NaiveDate), i64>,
}

impl Presence {
    pub fn from_counts(counts: impl IntoIterator<Item = ((Symbol, NaiveDate), i64)>) -> Self {
        Presence {
            counts: counts.into_iter().collect(),
        }
    }

    pub fn bars(&self, symbol: &Symbol, date: NaiveDate) -> i64 {
        self.counts
            .get(&(symbol.clone(), date))
            .copied()
            .unwrap_or(0)
    }
}

/// A question for the bars table: how many bars does `symbol` have per New
/// York date in `[start, end)`?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceProbe {
    pub symbol: Symbol,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}
