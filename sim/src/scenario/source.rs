//! Reading a TOML file and turning every problem into an error that names
//! the file, line, column and field.

use std::cell::RefCell;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// A problem with a scenario or input file, located in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The dotted field path, e.g. `mmc.arrival_rate`; empty for the whole file.
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "field `{}`: ", self.field)?;
        }
        write!(f, "{}", self.message)
    }
}

/// Why an input file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file could not be read.
    #[error("{}: cannot read the file: {reason}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        reason: std::io::Error,
    },
    /// The file was read but a field is wrong.
    #[error("{0}")]
    Field(Box<FieldError>),
}

thread_local! {
    /// The hash of the files read so far by [`hashing_inputs`] on this
    /// thread (loading runs on one thread), `None` when nobody asks.
    static INPUTS: RefCell<Option<Sha256>> = const { RefCell::new(None) };
}

/// Runs `load` and returns its result with the SHA-256 (hex) of the
/// contents of every input file it read, in the order read (each file's
/// length, then its bytes; paths are left out, so the same files reached
/// from another directory hash the same). Two loads with the same hash
/// read the same bytes.
pub fn hashing_inputs<T>(load: impl FnOnce() -> T) -> (T, String) {
    let outer = INPUTS.with(|inputs| inputs.borrow_mut().replace(Sha256::new()));
    let value = load();
    let hasher = INPUTS.with(|inputs| std::mem::replace(&mut *inputs.borrow_mut(), outer));
    let digest = hasher.map(Sha256::finalize).unwrap_or_default();
    let hex = digest.iter().map(|b| format!("{b:02x}")).collect();
    (value, hex)
}

/// Reads the text of the input file at `path`. Anything but a regular file
/// (a device such as `/dev/zero`, a pipe) is refused before reading, and a
/// byte that is not UTF-8 is reported at its line and column.
pub fn read_text(path: &Path) -> Result<String, InputError> {
    let read_error = |reason| InputError::Read {
        path: path.to_path_buf(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(read_error)?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "a device, pipe or socket"
        };
        return Err(read_error(std::io::Error::other(format!(
            "it is {what}; allowed: a file"
        ))));
    }
    let bytes = std::fs::read(path).map_err(read_error)?;
    INPUTS.with(|inputs| {
        if let Some(hasher) = inputs.borrow_mut().as_mut() {
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(&bytes);
        }
    });
    String::from_utf8(bytes).map_err(|err| {
        let valid = err.utf8_error().valid_up_to();
        let bytes = err.as_bytes();
        let text = String::from_utf8_lossy(&bytes[..valid]);
        let (line, column) = line_column(&text, valid);
        InputError::Field(Box::new(FieldError {
            file: path.to_path_buf(),
            line,
            column,
            field: String::new(),
            message: format!(
                "byte 0x{:02x} is not UTF-8 text; allowed: a text file in UTF-8",
                bytes[valid]
            ),
        }))
    })
}

/// The text of a TOML file, kept to locate errors.
pub struct Source {
    path: PathBuf,
    text: String,
    doc: Option<toml_edit::Document<String>>,
}

impl Source {
    /// Reads `path`: a regular file of UTF-8 text. Devices and pipes are
    /// refused unread; a byte that is not UTF-8 is located.
    pub fn read(path: &Path) -> Result<Self, InputError> {
        Ok(Self::from_text(path, read_text(path)?))
    }

    /// A source from text already in memory; `path` labels its errors.
    pub fn from_text(path: &Path, text: String) -> Self {
        let doc = toml_edit::Document::parse(text.clone()).ok();
        Source {
            path: path.to_path_buf(),
            text,
            doc,
        }
    }

