//! The `[sweep]` section: parameters of the scenario to vary, how many
//! replications each combination gets, and which summary figures to tabulate.
//!
//! ```toml
//! [sweep]
//! replications = 10
//! metrics = ["mean_wait_s", "wait_p99_s"]
//!
//! [[sweep.parameter]]
//! field = "mmc.servers"
//! values = [16, 17, 18]
//!
//! [[sweep.parameter]]
//! field = "mmc.arrival_rate"
//! values = ["13/s", "14.4/s"]
//! ```

use serde::Deserialize;

use super::source::{InputError, Source};

/// The section as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSweep {
    replications: Option<i64>,
    metrics: Vec<String>,
    parameter: Vec<RawParameter>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParameter {
    field: String,
    values: Vec<toml::Value>,
}

/// One parameter to vary.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Dotted path of the field in the scenario file, e.g. `mmc.servers`.
    pub field: String,
    /// The values to give it, each written as in the file (`16`, `"14.4/s"`).
    pub values: Vec<String>,
}

/// A validated sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSpec {
    /// The parameters, the first varying slowest.
    pub axes: Vec<Axis>,
    /// Replications per combination.
    pub replications: u64,
    /// Dotted paths of numeric figures of the run's summary to tabulate.
    pub metrics: Vec<String>,
}

/// Default replications per combination.
pub const DEFAULT_REPLICATIONS: u64 = 10;
/// Most combinations a sweep may have, so that a typo cannot start a run of days.
pub const MAX_COMBINATIONS: usize = 10_000;

/// Checks the section against the file it came from.
pub fn validate(source: &Source, raw: &RawSweep) -> Result<SweepSpec, InputError> {
    let replications = raw.replications.unwrap_or(DEFAULT_REPLICATIONS as i64);
    if !(1..=100_000).contains(&replications) {
        return Err(source.field_error(
            "sweep.replications",
            format!("{replications} replications; allowed: 1 to 100000"),
        ));
    }
    if raw.metrics.is_empty() {
        return Err(source.field_error(
            "sweep.metrics",
            "no metrics; allowed: names of numeric fields of the run's summary.json, e.g. \"mean_wait_s\"",
        ));
    }
    if raw.parameter.is_empty() {
        return Err(source.field_error(
            "sweep",
            "no [[sweep.parameter]] to vary; allowed: one or more, each with `field` and `values`",
        ));
    }
    let mut axes = Vec::new();
    let mut combinations: usize = 1;
    for (i, p) in raw.parameter.iter().enumerate() {
        let here = format!("sweep.parameter[{i}]");
        if p.field.starts_with("sweep") || !source.has_field(&p.field) {
            return Err(source.field_error(
                &format!("{here}.field"),
                format!(
                    "`{}` is not a field of this scenario; allowed: the dotted path of a field \
                     written in this file outside [sweep], e.g. \"mmc.servers\"",
                    p.field
                ),
            ));
        }
        if axes.iter().any(|a: &Axis| a.field == p.field) {
            return Err(source.field_error(
                &format!("{here}.field"),
                format!("`{}` is varied twice; allowed: each field once", p.field),
            ));
        }
        if p.values.is_empty() {
            return Err(source.field_error(
                &format!("{here}.values"),
                "no values; allowed: a list of one or more values",
            ));
        }
        combinations = combinations.saturating_mul(p.values.len());
        axes.push(Axis {
            field: p.field.clone(),
            values: p.values.iter().map(|v| v.to_string()).collect(),
        });
    }
    if combinations > MAX_COMBINATIONS {
        return Err(source.field_error(
            "sweep.parameter",
            format!("{combinations} combinations; allowed: at most {MAX_COMBINATIONS}"),
        ));
    }
    Ok(SweepSpec {
        axes,
        replications: replications as u64,
        metrics: raw.metrics.clone(),
    })
}

