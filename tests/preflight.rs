//! `seedctl preflight` end to end: the real binary, a real Postgres (a
//! database per test) and the simulator on a loopback port. Every refused
//! environment must end in exit code 1 and a `PREFLIGHT_FAILED` line with no
//! request made and nothing written; secrets must never show, anywhere.
//!
//! The tests run on a multi-threaded runtime: the binary is waited for on the
//! test's thread while the simulator answers from the runtime's workers.

mod common;

use std::collections::BTreeMap;
use std::process::Output;

use clap::CommandFactory;
use common::{TestDb, seedctl, stderr, stdout};
use seedctl::sim::{SimClock, SimConfig, Simulator};

const KEY_ID: &str = "PKPREFLIGHTKEYID7Q3X";
const SECRET_KEY: &str = "sEcReT-vAlUe-9f8e7d6c5b4a";
const DB_PASSWORD: &str = "pw-Zq81-hidden-in-url";

/// A Saturday: the simulator's clock says the market is closed.
const SATURDAY: &str = "2026-11-28T15:00:00Z";

async fn simulator() -> Simulator {
    let config = SimConfig::default()
        .accept_keys(KEY_ID, SECRET_KEY)
        .clock(SimClock::Fixed(SATURDAY.parse().unwrap()));
    Simulator::start(config)
        .await
        .expect("the simulator starts")
}

