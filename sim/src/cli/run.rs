//! `cutover run FILE --out DIR [--seed N]`: an experiment on its estate, or
//! the M/M/c validation scenario.

use std::path::PathBuf;
use std::process::ExitCode;

use super::progress::Progress;
use cutover::drive;
use cutover::report::OutputDir;
use cutover::scenario::kind::{self, FileKind};
use cutover::scenario::{ModelSpec, Scenario, Source};

/// Arguments of `cutover run`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The scenario file (TOML).
    file: PathBuf,
    /// Directory for the results; must not exist or be empty (see --force).
    #[arg(long)]
    out: PathBuf,
    /// Run seed; overrides the scenario's `seed`.
    #[arg(long)]
    seed: Option<u64>,
    /// Replace the output directory if it exists.
    #[arg(long)]
    force: bool,
}

/// Runs the scenario and writes its output directory.
pub fn execute(args: &Args) -> anyhow::Result<ExitCode> {
    let source = Source::read(&args.file)?;
    let found = kind::expect_one_of(
        &source,
        &[FileKind::Experiment, FileKind::Model],
        "cutover run",
    )?;
    if found == FileKind::Experiment {
        // Validate before touching the output directory.
        cutover::experiment::Experiment::from_source(&source)?;
        let out = OutputDir::create(&args.out, args.force)?;
        return super::experiment::execute(&args.file, args.seed, out);
    }
    let scenario = Scenario::from_source(&source)?;
    let seed = args.seed.unwrap_or(scenario.seed);
    let out = OutputDir::create(&args.out, args.force)?;
    let ModelSpec::Mmc(spec) = &scenario.model;
    let mut progress = Progress::new(spec.customers, "customers");
    let run = drive::mmc::run(&args.file, &scenario, seed, out, &mut |done| {
        progress.update(done)
    })?;
    progress.finish();
    let s = &run.outcome.summary;
    let e = &s.erlang_c;
    println!(
        "{} (seed {seed}): {} customers, {} events",
        scenario.name, s.customers, s.events
    );
    println!(
        "  mean wait    {:.5} s  95% CI [{:.5}, {:.5}]   Erlang C {:.5} s",
        s.mean_wait_s, s.mean_wait_s_ci95[0], s.mean_wait_s_ci95[1], e.mean_wait_s
    );
    println!(
        "  mean system  {:.5} s  95% CI [{:.5}, {:.5}]   Erlang C {:.5} s",
        s.mean_system_s, s.mean_system_s_ci95[0], s.mean_system_s_ci95[1], e.mean_system_s
    );
    println!(
        "  utilisation  {:.4}   (Erlang C {:.4});  wait p50/p95/p99 {:.3}/{:.3}/{:.3} s (Erlang C {:.3}/{:.3}/{:.3})",
        s.utilisation, e.utilisation, s.wait_p50_s, s.wait_p95_s, s.wait_p99_s,
        e.wait_p50_s, e.wait_p95_s, e.wait_p99_s
    );
    println!(
        "  wall {:.2} s, {:.1} M events/s; results in {}",
        run.wall_s,
        run.info.events_per_s().unwrap_or(0.0) / 1e6,
        run.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
