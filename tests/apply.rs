//! `seedctl apply` end to end: the real binary, the simulator over real HTTP
//! and a real Postgres. The simulator's data is a pure function, so each test
//! knows exactly which rows the table must hold.

mod common;

use std::collections::BTreeMap;
use std::process::Output;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use common::{TestDb, seedctl, stderr, stdout};
use seedctl::calendar::Calendar;
use seedctl::domain::{Adjustment, Feed, SessionKind, Symbol};
use seedctl::sim::{SimConfig, Simulator, bar_at};

const AS_OF: &str = "2026-12-02";
const SEED: &str = "plans/paper-seed.yaml";
const SYMBOLS: [&str; 3] = ["AAPL", "QQQ", "SPY"];

struct Setup {
    db: TestDb,
    sim: Simulator,
}

impl Setup {
    async fn new(config: SimConfig) -> Setup {
        Setup {
            db: TestDb::new().await,
            sim: Simulator::start(config).await.unwrap(),
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("TRADING_MODE", "paper".into()),
            ("AGENT_MODE", "OFF".into()),
            ("APCA_API_BASE_URL", self.sim.url()),
            ("APCA_API_DATA_URL", self.sim.url()),
            ("APCA_API_KEY_ID", "TESTKEYID".into()),
            ("APCA_API_SECRET_KEY", "test-secret".into()),
            ("DATABASE_URL", self.db.url.clone()),
            // The runbook's log lines are what these tests read.
            ("SEEDCTL_LOG", "info".into()),
        ]
    }

    fn run(&self, args: &[&str]) -> Output {
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        seedctl(args, &env)
    }

    fn apply(&self, paths: &[&str]) -> Output {
        let mut args = vec!["apply", "--auto-approve", "--as-of", AS_OF];
        args.extend_from_slice(paths);
        self.run(&args)
    }

    fn plan_exit_code(&self, paths: &[&str]) -> Option<i32> {
        let mut args = vec!["plan", "--as-of", AS_OF, "--detailed-exitcode"];
        args.extend_from_slice(paths);
        self.run(&args).status.code()
    }

    /// Every row of the table, keyed by (symbol, ts), with its close and volume.
    async fn table(&self) -> BTreeMap<(String, DateTime<Utc>), (f64, i64)> {
        let pool = self.db.pool().await;
        let rows: Vec<(String, DateTime<Utc>, f64, i64)> =
            sqlx::query_as("SELECT symbol, ts, close, volume FROM public.market_data_1m")
                .fetch_all(&pool)
                .await
                .unwrap();
        pool.close().await;
        rows.into_iter()
            .map(|(s, t, c, v)| ((s, t), (c, v)))
            .collect()
    }
}

/// What the simulator serves for the paper seed's 30 sessions.
fn expected(feed: Feed) -> BTreeMap<(String, DateTime<Utc>), (f64, i64)> {
    let from: NaiveDate = "2026-10-21".parse().unwrap();
    let to: NaiveDate = "2026-12-02".parse().unwrap();
    let mut rows = BTreeMap::new();
    for symbol in SYMBOLS {
        let symbol: Symbol = symbol.parse().unwrap();
        for session in Calendar::nyse().sessions(from, to).unwrap() {
            let (mut minute, end) = session.bounds(SessionKind::Extended);
            while minute < end {
                if let Some(bar) = bar_at(&symbol, minute, feed, Adjustment::RAW) {
                    rows.insert((symbol.to_string(), minute), (bar.c, bar.v as i64));
                }
                minute += chrono::Duration::minutes(1);
            }
        }
    }
    rows
}

fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_seed_fills_exactly_the_planned_minutes_and_a_rerun_asks_nothing() {
    let setup = Setup::new(SimConfig::default()).await;
    let out = setup.apply(&[SEED]);
    assert_ok(&out);
    let log = stderr(&out);
    for symbol in SYMBOLS {
        assert!(
            log.contains(&format!("{symbol}: upserted "))
                && log.contains("from 2026-10-21T08:00:00Z to 2026-12-03T01:00:00Z"),
            "the runbook's log line for {symbol}:\n{log}"
        );
    }

    let expected = expected(Feed::Iex);
    let table = setup.table().await;
    assert_eq!(table.len(), expected.len());
    assert!(
        table == expected,
        "the table holds exactly the simulator's bars"
    );
    let bars: u64 = expected.len() as u64;
    let requests = setup.sim.counters().requests;
    assert_eq!(
        requests,
        bars.div_ceil(10_000),
        "requests at the floor: one per full page"
    );

    assert_eq!(
        setup.plan_exit_code(&[SEED]),
        Some(0),
        "nothing left to plan"
    );
    let before = setup.sim.counters().requests;
    assert_ok(&setup.apply(&[SEED]));
    assert_eq!(
        setup.sim.counters().requests,
        before,
        "the second apply makes no request"
    );
    assert!(setup.table().await == expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hole_in_the_ledger_is_fetched_and_nothing_else() {
    let setup = Setup::new(SimConfig::default()).await;
    assert_ok(&setup.apply(&[SEED]));
    setup
        .db
        .execute(
            "DELETE FROM seedctl.ledger WHERE symbol = 'QQQ' AND session_date = '2026-11-18';
             DELETE FROM public.market_data_1m WHERE symbol = 'QQQ'
                AND ts >= '2026-11-18T09:00:00Z' AND ts < '2026-11-19T01:00:00Z';",
        )
        .await;
    assert_eq!(setup.plan_exit_code(&[SEED]), Some(2));

    let before = setup.sim.counters();
    let out = setup.apply(&[SEED]);
    assert_ok(&out);
    let after = setup.sim.counters();
    assert_eq!(
        after.requests - before.requests,
        1,
        "one request for one symbol-session"
    );
    assert!(stderr(&out).contains("QQQ: upserted"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("SPY: upserted"));
    assert!(setup.table().await == expected(Feed::Iex));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_change_fetches_everything_again_from_the_new_feed() {
    let setup = Setup::new(SimConfig::default()).await;
    assert_ok(&setup.apply(&[SEED]));
    assert_ok(&setup.apply(&["tests/fixtures/plans/paper-seed-sip.yaml"]));
    assert!(
        setup.table().await == expected(Feed::Sip),
        "only the sip feed's bars remain"
    );
    assert_eq!(
        setup.plan_exit_code(&["tests/fixtures/plans/paper-seed-sip.yaml"]),
        Some(0)
    );
    let pool = setup.db.pool().await;
    let feeds: Vec<String> = sqlx::query_scalar("SELECT DISTINCT feed FROM seedctl.ledger")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(feeds, ["sip"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_is_waited_out_rather_than_hit() {
    let setup = Setup::new(SimConfig::default().rate_limit(2, Duration::from_secs(2))).await;
    let out = setup.apply(&[SEED]);
    assert_ok(&out);
    assert!(
        stderr(&out).contains("rate limit window to reset"),
        "{}",
        stderr(&out)
    );
    let counters = setup.sim.counters();
    assert_eq!(
        counters.status(429),
        0,
        "X-RateLimit-Remaining was honoured: {counters:?}"
    );
    assert!(setup.table().await == expected(Feed::Iex));
    assert_eq!(setup.plan_exit_code(&[SEED]), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_a_malformed_page_and_a_dropped_connection_are_survived() {
    let config = SimConfig::default()
        .server_error_every(3)
        .malformed_body_on(2)
        .drop_connection_on(5);
    let setup = Setup::new(config).await;
    let out = setup.apply(&[SEED]);
    assert_ok(&out);
    let counters = setup.sim.counters();
    let server_errors: u64 = counters
        .by_status
        .iter()
        .filter(|(s, _)| **s >= 500)
        .map(|(_, n)| n)
        .sum();
    assert!(server_errors > 0, "{counters:?}");
    assert_eq!(counters.dropped, 1, "{counters:?}");
    assert!(setup.table().await == expected(Feed::Iex));
    assert_eq!(setup.plan_exit_code(&[SEED]), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_killed_half_way_is_finished_by_the_next_run() {
    let slow = SimConfig::default().latency(Duration::from_millis(300));
    let setup = Setup::new(slow).await;
    let env = setup.env();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_seedctl"))
        .current_dir(common::root())
        .args(["apply", "--auto-approve", "--as-of", AS_OF, SEED])
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once at least one window is recorded, wherever it is then.
    let pool = setup.db.pool().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let recorded: Option<i64> = sqlx::query_scalar("SELECT count(*) FROM seedctl.ledger")
            .fetch_one(&pool)
            .await
            .ok();
        if recorded.unwrap_or(0) > 0 || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    pool.close().await;

    assert_eq!(
        setup.plan_exit_code(&[SEED]),
        Some(2),
        "the killed run left gaps"
    );
    assert_ok(&setup.apply(&[SEED]));
    assert!(
        setup.table().await == expected(Feed::Iex),
        "the same table as an uninterrupted run"
    );
    assert_eq!(setup.plan_exit_code(&[SEED]), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_skips_what_was_covered_since() {
    let setup = Setup::new(SimConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("plan.json");
    let out = setup.run(&[
        "plan",
        "--as-of",
        AS_OF,
        SEED,
        "-o",
        saved.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_ok(&setup.apply(&[SEED]));

    let before = setup.sim.counters().requests;
    let out = setup.run(&["apply", "--auto-approve", saved.to_str().unwrap()]);
    assert_ok(&out);
    assert!(
        stderr(&out).contains("covered since the plan was made; skipped"),
        "{}",
        stderr(&out)
    );
    assert_eq!(setup.sim.counters().requests, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_terminal_apply_asks_for_auto_approve() {
    let setup = Setup::new(SimConfig::default()).await;
    let out = setup.run(&["apply", "--as-of", AS_OF, SEED]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--auto-approve"), "{}", stderr(&out));
    assert_eq!(setup.sim.counters().requests, 0);
    assert!(setup.table().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_apply_waits_for_the_lock_then_says_who_holds_it() {
    let setup = Setup::new(SimConfig::default()).await;
    assert_ok(&setup.run(&["migrate"]));
    // Hold the apply lock from another session, as a running apply would.
    let mut holder = sqlx::PgConnection::connect(&setup.db.url).await.unwrap();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(i64::from_be_bytes(*b"seedctl:"))
        .execute(&mut holder)
        .await
        .unwrap();
    let out = setup.run(&[
        "apply",
        "--auto-approve",
        "--lock-timeout",
        "1s",
        "--as-of",
        AS_OF,
        SEED,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("another seedctl apply is running"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("server pid"),
        "names the holder: {}",
        stderr(&out)
    );
    assert_eq!(setup.sim.counters().requests, 0);
}

use sqlx::Connection;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_deleted_by_hand_are_reported_refetched_and_restored() {
    let setup = Setup::new(SimConfig::default()).await;
    assert_ok(&setup.apply(&[SEED]));
    let status = |setup: &Setup| setup.run(&["status", "--as-of", AS_OF, SEED]);
    assert_eq!(
        status(&setup).status.code(),
        Some(0),
        "READY after the seed"
    );

    setup
        .db
        .execute(
            "DELETE FROM public.market_data_1m WHERE symbol = 'AAPL'
                AND ts >= '2026-11-12T14:30:00Z' AND ts < '2026-11-12T15:30:00Z'",
        )
        .await;
    let report = status(&setup);
    assert_eq!(report.status.code(), Some(3), "{}", stdout(&report));
    let text = stdout(&report);
    assert!(
        text.contains("NOT READY") && text.contains("AAPL") && text.contains("2026-11-12"),
        "{text}"
    );

    let refresh = setup.run(&[
        "plan",
        "--as-of",
        AS_OF,
        "--refresh",
        "--format",
        "json",
        SEED,
    ]);
    let plan: serde_json::Value = serde_json::from_slice(&refresh.stdout).unwrap();
    let windows: Vec<(String, String, String)> = plan["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["windows"].as_array().unwrap().iter().map(move |w| {
                let field = |k: &str| w[k].as_str().unwrap_or_default().to_string();
                (
                    s["symbol"].as_str().unwrap().to_string(),
                    field("first_session"),
                    field("last_session"),
                )
            })
        })
        .collect();
    assert_eq!(
        windows,
        [(
            "AAPL".to_string(),
            "2026-11-12".to_string(),
            "2026-11-12".to_string()
        )]
    );

    assert_ok(&setup.run(&[
        "apply",
        "--auto-approve",
        "--refresh",
        "--as-of",
        AS_OF,
        SEED,
    ]));
    assert!(
        setup.table().await == expected(Feed::Iex),
        "the deleted rows are back"
    );
    assert_eq!(status(&setup).status.code(), Some(0), "READY again");
}
