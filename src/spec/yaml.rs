//! Parses the text of a coverage file into a small tree of YAML nodes, each
//! with the line and column it was written at.
//!
//! The tree knows nothing about coverage: checking keys and values is the job
//! of the file module, which can then word every message itself and point at
//! the exact node. YAML that does not parse comes back as a [`SyntaxError`]
//! with the parser's own message.

use std::fmt;

use serde::Deserialize;
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, MessageFormatter, Spanned, UserMessageFormatter};

/// Where a node starts (1-based line and character column) and how many
/// characters it spans, for underlining.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
    pub width: usize,
}

impl Pos {
    fn from_location(at: &Location) -> Pos {
        Pos {
            line: (at.line() as usize).max(1),
            column: (at.column() as usize).max(1),
            width: (at.span().len() as usize).max(1),
        }
    }
}

/// A YAML value with its position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub at: Pos,
    pub value: Value,
}

/// A mapping key, which in a coverage file is always a name.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Key {
    pub name: String,
    pub at: Pos,
}

/// The shapes a node can take. Scalars keep the type YAML gave them, so that
/// `trading_days: "30"` can be told apart from `trading_days: 30`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Map(Vec<(Key, Node)>),
    List(Vec<Node>),
    Str(String),
    Int(i128),
    Float(f64),
    Bool(bool),
    Null,
}

impl Value {
    /// How the value reads in a message: "found {describe}".
    pub fn describe(&self) -> String {
        match self {
            Value::Map(_) => "a mapping".to_string(),
            Value::List(_) => "a list".to_string(),
            Value::Str(text) => format!("the string `{text}`"),
            Value::Int(number) => format!("the number {number}"),
            Value::Float(number) => format!("the number {number}"),
            Value::Bool(flag) => format!("the boolean {flag}"),
            Value::Null => "nothing".to_string(),
        }
    }
}

/// YAML that the parser refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub at: Pos,
    pub message: String,
}

/// Parses one YAML document into a node tree.
pub(crate) fn parse(text: &str) -> Result<Node, SyntaxError> {
    // YAML 1.1 reads `ON`, `Y` and `NO` as booleans, and all three are tickers.
    let options = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::from_str_with_options::<Node>(text, options).map_err(|err| {
        let at = err.location().unwrap_or(Location::UNKNOWN);
        let message = UserMessageFormatter.format_message(err.without_snippet());
        SyntaxError {
            at: Pos::from_location(&at),
            message: message.into_owned(),
        }
    })
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        Ok(Node {
            at: Pos::from_location(&spanned.referenced),
            value: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<String>::deserialize(deserializer)?;
        Ok(Key {
            name: spanned.value,
            at: Pos::from_location(&spanned.referenced),
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_str<E>(self, text: &str) -> Result<Value, E> {
        Ok(Value::Str(text.to_string()))
    }

    fn visit_string<E>(self, text: String) -> Result<Value, E> {
        Ok(Value::Str(text))
    }

    fn visit_u64<E>(self, number: u64) -> Result<Value, E> {
        Ok(Value::Int(number.into()))
    }

    fn visit_i64<E>(self, number: i64) -> Result<Value, E> {
        Ok(Value::Int(number.into()))
    }

    fn visit_f64<E>(self, number: f64) -> Result<Value, E> {
        Ok(Value::Float(number))
    }

    fn visit_bool<E>(self, flag: bool) -> Result<Value, E> {
        Ok(Value::Bool(flag))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<Key, Node>()? {
            entries.push(entry);
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: usize, column: usize, width: usize) -> Pos {
        Pos {
            line,
            column,
            width,
        }
    }

    fn map(node: &Node) -> &[(Key, Node)] {
        match &node.value {
            Value::Map(entries) => entries,
            other => panic!("expected a mapping, got {other:?}"),
        }
    }

    #[test]
    fn nodes_carry_their_line_and_column() {
        let root = parse("version: 1\ncoverage:\n  - symbols: [spy]\n").unwrap();
        let top = map(&root);
        assert_eq!(top[0].0.name, "version");
        assert_eq!(
            top[0].1,
            Node {
                at: pos(1, 10, 1),
                value: Value::Int(1)
            }
        );

        let Value::List(entries) = &top[1].1.value else {
            panic!("coverage is a list")
        };
        let entry = map(&entries[0]);
        assert_eq!(entry[0].0.at, pos(3, 5, 7));
        let Value::List(symbols) = &entry[0].1.value else {
            panic!("symbols is a list")
        };
        assert_eq!(
            symbols[0],
            Node {
                at: pos(3, 15, 3),
                value: Value::Str("spy".into())
            }
        );
    }

    #[test]
    fn yaml_1_1_booleans_stay_strings_because_they_are_tickers() {
        let root = parse("[ON, Y, NO, true, 30, 1.5, 2026-01-02, ~]").unwrap();
        let Value::List(items) = root.value else {
            panic!("a list")
        };
        let values: Vec<Value> = items.into_iter().map(|n| n.value).collect();
        let expected = [
            Value::Str("ON".into()),
            Value::Str("Y".into()),
            Value::Str("NO".into()),
            Value::Bool(true),
            Value::Int(30),
            Value::Float(1.5),
            Value::Str("2026-01-02".into()),
            Value::Null,
        ];
        assert_eq!(values, expected);
    }

    #[test]
    fn aliased_nodes_point_at_the_alias() {
        let root = parse("a: &x [SPY]\nb: *x\n").unwrap();
        let top = map(&root);
        assert_eq!(top[1].1.at, pos(2, 4, 2));
        let Value::List(items) = &top[1].1.value else {
            panic!("b is a list")
        };
        assert_eq!(
            items[0],
            Node {
                at: pos(2, 4, 2),
                value: Value::Str("SPY".into())
            }
        );
    }

    #[test]
    fn syntax_errors_say_where_and_what() {
        let cases = [
            ("a: [1, 2\nb: 3\n", 2, "illegal placement of ':' indicator"),
            (
                "a: 1\na: 2\n",
                2,
                "duplicate mapping key `a` is not allowed here",
            ),
            (
                "a: 1\n---\nb: 2\n",
                3,
                "only single YAML document expected but multiple found",
            ),
        ];
        for (text, line, message) in cases {
            let err = parse(text).unwrap_err();
            assert_eq!(
                (err.at.line, err.message.as_str()),
                (line, message),
                "{text:?}"
            );
        }
    }
}
