//! Prometheus range-query results: the JSON that `/api/v1/query_range`
//! returns, one series per population.
//!
//! ```json
//! {"status": "success",
//!  "data": {"resultType": "matrix",
//!           "result": [{"metric": {"__name__": "http_requests", "city": "nyc"},
//!                       "values": [[1764547200, "41.5"], [1764547260, "43"]]}]}}
//! ```
//!
//! Each series' `metric` carries the label that names its population (the
//! experiment says which, e.g. `label = "city"`); `values` are `[Unix
//! seconds, "value"]` pairs in time order, the value a string as Prometheus
//! writes it. Errors name the file, the line and column of the value, and
//! its JSON path (`data.result[2].values[7][0]`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use super::replay::{RawSeries, SeriesKind};
use super::source::{FieldError, InputError};

/// One step of a JSON path.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A JSON path, written `data.result[2].values[7][0]`.
#[derive(Clone, Debug, Default, PartialEq)]
struct JsonPath(Vec<Step>);

impl JsonPath {
    fn key(&self, k: &str) -> JsonPath {
        let mut p = self.clone();
        p.0.push(Step::Key(k.to_string()));
        p
    }

    fn index(&self, i: usize) -> JsonPath {
        let mut p = self.clone();
        p.0.push(Step::Index(i));
        p
    }

    fn text(&self) -> String {
        let mut t = String::new();
        for s in &self.0 {
            match s {
                Step::Key(k) if t.is_empty() => t.push_str(k),
                Step::Key(k) => {
                    let _ = write!(t, ".{k}");
                }
                Step::Index(i) => {
                    let _ = write!(t, "[{i}]");
                }
            }
        }
        t
    }
}

/// The parsed file with what locates its errors.
struct Doc<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Doc<'_> {
    /// An error at the value `at` points to.
    fn error(&self, at: &JsonPath, message: impl Into<String>) -> InputError {
        let offset = locate(self.text, &at.0).unwrap_or(0);
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        InputError::Field(Box::new(FieldError {
            file: self.path.to_path_buf(),
            line,
            column,
            field: at.text(),
            message: message.into(),
        }))
    }

    /// The value at `at` under `value`, or an error naming what is missing.
    fn get<'v>(
        &self,
        value: &'v Value,
        at: &JsonPath,
        key: &str,
        what: &str,
    ) -> Result<&'v Value, InputError> {
        value
            .get(key)
            .ok_or_else(|| self.error(at, format!("no `{key}`; allowed: {what}")))
    }
}

/// What the experiment says about the file.
pub struct Expect<'a> {
    /// The label that names the population; `None` (a file checked on its
    /// own): each series is named by all its labels.
    pub label: Option<&'a str>,
    /// Rate or counter; `None`: a counter if the metric's name ends in
    /// `_total`, as Prometheus names counters.
    pub kind: Option<SeriesKind>,
    /// The population names the estate knows; `None`: any.
    pub populations: Option<&'a [String]>,
}

impl Expect<'_> {
    /// What the series named `name` holds.
    fn kind_of(&self, name: Option<&str>) -> SeriesKind {
        self.kind.unwrap_or(match name {
            Some(n) if n.ends_with("_total") => SeriesKind::Counter,
            _ => SeriesKind::Rate,
        })
    }
}

