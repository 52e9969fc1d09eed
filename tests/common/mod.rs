//! What the integration tests share: a real Postgres (a throwaway cluster per
//! test binary, or the server named by `SEEDCTL_TEST_DATABASE_URL`), a fresh
//! database per test, and the real `seedctl` binary.

#![allow(dead_code)] // each test binary uses its own part of this module

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use seedctl::throwaway::{Options, ThrowawayPostgres};
use sqlx::{Connection, Executor, PgConnection, PgPool};

/// The URL of a server's maintenance database, where test databases are made.
fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    static CLUSTER: OnceLock<ThrowawayPostgres> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("SEEDCTL_TEST_DATABASE_URL") {
        Ok(url) => url,
        Err(_) => {
            let cluster = CLUSTER.get_or_init(|| {
                ThrowawayPostgres::start(&Options::default()).expect("a throwaway Postgres starts")
            });
            cluster.url("postgres")
        }
    })
}

/// A database of its own for one test.
pub struct TestDb {
    pub url: String,
    pub name: String,
}

impl TestDb {
    pub async fn new() -> TestDb {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "seedctl_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = PgConnection::connect(server_url())
            .await
            .expect("connect to the test server");
        let create = format!(r#"CREATE DATABASE "{name}""#);
        admin
            .execute(sqlx::AssertSqlSafe(create))
            .await
            .expect("create database");
        admin.close().await.ok();
        let base = server_url()
            .rsplit_once('/')
            .expect("a URL with a database")
            .0;
        TestDb {
            url: format!("{base}/{name}"),
            name,
        }
    }

    pub async fn pool(&self) -> PgPool {
        PgPool::connect(&self.url)
            .await
            .expect("connect to the test database")
    }

    /// Runs SQL statements (no parameters) against the test database.
    pub async fn execute(&self, sql: &str) {
        let mut conn = PgConnection::connect(&self.url).await.expect("connect");
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut conn)
            .await
            .expect("SQL runs");
        conn.close().await.ok();
    }
}

/// The repository's root, so tests can name files the way a user would.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(path: &str) -> PathBuf {
    root().join("tests/fixtures").join(path)
}

/// Runs the real binary from the repository root with a clean environment:
/// no Alpaca or database variables leak in from the machine.
pub fn seedctl(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_seedctl"));
    cmd.current_dir(root()).args(args).env_clear();
    for var in ["PATH", "HOME", "TMPDIR"] {
        if let Some(value) = std::env::var_os(var) {
            cmd.env(var, value);
        }
    }
    cmd.env("SEEDCTL_LOG", "warn");
    for (name, value) in envs {
        cmd.env(name, value);
    }
    cmd.output().expect("seedctl runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}
