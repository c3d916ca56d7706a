//! Recorded traffic: a CSV file replayed as request rates.
//!
//! The file has a header and one row per change: the time, as `time` (a
//! duration since the start, e.g. `"90s"`) or `timestamp` (Unix seconds,
//! e.g. `1764547200`; time zero is then the earliest row), `population`
//! (a name) and the value, as `rate` (with its unit, e.g. `"120/s"`),
//! `requests_per_s` (a bare number of requests per second) or `count`
//! (requests from this row's time to the population's next row; a
//! population's last row repeats its previous interval).
//!
//! As `[traffic] trace` each population's rate is a step function and the
//! demand is their sum, which all users share by their weights ([`load`]);
//! as `[traffic.replay]` each series is its population's own demand
//! ([`parse_series`], then [`super::replay`]).

use std::collections::BTreeMap;
use std::path::Path;

use cutover_models::traffic::{Trace, TracePoint};
use cutover_models::SimTime;

use super::replay::RawSeries;
use super::source::{read_text, FieldError, InputError};
use super::units::{parse_duration, parse_rate};

/// The file and its text, which locate errors.
pub(crate) struct Doc<'a> {
    /// The file.
    pub(crate) path: &'a Path,
    /// Its text.
    pub(crate) text: &'a str,
}

impl<'a> Doc<'a> {
    /// A reader of the text's rows, fields trimmed (and lines starting
    /// with `comment` skipped, when given), with the header it read.
    pub(crate) fn reader(
        &self,
        comment: Option<u8>,
    ) -> Result<(csv::Reader<&'a [u8]>, csv::StringRecord), InputError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .comment(comment)
            .from_reader(self.text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| self.error(1, None, "", format!("cannot read the header: {e}")))?
            .clone();
        Ok((reader, headers))
    }

    /// An error at `line`, in the column where field number `col` of that
    /// line starts (1 for the whole line).
    pub(crate) fn error(
        &self,
        line: usize,
        col: Option<usize>,
        field: &str,
        message: impl Into<String>,
    ) -> InputError {
        let column = col.map_or(1, |c| {
            column_of(self.text.lines().nth(line - 1).unwrap_or(""), c)
        });
        InputError::Field(Box::new(FieldError {
            file: self.path.to_path_buf(),
            line,
            column,
            field: field.to_string(),
            message: message.into(),
        }))
    }
}

/// The 1-based column where comma-separated field `c` of `line` starts
/// (quoted commas aside), past its leading spaces.
fn column_of(line: &str, c: usize) -> usize {
    let mut start = 0;
    for _ in 0..c {
        match line[start..].find(',') {
            Some(i) => start += i + 1,
            None => return 1,
        }
    }
    let rest = &line[start..];
    start + (rest.len() - rest.trim_start().len()) + 1
}

/// How the time is written.
#[derive(Clone, Copy, PartialEq)]
enum TimeKind {
    /// A duration since the start.
    Since,
    /// Unix seconds.
    Unix,
}

/// How the value is written.
#[derive(Clone, Copy, PartialEq)]
enum ValueKind {
    /// A rate with its unit.
    Rate,
    /// A bare number of requests per second.
    PerSecond,
    /// Requests until the next row.
    Count,
}

/// Where a trace's columns are.
struct Columns {
    time: usize,
    time_kind: TimeKind,
    population: usize,
    value: usize,
    value_kind: ValueKind,
}

const ALLOWED_COLUMNS: &str = "columns `time` (a duration) or `timestamp` (Unix seconds), \
     `population`, and one of `rate` (e.g. \"120/s\"), `requests_per_s` or `count`";

