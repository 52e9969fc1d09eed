//! `seedctl preflight`: the paper-only checks, run on their own. The same
//! [`gate`] stands in front of every command that fetches or writes.
//!
//! The report (one line per check, then the verdict) goes to stdout; a failed
//! preflight also ends the command with one `error:` line on stderr and exit
//! code 1.

use super::{Outcome, print};
use crate::cli::PreflightArgs;
use crate::db::Target;
use crate::preflight::{self, Environment, PreflightOptions, PreflightReport};

pub async fn run(args: PreflightArgs, database_url: Option<&str>) -> anyhow::Result<Outcome> {
    let options = PreflightOptions {
        require_keys: true,
        online: args.online,
    };
    gate(
        &Environment::from_process(),
        database_url,
        options,
        ReportTo::Stdout,
    )
    .await?;
    Ok(Outcome::Success)
}

/// Where the preflight's report goes: stdout when it is the command's
/// result, stderr when it stands in front of another command's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReportTo {
    Stdout,
    Stderr,
}

/// Runs the preflight, prints its report, and fails with
/// [`preflight::PreflightFailed`] unless every check passed. A command that
/// fetches or writes calls this before anything else and stops on the error.
pub(super) async fn gate(
    env: &Environment,
    database_url: Option<&str>,
    options: PreflightOptions,
    to: ReportTo,
) -> anyhow::Result<PreflightReport> {
    let report = match Target::resolve(database_url) {
        Ok(target) => preflight::run(env, &target, options).await,
        Err(error) => preflight::without_target(env, &error, options),
    };
    match to {
        ReportTo::Stdout => print(&report.render())?,
        ReportTo::Stderr => eprint!("{}", report.render()),
    }
    Ok(report.into_result()?)
}

/// The gate in front of a command that fetches with the account's keys and
/// writes (apply, verify): every check, keys required, the report on stderr
/// since the command's own result owns stdout.
pub(super) async fn gate_fetching(database_url: Option<&str>) -> anyhow::Result<()> {
    let options = PreflightOptions {
        require_keys: true,
        online: false,
    };
    gate(
        &Environment::from_process(),
        database_url,
        options,
        ReportTo::Stderr,
    )
    .await?;
    Ok(())
}
