//! `seedctl status` end to end, and `seedctl plan --refresh`: the real binary
//! against a real Postgres, with the ledger, the runs and the bars table set
//! up as `seedctl apply` leaves them (bars from the simulator's data). The
//! reports are snapshotted as an operator would read them.

mod common;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::{TestDb, seedctl, stderr, stdout};
use seedctl::calendar::Calendar;
use seedctl::domain::{Adjustment, Feed, SessionKind, Symbol};
use seedctl::sim::{SimClock, SimConfig, Simulator, bar_at};

const AS_OF: &str = "2026-12-02";
const PLAN: &str = "plans/paper-seed.yaml";
const SYMBOLS: [&str; 3] = ["SPY", "QQQ", "AAPL"];

fn status(db: &TestDb, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["status", "--as-of", AS_OF, PLAN];
    args.extend_from_slice(extra);
    seedctl(&args, &[("DATABASE_URL", &db.url)])
}

fn plan(db: &TestDb, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["plan", "--as-of", AS_OF, "--detailed-exitcode", PLAN];
    args.extend_from_slice(extra);
    seedctl(&args, &[("DATABASE_URL", &db.url)])
}

async fn migrated() -> TestDb {
    let db = TestDb::new().await;
    let out = seedctl(&["migrate"], &[("DATABASE_URL", &db.url)]);
    assert!(out.status.success(), "migrate: {}", stderr(&out));
    db
}

/// The database line holds the throwaway server's user, port and database.
fn redacted(text: &str) -> String {
    let mut lines = Vec::new();
    for line in text.lines() {
        match line.strip_prefix("database ") {
            Some(_) => lines.push("database [target]".to_string()),
            None => lines.push(line.to_string()),
        }
    }
    lines.join("\n") + "\n"
}

fn redacted_json(json: &str) -> String {
    let mut value: serde_json::Value = serde_json::from_str(json).expect("the report is JSON");
    value["target"] = "[target]".into();
    value["seedctl_version"] = "[version]".into();
    serde_json::to_string_pretty(&value).unwrap()
}

/// Writes what a successful apply leaves for whole extended sessions: the
/// simulator's IEX bars in the table and one ledger entry per session that
/// counts them, attributed to `run_id`.
async fn seed(db: &TestDb, symbol: &str, from: &str, to: &str, run_id: i64) {
    let pool = db.pool().await;
    let symbol: Symbol = symbol.parse().unwrap();
    let (from, to): (NaiveDate, NaiveDate) = (from.parse().unwrap(), to.parse().unwrap());
    for session in Calendar::nyse().sessions(from, to).unwrap() {
        let (start, end) = session.bounds(SessionKind::Extended);
        let mut minute = start;
        let mut bars = Vec::new();
        while minute < end {
            bars.extend(bar_at(&symbol, minute, Feed::Iex, Adjustment::RAW));
            minute += Duration::minutes(1);
        }
        let column =
            |f: fn(&seedctl::alpaca::wire::Bar) -> f64| bars.iter().map(f).collect::<Vec<_>>();
        sqlx::query(
            "INSERT INTO public.market_data_1m
                    (ts, symbol, open, high, low, close, volume, trade_count, vwap)
             SELECT t, $2, o, h, l, c, v, n, vw
               FROM unnest($1::timestamptz[], $3::float8[], $4::float8[], $5::float8[],
                           $6::float8[], $7::int8[], $8::int8[], $9::float8[])
                    AS b(t, o, h, l, c, v, n, vw)",
        )
        .bind(bars.iter().map(|b| b.t).collect::<Vec<_>>())
        .bind(symbol.as_str())
        .bind(column(|b| b.o))
        .bind(column(|b| b.h))
        .bind(column(|b| b.l))
        .bind(column(|b| b.c))
        .bind(bars.iter().map(|b| b.v as i64).collect::<Vec<_>>())
        .bind(bars.iter().map(|b| b.n as i64).collect::<Vec<_>>())
        .bind(column(|b| b.vw))
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO seedctl.ledger
                    (symbol, start_ts, end_ts, session_date, feed, adjustment, bars, run_id)
             VALUES ($1, $2, $3, $4, 'iex', 'raw', $5, $6)",
        )
        .bind(symbol.as_str())
        .bind(start)
        .bind(end)
        .bind(session.date)
        .bind(bars.len() as i32)
        .bind(run_id)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;
}

