//! Mutations of scenario files: structural ones on the parsed TOML
//! (delete a key, a value of another type, extreme numbers, absurd
//! quantities, long strings, deep nesting, another file's name) and textual
//! ones on the bytes (duplicate a section or a line, truncate, insert bytes).
//! CSV traces get the value mutations on their cells.

use proptest::prelude::*;
use proptest::sample::Index;
use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, Value};

/// One change to a file. Each `Index` picks among what the file offers
/// (keys, values, lines, byte offsets), so a case stays meaningful whatever
/// the file.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// Remove a key, an array element or a table.
    DeleteKey(Index),
    /// Replace a value with one of another type.
    ChangeType(Index, Index),
    /// Replace a value with an extreme number.
    Number(Index, Index),
    /// Replace a value with an absurd quantity such as `"1e308/s"`.
    Quantity(Index, Index),
    /// Replace a value with a long string (the length is given).
    LongString(Index, usize),
    /// Put another unit on a quantity (`"15s"` to `"15GB"`).
    SwapUnit(Index, Index),
    /// Replace a value with another file's name (or a missing one).
    OtherFile(Index, Index),
    /// Replace a value with arrays nested this deep.
    Nest(Index, usize),
    /// Append a copy of a `[section]` or `[[section]]` with its body.
    DuplicateSection(Index),
    /// Repeat a line right after itself.
    DuplicateLine(Index),
    /// Cut the text at a byte.
    Truncate(Index),
    /// Insert bytes at a byte offset.
    InsertBytes(Index, Vec<u8>),
}

/// The mutation kinds, for reporting which ones a run exercised.
pub const KINDS: [&str; 12] = [
    "DeleteKey",
    "ChangeType",
    "Number",
    "Quantity",
    "LongString",
    "SwapUnit",
    "OtherFile",
    "Nest",
    "DuplicateSection",
    "DuplicateLine",
    "Truncate",
    "InsertBytes",
];

impl Mutation {
    /// The kind's name, one of [`KINDS`].
    pub fn kind(&self) -> &'static str {
        let i = match self {
            Mutation::DeleteKey(_) => 0,
            Mutation::ChangeType(..) => 1,
            Mutation::Number(..) => 2,
            Mutation::Quantity(..) => 3,
            Mutation::LongString(..) => 4,
            Mutation::SwapUnit(..) => 5,
            Mutation::OtherFile(..) => 6,
            Mutation::Nest(..) => 7,
            Mutation::DuplicateSection(_) => 8,
            Mutation::DuplicateLine(_) => 9,
            Mutation::Truncate(_) => 10,
            Mutation::InsertBytes(..) => 11,
        };
        KINDS[i]
    }
}

