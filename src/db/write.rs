//! What `apply` writes: the one-apply-at-a-time lock, the runs table, and
//! each fetched symbol-window's bars together with its ledger entries.
//!
//! A symbol-window is written in one transaction: its bars are upserted, bars
//! the source no longer has in the fetched minutes are removed, and the
//! ledger records the minutes as fetched. A run killed at any instant leaves
//! either all of that or none of it, so the ledger never claims what the
//! table does not hold.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};

use super::{DbError, Target};
use crate::domain::{Adjustment, Feed, Symbol};

/// The advisory lock key every `seedctl apply` on one database takes: the
/// first eight bytes of "seedctl:apply" read as a number.
const APPLY_LOCK_KEY: i64 = i64::from_be_bytes(*b"seedctl:");

/// Rows per upsert statement: large enough to amortise the round trip, small
/// enough to keep the parameter arrays modest.
const UPSERT_BATCH: usize = 10_000;

/// One bar as it is stored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BarRow {
    pub ts: DateTime<Utc>,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: i64,
    pub trade_count: i64,
    pub vwap: f64,
}

/// Minutes of one session that were fetched completely, for the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchedPiece {
    pub session_date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// A fetched symbol-window, ready to be written.
#[derive(Debug, Clone)]
pub struct WindowWrite<'a> {
    pub symbol: &'a Symbol,
    pub feed: Feed,
    pub adjustment: Adjustment,
    /// Every bar the source served for the symbol in the request, sorted by
    /// time. Bars outside `pieces` (unsettled minutes) are upserted but not
    /// recorded.
    pub bars: &'a [BarRow],
    /// The settled, fetched minutes to record.
    pub pieces: &'a [FetchedPiece],
    pub run_id: i64,
}

/// What one window's transaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowWritten {
    /// Rows inserted or changed.
    pub upserted: u64,
    /// Rows the source no longer has in the fetched minutes.
    pub removed: u64,
}

/// The session-level lock that keeps two applies apart, held on a
/// connection of its own (never one that goes back to a pool). Released when
/// dropped, as its connection closes, or on [`ApplyLock::release`].
pub struct ApplyLock {
    conn: PgConnection,
}

impl ApplyLock {
    /// Waits up to `timeout` for the lock, then fails saying who holds it.
    pub async fn acquire(
        pool: &PgPool,
        target: &Target,
        timeout: Duration,
    ) -> Result<ApplyLock, DbError> {
        let query_error = target.query_error("taking the apply lock");
        let mut conn = target.connect_one().await?;
        let millis = timeout.as_millis().max(1);
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("SET lock_timeout = {millis}")))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        let locked = sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(APPLY_LOCK_KEY)
            .execute(&mut conn)
            .await;
        match locked {
            Ok(_) => {
                sqlx::raw_sql("RESET lock_timeout")
                    .execute(&mut conn)
                    .await
                    .map_err(query_error)?;
                Ok(ApplyLock { conn })
            }
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55P03") => {
                let _ = conn.close().await;
                Err(DbError::Locked {
                    holder: lock_holder(pool).await,
                    waited: timeout,
                })
            }
            Err(source) => Err(query_error(source)),
        }
    }

    pub async fn release(self) {
        let _ = self.conn.close().await;
    }
}

/// The database session that holds the apply lock.
#[derive(sqlx::FromRow)]
struct LockSession {
    pid: i32,
    application_name: Option<String>,
    host: Option<String>,
    backend_start: Option<DateTime<Utc>>,
}

