//! Sweeps: every combination of a scenario's `[sweep]` parameters, each run
//! as independent replications, tabulated.
//!
//! Combination `k` gets the same replication seeds as every other
//! combination (common random numbers), so differences between rows come
//! from the parameters, not from luck of the draw.

use std::ops::Range;

use serde::Serialize;

use crate::engine::rng::replication_seed;
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

/// One combination of parameter values.
struct Combination {
    /// The value of each parameter, as written in TOML.
    values: Vec<String>,
    /// `field = value, ...`, for messages.
    assignment: String,
    /// The scenario's text with the values written in.
    text: String,
}

/// A sweep laid out cell by cell: cell `c R + r` is replication `r` of
/// combination `c` (`R` replications each), the first parameter varying
/// slowest.
pub struct SweepLayout {
    spec: SweepSpec,
    replications: u64,
    combinations: Vec<Combination>,
}

impl SweepLayout {
    /// The combinations of the `[sweep]` of `base` (read from `source`),
    /// each with `replications` replications (default: the file's).
    pub fn new(
        source: &Source,
        base: &Runnable,
        replications: Option<u64>,
    ) -> Result<Self, SweepError> {
        let spec: SweepSpec = base.sweep().cloned().ok_or_else(|| SweepError::NoSweep {
            file: source.path().display().to_string(),
        })?;
        let replications = replications.unwrap_or(spec.replications).max(1);
        let mut combinations = Vec::new();
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
            combinations.push(Combination {
                values,
                assignment,
                text,
            });
        }
        Ok(SweepLayout {
            spec,
            replications,
            combinations,
        })
    }

    /// Replications of each combination.
    pub fn replications(&self) -> u64 {
        self.replications
    }

    /// Cells of the whole sweep.
    pub fn cells(&self) -> u64 {
        self.combinations.len() as u64 * self.replications
    }

    /// The metrics each cell records, in order.
    pub fn metrics(&self) -> &[String] {
        &self.spec.metrics
    }
}

/// One cell's figures: each metric of replication `replication` of
/// combination `combination`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The combination, from 0.
    pub combination: u64,
    /// The replication, from 0.
    pub replication: u64,
    /// The value of each metric, in the order of the sweep's metrics.
    pub values: Vec<f64>,
}

/// Runs the cells `cells` of the sweep laid out in `layout` (read from
/// `source`) with `seed` on `threads` threads, calling `done` after each.
/// Replication `r` of every combination gets the seed
/// `replication_seed(seed, r)` (common random numbers), whichever cells
/// are run together.
pub fn run_cells(
    source: &Source,
    layout: &SweepLayout,
    seed: u64,
    cells: Range<u64>,
    threads: Option<usize>,
    done: &(dyn Fn() + Sync),
) -> Result<Vec<Cell>, SweepError> {
    let per = layout.replications;
    let first = cells.start / per;
    let scenarios = layout
        .combinations
        .iter()
        .skip(first as usize)
        .take(cells.end.div_ceil(per).saturating_sub(first) as usize)
        .map(|c| {
            Runnable::from_source(&Source::from_text(source.path(), c.text.clone())).map_err(|e| {
                SweepError::Combination {
                    assignment: c.assignment.clone(),
                    source: e,
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let results = montecarlo::map_indices(cells, threads, |i| {
        let (combination, replication) = (i / per, i % per);
        let scenario = &scenarios[(combination - first) as usize];
        let cell = summarise(scenario, replication_seed(seed, replication))
            .map_err(|source| SweepError::Run {
                assignment: layout.combinations[combination as usize].assignment.clone(),
                source,
            })
            .and_then(|summary| {
                let values = layout
                    .metrics()
                    .iter()
                    .map(|metric| {
                        figure(&summary, metric).ok_or_else(|| SweepError::UnknownMetric {
                            metric: metric.clone(),
                            allowed: figure_names(&summary).join(", "),
                        })
                    })
                    .collect::<Result<_, _>>()?;
                Ok(Cell {
                    combination,
                    replication,
                    values,
                })
            });
        done();
        cell
    })?;
    results.into_iter().collect()
}

/// The table of a sweep from all its cells, in cell order.
pub fn tabulate(layout: &SweepLayout, cells: &[Cell]) -> SweepOutcome {
    let per = layout.replications as usize;
    let rows = layout
        .combinations
        .iter()
        .zip(cells.chunks(per.max(1)))
        .map(|(combination, cells)| {
            let metrics = layout
                .metrics()
                .iter()
                .enumerate()
                .map(|(m, metric)| {
                    let values: Vec<f64> = cells.iter().map(|c| c.values[m]).collect();
                    let q = |p| montecarlo::quantile(&values, p).unwrap_or(NO_VALUES);
                    MetricStats {
                        metric: metric.clone(),
                        mean: values.iter().sum::<f64>() / values.len() as f64,
                        p10: q(0.1),
                        p50: q(0.5),
                        p90: q(0.9),
                    }
                })
                .collect();
            SweepRow {
                values: combination.values.clone(),
                replications: layout.replications,
                metrics,
            }
        })
        .collect();
    SweepOutcome {
        parameters: layout.spec.axes.iter().map(|a| a.field.clone()).collect(),
        rows,
    }
}

/// The quantile of a metric no replication gave a number for (all NaN).
const NO_VALUES: Quantile = Quantile {
    p: f64::NAN,
    value: f64::NAN,
    ci95_low: f64::NAN,
    ci95_high: f64::NAN,
};

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
    let layout = SweepLayout::new(source, base, replications)?;
    let cells = run_cells(source, &layout, seed, 0..layout.cells(), threads, done)?;
    Ok(tabulate(&layout, &cells))
}

/// A shard's cells as CSV: `combination`, `replication`, then each metric,
/// numbers in their shortest form that reads back to the same value.
pub fn cells_csv(layout: &SweepLayout, cells: &[Cell]) -> csv::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["combination".to_string(), "replication".to_string()];
    header.extend(layout.metrics().iter().cloned());
    w.write_record(&header)?;
    for c in cells {
        let mut record = vec![c.combination.to_string(), c.replication.to_string()];
        record.extend(c.values.iter().map(f64::to_string));
        w.write_record(&record)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// Reads back the cells written by [`cells_csv`] for `layout`, exactly.
pub fn read_cells_csv(layout: &SweepLayout, text: &str) -> Result<Vec<Cell>, String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(str::to_string)
        .collect();
    let mut expected = vec!["combination".to_string(), "replication".to_string()];
    expected.extend(layout.metrics().iter().cloned());
    if header != expected {
        return Err(format!(
            "its header is `{}`; expected `{}`",
            header.join(","),
            expected.join(",")
        ));
    }
    let mut cells = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let at = |e: String| format!("row {}: {e}", line + 1);
        let record = record.map_err(|e| at(e.to_string()))?;
        let int = |k: usize| {
            record[k]
                .parse::<u64>()
                .map_err(|e| at(format!("`{}`: {e}", &record[k])))
        };
        let values = record
            .iter()
            .skip(2)
            .map(|v| v.parse::<f64>().map_err(|e| at(format!("`{v}`: {e}"))))
            .collect::<Result<_, _>>()?;
        cells.push(Cell {
            combination: int(0)?,
            replication: int(1)?,
            values,
        });
    }
    Ok(cells)
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