/// Any mutation.
pub fn mutation() -> impl Strategy<Value = Mutation> {
    let i = any::<Index>;
    prop_oneof![
        3 => i().prop_map(Mutation::DeleteKey),
        3 => (i(), i()).prop_map(|(a, b)| Mutation::ChangeType(a, b)),
        3 => (i(), i()).prop_map(|(a, b)| Mutation::Number(a, b)),
        4 => (i(), i()).prop_map(|(a, b)| Mutation::Quantity(a, b)),
        1 => (i(), prop_oneof![Just(1_000usize), Just(100_000), Just(1_000_000)])
            .prop_map(|(a, n)| Mutation::LongString(a, n)),
        3 => (i(), i()).prop_map(|(a, b)| Mutation::SwapUnit(a, b)),
        2 => (i(), i()).prop_map(|(a, b)| Mutation::OtherFile(a, b)),
        1 => (i(), prop_oneof![Just(10usize), Just(100), Just(10_000)])
            .prop_map(|(a, n)| Mutation::Nest(a, n)),
        2 => i().prop_map(Mutation::DuplicateSection),
        2 => i().prop_map(Mutation::DuplicateLine),
        2 => i().prop_map(Mutation::Truncate),
        2 => (i(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(a, b)| Mutation::InsertBytes(a, b)),
    ]
}

/// Extreme numbers, written as TOML numbers.
const NUMBERS: [&str; 16] = [
    "0",
    "-1",
    "1",
    "9223372036854775807",
    "-9223372036854775808",
    "4294967296",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "-inf",
    "5e-324",
    "-0.0",
    "0.5",
    "1e15",
    "1000000000",
];

/// Absurd quantities, written as strings.
const QUANTITIES: [&str; 40] = [
    "1e308/s",
    "0ns",
    "-5s",
    "0/s",
    "nan/s",
    "NaN s",
    "inf s",
    "1e400GB",
    "18446744073709551616ns",
    "9e18s",
    "1e-300s",
    "0.0000001/s",
    "200000d",
    "1ns",
    "-0s",
    "",
    " ",
    "1e308 USD",
    "-1e308 USD",
    "99999999999999999999.99 USD",
    "0.001 USD",
    "-0.00 USD",
    "1e308%",
    "-5%",
    "NaN%",
    "100.0000001%",
    "1e308",
    "1e308m",
    "-1m",
    "1_000_000_000",
    "1..2s",
    "+-1s",
    "1e",
    "e308/s",
    "µs",
    "1 5s",
    "2026-02-30",
    "9999-12-01",
    "0000-01-01",
    "1e308 EUR/month",
];

/// Units of every kind, to put on another kind's quantity.
const UNITS: [&str; 22] = [
    "ns", "us", "ms", "s", "m", "min", "h", "d", "w", "/s", "/min", "/h", "/d", "B", "GB", "TiB",
    "USD", "EUR", "%", "parsecs", "", "/",
];

/// File names relative to a scenario's directory: the mutated file itself
/// (`fuzz-case.toml`), bundled files, missing ones, directories and
/// special files.
const FILES: [&str; 15] = [
    "fuzz-case.toml",
    "edge-steady.toml",
    "mmc.toml",
    "cost-migration.toml",
    "story/plan-migration.toml",
    "spike-trace.toml",
    "pricebooks/baremetal.toml",
    "traces/evening-illustrative.csv",
    "../scenarios/edge-topology.toml",
    "missing.toml",
    ".",
    "/",
    "/dev/null",
    "/dev/zero",
    "",
];

/// Applies `m` to the file's bytes; `csv` files get the value mutations on
/// their cells. Returns whether the bytes changed.
pub fn apply(bytes: &mut Vec<u8>, m: &Mutation, csv: bool) -> bool {
    let before = bytes.clone();
    match m {
        Mutation::DuplicateSection(i) => duplicate_section(bytes, i),
        Mutation::DuplicateLine(i) => duplicate_line(bytes, i),
        Mutation::Truncate(i) => bytes.truncate(i.index(bytes.len() + 1)),
        Mutation::InsertBytes(i, new) => {
            let at = i.index(bytes.len() + 1);
            bytes.splice(at..at, new.iter().copied());
        }
        _ if csv => mutate_cell(bytes, m),
        _ => mutate_toml(bytes, m),
    }
    *bytes != before
}

/// The text a value mutation puts in place of the value at `old`, as TOML.
fn replacement(m: &Mutation, old: &Value) -> Option<String> {
    let quote = |s: &str| Value::from(s).to_string();
    Some(match m {
        Mutation::ChangeType(_, k) => other_type(old, k),
        Mutation::Number(_, k) => NUMBERS[k.index(NUMBERS.len())].to_string(),
        Mutation::Quantity(_, k) => quote(QUANTITIES[k.index(QUANTITIES.len())]),
        Mutation::LongString(_, n) => quote(&"9".repeat(*n)),
        Mutation::SwapUnit(_, k) => quote(&swap_unit(old.as_str()?, k)),
        Mutation::OtherFile(_, k) => quote(FILES[k.index(FILES.len())]),
        Mutation::Nest(_, depth) => format!("{}1{}", "[".repeat(*depth), "]".repeat(*depth)),
        _ => return None,
    })
}

/// A value of another type than `old`'s.
fn other_type(old: &Value, k: &Index) -> String {
    let all = [
        ("integer", "7"),
        ("float", "2.5"),
        ("boolean", "true"),
        ("string", "\"x\""),
        ("array", "[1, \"a\", 2.5]"),
        ("inline table", "{ a = 1 }"),
        ("datetime", "1979-05-27T07:32:00Z"),
        ("empty array", "[]"),
    ];
    let others: Vec<&str> = all
        .iter()
        .filter(|(name, _)| *name != old.type_name())
        .map(|(_, text)| *text)
        .collect();
    others[k.index(others.len())].to_string()
}

/// `"15s"` with its unit replaced; a string without a leading number gets
/// a number and a unit.
fn swap_unit(old: &str, k: &Index) -> String {
    let number_end = old
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_digit() || ".-+_ ".contains(c)))
        .map_or(old.len(), |(i, _)| i);
    let number = if number_end == 0 {
        "15"
    } else {
        &old[..number_end]
    };
    format!("{number}{}", UNITS[k.index(UNITS.len())])
}

