//! The facts `seedctl status` and `seedctl verify` read beyond a plan's:
//! drift between the ledger and the table, each symbol's newest bar, the last
//! runs, and the stored bars of a window; and the one write of `verify`,
//! removing the ledger entries of windows that differ from the source.
//!
//! The reads answer "nothing yet" on a database that seedctl has not
//! migrated. Drift is the one read that scans many bars: it counts the rows
//! inside each ledger entry of the desired sessions, through the
//! `(symbol, ts)` key.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::read::LedgerRow;
use super::{BARS_TABLE, DbError, Target};
use crate::domain::Symbol;
use crate::ledger::LedgerEntry;
use crate::plan::{Drift, DriftProbe};
use crate::status::Run;
use crate::status::verify::StoredBar;

async fn relation_exists(pool: &PgPool, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(name)
        .fetch_one(pool)
        .await
}

/// A ledger entry and the rows present in its minutes, as read.
#[derive(sqlx::FromRow)]
struct DriftRow {
    #[sqlx(flatten)]
    entry: LedgerRow,
    present: i64,
}

impl DriftRow {
    fn parse(self) -> Result<Drift, DbError> {
        let entry = self.entry.parse()?;
        Ok(Drift {
            symbol: entry.symbol,
            session_date: entry.session_date,
            start: entry.start,
            end: entry.end,
            feed: entry.feed,
            adjustment: entry.adjustment,
            recorded: entry.bars,
            present: self.present,
        })
    }
}

/// Counts the rows of every ledger entry that overlaps a probe.
const DRIFT_SQL: &str = "
    SELECT l.symbol, l.session_date, l.start_ts, l.end_ts, l.feed, l.adjustment, l.bars,
           c.present
      FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS p(symbol, s, e)
      JOIN seedctl.ledger l ON l.symbol = p.symbol AND l.start_ts < p.e AND l.end_ts > p.s
     CROSS JOIN LATERAL (
           SELECT count(*) AS present FROM public.market_data_1m m
            WHERE m.symbol = l.symbol AND m.ts >= l.start_ts AND m.ts < l.end_ts) c
     WHERE c.present <> l.bars
     ORDER BY l.symbol, l.start_ts";

/// The same when the bars table is gone: every entry that counted bars.
const DRIFT_WITHOUT_TABLE_SQL: &str = "
    SELECT l.symbol, l.session_date, l.start_ts, l.end_ts, l.feed, l.adjustment, l.bars,
           0::bigint AS present
      FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS p(symbol, s, e)
      JOIN seedctl.ledger l ON l.symbol = p.symbol AND l.start_ts < p.e AND l.end_ts > p.s
     WHERE l.bars <> 0
     ORDER BY l.symbol, l.start_ts";

/// Ledger entries within the probes whose recorded bar count differs from
/// the rows the table holds in their minutes, sorted by symbol and start.
pub async fn find_drift(
    pool: &PgPool,
    target: &Target,
    probes: &[DriftProbe],
) -> Result<Vec<Drift>, DbError> {
    let query_error = target.query_error("comparing the ledger with the bars table");
    let ledger_exists = relation_exists(pool, "seedctl.ledger").await;
    if probes.is_empty() || !ledger_exists.map_err(query_error)? {
        return Ok(Vec::new());
    }
    let sql = if relation_exists(pool, BARS_TABLE)
        .await
        .map_err(query_error)?
    {
        DRIFT_SQL
    } else {
        DRIFT_WITHOUT_TABLE_SQL
    };

    let symbols: Vec<&str> = probes.iter().map(|p| p.symbol.as_str()).collect();
    let starts: Vec<DateTime<Utc>> = probes.iter().map(|p| p.start).collect();
    let ends: Vec<DateTime<Utc>> = probes.iter().map(|p| p.end).collect();
    let rows: Vec<DriftRow> = sqlx::query_as(sql)
        .bind(&symbols)
        .bind(&starts)
        .bind(&ends)
        .fetch_all(pool)
        .await
        .map_err(query_error)?;
    rows.into_iter().map(DriftRow::parse).collect()
}

/// The newest bar of each symbol that has any. One index probe per symbol.
pub async fn latest_bars(
    pool: &PgPool,
    target: &Target,
    symbols: &[Symbol],
) -> Result<BTreeMap<Symbol, DateTime<Utc>>, DbError> {
    let query_error = target.query_error("reading the newest bars");
    if symbols.is_empty()
        || !relation_exists(pool, BARS_TABLE)
            .await
            .map_err(query_error)?
    {
        return Ok(BTreeMap::new());
    }
    let names: Vec<&str> = symbols.iter().map(Symbol::as_str).collect();
    let rows: Vec<(String, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT p.symbol,
                (SELECT max(m.ts) FROM public.market_data_1m m WHERE m.symbol = p.symbol)
           FROM unnest($1::text[]) AS p(symbol)",
    )
    .bind(&names)
    .fetch_all(pool)
    .await
    .map_err(query_error)?;
    let latest = rows
        .into_iter()
        .filter_map(|(symbol, ts)| Some((symbol.parse().ok()?, ts?)));
    Ok(latest.collect())
}

