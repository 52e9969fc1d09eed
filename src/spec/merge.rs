//! Joins checked coverage files into one target per symbol: groups are shared
//! by all files, so duplicates, unknown references and cycles are found here;
//! then every entry is expanded to its symbols, and a symbol asked for twice
//! must be asked for the same way.
//!
//! Problems of one kind are all reported together, in file order; the next
//! kind is only looked for once the previous one is clean, since an unknown
//! group or a cycle would make the later checks misleading.

use std::collections::btree_map::Entry as Slot;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use petgraph::algo::tarjan_scc;
use petgraph::graphmap::DiGraphMap;

use super::Target;
use super::error::{Diagnostic, Place, SpecError};
use super::file::{CoverageFile, Entry, Group, Located, closest};
use super::values::Settings;
use crate::domain::Symbol;

/// Merges `files`, given in the order they were read.
pub(crate) fn merge(files: &[CoverageFile]) -> Result<Vec<Target>, SpecError> {
    let groups = Groups::index(files)?;
    groups.check_references(files)?;
    groups.check_cycles()?;

    let claims = claims(files, &groups)?;
    if claims.is_empty() {
        return Err(no_symbols(files));
    }
    Ok(claims
        .into_iter()
        .map(|(symbol, claim)| claim.into_target(symbol.clone()))
        .collect())
}

/// Every group of every file, by name and in the order they were defined.
struct Groups<'f> {
    in_order: Vec<&'f Group>,
    by_name: HashMap<&'f str, &'f Group>,
}

impl<'f> Groups<'f> {
    fn index(files: &'f [CoverageFile]) -> Result<Groups<'f>, SpecError> {
        let mut groups = Groups {
            in_order: Vec::new(),
            by_name: HashMap::new(),
        };
        let mut duplicates = Vec::new();
        for group in files.iter().flat_map(|file| &file.groups) {
            let name = group.name.value.as_str();
            match groups.by_name.get(name) {
                Some(first) => duplicates.push(duplicate_group(first, group)),
                None => {
                    groups.by_name.insert(name, group);
                    groups.in_order.push(group);
                }
            }
        }
        SpecError::collect(duplicates).map_or(Ok(groups), Err)
    }

    fn check_references(&self, files: &[CoverageFile]) -> Result<(), SpecError> {
        let references = files.iter().flat_map(|file| {
            let in_groups = file.groups.iter().flat_map(|group| &group.members.groups);
            let in_entries = file.entries.iter().flat_map(|entry| &entry.members.groups);
            in_groups.chain(in_entries)
        });
        let unknown = references
            .filter(|reference| !self.by_name.contains_key(reference.value.as_str()))
            .map(|reference| self.unknown_group(reference))
            .collect();
        SpecError::collect(unknown).map_or(Ok(()), Err)
    }

    fn unknown_group(&self, reference: &Located<String>) -> SpecError {
        let mut names: Vec<&str> = self.by_name.keys().copied().collect();
        names.sort_unstable();
        let name = &reference.value;
        let message = if names.is_empty() {
            format!(
                "unknown group `{name}`; no coverage file defines a group, so add it under \
                 `groups:`"
            )
        } else {
            let hint = closest(name, names.iter().copied())
                .map(|near| format!("did you mean `{near}`? "))
                .unwrap_or_default();
            format!(
                "unknown group `{name}`; {hint}the groups defined are: {}",
                names.join(", ")
            )
        };
        SpecError::UnknownGroup(Box::new(Diagnostic::new(reference.at.clone(), message)))
    }

    /// Refuses groups that include themselves, one error per cycle, each told
    /// from the group of the cycle that was defined first.
    fn check_cycles(&self) -> Result<(), SpecError> {
        let graph = self.graph();
        let defined_at: HashMap<&str, usize> = self
            .in_order
            .iter()
            .enumerate()
            .map(|(i, g)| (g.name.value.as_str(), i))
            .collect();

        let mut cycles: Vec<(usize, Vec<&str>)> = tarjan_scc(&graph)
            .into_iter()
            .filter(|scc| scc.len() > 1 || graph.contains_edge(scc[0], scc[0]))
            .map(|scc| {
                let start = scc
                    .iter()
                    .copied()
                    .min_by_key(|name| defined_at[name])
                    .unwrap_or(scc[0]);
                (defined_at[start], cycle_from(&graph, start, &scc))
            })
            .collect();
        cycles.sort();

        let errors = cycles
            .into_iter()
            .map(|(_, path)| cycle_error(&graph, &path))
            .collect();
        SpecError::collect(errors).map_or(Ok(()), Err)
    }

    /// Groups as nodes, references as edges weighted with the first place
    /// each reference was written.
    fn graph(&self) -> DiGraphMap<&'f str, &'f Located<String>> {
        let mut graph = DiGraphMap::new();
        for group in &self.in_order {
            graph.add_node(group.name.value.as_str());
        }
        for group in &self.in_order {
            let from = group.name.value.as_str();
            for reference in &group.members.groups {
                let to = reference.value.as_str();
                if !graph.contains_edge(from, to) {
                    graph.add_edge(from, to, reference);
                }
            }
        }
        graph
    }

    /// The symbols of a group and of every group it includes, once each.
    /// Only called once the groups are known to have no cycle.
    fn expand(&self, name: &str) -> BTreeSet<&'f Symbol> {
        let mut symbols = BTreeSet::new();
        let mut visited = HashSet::new();
        let mut pending = vec![name];
        while let Some(name) = pending.pop() {
            let Some(group) = self.by_name.get(name).filter(|_| visited.insert(name)) else {
                continue;
            };
            symbols.extend(group.members.symbols.iter().map(|symbol| &symbol.value));
            pending.extend(
                group
                    .members
                    .groups
                    .iter()
                    .map(|reference| reference.value.as_str()),
            );
        }
        symbols
    }
}

