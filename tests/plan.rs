//! `seedctl plan` end to end: the real binary against a real Postgres, with
//! the ledger and the bars table set up as each case needs. The plans are
//! snapshotted as a reviewer would see them.

mod common;

use chrono::{DateTime, NaiveDate, Utc};
use common::{TestDb, seedctl, stderr, stdout};
use seedctl::calendar::Calendar;
use seedctl::domain::SessionKind;

const AS_OF: &str = "2026-12-02";

fn plan(db: &TestDb, paths: &[&str], extra: &[&str]) -> std::process::Output {
    let mut args = vec!["plan", "--as-of", AS_OF, "--detailed-exitcode"];
    args.extend_from_slice(paths);
    args.extend_from_slice(extra);
    seedctl(&args, &[("DATABASE_URL", &db.url)])
}

async fn migrated() -> TestDb {
    let db = TestDb::new().await;
    let out = seedctl(&["migrate"], &[("DATABASE_URL", &db.url)]);
    assert!(out.status.success(), "migrate: {}", stderr(&out));
    db
}

/// Records whole sessions in the ledger, as apply does after fetching them.
async fn record(db: &TestDb, symbol: &str, feed: &str, from: &str, to: &str, bars_each: i32) {
    let pool = db.pool().await;
    let from: NaiveDate = from.parse().unwrap();
    let to: NaiveDate = to.parse().unwrap();
    for s in Calendar::nyse().sessions(from, to).unwrap() {
        let (start, end) = s.bounds(SessionKind::Extended);
        sqlx::query(
            "INSERT INTO seedctl.ledger (symbol, start_ts, end_ts, session_date, feed, adjustment, bars)
             VALUES ($1, $2, $3, $4, $5, 'raw', $6)",
        )
        .bind(symbol)
        .bind(start)
        .bind(end)
        .bind(s.date)
        .bind(feed)
        .bind(bars_each)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;
}

/// Writes bars as an older loader would: into the table, not the ledger.
async fn write_bars(db: &TestDb, symbol: &str, minutes: &[&str]) {
    let pool = db.pool().await;
    for minute in minutes {
        let ts: DateTime<Utc> = minute.parse().unwrap();
        sqlx::query(
            "INSERT INTO public.market_data_1m (ts, symbol, open, high, low, close, volume, trade_count, vwap)
             VALUES ($1, $2, 100, 101, 99, 100.5, 1000, 10, 100.2)",
        )
        .bind(ts)
        .bind(symbol)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;
}

/// The target line holds the throwaway server's port, which differs by run.
fn redact_json(json: &str) -> String {
    let mut value: serde_json::Value = serde_json::from_str(json).expect("the plan is JSON");
    value["target"] = "[target]".into();
    value["seedctl_version"] = "[version]".into();
    serde_json::to_string_pretty(&value).unwrap()
}

/// Snapshots a case's plan as text and as JSON, and returns the text run's
/// output for further checks.
fn snapshot_both(db: &TestDb, name: &str, paths: &[&str]) -> std::process::Output {
    let text = plan(db, paths, &[]);
    insta::assert_snapshot!(name, stdout(&text));
    let json = plan(db, paths, &["--format", "json"]);
    assert_eq!(json.status.code(), text.status.code());
    insta::assert_snapshot!(format!("{name}_json"), redact_json(&stdout(&json)));
    text
}

#[tokio::test]
async fn an_empty_database_plans_the_whole_span_and_exits_2() {
    let db = TestDb::new().await;
    let first = plan(&db, &["plans/paper-seed.yaml"], &[]);
    assert_eq!(first.status.code(), Some(2), "stderr: {}", stderr(&first));
    insta::assert_snapshot!("empty_database", stdout(&first));

    let second = plan(&db, &["plans/paper-seed.yaml"], &[]);
    assert_eq!(
        first.stdout, second.stdout,
        "the same facts print the same bytes"
    );

    let json = plan(&db, &["plans/paper-seed.yaml"], &["--format", "json"]);
    insta::assert_snapshot!("empty_database_json", redact_json(&stdout(&json)));
}

#[tokio::test]
async fn a_plan_saved_with_out_is_the_json_plan() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("plan.json");
    let out = plan(
        &db,
        &["plans/paper-seed.yaml"],
        &["-o", saved.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    let json = plan(&db, &["plans/paper-seed.yaml"], &["--format", "json"]);
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), stdout(&json));
}

#[tokio::test]
async fn a_partly_covered_ledger_plans_only_the_rest() {
    let db = migrated().await;
    for symbol in ["SPY", "QQQ", "AAPL"] {
        record(&db, symbol, "iex", "2026-10-21", "2026-11-20", 400).await;
    }
    record(&db, "SPY", "iex", "2026-11-23", "2026-12-02", 400).await;
    let out = snapshot_both(&db, "partly_covered", &["plans/paper-seed.yaml"]);
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
}

#[tokio::test]
async fn a_feed_change_fetches_again() {
    let db = migrated().await;
    for symbol in ["SPY", "QQQ", "AAPL"] {
        record(&db, symbol, "sip", "2026-10-21", "2026-12-02", 900).await;
    }
    let out = snapshot_both(&db, "feed_change", &["plans/paper-seed.yaml"]);
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
}

#[tokio::test]
async fn holidays_early_closes_and_daylight_saving_shape_the_windows() {
    let db = TestDb::new().await;
    let out = snapshot_both(
        &db,
        "holiday_early_close_dst",
        &["tests/fixtures/plans/autumn-regular.yaml"],
    );
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
}

#[tokio::test]
async fn a_thin_symbol_fully_fetched_plans_no_work() {
    let db = migrated().await;
    // Three bars a session over 960 minutes: sparse, and complete.
    for symbol in ["SPY", "QQQ", "AAPL"] {
        record(&db, symbol, "iex", "2026-10-21", "2026-12-02", 3).await;
    }
    write_bars(
        &db,
        "SPY",
        &["2026-11-02T15:00:00Z", "2026-11-02T15:01:00Z"],
    )
    .await;
    let out = snapshot_both(&db, "thin_symbol_no_changes", &["plans/paper-seed.yaml"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
}

#[tokio::test]
async fn bars_from_an_older_loader_are_reported_as_unrecorded() {
    let db = TestDb::new().await;
    // The older loader's table: keyed (ts, symbol), filled, no ledger.
    db.execute(
        "CREATE TABLE public.market_data_1m (
             ts timestamptz NOT NULL, symbol text NOT NULL,
             open double precision NOT NULL, high double precision NOT NULL,
             low double precision NOT NULL, close double precision NOT NULL,
             volume bigint NOT NULL, trade_count bigint, vwap double precision,
             UNIQUE (ts, symbol))",
    )
    .await;
    write_bars(
        &db,
        "AAPL",
        &[
            "2026-11-30T14:30:00Z",
            "2026-11-30T14:31:00Z",
            "2026-12-01T14:30:00Z",
        ],
    )
    .await;
    let out = snapshot_both(&db, "unrecorded_bars", &["plans/paper-seed.yaml"]);
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
}

#[tokio::test]
async fn a_table_that_does_not_fit_is_refused_with_its_differences() {
    let db = TestDb::new().await;
    db.execute(
        "CREATE TABLE public.market_data_1m (
             ts timestamp NOT NULL, symbol text NOT NULL, price double precision NOT NULL)",
    )
    .await;
    let out = plan(&db, &["plans/paper-seed.yaml"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty(), "no plan on stdout when it fails");
    insta::assert_snapshot!("table_does_not_fit", stderr(&out));
}

#[tokio::test]
async fn max_requests_refuses_a_larger_plan() {
    let db = TestDb::new().await;
    let out = plan(&db, &["plans/paper-seed.yaml"], &["--max-requests", "3"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("more than --max-requests 3"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}

#[tokio::test]
async fn the_runbook_variables_build_the_same_plan_as_the_file() {
    let db = TestDb::new().await;
    let from_file = plan(&db, &["plans/paper-seed.yaml"], &["--format", "json"]);
    let from_env = seedctl(
        &["plan", "--as-of", AS_OF, "--format", "json"],
        &[
            ("DATABASE_URL", &db.url),
            ("ALPACA_SYMBOLS", "SPY,QQQ,AAPL"),
            ("ALPACA_FEED", "iex"),
            ("ALPACA_BACKFILL_TRADING_DAYS", "30"),
        ],
    );
    assert!(from_env.status.success(), "{}", stderr(&from_env));
    let requests = |out: &std::process::Output| {
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (v["requests"].clone(), v["summary"].clone())
    };
    assert_eq!(requests(&from_file), requests(&from_env));
}

#[tokio::test]
async fn plan_only_reads_the_database() {
    let db = TestDb::new().await;
    let out = plan(&db, &["plans/paper-seed.yaml"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let pool = db.pool().await;
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(tables, 0, "plan created nothing");
}

#[tokio::test]
async fn the_connection_comes_from_libpq_variables_when_no_url_is_given() {
    let db = TestDb::new().await;
    let url = url::Url::parse(&db.url).unwrap();
    let port = url.port().unwrap().to_string();
    let out = seedctl(
        &["plan", "--as-of", AS_OF, "plans/paper-seed.yaml"],
        &[
            ("PGHOST", url.host_str().unwrap()),
            ("PGPORT", &port),
            ("PGUSER", url.username()),
            ("PGDATABASE", &db.name),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let with_url = plan(&db, &["plans/paper-seed.yaml"], &[]);
    assert_eq!(out.stdout, with_url.stdout);
}

#[tokio::test]
async fn a_role_that_may_only_select_can_plan() {
    let db = migrated().await;
    record(&db, "SPY", "iex", "2026-10-21", "2026-11-20", 400).await;
    let reader = format!("{}_reader", db.name);
    db.execute(&format!(
        r#"CREATE ROLE "{reader}" LOGIN;
           GRANT USAGE ON SCHEMA seedctl TO "{reader}";
           GRANT SELECT ON ALL TABLES IN SCHEMA seedctl, public TO "{reader}";"#
    ))
    .await;
    let mut url = url::Url::parse(&db.url).unwrap();
    url.set_username(&reader).unwrap();
    let as_reader = seedctl(
        &[
            "plan",
            "--as-of",
            AS_OF,
            "--detailed-exitcode",
            "plans/paper-seed.yaml",
        ],
        &[("DATABASE_URL", url.as_str())],
    );
    assert_eq!(as_reader.status.code(), Some(2), "{}", stderr(&as_reader));
    let as_owner = plan(&db, &["plans/paper-seed.yaml"], &[]);
    assert_eq!(as_reader.stdout, as_owner.stdout);
}
