//! The tenants of a consolidation plan: a CSV file with a header and one
//! row per VM.
//!
//! ```text
//! name,cores,memory,class,usage
//! shop-web-1,2,4GiB,dedicated,lognormal mean=0.30 p95=0.70
//! wiki,1,2GiB,shared,points 0.02:0.9 0.5:0.1
//! batch-7,4,8GiB,shared,uniform 0 0.6
//! crm,2,8GiB,shared,trace usage/crm.csv
//! ```
//!
//! `cores` is the VM's vCPUs (a number above 0, fractions allowed),
//! `memory` a size with its unit, `class` is `dedicated` (paying or VIP
//! tenants, never overcommitted) or `shared`, and `usage` the distribution
//! of the VM's CPU utilisation in its peak hour, as a fraction of its
//! cores, in one of four forms:
//! - `lognormal mean=M p95=Q`: the lognormal with that mean and 95th
//!   percentile, capped at 1;
//! - `uniform LOW HIGH`;
//! - `points V:W V:W ...`: values with their weights (a two-point
//!   distribution, say);
//! - `trace FILE`: a CSV file (relative to this one) with a `utilisation`
//!   column, one row per day's peak hour; its rows are equally likely.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cutover_models::pack::usage::Usage;

use crate::scenario::source::{read_text, FieldError, InputError};
use crate::scenario::units::parse_bytes;

/// The most tenants a file may hold.
pub const MAX_TENANTS: usize = 1_000_000;
/// The most rows a usage trace may hold.
pub const MAX_TRACE_ROWS: usize = 100_000;
/// The most cores one VM may ask for: a bound on input, not a
/// calibration (a host must still hold the VM).
const MAX_CORES: f64 = 1024.0;

/// A tenant's class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Kept on dedicated capacity, never overcommitted.
    Dedicated,
    /// Packed with others, with overcommit.
    Shared,
}

impl Class {
    /// The name in files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Class::Dedicated => "dedicated",
            Class::Shared => "shared",
        }
    }
}

/// One VM to place.
#[derive(Clone, Debug, PartialEq)]
pub struct Tenant {
    /// Its name, unique in the file.
    pub name: String,
    /// vCPUs asked for.
    pub cores: f64,
    /// Memory asked for, in MiB (rounded up).
    pub memory_mib: u64,
    /// Dedicated or shared.
    pub class: Class,
    /// Its peak-hour utilisation.
    pub usage: Usage,
    /// The line of its row, for errors found later.
    pub line: usize,
}

/// Where a problem is: the file, its line, and the column of a field.
pub(crate) struct At<'a> {
    pub(crate) path: &'a Path,
    pub(crate) line: usize,
    /// Byte column (1-based) of each field of the row.
    pub(crate) columns: Vec<usize>,
}

impl At<'_> {
    /// An error at field number `col` (its header name `field`).
    pub(crate) fn error(&self, col: usize, field: &str, message: impl Into<String>) -> InputError {
        InputError::Field(Box::new(FieldError {
            file: self.path.to_path_buf(),
            line: self.line,
            column: self.columns.get(col).copied().unwrap_or(1),
            field: field.to_string(),
            message: message.into(),
        }))
    }
}

/// An error on a whole line of `path`.
fn line_error(path: &Path, line: usize, message: impl Into<String>) -> InputError {
    At {
        path,
        line,
        columns: vec![],
    }
    .error(0, "", message)
}

const COLUMNS: [&str; 5] = ["name", "cores", "memory", "class", "usage"];

/// Reads the tenants at `path`.
pub fn load(path: &Path) -> Result<Vec<Tenant>, InputError> {
    parse(path, &read_text(path)?)
}

/// Parses the tenants in `text`; `path` labels errors and anchors traces.
/// The error is the first problem.
pub fn parse(path: &Path, text: &str) -> Result<Vec<Tenant>, InputError> {
    let (tenants, mut problems) = parse_all(path, text, 1);
    if problems.is_empty() {
        Ok(tenants)
    } else {
        Err(problems.swap_remove(0))
    }
}