fn duplicate_group(first: &Group, second: &Group) -> SpecError {
    let name = &second.name.value;
    let message = format!(
        "group `{name}` is already defined at {}; group names are shared by all coverage \
         files, so rename one of them",
        first.name.at
    );
    let diagnostic = Diagnostic::new(second.name.at.clone(), message)
        .with_related("first defined here", first.name.at.clone());
    SpecError::DuplicateGroup(Box::new(diagnostic))
}

/// The shortest way round a strongly connected set of groups, from `start`
/// back to it: `[a, b, c, a]`.
fn cycle_from<'f>(
    graph: &DiGraphMap<&'f str, &'f Located<String>>,
    start: &'f str,
    members: &[&'f str],
) -> Vec<&'f str> {
    let mut came_from: HashMap<&str, &str> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(group) = queue.pop_front() {
        for next in graph.neighbors(group).filter(|next| members.contains(next)) {
            if next == start {
                let mut path = vec![start, group];
                let mut step = group;
                while step != start {
                    step = came_from[step];
                    path.push(step);
                }
                path.reverse();
                return path;
            }
            if !came_from.contains_key(next) {
                came_from.insert(next, group);
                queue.push_back(next);
            }
        }
    }
    unreachable!("every group of a strongly connected set leads back to `{start}`")
}

fn cycle_error(graph: &DiGraphMap<&str, &Located<String>>, path: &[&str]) -> SpecError {
    let steps: Vec<(&str, &str, &Located<String>)> = path
        .windows(2)
        .map(|pair| (pair[0], pair[1], graph[(pair[0], pair[1])]))
        .collect();
    let (start, next, first) = steps[0];

    let message = format!(
        "group cycle {}, starting here where `{start}` includes `{next}`; a group cannot \
         include itself, so remove one of these references",
        path.join(" -> ")
    );
    let diagnostic = steps[1..].iter().fold(
        Diagnostic::new(first.at.clone(), message),
        |diagnostic, (from, to, reference)| {
            diagnostic.with_related(
                format!("`{from}` includes `{to}` here"),
                reference.at.clone(),
            )
        },
    );
    SpecError::GroupCycle(Box::new(diagnostic))
}

/// One symbol asked for by one entry, directly or through a group.
struct Claim<'f> {
    settings: Settings,
    at: &'f Place,
    via: Option<&'f str>,
}

