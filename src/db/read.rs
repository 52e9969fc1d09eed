//! The facts a plan reads: ledger entries and the bars present. Both read
//! nothing but SELECTs, and answer "nothing yet" on a database that seedctl
//! has not migrated.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

use super::{BARS_TABLE, DbError, Target};
use crate::domain::Symbol;
use crate::ledger::{Ledger, LedgerEntry, Presence, PresenceProbe};

/// A ledger row as stored: text columns still to be validated.
#[derive(sqlx::FromRow)]
pub(super) struct LedgerRow {
    symbol: String,
    session_date: NaiveDate,
    start_ts: DateTime<Utc>,
    end_ts: DateTime<Utc>,
    feed: String,
    adjustment: String,
    bars: i32,
}

impl LedgerRow {
    pub(super) fn parse(self) -> Result<LedgerEntry, DbError> {
        let bad = |detail: String| DbError::BadLedgerRow { detail };
        Ok(LedgerEntry {
            symbol: self.symbol.parse().map_err(bad)?,
            session_date: self.session_date,
            start: self.start_ts,
            end: self.end_ts,
            feed: self.feed.parse().map_err(bad)?,
            adjustment: self.adjustment.parse().map_err(bad)?,
            bars: i64::from(self.bars),
        })
    }
}

async fn relation_exists(pool: &PgPool, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(name)
        .fetch_one(pool)
        .await
}

/// Every ledger entry of these symbols. Empty when seedctl's schema does not
/// exist yet.
pub async fn load_ledger(
    pool: &PgPool,
    target: &Target,
    symbols: &[Symbol],
) -> Result<Ledger, DbError> {
    let query_error = target.query_error("reading the ledger");
    if !relation_exists(pool, "seedctl.ledger")
        .await
        .map_err(query_error)?
    {
        return Ok(Ledger::default());
    }
    let names: Vec<&str> = symbols.iter().map(Symbol::as_str).collect();
    let rows: Vec<LedgerRow> = sqlx::query_as(
        "SELECT symbol, session_date, start_ts, end_ts, feed, adjustment, bars
           FROM seedctl.ledger
          WHERE symbol = ANY($1)
          ORDER BY symbol, start_ts",
    )
    .bind(&names)
    .fetch_all(pool)
    .await
    .map_err(query_error)?;
    let entries = rows
        .into_iter()
        .map(LedgerRow::parse)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Ledger::from_entries(entries))
}

/// Counts bars per symbol and New York date within each probe's range. Empty
/// when the bars table does not exist yet.
pub async fn count_presence(
    pool: &PgPool,
    target: &Target,
    probes: &[PresenceProbe],
) -> Result<Presence, DbError> {
    let query_error = target.query_error("counting bars present");
    if probes.is_empty()
        || !relation_exists(pool, BARS_TABLE)
            .await
            .map_err(query_error)?
    {
        return Ok(Presence::default());
    }
    let symbols: Vec<&str> = probes.iter().map(|p| p.symbol.as_str()).collect();
    let starts: Vec<DateTime<Utc>> = probes.iter().map(|p| p.start).collect();
    let ends: Vec<DateTime<Utc>> = probes.iter().map(|p| p.end).collect();
    let rows: Vec<(String, NaiveDate, i64)> = sqlx::query_as(
        "SELECT m.symbol::text, (m.ts AT TIME ZONE 'America/New_York')::date, count(*)
           FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS p(symbol, s, e)
           JOIN public.market_data_1m m ON m.symbol = p.symbol AND m.ts >= p.s AND m.ts < p.e
          GROUP BY 1, 2",
    )
    .bind(&symbols)
    .bind(&starts)
    .bind(&ends)
    .fetch_all(pool)
    .await
    .map_err(query_error)?;
    let counts = rows.into_iter().filter_map(|(symbol, date, n)| {
        // Rows whose symbol does not parse cannot match a probe; skip them.
        Some(((symbol.parse::<Symbol>().ok()?, date), n))
    });
    Ok(Presence::from_counts(counts))
}