    /// The file this source came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Deserialises the whole file into `T`. Syntax errors, unknown fields,
    /// wrong types and unparsable values come back located.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, InputError> {
        let de = toml::Deserializer::parse(&self.text)
            .map_err(|err| self.toml_error(String::new(), &err))?;
        let value = serde_path_to_error::deserialize(de).map_err(|err| {
            let field = clean_path(&err.path().to_string());
            self.toml_error(field, &err.into_inner())
        })?;
        self.check_text_sizes()?;
        Ok(value)
    }

    /// A TOML syntax or deserialisation error at `field` (empty when the
    /// error does not know it), located by its span or by the field's.
    fn toml_error(&self, mut field: String, err: &toml::de::Error) -> InputError {
        let offset = err
            .span()
            .map(|s| s.start)
            .or_else(|| self.span_of(&field).map(|s| s.start))
            .unwrap_or(0);
        if field.is_empty() {
            field = field_at_offset(&self.text, offset);
        }
        let rest = self.text.get(offset..).unwrap_or("");
        let cut_after_equals = rest.trim().is_empty()
            && self
                .text
                .get(..offset)
                .is_some_and(|t| t.trim_end().ends_with('='));
        let message = match err.message().trim() {
            _ if cut_after_equals => {
                "the TOML stops here, before it is complete; allowed: a value after `=`".to_string()
            }
            "" => "the TOML stops here, before it is complete".to_string(),
            m => plain_types(m),
        };
        self.error_at_offset(offset, field, message)
    }

    /// Refuses a string longer than [`super::limits::MAX_TEXT_BYTES`]
    /// anywhere in the document.
    fn check_text_sizes(&self) -> Result<(), InputError> {
        let Some(doc) = self.doc.as_ref() else {
            return Ok(());
        };
        let max = super::limits::MAX_TEXT_BYTES;
        match longest_string(doc.as_item(), String::new()) {
            Some((len, field)) if len > max => Err(self.field_error(
                &field,
                format!("a text of {len} bytes; allowed: at most {max} bytes"),
            )),
            _ => Ok(()),
        }
    }

    /// An error about `field` (a dotted path such as `mmc.servers` or
    /// `sites[2].lat`), located at the field's value or, failing that, at its
    /// nearest enclosing table.
    pub fn field_error(&self, field: &str, message: impl Into<String>) -> InputError {
        let offset = self.span_of(field).map(|s| s.start).unwrap_or(0);
        self.error_at_offset(offset, field.to_string(), message.into())
    }

    fn error_at_offset(&self, offset: usize, field: String, message: String) -> InputError {
        let (line, column) = line_column(&self.text, offset);
        InputError::Field(Box::new(FieldError {
            file: self.path.clone(),
            line,
            column,
            field,
            message,
        }))
    }

    /// The text of the file.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the document holds `field` (a dotted path, see [`Source::field_error`]).
    pub fn has_field(&self, field: &str) -> bool {
        self.locate(field).1
    }

    /// The byte span of the deepest part of `field` found in the document.
    fn span_of(&self, field: &str) -> Option<std::ops::Range<usize>> {
        self.locate(field).0
    }

    /// The span of the deepest part of `field` found, and whether all of it was.
    fn locate(&self, field: &str) -> (Option<std::ops::Range<usize>>, bool) {
        let Some(doc) = self.doc.as_ref() else {
            return (None, false);
        };
        let mut node = Node::Table(doc.as_table());
        let mut best = None;
        for part in path_parts(field) {
            let next = match (node, part) {
                (Node::Table(t), PathPart::Key(k)) => t.get(k).map(Node::Item),
                (Node::Item(toml_edit::Item::Table(t)), PathPart::Key(k)) => {
                    t.get(k).map(Node::Item)
                }
                (
                    Node::Item(toml_edit::Item::Value(toml_edit::Value::InlineTable(t))),
                    PathPart::Key(k),
                )
                | (Node::Value(toml_edit::Value::InlineTable(t)), PathPart::Key(k)) => {
                    t.get(k).map(Node::Value)
                }
                (Node::Item(toml_edit::Item::ArrayOfTables(a)), PathPart::Index(n)) => {
                    a.get(n).map(Node::Table)
                }
                (
                    Node::Item(toml_edit::Item::Value(toml_edit::Value::Array(a))),
                    PathPart::Index(n),
                )
                | (Node::Value(toml_edit::Value::Array(a)), PathPart::Index(n)) => {
                    a.get(n).map(Node::Value)
                }
                _ => None,
            };
            let Some(found) = next else {
                return (best, false);
            };
            node = found;
            if let Some(span) = node.span() {
                best = Some(span);
            }
        }
        (best, true)
    }
}

