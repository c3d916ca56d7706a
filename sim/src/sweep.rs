//! Sweeps: every combination of a scenario's `[sweep]` parameters, each run
//! as independent replications, tabulated.
//!
//! Combination `k` gets the same replication seeds as every other
//! combination (common random numbers), so differences between rows come
//! from the parameters, not from luck of the draw.

use serde::Serialize;
use serde_json::Value;

use crate::montecarlo::{self, MonteCarloError, Quantile};
use crate::runs::summary::{figure, figure_names, summarise, Runnable, SummaryError};
use crate::scenario::source::{InputError, Source};
use crate::scenario::sweep::{apply, SweepSpec};

/// Why a sweep stopped.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The scenario names no `[sweep]`.
    #[error("{file}: the scenario has no [sweep] section; allowed: a [sweep] with metrics and [[sweep.parameter]] entries")]
    NoSweep {
        /// The scenario file.
        file: String,
    },
    /// A combination of values makes an invalid scenario.
    #[error("with {assignment}: {source}")]
    Combination {
        /// The values that were set.
        assignment: String,
        /// What the scenario loader said.
        source: InputError,
    },
    /// A combination could not be written into the file.
    #[error("{0}")]
    Apply(String),
    /// A metric is not a number in the run's summary.
    #[error("metric `{metric}` is not a number in this run's summary; allowed: {allowed}")]
    UnknownMetric {
        /// The metric asked for.
        metric: String,
        /// The figures the summary has.
        allowed: String,
    },
    /// Replications could not run.
    #[error(transparent)]
    Replications(#[from] MonteCarloError),
    /// A replication's run failed.
    #[error("with {assignment}: {source}")]
    Run {
        /// The values that were set.
        assignment: String,
        /// What the run said.
        source: SummaryError,
    },
}

/// One metric over a combination's replications.
#[derive(Debug, Clone, Serialize)]
pub struct MetricStats {
    /// The metric's dotted path.
    pub metric: String,
    /// Mean over replications.
    pub mean: f64,
    /// 10th percentile with its interval.
    pub p10: Quantile,
    /// Median with its interval.
    pub p50: Quantile,
    /// 90th percentile with its interval.
    pub p90: Quantile,
}

/// One combination's results.
#[derive(Debug, Clone, Serialize)]
pub struct SweepRow {
    /// The value of each parameter, as written in TOML.
    pub values: Vec<String>,
    /// Replications run.
    pub replications: u64,
    /// Each metric's statistics.
    pub metrics: Vec<MetricStats>,
}

/// A whole sweep.
#[derive(Debug, Clone, Serialize)]
pub struct SweepOutcome {
    /// The parameters' dotted paths, in column order.
    pub parameters: Vec<String>,
    /// One row per combination, the first parameter varying slowest.
    pub rows: Vec<SweepRow>,
}

/// Runs every combination of the `[sweep]` of `base` (the M/M/c scenario
/// or experiment read from `source`) with `replications` (default: the file's) on `threads`
/// threads, calling `done` after each replication.
pub fn run(
    source: &Source,
    base: &Runnable,
    seed: u64,
    replications: Option<u64>,
    threads: Option<usize>,
    done: &(dyn Fn() + Sync),
) -> Result<SweepOutcome, SweepError> {
    let spec: SweepSpec = base.sweep().cloned().ok_or_else(|| SweepError::NoSweep {
        file: source.path().display().to_string(),
    })?;
    let replications = replications.unwrap_or(spec.replications).max(1);
    let mut rows = Vec::new();
    for combination in spec.combinations() {
        let values: Vec<String> = spec
            .axes
            .iter()
            .zip(&combination)
            .map(|(axis, &i)| axis.values[i].clone())
            .collect();
        let assignment = spec
            .axes
            .iter()
            .zip(&values)
            .map(|(a, v)| format!("{} = {v}", a.field))
            .collect::<Vec<_>>()
            .join(", ");
        let text = apply(source.text(), &spec, &combination).map_err(SweepError::Apply)?;
        let scenario =
            Runnable::from_source(&Source::from_text(source.path(), text)).map_err(|e| {
                SweepError::Combination {
                    assignment: assignment.clone(),
                    source: e,
                }
            })?;
        let summaries: Vec<Value> = montecarlo::replicate(seed, replications, threads, |_, s| {
            let summary = summarise(&scenario, s);
            done();
            summary
        })?
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|source| SweepError::Run {
            assignment: assignment.clone(),
            source,
        })?;
        let mut metrics = Vec::new();
        for metric in &spec.metrics {
            let values: Vec<f64> = summaries
                .iter()
                .map(|s| figure(s, metric))
                .collect::<Option<_>>()
                .ok_or_else(|| SweepError::UnknownMetric {
                    metric: metric.clone(),
                    allowed: figure_names(&summaries[0]).join(", "),
                })?;
            let q = |p| montecarlo::quantile(&values, p).expect("at least one replication");
            metrics.push(MetricStats {
                metric: metric.clone(),
                mean: values.iter().sum::<f64>() / values.len() as f64,
                p10: q(0.1),
                p50: q(0.5),
                p90: q(0.9),
            });
        }
        rows.push(SweepRow {
            values,
            replications,
            metrics,
        });
    }
    Ok(SweepOutcome {
        parameters: spec.axes.iter().map(|a| a.field.clone()).collect(),
        rows,
    })
}

impl SweepOutcome {
    /// The table as CSV: one column per parameter, then `replications`, then
    /// mean, p10, p50 and p90 of each metric.
    pub fn to_csv(&self) -> csv::Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<String> = self.parameters.clone();
        header.push("replications".to_string());
        if let Some(first) = self.rows.first() {
            for m in &first.metrics {
                for stat in ["mean", "p10", "p50", "p90"] {
                    header.push(format!("{}_{stat}", m.metric));
                }
            }
        }
        w.write_record(&header)?;
        for row in &self.rows {
            let mut record: Vec<String> = row
                .values
                .iter()
                .map(|v| v.trim_matches('"').to_string())
                .collect();
            record.push(row.replications.to_string());
            for m in &row.metrics {
                for v in [m.mean, m.p10.value, m.p50.value, m.p90.value] {
                    record.push(v.to_string());
                }
            }
            w.write_record(&record)?;
        }
        w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
    }
}