/// Finds the columns in the header row.
fn columns(doc: &Doc, headers: &csv::StringRecord) -> Result<Columns, InputError> {
    let col = |name: &str| headers.iter().position(|h| h == name);
    let one_of = |names: &[&str]| -> Vec<(usize, usize)> {
        names
            .iter()
            .enumerate()
            .filter_map(|(k, n)| col(n).map(|c| (c, k)))
            .collect()
    };
    let missing = |what: &str| {
        doc.error(
            1,
            None,
            "",
            format!("the header has {what}; allowed: {ALLOWED_COLUMNS}"),
        )
    };
    let time = match one_of(&["time", "timestamp"])[..] {
        [(c, k)] => (
            c,
            if k == 0 {
                TimeKind::Since
            } else {
                TimeKind::Unix
            },
        ),
        [] => return Err(missing("no `time` or `timestamp` column")),
        _ => return Err(missing("both `time` and `timestamp`")),
    };
    let Some(population) = col("population") else {
        return Err(missing("no `population` column"));
    };
    let kinds = [ValueKind::Rate, ValueKind::PerSecond, ValueKind::Count];
    let value = match one_of(&["rate", "requests_per_s", "count"])[..] {
        [(c, k)] => (c, kinds[k]),
        _ => {
            return Err(missing(
                "not exactly one of `rate`, `requests_per_s` and `count`",
            ))
        }
    };
    Ok(Columns {
        time: time.0,
        time_kind: time.1,
        population,
        value: value.0,
        value_kind: value.1,
    })
}

/// One population's rows: (seconds, value, line).
type Rows = Vec<(f64, f64, usize)>;

/// The rows of every population in order of first appearance, and
/// whether the times are Unix seconds. With `known`, a population not in
/// it is an error.
fn read_rows(
    doc: &Doc,
    known: Option<&[String]>,
) -> Result<(Vec<(String, Rows)>, Columns), InputError> {
    let text = doc.text;
    let (mut reader, headers) = doc.reader(None)?;
    let cols = columns(doc, &headers)?;
    let mut order: Vec<(String, Rows)> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    // The line where a record starts: the reader's position is where it
    // began to read the record, before any blank lines.
    let line_of = |p: Option<&csv::Position>| {
        let from = p.map_or(0, |p| p.byte() as usize).min(text.len());
        let blank = text[from..].len() - text[from..].trim_start_matches(['\r', '\n']).len();
        text[..from + blank].matches('\n').count() + 1
    };
    for record in reader.records() {
        let record =
            record.map_err(|e| doc.error(line_of(e.position()), None, "", e.to_string()))?;
        let line = line_of(record.position());
        let field = |c: usize| record.get(c).unwrap_or("");
        let population = field(cols.population);
        if let Some(known) = known.filter(|k| !k.iter().any(|p| p == population)) {
            return Err(doc.error(
                line,
                Some(cols.population),
                "population",
                format!(
                    "`{population}` is not a population of the estate; allowed: {}",
                    known.join(", ")
                ),
            ));
        }
        let at = row_time(doc, line, &cols, field(cols.time))?;
        let value = row_value(doc, line, &cols, field(cols.value))?;
        let k = *index.entry(population.to_string()).or_insert_with(|| {
            order.push((population.to_string(), Vec::new()));
            order.len() - 1
        });
        let list = &mut order[k].1;
        if let Some(&(t, _, first)) = list.last().filter(|&&(t, _, _)| t >= at) {
            let why = if t == at {
                format!("a second row for `{population}` at this time (the first is line {first})")
            } else {
                format!("before the population's previous row (line {first})")
            };
            return Err(doc.error(
                line,
                Some(cols.time),
                &headers[cols.time],
                format!("{why}; allowed: each population's rows in time order"),
            ));
        }
        list.push((at, value, line));
    }
    if order.is_empty() {
        return Err(doc.error(
            text.matches('\n').count() + 1,
            None,
            "",
            "no rows; allowed: a row per time and population after the header, \
             e.g. `0s,us-east,300/s`",
        ));
    }
    Ok((order, cols))
}

