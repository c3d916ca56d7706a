//! Recorded traffic: a CSV file replayed as request rates.
//!
//! The file has a header and one row per change: `time` (a duration since
//! the start, e.g. `"90s"`), `population` (a name) and either `rate` (e.g.
//! `"120/s"`) or `count` (requests from this row's time to the population's
//! next row; a population's last row repeats its previous interval). Each
//! population's rate is a step function; the replayed demand is their sum,
//! since routing populations to sites is the network layer's job.

use std::collections::BTreeMap;
use std::path::Path;

use cutover_models::traffic::{Trace, TracePoint};
use cutover_models::{SimDuration, SimTime};

use super::source::{read_text, FieldError, InputError};
use super::units::{parse_duration, parse_rate};

fn error(path: &Path, line: usize, field: &str, message: impl Into<String>) -> InputError {
    InputError::Field(Box::new(FieldError {
        file: path.to_path_buf(),
        line,
        column: 1,
        field: field.to_string(),
        message: message.into(),
    }))
}

/// Where a trace's columns are.
struct Columns {
    time: usize,
    population: usize,
    /// The `rate` or the `count` column.
    value: usize,
    is_count: bool,
}

/// Finds the columns in the header row.
fn columns(path: &Path, headers: &csv::StringRecord) -> Result<Columns, InputError> {
    let col = |name: &str| headers.iter().position(|h| h == name);
    let allowed = "columns `time`, `population`, and `rate` or `count`";
    let (Some(time), Some(population)) = (col("time"), col("population")) else {
        let missing = if col("time").is_none() {
            "time"
        } else {
            "population"
        };
        return Err(error(
            path,
            1,
            "",
            format!("the header has no `{missing}` column; allowed: {allowed}"),
        ));
    };
    let (value, is_count) = match (col("rate"), col("count")) {
        (Some(c), None) => (c, false),
        (None, Some(c)) => (c, true),
        _ => {
            return Err(error(
                path,
                1,
                "",
                format!("give exactly one of `rate` and `count`; allowed: {allowed}"),
            ))
        }
    };
    Ok(Columns {
        time,
        population,
        value,
        is_count,
    })
}

/// Reads and checks the trace at `path`.
pub fn load(path: &Path) -> Result<Trace, InputError> {
    parse(path, &read_text(path)?)
}

/// Parses trace text; `path` labels the errors.
pub fn parse(path: &Path, text: &str) -> Result<Trace, InputError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| error(path, 1, "", format!("cannot read the header: {e}")))?
        .clone();
    let Columns {
        time: time_col,
        population: pop_col,
        value: value_col,
        is_count,
    } = columns(path, &headers)?;
    // Per population: (time, value) rows in file order.
    let mut rows: BTreeMap<String, Vec<(SimTime, f64, usize)>> = BTreeMap::new();
    // The line where a record starts: the reader's position is where it
    // began to read the record, before any blank lines.
    let line_of = |p: Option<&csv::Position>| {
        let from = p.map_or(0, |p| p.byte() as usize).min(text.len());
        let blank = text[from..].len() - text[from..].trim_start_matches(['\r', '\n']).len();
        text[..from + blank].matches('\n').count() + 1
    };
    for record in reader.records() {
        let record = record.map_err(|e| error(path, line_of(e.position()), "", e.to_string()))?;
        let line = line_of(record.position());
        let field = |c: usize| record.get(c).unwrap_or("");
        let at = parse_duration(field(time_col)).map_err(|m| error(path, line, "time", m))?;
        let value = if is_count {
            let v: f64 = field(value_col).parse().map_err(|_| {
                error(
                    path,
                    line,
                    "count",
                    "not a number; allowed: a count of requests, e.g. 1200",
                )
            })?;
            if !(v.is_finite() && v >= 0.0) {
                return Err(error(path, line, "count", "allowed: zero or more"));
            }
            v
        } else if field(value_col) == "0" {
            0.0
        } else {
            parse_rate(field(value_col)).map_err(|m| error(path, line, "rate", m))?
        };
        let list = rows.entry(field(pop_col).to_string()).or_default();
        if list
            .last()
            .is_some_and(|&(t, _, _)| t >= SimTime::ZERO + at)
        {
            return Err(error(
                path,
                line,
                "time",
                "not after the population's previous row; rows must be in time order",
            ));
        }
        list.push((SimTime::ZERO + at, value, line));
    }
    if rows.is_empty() {
        return Err(error(
            path,
            text.matches('\n').count() + 1,
            "",
            "no rows; allowed: a row per time and population after the header, \
             e.g. `0s,us-east,300/s`",
        ));
    }
    // Each population as a step function of rates.
    let mut steps: Vec<Vec<(SimTime, f64)>> = Vec::new();
    for list in rows.values() {
        let mut step = Vec::with_capacity(list.len());
        for (k, &(at, value, line)) in list.iter().enumerate() {
            let rate = if is_count {
                let span = match (list.get(k + 1), k.checked_sub(1).map(|j| list[j].0)) {
                    (Some(next), _) => next.0 - at,
                    (None, Some(prev)) => at - prev,
                    (None, None) => SimDuration::ZERO,
                };
                if span == SimDuration::ZERO {
                    return Err(error(
                        path,
                        line,
                        "count",
                        "a population with one row has no interval to spread its count over; use rate",
                    ));
                }
                value / span.as_secs_f64()
            } else {
                value
            };
            step.push((at, rate));
        }
        steps.push(step);
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
    Trace::new(points).map_err(|e| error(path, 1, "", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(err.contains("exactly one of `rate` and `count`"), "{err}");
    }
}
