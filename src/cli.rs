//! The command line as the user types it. These structs carry only what was
//! typed; the commands resolve them into settings the rest of the code trusts.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::calendar::CalendarFormat;

/// Keeps a Postgres table of Alpaca 1-minute stock bars complete for the
/// coverage declared in YAML files.
///
/// `seedctl plan` shows the exact gaps between the coverage and what the
/// database holds; `seedctl apply` fetches only those.
#[derive(Debug, Parser)]
#[command(
    name = "seedctl",
    version,
    propagate_version = true,
    max_term_width = 100,
    after_help = "Exit codes: 0 success; 1 error; 2 `plan --detailed-exitcode` found changes; \
                  3 `status` not ready, or `verify` found differences."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Postgres connection URL [default: DATABASE_URL, then libpq's PG* variables]
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub database_url: Option<String>,

    /// Show more on stderr: -v for decisions and queries, -vv for everything
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Show only warnings and errors on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show which bars are missing and the requests that would fetch them
    ///
    /// Compares the coverage files against seedctl's ledger in Postgres. Needs
    /// no Alpaca credentials and only reads the database.
    Plan(PlanArgs),
    /// Fetch the missing bars from Alpaca and write them to Postgres
    ///
    /// Runs the paper-only preflight and the migrations, plans as `seedctl
    /// plan` does (or takes a plan saved with `plan -o FILE`), shows the plan,
    /// asks for confirmation on a terminal, then fetches only the gaps. Safe
    /// to re-run and safe to kill: each symbol-window is written with its
    /// ledger entries in one transaction.
    Apply(ApplyArgs),
    /// Run the whole job on this machine: a throwaway Postgres, the simulator,
    /// then preflight, plan, apply, plan again and status
    ///
    /// Needs no credentials and no network: only the PostgreSQL server
    /// binaries (`apt-get install postgresql` on Debian or Ubuntu).
    Demo(DemoArgs),
    /// Serve the Alpaca-compatible simulator (market data, calendar, clock)
    ///
    /// Its data is made up but deterministic; any non-empty keys are accepted
    /// unless --key-id and --secret-key are given.
    Sim(SimArgs),
    /// Report whether the table is ready: coverage, drift and the last runs
    ///
    /// Per symbol: the sessions the ledger covers (as `seedctl plan` sees
    /// them), the newest bar, the bars of the last two sessions, bars with no
    /// ledger record, and drift (ledger counts that no longer match the
    /// table). Then the last runs and a verdict. Only reads the database.
    ///
    /// Exit codes: 0 READY (every desired session covered, nothing drifted,
    /// the last run succeeded), 3 NOT READY, 1 error.
    Status(StatusArgs),
    /// Fetch a random sample of recorded windows again and compare them with the table
    ///
    /// Draws --sample ledger windows of the coverage at random (the same ones
    /// again with the same --seed), fetches them from Alpaca within
    /// --max-requests, and compares every bar value by value (o, h, l, c, v,
    /// n, vw). The ledger entries of windows that differ are removed, so that
    /// the next plan shows them as gaps and the next apply fetches them again.
    /// Runs the paper-only preflight first, as apply does.
    ///
    /// Exit codes: 0 every sampled window matches, 3 some differ, 1 error.
    Verify(VerifyArgs),
    /// Print NYSE trading sessions between two dates
    Calendar(CalendarArgs),
    /// Create or update the bars table and seedctl's own schema
    Migrate,
    /// Check that seeding is safe here: paper only, no agent that can trade
    ///
    /// Runs every check and prints one line per check on stdout, then
    /// `preflight passed: ...`, or `PREFLIGHT_FAILED: NAME, ...` and exit code 1.
    /// `seedctl apply` runs the same checks first and stops on a failure, before
    /// any request or write.
    ///
    ///   TRADING_MODE         exactly `paper`
    ///   APCA_API_BASE_URL    https://paper-api.alpaca.markets (a trailing / or /v2
    ///                        is fine), or http(s) on a loopback address (127.0.0.0/8,
    ///                        ::1, localhost) for the simulator; the live host and
    ///                        any other URL are refused
    ///   APCA_API_DATA_URL    unset, https://data.alpaca.markets, or loopback
    ///   AGENT_MODE           OFF or READ_ONLY (any case); anything else, unset and
    ///                        empty included, is refused
    ///   APCA_API_KEY_ID      set (the keys are never shown)
    ///   APCA_API_SECRET_KEY  set
    ///   database             answers
    ///   bars table           public.market_data_1m is missing (apply creates it)
    ///                        or fits what seedctl writes
    ///   migrations           none newer than this seedctl (pending ones are fine:
    ///                        apply runs them first)
    ///   authentication       with --online, and only when all the above passed:
    ///                        GET /v2/clock on the trading host accepts the keys
    #[command(verbatim_doc_comment)]
    Preflight(PreflightArgs),
}