/// The problems of the tenants at `path`, every bad row's (up to `max`).
pub fn problems(path: &Path, max: usize) -> Vec<InputError> {
    match read_text(path) {
        Ok(text) => parse_all(path, &text, max).1,
        Err(e) => vec![e],
    }
}

/// Parses the tenants in `text`, going on past bad rows until `max`
/// problems: the tenants read and the problems found.
fn parse_all(path: &Path, text: &str, max: usize) -> (Vec<Tenant>, Vec<InputError>) {
    let mut problems = Vec::new();
    let tenants = match rows(path, text, &mut |e| {
        problems.push(e);
        problems.len() < max
    }) {
        Ok(t) => t,
        Err(e) => {
            problems.push(e);
            vec![]
        }
    };
    (tenants, problems)
}

/// Reads the rows of `text`, handing each bad row's error to `problem`,
/// which says whether to go on; an error that stops the reading (the
/// header, a row past the limit, an empty file) is returned.
fn rows(
    path: &Path,
    text: &str,
    problem: &mut dyn FnMut(InputError) -> bool,
) -> Result<Vec<Tenant>, InputError> {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| line_error(path, 1, format!("cannot read the header: {e}")))?
        .clone();
    let mut index = [0usize; 5];
    for (slot, name) in index.iter_mut().zip(COLUMNS) {
        *slot = headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| {
                line_error(
                    path,
                    1,
                    format!(
                        "the header has no `{name}` column; allowed: columns {}",
                        COLUMNS.join(", ")
                    ),
                )
            })?;
    }
    let mut traces = Traces::default();
    let mut tenants: Vec<Tenant> = Vec::new();
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut bad_rows = false;
    for record in reader.records() {
        let line_of = |p: Option<&csv::Position>| p.map_or(1, |p| p.line() as usize);
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                bad_rows = true;
                if problem(line_error(path, line_of(e.position()), e.to_string())) {
                    continue;
                }
                break;
            }
        };
        let at = At {
            path,
            line: line_of(record.position()),
            columns: field_columns(text, record.position()),
        };
        if tenants.len() == MAX_TENANTS {
            return Err(at.error(
                0,
                "",
                format!("more than {MAX_TENANTS} tenants; allowed: at most {MAX_TENANTS}"),
            ));
        }
        let field = |c: usize| record.get(index[c]).unwrap_or("").trim();
        let checked = row(&at, &index, &field, &mut traces).and_then(|tenant| {
            match names.insert(tenant.name.clone(), at.line) {
                Some(first) => Err(at.error(
                    index[0],
                    "name",
                    format!(
                        "`{}` is listed twice (first at line {first}); allowed: a name once",
                        tenant.name
                    ),
                )),
                None => Ok(tenant),
            }
        });
        match checked {
            Ok(tenant) => tenants.push(tenant),
            Err(e) => {
                bad_rows = true;
                if !problem(e) {
                    break;
                }
            }
        }
    }
    if bad_rows {
        return Ok(tenants);
    }
    if tenants.is_empty() {
        return Err(line_error(
            path,
            text.lines().count().max(1),
            "no tenants; allowed: a row per VM after the header, e.g. `web-1,2,4GiB,shared,uniform 0 0.5`",
        ));
    }
    Ok(tenants)
}

