//! The `seedctl` binary: parse the command line, start logging, run one
//! command, and turn its outcome into the exit code.
//!
//! Exit codes: 0 success (for `plan --detailed-exitcode`: no changes; for
//! `status`: ready), 1 error, 2 changes present (`plan --detailed-exitcode`
//! only), 3 not ready (`status`; for `verify`: sampled windows differ).

use std::process::ExitCode;

use clap::Parser;
use seedctl::cli::Cli;
use seedctl::{commands, logging, spec::SpecError};

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.verbose, cli.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&anyhow::Error::from(e)),
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => fail(&e),
    }
}

/// Prints the error once: a coverage-file error with its source snippet,
/// anything else as one line of context.
fn fail(error: &anyhow::Error) -> ExitCode {
    match error.downcast_ref::<SpecError>() {
        Some(spec_error) => eprintln!("{}", spec_error.render().trim_end()),
        None => eprintln!("error: {error:#}"),
    }
    ExitCode::from(1)
}
