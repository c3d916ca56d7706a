//! Population weights from a CSV: how many users (or requests) each
//! population has, so that cities no longer weigh the same.
//!
//! ```csv
//! population,users,source
//! nyc,8258035,"US Census Bureau, 2023 estimate"
//! lax,3820914,"US Census Bureau, 2023 estimate"
//! ```
//!
//! The columns are `population` (a population of the estate), one of
//! `users`, `requests_per_s` or `weight` (a bare number of zero or more:
//! only the ratios matter), and optionally `source` and `note`, which are
//! not read. Every population of the estate needs exactly one row.

use std::collections::BTreeMap;
use std::path::Path;

use super::source::InputError;
use super::trace::Doc;

const ALLOWED: &str = "columns `population`, one of `users`, `requests_per_s` or `weight`, \
     and optionally `source` and `note`";

/// Reads the weight of each population named in `known`, in that order.
pub fn parse(path: &Path, text: &str, known: &[String]) -> Result<Vec<f64>, InputError> {
    let found = read(path, text, Some(known))?;
    Ok(known.iter().map(|k| found[k].0).collect())
}

/// Checks a weights file on its own: the number of populations it weighs.
pub fn check(path: &Path, text: &str) -> Result<usize, InputError> {
    Ok(read(path, text, None)?.len())
}

/// Each population's weight and line; with `known`, every row names one
/// of them and each has a row.
fn read(
    path: &Path,
    text: &str,
    known: Option<&[String]>,
) -> Result<BTreeMap<String, (f64, usize)>, InputError> {
    let doc = Doc { path, text };
    let (mut reader, headers) = doc.reader(None)?;
    let (population, value) = columns(&doc, &headers)?;
    let mut found: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            doc.error(
                e.position().map_or(1, |p| p.line() as usize),
                None,
                "",
                e.to_string(),
            )
        })?;
        let line = record.position().map_or(1, |p| p.line() as usize);
        let name = record.get(population).unwrap_or("");
        if let Some(known) = known.filter(|k| !k.iter().any(|p| p == name)) {
            return Err(doc.error(
                line,
                Some(population),
                "population",
                format!(
                    "`{name}` is not a population of the estate; allowed: {}",
                    known.join(", ")
                ),
            ));
        }
        let text = record.get(value).unwrap_or("");
        let weight = text
            .parse::<f64>()
            .ok()
            .filter(|w| w.is_finite() && (0.0..=1e12).contains(w))
            .ok_or_else(|| {
                doc.error(
                    line,
                    Some(value),
                    &headers[value],
                    format!("`{text}`; allowed: a bare number from 0 to 1e12, e.g. 8258035"),
                )
            })?;
        if let Some((_, first)) = found.insert(name.to_string(), (weight, line)) {
            return Err(doc.error(
                line,
                Some(population),
                "population",
                format!("a second row for `{name}` (the first is line {first}); allowed: one row per population"),
            ));
        }
    }
    let missing: Vec<&str> = known
        .unwrap_or_default()
        .iter()
        .filter(|k| !found.contains_key(*k))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(doc.error(
            text.lines().count().max(1),
            None,
            "",
            format!(
                "no row for {}; allowed: a row for every population of the estate",
                missing.join(", ")
            ),
        ));
    }
    if found.values().map(|w| w.0).sum::<f64>() <= 0.0 {
        return Err(doc.error(1, Some(value), "", "the weights sum to zero"));
    }
    Ok(found)
}

/// The population and value columns.
fn columns(doc: &Doc, headers: &csv::StringRecord) -> Result<(usize, usize), InputError> {
    for (c, h) in headers.iter().enumerate() {
        if ![
            "population",
            "users",
            "requests_per_s",
            "weight",
            "source",
            "note",
        ]
        .contains(&h)
        {
            return Err(doc.error(
                1,
                Some(c),
                "",
                format!("unknown column `{h}`; allowed: {ALLOWED}"),
            ));
        }
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    let Some(population) = col("population") else {
        return Err(doc.error(
            1,
            None,
            "",
            format!("the header has no `population` column; allowed: {ALLOWED}"),
        ));
    };
    let values: Vec<usize> = ["users", "requests_per_s", "weight"]
        .iter()
        .filter_map(|n| col(n))
        .collect();
    match values[..] {
        [v] => Ok((population, v)),
        _ => Err(doc.error(
            1,
            None,
            "",
            format!("the header has not exactly one of `users`, `requests_per_s` and `weight`; allowed: {ALLOWED}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        vec!["nyc".to_string(), "lax".to_string()]
    }

    fn parse_text(text: &str) -> Result<Vec<f64>, String> {
        parse(Path::new("w.csv"), text, &known()).map_err(|e| e.to_string())
    }

    #[test]
    fn weights_follow_the_estates_order() {
        let w = parse_text("population,users,source\nlax,3820914,census\nnyc,8258035,census\n");
        assert_eq!(w.unwrap(), vec![8_258_035.0, 3_820_914.0]);
    }

    #[test]
    fn each_class_of_bad_row_is_located() {
        let cases = [
            (
                "population,people\nnyc,1\n",
                "w.csv:1:12: unknown column `people`",
            ),
            (
                "population,source\nnyc,x\n",
                "w.csv:1:1: the header has not exactly one of",
            ),
            (
                "users\n1\n",
                "w.csv:1:1: the header has no `population` column",
            ),
            (
                "population,users\nnyc,8.2M\nlax,1\n",
                "w.csv:2:5: field `users`: `8.2M`; allowed: a bare number",
            ),
            (
                "population,users\ntokyo,1\n",
                "w.csv:2:1: field `population`: `tokyo` is not a population",
            ),
            (
                "population,users\nnyc,1\nnyc,2\n",
                "w.csv:3:1: field `population`: a second row for `nyc` (the first is line 2)",
            ),
            ("population,users\nnyc,1\n", "w.csv:2:1: no row for lax"),
            (
                "population,users\nnyc,0\nlax,0\n",
                "the weights sum to zero",
            ),
        ];
        for (text, want) in cases {
            let err = parse_text(text).unwrap_err();
            assert!(err.contains(want), "{err}\nwanted: {want}");
        }
    }
}