impl SweepSpec {
    /// Every combination as one value index per axis, the first axis
    /// varying slowest.
    pub fn combinations(&self) -> Vec<Vec<usize>> {
        let mut all = vec![Vec::new()];
        for axis in &self.axes {
            all = all
                .into_iter()
                .flat_map(|prefix| {
                    (0..axis.values.len()).map(move |i| {
                        let mut next = prefix.clone();
                        next.push(i);
                        next
                    })
                })
                .collect();
        }
        all
    }
}

/// The scenario text with each axis's field set to the chosen value. Only
/// values change, so lines and columns of the rest of the file stay valid
/// for error messages.
pub fn apply(text: &str, spec: &SweepSpec, combination: &[usize]) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("{e}"))?;
    for (axis, &choice) in spec.axes.iter().zip(combination) {
        let value: toml_edit::Value = axis.values[choice]
            .parse()
            .map_err(|e| format!("value {} of {}: {e}", axis.values[choice], axis.field))?;
        let mut parts = axis.field.split('.').peekable();
        let mut item = doc.as_item_mut();
        while let Some(key) = parts.next() {
            let next = item
                .get_mut(key)
                .ok_or_else(|| format!("{} is not in the file", axis.field))?;
            if parts.peek().is_none() {
                *next = toml_edit::value(value.clone());
                break;
            }
            item = next;
        }
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const BASE: &str = "[mmc]\nservers = 4\nrate = \"3/s\"\n";

    fn spec(text: &str) -> Result<SweepSpec, String> {
        #[derive(Deserialize)]
        struct File {
            sweep: RawSweep,
        }
        let source = Source::from_text(Path::new("s.toml"), text.to_string());
        let table: toml::Table = toml::from_str(text).unwrap();
        let raw: File = toml::Value::Table(
            [("sweep".to_string(), table["sweep"].clone())]
                .into_iter()
                .collect(),
        )
        .try_into()
        .unwrap();
        validate(&source, &raw.sweep).map_err(|e| e.to_string())
    }

    #[test]
    fn combinations_vary_the_first_axis_slowest_and_values_are_applied() {
        let text = format!(
            "{BASE}[sweep]\nmetrics = [\"m\"]\n[[sweep.parameter]]\nfield = \"mmc.servers\"\nvalues = [4, 5]\n\
             [[sweep.parameter]]\nfield = \"mmc.rate\"\nvalues = [\"1/s\", \"2/s\", \"3/s\"]\n"
        );
        let s = spec(&text).unwrap();
        assert_eq!(s.replications, DEFAULT_REPLICATIONS);
        let combos = s.combinations();
        assert_eq!(combos.len(), 6);
        assert_eq!(combos[0], vec![0, 0]);
        assert_eq!(combos[1], vec![0, 1]);
        assert_eq!(combos[5], vec![1, 2]);
        let applied = apply(&text, &s, &[1, 1]).unwrap();
        assert!(
            applied.starts_with("[mmc]\nservers = 5\nrate = \"2/s\"\n"),
            "{applied}"
        );
        assert_eq!(applied.lines().count(), text.lines().count());
    }

    #[test]
    fn unknown_fields_and_empty_lists_are_located() {
        let text = format!(
            "{BASE}[sweep]\nmetrics = [\"m\"]\n[[sweep.parameter]]\nfield = \"mmc.servrs\"\nvalues = [4]\n"
        );
        let err = spec(&text).unwrap_err();
        assert!(
            err.starts_with("s.toml:7:9: field `sweep.parameter[0].field`"),
            "{err}"
        );
        assert!(
            err.contains("`mmc.servrs` is not a field of this scenario"),
            "{err}"
        );
        let text = format!(
            "{BASE}[sweep]\nmetrics = [\"m\"]\n[[sweep.parameter]]\nfield = \"mmc.servers\"\nvalues = []\n"
        );
        assert!(spec(&text).unwrap_err().contains("no values"));
        let text = format!(
            "{BASE}[sweep]\nmetrics = []\n[[sweep.parameter]]\nfield = \"mmc.servers\"\nvalues = [1]\n"
        );
        assert!(spec(&text).unwrap_err().contains("no metrics"));
    }
}
