//! What can be wrong with coverage, where it is, and how it is shown: one line
//! for logs (`file:line:column: message`) and a plain-text rendering with the
//! offending source line and a caret under the column, for people.
//!
//! This module only describes and renders problems; finding them is the job
//! of the file, merge and environment modules.

use std::fmt;

use super::Origin;
use super::yaml::Pos;

/// A place a problem points at: a line and column of a coverage file, or an
/// environment variable. Carries the text of the line so that an error can be
/// rendered without reading the file again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub origin: Origin,
    /// Set when the place is an environment variable rather than a file.
    variable: Option<&'static str>,
    line_text: String,
    width: usize,
}

impl Place {
    /// A place inside the value of an environment variable; `column` and
    /// `width` count characters of the value.
    pub(crate) fn variable(name: &'static str, value: &str, column: usize, width: usize) -> Place {
        let origin = Origin {
            source: Origin::ENVIRONMENT.to_string(),
            line: 1,
            column,
        };
        let line_text = format!("{name}={value}");
        Place {
            origin,
            variable: Some(name),
            line_text,
            width,
        }
    }

    /// Where the caret goes within `line_text`, 1-based.
    fn caret_column(&self) -> usize {
        match self.variable {
            Some(name) => name.chars().count() + 1 + self.origin.column,
            None => self.origin.column,
        }
    }

    fn gutter_label(&self) -> String {
        match self.variable {
            Some(_) => String::new(),
            None => self.origin.line.to_string(),
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.variable {
            Some(name) => write!(f, "environment variable {name}"),
            None => self.origin.fmt(f),
        }
    }
}

/// The text of one coverage file, kept while it is checked so that every
/// place found in it can carry its source line.
pub(crate) struct Source<'t> {
    pub name: &'t str,
    lines: Vec<&'t str>,
}

impl<'t> Source<'t> {
    pub fn new(name: &'t str, text: &'t str) -> Source<'t> {
        let lines = text
            .lines()
            .map(|line| line.strip_suffix('\r').unwrap_or(line))
            .collect();
        Source { name, lines }
    }

    pub fn place(&self, at: Pos) -> Place {
        let line_text = self.lines.get(at.line - 1).copied().unwrap_or_default();
        let origin = Origin {
            source: self.name.to_string(),
            line: at.line,
            column: at.column,
        };
        Place {
            origin,
            variable: None,
            line_text: line_text.to_string(),
            width: at.width,
        }
    }
}

/// One problem at one place, with other places that explain it (the first
/// definition of a duplicate, the other side of a conflict).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    pub at: Place,
    pub related: Vec<(String, Place)>,
}

impl Diagnostic {
    pub(crate) fn new(at: Place, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            at,
            related: Vec::new(),
        }
    }

    pub(crate) fn with_related(mut self, note: impl Into<String>, at: Place) -> Diagnostic {
        self.related.push((note.into(), at));
        self
    }

    fn render(&self) -> String {
        let gutter = std::iter::once(&self.at)
            .chain(self.related.iter().map(|(_, at)| at))
            .map(|at| at.gutter_label().len())
            .max()
            .unwrap_or(0);

        let mut out = format!("error: {}\n", self.message);
        out.push_str(&snippet(&self.at, gutter));
        for (note, at) in &self.related {
            out.push_str(&format!("\nnote: {note}\n"));
            out.push_str(&snippet(at, gutter));
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// The source line of `at` with a caret under its column, in the layout
/// compilers use. Tabs before the column are kept so the caret lines up.
fn snippet(at: &Place, gutter: usize) -> String {
    let blank = " ".repeat(gutter);
    let column = at.caret_column();
    let line_chars = at.line_text.chars().count();

    let indent: String = at
        .line_text
        .chars()
        .chain(std::iter::repeat(' '))
        .take(column - 1)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let width = at.width.min((line_chars + 1).saturating_sub(column)).max(1);

    let label = at.gutter_label();
    format!(
        "{blank}--> {at}\n{blank} |\n{label:>gutter$} | {}\n{blank} | {indent}{}",
        at.line_text,
        "^".repeat(width)
    )
}

/// Everything that can make coverage unusable. `Display` is one line,
/// `file:line:column: message`; [`SpecError::render`] adds the source line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// A path given on the command line (or the default `plans`) that does
    /// not exist.
    #[error(
        "{path}: no such file or directory; pass coverage files or directories of them \
         (the default is plans/), or set ALPACA_SYMBOLS when no path is given"
    )]
    Missing { path: String },

    /// A file or directory that exists but cannot be read.
    #[error("{path}: cannot read it: {reason}")]
    Read { path: String, reason: String },

    /// The paths given hold no `*.yaml` or `*.yml` file.
    #[error(
        "{looked_in}: no coverage files found (looked for *.yaml and *.yml, not in \
         subdirectories); add one, for example a copy of plans/paper-seed.yaml"
    )]
    NoFiles { looked_in: String },

    /// Text that is not valid YAML.
    #[error("{0}")]
    Syntax(Box<Diagnostic>),

    /// A key or value that the coverage format does not allow.
    #[error("{0}")]
    Invalid(Box<Diagnostic>),

    /// A reference to a group that no file defines.
    #[error("{0}")]
    UnknownGroup(Box<Diagnostic>),

    /// One group name defined in two places.
    #[error("{0}")]
    DuplicateGroup(Box<Diagnostic>),

    /// Groups that contain themselves through their references.
    #[error("{0}")]
    GroupCycle(Box<Diagnostic>),

    /// One symbol asked for with different settings in two places.
    #[error("{0}")]
    Conflict(Box<Diagnostic>),

    /// Coverage that parses and checks but names no symbol at all.
    #[error("{0}")]
    NoSymbols(Box<Diagnostic>),

    /// Several of the above, in file order; always two or more.
    #[error("{}", summary(.0))]
    Several(Vec<SpecError>),
}

