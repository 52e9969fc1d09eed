//! Builds the spec from the runbook's environment variables, for the setups
//! that predate coverage files: `ALPACA_SYMBOLS` (comma-separated tickers),
//! `ALPACA_FEED` (default `iex`) and `ALPACA_BACKFILL_TRADING_DAYS` (default
//! 30), always the extended session with raw prices.
//!
//! The values go through the same rules as a coverage file, and errors point
//! into the variable's value. The environment is passed in as a lookup
//! function; this module never reads the process environment itself.

use std::collections::BTreeMap;

use super::error::{Diagnostic, Place, SpecError};
use super::values::{self, MAX_TRADING_DAYS};
use super::{Origin, Span, Spec, Target};
use crate::domain::{Adjustment, Feed, SessionKind, Symbol};

pub(crate) const SYMBOLS: &str = "ALPACA_SYMBOLS";
const FEED: &str = "ALPACA_FEED";
const TRADING_DAYS: &str = "ALPACA_BACKFILL_TRADING_DAYS";
const DEFAULT_TRADING_DAYS: u32 = 30;

/// The spec the environment asks for, or `None` when `ALPACA_SYMBOLS` is
/// unset. A variable set to an empty string counts as unset.
pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Spec>, SpecError> {
    let value = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
    let Some(symbols) = value(SYMBOLS) else {
        return Ok(None);
    };

    let feed = match value(FEED) {
        Some(raw) => parse_variable(FEED, &raw, str::parse::<Feed>),
        None => Ok(Feed::Iex),
    };
    let days = match value(TRADING_DAYS) {
        Some(raw) => parse_variable(TRADING_DAYS, &raw, trading_days),
        None => Ok(DEFAULT_TRADING_DAYS),
    };
    let symbols = parse_symbols(&symbols);

    match (feed, days, symbols) {
        (Ok(feed), Ok(days), Ok(symbols)) => Ok(Some(spec(feed, days, symbols))),
        (feed, days, symbols) => {
            let errors = [feed.err(), days.err(), symbols.err()]
                .into_iter()
                .flatten()
                .collect();
            Err(SpecError::collect(errors).expect("at least one variable was refused"))
        }
    }
}

fn spec(feed: Feed, days: u32, symbols: BTreeMap<Symbol, usize>) -> Spec {
    let target = |(symbol, column)| Target {
        symbol,
        feed,
        adjustment: Adjustment::RAW,
        session: SessionKind::Extended,
        span: Span::TradingDays(days),
        include_current: false,
        origin: Origin {
            source: Origin::ENVIRONMENT.to_string(),
            line: 1,
            column,
        },
    };
    Spec {
        targets: symbols.into_iter().map(target).collect(),
    }
}