/// Which value or key a mutation picks.
fn target(m: &Mutation) -> &Index {
    match m {
        Mutation::DeleteKey(i)
        | Mutation::ChangeType(i, _)
        | Mutation::Number(i, _)
        | Mutation::Quantity(i, _)
        | Mutation::LongString(i, _)
        | Mutation::SwapUnit(i, _)
        | Mutation::OtherFile(i, _)
        | Mutation::Nest(i, _)
        | Mutation::DuplicateSection(i)
        | Mutation::DuplicateLine(i)
        | Mutation::Truncate(i)
        | Mutation::InsertBytes(i, _) => i,
    }
}

/// A step from a table or value to one inside it.
#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Something in the document a mutation can reach.
#[derive(Clone, Debug)]
struct Entry {
    path: Vec<Seg>,
    /// A value (not a `[table]` nor an element of `[[tables]]`).
    is_value: bool,
}

/// Structural mutations; text that is not TOML is left as it is.
fn mutate_toml(bytes: &mut Vec<u8>, m: &Mutation) {
    let Some(mut doc) = std::str::from_utf8(bytes)
        .ok()
        .and_then(|t| t.parse::<DocumentMut>().ok())
    else {
        return;
    };
    let mut entries = Vec::new();
    walk_table(doc.as_table(), &mut Vec::new(), &mut entries);
    if let Mutation::DeleteKey(i) = m {
        if !entries.is_empty() {
            delete(doc.as_table_mut(), &entries[i.index(entries.len())].path);
            *bytes = doc.to_string().into_bytes();
        }
        return;
    }
    let values: Vec<&Entry> = entries.iter().filter(|e| e.is_value).collect();
    if values.is_empty() {
        return;
    }
    let path = values[target(m).index(values.len())].path.clone();
    // The new value goes in as a marker string, replaced by its text after
    // rendering, so that text the TOML library would not build (nesting
    // beyond its limits, `nan`) still reaches the loader.
    const MARKER: &str = "\u{1}fuzz-value\u{1}";
    let Some(Slot::Value(old)) = slot(doc.as_table_mut(), &path) else {
        return;
    };
    let Some(new_text) = replacement(m, old) else {
        return;
    };
    let decor = old.decor().clone();
    *old = Value::from(MARKER);
    *old.decor_mut() = decor;
    let rendered = doc.to_string();
    let marker = Value::from(MARKER).to_string();
    *bytes = rendered.replacen(&marker, &new_text, 1).into_bytes();
}

fn walk_table(table: &Table, path: &mut Vec<Seg>, out: &mut Vec<Entry>) {
    for (key, item) in table.iter() {
        path.push(Seg::Key(key.to_string()));
        walk_item(item, path, out);
        path.pop();
    }
}

fn walk_item(item: &Item, path: &mut Vec<Seg>, out: &mut Vec<Entry>) {
    match item {
        Item::Table(t) => {
            out.push(Entry {
                path: path.clone(),
                is_value: false,
            });
            walk_table(t, path, out);
        }
        Item::ArrayOfTables(a) => {
            for (i, t) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                out.push(Entry {
                    path: path.clone(),
                    is_value: false,
                });
                walk_table(t, path, out);
                path.pop();
            }
        }
        Item::Value(v) => walk_value(v, path, out),
        Item::None => {}
    }
}

