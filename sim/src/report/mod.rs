//! Reports: the output directory (written atomically), summary JSON,
//! timeline CSV, cost reports and SVG plots.

pub mod catchment;
pub mod cost;
pub mod fmt;
pub mod html;
pub mod load_test;
pub mod mmc;
pub mod outdir;
pub mod pack;
mod pages;
pub mod plan;
pub mod plot;
pub mod staging;
pub mod world;

pub use outdir::{OutputDir, OutputError};

use serde::Serialize;

use crate::engine::stats::TimeSeries;

/// Everything that went wrong while writing a run's files.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The directory could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// A file could not be encoded.
    #[error("cannot encode {file}: {reason}")]
    Encode {
        /// The file.
        file: &'static str,
        /// Why.
        reason: String,
    },
}

/// Turns an encoding failure of `file` into a [`WriteError`].
fn encode(file: &'static str) -> impl FnOnce(String) -> WriteError {
    move |reason| WriteError::Encode { file, reason }
}

/// Writes `value` as pretty JSON, ending in a newline, to `name` in `out`.
fn write_json<T: Serialize>(
    out: &OutputDir,
    name: &'static str,
    value: &T,
) -> Result<(), WriteError> {
    let mut json = serde_json::to_string_pretty(value).map_err(|e| encode(name)(e.to_string()))?;
    json.push('\n');
    out.write(name, json.as_bytes())?;
    Ok(())
}

/// The `summary.json` of a simulation run: which scenario, model and seed,
/// then the run's own figures.
#[derive(Serialize)]
struct RunSummaryFile<'a, S: Serialize> {
    scenario: &'a str,
    model: &'static str,
    seed: u64,
    #[serde(flatten)]
    summary: &'a S,
}

/// Writes a simulation run's `summary.json`.
fn write_run_summary<S: Serialize>(
    out: &OutputDir,
    scenario: &str,
    model: &'static str,
    seed: u64,
    summary: &S,
) -> Result<(), WriteError> {
    write_json(
        out,
        "summary.json",
        &RunSummaryFile {
            scenario,
            model,
            seed,
            summary,
        },
    )
}

/// Writes a run's fixed-interval series as `timeline.csv`.
fn write_timeline(out: &OutputDir, timeline: &TimeSeries) -> Result<(), WriteError> {
    let mut csv = Vec::new();
    timeline
        .write_csv(&mut csv)
        .map_err(|e| encode("timeline.csv")(e.to_string()))?;
    out.write("timeline.csv", &csv)?;
    Ok(())
}
