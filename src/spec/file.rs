//! Checks one coverage file on its own: its shape, its keys and every value,
//! each problem reported at the node it concerns, all of them collected.
//!
//! What needs every file at once (group references, cycles, one symbol asked
//! for by two entries) is left to the merge; the rules for single values
//! (spans, dates, trading days) live in `values`.

use std::str::FromStr;

use super::error::{Diagnostic, Place, Source, SpecError};
use super::values::Settings;
use super::yaml::{self, Key, Node, Pos, Value};
use crate::domain::Symbol;

const TOP_KEYS: &[&str] = &["version", "groups", "coverage"];
const GROUP_KEYS: &[&str] = &["symbols", "groups"];
pub(crate) const ENTRY_KEYS: &[&str] = &[
    "symbols",
    "groups",
    "feed",
    "adjustment",
    "session",
    "trading_days",
    "from",
    "to",
    "include_current",
];

/// The only format version there is so far.
const SUPPORTED_VERSION: i128 = 1;

/// A value and the place it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Located<T> {
    pub value: T,
    pub at: Place,
}

/// The symbols and group references of a group or an entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Members {
    pub symbols: Vec<Located<Symbol>>,
    pub groups: Vec<Located<String>>,
}

impl Members {
    fn is_empty(&self) -> bool {
        self.symbols.is_empty() && self.groups.is_empty()
    }
}

/// A named set of symbols, defined under `groups:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Group {
    pub name: Located<String>,
    pub members: Members,
}

/// One item of `coverage:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub at: Place,
    pub members: Members,
    pub settings: Settings,
}

/// A coverage file that passed its own checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CoverageFile {
    /// The `coverage` key, for the error when no file names a symbol.
    pub coverage_at: Place,
    pub groups: Vec<Group>,
    pub entries: Vec<Entry>,
}

/// Parses and checks the text of the coverage file `name`.
pub(crate) fn check(name: &str, text: &str) -> Result<CoverageFile, SpecError> {
    let source = Source::new(name, text);
    let root = yaml::parse(text).map_err(|err| {
        let message = format!("invalid YAML: {}", err.message);
        SpecError::Syntax(Box::new(Diagnostic::new(source.place(err.at), message)))
    })?;

    let mut checker = Checker {
        source,
        problems: Vec::new(),
    };
    let file = checker.file(&root);
    match (file, SpecError::collect(checker.problems)) {
        (Some(file), None) => Ok(file),
        (_, Some(error)) => Err(error),
        (None, None) => unreachable!("a refused node always records its problem"),
    }
}

/// Walks the node tree and records every problem. Each method returns `None`
/// only after recording why.
pub(crate) struct Checker<'t> {
    source: Source<'t>,
    problems: Vec<SpecError>,
}

