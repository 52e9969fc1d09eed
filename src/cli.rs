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
    max_term_width = 100
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

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Coverage files or directories of them [default: plans/, or the runbook's
    /// ALPACA_SYMBOLS, ALPACA_FEED and ALPACA_BACKFILL_TRADING_DAYS when set]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// The plan's clock: a date (end of that day in New York) or an RFC 3339
    /// timestamp [default: now]
    #[arg(long, value_name = "DATE|TIMESTAMP")]
    pub as_of: Option<String>,

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

    /// Requests a minute the Alpaca account allows, for the time estimate
    #[arg(
        long,
        value_name = "N",
        default_value_t = 200,
        env = "SEEDCTL_RATE_LIMIT"
    )]
    pub rate_limit: u32,
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
