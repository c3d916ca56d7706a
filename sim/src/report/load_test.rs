//! A load test's files: those of its experiment (see [`super::world`]),
//! with a `load_test` section in `summary.json` (each judged site's knee
//! and first failing step) and `steps.csv` (each judged site's window of
//! every step run: requests, failures, p99, availability, pods, CPU, and
//! the limits it broke).

use serde::Serialize;

use super::world::{write_csv, write_files};
use super::{write_run_summary, OutputDir, WriteError};
use crate::world::load_test::LoadTestResult;
use crate::world::summary::Summary;
use crate::world::Outcome;

/// The columns of `steps.csv`, written alone when no step ran.
const STEP_COLUMNS: [&str; 14] = [
    "step",
    "level",
    "site",
    "window_s",
    "requests",
    "failed",
    "requests_per_s",
    "error_rate",
    "p99_ms",
    "availability",
    "max_pods",
    "cpu_utilisation",
    "passed",
    "failed_limits",
];

/// A load test's summary: the experiment's, then its `load_test`.
#[derive(Serialize)]
struct WithLoadTest<'a> {
    #[serde(flatten)]
    summary: &'a Summary,
    load_test: &'a LoadTestResult,
}

/// Writes the result files of a load test into `out`.
pub fn write(
    out: &OutputDir,
    name: &str,
    seed: u64,
    outcome: &Outcome,
    result: &LoadTestResult,
) -> Result<(), WriteError> {
    let summary = WithLoadTest {
        summary: &outcome.summary,
        load_test: result,
    };
    write_run_summary(out, name, "experiment", seed, &summary)?;
    write_files(out, outcome)?;
    write_csv(out, "steps.csv", &result.steps, &STEP_COLUMNS)
}
