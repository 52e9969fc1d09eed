//! The settings of a coverage entry and the rules for their values: feed,
//! adjustment and session by the domain's own parsers; the span (trading days
//! or a range of dates) and `include_current` by the rules here, which the
//! environment variables share.
//!
//! Shape and keys of the file are checked in `file`; this module only looks
//! at the values of one entry.

use chrono::NaiveDate;

use super::Span;
use super::file::{Checker, ENTRY_KEYS, all_known, field, field_with_key};
use super::yaml::{Key, Node, Pos, Value};
use crate::domain::{Adjustment, Feed, SessionKind};

/// The longest span in trading days: about ten years of sessions.
pub(crate) const MAX_TRADING_DAYS: u32 = 2520;

/// Everything about an entry but its symbols. Two entries that ask for one
/// symbol must agree on all of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Settings {
    pub feed: Feed,
    pub adjustment: Adjustment,
    pub session: SessionKind,
    pub span: Span,
    pub include_current: bool,
}

impl Settings {
    /// The settings that differ, as `(name, these, those)`.
    pub fn differences(&self, other: &Settings) -> Vec<(&'static str, String, String)> {
        let pairs = [
            ("feed", self.feed.to_string(), other.feed.to_string()),
            (
                "adjustment",
                self.adjustment.to_string(),
                other.adjustment.to_string(),
            ),
            (
                "session",
                self.session.to_string(),
                other.session.to_string(),
            ),
            ("span", self.span.to_string(), other.span.to_string()),
            (
                "include_current",
                self.include_current.to_string(),
                other.include_current.to_string(),
            ),
        ];
        pairs
            .into_iter()
            .filter(|(_, these, those)| these != those)
            .collect()
    }
}

/// Checks a number of trading days.
pub(crate) fn trading_days(days: i128) -> Result<u32, String> {
    u32::try_from(days)
        .ok()
        .filter(|days| (1..=MAX_TRADING_DAYS).contains(days))
        .ok_or_else(|| {
            format!(
                "the number of trading days must be from 1 to {MAX_TRADING_DAYS} (about ten \
                 years), found {days}"
            )
        })
}

/// Parses a day written as YYYY-MM-DD.
pub(crate) fn date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("`{text}` is not a date; expected YYYY-MM-DD, for example 2026-01-02"))
}