/// Checks the whole value of a variable, surrounding blanks aside.
fn parse_variable<T>(
    name: &'static str,
    raw: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T, SpecError> {
    let (column, text) = trimmed(raw, 0);
    parse(text).map_err(|message| invalid(name, raw, column, text, message))
}

fn trading_days(text: &str) -> Result<u32, String> {
    let expected = format!(
        "expected a whole number of trading days from 1 to {MAX_TRADING_DAYS}, found `{text}`"
    );
    text.parse::<i128>()
        .map_err(|_| expected)
        .and_then(values::trading_days)
}

/// The symbols of `ALPACA_SYMBOLS`, each with the column it starts at. Empty
/// items (`SPY,,QQQ` or a trailing comma) are skipped.
fn parse_symbols(raw: &str) -> Result<BTreeMap<Symbol, usize>, SpecError> {
    let mut symbols = BTreeMap::new();
    let mut errors = Vec::new();
    let mut offset = 0;
    for item in raw.split(',') {
        let (column, text) = trimmed(item, offset);
        offset += item.chars().count() + 1;
        if text.is_empty() {
            continue;
        }
        match text.parse::<Symbol>() {
            Ok(symbol) => {
                symbols.entry(symbol).or_insert(column);
            }
            Err(message) => errors.push(invalid(SYMBOLS, raw, column, text, message)),
        }
    }

    if let Some(error) = SpecError::collect(errors) {
        return Err(error);
    }
    if symbols.is_empty() {
        let message = "names no symbols; list tickers separated by commas, such as SPY,QQQ,AAPL, \
                       or unset it to read coverage files from plans/";
        return Err(invalid(SYMBOLS, raw, 1, raw, message.to_string()));
    }
    Ok(symbols)
}

/// `text` without surrounding blanks, and the 1-based character column it
/// starts at when `text` itself starts after `offset` characters.
fn trimmed(text: &str, offset: usize) -> (usize, &str) {
    let start = text.len() - text.trim_start().len();
    let leading = text[..start].chars().count();
    (offset + leading + 1, text.trim())
}

fn invalid(name: &'static str, raw: &str, column: usize, text: &str, message: String) -> SpecError {
    let at = Place::variable(name, raw, column, text.chars().count());
    SpecError::Invalid(Box::new(Diagnostic::new(at, message)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        move |name| {
            vars.iter()
                .find(|(n, _)| n == name)
                .map(|(_, value)| value.clone())
        }
    }

    fn problems(vars: &[(&str, &str)]) -> Vec<String> {
        let error = from_env(lookup(vars)).expect_err("the variables should be refused");
        error
            .problems()
            .iter()
            .map(|problem| problem.to_string())
            .collect()
    }

    #[test]
    fn no_symbols_variable_means_no_spec_from_the_environment() {
        assert_eq!(from_env(lookup(&[("ALPACA_FEED", "sip")])), Ok(None));
        assert_eq!(from_env(lookup(&[("ALPACA_SYMBOLS", "  ")])), Ok(None));
    }

    #[test]
    fn symbols_get_the_runbook_defaults() {
        let spec = from_env(lookup(&[("ALPACA_SYMBOLS", "spy, QQQ,,AAPL,SPY,")]))
            .unwrap()
            .unwrap();
        let symbols: Vec<String> = spec.targets.iter().map(|t| t.symbol.to_string()).collect();
        assert_eq!(symbols, ["AAPL", "QQQ", "SPY"]);

        let spy = &spec.targets[2];
        assert_eq!(
            (spy.feed, spy.adjustment, spy.session),
            (Feed::Iex, Adjustment::RAW, SessionKind::Extended)
        );
        assert_eq!(
            (spy.span, spy.include_current),
            (Span::TradingDays(30), false)
        );
        assert_eq!(
            spy.origin,
            Origin {
                source: "environment".into(),
                line: 1,
                column: 1
            }
        );
        assert_eq!(spec.targets[0].origin.column, 11);
        assert_eq!(
            spy.origin.to_string(),
            "environment variable ALPACA_SYMBOLS"
        );
    }

    #[test]
    fn feed_and_trading_days_come_from_their_variables() {
        let vars = [
            ("ALPACA_SYMBOLS", "SPY"),
            ("ALPACA_FEED", " sip "),
            ("ALPACA_BACKFILL_TRADING_DAYS", "5"),
        ];
        let spec = from_env(lookup(&vars)).unwrap().unwrap();
        assert_eq!(spec.targets[0].feed, Feed::Sip);
        assert_eq!(spec.targets[0].span, Span::TradingDays(5));
    }

    #[test]
    fn bad_values_name_the_variable() {
        type Variables<'a> = &'a [(&'a str, &'a str)];
        let cases: &[(Variables, &[&str])] = &[
            (
                &[("ALPACA_SYMBOLS", "SPY"), ("ALPACA_FEED", "IEXX")],
                &[
                    "environment variable ALPACA_FEED: unknown feed `IEXX`: expected one of `iex`, \
                     `sip`, `otc`, `boats`",
                ],
            ),
            (
                &[
                    ("ALPACA_SYMBOLS", "SPY"),
                    ("ALPACA_BACKFILL_TRADING_DAYS", "thirty"),
                ],
                &[
                    "environment variable ALPACA_BACKFILL_TRADING_DAYS: expected a whole number of \
                     trading days from 1 to 2520, found `thirty`",
                ],
            ),
            (
                &[
                    ("ALPACA_SYMBOLS", "SPY"),
                    ("ALPACA_BACKFILL_TRADING_DAYS", "9999"),
                ],
                &[
                    "environment variable ALPACA_BACKFILL_TRADING_DAYS: the number of trading days \
                     must be from 1 to 2520 (about ten years), found 9999",
                ],
            ),
            (
                &[("ALPACA_SYMBOLS", ",, ,")],
                &[
                    "environment variable ALPACA_SYMBOLS: names no symbols; list tickers separated \
                     by commas, such as SPY,QQQ,AAPL, or unset it to read coverage files from \
                     plans/",
                ],
            ),
        ];
        for (vars, expected) in cases {
            assert_eq!(problems(vars), *expected, "{vars:?}");
        }
    }

    #[test]
    fn every_bad_symbol_and_variable_is_reported() {
        let vars = [
            ("ALPACA_SYMBOLS", "SPY,S P, 1AB"),
            ("ALPACA_FEED", "delayed_sip"),
        ];
        let problems = problems(&vars);
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[0].starts_with("environment variable ALPACA_FEED: unknown feed"));
        assert!(problems[1].contains("`S P` is not a valid symbol"));
        assert!(problems[2].contains("`1AB` is not a valid symbol"));
    }

    #[test]
    fn errors_point_into_the_value() {
        let error = from_env(lookup(&[("ALPACA_SYMBOLS", "SPY, S P")])).unwrap_err();
        let expected = [
            "error: `S P` is not a valid symbol: expected a ticker of 1 to 10 letters or digits, \
             optionally with one `.` or `/` class suffix (for example `SPY` or `BRK.B`)",
            "--> environment variable ALPACA_SYMBOLS",
            " |",
            " | ALPACA_SYMBOLS=SPY, S P",
            " |                     ^^^",
        ];
        assert_eq!(error.render(), expected.join("\n"));
    }
}
