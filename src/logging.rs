//! Log lines on stderr, through `tracing`: one line per meaningful step at
//! info, decisions and queries at debug. stdout is kept for results.

use tracing_subscriber::EnvFilter;

/// `SEEDCTL_LOG` (tracing's filter syntax) wins over the flags when set.
pub fn init(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "warn",
        (false, 0) => "seedctl=info,warn",
        (false, 1) => "seedctl=debug,info",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_env("SEEDCTL_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(verbose > 0)
        .without_time()
        .init();
}
