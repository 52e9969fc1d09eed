//! The paper-only preflight: the checks that must all pass before seedctl
//! fetches a bar or writes a row, so that seeding can never touch a live
//! trading account nor run beside an agent that can place orders.
//!
//! The checks, in the order they are reported:
//!
//! - `TRADING_MODE` is exactly `paper`.
//! - `APCA_API_BASE_URL` is `https://paper-api.alpaca.markets` (a trailing `/`
//!   or `/v2` is tolerated) or an http(s) URL on a loopback address
//!   (127.0.0.0/8, `::1`, `localhost`: the simulator). Alpaca's live host
//!   `https://api.alpaca.markets` is refused by name; unset is refused.
//! - `APCA_API_DATA_URL`, when set, is `https://data.alpaca.markets` (a
//!   trailing `/` is tolerated) or loopback.
//! - `AGENT_MODE` is set to a mode that cannot execute orders: `OFF` or
//!   `READ_ONLY` (case-insensitive, surrounding spaces ignored). Any other
//!   value, unset and empty included, is refused.
//! - `APCA_API_KEY_ID` and `APCA_API_SECRET_KEY` are set, when the caller
//!   requires keys (apply does, `seedctl preflight` does, and `--online`
//!   implies it).
//! - `database`: the database answers.
//! - `bars table`: `public.market_data_1m` is missing (the migrations will
//!   create it) or fits what seedctl writes.
//! - `migrations`: the database knows no migration that this binary does not
//!   (a newer seedctl set it up); pending ones pass, since apply runs them
//!   first.
//! - `authentication` (only when asked, and only when every other check
//!   passed): one `GET /v2/clock` on the trading host proves the keys.
//!
//! Every check runs, whatever failed before it, except the two that would
//! need what failed (the database's tables without a connection, the online
//! request after any failure): those are reported as skipped. Nothing here
//! writes to the database, and the only request is the online one.
//!
//! It is not a sandbox for the rest of the program: the commands that fetch
//! or write call [`run`] first and stop when the report has not passed.

mod database;
mod online;
pub mod urls;

use std::fmt::Write as _;

use tracing::debug;

use crate::db::{DbError, Target};
use crate::secret::Secret;

pub const TRADING_MODE: &str = "TRADING_MODE";
pub const BASE_URL: &str = "APCA_API_BASE_URL";
pub const DATA_URL: &str = "APCA_API_DATA_URL";
pub const AGENT_MODE: &str = "AGENT_MODE";
pub const KEY_ID: &str = "APCA_API_KEY_ID";
pub const SECRET_KEY: &str = "APCA_API_SECRET_KEY";
pub const DATABASE: &str = "database";
pub const BARS_TABLE: &str = "bars table";
pub const MIGRATIONS: &str = "migrations";
pub const AUTHENTICATION: &str = "authentication";

/// The `AGENT_MODE` values under which no agent can place an order.
pub const ACCEPTED_AGENT_MODES: [&str; 2] = ["OFF", "READ_ONLY"];

/// The variables preflight reads, read once. The keys are [`Secret`]s, so
/// this can be logged or put in an error as it is.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub trading_mode: Option<String>,
    pub base_url: Option<String>,
    pub data_url: Option<String>,
    pub agent_mode: Option<String>,
    pub key_id: Option<Secret>,
    pub secret_key: Option<Secret>,
}

impl Environment {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Environment {
        Environment {
            trading_mode: lookup(TRADING_MODE),
            base_url: lookup(BASE_URL),
            data_url: lookup(DATA_URL),
            agent_mode: lookup(AGENT_MODE),
            key_id: lookup(KEY_ID).map(Secret::new),
            secret_key: lookup(SECRET_KEY).map(Secret::new),
        }
    }

    /// The process's environment. A value that is not UTF-8 counts as unset.
    pub fn from_process() -> Environment {
        Environment::from_lookup(|name| std::env::var(name).ok())
    }
}

#[derive(Debug, Clone, Copy)]
pub struct PreflightOptions {
    /// Check that both keys are set (apply needs them; plan does not).
    pub require_keys: bool,
    /// Also prove the keys with one request, after every other check passed.
    pub online: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    Pass(String),
    Fail(String),
    /// Not run, because what it needs failed; never the reason for a failure.
    Skipped(String),
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub outcome: CheckOutcome,
}

impl Check {
    pub fn pass(name: &'static str, message: impl Into<String>) -> Check {
        Check {
            name,
            outcome: CheckOutcome::Pass(message.into()),
        }
    }

