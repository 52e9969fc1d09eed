//! Postgres: connecting, migrating, checking the bars table's shape, and
//! reading the facts a plan needs (the ledger and the bars present).
//!
//! Everything here that `seedctl plan` and `seedctl status` call only reads,
//! so they can run with a role that has no right beyond SELECT. Writing bars
//! and ledger entries is `apply`'s business, and removing the entries of
//! windows found to differ is `verify`'s.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

mod read;
mod report;
mod shape;
mod write;

pub use read::{count_presence, load_ledger};
pub use report::{find_drift, forget_ledger_entries, latest_bars, recent_runs, stored_bars};
pub use shape::{BarsTable, check_bars_table};
pub use write::{
    ApplyLock, BarRow, FetchedPiece, RunCounts, RunOutcome, WindowWrite, WindowWritten, finish_run,
    start_run, write_window,
};

/// The table seedctl fills.
pub const BARS_TABLE: &str = "public.market_data_1m";
/// Where sqlx's migrator keeps its history: in seedctl's own schema, so that
/// nothing but the bars table is added to `public`.
const MIGRATIONS_TABLE: &str = "seedctl._sqlx_migrations";

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid database URL: {0}")]
    BadUrl(String),
    #[error("could not connect to {target}: {source}")]
    Connect { target: String, source: sqlx::Error },
    #[error("{what} failed on {target}: {source}")]
    Query {
        what: &'static str,
        target: String,
        source: sqlx::Error,
    },
    #[error("migrating {target} failed: {source}")]
    Migrate {
        target: String,
        source: sqlx::migrate::MigrateError,
    },
    #[error(
        "{table} exists but its shape does not fit what seedctl writes:\n{}\n\
         fix the table (or point seedctl at another database) and run again",
        .differences.iter().map(|d| format!("  - {d}")).collect::<Vec<_>>().join("\n")
    )]
    Shape {
        table: &'static str,
        differences: Vec<String>,
    },
    #[error(
        "another seedctl apply is running against this database ({holder}); waited {}s \
         (--lock-timeout); let it finish, or stop it, and run again",
        .waited.as_secs()
    )]
    Locked { holder: String, waited: Duration },
    #[error(
        "the ledger holds a value seedctl does not understand ({detail}); was it written by a \
         newer seedctl?"
    )]
    BadLedgerRow { detail: String },
}

/// Where to connect: `--database-url`, else `DATABASE_URL`, else libpq's
/// `PG*` variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, ...).
#[derive(Debug, Clone)]
pub struct Target {
    options: PgConnectOptions,
}

impl Target {
    pub fn resolve(url: Option<&str>) -> Result<Target, DbError> {
        let options = match url {
            Some(url) => PgConnectOptions::from_str(url).map_err(|e| {
                let password = url::Url::parse(url)
                    .ok()
                    .and_then(|u| u.password().map(str::to_owned));
                let message = match password.filter(|p| !p.is_empty()) {
                    Some(password) => e.to_string().replace(&password, "***"),
                    None => e.to_string(),
                };
                DbError::BadUrl(message)
            })?,
            None => PgConnectOptions::new(),
        };
        Ok(Target {
            options: options.application_name("seedctl"),
        })
    }

    /// The database and table as shown to people and saved in plans: never
    /// the password.
    pub fn display(&self) -> String {
        let o = &self.options;
        let host = match o.get_socket() {
            Some(socket) => socket.display().to_string(),
            None => o.get_host().to_string(),
        };
        let database = o.get_database().unwrap_or(o.get_username());
        format!(
            "postgres://{}@{host}:{}/{database} {BARS_TABLE}",
            o.get_username(),
            o.get_port()
        )
    }

    /// Wraps a failed query with what it was doing and where.
    pub fn query_error(&self, what: &'static str) -> impl Fn(sqlx::Error) -> DbError + Copy + '_ {
        move |source| DbError::Query {
            what,
            target: self.display(),
            source,
        }
    }

    /// A single connection outside any pool, for session state such as the
    /// apply lock.
    pub async fn connect_one(&self) -> Result<sqlx::PgConnection, DbError> {
        use sqlx::ConnectOptions;
        self.options
            .connect()
            .await
            .map_err(|source| DbError::Connect {
                target: self.display(),
                source,
            })
    }

    /// A small pool. One connection is made first, so that a database that
    /// does not answer is reported at once rather than after the pool's
    /// acquire timeout.
    pub async fn connect(&self) -> Result<PgPool, DbError> {
        use sqlx::Connection;
        self.connect_one().await?.close().await.ok();
        PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(self.options.clone())
            .await
            .map_err(|source| DbError::Connect {
                target: self.display(),
                source,
            })
    }
}

pub fn migrator() -> Migrator {
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    migrator.create_schema("seedctl");
    migrator
}

/// Runs the migrations that have not run yet. The bars table is checked
/// first: a table that does not fit is refused before anything is written.
pub async fn migrate(pool: &PgPool, target: &Target) -> Result<(), DbError> {
    if let BarsTable::Mismatch(differences) = check_bars_table(pool, target).await? {
        return Err(DbError::Shape {
            table: BARS_TABLE,
            differences,
        });
    }
    migrator()
        .run(pool)
        .await
        .map_err(|source| DbError::Migrate {
            target: target.display(),
            source,
        })
}

/// Where the database stands against the migrations this binary carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub applied: Vec<i64>,
    pub pending: Vec<(i64, String)>,
}

impl MigrationStatus {
    pub fn is_current(&self) -> bool {
        self.pending.is_empty()
    }
}

/// Reads (never writes) which migrations have run.
pub async fn migration_status(pool: &PgPool, target: &Target) -> Result<MigrationStatus, DbError> {
    let query_error = target.query_error("reading migrations");
    let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(MIGRATIONS_TABLE)
        .fetch_one(pool)
        .await
        .map_err(query_error)?;
    let applied: Vec<i64> = if exists {
        sqlx::query_scalar(
            "SELECT version FROM seedctl._sqlx_migrations WHERE success ORDER BY version",
        )
        .fetch_all(pool)
        .await
        .map_err(query_error)?
    } else {
        Vec::new()
    };
    let pending = migrator()
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .map(|m| (m.version, m.description.to_string()))
        .collect();
    Ok(MigrationStatus { applied, pending })
}
