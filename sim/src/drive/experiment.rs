//! An experiment on its estate, run in the world and written to a
//! directory: what `cutover run EXPERIMENT --out DIR` does.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;

use super::RunInfo;
use crate::experiment::Experiment;
use crate::report::{load_test as load_test_report, world as world_report, OutputDir};
use crate::world::load_test::{self, LoadTestResult};
use crate::world::summary::Outcome;
use crate::world::World;

/// A finished experiment run.
pub struct ExperimentRun {
    /// The experiment, as loaded.
    pub experiment: Experiment,
    /// The seed it ran with.
    pub seed: u64,
    /// What the world measured.
    pub outcome: Outcome,
    /// The load test's steps and knees, when the experiment is one.
    pub load_test: Option<LoadTestResult>,
    /// Wall-clock seconds the world took to run (writing excluded).
    pub wall_s: f64,
    /// The committed output directory.
    pub dir: PathBuf,
}

/// Runs the experiment at `file` with `seed` (or the file's own) and
/// writes its results into `out`, which it commits.
pub fn run(file: &Path, seed: Option<u64>, out: OutputDir) -> anyhow::Result<ExperimentRun> {
    let experiment = Experiment::load(file)?;
    let seed = seed.unwrap_or(experiment.seed);
    let started = Instant::now();
    let no_steady_state = || format!("{}: BGP found no steady state", file.display());
    let (outcome, load_test) = match &experiment.load_test {
        Some(lt) => {
            let (outcome, result) =
                load_test::run(&experiment, lt, seed).with_context(no_steady_state)?;
            (outcome, Some(result))
        }
        None => (
            World::new(&experiment, seed)
                .with_context(no_steady_state)?
                .run(),
            None,
        ),
    };
    let wall_s = started.elapsed().as_secs_f64();
    match &load_test {
        Some(r) => load_test_report::write(&out, &experiment.name, seed, &outcome, r)?,
        None => world_report::write(&out, &experiment.name, seed, &outcome)?,
    }
    RunInfo::new(file, seed, wall_s)
        .with_events(outcome.summary.events)
        .with_ticks(experiment.duration.as_nanos() / experiment.tick.as_nanos())
        .write(&out)?;
    let dir = out.commit().context("finishing the output directory")?;
    Ok(ExperimentRun {
        experiment,
        seed,
        outcome,
        load_test,
        wall_s,
        dir,
    })
}