impl Claim<'_> {
    fn into_target(self, symbol: Symbol) -> Target {
        let Settings {
            feed,
            adjustment,
            session,
            span,
            include_current,
        } = self.settings;
        let origin = self.at.origin.clone();
        Target {
            symbol,
            feed,
            adjustment,
            session,
            span,
            include_current,
            origin,
        }
    }

    fn describe(&self, symbol: &Symbol) -> String {
        match self.via {
            Some(group) => format!("`{symbol}` (through group `{group}`)"),
            None => format!("`{symbol}`"),
        }
    }
}

/// The first claim on each symbol; a later claim must have the same settings.
fn claims<'f>(
    files: &'f [CoverageFile],
    groups: &Groups<'f>,
) -> Result<BTreeMap<&'f Symbol, Claim<'f>>, SpecError> {
    let mut claims = BTreeMap::new();
    let mut conflicts = Vec::new();
    for entry in files.iter().flat_map(|file| &file.entries) {
        for (symbol, claim) in entry_claims(entry, groups) {
            match claims.entry(symbol) {
                Slot::Vacant(slot) => {
                    slot.insert(claim);
                }
                Slot::Occupied(first) if first.get().settings == claim.settings => {}
                Slot::Occupied(first) => conflicts.push(conflict(first.key(), first.get(), &claim)),
            }
        }
    }
    SpecError::collect(conflicts).map_or(Ok(claims), Err)
}

fn entry_claims<'f>(entry: &'f Entry, groups: &Groups<'f>) -> Vec<(&'f Symbol, Claim<'f>)> {
    let settings = entry.settings;
    let direct = entry.members.symbols.iter().map(|symbol| {
        (
            &symbol.value,
            Claim {
                settings,
                at: &symbol.at,
                via: None,
            },
        )
    });
    let through_groups = entry.members.groups.iter().flat_map(|reference| {
        let via = Some(reference.value.as_str());
        let claim = move || Claim {
            settings,
            at: &reference.at,
            via,
        };
        groups
            .expand(&reference.value)
            .into_iter()
            .map(move |symbol| (symbol, claim()))
    });
    direct.chain(through_groups).collect()
}

fn conflict(symbol: &Symbol, first: &Claim, later: &Claim) -> SpecError {
    let differences: Vec<String> = later
        .settings
        .differences(&first.settings)
        .into_iter()
        .map(|(name, here, there)| format!("{name}: {here} here, {there} there"))
        .collect();
    let message = format!(
        "{} is asked for with different settings here and at {} ({}); a symbol is fetched one \
         way only, so make the entries agree or drop the symbol from one of them",
        later.describe(symbol),
        first.at,
        differences.join("; ")
    );
    let note = match first.via {
        Some(group) => format!("first asked for here, through group `{group}`"),
        None => "first asked for here".to_string(),
    };
    let diagnostic =
        Diagnostic::new(later.at.clone(), message).with_related(note, first.at.clone());
    SpecError::Conflict(Box::new(diagnostic))
}