/// A finished run as the runs table holds it.
struct RunRow<'a> {
    started: &'a str,
    seconds: i64,
    outcome: &'a str,
    windows: i64,
    bars: i64,
    error: Option<&'a str>,
}

/// Records a finished run of three planned windows, with fixed times.
async fn record_run(db: &TestDb, run: RunRow<'_>) -> i64 {
    let pool = db.pool().await;
    let started: DateTime<Utc> = run.started.parse().unwrap();
    let id = sqlx::query_scalar(
        "INSERT INTO seedctl.runs (command, started_at, finished_at, outcome, seedctl_version,
                                   calendar_version, planned_windows, windows, requests, bars,
                                   retries, error)
         VALUES ('apply', $1, $2, $3, '0.1.0', 'xnys-2000-2035.1', 3, $4, $4 * 3, $5, 1, $6)
         RETURNING id",
    )
    .bind(started)
    .bind(started + Duration::seconds(run.seconds))
    .bind(run.outcome)
    .bind(run.windows)
    .bind(run.bars)
    .bind(run.error)
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    id
}

fn succeeded(started: &str) -> RunRow<'_> {
    RunRow {
        started,
        seconds: 252,
        outcome: "succeeded",
        windows: 3,
        bars: 29_871,
        error: None,
    }
}

/// Two runs, the newer one a success, that seeded all 30 sessions.
async fn seeded() -> TestDb {
    let db = migrated().await;
    let failed = RunRow {
        started: "2026-12-01T22:00:00Z",
        seconds: 12,
        outcome: "failed",
        windows: 0,
        bars: 0,
        error: Some("the data API answered 500 three times for SPY,QQQ,AAPL"),
    };
    record_run(&db, failed).await;
    let run = record_run(&db, succeeded("2026-12-02T22:10:00Z")).await;
    for symbol in SYMBOLS {
        seed(&db, symbol, "2026-10-21", "2026-12-02", run).await;
    }
    db
}

/// Deletes SPY's first three regular minutes of 2026-11-25, and adds a bar to
/// QQQ in a minute of 2026-11-30 that had none.
async fn drift(db: &TestDb) {
    db.execute(
        "DELETE FROM public.market_data_1m
          WHERE symbol = 'SPY' AND ts >= '2026-11-25T14:30:00Z' AND ts < '2026-11-25T14:33:00Z'",
    )
    .await;
    let qqq: Symbol = "QQQ".parse().unwrap();
    let mut minute: DateTime<Utc> = "2026-11-30T09:00:00Z".parse().unwrap();
    while bar_at(&qqq, minute, Feed::Iex, Adjustment::RAW).is_some() {
        minute += Duration::minutes(1);
    }
    db.execute(&format!(
        "INSERT INTO public.market_data_1m (ts, symbol, open, high, low, close, volume)
         VALUES ('{}', 'QQQ', 1, 1, 1, 1, 1)",
        minute.to_rfc3339()
    ))
    .await;
}

