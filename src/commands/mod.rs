//! One module per subcommand. Each resolves what the user typed into
//! settings, does its work, and returns an [`Outcome`]; turning outcomes and
//! errors into exit codes happens once, in `main`.

mod apply;
mod calendar;
mod demo;
mod migrate;
mod plan;
mod preflight;
mod sim;
mod status;
mod verify;

use std::io::Write;

use chrono::Utc;

use crate::cli::{Cli, Command, CoverageArgs};
use crate::plan::AsOf;
use crate::spec::{self, Spec};

/// How a command ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// `plan --detailed-exitcode` found work to do.
    ChangesPresent,
    /// `status` found the table not ready, or `verify` found windows that
    /// differ from the source.
    NotReady,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::ChangesPresent => 2,
            Outcome::NotReady => 3,
        }
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let database_url = cli.database_url.as_deref();
    match cli.command {
        Command::Plan(args) => plan::run(args, database_url).await,
        Command::Apply(args) => apply::run(args, database_url).await,
        Command::Status(args) => status::run(args, database_url).await,
        Command::Verify(args) => verify::run(args, database_url).await,
        Command::Calendar(args) => calendar::run(args),
        Command::Demo(args) => demo::run(args).await,
        Command::Sim(args) => sim::run(args).await,
        Command::Migrate => migrate::run(database_url).await,
        Command::Preflight(args) => preflight::run(args, database_url).await,
    }
}

/// Writes a command's result to stdout. A reader that went away (`| head`)
/// is not an error worth a message.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// The spec and the clock that `--as-of` and the paths (or the runbook's
/// variables) name, as plan, status and verify read them.
pub fn resolve_coverage(args: &CoverageArgs) -> anyhow::Result<(Spec, AsOf)> {
    let as_of = AsOf::parse(args.as_of.as_deref(), Utc::now()).map_err(anyhow::Error::msg)?;
    let spec = spec::resolve(&args.paths, |name| std::env::var(name).ok())?;
    Ok((spec, as_of))
}
