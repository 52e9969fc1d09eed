//! The write path against a real Postgres, for the case no end-to-end run
//! can stage on purpose: another writer adding rows to minutes that a first
//! seed is loading with COPY.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::TestDb;
use seedctl::db::{self, BarRow, FetchedPiece, Target, WindowWrite};
use seedctl::domain::{Adjustment, Feed, Symbol};
use sqlx::{Connection, PgConnection};

fn bars(start: DateTime<Utc>, minutes: i64) -> Vec<BarRow> {
    (0..minutes)
        .map(|m| BarRow {
            ts: start + Duration::minutes(m),
            open: 10.0,
            high: 11.0,
            low: 9.0,
            close: 10.5,
            volume: 100 + m,
            trade_count: 3,
            vwap: 10.2,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_that_meets_another_writer_falls_back_to_the_upsert() {
    let db = TestDb::new().await;
    let target = Target::resolve(Some(&db.url)).unwrap();
    let pool = target.connect().await.unwrap();
    db::migrate(&pool, &target).await.unwrap();
    let run_id: i64 = sqlx::query_scalar(
        "INSERT INTO seedctl.runs (command, seedctl_version, calendar_version)
         VALUES ('test', 'test', 'test') RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();

    let start: DateTime<Utc> = "2026-11-30T14:30:00Z".parse().unwrap();
    let rows = bars(start, 390);
    let symbol: Symbol = "SPY".parse().unwrap();

    // Another writer holds an uncommitted row inside the window: the check
    // for existing rows cannot see it, and the COPY will wait on it.
    let mut other = PgConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql(
        "BEGIN;
         INSERT INTO public.market_data_1m (ts, symbol, open, high, low, close, volume)
         VALUES ('2026-11-30T15:00:00Z', 'SPY', 1, 1, 1, 1, 1);",
    )
    .execute(&mut other)
    .await
    .unwrap();

    let writer = {
        let pool = pool.clone();
        let symbol = symbol.clone();
        let rows = rows.clone();
        tokio::spawn(async move {
            let piece = FetchedPiece {
                session_date: "2026-11-30".parse().unwrap(),
                start,
                end: start + Duration::minutes(390),
            };
            let write = WindowWrite {
                symbol: &symbol,
                feed: Feed::Iex,
                adjustment: Adjustment::RAW,
                bars: &rows,
                pieces: &[piece],
                run_id,
            };
            db::write_window(&pool, &write).await
        })
    };

    // Let the other writer commit once the COPY waits on its row.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock'
                AND query LIKE 'COPY public.market_data_1m%'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(
            std::time::Instant::now() < deadline,
            "the COPY never waited on the other row"
        );
        if waiting > 0 {
            break;
        }
        tokio::task::yield_now().await;
    }
    sqlx::raw_sql("COMMIT").execute(&mut other).await.unwrap();

    let written = writer
        .await
        .unwrap()
        .expect("the window is written after all");
    assert_eq!(
        written.upserted, 390,
        "every bar, the other writer's row overwritten"
    );
    let (count, volume): (i64, i64) = sqlx::query_as(
        "SELECT count(*), sum(volume)::int8 FROM public.market_data_1m WHERE symbol = 'SPY'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(count, 390);
    assert_eq!(volume, rows.iter().map(|b| b.volume).sum::<i64>());
    let recorded: i32 = sqlx::query_scalar("SELECT bars FROM seedctl.ledger WHERE symbol = 'SPY'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(recorded, 390);
}
