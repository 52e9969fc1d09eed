//! What `seedctl status` costs on a table of about 10 million bars, with and
//! without the drift check, next to a bare `SELECT count(*)` over the same
//! rows; and what the drift query alone (the fact `plan --refresh` adds)
//! costs for the whole table and for the last 30 sessions.
//!
//! The table is 40 symbols × 261 extended sessions × 960 minutes, a bar in
//! every minute, written by one `INSERT ... SELECT generate_series` into a
//! throwaway cluster with fsync on, then vacuumed and analyzed as autovacuum
//! would leave it. Each figure is the median of five runs, after one warm-up.
//!
//! Run with `cargo bench --bench status` (needs the PostgreSQL server
//! binaries); the figures are written down in the README. Not part of
//! `cargo test`.

use std::time::{Duration, Instant};

use chrono::Utc;
use seedctl::calendar::Calendar;
use seedctl::db::{self, Target};
use seedctl::domain::{Adjustment, Feed, SessionKind, Symbol};
use seedctl::plan::{AsOf, Draft, Settings};
use seedctl::spec::{Origin, Span, Spec, Target as SpecTarget};
use seedctl::status::{self, Options};
use seedctl::throwaway::{Options as ClusterOptions, ThrowawayPostgres};
use sqlx::{Executor, PgPool};

const SYMBOLS: usize = 40;
const SESSIONS: u32 = 261;
const AS_OF: &str = "2026-12-02";
const RUNS: usize = 5;

/// `AA`, `AB`, ... as the SQL below names them.
fn symbol(i: usize) -> Symbol {
    let name = format!(
        "{}{}",
        (b'A' + (i / 26) as u8) as char,
        (b'A' + (i % 26) as u8) as char
    );
    name.parse().expect("two letters make a ticker")
}

fn spec(days: u32) -> Spec {
    let targets = (0..SYMBOLS)
        .map(|i| SpecTarget {
            symbol: symbol(i),
            feed: Feed::Iex,
            adjustment: Adjustment::RAW,
            session: SessionKind::Extended,
            span: Span::TradingDays(days),
            include_current: false,
            origin: Origin {
                source: "bench.yaml".into(),
                line: 1,
                column: 1,
            },
        })
        .collect();
    Spec { targets }
}

fn as_of() -> AsOf {
    AsOf::parse(Some(AS_OF), Utc::now()).expect("a date")
}

/// Fills the bars table and a ledger that matches it, one entry per
/// symbol-session, and records one successful run.
async fn fill(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let sessions = Calendar::nyse()
        .last_closed(as_of().instant, SESSIONS as usize, SessionKind::Extended)
        .expect("in range");
    let starts: Vec<_> = sessions
        .iter()
        .map(|s| s.bounds(SessionKind::Extended).0)
        .collect();
    let dates: Vec<_> = sessions.iter().map(|s| s.date).collect();

    let inserted = sqlx::query(
        "INSERT INTO public.market_data_1m
                (ts, symbol, open, high, low, close, volume, trade_count, vwap)
         SELECT s.start_ts + m.i * interval '1 minute', chr(65 + g.i / 26) || chr(65 + g.i % 26),
                100 + m.i % 7, 101 + m.i % 7, 99 + m.i % 7, 100.5 + m.i % 7, 1000 + m.i, 10,
                100.2 + m.i % 7
           FROM generate_series(0, $2 - 1) AS g(i)
          CROSS JOIN unnest($1::timestamptz[]) AS s(start_ts)
          CROSS JOIN generate_series(0, 959) AS m(i)",
    )
    .bind(&starts)
    .bind(SYMBOLS as i32)
    .execute(pool)
    .await?
    .rows_affected();

    let run: i64 = sqlx::query_scalar(
        "INSERT INTO seedctl.runs (command, finished_at, outcome, seedctl_version, calendar_version)
         VALUES ('apply', now(), 'succeeded', 'bench', 'bench') RETURNING id",
    )
    .fetch_one(pool)
    .await?;
    sqlx::query(
        "INSERT INTO seedctl.ledger
                (symbol, start_ts, end_ts, session_date, feed, adjustment, bars, run_id)
         SELECT chr(65 + g.i / 26) || chr(65 + g.i % 26), s.start_ts,
                s.start_ts + interval '960 minutes', s.day, 'iex', 'raw', 960, $4
           FROM generate_series(0, $3 - 1) AS g(i)
          CROSS JOIN unnest($1::timestamptz[], $2::date[]) AS s(start_ts, day)",
    )
    .bind(&starts)
    .bind(&dates)
    .bind(SYMBOLS as i32)
    .bind(run)
    .execute(pool)
    .await?;
    pool.execute("VACUUM ANALYZE public.market_data_1m").await?;
    pool.execute("VACUUM ANALYZE seedctl.ledger").await?;
    Ok(inserted)
}