/// Who holds the apply lock, in words, as far as the database can tell.
async fn lock_holder(pool: &PgPool) -> String {
    let session: Option<LockSession> = sqlx::query_as(
        "SELECT a.pid, a.application_name, host(a.client_addr) AS host, a.backend_start
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted
            AND ((l.classid::bigint << 32) | l.objid::bigint) = $1",
    )
    .bind(APPLY_LOCK_KEY)
    .fetch_optional(pool)
    .await
    .ok()
    .flatten();
    let run: Option<(i64, DateTime<Utc>)> = sqlx::query_as(
        "SELECT id, started_at FROM seedctl.runs WHERE outcome = 'running' ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await
    .ok()
    .flatten();

    let mut parts = Vec::new();
    if let Some((id, started)) = run {
        parts.push(format!(
            "run {id}, started {}",
            started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
    }
    if let Some(LockSession {
        pid,
        application_name,
        host,
        backend_start,
    }) = session
    {
        let from = host.unwrap_or_else(|| "a local socket".to_string());
        let app = application_name
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| "an unnamed client".into());
        let since = backend_start
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default();
        parts.push(format!(
            "{app} (server pid {pid}) from {from}, connected since {since}"
        ));
    }
    if parts.is_empty() {
        "another session".to_string()
    } else {
        parts.join("; ")
    }
}

/// Records the start of a run. Runs still marked as running can only be
/// runs that died without a word (we hold the lock), so they are marked
/// interrupted first.
pub async fn start_run(
    lock: &mut ApplyLock,
    command: &str,
    calendar_version: &str,
    planned_windows: u64,
) -> Result<i64, sqlx::Error> {
    let conn = &mut lock.conn;
    sqlx::query(
        "UPDATE seedctl.runs SET outcome = 'interrupted', finished_at = now(),
                error = coalesce(error, 'the process ended without finishing the run')
          WHERE outcome = 'running'",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar(
        "INSERT INTO seedctl.runs (command, seedctl_version, calendar_version, planned_windows)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(command)
    .bind(env!("CARGO_PKG_VERSION"))
    .bind(calendar_version)
    .bind(planned_windows as i64)
    .fetch_one(&mut *conn)
    .await
}

/// What a run did, for the runs table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub windows: u64,
    pub requests: u64,
    pub bars: u64,
    pub retries: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    Succeeded,
    Failed,
    Interrupted,
}

impl RunOutcome {
    fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Succeeded => "succeeded",
            RunOutcome::Failed => "failed",
            RunOutcome::Interrupted => "interrupted",
        }
    }
}

pub async fn finish_run(
    lock: &mut ApplyLock,
    run_id: i64,
    outcome: RunOutcome,
    counts: RunCounts,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE seedctl.runs
            SET finished_at = now(), outcome = $2, windows = $3, requests = $4, bars = $5,
                retries = $6, error = $7
          WHERE id = $1",
    )
    .bind(run_id)
    .bind(outcome.as_str())
    .bind(counts.windows as i64)
    .bind(counts.requests as i64)
    .bind(counts.bars as i64)
    .bind(counts.retries as i64)
    .bind(error)
    .execute(&mut lock.conn)
    .await
    .map(|_| ())
}

/// Writes one fetched symbol-window: bars and ledger in one transaction.
///
/// Minutes the table holds nothing for yet (a first seed) are loaded with
/// `COPY`, at about twice the speed of the upsert; should another writer
/// slip rows in meanwhile, the unique key refuses the `COPY` and the window
/// is written again with the upsert.
pub async fn write_window(
    pool: &PgPool,
    w: &WindowWrite<'_>,
) -> Result<WindowWritten, sqlx::Error> {
    match write_once(pool, w, Load::CopyWhenEmpty).await {
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(UNIQUE_VIOLATION) => {
            write_once(pool, w, Load::Upsert).await
        }
        other => other,
    }
}

const UNIQUE_VIOLATION: &str = "23505";

/// How a window's bars go into the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Load {
    CopyWhenEmpty,
    Upsert,
}

async fn write_once(
    pool: &PgPool,
    w: &WindowWrite<'_>,
    load: Load,
) -> Result<WindowWritten, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut written = WindowWritten::default();
    if load == Load::CopyWhenEmpty && holds_none(&mut tx, w.symbol, w.bars).await? {
        written.upserted = copy_in(&mut tx, w.symbol, w.bars).await?;
    } else {
        for batch in w.bars.chunks(UPSERT_BATCH) {
            written.upserted += upsert(&mut tx, w.symbol, batch).await?;
        }
    }
    let pieces = PieceColumns::new(w.pieces, w.bars);
    written.removed = remove_vanished(&mut tx, w.symbol, &pieces, w.bars).await?;
    replace_ledger(&mut tx, w, &pieces).await?;
    tx.commit().await?;
    Ok(written)
}

/// Whether the table holds no row of `symbol` between the first and the last
/// bar (true also when there are no bars).
async fn holds_none(
    tx: &mut Transaction<'_, Postgres>,
    symbol: &Symbol,
    bars: &[BarRow],
) -> Result<bool, sqlx::Error> {
    let (Some(first), Some(last)) = (bars.first(), bars.last()) else {
        return Ok(true);
    };
    sqlx::query_scalar(
        "SELECT NOT EXISTS (SELECT 1 FROM public.market_data_1m
                             WHERE symbol = $1 AND ts >= $2 AND ts <= $3)",
    )
    .bind(symbol.as_str())
    .bind(first.ts)
    .bind(last.ts)
    .fetch_one(&mut **tx)
    .await
}