fn no_symbols(files: &[CoverageFile]) -> SpecError {
    let Some(first) = files.first() else {
        return SpecError::NoFiles {
            looked_in: "no path given".to_string(),
        };
    };
    let example = "`- { symbols: [SPY], trading_days: 30 }`";
    let message = match files.len() {
        1 => format!("no symbols to cover: `coverage` is empty; add an entry such as {example}"),
        n => format!(
            "no symbols to cover: `coverage` is empty in all {n} files; add an entry such as \
             {example} to one of them"
        ),
    };
    SpecError::NoSymbols(Box::new(Diagnostic::new(
        first.coverage_at.clone(),
        message,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Feed;
    use crate::spec::Span;
    use crate::spec::file::check;

    fn merged(files: &[(&str, &str)]) -> Result<Vec<Target>, SpecError> {
        let checked: Vec<CoverageFile> = files
            .iter()
            .map(|(name, text)| check(name, text).unwrap())
            .collect();
        merge(&checked)
    }

    fn problems(files: &[(&str, &str)]) -> Vec<String> {
        let error = merged(files).expect_err("the merge should fail");
        error
            .problems()
            .iter()
            .map(|problem| problem.to_string())
            .collect()
    }

    fn symbols(targets: &[Target]) -> Vec<String> {
        targets
            .iter()
            .map(|target| target.symbol.to_string())
            .collect()
    }

    const INDEX: &str = "version: 1\ngroups:\n  index: { symbols: [SPY, QQQ] }\n  desk:\n    \
                         symbols: [AAPL]\n    groups: [index]\ncoverage: []\n";

    #[test]
    fn groups_from_any_file_expand_to_sorted_unique_targets() {
        let entries =
            "version: 1\ncoverage:\n  - { symbols: [QQQ], groups: [desk], trading_days: 30 }\n";
        let targets = merged(&[("g.yaml", INDEX), ("c.yaml", entries)]).unwrap();
        assert_eq!(symbols(&targets), ["AAPL", "QQQ", "SPY"]);
        assert_eq!(
            targets[1].origin.to_string(),
            "c.yaml:3:17",
            "direct symbols keep their place"
        );
        assert_eq!(
            targets[0].origin.to_string(),
            "c.yaml:3:32",
            "group symbols point at the reference"
        );
        assert!(targets.iter().all(|t| t.span == Span::TradingDays(30)));
    }

    #[test]
    fn the_same_symbol_with_the_same_settings_is_merged() {
        let a = "version: 1\ncoverage:\n  - { symbols: [SPY, SPY], trading_days: 30 }\n";
        let b = "version: 1\ncoverage:\n  - { symbols: [spy], trading_days: 30, feed: iex }\n";
        let targets = merged(&[("a.yaml", a), ("b.yaml", b)]).unwrap();
        assert_eq!(symbols(&targets), ["SPY"]);
        assert_eq!(targets[0].origin.to_string(), "a.yaml:3:17");
    }

    #[test]
    fn the_same_symbol_with_other_settings_names_both_places_and_the_difference() {
        let a = "version: 1\ncoverage:\n  - { symbols: [SPY], trading_days: 30 }\n";
        let b = "version: 1\ncoverage:\n  - { symbols: [SPY], trading_days: 5, feed: sip }\n";
        let problems = problems(&[("a.yaml", a), ("b.yaml", b)]);
        let expected = "b.yaml:3:17: `SPY` is asked for with different settings here and at \
                        a.yaml:3:17 (feed: sip here, iex there; span: the last 5 trading days \
                        here, the last 30 trading days there); a symbol is fetched one way only, \
                        so make the entries agree or drop the symbol from one of them";
        assert_eq!(problems, [expected]);
    }

    #[test]
    fn conflicts_through_groups_say_which_group() {
        let entries = "version: 1\ncoverage:\n  - { groups: [index], trading_days: 30 }\n  \
                       - { symbols: [SPY], trading_days: 30, feed: sip }\n";
        let error = merged(&[("g.yaml", INDEX), ("c.yaml", entries)]).unwrap_err();
        let diagnostic = error.diagnostic().expect("one conflict");
        let expected = "`SPY` is asked for with different settings here and at c.yaml:3:16 \
                        (feed: sip here, iex there)";
        assert!(
            diagnostic.message.starts_with(expected),
            "{}",
            diagnostic.message
        );
        assert_eq!(
            diagnostic.related[0].0,
            "first asked for here, through group `index`"
        );

        let reversed = "version: 1\ncoverage:\n  - { symbols: [SPY], trading_days: 30 }\n  \
                        - { groups: [desk], trading_days: 30, feed: sip }\n";
        let error = merged(&[("g.yaml", INDEX), ("c.yaml", reversed)]).unwrap_err();
        let expected = "c.yaml:4:16: `SPY` (through group `desk`) is asked for with different";
        assert!(error.to_string().starts_with(expected), "{error}");
    }

    #[test]
    fn duplicate_groups_name_both_definitions() {
        let other = "version: 1\ngroups:\n  index: { symbols: [DIA] }\ncoverage: []\n";
        let error = merged(&[("a.yaml", INDEX), ("b.yaml", other)]).unwrap_err();
        let SpecError::DuplicateGroup(diagnostic) = &error else {
            panic!("{error:?}")
        };
        assert_eq!(diagnostic.at.to_string(), "b.yaml:3:3");
        assert_eq!(diagnostic.related[0].1.to_string(), "a.yaml:3:3");
        assert!(
            diagnostic
                .message
                .starts_with("group `index` is already defined at a.yaml:3:3;")
        );
    }

    #[test]
    fn unknown_groups_are_reported_at_each_reference() {
        let text = "version: 1\ngroups:\n  index: { symbols: [SPY], groups: [etf] }\ncoverage:\n  \
                    - { groups: [indx], trading_days: 30 }\n";
        let problems = problems(&[("a.yaml", text)]);
        let expected = [
            "a.yaml:3:37: unknown group `etf`; the groups defined are: index",
            "a.yaml:5:16: unknown group `indx`; did you mean `index`? the groups defined are: \
             index",
        ];
        assert_eq!(problems, expected);

        let lonely = "version: 1\ncoverage:\n  - { groups: [index], trading_days: 30 }\n";
        assert_eq!(
            problems_of(lonely),
            [
                "a.yaml:3:16: unknown group `index`; no coverage file defines a group, so add it \
                 under `groups:`"
            ]
        );
    }

    fn problems_of(text: &str) -> Vec<String> {
        problems(&[("a.yaml", text)])
    }

    #[test]
    fn cycles_are_named_in_order_from_the_first_defined_group() {
        let cases = [
            ("  a: { groups: [a] }\n", "a -> a"),
            (
                "  a: { groups: [b] }\n  b: { groups: [a] }\n",
                "a -> b -> a",
            ),
            (
                "  z: { symbols: [SPY] }\n  c: { groups: [a] }\n  a: { groups: [b, z] }\n  b: { \
                 groups: [c] }\n",
                "c -> a -> b -> c",
            ),
            (
                "  a: { groups: [b, c] }\n  b: { groups: [c] }\n  c: { groups: [a] }\n",
                "a -> c -> a",
            ),
        ];
        for (groups, cycle) in cases {
            let text = format!("version: 1\ngroups:\n{groups}coverage: []\n");
            let error = merged(&[("g.yaml", &text)]).unwrap_err();
            assert!(matches!(error, SpecError::GroupCycle(_)), "{error:?}");
            let expected = format!("group cycle {cycle}, starting here");
            assert!(error.to_string().contains(&expected), "{groups}: {error}");
        }
    }

    #[test]
    fn a_cycle_points_at_the_reference_where_it_starts_and_notes_the_rest() {
        let text = "version: 1\ngroups:\n  a: { groups: [b] }\n  b: { groups: [c] }\n  \
                    c: { groups: [a] }\ncoverage: []\n";
        let error = merged(&[("g.yaml", text)]).unwrap_err();
        let diagnostic = error.diagnostic().unwrap();
        assert_eq!(diagnostic.at.to_string(), "g.yaml:3:17");
        let notes: Vec<String> = diagnostic
            .related
            .iter()
            .map(|(note, at)| format!("{note} {at}"))
            .collect();
        assert_eq!(
            notes,
            [
                "`b` includes `c` here g.yaml:4:17",
                "`c` includes `a` here g.yaml:5:17"
            ]
        );
    }

    #[test]
    fn separate_cycles_are_each_reported() {
        let text =
            "version: 1\ngroups:\n  a: { groups: [a] }\n  b: { groups: [b] }\ncoverage: []\n";
        let problems = problems_of(text);
        assert_eq!(problems.len(), 2);
        assert!(problems[1].contains("group cycle b -> b"), "{problems:#?}");
    }

    #[test]
    fn diamonds_are_not_cycles() {
        let text = "version: 1\ngroups:\n  a: { groups: [b, c] }\n  b: { groups: [d] }\n  \
                    c: { groups: [d] }\n  d: { symbols: [SPY] }\ncoverage:\n  \
                    - { groups: [a], feed: sip, trading_days: 1 }\n";
        let targets = merged(&[("g.yaml", text)]).unwrap();
        assert_eq!(symbols(&targets), ["SPY"]);
        assert_eq!(targets[0].feed, Feed::Sip);
    }

    #[test]
    fn coverage_without_symbols_says_what_to_add() {
        let error = merged(&[("g.yaml", INDEX)]).unwrap_err();
        assert!(matches!(error, SpecError::NoSymbols(_)));
        assert!(
            error
                .to_string()
                .starts_with("g.yaml:7:1: no symbols to cover: `coverage` is empty;")
        );
        let two =
            merged(&[("g.yaml", INDEX), ("h.yaml", "version: 1\ncoverage: []\n")]).unwrap_err();
        assert!(two.to_string().contains("is empty in all 2 files"), "{two}");
    }
}