/// Variables that pass every check against `sim`, to be changed one at a time.
#[derive(Clone)]
struct Env(BTreeMap<&'static str, String>);

impl Env {
    fn passing(sim: &Simulator, db: &TestDb) -> Env {
        let vars = [
            ("TRADING_MODE", "paper".to_string()),
            ("APCA_API_BASE_URL", sim.url()),
            ("APCA_API_DATA_URL", sim.url()),
            ("AGENT_MODE", "OFF".to_string()),
            ("APCA_API_KEY_ID", KEY_ID.to_string()),
            ("APCA_API_SECRET_KEY", SECRET_KEY.to_string()),
            ("DATABASE_URL", db.url.clone()),
        ];
        Env(vars.into_iter().collect())
    }

    fn set(mut self, name: &'static str, value: &str) -> Env {
        self.0.insert(name, value.to_string());
        self
    }

    fn unset(mut self, name: &'static str) -> Env {
        self.0.remove(name);
        self
    }

    fn run(&self, args: &[&str]) -> Output {
        let envs: Vec<(&str, &str)> = self.0.iter().map(|(n, v)| (*n, v.as_str())).collect();
        seedctl(args, &envs)
    }
}

/// The schemas and tables a test database holds besides Postgres's own.
async fn objects(db: &TestDb) -> Vec<String> {
    let pool = db.pool().await;
    let names = sqlx::query_scalar(
        "SELECT 'schema ' || nspname FROM pg_namespace
          WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\\_%'
         UNION ALL
         SELECT 'table ' || table_schema || '.' || table_name || ' (' ||
                (xpath('/row/n/text()',
                       query_to_xml(format('SELECT count(*) AS n FROM %I.%I',
                                           table_schema, table_name), false, true, '')))[1]::text
                || ' rows)'
           FROM information_schema.tables
          WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
         ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .expect("list the database's objects");
    pool.close().await;
    names
}

/// Asserts a refusal: exit code 1, the failed check's line, the verdict, and
/// the one `error:` line on stderr.
fn assert_refused(out: &Output, failed: &str, message: &str) {
    let stdout = stdout(out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", stderr(out));
    let line = stdout
        .lines()
        .find(|l| l.starts_with("FAIL") && l.contains(message))
        .unwrap_or_else(|| panic!("no FAIL line with {message:?}:\n{stdout}"));
    assert!(line.contains(failed.split(", ").next().unwrap()), "{line}");
    assert_eq!(
        stdout.lines().last(),
        Some(format!("PREFLIGHT_FAILED: {failed}").as_str()),
        "{stdout}"
    );
    assert!(
        stdout.contains("skip  authentication       not tried"),
        "the online request is skipped:\n{stdout}"
    );
    let stderr = stderr(out);
    assert!(
        stderr.starts_with(&format!(
            "error: preflight failed ({failed}): nothing was fetched"
        )),
        "{stderr}"
    );
}

/// Runs `preflight --online` with `env` changed by `change` and checks that
/// it was refused for `failed` with `message`, without a request or a write.
async fn refused(change: impl FnOnce(Env) -> Env, failed: &str, message: &str) -> Output {
    let sim = simulator().await;
    let db = TestDb::new().await;
    let env = change(Env::passing(&sim, &db));

    let out = env.run(&["preflight", "--online"]);

    assert_refused(&out, failed, message);
    assert_eq!(sim.counters().requests, 0, "no request was made");
    assert_eq!(
        objects(&db).await,
        Vec::<String>::new(),
        "nothing was created"
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trading_mode_live_is_refused() {
    refused(
        |env| env.set("TRADING_MODE", "live"),
        "TRADING_MODE",
        r#"is "live"; it must be exactly "paper""#,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trading_mode_unset_is_refused() {
    refused(
        |env| env.unset("TRADING_MODE"),
        "TRADING_MODE",
        "not set; set TRADING_MODE=paper",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_trading_host_is_refused_by_name() {
    refused(
        |env| env.set("APCA_API_BASE_URL", "https://api.alpaca.markets"),
        "APCA_API_BASE_URL",
        "https://api.alpaca.markets is Alpaca's LIVE trading host; seeding runs on paper only",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unset_trading_host_is_refused() {
    refused(
        |env| env.unset("APCA_API_BASE_URL"),
        "APCA_API_BASE_URL",
        "not set; set APCA_API_BASE_URL=https://paper-api.alpaca.markets",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookalike_trading_host_is_refused() {
    refused(
        |env| {
            env.set(
                "APCA_API_BASE_URL",
                "https://paper-api.alpaca.markets.evil.example",
            )
        },
        "APCA_API_BASE_URL",
        "https://paper-api.alpaca.markets.evil.example is neither Alpaca's paper trading host \
         nor a loopback address",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trading_host_off_this_machine_is_refused() {
    refused(
        |env| env.set("APCA_API_BASE_URL", "http://192.0.2.10:8080"),
        "APCA_API_BASE_URL",
        "http://192.0.2.10:8080 is neither",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_data_host_is_refused() {
    refused(
        |env| {
            env.set(
                "APCA_API_DATA_URL",
                "https://data.alpaca.markets.evil.example",
            )
        },
        "APCA_API_DATA_URL",
        "is neither Alpaca's market data host nor a loopback address",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_that_can_execute_is_refused() {
    refused(
        |env| env.set("AGENT_MODE", "EXECUTE"),
        "AGENT_MODE",
        r#"is "EXECUTE"; only OFF or READ_ONLY are accepted"#,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unset_agent_mode_is_refused() {
    refused(
        |env| env.unset("AGENT_MODE"),
        "AGENT_MODE",
        "not set; set AGENT_MODE to OFF or READ_ONLY",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_keys_are_refused() {
    refused(
        |env| env.unset("APCA_API_KEY_ID").set("APCA_API_SECRET_KEY", ""),
        "APCA_API_KEY_ID, APCA_API_SECRET_KEY",
        "not set; set APCA_API_KEY_ID",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_does_not_answer_is_refused() {
    let out = refused(
        |env| {
            let url = env.0["DATABASE_URL"].clone();
            env.set("DATABASE_URL", &format!("{url}_missing"))
        },
        "database",
        "could not connect to postgres://",
    )
    .await;
    let stdout = stdout(&out);
    assert!(
        stdout.contains("skip  bars table           not checked"),
        "{stdout}"
    );
    assert!(
        stdout.contains("skip  migrations           not checked"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failure_is_reported_together() {
    let out = refused(
        |env| {
            env.set("TRADING_MODE", "live")
                .set("AGENT_MODE", "on")
                .unset("APCA_API_SECRET_KEY")
        },
        "TRADING_MODE, AGENT_MODE, APCA_API_SECRET_KEY",
        "TRADING_MODE",
    )
    .await;
    insta::assert_snapshot!(without_ports(&stdout(&out)));
}

/// The report with what differs from run to run replaced: the digits after
/// `127.0.0.1:` (ports) and after `seedctl_test_` (the database's name), and
/// the user, which is the test server's.
fn without_ports(report: &str) -> String {
    let mut out = report.to_string();
    if let Some((user, _)) = report
        .split_once("postgres://")
        .and_then(|(_, rest)| rest.split_once('@'))
    {
        out = out.replace(&format!("postgres://{user}@"), "postgres://[user]@");
    }
    for (prefix, mark) in [("127.0.0.1:", "[port]"), ("seedctl_test_", "[n]")] {
        let mut rest = out.as_str();
        let mut replaced = String::new();
        while let Some(at) = rest.find(prefix) {
            let (before, after) = rest.split_at(at + prefix.len());
            replaced.push_str(before);
            let digits = after.find(|c: char| !c.is_ascii_digit() && c != '_');
            let digits = digits.unwrap_or(after.len());
            replaced.push_str(mark);
            rest = &after[digits..];
        }
        replaced.push_str(rest);
        out = replaced;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bars_table_that_does_not_fit_is_refused_and_left_alone() {
    let sim = simulator().await;
    let db = TestDb::new().await;
    db.execute(
        "CREATE TABLE public.market_data_1m (ts timestamptz, symbol text, price numeric);
         INSERT INTO public.market_data_1m VALUES (now(), 'SPY', 1);",
    )
    .await;
    let before = objects(&db).await;

    let out = Env::passing(&sim, &db).run(&["preflight", "--online"]);

    assert_refused(
        &out,
        "bars table",
        "exists but does not fit what seedctl writes",
    );
    assert!(
        stdout(&out).contains("column `open` is missing"),
        "{}",
        stdout(&out)
    );
    assert_eq!(sim.counters().requests, 0);
    assert_eq!(objects(&db).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_set_up_by_a_newer_seedctl_is_refused() {
    let sim = simulator().await;
    let db = TestDb::new().await;
    let env = Env::passing(&sim, &db);
    let migrated = env.run(&["migrate"]);
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    db.execute(
        "INSERT INTO seedctl._sqlx_migrations
                (version, description, success, checksum, execution_time)
         VALUES (29991231000001, 'from the future', true, '\\x00', 1)",
    )
    .await;
    let before = objects(&db).await;

    let out = env.run(&["preflight", "--online"]);

    assert_refused(
        &out,
        "migrations",
        "the database records migrations this seedctl does not know (29991231000001): a newer \
         seedctl set it up; upgrade seedctl",
    );
    assert_eq!(sim.counters().requests, 0);
    assert_eq!(objects(&db).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_the_trading_host_refuses_fail_after_one_request() {
    let sim = simulator().await;
    let db = TestDb::new().await;
    let env = Env::passing(&sim, &db).set("APCA_API_SECRET_KEY", "not-the-secret");

    let out = env.run(&["preflight", "--online"]);

    let stdout = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("/v2/clock answered 403 Forbidden"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("PREFLIGHT_FAILED: authentication\n"),
        "{stdout}"
    );
    let counters = sim.counters();
    assert_eq!((counters.requests, counters.status(403)), (1, 1));
    assert_eq!(objects(&db).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paper_environment_passes_online_with_exactly_one_request() {
    let sim = simulator().await;
    let db = TestDb::new().await;

    let out = Env::passing(&sim, &db).run(&["preflight", "--online"]);

    let stdout = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let counters = sim.counters();
    assert_eq!((counters.requests, counters.status(200)), (1, 1));
    assert_eq!(objects(&db).await, Vec::<String>::new());
    insta::assert_snapshot!(without_ports(&stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migrated_paper_environment_passes_offline_without_a_request() {
    let sim = simulator().await;
    let db = TestDb::new().await;
    let env = Env::passing(&sim, &db).set("AGENT_MODE", " read_only ");
    assert!(env.run(&["migrate"]).status.success());

    let out = env.run(&["preflight"]);

    let stdout = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", stderr(&out));
    assert!(
        stdout.contains("pass  migrations           current (2 applied)"),
        "{stdout}"
    );
    assert!(stdout.contains("pass  bars table           public.market_data_1m fits"));
    assert!(
        stdout.ends_with("keys set (not tried: --online tries them), 9 checks\n"),
        "{stdout}"
    );
    assert!(stdout.contains("preflight passed: paper mode, AGENT_MODE=READ_ONLY"));
    assert_eq!(sim.counters().requests, 0);
}

// --- Secrets ---------------------------------------------------------------

/// Every command run with each environment below. Add a command here when it
/// is written; `--help` of every subcommand is run without being listed.
const COMMANDS: &[&[&str]] = &[
    &["preflight", "-vv"],
    &["preflight", "--online", "-vv"],
    &["plan", "--as-of", "2026-12-02", "-vv"],
    &["migrate", "-vv"],
    &[
        "apply",
        "--auto-approve",
        "--as-of",
        "2026-12-02",
        "plans/paper-seed.yaml",
        "-vv",
    ],
    &[
        "status",
        "--as-of",
        "2026-12-02",
        "plans/paper-seed.yaml",
        "-vv",
    ],
    &[
        "verify",
        "--as-of",
        "2026-12-02",
        "--sample",
        "2",
        "--seed",
        "7",
        "plans/paper-seed.yaml",
        "-vv",
    ],
    &[
        "calendar",
        "--from",
        "2026-11-25",
        "--to",
        "2026-11-30",
        "-vv",
    ],
    // Mistyped command lines, whose errors come from the parser.
    &["calendar", "--from", "not-a-date", "--to", "2026-11-30"],
    &["preflight", "--no-such-flag"],
    &["no-such-command"],
];

/// Changes that make the `migrations` and `bars table` checks fail, made to
/// a migrated database one after the other.
const DATABASE_FAILURES: [(&str, &str); 2] = [
    (
        "migrations",
        "INSERT INTO seedctl._sqlx_migrations
                (version, description, success, checksum, execution_time)
         VALUES (29991231000001, 'from the future', true, '\\x00', 1)",
    ),
    (
        "bars table",
        "ALTER TABLE public.market_data_1m DROP COLUMN vwap",
    ),
];

/// What the connection settings point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Database {
    Exists,
    Missing,
    /// A URL that cannot be parsed (a port out of range).
    Malformed,
}

/// Each way the environment goes wrong (and the one way it is right), with
/// the secrets set wherever the case allows: the check that `preflight
/// --online` must fail (`None`: it passes), the variables, and the database.
fn scenarios(passing: &Env) -> Vec<(Option<&'static str>, Env, Database)> {
    use Database::*;
    let env = || passing.clone();
    let live = "https://api.alpaca.markets";
    let spaced_key_id = format!(" {KEY_ID} ");
    let spaced_secret = format!("{SECRET_KEY}\n");
    let swapped = env()
        .set("APCA_API_KEY_ID", SECRET_KEY)
        .set("APCA_API_SECRET_KEY", KEY_ID);
    vec![
        (None, env(), Exists),
        (
            Some("TRADING_MODE"),
            env().set("TRADING_MODE", "live"),
            Exists,
        ),
        (
            Some("APCA_API_BASE_URL"),
            env().set("APCA_API_BASE_URL", live),
            Exists,
        ),
        (
            Some("APCA_API_BASE_URL"),
            env().unset("APCA_API_BASE_URL"),
            Exists,
        ),
        (
            Some("APCA_API_DATA_URL"),
            env().set("APCA_API_DATA_URL", "http://192.0.2.1"),
            Exists,
        ),
        (
            Some("AGENT_MODE"),
            env().set("AGENT_MODE", "EXECUTE"),
            Exists,
        ),
        (
            Some("APCA_API_KEY_ID"),
            env().unset("APCA_API_KEY_ID"),
            Exists,
        ),
        (
            Some("APCA_API_KEY_ID"),
            env().set("APCA_API_KEY_ID", &spaced_key_id),
            Exists,
        ),
        (
            Some("APCA_API_SECRET_KEY"),
            env().unset("APCA_API_SECRET_KEY"),
            Exists,
        ),
        (
            Some("APCA_API_SECRET_KEY"),
            env().set("APCA_API_SECRET_KEY", &spaced_secret),
            Exists,
        ),
        (Some("authentication"), swapped, Exists),
        (Some("database"), env(), Missing),
        (Some("database"), env(), Malformed),
    ]
}

/// Whether `preflight --online` ended as the scenario expects.
fn verdict_matches(out: &Output, failed: Option<&str>) -> bool {
    let stdout = stdout(out);
    let last = stdout.lines().last().unwrap_or_default();
    match failed {
        None => last.starts_with("preflight passed: "),
        Some(name) => last.starts_with("PREFLIGHT_FAILED: ") && last.contains(name),
    }
}

/// A role with a password, owning the test database, and a URL that logs in
/// as it. The throwaway server trusts every local connection, so the
/// password is never checked; it only has to be carried everywhere.
async fn role_with_password(db: &TestDb) -> url::Url {
    let role = format!("seed_writer_{}", std::process::id());
    db.execute(&format!(
        r#"CREATE ROLE {role} LOGIN PASSWORD '{DB_PASSWORD}';
           ALTER DATABASE "{}" OWNER TO {role};
           ALTER SCHEMA public OWNER TO {role};"#,
        db.name
    ))
    .await;
    let mut url = url::Url::parse(&db.url).unwrap();
    url.set_username(&role).unwrap();
    url.set_password(Some(DB_PASSWORD)).unwrap();
    url
}

/// The ways seedctl takes a connection: the flag, `DATABASE_URL`, and
/// libpq's variables.
#[derive(Debug, Clone, Copy)]
enum Way {
    Flag,
    DatabaseUrl,
    PgVariables,
}

/// The arguments and variables that connect to the role's database (or
/// the wrong one asked for) the `way` given.
fn connect(way: Way, url: &url::Url, database: Database, env: Env) -> (Vec<String>, Env) {
    let port = url.port().unwrap().to_string();
    let (port, name) = match database {
        Database::Exists => (port.as_str(), url.path().trim_start_matches('/')),
        Database::Missing => (port.as_str(), "no_such_database"),
        Database::Malformed => ("99999", "no_such_database"),
    };
    let text = format!(
        "postgres://{}:{DB_PASSWORD}@{}:{port}/{name}",
        url.username(),
        url.host_str().unwrap()
    );
    match way {
        Way::Flag => (vec!["--database-url".into(), text], env),
        Way::DatabaseUrl => (vec![], env.set("DATABASE_URL", &text)),
        Way::PgVariables => {
            let env = env
                .set("PGHOST", url.host_str().unwrap())
                .set("PGPORT", port)
                .set("PGUSER", url.username())
                .set("PGPASSWORD", DB_PASSWORD)
                .set("PGDATABASE", name);
            (vec![], env)
        }
    }
}

fn leaked(text: &str) -> Vec<&'static str> {
    [KEY_ID, SECRET_KEY, DB_PASSWORD]
        .into_iter()
        .filter(|secret| text.contains(secret))
        .collect()
}

fn check_output(what: &str, out: &Output, leaks: &mut Vec<String>) {
    for (stream, text) in [("stdout", stdout(out)), ("stderr", stderr(out))] {
        let found = leaked(&text);
        if !found.is_empty() {
            leaks.push(format!("{what}: {found:?} in {stream}:\n{text}"));
        }
    }
}

/// Every row of every table, as text.
async fn database_text(db: &TestDb) -> String {
    let pool = db.pool().await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables
          WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut text = String::new();
    for table in tables {
        let sql = format!("SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM {table} t");
        let rows: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&pool)
            .await
            .unwrap();
        text.push_str(&format!("{table}\n{rows}\n"));
    }
    pool.close().await;
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_show_in_output_logs_or_the_database() {
    let sim = simulator().await;
    let db = TestDb::new().await;
    let url = role_with_password(&db).await;
    // The commands run with -vv; the harness's quiet SEEDCTL_LOG, which would
    // win over the flag, is replaced by the same filter as -vv.
    let passing = Env::passing(&sim, &db)
        .unset("DATABASE_URL")
        .set("SEEDCTL_LOG", "trace");

    let mut leaks = Vec::new();
    let mut wrong_verdicts = Vec::new();
    let mut runs = 0;
    let mut run = |failed: Option<&str>, way: Way, args: &[&str], flag: &[String], env: &Env| {
        let mut args = args.to_vec();
        args.extend(flag.iter().map(String::as_str));
        let out = env.run(&args);
        let what = format!("{way:?}, {}, {args:?}", failed.unwrap_or("passing"))
            .replace(DB_PASSWORD, "[the password]");
        check_output(&what, &out, &mut leaks);
        if args.starts_with(&["preflight", "--online"]) && !verdict_matches(&out, failed) {
            wrong_verdicts.push(format!("{what}:\n{}", stdout(&out)));
        }
        runs += 1;
    };
    const WAYS: [Way; 3] = [Way::Flag, Way::DatabaseUrl, Way::PgVariables];
    for way in WAYS {
        for (failed, env, database) in scenarios(&passing) {
            if matches!((way, database), (Way::PgVariables, Database::Malformed)) {
                continue; // libpq's variables hold no URL to be malformed
            }
            let (flag, env) = connect(way, &url, database, env);
            for command in COMMANDS {
                run(failed, way, command, &flag, &env);
            }
        }
        let (flag, env) = connect(way, &url, Database::Exists, passing.clone());
        for args in help_invocations() {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(None, way, &args, &flag, &env);
        }
    }
    // The database's own failures come last, since each leaves it broken.
    for (failed, sql) in DATABASE_FAILURES {
        db.execute(sql).await;
        for way in WAYS {
            let (flag, env) = connect(way, &url, Database::Exists, passing.clone());
            for command in COMMANDS {
                run(Some(failed), way, command, &flag, &env);
            }
        }
    }

    assert!(wrong_verdicts.is_empty(), "{}", wrong_verdicts.join("\n"));
    assert!(
        leaks.is_empty(),
        "{} of {runs} runs leaked:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
    let stored = database_text(&db).await;
    assert!(
        stored.contains("seedctl._sqlx_migrations"),
        "migrate ran as the role"
    );
    assert_eq!(leaked(&stored), Vec::<&str>::new(), "{stored}");
    assert!(sim.counters().requests > 0, "the online check did run");
}

/// `--help` and `help` for the program and each subcommand, from the parser
/// itself, so that new subcommands are covered without being listed.
fn help_invocations() -> Vec<Vec<String>> {
    let mut invocations = vec![vec!["--help".to_string()], vec!["-h".to_string()]];
    for sub in seedctl::cli::Cli::command().get_subcommands() {
        let name = sub.get_name().to_string();
        invocations.push(vec![name.clone(), "--help".into()]);
        invocations.push(vec![name.clone(), "-h".into()]);
        invocations.push(vec!["help".into(), name]);
    }
    invocations
}