/// Loads bars with text `COPY`: the server parses each value into whatever
/// numeric types the table's columns have, so an older loader's table works
/// too. Rust prints floats in their shortest exact form, so nothing is lost.
async fn copy_in(
    tx: &mut Transaction<'_, Postgres>,
    symbol: &Symbol,
    bars: &[BarRow],
) -> Result<u64, sqlx::Error> {
    use std::fmt::Write;
    let mut text = String::with_capacity(bars.len() * 96);
    for b in bars {
        let ts = b.ts.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let _ = writeln!(
            text,
            "{ts}\t{symbol}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            b.open, b.high, b.low, b.close, b.volume, b.trade_count, b.vwap
        );
    }
    let mut copy = tx
        .copy_in_raw(
            "COPY public.market_data_1m
                  (ts, symbol, open, high, low, close, volume, trade_count, vwap)
             FROM STDIN",
        )
        .await?;
    copy.send(text.as_bytes()).await?;
    copy.finish().await
}

/// `INSERT ... ON CONFLICT (ts, symbol) DO UPDATE`, touching only rows whose
/// values changed, so a re-fetch of unchanged bars rewrites nothing.
async fn upsert(
    tx: &mut Transaction<'_, Postgres>,
    symbol: &Symbol,
    bars: &[BarRow],
) -> Result<u64, sqlx::Error> {
    let column = |f: fn(&BarRow) -> f64| bars.iter().map(f).collect::<Vec<f64>>();
    let result = sqlx::query(
        "INSERT INTO public.market_data_1m AS m
                (ts, symbol, open, high, low, close, volume, trade_count, vwap)
         SELECT b.ts, $2, b.open, b.high, b.low, b.close, b.volume, b.trade_count, b.vwap
           FROM unnest($1::timestamptz[], $3::float8[], $4::float8[], $5::float8[], $6::float8[],
                       $7::int8[], $8::int8[], $9::float8[])
                AS b(ts, open, high, low, close, volume, trade_count, vwap)
         ON CONFLICT (ts, symbol) DO UPDATE
            SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
                close = EXCLUDED.close, volume = EXCLUDED.volume,
                trade_count = EXCLUDED.trade_count, vwap = EXCLUDED.vwap
          WHERE (m.open, m.high, m.low, m.close, m.volume, m.trade_count, m.vwap)
                IS DISTINCT FROM
                (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close,
                 EXCLUDED.volume, EXCLUDED.trade_count, EXCLUDED.vwap)",
    )
    .bind(bars.iter().map(|b| b.ts).collect::<Vec<_>>())
    .bind(symbol.as_str())
    .bind(column(|b| b.open))
    .bind(column(|b| b.high))
    .bind(column(|b| b.low))
    .bind(column(|b| b.close))
    .bind(bars.iter().map(|b| b.volume).collect::<Vec<_>>())
    .bind(bars.iter().map(|b| b.trade_count).collect::<Vec<_>>())
    .bind(column(|b| b.vwap))
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected())
}

/// A window's pieces as parameter arrays, with the bars served in each, so
/// that the bookkeeping of a window is one statement whatever its sessions.
struct PieceColumns {
    starts: Vec<DateTime<Utc>>,
    ends: Vec<DateTime<Utc>>,
    dates: Vec<NaiveDate>,
    bars: Vec<i32>,
}

impl PieceColumns {
    fn new(pieces: &[FetchedPiece], bars: &[BarRow]) -> PieceColumns {
        let served = |p: &FetchedPiece| {
            // Bars are sorted by time: two binary searches bound the piece.
            let from = bars.partition_point(|b| b.ts < p.start);
            let to = bars.partition_point(|b| b.ts < p.end);
            (to - from) as i32
        };
        PieceColumns {
            starts: pieces.iter().map(|p| p.start).collect(),
            ends: pieces.iter().map(|p| p.end).collect(),
            dates: pieces.iter().map(|p| p.session_date).collect(),
            bars: pieces.iter().map(served).collect(),
        }
    }

    fn served(&self) -> i64 {
        self.bars.iter().map(|n| i64::from(*n)).sum()
    }

    fn contains(&self, ts: DateTime<Utc>) -> bool {
        self.starts
            .iter()
            .zip(&self.ends)
            .any(|(s, e)| ts >= *s && ts < *e)
    }
}