    pub fn fail(name: &'static str, message: impl Into<String>) -> Check {
        Check {
            name,
            outcome: CheckOutcome::Fail(message.into()),
        }
    }

    pub fn skipped(name: &'static str, message: impl Into<String>) -> Check {
        Check {
            name,
            outcome: CheckOutcome::Skipped(message.into()),
        }
    }

    pub fn failed(&self) -> bool {
        matches!(self.outcome, CheckOutcome::Fail(_))
    }

    fn render(&self) -> String {
        let (verdict, message) = match &self.outcome {
            CheckOutcome::Pass(m) => ("pass", m),
            CheckOutcome::Fail(m) => ("FAIL", m),
            CheckOutcome::Skipped(m) => ("skip", m),
        };
        format!("{verdict}  {:<19}  {message}", self.name)
    }
}

#[derive(Debug, Clone)]
pub struct PreflightReport {
    pub checks: Vec<Check>,
}

/// A preflight that did not pass, as the error of the command that asked.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "preflight failed ({}): nothing was fetched or written; fix what the FAIL lines on stdout \
     say and run again",
    .failed.join(", ")
)]
pub struct PreflightFailed {
    pub failed: Vec<&'static str>,
}

impl PreflightReport {
    /// True when no check failed. A report with a skipped check always has
    /// a failed one too.
    pub fn passed(&self) -> bool {
        !self.checks.iter().any(Check::failed)
    }

    pub fn failed_names(&self) -> Vec<&'static str> {
        self.checks
            .iter()
            .filter(|c| c.failed())
            .map(|c| c.name)
            .collect()
    }

    /// One line per check, then the verdict: `PREFLIGHT_FAILED: A, B` or
    /// `preflight passed: ...`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for check in &self.checks {
            let _ = writeln!(out, "{}", check.render());
        }
        match self.passed() {
            true => writeln!(out, "preflight passed: {}", self.summary()),
            false => writeln!(out, "PREFLIGHT_FAILED: {}", self.failed_names().join(", ")),
        }
        .expect("writing to a String cannot fail");
        out
    }

    /// The report as a result: the error names the failed checks.
    pub fn into_result(self) -> Result<PreflightReport, PreflightFailed> {
        match self.passed() {
            true => Ok(self),
            false => Err(PreflightFailed {
                failed: self.failed_names(),
            }),
        }
    }

    fn summary(&self) -> String {
        let mut parts = vec!["paper mode".to_string()];
        if let Some(CheckOutcome::Pass(mode)) = self.outcome_of(AGENT_MODE) {
            parts.push(format!("AGENT_MODE={mode}"));
        }
        if let Some(CheckOutcome::Pass(host)) = self.outcome_of(BASE_URL) {
            parts.push(format!("trading host {host}"));
        }
        match self.outcome_of(AUTHENTICATION) {
            Some(_) => parts.push("keys accepted".into()),
            None if self.outcome_of(KEY_ID).is_some() => {
                parts.push("keys set (not tried: --online tries them)".into())
            }
            None => {}
        }
        parts.push(format!("{} checks", self.checks.len()));
        parts.join(", ")
    }

    fn outcome_of(&self, name: &str) -> Option<&CheckOutcome> {
        self.checks
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.outcome)
    }
}

/// Runs every check and reports them all. Never fails itself: a check that
/// cannot be made is a failed check.
pub async fn run(env: &Environment, target: &Target, options: PreflightOptions) -> PreflightReport {
    let mut checks = check_environment(env, options);
    checks.extend(database::check(target).await);
    if options.online {
        let check = match checks.iter().any(Check::failed) {
            true => skip_online(),
            false => online::check_keys(env).await,
        };
        checks.push(check);
    }
    log(&checks);
    PreflightReport { checks }
}

/// The report when the database URL itself is unusable, so that the
/// environment's checks are still all shown.
pub fn without_target(
    env: &Environment,
    error: &DbError,
    options: PreflightOptions,
) -> PreflightReport {
    let mut checks = check_environment(env, options);
    checks.push(Check::fail(DATABASE, error.to_string()));
    let not_checked = "not checked: no database to read";
    checks.push(Check::skipped(BARS_TABLE, not_checked));
    checks.push(Check::skipped(MIGRATIONS, not_checked));
    if options.online {
        checks.push(skip_online());
    }
    log(&checks);
    PreflightReport { checks }
}

fn skip_online() -> Check {
    Check::skipped(
        AUTHENTICATION,
        "not tried: the request is made only when every other check passed",
    )
}

