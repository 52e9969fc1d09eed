//! The facts `seedctl status` reads beyond a plan's: drift between the
//! ledger and the table, each symbol's newest bar, and the last runs.
//!
//! Like the plan's reads, these are SELECTs only, and answer "nothing yet" on
//! a database that seedctl has not migrated. Drift is the one read that
//! scans bars: it counts the rows inside each ledger entry of the desired
//! sessions, through the `(symbol, ts)` key.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

use super::{BARS_TABLE, DbError, Target};
use crate::domain::Symbol;
use crate::plan::{Drift, DriftProbe};
use crate::status::Run;

async fn relation_exists(pool: &PgPool, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(name)
        .fetch_one(pool)
        .await
}

/// A ledger entry and the rows present in its minutes, as read.
#[derive(sqlx::FromRow)]
struct DriftRow {
    symbol: String,
    session_date: NaiveDate,
    start_ts: DateTime<Utc>,
    end_ts: DateTime<Utc>,
    feed: String,
    adjustment: String,
    bars: i32,
    present: i64,
}

impl DriftRow {
    fn parse(self) -> Result<Drift, DbError> {
        let bad = |detail: String| DbError::BadLedgerRow { detail };
        Ok(Drift {
            symbol: self.symbol.parse().map_err(bad)?,
            session_date: self.session_date,
            start: self.start_ts,
            end: self.end_ts,
            feed: self.feed.parse().map_err(bad)?,
            adjustment: self.adjustment.parse().map_err(bad)?,
            recorded: i64::from(self.bars),
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
    let query_error = |source| DbError::Query {
        what: "comparing the ledger with the bars table",
        target: target.display(),
        source,
    };
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
    let query_error = |source| DbError::Query {
        what: "reading the newest bars",
        target: target.display(),
        source,
    };
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
    let query_error = |source| DbError::Query {
        what: "reading the runs",
        target: target.display(),
        source,
    };
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