/// A row's time in seconds.
fn row_time(doc: &Doc, line: usize, cols: &Columns, text: &str) -> Result<f64, InputError> {
    match cols.time_kind {
        TimeKind::Since => parse_duration(text)
            .map(|d| d.as_nanos() as f64 / 1e9)
            .map_err(|m| doc.error(line, Some(cols.time), "time", m)),
        TimeKind::Unix => text
            .parse::<f64>()
            .ok()
            .filter(|t| t.is_finite() && *t >= 0.0)
            .ok_or_else(|| {
                doc.error(
                    line,
                    Some(cols.time),
                    "timestamp",
                    format!("`{text}`; allowed: Unix seconds, e.g. 1764547200"),
                )
            }),
    }
}

/// A row's value: a rate (requests/s) or a count.
fn row_value(doc: &Doc, line: usize, cols: &Columns, text: &str) -> Result<f64, InputError> {
    let number = |field: &str, what: &str| {
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| {
                doc.error(
                    line,
                    Some(cols.value),
                    field,
                    format!("`{text}`; allowed: {what}"),
                )
            })
    };
    match cols.value_kind {
        ValueKind::Count => number("count", "a count of requests of zero or more, e.g. 1200"),
        ValueKind::PerSecond => number(
            "requests_per_s",
            "a bare number of requests per second of zero or more, e.g. 41.5 (a unit belongs \
             in a `rate` column)",
        ),
        ValueKind::Rate if text == "0" => Ok(0.0),
        ValueKind::Rate => {
            parse_rate(text).map_err(|m| doc.error(line, Some(cols.value), "rate", m))
        }
    }
}

/// Each population's rows as rates: counts spread over their interval.
fn rates(doc: &Doc, cols: &Columns, rows: &Rows) -> Result<Vec<(f64, f64)>, InputError> {
    let mut out = Vec::with_capacity(rows.len());
    for (k, &(at, value, line)) in rows.iter().enumerate() {
        if cols.value_kind != ValueKind::Count {
            out.push((at, value));
            continue;
        }
        let span = match (rows.get(k + 1), k.checked_sub(1).map(|j| rows[j].0)) {
            (Some(next), _) => next.0 - at,
            (None, Some(prev)) => at - prev,
            (None, None) => 0.0,
        };
        if span <= 0.0 {
            return Err(doc.error(
                line,
                Some(cols.value),
                "count",
                "a population with one row has no interval to spread its count over; use rate",
            ));
        }
        out.push((at, value / span));
    }
    Ok(out)
}

/// Reads the series of a traffic CSV for a replay per population: each
/// population's rates, whether the times are Unix seconds. A population
/// not in `known` is an error at its row.
pub fn parse_series(
    path: &Path,
    text: &str,
    known: &[String],
) -> Result<(Vec<RawSeries>, bool), InputError> {
    let doc = Doc { path, text };
    let (rows, cols) = read_rows(&doc, Some(known))?;
    let series = rows
        .iter()
        .map(|(population, rows)| {
            Ok(RawSeries {
                population: population.clone(),
                samples: rates(&doc, &cols, rows)?,
            })
        })
        .collect::<Result<Vec<_>, InputError>>()?;
    Ok((series, cols.time_kind == TimeKind::Unix))
}

/// Reads and checks the trace at `path`.
pub fn load(path: &Path) -> Result<Trace, InputError> {
    parse(path, &read_text(path)?)
}