/// Removes rows in fetched minutes that the source did not serve: after a
/// complete fetch, the table holds exactly the source's bars there. The
/// served bars were just upserted, so the rows in the pieces can only be as
/// many or more; a count settles the common case without the anti-join.
async fn remove_vanished(
    tx: &mut Transaction<'_, Postgres>,
    symbol: &Symbol,
    pieces: &PieceColumns,
    bars: &[BarRow],
) -> Result<u64, sqlx::Error> {
    let present: i64 = sqlx::query_scalar(
        "SELECT count(*)
           FROM unnest($2::timestamptz[], $3::timestamptz[]) AS p(s, e)
           JOIN public.market_data_1m m ON m.symbol = $1 AND m.ts >= p.s AND m.ts < p.e",
    )
    .bind(symbol.as_str())
    .bind(&pieces.starts)
    .bind(&pieces.ends)
    .fetch_one(&mut **tx)
    .await?;
    if present <= pieces.served() {
        return Ok(0);
    }
    let served: Vec<DateTime<Utc>> = bars
        .iter()
        .map(|b| b.ts)
        .filter(|ts| pieces.contains(*ts))
        .collect();
    let result = sqlx::query(
        "DELETE FROM public.market_data_1m m
          USING unnest($2::timestamptz[], $3::timestamptz[]) AS p(s, e)
          WHERE m.symbol = $1 AND m.ts >= p.s AND m.ts < p.e
            AND NOT EXISTS (SELECT 1 FROM unnest($4::timestamptz[]) AS b(ts) WHERE b.ts = m.ts)",
    )
    .bind(symbol.as_str())
    .bind(&pieces.starts)
    .bind(&pieces.ends)
    .bind(served)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected())
}

/// A ledger entry that a new piece overlaps, as it was before removal.
#[derive(sqlx::FromRow)]
struct DisplacedEntry {
    start_ts: DateTime<Utc>,
    end_ts: DateTime<Utc>,
    session_date: NaiveDate,
    feed: String,
    adjustment: String,
    run_id: Option<i64>,
}

/// Records the pieces in the ledger. Older entries that overlap them give
/// up the overlapping minutes: what remains of them is kept, with its bars
/// counted again from the table.
async fn replace_ledger(
    tx: &mut Transaction<'_, Postgres>,
    w: &WindowWrite<'_>,
    pieces: &PieceColumns,
) -> Result<(), sqlx::Error> {
    let displaced: Vec<DisplacedEntry> = sqlx::query_as(
        "DELETE FROM seedctl.ledger l
          WHERE l.symbol = $1
            AND EXISTS (SELECT 1 FROM unnest($2::timestamptz[], $3::timestamptz[]) AS p(s, e)
                         WHERE l.start_ts < p.e AND l.end_ts > p.s)
         RETURNING start_ts, end_ts, session_date, feed, adjustment, run_id",
    )
    .bind(w.symbol.as_str())
    .bind(&pieces.starts)
    .bind(&pieces.ends)
    .fetch_all(&mut **tx)
    .await?;

    for old in displaced {
        let mut remaining = rangemap::RangeSet::new();
        remaining.insert(old.start_ts..old.end_ts);
        for (start, end) in pieces.starts.iter().zip(&pieces.ends) {
            remaining.remove(*start..*end);
        }
        for remnant in remaining.iter() {
            sqlx::query(
                "INSERT INTO seedctl.ledger
                        (symbol, start_ts, end_ts, session_date, feed, adjustment, bars, run_id)
                 SELECT $1, $2, $3, $4, $5, $6, count(*), $7
                   FROM public.market_data_1m WHERE symbol = $1 AND ts >= $2 AND ts < $3",
            )
            .bind(w.symbol.as_str())
            .bind(remnant.start)
            .bind(remnant.end)
            .bind(old.session_date)
            .bind(&old.feed)
            .bind(&old.adjustment)
            .bind(old.run_id)
            .execute(&mut **tx)
            .await?;
        }
    }

    sqlx::query(
        "INSERT INTO seedctl.ledger
                (symbol, start_ts, end_ts, session_date, feed, adjustment, bars, run_id)
         SELECT $1, p.s, p.e, p.d, $6, $7, p.n, $8
           FROM unnest($2::timestamptz[], $3::timestamptz[], $4::date[], $5::int4[])
                AS p(s, e, d, n)",
    )
    .bind(w.symbol.as_str())
    .bind(&pieces.starts)
    .bind(&pieces.ends)
    .bind(&pieces.dates)
    .bind(&pieces.bars)
    .bind(w.feed.as_str())
    .bind(w.adjustment.to_string())
    .bind(w.run_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