#[derive(Debug, Args)]
pub struct PreflightArgs {
    /// Also prove the keys with one request to the trading host (made only
    /// when every other check passed)
    #[arg(long)]
    pub online: bool,
}

/// Which coverage, at which clock: shared by the commands that read the spec.
#[derive(Debug, Args)]
pub struct CoverageArgs {
    /// Coverage files or directories of them [default: plans/, or the runbook's
    /// ALPACA_SYMBOLS, ALPACA_FEED and ALPACA_BACKFILL_TRADING_DAYS when set]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// The clock: a date (end of that day in New York) or an RFC 3339
    /// timestamp [default: now]
    #[arg(long, value_name = "DATE|TIMESTAMP")]
    pub as_of: Option<String>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub coverage: CoverageArgs,

    /// How to print the plan on stdout
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,

    /// Also save the plan as JSON, for `seedctl apply FILE`
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Refuse a plan that needs more requests than this (a budget for CI)
    #[arg(long, value_name = "N")]
    pub max_requests: Option<u64>,

    /// Exit 0 when there is nothing to do, 2 when there are changes, 1 on error
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// Also fetch again ledger entries that no longer match the table (rows
    /// deleted or added since they were recorded); counts the rows of the
    /// desired sessions
    #[arg(long)]
    pub refresh: bool,

    /// Requests a minute the Alpaca account allows, for the time estimate
    #[arg(
        long,
        value_name = "N",
        default_value_t = 200,
        env = "SEEDCTL_RATE_LIMIT"
    )]
    pub rate_limit: u32,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Coverage files or directories, or one plan saved with `seedctl plan -o
    /// FILE.json` [default: as for `seedctl plan`]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Apply without asking for confirmation (for CI)
    #[arg(long)]
    pub auto_approve: bool,

    /// The plan's clock, as for `seedctl plan` [default: now]
    #[arg(long, value_name = "DATE|TIMESTAMP")]
    pub as_of: Option<String>,

    /// How long to wait for another apply on the same database to finish
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub lock_timeout: std::time::Duration,

    /// Requests a minute this run may make (the client-side budget)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 200,
        env = "SEEDCTL_RATE_LIMIT"
    )]
    pub rate_limit: u32,

    /// Refuse a plan that needs more requests than this
    #[arg(long, value_name = "N")]
    pub max_requests: Option<u64>,

    /// Also fetch again the recorded windows whose bars no longer match the
    /// ledger's counts, as `seedctl plan --refresh`
    #[arg(long)]
    pub refresh: bool,

    /// Minutes newer than this are not recorded as fetched on the IEX feed
    /// (they may still be revised), and stay a gap for the next run
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub settle_iex: std::time::Duration,

    /// The same for the other feeds (a free plan may not ask for the last 15
    /// minutes of SIP data)
    #[arg(long, value_name = "DURATION", default_value = "16m", value_parser = parse_duration)]
    pub settle_other: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub coverage: CoverageArgs,

    /// How to print the report on stdout
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,

    /// Do not compare the ledger's counts with the table (drift): the one
    /// check that reads the bars of every desired session
    #[arg(long)]
    pub skip_drift: bool,

    /// How many of the newest runs to show
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub runs: i64,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub coverage: CoverageArgs,

    /// How many recorded windows to fetch again
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub sample: usize,

    /// The seed of the random sample; the report prints the one used
    /// [default: random]
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,

    /// Requests the sample may take, at most; windows beyond are left out
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub max_requests: u64,

    /// Requests a minute this run may make (the client-side budget)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 200,
        env = "SEEDCTL_RATE_LIMIT"
    )]
    pub rate_limit: u32,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Leave the database running at the end and print its URL
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// The loopback address to serve on
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8765")]
    pub listen: std::net::SocketAddr,

    /// Accept only this key id (with --secret-key)
    #[arg(
        long,
        value_name = "KEY",
        requires = "secret_key",
        env = "SIM_KEY_ID",
        hide_env_values = true
    )]
    pub key_id: Option<String>,

    /// Accept only this secret key (with --key-id)
    #[arg(
        long,
        value_name = "SECRET",
        requires = "key_id",
        env = "SIM_SECRET_KEY",
        hide_env_values = true
    )]
    pub secret_key: Option<String>,
}

/// `90s`, `2m`, `1h` or a bare number of seconds.
pub fn parse_duration(raw: &str) -> Result<std::time::Duration, String> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{raw}` is not a duration such as 30s, 2m or 1h"))?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("`{raw}` has an unknown unit; use s, m or h")),
    };
    Ok(std::time::Duration::from_secs(seconds))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct CalendarArgs {
    /// First date (inclusive)
    #[arg(long, value_name = "DATE")]
    pub from: NaiveDate,

    /// Last date (inclusive)
    #[arg(long, value_name = "DATE")]
    pub to: NaiveDate,

    /// text for people; csv (`date,open,close`, UTC) and json for programs
    #[arg(long, value_enum, default_value_t = CalendarFormat::Text)]
    pub format: CalendarFormat,
}