/// Parses trace text into the sum of its populations' step functions;
/// `path` labels the errors.
pub fn parse(path: &Path, text: &str) -> Result<Trace, InputError> {
    let doc = Doc { path, text };
    let (rows, cols) = read_rows(&doc, None)?;
    let zero = match cols.time_kind {
        TimeKind::Since => 0.0,
        TimeKind::Unix => rows
            .iter()
            .filter_map(|(_, r)| r.first().map(|x| x.0))
            .fold(f64::INFINITY, f64::min),
    };
    let at = |s: f64| SimTime::from_nanos(((s - zero) * 1e9).round() as u64);
    let mut steps: Vec<Vec<(SimTime, f64)>> = Vec::new();
    for (_, list) in &rows {
        let r = rates(&doc, &cols, list)?;
        steps.push(r.into_iter().map(|(t, v)| (at(t), v)).collect());
    }
    let mut times: Vec<SimTime> = steps.iter().flatten().map(|s| s.0).collect();
    times.sort_unstable();
    times.dedup();
    let points = times
        .into_iter()
        .map(|t| TracePoint {
            at: t,
            rate_per_s: steps
                .iter()
                .map(|s| {
                    let i = s.partition_point(|p| p.0 <= t);
                    if i == 0 {
                        0.0
                    } else {
                        s[i - 1].1
                    }
                })
                .sum(),
        })
        .collect();
    Trace::new(points).map_err(|e| doc.error(1, None, "", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cutover_models::SimDuration;

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn populations_are_summed_as_step_functions() {
        let text = "time,population,rate\n0s,nyc,10/s\n60s,nyc,20/s\n30s,lax,5/s\n";
        let tr = parse(Path::new("t.csv"), text).unwrap();
        assert_eq!(tr.rate_at(t(0)), 10.0);
        assert_eq!(tr.rate_at(t(30)), 15.0);
        assert_eq!(tr.rate_at(t(90)), 25.0);
    }

    #[test]
    fn counts_become_rates_over_their_interval() {
        let text = "time,population,count\n0s,a,600\n60s,a,1200\n";
        let tr = parse(Path::new("t.csv"), text).unwrap();
        assert_eq!(tr.rate_at(t(10)), 10.0);
        assert_eq!(
            tr.rate_at(t(70)),
            20.0,
            "the last row repeats the previous interval"
        );
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let err = parse(
            Path::new("t.csv"),
            "time,population,rate\n0s,a,10/s\n0s,a,5/s\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("t.csv:3:1: field `time`"), "{err}");
        let err = parse(Path::new("t.csv"), "time,population,rate\n5,a,10/s\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("t.csv:2:1") && err.contains("no unit"),
            "{err}"
        );
        let err = parse(Path::new("t.csv"), "time,population\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not exactly one of `rate`, `requests_per_s` and `count`"),
            "{err}"
        );
    }

    fn known() -> Vec<String> {
        vec!["nyc".to_string(), "lax".to_string()]
    }

    #[test]
    fn replay_series_keep_each_population_and_unix_times() {
        let text = "timestamp,population,requests_per_s\n1000,nyc,10\n1060,nyc,12.5\n1000,lax,3\n";
        let (series, absolute) = parse_series(Path::new("r.csv"), text, &known()).unwrap();
        assert!(absolute);
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].population, "nyc");
        assert_eq!(series[0].samples, vec![(1000.0, 10.0), (1060.0, 12.5)]);
        assert_eq!(series[1].samples, vec![(1000.0, 3.0)]);
    }

    #[test]
    fn each_class_of_bad_replay_row_is_located() {
        let cases = [
            (
                "timestamp,requests_per_s\n0,1\n",
                "r.csv:1:1: the header has no `population` column",
            ),
            (
                "timestamp,population,requests_per_s\n0,nyc,12/min\n",
                "r.csv:2:7: field `requests_per_s`: `12/min`; allowed: a bare number",
            ),
            (
                "time,population,rate\n0s,nyc,12ms\n",
                "r.csv:2:8: field `rate`: unknown rate unit `ms`",
            ),
            (
                "timestamp,population,requests_per_s\n0,tokyo,1\n",
                "r.csv:2:3: field `population`: `tokyo` is not a population of the estate",
            ),
            (
                "timestamp,population,requests_per_s\n60,nyc,1\n0,nyc,1\n",
                "r.csv:3:1: field `timestamp`: before the population's previous row (line 2)",
            ),
            (
                "timestamp,population,requests_per_s\n60,nyc,1\n60,lax,1\n60,nyc,2\n",
                "r.csv:4:1: field `timestamp`: a second row for `nyc` at this time (the first is line 2)",
            ),
            (
                "time,timestamp,population,rate\n",
                "r.csv:1:1: the header has both `time` and `timestamp`",
            ),
        ];
        for (text, want) in cases {
            let err = parse_series(Path::new("r.csv"), text, &known())
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(want), "{err}\nwanted: {want}");
        }
    }
}