#[tokio::test]
async fn a_fully_seeded_table_is_ready_and_exits_0() {
    let db = seeded().await;
    let out = status(&db, &[]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    insta::assert_snapshot!("ready", redacted(&stdout(&out)));

    let again = status(&db, &[]);
    assert_eq!(
        out.stdout, again.stdout,
        "the same facts print the same bytes"
    );
}

#[tokio::test]
async fn a_partly_covered_table_is_not_ready_and_names_the_gaps() {
    let db = migrated().await;
    let run = record_run(&db, succeeded("2026-11-20T22:10:00Z")).await;
    for symbol in SYMBOLS {
        seed(&db, symbol, "2026-10-21", "2026-11-20", run).await;
    }
    seed(&db, "SPY", "2026-11-23", "2026-12-02", run).await;
    let out = status(&db, &[]);
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    insta::assert_snapshot!("partly_covered", redacted(&stdout(&out)));
}

#[tokio::test]
async fn drift_makes_the_table_not_ready_and_refresh_plans_it_again() {
    let db = seeded().await;
    drift(&db).await;

    let out = status(&db, &[]);
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    insta::assert_snapshot!("drifted", redacted(&stdout(&out)));
    let json = status(&db, &["--format", "json"]);
    assert_eq!(json.status.code(), Some(3));
    insta::assert_snapshot!("drifted_json", redacted_json(&stdout(&json)));

    let skipped = status(&db, &["--skip-drift"]);
    assert_eq!(
        skipped.status.code(),
        Some(0),
        "without the check, nothing drifted"
    );
    assert!(stdout(&skipped).contains("drift not checked"));

    let plain = plan(&db, &[]);
    assert_eq!(
        plain.status.code(),
        Some(0),
        "a plan from the ledger alone sees no drift"
    );
    let refreshed = plan(&db, &["--refresh"]);
    assert_eq!(
        refreshed.status.code(),
        Some(2),
        "stderr: {}",
        stderr(&refreshed)
    );
    insta::assert_snapshot!("plan_refresh", stdout(&refreshed));
}

#[tokio::test]
async fn a_never_seeded_database_is_not_ready_and_stays_untouched() {
    let db = TestDb::new().await;
    let out = status(&db, &[]);
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    insta::assert_snapshot!("never_seeded", redacted(&stdout(&out)));

    let pool = db.pool().await;
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(tables, 0, "status created nothing");
}

#[tokio::test]
async fn a_run_still_going_keeps_the_table_not_ready() {
    let db = seeded().await;
    db.execute(
        "INSERT INTO seedctl.runs (command, started_at, outcome, seedctl_version, calendar_version)
         VALUES ('apply', '2026-12-02T23:00:00Z', 'running', '0.1.0', 'xnys-2000-2035.1')",
    )
    .await;
    let out = status(&db, &[]);
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("NOT READY:\n  - the last run, #3 (apply, started 2026-12-02 18:00 ET), is still running\n"),
        "{text}"
    );
}

#[tokio::test]
async fn a_table_that_does_not_fit_is_an_error() {
    let db = TestDb::new().await;
    db.execute("CREATE TABLE public.market_data_1m (ts timestamp NOT NULL, symbol text NOT NULL)")
        .await;
    let out = status(&db, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty(), "no report on stdout when it fails");
    assert!(stderr(&out).contains("does not fit"), "{}", stderr(&out));
}

const LAST_FIVE: &str = "tests/fixtures/plans/last-five-days.yaml";

/// Runs `seedctl verify` against a simulator whose clock is past the
/// coverage, with keys in the environment.
fn verify(db: &TestDb, sim: &Simulator, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["verify", "--as-of", AS_OF, LAST_FIVE];
    args.extend_from_slice(extra);
    let url = sim.url();
    seedctl(
        &args,
        &[
            ("DATABASE_URL", &db.url),
            ("TRADING_MODE", "paper"),
            ("AGENT_MODE", "OFF"),
            ("APCA_API_BASE_URL", &url),
            ("APCA_API_DATA_URL", &url),
            ("APCA_API_KEY_ID", "TESTKEYID"),
            ("APCA_API_SECRET_KEY", "test-secret"),
        ],
    )
}

async fn simulator() -> Simulator {
    let clock = SimClock::Fixed("2026-12-03T12:00:00Z".parse().unwrap());
    Simulator::start(SimConfig::default().clock(clock))
        .await
        .expect("the simulator starts")
}

async fn ledger_sessions(db: &TestDb, symbol: &str) -> Vec<NaiveDate> {
    let pool = db.pool().await;
    let dates = sqlx::query_scalar(
        "SELECT session_date FROM seedctl.ledger
          WHERE symbol = $1 AND session_date >= '2026-11-25' ORDER BY session_date",
    )
    .bind(symbol)
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    dates
}

