//! The spec: what coverage is wanted, per symbol, after every coverage file
//! (or the runbook's environment variables) has been read, checked and merged.
//!
//! A [`Spec`] is plain data with exactly one [`Target`] per symbol, each
//! remembering where it was declared. Turning a span into sessions and minutes
//! is not done here: that needs the calendar and the plan's clock.
//!
//! The pieces: `yaml` parses text into positioned nodes, `file` checks one
//! file's shape and keys, `values` the settings of an entry, `merge` joins
//! files (groups, cycles, conflicts), `env` reads the variables, `sources`
//! lists the files behind the paths given, and `error` describes and renders
//! what went wrong.

mod env;
mod error;
mod file;
mod merge;
mod sources;
mod values;
mod yaml;

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::{Adjustment, Feed, SessionKind, Symbol};

pub use env::from_env;
pub use error::{Diagnostic, Place, SpecError};

/// Where coverage files are read from when no path is given.
pub const DEFAULT_PLANS_DIR: &str = "plans";

/// The merged coverage: exactly one target per symbol, sorted by symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Spec {
    pub targets: Vec<Target>,
}

/// What is wanted for one symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    pub symbol: Symbol,
    pub feed: Feed,
    pub adjustment: Adjustment,
    pub session: SessionKind,
    pub span: Span,
    /// Also cover the session in progress, up to the feed's delay.
    pub include_current: bool,
    /// Where the symbol was declared: its place in an entry's `symbols`, or
    /// the entry's reference to the group it came through.
    pub origin: Origin,
}

/// Which trading days a target covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Span {
    /// The last N completed trading days as of the plan's clock.
    TradingDays(u32),
    /// A fixed range of days, both ends included; without `to`, up to the
    /// plan's clock.
    Dates {
        from: NaiveDate,
        to: Option<NaiveDate>,
    },
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Span::TradingDays(1) => f.write_str("the last trading day"),
            Span::TradingDays(days) => write!(f, "the last {days} trading days"),
            Span::Dates { from, to: None } => write!(f, "{from} onward"),
            Span::Dates { from, to: Some(to) } => write!(f, "{from} to {to}"),
        }
    }
}

/// Where something was declared: a file with line and column (1-based), or
/// the environment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Origin {
    /// The path as the user gave it, or [`Origin::ENVIRONMENT`].
    pub source: String,
    pub line: usize,
    pub column: usize,
}

impl Origin {
    /// The `source` of targets built from `ALPACA_SYMBOLS`.
    pub const ENVIRONMENT: &'static str = "environment";
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.source == Origin::ENVIRONMENT {
            write!(f, "environment variable {}", env::SYMBOLS)
        } else {
            write!(f, "{}:{}:{}", self.source, self.line, self.column)
        }
    }
}

/// Reads, checks and merges the coverage files behind `paths`: files as they
/// are, directories for their `*.yaml` and `*.yml` files (not recursive),
/// sorted by name. Every problem found in the files is reported, in file
/// order; problems across files (groups, conflicts) once the files are sound.
pub fn load(paths: &[PathBuf]) -> Result<Spec, SpecError> {
    let files = sources::list(paths)?;

    let mut checked = Vec::new();
    let mut problems = Vec::new();
    for path in &files {
        match read_and_check(path) {
            Ok(file) => checked.push(file),
            Err(error) => problems.push(error),
        }
    }
    if let Some(error) = SpecError::collect(problems) {
        return Err(error);
    }

    merge::merge(&checked).map(|targets| Spec { targets })
}

fn read_and_check(path: &Path) -> Result<file::CoverageFile, SpecError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|err| SpecError::Read {
        path: name.clone(),
        reason: err.to_string(),
    })?;
    file::check(&name, &text)
}