/// One row: its fields by [`COLUMNS`] position.
fn row<'r>(
    at: &At,
    index: &[usize; 5],
    field: &dyn Fn(usize) -> &'r str,
    traces: &mut Traces,
) -> Result<Tenant, InputError> {
    let name = field(0);
    if name.is_empty() || name.chars().count() > crate::scenario::limits::MAX_NAME_CHARS {
        return Err(at.error(index[0], "name", "allowed: a name of 1 to 200 characters"));
    }
    let cores: f64 = field(1).parse().unwrap_or(f64::NAN);
    if !(cores > 0.0 && cores <= MAX_CORES) {
        return Err(at.error(
            index[1],
            "cores",
            format!(
                "`{}`; allowed: a number of vCPUs above 0 and at most {MAX_CORES}",
                field(1)
            ),
        ));
    }
    let memory = parse_bytes(field(2)).map_err(|m| at.error(index[2], "memory", m))?;
    if !(memory > 0.0 && memory <= 1e15) {
        return Err(at.error(
            index[2],
            "memory",
            "allowed: a size above 0 and at most 1PB",
        ));
    }
    let class = match field(3) {
        "dedicated" => Class::Dedicated,
        "shared" => Class::Shared,
        other => {
            return Err(at.error(
                index[3],
                "class",
                format!("`{other}`; allowed: dedicated, shared"),
            ))
        }
    };
    let usage = usage(field(4), at.path, traces).map_err(|m| at.error(index[4], "usage", m))?;
    Ok(Tenant {
        name: name.to_string(),
        cores,
        memory_mib: (memory / 1_048_576.0).ceil() as u64,
        class,
        usage,
        line: at.line,
    })
}

const USAGE_FORMS: &str =
    "`lognormal mean=M p95=Q`, `uniform LOW HIGH`, `points V:W V:W ...` or `trace FILE`";

fn number(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("`{text}` is not a number"))
}

/// Parses a `usage` field.
fn usage(text: &str, csv_path: &Path, traces: &mut Traces) -> Result<Usage, String> {
    let mut words = text.split_whitespace();
    let kind = words.next().unwrap_or("");
    let rest: Vec<&str> = words.collect();
    let bad = |why: &str| format!("{why} in `{text}`; allowed: {USAGE_FORMS}");
    let built = match (kind, rest.as_slice()) {
        ("lognormal", [m, q]) => {
            let (Some(m), Some(q)) = (m.strip_prefix("mean="), q.strip_prefix("p95=")) else {
                return Err(bad("expected mean= then p95="));
            };
            Usage::lognormal_from_mean_p95(number(m)?, number(q)?)
        }
        ("uniform", [lo, hi]) => Usage::uniform(number(lo)?, number(hi)?),
        ("points", pairs) if !pairs.is_empty() && pairs.len() <= 1000 => {
            let mut parsed = Vec::with_capacity(pairs.len());
            for p in pairs {
                let (v, w) = p
                    .split_once(':')
                    .ok_or_else(|| bad("a point without `:`"))?;
                parsed.push((number(v)?, number(w)?));
            }
            Usage::points(&parsed)
        }
        ("trace", [file]) => return traces.get(csv_path, file),
        _ => return Err(bad("unknown form")),
    };
    built.map_err(|e| e.0)
}

/// Usage traces already read, by path.
#[derive(Default)]
struct Traces {
    read: BTreeMap<PathBuf, Usage>,
}

impl Traces {
    /// The empirical distribution of the trace `file` (relative to the
    /// tenants' file); a problem in it is an error of the row naming it.
    fn get(&mut self, csv_path: &Path, file: &str) -> Result<Usage, String> {
        let path = csv_path.parent().unwrap_or(Path::new("")).join(file);
        if let Some(u) = self.read.get(&path) {
            return Ok(u.clone());
        }
        let usage = load_usage_trace(&path).map_err(|e| format!("trace: {e}"))?;
        self.read.insert(path, usage.clone());
        Ok(usage)
    }
}

/// Reads a usage trace: a CSV file with a `utilisation` column of
/// fractions, one row per day's peak hour, all equally likely.
pub fn load_usage_trace(path: &Path) -> Result<Usage, InputError> {
    let text = read_text(path)?;
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| line_error(path, 1, format!("cannot read the header: {e}")))?
        .clone();
    let col = headers.iter().position(|h| h.trim() == "utilisation").ok_or_else(|| {
        line_error(path, 1, "the header has no `utilisation` column; allowed: a CSV with a `utilisation` column of fractions from 0 to 1")
    })?;
    let mut points = Vec::new();
    for record in reader.records() {
        let line_of = |p: Option<&csv::Position>| p.map_or(1, |p| p.line() as usize);
        let record = record.map_err(|e| line_error(path, line_of(e.position()), e.to_string()))?;
        let line = line_of(record.position());
        let at = At {
            path,
            line,
            columns: field_columns(&text, record.position()),
        };
        if points.len() == MAX_TRACE_ROWS {
            return Err(at.error(
                0,
                "",
                format!("more than {MAX_TRACE_ROWS} rows; allowed: at most {MAX_TRACE_ROWS}"),
            ));
        }
        let v = number(record.get(col).unwrap_or("").trim())
            .and_then(|v| {
                if (0.0..=1.0).contains(&v) {
                    Ok(v)
                } else {
                    Err(format!("{v}"))
                }
            })
            .map_err(|m| {
                at.error(
                    col,
                    "utilisation",
                    format!("{m}; allowed: a fraction from 0 to 1"),
                )
            })?;
        points.push((v, 1.0));
    }
    Usage::points(&points).map_err(|e| {
        line_error(
            path,
            text.lines().count().max(1),
            format!("{}; allowed: at least one row", e.0),
        )
    })
}