/// Reads the series of a range-query result; `path` labels the errors.
pub fn parse(path: &Path, text: &str, expect: &Expect) -> Result<Vec<RawSeries>, InputError> {
    let doc = Doc { path, text };
    let root: Value = serde_json::from_str(text).map_err(|e| {
        InputError::Field(Box::new(FieldError {
            file: path.to_path_buf(),
            line: e.line().max(1),
            column: e.column().max(1),
            field: String::new(),
            message: format!("not JSON: {e}; allowed: the JSON of /api/v1/query_range"),
        }))
    })?;
    let top = JsonPath::default();
    let status = doc.get(&root, &top, "status", "\"status\": \"success\"")?;
    if status.as_str() != Some("success") {
        let why = root.get("error").and_then(Value::as_str).unwrap_or("");
        return Err(doc.error(
            &top.key("status"),
            format!("{status} ({why}); allowed: \"success\", the result of a query that worked"),
        ));
    }
    let data_at = top.key("data");
    let data = doc.get(&root, &top, "data", "the query's `data`")?;
    let kind_at = data_at.key("resultType");
    match doc
        .get(data, &data_at, "resultType", "\"matrix\"")?
        .as_str()
    {
        Some("matrix") => {}
        other => {
            return Err(doc.error(
                &kind_at,
                format!(
                    "{}; allowed: \"matrix\", the result of a range query (/api/v1/query_range, \
                     not /api/v1/query)",
                    other.unwrap_or("not a string")
                ),
            ))
        }
    }
    let result_at = data_at.key("result");
    let Some(result) = doc
        .get(data, &data_at, "result", "a list of series")?
        .as_array()
    else {
        return Err(doc.error(&result_at, "not a list; allowed: a list of series"));
    };
    let mut out: Vec<RawSeries> = Vec::with_capacity(result.len());
    let mut first_of: BTreeMap<String, usize> = BTreeMap::new();
    for (i, s) in result.iter().enumerate() {
        let at = result_at.index(i);
        let population = series_population(&doc, s, &at, expect)?;
        if let Some(k) = first_of.insert(population.clone(), i) {
            let label_at = match expect.label {
                Some(label) => at.key("metric").key(label),
                None => at.key("metric"),
            };
            return Err(doc.error(
                &label_at,
                format!(
                    "a second series for `{population}` (the first is {}); allowed: one series \
                     per population (sum them in the query, e.g. `sum by ({}) (...)`)",
                    result_at.index(k).text(),
                    expect.label.unwrap_or("city")
                ),
            ));
        }
        let name = s.pointer("/metric/__name__").and_then(Value::as_str);
        let samples = series_values(&doc, s, &at, expect.kind_of(name))?;
        out.push(RawSeries {
            population,
            samples,
        });
    }
    if out.is_empty() {
        return Err(doc.error(&result_at, "no series; allowed: one series per population"));
    }
    Ok(out)
}

/// Prometheus metric-name suffixes of units other than requests
/// (prometheus.io, "Metric and label naming": base units as suffixes).
const OTHER_UNITS: [&str; 7] = [
    "_seconds", "_bytes", "_ratio", "_percent", "_celsius", "_meters", "_volts",
];

/// The population a series belongs to, and its metric's unit checked.
fn series_population(
    doc: &Doc,
    s: &Value,
    at: &JsonPath,
    expect: &Expect,
) -> Result<String, InputError> {
    let metric_at = at.key("metric");
    let metric = doc.get(s, at, "metric", "the series' labels")?;
    let labels = || {
        metric
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    };
    let metric_name = metric.get("__name__").and_then(Value::as_str);
    if let Some(name) = metric_name {
        check_unit(
            doc,
            &metric_at.key("__name__"),
            name,
            expect.kind_of(metric_name),
        )?;
    }
    let Some(label) = expect.label else {
        return Ok(format!("{{{}}}", label_set(metric)));
    };
    let Some(value) = metric.get(label) else {
        return Err(doc.error(
            &metric_at,
            format!(
                "no label `{label}`; its labels: {}; allowed: the label that names the population \
                 (`label` in [traffic.replay])",
                labels()
            ),
        ));
    };
    let name = value.as_str().unwrap_or_default();
    if let Some(known) = expect.populations.filter(|k| !k.iter().any(|p| p == name)) {
        return Err(doc.error(
            &metric_at.key(label),
            format!(
                "`{name}` is not a population of the estate; allowed: {}",
                known.join(", ")
            ),
        ));
    }
    Ok(name.to_string())
}