#[derive(Clone, Copy)]
enum Node<'a> {
    Table(&'a toml_edit::Table),
    Item(&'a toml_edit::Item),
    Value(&'a toml_edit::Value),
}

impl Node<'_> {
    fn span(self) -> Option<std::ops::Range<usize>> {
        match self {
            Node::Table(t) => t.span(),
            Node::Value(v) => v.span(),
            Node::Item(toml_edit::Item::Value(v)) => v.span(),
            Node::Item(toml_edit::Item::Table(t)) => t.span(),
            Node::Item(toml_edit::Item::ArrayOfTables(a)) => a.span(),
            Node::Item(toml_edit::Item::None) => None,
        }
    }
}

enum PathPart<'a> {
    Key(&'a str),
    Index(usize),
}

/// Splits `a.b[2].c` into keys and indexes.
fn path_parts(field: &str) -> Vec<PathPart<'_>> {
    let mut parts = Vec::new();
    for segment in field.split('.').filter(|s| !s.is_empty()) {
        let (key, rest) = segment.split_once('[').unwrap_or((segment, ""));
        if !key.is_empty() {
            parts.push(PathPart::Key(key));
        }
        for index in rest.split('[') {
            if let Ok(i) = index.trim_end_matches(']').parse() {
                parts.push(PathPart::Index(i));
            }
        }
    }
    parts
}

/// The length and path of the longest string under `item` (at `path`).
fn longest_string(item: &toml_edit::Item, path: String) -> Option<(usize, String)> {
    match item {
        toml_edit::Item::Value(v) => longest_in_value(v, path),
        toml_edit::Item::Table(t) => t
            .iter()
            .filter_map(|(k, i)| longest_string(i, join_key(&path, k)))
            .max(),
        toml_edit::Item::ArrayOfTables(a) => a
            .iter()
            .enumerate()
            .filter_map(|(n, t)| {
                let at = format!("{path}[{n}]");
                t.iter()
                    .filter_map(|(k, i)| longest_string(i, join_key(&at, k)))
                    .max()
            })
            .max(),
        toml_edit::Item::None => None,
    }
}

fn longest_in_value(value: &toml_edit::Value, path: String) -> Option<(usize, String)> {
    match value {
        toml_edit::Value::String(s) => Some((s.value().len(), path)),
        toml_edit::Value::Array(a) => a
            .iter()
            .enumerate()
            .filter_map(|(n, v)| longest_in_value(v, format!("{path}[{n}]")))
            .max(),
        toml_edit::Value::InlineTable(t) => t
            .iter()
            .filter_map(|(k, v)| longest_in_value(v, join_key(&path, k)))
            .max(),
        _ => None,
    }
}