impl Checker<'_> {
    pub fn place(&self, at: Pos) -> Place {
        self.source.place(at)
    }

    pub fn invalid(&mut self, at: Pos, message: impl Into<String>) {
        let diagnostic = Diagnostic::new(self.place(at), message);
        self.problems.push(SpecError::Invalid(Box::new(diagnostic)));
    }

    /// Records `message` when `result` is an error.
    pub fn accept<T>(&mut self, at: Pos, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.invalid(at, message)).ok()
    }

    fn expected<T>(&mut self, node: &Node, expected: &str) -> Option<T> {
        self.invalid(
            node.at,
            format!("expected {expected}, found {}", node.value.describe()),
        );
        None
    }

    fn mapping<'n>(&mut self, node: &'n Node, expected: &str) -> Option<&'n [(Key, Node)]> {
        match &node.value {
            Value::Map(fields) => Some(fields),
            _ => self.expected(node, expected),
        }
    }

    fn list<'n>(&mut self, node: &'n Node, expected: &str) -> Option<&'n [Node]> {
        match &node.value {
            Value::List(items) => Some(items),
            _ => self.expected(node, expected),
        }
    }

    pub fn text<'n>(&mut self, node: &'n Node, expected: &str) -> Option<&'n str> {
        match &node.value {
            Value::Str(text) => Some(text),
            _ => self.expected(node, expected),
        }
    }

    /// Parses a string node with the domain's own rules and messages.
    pub fn parsed<T: FromStr<Err = String>>(&mut self, node: &Node, expected: &str) -> Option<T> {
        let text = self.text(node, expected)?;
        self.accept(node.at, text.parse())
    }

    fn known_keys(&mut self, fields: &[(Key, Node)], allowed: &[&str], context: &str) {
        for (key, _) in fields {
            if allowed.contains(&key.name.as_str()) {
                continue;
            }
            let hint = closest(&key.name, allowed.iter().copied())
                .map(|name| format!("; did you mean `{name}`?"))
                .unwrap_or_default();
            let allowed = allowed.join(", ");
            let message = format!(
                "unknown key `{}` {context}; expected one of: {allowed}{hint}",
                key.name
            );
            self.invalid(key.at, message);
        }
    }

    fn file(&mut self, root: &Node) -> Option<CoverageFile> {
        let top = self.mapping(
            root,
            "a coverage file: a mapping with `version: 1` and `coverage:`",
        )?;
        self.known_keys(top, TOP_KEYS, "at the top level");
        self.version(root.at, field(top, "version"));
        let groups = field(top, "groups")
            .map(|node| self.groups(node))
            .unwrap_or_default();

        let Some((coverage_key, coverage)) = field_with_key(top, "coverage") else {
            let message = "missing `coverage`, the list of what to fetch; add `coverage:` with \
                           an entry such as `- { symbols: [SPY], trading_days: 30 }`";
            self.invalid(root.at, message);
            return None;
        };
        let entries = self.entries(coverage)?;
        Some(CoverageFile {
            coverage_at: self.place(coverage_key.at),
            groups,
            entries,
        })
    }

    fn version(&mut self, file_at: Pos, version: Option<&Node>) {
        let Some(node) = version else {
            let message = "missing `version: 1`; every coverage file starts with it";
            return self.invalid(file_at, message);
        };
        match node.value {
            Value::Int(SUPPORTED_VERSION) => {}
            Value::Int(other) => {
                let message = format!(
                    "unsupported version {other}; this seedctl reads coverage files of \
                     `version: {SUPPORTED_VERSION}`"
                );
                self.invalid(node.at, message);
            }
            _ => self.expected(node, "`version: 1`").unwrap_or(()),
        }
    }

    fn groups(&mut self, node: &Node) -> Vec<Group> {
        let Some(definitions) = self.mapping(node, "a mapping of group names to their members")
        else {
            return Vec::new();
        };
        definitions
            .iter()
            .filter_map(|(name, members)| self.group(name, members))
            .collect()
    }

    fn group(&mut self, name: &Key, definition: &Node) -> Option<Group> {
        let valid_name = self.group_name(name);
        let expected = format!(
            "group `{}` to be a mapping with `symbols` and/or `groups`",
            name.name
        );
        let fields = self.mapping(definition, &expected)?;
        self.known_keys(fields, GROUP_KEYS, &format!("in group `{}`", name.name));

        let members = self.members(fields)?;
        if members.is_empty() {
            // An unknown key such as `symbol:` already explains the emptiness.
            if !all_known(fields, GROUP_KEYS) {
                return None;
            }
            let message = format!(
                "group `{}` has no members; give it `symbols: [...]` and/or `groups: [...]`",
                name.name
            );
            self.invalid(name.at, message);
            return None;
        }
        let name = Located {
            value: name.name.clone(),
            at: self.place(name.at),
        };
        valid_name.then_some(Group { name, members })
    }

    fn group_name(&mut self, key: &Key) -> bool {
        let mut chars = key.name.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !valid {
            let message = format!(
                "`{}` is not a valid group name; expected lowercase letters, digits, `_` and `-`, \
                 starting with a letter (for example `index` or `big-tech`)",
                key.name
            );
            self.invalid(key.at, message);
        }
        valid
    }

    fn members(&mut self, fields: &[(Key, Node)]) -> Option<Members> {
        let symbols = field(fields, "symbols").map(|node| self.symbols(node));
        let groups = field(fields, "groups").map(|node| self.group_references(node));
        Some(Members {
            symbols: symbols.unwrap_or(Some(Vec::new()))?,
            groups: groups.unwrap_or(Some(Vec::new()))?,
        })
    }

    fn symbols(&mut self, node: &Node) -> Option<Vec<Located<Symbol>>> {
        let items = self.list(node, "a list of symbols, such as `[SPY, QQQ]`")?;
        let checked: Vec<_> = items.iter().map(|item| self.symbol(item)).collect();
        checked.into_iter().collect()
    }

    fn symbol(&mut self, node: &Node) -> Option<Located<Symbol>> {
        let symbol = self.parsed(node, "a symbol such as `SPY`")?;
        Some(Located {
            value: symbol,
            at: self.place(node.at),
        })
    }

    fn group_references(&mut self, node: &Node) -> Option<Vec<Located<String>>> {
        let items = self.list(node, "a list of group names, such as `[index]`")?;
        let checked: Vec<_> = items
            .iter()
            .map(|item| {
                let name = self.text(item, "a group name")?.to_string();
                Some(Located {
                    value: name,
                    at: self.place(item.at),
                })
            })
            .collect();
        checked.into_iter().collect()
    }

    fn entries(&mut self, node: &Node) -> Option<Vec<Entry>> {
        let items = self.list(node, "a list of coverage entries")?;
        let checked: Vec<_> = items.iter().map(|item| self.entry(item)).collect();
        checked.into_iter().collect()
    }

    fn entry(&mut self, node: &Node) -> Option<Entry> {
        let expected = "a coverage entry: a mapping with `symbols` and a span such as \
                        `trading_days: 30`";
        let fields = self.mapping(node, expected)?;
        self.known_keys(fields, ENTRY_KEYS, "in a coverage entry");

        let members = self.members(fields).filter(|members| {
            let empty = members.is_empty();
            if empty && all_known(fields, ENTRY_KEYS) {
                let message = "this coverage entry names no symbols; add `symbols: [...]` \
                               and/or `groups: [...]`";
                self.invalid(node.at, message);
            }
            !empty
        });
        let settings = self.settings(node.at, fields);
        Some(Entry {
            at: self.place(node.at),
            members: members?,
            settings: settings?,
        })
    }
}