/// The first problem of several, and how many follow.
fn summary(errors: &[SpecError]) -> String {
    match errors {
        [] => "no problems".to_string(),
        [only] => only.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    }
}

impl SpecError {
    /// Folds a list of problems into one error: `None` when there are none.
    /// Nested lists are flattened, so that `Several` counts every problem.
    pub(crate) fn collect(errors: Vec<SpecError>) -> Option<SpecError> {
        let mut errors: Vec<SpecError> = errors
            .into_iter()
            .flat_map(|error| match error {
                SpecError::Several(inner) => inner,
                single => vec![single],
            })
            .collect();
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(SpecError::Several(errors)),
        }
    }

    /// The errors this one stands for: itself, or each of several.
    pub fn problems(&self) -> Vec<&SpecError> {
        match self {
            SpecError::Several(errors) => errors.iter().flat_map(SpecError::problems).collect(),
            single => vec![single],
        }
    }

    /// A plain-text, multi-line rendering for a terminal or a snapshot: each
    /// problem with its source line and a caret under the column. No colours,
    /// no trailing newline.
    pub fn render(&self) -> String {
        self.problems()
            .iter()
            .map(|error| error.render_one())
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    fn render_one(&self) -> String {
        match self.diagnostic() {
            Some(diagnostic) => diagnostic.render(),
            None => format!("error: {self}"),
        }
    }

    /// The located problem, for the variants that have one.
    pub fn diagnostic(&self) -> Option<&Diagnostic> {
        match self {
            SpecError::Syntax(d)
            | SpecError::Invalid(d)
            | SpecError::UnknownGroup(d)
            | SpecError::DuplicateGroup(d)
            | SpecError::GroupCycle(d)
            | SpecError::Conflict(d)
            | SpecError::NoSymbols(d) => Some(d.as_ref()),
            SpecError::Missing { .. }
            | SpecError::Read { .. }
            | SpecError::NoFiles { .. }
            | SpecError::Several(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(text: &str, line: usize, column: usize, width: usize) -> Place {
        Source::new("plans/desk.yaml", text).place(Pos {
            line,
            column,
            width,
        })
    }

    #[test]
    fn display_is_one_line_with_file_line_and_column() {
        let at = place("version: 1\n  feeed: sip\n", 2, 3, 5);
        let error = SpecError::Invalid(Box::new(Diagnostic::new(at, "unknown key `feeed`")));
        assert_eq!(
            error.to_string(),
            "plans/desk.yaml:2:3: unknown key `feeed`"
        );
    }

    #[test]
    fn render_puts_a_caret_under_the_column() {
        let at = place("version: 1\n  feeed: sip\n", 2, 3, 5);
        let rendered =
            SpecError::Invalid(Box::new(Diagnostic::new(at, "unknown key `feeed`"))).render();
        let expected = [
            "error: unknown key `feeed`",
            " --> plans/desk.yaml:2:3",
            "  |",
            "2 |   feeed: sip",
            "  |   ^^^^^",
        ];
        assert_eq!(rendered, expected.join("\n"));
    }

    #[test]
    fn carets_keep_tabs_and_stay_on_their_line() {
        let at = place("a:\t[x, y,\n  z]\n", 1, 4, 40);
        let rendered = Diagnostic::new(at, "m").render();
        assert!(
            rendered.ends_with("1 | a:\t[x, y,\n  |   \t^^^^^^"),
            "{rendered:?}"
        );
    }

    #[test]
    fn variables_render_as_name_equals_value() {
        let at = Place::variable("ALPACA_FEED", "IEXX", 1, 4);
        let rendered = Diagnostic::new(at.clone(), "unknown feed").render();
        assert_eq!(at.to_string(), "environment variable ALPACA_FEED");
        let expected = [
            "error: unknown feed",
            "--> environment variable ALPACA_FEED",
            " |",
            " | ALPACA_FEED=IEXX",
            " |             ^^^^",
        ];
        assert_eq!(rendered, expected.join("\n"));
    }

    #[test]
    fn related_places_share_the_gutter() {
        let first = place(&"x\n".repeat(12), 12, 1, 1);
        let second = place("x\n", 1, 1, 1);
        let rendered = Diagnostic::new(second, "twice")
            .with_related("first here", first)
            .render();
        assert!(rendered.contains(" 1 | x\n"), "{rendered}");
        assert!(
            rendered.contains("note: first here\n  --> plans/desk.yaml:12:1\n"),
            "{rendered}"
        );
    }

    #[test]
    fn several_errors_show_the_first_and_count_the_rest() {
        let one = SpecError::Invalid(Box::new(Diagnostic::new(place("a\n", 1, 1, 1), "first")));
        let two = SpecError::NoFiles {
            looked_in: "plans".into(),
        };
        let several = SpecError::collect(vec![one.clone(), two.clone()]).unwrap();
        assert_eq!(
            several.to_string(),
            "plans/desk.yaml:1:1: first (and 1 more)"
        );
        assert_eq!(
            several.render(),
            format!("{}\n\n{}", one.render(), two.render())
        );
        let nested = SpecError::collect(vec![several.clone(), one.clone()]).unwrap();
        assert_eq!(
            nested.to_string(),
            "plans/desk.yaml:1:1: first (and 2 more)"
        );
        assert_eq!(SpecError::collect(vec![one.clone()]), Some(one));
        assert_eq!(SpecError::collect(Vec::new()), None);
    }
}