// The simulator serves from this process while the binary runs: a runtime
// with worker threads keeps it answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_finds_changed_bars_and_hands_their_windows_back_to_the_plan() {
    let (db, sim) = (seeded().await, simulator().await);
    db.execute(
        "UPDATE public.market_data_1m SET close = close + 0.5
          WHERE symbol = 'SPY' AND ts = (SELECT min(ts) FROM public.market_data_1m
                                          WHERE symbol = 'SPY' AND ts >= '2026-11-25T14:30:00Z');
         UPDATE public.market_data_1m SET trade_count = NULL, vwap = vwap * 1.01
          WHERE symbol = 'AAPL' AND ts = (SELECT min(ts) FROM public.market_data_1m
                                           WHERE symbol = 'AAPL' AND ts >= '2026-12-01T15:00:00Z');
         DELETE FROM public.market_data_1m
          WHERE symbol = 'QQQ' AND ts = (SELECT max(ts) FROM public.market_data_1m
                                          WHERE symbol = 'QQQ' AND ts < '2026-11-30T21:00:00Z');",
    )
    .await;

    let out = verify(&db, &sim, &["--sample", "15", "--seed", "7"]);
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    insta::assert_snapshot!("verify_differences", stdout(&out));

    let five = [
        "2026-11-25",
        "2026-11-27",
        "2026-11-30",
        "2026-12-01",
        "2026-12-02",
    ];
    let dates = |except: &str| -> Vec<NaiveDate> {
        five.iter()
            .filter(|d| **d != except)
            .map(|d| d.parse().unwrap())
            .collect()
    };
    assert_eq!(ledger_sessions(&db, "SPY").await, dates("2026-11-25"));
    assert_eq!(ledger_sessions(&db, "QQQ").await, dates("2026-11-30"));
    assert_eq!(ledger_sessions(&db, "AAPL").await, dates("2026-12-01"));

    let args = ["plan", "--as-of", AS_OF, "--detailed-exitcode", LAST_FIVE];
    let plan = seedctl(&args, &[("DATABASE_URL", &db.url)]);
    assert_eq!(plan.status.code(), Some(2), "stderr: {}", stderr(&plan));
    insta::assert_snapshot!("plan_after_verify", stdout(&plan));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_draws_the_same_sample_from_the_same_seed_within_the_budget() {
    let (db, sim) = (seeded().await, simulator().await);
    let first = verify(&db, &sim, &["--sample", "4", "--seed", "11"]);
    assert_eq!(first.status.code(), Some(0), "stderr: {}", stderr(&first));
    let again = verify(&db, &sim, &["--sample", "4", "--seed", "11"]);
    assert_eq!(
        first.stdout, again.stdout,
        "the same seed, the same windows"
    );
    let text = stdout(&first);
    assert!(
        text.contains("sampled 4 of 15 recorded windows with --seed 11"),
        "{text}"
    );
    assert!(text.contains("Verified 4 windows"), "{text}");

    let other = verify(&db, &sim, &["--sample", "4", "--seed", "12"]);
    assert_ne!(first.stdout, other.stdout, "another seed, other windows");

    let capped = verify(
        &db,
        &sim,
        &["--sample", "15", "--seed", "11", "--max-requests", "2"],
    );
    assert_eq!(capped.status.code(), Some(0), "stderr: {}", stderr(&capped));
    let text = stdout(&capped);
    assert!(
        text.contains("left out to stay within --max-requests"),
        "{text}"
    );
    assert!(text.contains("; 2 requests"), "{text}");
    sim.shutdown().await;
}

#[tokio::test]
async fn verify_without_keys_fails_the_preflight_before_fetching() {
    let db = seeded().await;
    let out = seedctl(
        &["verify", "--as-of", AS_OF, LAST_FIVE],
        &[
            ("DATABASE_URL", &db.url),
            ("TRADING_MODE", "paper"),
            ("AGENT_MODE", "OFF"),
            ("APCA_API_BASE_URL", "http://127.0.0.1:9"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("PREFLIGHT_FAILED: APCA_API_KEY_ID, APCA_API_SECRET_KEY"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}
