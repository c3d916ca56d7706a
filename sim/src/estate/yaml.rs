//! A YAML document as a tree whose every node knows its line and column,
//! so that a Kubernetes manifest's errors point into the file.
//!
//! Built from yaml-rust2's marked parser events (`MarkedEventReceiver`):
//! the crate's own `Yaml` tree drops the positions.

use std::path::Path;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::scenario::{FieldError, InputError};

/// Most nodes one manifest file may hold (a Deployment and its HPA take a
/// few hundred); a bound so that a huge file is refused, not parsed.
const MAX_NODES: usize = 100_000;

/// What a node holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// A mapping, keys in file order.
    Map(Vec<(String, Node)>),
    /// A sequence.
    Seq(Vec<Node>),
    /// A scalar as written; `plain` when unquoted.
    Scalar { text: String, plain: bool },
}

/// A node and where it starts (1-based line and column).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// Its value.
    pub value: Value,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// Builds the documents from the parser's events.
#[derive(Default)]
struct Builder {
    docs: Vec<Node>,
    /// Open collections, with the key each waits to pair.
    stack: Vec<(Node, Option<String>)>,
    nodes: usize,
    error: Option<(Marker, String)>,
}

impl Builder {
    fn push(&mut self, node: Node, mark: Marker) {
        self.nodes += 1;
        if self.nodes > MAX_NODES && self.error.is_none() {
            self.error = Some((mark, format!("more than {MAX_NODES} YAML nodes")));
        }
        let Some((parent, key)) = self.stack.last_mut() else {
            self.docs.push(node);
            return;
        };
        // A collection starts where its first item or key does (the
        // parser marks a block mapping after its first key).
        let first = match &parent.value {
            Value::Seq(items) => items.is_empty(),
            Value::Map(entries) => entries.is_empty() && key.is_none(),
            Value::Scalar { .. } => false,
        };
        if first {
            (parent.line, parent.column) = (node.line, node.column);
        }
        match &mut parent.value {
            Value::Seq(items) => items.push(node),
            Value::Map(entries) => match key.take() {
                Some(k) => entries.push((k, node)),
                None => match node.value {
                    Value::Scalar { text, .. } => *key = Some(text),
                    _ if self.error.is_none() => {
                        self.error = Some((mark, "a mapping key must be a plain value".into()))
                    }
                    _ => {}
                },
            },
            Value::Scalar { .. } => {}
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let at = |value| Node {
            value,
            line: mark.line(),
            column: mark.col() + 1,
        };
        match ev {
            Event::Scalar(text, style, _, _) => {
                let plain = style == TScalarStyle::Plain;
                self.push(at(Value::Scalar { text, plain }), mark);
            }
            Event::SequenceStart(..) => self.stack.push((at(Value::Seq(Vec::new())), None)),
            Event::MappingStart(..) => self.stack.push((at(Value::Map(Vec::new())), None)),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((node, _)) = self.stack.pop() {
                    self.push(node, mark);
                }
            }
            Event::Alias(_) if self.error.is_none() => {
                self.error = Some((
                    mark,
                    "YAML aliases are not read; write the value out".into(),
                ));
            }
            _ => {}
        }
    }
}

/// Parses `text` (from `path`) into its documents; an empty document
/// (`---` alone) is left out.
pub(crate) fn parse(path: &Path, text: &str) -> Result<Vec<Node>, InputError> {
    let mut builder = Builder::default();
    let located = |mark: Marker, message: String| {
        InputError::Field(Box::new(FieldError {
            file: path.to_path_buf(),
            line: mark.line().max(1),
            column: mark.col() + 1,
            field: String::new(),
            message,
        }))
    };
    Parser::new_from_str(text)
        .load(&mut builder, true)
        .map_err(|e| located(*e.marker(), format!("not valid YAML: {}", e.info())))?;
    if let Some((mark, message)) = builder.error {
        return Err(located(mark, message));
    }
    Ok(builder
        .docs
        .into_iter()
        .filter(|d| !matches!(&d.value, Value::Scalar { text, plain: true } if text.is_empty() || text == "~"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_carry_their_positions() {
        let docs = parse(
            Path::new("m.yaml"),
            "a: 1\nb:\n  - x\n  - \"y\"\n---\nc: {}\n",
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        let Value::Map(entries) = &docs[0].value else {
            panic!("a map")
        };
        assert_eq!(entries[0].0, "a");
        assert_eq!((entries[0].1.line, entries[0].1.column), (1, 4));
        let Value::Seq(items) = &entries[1].1.value else {
            panic!("a sequence")
        };
        assert_eq!((items[1].line, items[1].column), (4, 5));
        assert!(matches!(
            &items[1].value,
            Value::Scalar { plain: false, .. }
        ));
    }

    #[test]
    fn syntax_errors_and_aliases_are_located() {
        let err = parse(Path::new("m.yaml"), "a: [1, 2\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("m.yaml:"), "{err}");
        assert!(err.contains("not valid YAML"), "{err}");
        let err = parse(Path::new("m.yaml"), "a: &x 1\nb: *x\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("m.yaml:2:4:"), "{err}");
    }
}
