//! The M/M/c validation scenario, run and written to a directory: what
//! `cutover run MODEL --out DIR` does.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;

use super::RunInfo;
use crate::report::{mmc as mmc_report, OutputDir};
use crate::runs::mmc::{self, MmcOutcome};
use crate::scenario::{ModelSpec, Scenario};

/// A finished M/M/c run.
pub struct MmcRun {
    /// What the queue measured.
    pub outcome: MmcOutcome,
    /// Its wall-clock facts, as written to `run-info.json`.
    pub info: RunInfo,
    /// Wall-clock seconds the queue took to run (writing excluded).
    pub wall_s: f64,
    /// The committed output directory.
    pub dir: PathBuf,
}

/// Runs `scenario` (read from `file`) with `seed` and writes its results
/// into `out`, which it commits; `progress` is called now and then with
/// the number of customers departed so far.
pub fn run(
    file: &Path,
    scenario: &Scenario,
    seed: u64,
    out: OutputDir,
    progress: &mut dyn FnMut(u64),
) -> anyhow::Result<MmcRun> {
    let started = Instant::now();
    let ModelSpec::Mmc(spec) = &scenario.model;
    let outcome = mmc::run(spec, seed, scenario.timeline_interval, progress);
    let wall_s = started.elapsed().as_secs_f64();
    mmc_report::write(&out, scenario, spec, seed, &outcome)?;
    let info = RunInfo::new(file, seed, wall_s).with_events(outcome.summary.events);
    info.write(&out)?;
    let dir = out.commit().context("finishing the output directory")?;
    Ok(MmcRun {
        outcome,
        info,
        wall_s,
        dir,
    })
}