/// The command line's rule: the paths when any are given; otherwise the
/// runbook's environment variables when `ALPACA_SYMBOLS` is set; otherwise
/// the coverage files in `plans/`.
pub fn resolve(
    paths: &[PathBuf],
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Spec, SpecError> {
    if !paths.is_empty() {
        return load(paths);
    }
    match from_env(lookup)? {
        Some(spec) => Ok(spec),
        None => load(&[PathBuf::from(DEFAULT_PLANS_DIR)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_sentences() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let cases = [
            (Span::TradingDays(1), "the last trading day"),
            (Span::TradingDays(30), "the last 30 trading days"),
            (
                Span::Dates {
                    from: day("2026-01-02"),
                    to: None,
                },
                "2026-01-02 onward",
            ),
            (
                Span::Dates {
                    from: day("2026-01-02"),
                    to: Some(day("2026-03-31")),
                },
                "2026-01-02 to 2026-03-31",
            ),
        ];
        for (span, text) in cases {
            assert_eq!(span.to_string(), text);
        }
    }

    #[test]
    fn origins_name_the_file_place_or_the_variable() {
        let file = Origin {
            source: "plans/paper-seed.yaml".into(),
            line: 5,
            column: 5,
        };
        assert_eq!(file.to_string(), "plans/paper-seed.yaml:5:5");
        let env = Origin {
            source: Origin::ENVIRONMENT.into(),
            line: 1,
            column: 5,
        };
        assert_eq!(env.to_string(), "environment variable ALPACA_SYMBOLS");
    }

    #[test]
    fn targets_serialize_with_readable_spans() {
        let target = Target {
            symbol: "spy".parse().unwrap(),
            feed: Feed::Iex,
            adjustment: Adjustment::RAW,
            session: SessionKind::Extended,
            span: Span::Dates {
                from: "2026-01-02".parse().unwrap(),
                to: None,
            },
            include_current: false,
            origin: Origin {
                source: "plans/a.yaml".into(),
                line: 3,
                column: 15,
            },
        };
        let expected = serde_json::json!({
            "symbol": "SPY",
            "feed": "iex",
            "adjustment": "raw",
            "session": "extended",
            "span": { "dates": { "from": "2026-01-02", "to": null } },
            "include_current": false,
            "origin": { "source": "plans/a.yaml", "line": 3, "column": 15 },
        });
        assert_eq!(serde_json::to_value(&target).unwrap(), expected);
    }

    #[test]
    fn load_reports_the_problems_of_every_file_before_merging() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &[u8]| std::fs::write(dir.path().join(name), text).unwrap();
        write(
            "a.yaml",
            b"version: 1\ncoverage:\n  - { symbols: [SPY], feed: nope }\n",
        );
        write("b.yaml", b"version: 1\ncoverage: [\n");
        write("c.yaml", b"version: 1\ncoverage: []\n\xff\n");

        let error = load(&[dir.path().to_path_buf()]).unwrap_err();
        let kinds: Vec<&str> = error
            .problems()
            .iter()
            .map(|problem| match problem {
                SpecError::Invalid(_) => "invalid",
                SpecError::Syntax(_) => "syntax",
                SpecError::Read { .. } => "read",
                _ => "other",
            })
            .collect();
        assert_eq!(
            kinds,
            ["invalid", "invalid", "syntax", "read"],
            "{}",
            error.render()
        );
    }

    #[test]
    fn windows_line_endings_do_not_reach_the_rendering() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.yaml");
        std::fs::write(
            &file,
            "version: 1\r\ncoverage:\r\n  - { symbols: [S P] }\r\n",
        )
        .unwrap();

        let error = load(std::slice::from_ref(&file)).unwrap_err();
        let rendered = error.render();
        assert!(
            rendered.contains("3 |   - { symbols: [S P] }\n"),
            "{rendered:?}"
        );
        assert!(!rendered.contains('\r'));
    }

    #[test]
    fn resolve_prefers_paths_then_environment_then_plans() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.yaml");
        std::fs::write(
            &file,
            "version: 1\ncoverage:\n  - { symbols: [QQQ], trading_days: 5 }\n",
        )
        .unwrap();
        let env = |name: &str| (name == "ALPACA_SYMBOLS").then(|| "SPY".to_string());
        let symbols = |spec: Spec| -> Vec<String> {
            spec.targets.iter().map(|t| t.symbol.to_string()).collect()
        };

        assert_eq!(
            symbols(resolve(std::slice::from_ref(&file), env).unwrap()),
            ["QQQ"]
        );
        assert_eq!(symbols(resolve(&[], env).unwrap()), ["SPY"]);
    }
}
