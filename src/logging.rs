//! Log lines on stderr, through `tracing`: one line per meaningful step at
//! info, decisions and queries at debug. stdout is kept for results.
//!
//! On a terminal, spans that ask for one (`indicatif.pb_show`) get a progress
//! bar that log lines print above without tearing; elsewhere (CI, pipes) the
//! log lines alone tell the progress.

use std::io::IsTerminal;

use tracing::{Event, Level, Subscriber};
use tracing_indicatif::IndicatifLayer;
use tracing_indicatif::filter::IndicatifFilter;
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

/// `SEEDCTL_LOG` (tracing's filter syntax) wins over the flags when set.
pub fn init(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "warn",
        (false, 0) => "seedctl=info,warn",
        (false, 1) => "seedctl=debug,info",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_env("SEEDCTL_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    let terminal = std::io::stderr().is_terminal();
    let lines = fmt::layer().event_format(Line {
        target: verbose > 0,
        ansi: terminal,
    });

    if terminal {
        let bars = IndicatifLayer::new();
        tracing_subscriber::registry()
            .with(filter)
            .with(lines.with_writer(bars.get_stderr_writer()))
            .with(bars.with_filter(IndicatifFilter::new(false)))
            .init();
    } else {
        tracing_subscriber::registry()
            .with(filter)
            .with(lines.with_writer(std::io::stderr))
            .init();
    }
}

/// One log line: the level, then the message and its fields, with no span
/// names in front, so that `SPY: upserted N bars ...` reads as the runbook
/// wrote it whatever span it was logged in.
struct Line {
    target: bool,
    ansi: bool,
}

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: format::Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        let level = meta.level().as_str();
        let colour = match *meta.level() {
            Level::ERROR => "31",
            Level::WARN => "33",
            Level::INFO => "32",
            _ => "2",
        };
        if self.ansi {
            write!(writer, "\x1b[{colour}m{level:>5}\x1b[0m ")?;
        } else {
            write!(writer, "{level:>5} ")?;
        }
        if self.target {
            write!(writer, "{}: ", meta.target())?;
        }
        ctx.format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