/// Whether every key of a mapping is one of `allowed`. When one is not, its
/// error is enough: a missing key is most likely that one, misspelt.
pub(crate) fn all_known(fields: &[(Key, Node)], allowed: &[&str]) -> bool {
    fields
        .iter()
        .all(|(key, _)| allowed.contains(&key.name.as_str()))
}

/// The value of the key `name`, if the mapping has it.
pub(crate) fn field<'n>(fields: &'n [(Key, Node)], name: &str) -> Option<&'n Node> {
    field_with_key(fields, name).map(|(_, node)| node)
}

pub(crate) fn field_with_key<'n>(
    fields: &'n [(Key, Node)],
    name: &str,
) -> Option<(&'n Key, &'n Node)> {
    fields
        .iter()
        .find(|(key, _)| key.name == name)
        .map(|(key, node)| (key, node))
}

/// The candidate nearest to a misspelt `name`, if one is near enough to be a
/// likely typo.
pub(crate) fn closest<'c>(
    name: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let name = name.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(&name, candidate), candidate))
        .filter(|(distance, candidate)| {
            *distance <= 2 && *distance < name.chars().count().min(candidate.chars().count())
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Adjustment, Feed, SessionKind};
    use crate::spec::Span;

    const NAME: &str = "plans/t.yaml";

    fn problems(text: &str) -> Vec<String> {
        let error = check(NAME, text).expect_err("the file should be refused");
        error
            .problems()
            .iter()
            .map(|problem| problem.to_string())
            .collect()
    }

    fn entry(text: &str) -> String {
        format!("version: 1\ncoverage:\n  - {text}\n")
    }

    #[test]
    fn a_full_entry_keeps_every_setting() {
        let text = "version: 1\ncoverage:\n  - symbols: [spy, BRK.B]\n    feed: sip\n    \
                    adjustment: dividend,split\n    session: regular\n    from: 2026-01-02\n    \
                    include_current: true\n";
        let file = check(NAME, text).unwrap();
        let entry = &file.entries[0];
        let symbols: Vec<_> = entry
            .members
            .symbols
            .iter()
            .map(|s| s.value.to_string())
            .collect();
        assert_eq!(symbols, ["SPY", "BRK.B"]);
        assert_eq!(
            entry.members.symbols[1].at.origin.to_string(),
            "plans/t.yaml:3:20"
        );
        let expected = Settings {
            feed: Feed::Sip,
            adjustment: "split,dividend".parse().unwrap(),
            session: SessionKind::Regular,
            span: Span::Dates {
                from: "2026-01-02".parse().unwrap(),
                to: None,
            },
            include_current: true,
        };
        assert_eq!(entry.settings, expected);
    }

    #[test]
    fn an_entry_defaults_to_iex_raw_extended_without_the_current_session() {
        let file = check(NAME, &entry("{ symbols: [SPY], trading_days: 30 }")).unwrap();
        let expected = Settings {
            feed: Feed::Iex,
            adjustment: Adjustment::RAW,
            session: SessionKind::Extended,
            span: Span::TradingDays(30),
            include_current: false,
        };
        assert_eq!(file.entries[0].settings, expected);
    }

    #[test]
    fn groups_keep_their_members_and_places() {
        let text = "version: 1\ngroups:\n  index: { symbols: [SPY] }\n  desk:\n    groups: \
                    [index]\ncoverage: []\n";
        let file = check(NAME, text).unwrap();
        assert_eq!(file.groups.len(), 2);
        assert_eq!(file.groups[1].name.value, "desk");
        assert_eq!(file.groups[1].members.groups[0].value, "index");
        assert_eq!(
            file.groups[1].members.groups[0].at.origin.to_string(),
            "plans/t.yaml:5:14"
        );
        assert_eq!(file.coverage_at.origin.to_string(), "plans/t.yaml:6:1");
    }

    #[test]
    fn bad_files_are_refused_at_the_node_at_fault() {
        let cases: &[(&str, &str)] = &[
            (
                "",
                "plans/t.yaml:1:1: expected a coverage file: a mapping with `version: 1` and \
                 `coverage:`, found nothing",
            ),
            (
                "coverage: []\n",
                "plans/t.yaml:1:1: missing `version: 1`; every coverage file starts with it",
            ),
            (
                "version: 2\ncoverage: []\n",
                "plans/t.yaml:1:10: unsupported version 2; this seedctl reads coverage files of \
                 `version: 1`",
            ),
            (
                "version: \"1\"\ncoverage: []\n",
                "plans/t.yaml:1:10: expected `version: 1`, found the string `1`",
            ),
            (
                "version: 1\n",
                "plans/t.yaml:1:1: missing `coverage`, the list of what to fetch; add `coverage:` \
                 with an entry such as `- { symbols: [SPY], trading_days: 30 }`",
            ),
            (
                "version: 1\ncoverage: {}\n",
                "plans/t.yaml:2:11: expected a list of coverage entries, found a mapping",
            ),
            (
                "version: 1\ncoverge: []\ncoverage: []\n",
                "plans/t.yaml:2:1: unknown key `coverge` at the top level; expected one of: \
                 version, groups, coverage; did you mean `coverage`?",
            ),
            (
                &entry("{ symbols: [SPY], trading_days: 30, feeed: sip }"),
                "plans/t.yaml:3:41: unknown key `feeed` in a coverage entry; expected one of: \
                 symbols, groups, feed, adjustment, session, trading_days, from, to, \
                 include_current; did you mean `feed`?",
            ),
            (
                &entry("{ symbols: SPY, trading_days: 30 }"),
                "plans/t.yaml:3:16: expected a list of symbols, such as `[SPY, QQQ]`, found the \
                 string `SPY`",
            ),
            (
                &entry("{ symbols: [SPY, 42], trading_days: 30 }"),
                "plans/t.yaml:3:22: expected a symbol such as `SPY`, found the number 42",
            ),
            (
                &entry("{ symbols: [], trading_days: 30 }"),
                "plans/t.yaml:3:5: this coverage entry names no symbols; add `symbols: [...]` \
                 and/or `groups: [...]`",
            ),
            (
                &entry("{ symbol: [SPY], trading_days: 30 }"),
                "plans/t.yaml:3:7: unknown key `symbol` in a coverage entry; expected one of: \
                 symbols, groups, feed, adjustment, session, trading_days, from, to, \
                 include_current; did you mean `symbols`?",
            ),
            (
                &entry("{ symbols: [SPY], trading_day: 30 }"),
                "plans/t.yaml:3:23: unknown key `trading_day` in a coverage entry; expected one \
                 of: symbols, groups, feed, adjustment, session, trading_days, from, to, \
                 include_current; did you mean `trading_days`?",
            ),
            (
                &entry("{ symbols: [SPY], trading_days: 30, feed: 7 }"),
                "plans/t.yaml:3:47: expected a feed (`iex`, `sip`, `otc` or `boats`), found the \
                 number 7",
            ),
            (
                &entry("{ symbols: [SPY], trading_days: \"30\" }"),
                "plans/t.yaml:3:37: expected a whole number of trading days from 1 to 2520, found \
                 the string `30`",
            ),
            (
                &entry("{ symbols: [SPY], trading_days: 0 }"),
                "plans/t.yaml:3:37: the number of trading days must be from 1 to 2520 (about ten \
                 years), found 0",
            ),
            (
                &entry("{ symbols: [SPY], trading_days: 2521 }"),
                "plans/t.yaml:3:37: the number of trading days must be from 1 to 2520 (about ten \
                 years), found 2521",
            ),
            (
                &entry("{ symbols: [SPY], to: 2026-01-02 }"),
                "plans/t.yaml:3:23: `to` needs a `from`: a range of dates starts at `from`; add \
                 `from: YYYY-MM-DD`, or use `trading_days: N` instead",
            ),
            (
                &entry(
                    "{ symbols: [SPY], from: 2026-01-02, to: 2026-03-01, include_current: true }",
                ),
                "plans/t.yaml:3:74: `include_current: true` needs a span that reaches the present \
                 (`trading_days`, or `from` without `to`); remove `to` or `include_current`",
            ),
            (
                &entry("{ symbols: [SPY], trading_days: 5, include_current: yes }"),
                "plans/t.yaml:3:57: expected `true` or `false`, found the string `yes`",
            ),
            (
                "version: 1\ngroups: [a]\ncoverage: []\n",
                "plans/t.yaml:2:9: expected a mapping of group names to their members, found a \
                 list",
            ),
            (
                "version: 1\ngroups:\n  Index: { symbols: [SPY] }\ncoverage: []\n",
                "plans/t.yaml:3:3: `Index` is not a valid group name; expected lowercase letters, \
                 digits, `_` and `-`, starting with a letter (for example `index` or `big-tech`)",
            ),
            (
                "version: 1\ngroups:\n  index:\ncoverage: []\n",
                "plans/t.yaml:3:8: expected group `index` to be a mapping with `symbols` and/or \
                 `groups`, found nothing",
            ),
            (
                "version: 1\ngroups:\n  index: { symbols: [] }\ncoverage: []\n",
                "plans/t.yaml:3:3: group `index` has no members; give it `symbols: [...]` and/or \
                 `groups: [...]`",
            ),
            (
                "version: 1\ngroups:\n  index: { symbol: [SPY] }\ncoverage: []\n",
                "plans/t.yaml:3:12: unknown key `symbol` in group `index`; expected one of: \
                 symbols, groups; did you mean `symbols`?",
            ),
            (
                "version: 1\ngroups:\n  index: { groups: [1] }\ncoverage: []\n",
                "plans/t.yaml:3:21: expected a group name, found the number 1",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(problems(text), [*expected], "{text:?}");
        }
    }

    #[test]
    fn every_problem_in_a_file_is_reported_in_order() {
        let text = "version: 1\ncoverage:\n  - { symbols: [S P], trading_days: 30, feed: IEX }\n  \
                    - { symbols: [SPY] }\n";
        let problems = problems(text);
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[0].starts_with("plans/t.yaml:3:17: `S P` is not a valid symbol"));
        assert!(problems[1].starts_with("plans/t.yaml:3:47: unknown feed `IEX`"));
        assert!(problems[2].starts_with("plans/t.yaml:4:5: this coverage entry has no span"));
    }

    #[test]
    fn syntax_errors_are_their_own_kind() {
        let error = check(NAME, "version: 1\ncoverage: [\n").unwrap_err();
        assert!(matches!(error, SpecError::Syntax(_)), "{error:?}");
        assert!(error.to_string().starts_with("plans/t.yaml:"), "{error}");
    }

    #[test]
    fn typos_suggest_the_nearest_name() {
        let keys = ENTRY_KEYS.iter().copied();
        let cases = [
            ("feeed", Some("feed")),
            ("Symbols", Some("symbols")),
            ("trading_day", Some("trading_days")),
            ("tradingdays", Some("trading_days")),
            ("x", None),
            ("days", None),
            ("ticker", None),
        ];
        for (typo, suggestion) in cases {
            assert_eq!(closest(typo, keys.clone()), suggestion, "{typo}");
        }
    }
}