fn walk_value(value: &Value, path: &mut Vec<Seg>, out: &mut Vec<Entry>) {
    out.push(Entry {
        path: path.clone(),
        is_value: true,
    });
    match value {
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                walk_value(v, path, out);
                path.pop();
            }
        }
        Value::InlineTable(t) => {
            for (k, v) in t.iter() {
                path.push(Seg::Key(k.to_string()));
                walk_value(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// A place in the document.
enum Slot<'a> {
    Table(&'a mut Table),
    Value(&'a mut Value),
    Aot(&'a mut toml_edit::ArrayOfTables),
    Array(&'a mut Array),
    Inline(&'a mut InlineTable),
}

impl<'a> Slot<'a> {
    fn from_item(item: &'a mut Item) -> Option<Slot<'a>> {
        match item {
            Item::Table(t) => Some(Slot::Table(t)),
            Item::ArrayOfTables(a) => Some(Slot::Aot(a)),
            Item::Value(v) => Some(Slot::Value(v)),
            Item::None => None,
        }
    }

    /// As a container, for stepping into it or removing from it.
    fn container(self) -> Slot<'a> {
        match self {
            Slot::Value(Value::Array(a)) => Slot::Array(a),
            Slot::Value(Value::InlineTable(t)) => Slot::Inline(t),
            other => other,
        }
    }

    fn step(self, seg: &Seg) -> Option<Slot<'a>> {
        match (self.container(), seg) {
            (Slot::Table(t), Seg::Key(k)) => t.get_mut(k).and_then(Slot::from_item),
            (Slot::Aot(a), Seg::Index(i)) => a.get_mut(*i).map(Slot::Table),
            (Slot::Array(a), Seg::Index(i)) => a.get_mut(*i).map(Slot::Value),
            (Slot::Inline(t), Seg::Key(k)) => t.get_mut(k).map(Slot::Value),
            _ => None,
        }
    }
}

fn slot<'a>(root: &'a mut Table, path: &[Seg]) -> Option<Slot<'a>> {
    path.iter()
        .try_fold(Slot::Table(root), |slot, seg| slot.step(seg))
}

fn delete(root: &mut Table, path: &[Seg]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    match (slot(root, parent).map(Slot::container), last) {
        (Some(Slot::Table(t)), Seg::Key(k)) => {
            t.remove(k);
        }
        (Some(Slot::Aot(a)), Seg::Index(i)) => {
            a.remove(*i);
        }
        (Some(Slot::Array(a)), Seg::Index(i)) => {
            a.remove(*i);
        }
        (Some(Slot::Inline(t)), Seg::Key(k)) => {
            t.remove(k);
        }
        _ => {}
    }
}

/// Lines of the text with their byte ranges (the newline included).
fn lines(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            out.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < bytes.len() {
        out.push(start..bytes.len());
    }
    out
}

fn duplicate_line(bytes: &mut Vec<u8>, i: &Index) {
    let lines = lines(bytes);
    if lines.is_empty() {
        return;
    }
    let range = lines[i.index(lines.len())].clone();
    let mut copy = bytes[range.clone()].to_vec();
    if copy.last() != Some(&b'\n') {
        copy.insert(0, b'\n');
    }
    bytes.splice(range.end..range.end, copy);
}

/// Appends a copy of a section (a header line starting with `[` and the
/// lines up to the next header).
fn duplicate_section(bytes: &mut Vec<u8>, i: &Index) {
    let lines = lines(bytes);
    let headers: Vec<usize> = (0..lines.len())
        .filter(|&n| bytes[lines[n].clone()].trim_ascii_start().starts_with(b"["))
        .collect();
    if headers.is_empty() {
        return;
    }
    let h = i.index(headers.len());
    let start = lines[headers[h]].start;
    let end = headers
        .get(h + 1)
        .map_or(bytes.len(), |&next| lines[next].start);
    let mut copy = b"\n".to_vec();
    copy.extend_from_slice(&bytes[start..end]);
    bytes.extend_from_slice(&copy);
}

/// Value mutations on one cell of a CSV file.
fn mutate_cell(bytes: &mut Vec<u8>, m: &Mutation) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let mut cells: Vec<(usize, usize)> = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let mut at = offset;
        for cell in body.split(',') {
            cells.push((at, at + cell.len()));
            at += cell.len() + 1;
        }
        offset += line.len();
    }
    if cells.is_empty() {
        return;
    }
    let (start, end) = cells[target(m).index(cells.len())];
    let old = Value::from(&text[start..end]);
    let new = match m {
        Mutation::DeleteKey(_) => String::new(),
        _ => match replacement(m, &old) {
            Some(t) => t.trim_matches('"').to_string(),
            None => return,
        },
    };
    bytes.splice(start..end, new.into_bytes());
}
