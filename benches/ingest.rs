//! How fast apply writes bars, as a ratio to binary `COPY` into an empty
//! table of the same shape (the practical ceiling).
//!
//! One million bars (100 symbols x 10,000 minutes) are written three ways
//! into a throwaway cluster with durable settings:
//! - binary `COPY` into an empty copy of the bars table;
//! - apply's write path (`db::write_window`: upsert, removal of vanished
//!   rows and the ledger, one transaction per symbol-window of about ten
//!   sessions) into the empty bars table;
//! - the same again, with every row already there and unchanged.
//!
//! Run with `cargo bench --bench ingest`; the figures are written down in the
//! README. Each figure is the median of three runs.

use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use seedctl::db::{self, BarRow, FetchedPiece, Target, WindowWrite};
use seedctl::domain::{Adjustment, Feed, Symbol};
use seedctl::throwaway::{Options, ThrowawayPostgres};
use sqlx::PgPool;

const SYMBOLS: usize = 100;
const MINUTES: usize = 10_000;
const RUNS: usize = 3;

fn bars(symbol: usize) -> Vec<BarRow> {
    let start = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
    (0..MINUTES)
        .map(|m| {
            let price = 100.0 + symbol as f64 + (m % 97) as f64 / 100.0;
            BarRow {
                ts: start + Duration::minutes(m as i64),
                open: price,
                high: price + 0.5,
                low: price - 0.5,
                close: price + 0.1,
                volume: 1_000 + m as i64,
                trade_count: 10 + (m % 7) as i64,
                vwap: price + 0.05,
            }
        })
        .collect()
}

fn symbol(i: usize) -> Symbol {
    format!("S{i:03}").parse().expect("a valid ticker")
}

/// PostgreSQL's binary COPY format for the bars table's columns.
fn binary_copy(data: &[(Symbol, Vec<BarRow>)]) -> Vec<u8> {
    let epoch = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
    let micros = |t: DateTime<Utc>| (t - epoch).num_microseconds().expect("in range");
    let mut out = b"PGCOPY\n\xff\r\n\0".to_vec();
    out.extend_from_slice(&0i32.to_be_bytes());
    out.extend_from_slice(&0i32.to_be_bytes());
    for (symbol, rows) in data {
        for b in rows {
            out.extend_from_slice(&9i16.to_be_bytes());
            let mut field = |bytes: &[u8]| {
                out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                out.extend_from_slice(bytes);
            };
            field(&micros(b.ts).to_be_bytes());
            field(symbol.as_str().as_bytes());
            for x in [b.open, b.high, b.low, b.close] {
                field(&x.to_be_bytes());
            }
            field(&b.volume.to_be_bytes());
            field(&b.trade_count.to_be_bytes());
            field(&b.vwap.to_be_bytes());
        }
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    out
}

async fn copy_into_empty(pool: &PgPool, payload: &[u8]) -> f64 {
    sqlx::raw_sql(
        "DROP TABLE IF EXISTS copy_target;
         CREATE TABLE copy_target (LIKE public.market_data_1m INCLUDING ALL);",
    )
    .execute(pool)
    .await
    .unwrap();
    let started = Instant::now();
    let mut conn = pool.acquire().await.unwrap();
    let mut copy = conn
        .copy_in_raw("COPY copy_target (ts, symbol, open, high, low, close, volume, trade_count, vwap) FROM STDIN (FORMAT binary)")
        .await
        .unwrap();
    copy.send(payload).await.unwrap();
    copy.finish().await.unwrap();
    started.elapsed().as_secs_f64()
}

async fn write_all(pool: &PgPool, data: &[(Symbol, Vec<BarRow>)], run_id: i64) -> f64 {
    let started = Instant::now();
    for (symbol, rows) in data {
        // One piece per 960 minutes, as an extended session would give.
        let pieces: Vec<FetchedPiece> = rows
            .chunks(960)
            .map(|day| FetchedPiece {
                session_date: day[0].ts.date_naive(),
                start: day[0].ts,
                end: day[day.len() - 1].ts + Duration::minutes(1),
            })
            .collect();
        let write = WindowWrite {
            symbol,
            feed: Feed::Iex,
            adjustment: Adjustment::RAW,
            bars: rows,
            pieces: &pieces,
            run_id,
        };
        db::write_window(pool, &write).await.unwrap();
    }
    started.elapsed().as_secs_f64()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

#[tokio::main]
async fn main() {
    let cluster = tokio::task::spawn_blocking(|| {
        ThrowawayPostgres::start(&Options {
            durable: true,
            ..Options::default()
        })
    })
    .await
    .unwrap()
    .expect("a throwaway Postgres starts");
    let target = Target::resolve(Some(&cluster.url("postgres"))).unwrap();
    let pool = target.connect().await.unwrap();
    db::migrate(&pool, &target).await.unwrap();
    let run_id: i64 = sqlx::query_scalar(
        "INSERT INTO seedctl.runs (command, seedctl_version, calendar_version)
         VALUES ('bench', 'bench', 'bench') RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();

    let data: Vec<(Symbol, Vec<BarRow>)> = (0..SYMBOLS).map(|i| (symbol(i), bars(i))).collect();
    let rows = (SYMBOLS * MINUTES) as f64;
    let payload = binary_copy(&data);

    let (mut copy, mut fresh, mut again) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        copy.push(copy_into_empty(&pool, &payload).await);
        sqlx::raw_sql("TRUNCATE public.market_data_1m; TRUNCATE seedctl.ledger;")
            .execute(&pool)
            .await
            .unwrap();
        fresh.push(write_all(&pool, &data, run_id).await);
        again.push(write_all(&pool, &data, run_id).await);
    }
    let (copy, fresh, again) = (median(copy), median(fresh), median(again));
    let line = |label: &str, seconds: f64| {
        println!(
            "{label:<44} {:>8.0} rows/s  {:>5.2} of COPY",
            rows / seconds,
            copy / seconds
        );
    };
    println!("{} rows, median of {RUNS} runs", rows as u64);
    line("binary COPY into an empty table", copy);
    line("apply's write, empty table", fresh);
    line("apply's write, every row already there", again);

    pool.close().await;
    tokio::task::spawn_blocking(move || cluster.stop())
        .await
        .unwrap();
}
