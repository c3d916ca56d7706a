//! A sweep's file and result files: the parts of `cutover sweep` around
//! [`sweep::run_cells`](crate::sweep::run_cells) and
//! [`sweep::tabulate`](crate::sweep::tabulate).

use std::path::Path;

use anyhow::Context;

use crate::report::plot::{render_svg, Chart, Line};
use crate::report::OutputDir;
use crate::runs::summary::Runnable;
use crate::scenario::kind::{self, FileKind};
use crate::scenario::Source;
use crate::sweep::SweepOutcome;

/// Reads the sweep's scenario file (an experiment or M/M/c scenario with
/// a `[sweep]` section): its source and what it runs.
pub fn load(file: &Path) -> anyhow::Result<(Source, Runnable)> {
    let source = Source::read(file)?;
    kind::expect_one_of(
        &source,
        &[FileKind::Experiment, FileKind::Model],
        "cutover sweep",
    )?;
    let base = Runnable::from_source(&source)?;
    Ok((source, base))
}

/// The leading number of a value as written (`16`, `"14.4/s"`), if any.
fn leading_number(value: &str) -> Option<f64> {
    let text = value.trim_matches('"');
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '_'))
        .unwrap_or(text.len());
    text[..end].replace('_', "").parse().ok()
}

/// The first metric's mean against the first parameter, one line per
/// combination of the other parameters: (label, points).
fn chart_lines(outcome: &SweepOutcome) -> Vec<(String, Vec<(f64, f64)>)> {
    let mut lines: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for (i, row) in outcome.rows.iter().enumerate() {
        let Some(metric) = row.metrics.first() else {
            continue;
        };
        let label = match row.values[1..].join(", ") {
            l if l.is_empty() => "mean".to_string(),
            l => l,
        };
        let x = leading_number(&row.values[0]).unwrap_or(i as f64);
        match lines.iter_mut().find(|(l, _)| *l == label) {
            Some((_, points)) => points.push((x, metric.mean)),
            None => lines.push((label, vec![(x, metric.mean)])),
        }
    }
    lines
}

/// The sweep's `summary.json`: which scenario, then the outcome.
#[derive(serde::Serialize)]
struct SweepSummary<'a> {
    scenario: &'a str,
    model: &'static str,
    #[serde(flatten)]
    outcome: &'a SweepOutcome,
}

/// Writes the sweep's `sweep.csv`, `summary.json` and `sweep.svg` for
/// the scenario `name` into `out` (not committed).
pub fn write_outputs(name: &str, outcome: &SweepOutcome, out: &OutputDir) -> anyhow::Result<()> {
    out.write(
        "sweep.csv",
        &outcome.to_csv().context("encoding sweep.csv")?,
    )?;
    let mut json = serde_json::to_string_pretty(&SweepSummary {
        scenario: name,
        model: "sweep",
        outcome,
    })?;
    json.push('\n');
    out.write("summary.json", json.as_bytes())?;
    let lines = chart_lines(outcome);
    if let Some(metric) = outcome.rows.first().and_then(|r| r.metrics.first()) {
        let chart = Chart {
            title: "sweep: mean over replications",
            x_label: &outcome.parameters[0],
            y_label: &metric.metric,
            lines: lines
                .iter()
                .map(|(label, points)| Line {
                    label,
                    points: points.clone(),
                })
                .collect(),
        };
        let svg = render_svg(&chart, 800, 450).map_err(anyhow::Error::msg)?;
        out.write("sweep.svg", svg.as_bytes())?;
    }
    Ok(())
}
