//! `cutover sweep FILE --out DIR [--replications N] [--threads N] [--seed N]`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::progress::SharedProgress;
use crate::report::plot::{render_svg, Chart, Line};
use crate::report::OutputDir;
use crate::scenario::kind::{self, FileKind};
use crate::scenario::limits;
use crate::scenario::Source;
use crate::sweep::{self, SweepOutcome};

/// Arguments of `cutover sweep`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// An experiment or M/M/c scenario with a [sweep] section.
    file: PathBuf,
    /// Directory for sweep.csv, summary.json and sweep.svg.
    #[arg(long)]
    out: PathBuf,
    /// Replications per combination (1 to 1000000); overrides the file's
    /// `sweep.replications`.
    #[arg(long, value_parser = limits::parse_replications)]
    replications: Option<u64>,
    /// Worker threads (1 to 1024; default: one per core); results do not
    /// depend on it.
    #[arg(long, value_parser = limits::parse_threads)]
    threads: Option<usize>,
    /// Run seed; overrides the scenario's `seed`.
    #[arg(long)]
    seed: Option<u64>,
    /// Replace the output directory if it exists.
    #[arg(long)]
    force: bool,
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

/// Runs the sweep and writes its directory.
pub fn execute(args: &Args) -> anyhow::Result<ExitCode> {
    let source = Source::read(&args.file)?;
    kind::expect_one_of(
        &source,
        &[FileKind::Experiment, FileKind::Model],
        "cutover sweep",
    )?;
    let base = crate::runs::summary::Runnable::from_source(&source)?;
    let seed = args.seed.unwrap_or(base.seed());
    let out = OutputDir::create(&args.out, args.force)?;
    let total = base.sweep().map_or(0, |s| {
        s.combinations().len() as u64 * args.replications.unwrap_or(s.replications)
    });
    let progress = SharedProgress::new(total, "runs");
    let outcome = sweep::run(
        &source,
        &base,
        seed,
        args.replications,
        args.threads,
        &|| progress.tick(),
    )?;
    progress.finish();
    out.write(
        "sweep.csv",
        &outcome.to_csv().context("encoding sweep.csv")?,
    )?;
    let mut json = serde_json::to_string_pretty(&SweepSummary {
        scenario: base.name(),
        model: "sweep",
        outcome: &outcome,
    })?;
    json.push('\n');
    out.write("summary.json", json.as_bytes())?;
    let lines = chart_lines(&outcome);
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
    let dir = out.commit().context("finishing the output directory")?;
    println!(
        "{} combinations of {} in {}",
        outcome.rows.len(),
        outcome.parameters.join(" x "),
        dir.display()
    );
    for row in &outcome.rows {
        let figures: Vec<String> = row
            .metrics
            .iter()
            .map(|m| {
                let v = |x: f64| crate::report::fmt::metric(&m.metric, x);
                format!(
                    "{} {} (P10 {}, P90 {})",
                    m.metric,
                    v(m.mean),
                    v(m.p10.value),
                    v(m.p90.value)
                )
            })
            .collect();
        println!("  {}: {}", row.values.join(", "), figures.join("; "));
    }
    Ok(ExitCode::SUCCESS)
}