/// A row of `seedctl.runs` as stored.
#[derive(sqlx::FromRow)]
struct RunRow {
    id: i64,
    command: String,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    outcome: String,
    planned_windows: i64,
    windows: i64,
    requests: i64,
    bars: i64,
    retries: i64,
    error: Option<String>,
}

impl RunRow {
    fn parse(self) -> Result<Run, DbError> {
        let outcome = self
            .outcome
            .parse()
            .map_err(|detail: String| DbError::BadLedgerRow {
                detail: format!("run {}: {detail}", self.id),
            })?;
        Ok(Run {
            id: self.id,
            command: self.command,
            started_at: self.started_at,
            finished_at: self.finished_at,
            outcome,
            planned_windows: self.planned_windows,
            windows: self.windows,
            requests: self.requests,
            bars: self.bars,
            retries: self.retries,
            error: self.error,
        })
    }
}

/// The newest `limit` runs, newest first. Empty before the first migration.
pub async fn recent_runs(pool: &PgPool, target: &Target, limit: i64) -> Result<Vec<Run>, DbError> {
    let query_error = target.query_error("reading the runs");
    if !relation_exists(pool, "seedctl.runs")
        .await
        .map_err(query_error)?
    {
        return Ok(Vec::new());
    }
    let rows: Vec<RunRow> = sqlx::query_as(
        "SELECT id, command, started_at, finished_at, outcome, planned_windows, windows,
                requests, bars, retries, error
           FROM seedctl.runs
          ORDER BY id DESC
          LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(query_error)?;
    rows.into_iter().map(RunRow::parse).collect()
}

/// A stored bar as read; see [`StoredBar`].
#[derive(sqlx::FromRow)]
struct StoredRow {
    ts: DateTime<Utc>,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: i64,
    trade_count: Option<i64>,
    vwap: Option<f64>,
}

/// The bars the table holds for `symbol` in `[start, end)`, sorted by time.
/// Empty when the bars table does not exist.
pub async fn stored_bars(
    pool: &PgPool,
    target: &Target,
    symbol: &Symbol,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<StoredBar>, DbError> {
    let query_error = target.query_error("reading stored bars");
    if !relation_exists(pool, BARS_TABLE)
        .await
        .map_err(query_error)?
    {
        return Ok(Vec::new());
    }
    let rows: Vec<StoredRow> = sqlx::query_as(
        "SELECT ts, open, high, low, close, volume, trade_count, vwap
           FROM public.market_data_1m
          WHERE symbol = $1 AND ts >= $2 AND ts < $3
          ORDER BY ts",
    )
    .bind(symbol.as_str())
    .bind(start)
    .bind(end)
    .fetch_all(pool)
    .await
    .map_err(query_error)?;
    let bars = rows.into_iter().map(|r| StoredBar {
        ts: r.ts,
        open: r.open,
        high: r.high,
        low: r.low,
        close: r.close,
        volume: r.volume,
        trade_count: r.trade_count,
        vwap: r.vwap,
    });
    Ok(bars.collect())
}

/// Removes these ledger entries, in one transaction, so that their minutes
/// are gaps again. An entry is removed only while it still has the bounds
/// and count it was read with: one that an apply wrote again since is left
/// alone. Returns how many were removed.
pub async fn forget_ledger_entries(
    pool: &PgPool,
    target: &Target,
    entries: &[LedgerEntry],
) -> Result<u64, DbError> {
    let query_error = target.query_error("removing ledger entries");
    let mut tx = pool.begin().await.map_err(query_error)?;
    let mut removed = 0;
    for entry in entries {
        let result = sqlx::query(
            "DELETE FROM seedctl.ledger
              WHERE symbol = $1 AND start_ts = $2 AND end_ts = $3 AND bars = $4",
        )
        .bind(entry.symbol.as_str())
        .bind(entry.start)
        .bind(entry.end)
        .bind(entry.bars as i32)
        .execute(&mut *tx)
        .await
        .map_err(query_error)?;
        removed += result.rows_affected();
    }
    tx.commit().await.map_err(query_error)?;
    Ok(removed)
}