/// The column (1-based, in characters) where each field of the record at
/// `position` starts: commas outside quotes end a field.
fn field_columns(text: &str, position: Option<&csv::Position>) -> Vec<usize> {
    let from = position.map_or(0, |p| p.byte() as usize).min(text.len());
    let line = text[from..].lines().next().unwrap_or("");
    let mut columns = vec![1];
    let mut quoted = false;
    for (i, c) in line.chars().enumerate() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => columns.push(i + 2),
            _ => {}
        }
    }
    columns
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(Path::new("t.csv"), text).unwrap_err().to_string()
    }

    #[test]
    fn rows_are_read() {
        let t = parse(
            Path::new("t.csv"),
            "name,cores,memory,class,usage\na,2,4GiB,dedicated,lognormal mean=0.3 p95=0.7\nb,0.5,512MiB,shared,points 0.1:9 0.8:1\n",
        )
        .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].memory_mib, 4096);
        assert_eq!(t[1].class, Class::Shared);
        assert_eq!(t[1].line, 3);
        assert!((t[1].usage.mean() - 0.17).abs() < 1e-12);
    }

    #[test]
    fn every_bad_field_is_located() {
        let head = "name,cores,memory,class,usage\n";
        let e = err(&format!("{head}a,x,4GiB,shared,uniform 0 1\n"));
        assert!(
            e.starts_with("t.csv:2:3: field `cores`: `x`; allowed"),
            "{e}"
        );
        let e = err(&format!("{head}a,1,4,shared,uniform 0 1\n"));
        assert!(e.starts_with("t.csv:2:5: field `memory`:"), "{e}");
        let e = err(&format!("{head}a,1,4GiB,vip,uniform 0 1\n"));
        assert!(
            e.starts_with("t.csv:2:10: field `class`: `vip`; allowed: dedicated, shared"),
            "{e}"
        );
        let e = err(&format!("{head}a,1,4GiB,shared,uniform 0.5 0.2\n"));
        assert!(e.starts_with("t.csv:2:17: field `usage`:"), "{e}");
        let e = err(&format!(
            "{head}a,1,4GiB,shared,lognormal mean=0.01 p95=0.5\n"
        ));
        assert!(e.contains("no lognormal has mean 0.01 and p95 0.5"), "{e}");
        let e = err(&format!("{head}a,1,4GiB,shared,gamma 1 2\n"));
        assert!(e.contains("allowed: `lognormal mean=M p95=Q`"), "{e}");
        let e = err(&format!(
            "{head}a,1,1GiB,shared,uniform 0 1\na,1,1GiB,shared,uniform 0 1\n"
        ));
        assert!(
            e.starts_with("t.csv:3:1: field `name`: `a` is listed twice (first at line 2)"),
            "{e}"
        );
        let e = err("name,cores,class,usage\n");
        assert!(
            e.starts_with("t.csv:1:1: the header has no `memory` column"),
            "{e}"
        );
        let e = err(head);
        assert!(e.contains("no tenants"), "{e}");
        let e = err(&format!("{head}a,1,1GiB,shared,trace missing.csv\n"));
        assert!(e.starts_with("t.csv:2:17: field `usage`: trace:"), "{e}");
    }
}