impl Checker<'_> {
    /// The settings of an entry, defaults filled in.
    pub fn settings(&mut self, entry_at: Pos, fields: &[(Key, Node)]) -> Option<Settings> {
        let feed = self.setting(
            fields,
            "feed",
            Feed::Iex,
            "a feed (`iex`, `sip`, `otc` or `boats`)",
        );
        let adjustment = self.setting(
            fields,
            "adjustment",
            Adjustment::RAW,
            "an adjustment (`raw`, `all`, or a combination such as `split,dividend`)",
        );
        let session = self.setting(
            fields,
            "session",
            SessionKind::Extended,
            "a session (`extended` or `regular`)",
        );
        let span = self.span(entry_at, fields);
        let include_current = self.include_current(fields, span);

        Some(Settings {
            feed: feed?,
            adjustment: adjustment?,
            session: session?,
            span: span?,
            include_current: include_current?,
        })
    }

    fn setting<T: std::str::FromStr<Err = String>>(
        &mut self,
        fields: &[(Key, Node)],
        name: &str,
        default: T,
        expected: &str,
    ) -> Option<T> {
        match field(fields, name) {
            Some(node) => self.parsed(node, expected),
            None => Some(default),
        }
    }

    fn span(&mut self, entry_at: Pos, fields: &[(Key, Node)]) -> Option<Span> {
        let days = field(fields, "trading_days");
        let from = field_with_key(fields, "from");
        let to = field_with_key(fields, "to");

        if let (Some(_), Some((key, _))) = (days, from.or(to)) {
            let message = format!(
                "`trading_days` and `{}` cannot be used together: an entry covers either the \
                 last N trading days or a range of dates; remove one of them",
                key.name
            );
            self.invalid(key.at, message);
            return None;
        }

        match (days, from, to) {
            (Some(days), _, _) => self.trading_days(days).map(Span::TradingDays),
            (None, Some((_, from)), to) => self.dates(from, to.map(|(_, node)| node)),
            (None, None, Some((key, _))) => {
                let message = "`to` needs a `from`: a range of dates starts at `from`; add \
                               `from: YYYY-MM-DD`, or use `trading_days: N` instead";
                self.invalid(key.at, message);
                None
            }
            (None, None, None) if !all_known(fields, ENTRY_KEYS) => None,
            (None, None, None) => {
                let message = "this coverage entry has no span; add `trading_days: N` for the \
                               last N completed trading days, or `from: YYYY-MM-DD` with an \
                               optional `to:`";
                self.invalid(entry_at, message);
                None
            }
        }
    }

    fn trading_days(&mut self, node: &Node) -> Option<u32> {
        let checked = match node.value {
            Value::Int(days) => trading_days(days),
            _ => Err(format!(
                "expected a whole number of trading days from 1 to {MAX_TRADING_DAYS}, found {}",
                node.value.describe()
            )),
        };
        self.accept(node.at, checked)
    }

    fn dates(&mut self, from: &Node, to: Option<&Node>) -> Option<Span> {
        let first = self.date(from);
        let last = match to {
            Some(node) => self.date(node).map(Some),
            None => Some(None),
        };
        let (first, last) = (first?, last?);

        if let (Some(last), Some(to)) = (last, to)
            && last < first
        {
            let message = format!(
                "`to` ({last}) is before `from` ({first}); a range runs from its first day to \
                 its last, both included"
            );
            self.invalid(to.at, message);
            return None;
        }
        Some(Span::Dates {
            from: first,
            to: last,
        })
    }

    fn date(&mut self, node: &Node) -> Option<NaiveDate> {
        let text = self.text(node, "a date such as 2026-01-02")?;
        self.accept(node.at, date(text))
    }

    fn include_current(&mut self, fields: &[(Key, Node)], span: Option<Span>) -> Option<bool> {
        let Some(node) = field(fields, "include_current") else {
            return Some(false);
        };
        let Value::Bool(include) = node.value else {
            let found = node.value.describe();
            self.invalid(
                node.at,
                format!("expected `true` or `false`, found {found}"),
            );
            return None;
        };

        if include && let Some(Span::Dates { to: Some(_), .. }) = span {
            let message = "`include_current: true` needs a span that reaches the present \
                           (`trading_days`, or `from` without `to`); remove `to` or \
                           `include_current`";
            self.invalid(node.at, message);
            return None;
        }
        Some(include)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::file::check;

    fn entry_problems(entry: &str) -> Vec<String> {
        let text = format!("version: 1\ncoverage:\n  - {entry}\n");
        let error = check("t.yaml", &text).expect_err("the entry should be refused");
        error
            .problems()
            .iter()
            .map(|problem| problem.to_string())
            .collect()
    }

    fn span_of(entry: &str) -> Span {
        let text = format!("version: 1\ncoverage:\n  - {entry}\n");
        check("t.yaml", &text).unwrap().entries[0].settings.span
    }

    #[test]
    fn spans_are_trading_days_or_dates() {
        let day = |text: &str| text.parse::<NaiveDate>().unwrap();
        let cases = [
            ("{ symbols: [SPY], trading_days: 1 }", Span::TradingDays(1)),
            (
                "{ symbols: [SPY], trading_days: 2520 }",
                Span::TradingDays(2520),
            ),
            (
                "{ symbols: [SPY], from: 2026-01-02 }",
                Span::Dates {
                    from: day("2026-01-02"),
                    to: None,
                },
            ),
            (
                "{ symbols: [SPY], from: 2026-01-02, to: 2026-01-02 }",
                Span::Dates {
                    from: day("2026-01-02"),
                    to: Some(day("2026-01-02")),
                },
            ),
        ];
        for (entry, span) in cases {
            assert_eq!(span_of(entry), span, "{entry}");
        }
    }

    #[test]
    fn span_rules_are_enforced_where_the_mistake_is() {
        let cases = [
            (
                "{ symbols: [SPY], trading_days: 5, from: 2026-01-02 }",
                "t.yaml:3:40: `trading_days` and `from` cannot be used together",
            ),
            (
                "{ symbols: [SPY], trading_days: 5, to: 2026-01-02 }",
                "t.yaml:3:40: `trading_days` and `to` cannot be used together",
            ),
            (
                "{ symbols: [SPY] }",
                "t.yaml:3:5: this coverage entry has no span",
            ),
            (
                "{ symbols: [SPY], from: 2026-02-01, to: 2026-01-31 }",
                "t.yaml:3:45: `to` (2026-01-31) is before `from` (2026-02-01)",
            ),
            (
                "{ symbols: [SPY], from: 2026-02-30 }",
                "t.yaml:3:29: `2026-02-30` is not a date; expected YYYY-MM-DD",
            ),
            (
                "{ symbols: [SPY], from: 20260102 }",
                "t.yaml:3:29: expected a date such as 2026-01-02, found the number 20260102",
            ),
            (
                "{ symbols: [SPY], trading_days: 1.5 }",
                "t.yaml:3:37: expected a whole number of trading days from 1 to 2520, found the \
                 number 1.5",
            ),
            (
                "{ symbols: [SPY], trading_days: -3 }",
                "t.yaml:3:37: the number of trading days must be from 1 to 2520",
            ),
        ];
        for (entry, expected) in cases {
            let problems = entry_problems(entry);
            assert_eq!(problems.len(), 1, "{entry}: {problems:#?}");
            assert!(
                problems[0].starts_with(expected),
                "{entry}: {}",
                problems[0]
            );
        }
    }

    #[test]
    fn settings_use_the_domain_parsers_and_their_messages() {
        let cases = [
            (
                "feed: delayed_sip",
                "unknown feed `delayed_sip`: expected one of `iex`, `sip`, `otc`, `boats`",
            ),
            (
                "adjustment: splits",
                "unknown adjustment `splits` in `splits`",
            ),
            (
                "session: overnight",
                "unknown session `overnight`: expected `regular` or `extended`",
            ),
        ];
        for (setting, expected) in cases {
            let problems =
                entry_problems(&format!("{{ symbols: [SPY], trading_days: 5, {setting} }}"));
            assert!(problems[0].contains(expected), "{setting}: {problems:#?}");
        }
    }

    #[test]
    fn include_current_needs_an_open_span() {
        let open = "{ symbols: [SPY], from: 2026-01-02, include_current: true }";
        let text = format!("version: 1\ncoverage:\n  - {open}\n");
        assert!(
            check("t.yaml", &text).unwrap().entries[0]
                .settings
                .include_current
        );

        let closed = "{ symbols: [SPY], from: 2026-01-02, to: 2026-02-02, include_current: false }";
        let text = format!("version: 1\ncoverage:\n  - {closed}\n");
        assert!(check("t.yaml", &text).is_ok());

        let problems = entry_problems(&closed.replace("false", "true"));
        assert!(
            problems[0].contains("needs a span that reaches the present"),
            "{problems:#?}"
        );
    }

    #[test]
    fn differences_name_each_setting_that_differs() {
        let base = Settings {
            feed: Feed::Iex,
            adjustment: Adjustment::RAW,
            session: SessionKind::Extended,
            span: Span::TradingDays(30),
            include_current: false,
        };
        let other = Settings {
            feed: Feed::Sip,
            span: Span::TradingDays(5),
            ..base
        };
        let differences = base.differences(&other);
        let expected = [
            ("feed", "iex".to_string(), "sip".to_string()),
            (
                "span",
                "the last 30 trading days".to_string(),
                "the last 5 trading days".to_string(),
            ),
        ];
        assert_eq!(differences, expected);
        assert!(base.differences(&base).is_empty());
    }
}