/// A metric's labels written `a="x",b="y"`, in key order.
fn label_set(metric: &Value) -> String {
    metric
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// Refuses a metric whose name says it is not requests, or not what the
/// experiment says it is.
fn check_unit(doc: &Doc, at: &JsonPath, name: &str, kind: SeriesKind) -> Result<(), InputError> {
    if let Some(unit) = OTHER_UNITS.iter().find(|u| name.ends_with(*u)) {
        return Err(doc.error(
            at,
            format!(
                "`{name}` is measured in {}; allowed: requests per second, or a request counter \
                 (`..._total`)",
                &unit[1..]
            ),
        ));
    }
    if kind == SeriesKind::Rate && name.ends_with("_total") {
        return Err(doc.error(
            at,
            format!(
                "`{name}` is a counter (requests so far), not requests per second; allowed: \
                 `series = \"counter\"`, or query `rate({name}[5m])`"
            ),
        ));
    }
    Ok(())
}

/// A series' `[time, "value"]` pairs, checked.
fn series_values(
    doc: &Doc,
    s: &Value,
    at: &JsonPath,
    kind: SeriesKind,
) -> Result<Vec<(f64, f64)>, InputError> {
    let values_at = at.key("values");
    let pairs = "`[unix_seconds, \"value\"]` pairs";
    let Some(values) = doc.get(s, at, "values", pairs)?.as_array() else {
        return Err(doc.error(&values_at, format!("not a list; allowed: {pairs}")));
    };
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(values.len());
    for (j, v) in values.iter().enumerate() {
        let v_at = values_at.index(j);
        let (Some(t), Some(x)) = (v.get(0), v.get(1)) else {
            return Err(doc.error(&v_at, format!("allowed: {pairs}")));
        };
        let Some(t) = t.as_f64().filter(|t| t.is_finite() && *t >= 0.0) else {
            return Err(doc.error(
                &v_at.index(0),
                "allowed: a Unix time in seconds, e.g. 1764547200",
            ));
        };
        let x = x
            .as_str()
            .and_then(|x| x.parse::<f64>().ok())
            .filter(|x| x.is_finite() && *x >= 0.0)
            .ok_or_else(|| {
                doc.error(
                    &v_at.index(1),
                    format!(
                        "{}; allowed: a finite number of zero or more, as a string",
                        v[1]
                    ),
                )
            })?;
        if let Some(&(prev, _)) = out.last() {
            if t <= prev {
                return Err(doc.error(
                    &v_at.index(0),
                    format!("{t} is not after the previous sample's {prev}; allowed: samples in time order"),
                ));
            }
        }
        out.push((t, x));
    }
    if kind == SeriesKind::Counter && out.len() < 2 {
        return Err(doc.error(
            &values_at,
            "a counter with fewer than two samples has no rate; allowed: two samples or more",
        ));
    }
    if out.is_empty() {
        return Err(doc.error(&values_at, "no samples; allowed: at least one"));
    }
    Ok(out)
}

/// The byte offset of the value at `path` in valid JSON `text`.
fn locate(text: &str, path: &[Step]) -> Option<usize> {
    let b = text.as_bytes();
    let mut pos = skip_ws(b, 0);
    for step in path {
        match step {
            Step::Key(key) => {
                if b.get(pos) != Some(&b'{') {
                    return None;
                }
                pos = skip_ws(b, pos + 1);
                loop {
                    let end = skip_string(b, pos)?;
                    let name: String = serde_json::from_str(&text[pos..end]).ok()?;
                    pos = skip_ws(b, skip_ws(b, end) + 1);
                    if &name == key {
                        break;
                    }
                    pos = skip_ws(b, skip_value(b, pos)?);
                    if b.get(pos) != Some(&b',') {
                        return None;
                    }
                    pos = skip_ws(b, pos + 1);
                }
            }
            Step::Index(n) => {
                if b.get(pos) != Some(&b'[') {
                    return None;
                }
                pos = skip_ws(b, pos + 1);
                for _ in 0..*n {
                    pos = skip_ws(b, skip_value(b, pos)?);
                    if b.get(pos) != Some(&b',') {
                        return None;
                    }
                    pos = skip_ws(b, pos + 1);
                }
            }
        }
    }
    Some(pos)
}

fn skip_ws(b: &[u8], mut pos: usize) -> usize {
    while b.get(pos).is_some_and(u8::is_ascii_whitespace) {
        pos += 1;
    }
    pos
}

/// The offset just past the string starting at `pos`.
fn skip_string(b: &[u8], pos: usize) -> Option<usize> {
    if b.get(pos) != Some(&b'"') {
        return None;
    }
    let mut i = pos + 1;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The offset just past the value starting at `pos`.
fn skip_value(b: &[u8], pos: usize) -> Option<usize> {
    match b.get(pos)? {
        b'"' => skip_string(b, pos),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = pos;
            while let Some(&c) = b.get(i) {
                match c {
                    b'"' => {
                        i = skip_string(b, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let mut i = pos;
            while b
                .get(i)
                .is_some_and(|c| !matches!(c, b',' | b']' | b'}') && !c.is_ascii_whitespace())
            {
                i += 1;
            }
            Some(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pops() -> Vec<String> {
        ["nyc", "lax"].iter().map(|s| s.to_string()).collect()
    }

    fn parse_with(text: &str, kind: SeriesKind) -> Result<Vec<RawSeries>, String> {
        let populations = pops();
        let expect = Expect {
            label: Some("city"),
            kind: Some(kind),
            populations: Some(&populations),
        };
        parse(Path::new("q.json"), text, &expect).map_err(|e| e.to_string())
    }

    fn doc(series: &str) -> String {
        format!(
            "{{\"status\":\"success\",\"data\":{{\"resultType\":\"matrix\",\n\"result\":[\n{series}]}}}}"
        )
    }

    const NYC: &str =
        r#"{"metric":{"__name__":"http_requests","city":"nyc"},"values":[[100,"1.5"],[160,"2"]]}"#;

    #[test]
    fn reads_one_series_per_population() {
        let s = parse_with(&doc(NYC), SeriesKind::Rate).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].population, "nyc");
        assert_eq!(s[0].samples, vec![(100.0, 1.5), (160.0, 2.0)]);
    }

    #[test]
    fn each_class_of_bad_input_is_located() {
        let cases: [(String, SeriesKind, &str); 8] = [
            (
                doc(r#"{"metric":{"job":"web"},"values":[[1,"1"]]}"#),
                SeriesKind::Rate,
                "q.json:3:11: field `data.result[0].metric`: no label `city`",
            ),
            (
                doc(r#"{"metric":{"city":"tokyo"},"values":[[1,"1"]]}"#),
                SeriesKind::Rate,
                "q.json:3:19: field `data.result[0].metric.city`: `tokyo` is not a population",
            ),
            (
                doc(&format!("{NYC},\n{NYC}")),
                SeriesKind::Rate,
                "q.json:4:46: field `data.result[1].metric.city`: a second series for `nyc`",
            ),
            (
                doc(r#"{"metric":{"city":"nyc"},"values":[[5,"1"],[5,"2"]]}"#),
                SeriesKind::Rate,
                "q.json:3:45: field `data.result[0].values[1][0]`: 5 is not after",
            ),
            (
                doc(r#"{"metric":{"__name__":"http_request_duration_seconds","city":"nyc"},"values":[[1,"1"]]}"#),
                SeriesKind::Rate,
                "field `data.result[0].metric.__name__`: `http_request_duration_seconds` is measured in seconds",
            ),
            (
                doc(r#"{"metric":{"__name__":"http_requests_total","city":"nyc"},"values":[[1,"1"]]}"#),
                SeriesKind::Rate,
                "is a counter",
            ),
            (
                doc(r#"{"metric":{"city":"nyc"},"values":[[1,"NaN"]]}"#),
                SeriesKind::Rate,
                "field `data.result[0].values[0][1]`: \"NaN\"",
            ),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#.to_string(),
                SeriesKind::Rate,
                "q.json:1:42: field `data.resultType`: vector; allowed: \"matrix\"",
            ),
        ];
        for (text, kind, want) in cases {
            let err = parse_with(&text, kind).unwrap_err();
            assert!(err.contains(want), "{err}\nwanted: {want}");
        }
        let err = parse_with("{\"status\": ", SeriesKind::Rate).unwrap_err();
        assert!(err.starts_with("q.json:1:11: not JSON"), "{err}");
        let err = parse_with(&doc(r#"{"metric":{"city":"nyc"}}"#), SeriesKind::Rate).unwrap_err();
        assert!(err.contains("field `data.result[0]`: no `values`"), "{err}");
        let err = parse_with(
            &doc(r#"{"metric":{"city":"nyc"},"values":[[1,"1"]]}"#),
            SeriesKind::Counter,
        )
        .unwrap_err();
        assert!(err.contains("fewer than two samples"), "{err}");
    }

    #[test]
    fn a_file_checked_alone_names_series_by_their_labels() {
        let alone = Expect {
            label: None,
            kind: None,
            populations: None,
        };
        let one = r#"{"metric":{"__name__":"http_requests_total","city":"x"},"values":[[1,"5"],[2,"3"]]}"#;
        let s = parse(Path::new("q.json"), &doc(one), &alone).unwrap();
        assert_eq!(
            s[0].population,
            r#"{__name__="http_requests_total",city="x"}"#
        );
        let err = parse(Path::new("q.json"), &doc(&format!("{one},{one}")), &alone)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("field `data.result[1].metric`: a second series"),
            "{err}"
        );
    }

    #[test]
    fn locate_finds_nested_values() {
        let text = "{\"a\": [1, {\"b\": \"x]\"}, [2, 3]], \"c\": 4}";
        let at = |p: &[Step]| locate(text, p).map(|i| &text[i..i + 1]);
        assert_eq!(at(&[Step::Key("c".into())]), Some("4"));
        assert_eq!(
            at(&[Step::Key("a".into()), Step::Index(2), Step::Index(1)]),
            Some("3")
        );
        assert_eq!(
            at(&[Step::Key("a".into()), Step::Index(1), Step::Key("b".into())]),
            Some("\"")
        );
    }
}