/// The median of [`RUNS`] timed runs, after one untimed warm-up.
async fn median<F, Fut>(mut run: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    run().await;
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        run().await;
        times.push(started.elapsed());
    }
    times.sort();
    times[RUNS / 2]
}

fn line(label: &str, took: Duration) {
    println!("{label:<58} {:>9.1} ms", took.as_secs_f64() * 1000.0);
}

async fn report(pool: &PgPool, target: &Target, days: u32, check_drift: bool) {
    let options = Options {
        check_drift,
        ..Options::default()
    };
    let report = status::gather(pool, target, &spec(days), as_of(), &options)
        .await
        .expect("the report is gathered");
    assert!(
        report.is_ready(),
        "the bench table is complete and consistent"
    );
}

async fn drift_only(pool: &PgPool, target: &Target, days: u32) {
    let ledger = db::load_ledger(pool, target, &symbols())
        .await
        .expect("the ledger");
    let draft = Draft::new(
        &spec(days),
        Calendar::nyse(),
        as_of(),
        &ledger,
        Settings::default(),
    )
    .expect("plannable");
    let drift = db::find_drift(pool, target, &draft.drift_probes())
        .await
        .expect("the drift query");
    assert!(drift.is_empty());
}

fn symbols() -> Vec<Symbol> {
    (0..SYMBOLS).map(symbol).collect()
}

async fn measure(pool: &PgPool, target: &Target) {
    let count = median(|| async {
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM public.market_data_1m")
            .fetch_one(pool)
            .await
            .expect("count");
        assert!(rows > 0);
    });
    line("SELECT count(*) over the whole table", count.await);
    for days in [SESSIONS, 30] {
        let scope = format!("{} symbols x {days} sessions", SYMBOLS);
        let without = median(|| report(pool, target, days, false)).await;
        line(&format!("status, {scope}, --skip-drift"), without);
        let with = median(|| report(pool, target, days, true)).await;
        line(&format!("status, {scope}, with drift"), with);
        let drift = median(|| drift_only(pool, target, days)).await;
        line(
            &format!("drift query alone (plan --refresh), {scope}"),
            drift,
        );
    }
}

fn main() {
    let cluster = ThrowawayPostgres::start(&ClusterOptions {
        durable: true,
        ..ClusterOptions::default()
    })
    .expect("a throwaway Postgres starts");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let admin = PgPool::connect(&cluster.url("postgres"))
            .await
            .expect("connect");
        admin
            .execute("CREATE DATABASE status_bench")
            .await
            .expect("create database");
        admin.close().await;

        let target = Target::resolve(Some(&cluster.url("status_bench"))).expect("a URL");
        let pool = target.connect().await.expect("connect");
        db::migrate(&pool, &target).await.expect("migrate");
        let started = Instant::now();
        let rows = fill(&pool).await.expect("fill the table");
        println!(
            "{rows} rows and {} ledger entries written and vacuumed in {:.0} s\n",
            SYMBOLS as u32 * SESSIONS,
            started.elapsed().as_secs_f64()
        );
        measure(&pool, &target).await;
        pool.close().await;
    });
    cluster.stop();
}