fn log(checks: &[Check]) {
    for check in checks {
        debug!(
            check = check.name,
            failed = check.failed(),
            "preflight check"
        );
    }
}

/// The checks that need only the environment: pure, no I/O.
pub fn check_environment(env: &Environment, options: PreflightOptions) -> Vec<Check> {
    let mut checks = vec![
        check_trading_mode(env.trading_mode.as_deref()),
        check_base_url(env.base_url.as_deref()),
        check_data_url(env.data_url.as_deref()),
        check_agent_mode(env.agent_mode.as_deref()),
    ];
    if options.require_keys || options.online {
        checks.push(check_key(KEY_ID, env.key_id.as_ref()));
        checks.push(check_key(SECRET_KEY, env.secret_key.as_ref()));
    }
    checks
}

fn check_trading_mode(value: Option<&str>) -> Check {
    match value {
        Some("paper") => Check::pass(TRADING_MODE, "paper"),
        None => Check::fail(TRADING_MODE, "not set; set TRADING_MODE=paper"),
        Some(other) => Check::fail(
            TRADING_MODE,
            format!(
                "is {}; it must be exactly \"paper\": seeding never runs in any other mode",
                quoted(other)
            ),
        ),
    }
}

fn check_base_url(value: Option<&str>) -> Check {
    let role = &urls::TRADING;
    match value.filter(|v| !v.trim().is_empty()) {
        None => Check::fail(
            BASE_URL,
            format!(
                "not set; set {BASE_URL}={} (or an http URL on a loopback address for the \
                 simulator)",
                urls::PAPER_TRADING_URL
            ),
        ),
        Some(raw) => url_check(BASE_URL, raw, role),
    }
}

fn check_data_url(value: Option<&str>) -> Check {
    match value {
        None => Check::pass(DATA_URL, format!("not set: {} is used", urls::DATA_URL)),
        Some(raw) if raw.trim().is_empty() => Check::fail(
            DATA_URL,
            format!("is set but empty; unset it or set it to {}", urls::DATA_URL),
        ),
        Some(raw) => url_check(DATA_URL, raw, &urls::DATA),
    }
}

fn url_check(name: &'static str, raw: &str, role: &urls::Role) -> Check {
    match urls::accept(raw, role) {
        Ok(accepted) => Check::pass(name, accepted.describe(role)),
        Err(why) => Check::fail(name, why),
    }
}

/// The accepted mode, in capitals, or why the value is refused.
pub fn agent_mode(value: Option<&str>) -> Result<&'static str, String> {
    let accepted = ACCEPTED_AGENT_MODES.join(" or ");
    let normalized = value.map(|v| v.trim().to_ascii_uppercase());
    match normalized.as_deref() {
        None | Some("") => Err(format!(
            "not set; set AGENT_MODE to {accepted}: seeding refuses to run beside an agent \
             that can place orders"
        )),
        Some(mode) => ACCEPTED_AGENT_MODES
            .into_iter()
            .find(|accepted| *accepted == mode)
            .ok_or_else(|| {
                format!(
                    "is {}; only {accepted} are accepted: seeding refuses to run beside an agent \
                     that can place orders",
                    quoted(value.unwrap_or_default())
                )
            }),
    }
}

fn check_agent_mode(value: Option<&str>) -> Check {
    match agent_mode(value) {
        Ok(mode) => Check::pass(AGENT_MODE, mode),
        Err(why) => Check::fail(AGENT_MODE, why),
    }
}

/// Whether a key is there and usable as a header. The value is never shown.
fn check_key(name: &'static str, key: Option<&Secret>) -> Check {
    let Some(key) = key else {
        return Check::fail(
            name,
            format!("not set; set {name} to the paper account's key"),
        );
    };
    let value = key.expose();
    if key.is_empty() {
        Check::fail(name, "is set but empty")
    } else if value.trim() != value {
        Check::fail(name, "has spaces or line breaks around it; remove them")
    } else if value.chars().any(|c| !c.is_ascii_graphic()) {
        Check::fail(name, "holds characters that cannot be sent in a header")
    } else {
        Check::pass(name, "set (value hidden)")
    }
}

/// A value from the environment as a message shows it: quoted, escaped, and
/// cut short so that a stray long value does not flood the line.
fn quoted(value: &str) -> String {
    const LONGEST: usize = 40;
    match value.char_indices().nth(LONGEST) {
        Some((cut, _)) => format!("{:?}...", &value[..cut]),
        None => format!("{value:?}"),
    }
}

#[cfg(test)]
mod tests;