fn join_key(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The field at byte `offset`, read from the text itself, for errors the
/// parser reports without a path (syntax errors such as a value missing
/// after `=`): the last table header above the offset and the key on its line.
fn field_at_offset(text: &str, offset: usize) -> String {
    let Some(before) = text.get(..offset) else {
        return String::new();
    };
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let Some((key, _)) = text[line_start..line_end].split_once('=') else {
        return String::new();
    };
    let table = before[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .and_then(|l| l.trim_start_matches('[').split(']').next())
        .unwrap_or("");
    join_key(table.trim(), key.trim().trim_matches('"'))
}

/// serde_path_to_error writes `.` for the root and `?` for unknown parts.
fn clean_path(path: &str) -> String {
    if path == "." {
        String::new()
    } else {
        path.replace(".?", "").trim_end_matches('?').to_string()
    }
}

/// Replaces Rust type names in serde's messages with words a user knows.
fn plain_types(message: &str) -> String {
    if out_of_every_range(message) {
        return "the number is out of range for any whole-number field \
                (allowed: -9223372036854775808 to 18446744073709551615)"
            .to_string();
    }
    if message == "floating-point number overflowed" {
        return "the number is too large for any number field (at most 1.7976931348623157e308)"
            .to_string();
    }
    let mut out = message.to_string();
    for (rust, plain) in [
        ("expected i64", "expected a whole number"),
        ("expected u64", "expected a whole number of zero or more"),
        ("expected u32", "expected a whole number of zero or more"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
    ] {
        out = out.replace(rust, plain);
    }
    out
}

/// Whether the TOML reader's `message` is about a whole number that no
/// field can hold: every whole-number field is at most 64 bits, and the
/// reader hands larger literals on as 128-bit integers or refuses them.
fn out_of_every_range(message: &str) -> bool {
    message == "integer number overflowed"
        || (message.starts_with("invalid type: integer `")
            && (message.contains("` as i128") || message.contains("` as u128")))
}

/// 1-based line and column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inputs_hash_covers_every_file_read_and_only_their_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.toml"), dir.path().join("b.toml"));
        std::fs::write(&a, "x = 1\n").unwrap();
        std::fs::write(&b, "y = 2\n").unwrap();
        let both = || {
            hashing_inputs(|| {
                read_text(&a).unwrap();
                read_text(&b).unwrap();
            })
            .1
        };
        let first = both();
        assert_eq!(first.len(), 64);
        assert_eq!(first, both());
        // Reading only the first file, or other bytes in the second, differs.
        assert_ne!(first, hashing_inputs(|| read_text(&a).unwrap()).1);
        std::fs::write(&b, "y = 3\n").unwrap();
        assert_ne!(first, both());
        // The same bytes under another name hash the same.
        std::fs::write(&b, "y = 2\n").unwrap();
        let c = dir.path().join("c.toml");
        std::fs::rename(&b, &c).unwrap();
        let moved = hashing_inputs(|| {
            read_text(&a).unwrap();
            read_text(&c).unwrap();
        });
        assert_eq!(first, moved.1);
        // Reads outside a hashing load are not counted.
        assert_eq!(read_text(&a).unwrap(), "x = 1\n");
    }

    #[test]
    fn errors_without_a_path_name_the_field_on_their_line() {
        let text = "[a]\nx = 1\n\n[[b]]\ny = 1 2\n".to_string();
        let src = Source::from_text(Path::new("f.toml"), text);
        let err = src.parse::<toml::Table>().unwrap_err().to_string();
        assert!(err.starts_with("f.toml:5:5: field `b.y`: "), "{err}");
    }

    #[test]
    fn numbers_no_field_can_hold_say_so() {
        for n in [
            "99999999999999999999",
            "-99999999999999999999",
            "1".repeat(50).as_str(),
        ] {
            let text = format!("[a]\nx = 1\n\n[[b]]\ny = {n}\n");
            let src = Source::from_text(Path::new("f.toml"), text);
            let err = src.parse::<toml::Table>().unwrap_err().to_string();
            assert!(
                err.starts_with("f.toml:5:5: field `b[0].y`: the number is out of range"),
                "{err}"
            );
        }
    }

    #[test]
    fn long_strings_are_refused_wherever_they_are() {
        let long = "x".repeat(super::super::limits::MAX_TEXT_BYTES + 1);
        let text = format!("[a]\nok = \"fine\"\n[[b]]\nn = 1\n[[b]]\nname = \"{long}\"\n");
        let src = Source::from_text(Path::new("f.toml"), text);
        let err = src.parse::<toml::Table>().unwrap_err().to_string();
        assert!(
            err.starts_with("f.toml:6:8: field `b[1].name`: a text of 65537 bytes"),
            "{err}"
        );
    }

    #[test]
    fn line_and_column_are_one_based() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
    }

    #[test]
    fn field_errors_point_at_the_value() {
        let text = "[a]\nx = 1\n\n[[b]]\ny = 2\n[[b]]\ny = 3\n".to_string();
        let src = Source::from_text(Path::new("f.toml"), text);
        let err = src.field_error("b[1].y", "too big").to_string();
        assert_eq!(err, "f.toml:7:5: field `b[1].y`: too big");
        let err = src.field_error("a.x", "bad").to_string();
        assert_eq!(err, "f.toml:2:5: field `a.x`: bad");
        let err = src.field_error("a.missing", "needed").to_string();
        assert!(err.starts_with("f.toml:1:"), "{err}");
        assert!(src.has_field("b[1].y") && src.has_field("a"));
        assert!(!src.has_field("a.missing") && !src.has_field("b[2]"));
    }
}
