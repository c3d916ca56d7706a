//! `cutover pack FILE [--out DIR] [--seed N] [--threads N] [--heuristic H]`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use cutover_models::pack::Heuristic;

use cutover::pack::{run, PackScenario};
use cutover::report::{pack as pack_report, OutputDir};
use cutover::scenario::kind::{self, FileKind};
use cutover::scenario::{limits, Source};

/// Arguments of `cutover pack`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The consolidation plan (TOML with [pack]).
    file: PathBuf,
    /// Directory for summary.json, hosts.csv and tenants.csv; must not
    /// exist or be empty (see --force). Without it, only the summary is
    /// printed.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace the output directory if it exists.
    #[arg(long)]
    force: bool,
    /// Run seed; overrides the file's `seed`.
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads for the hosts' contention (1 to 1024; default: one
    /// per core); the results do not depend on it.
    #[arg(long, value_parser = limits::parse_threads)]
    threads: Option<usize>,
    /// The packing heuristic; overrides the file's `heuristic`.
    #[arg(long, value_parser = ["first-fit-decreasing", "best-fit-decreasing"])]
    heuristic: Option<String>,
}

/// Packs the plan, prints its summary and writes the output directory;
/// exit status 1 when a host's contention is above `max_contention` (2 for
/// bad input).
pub fn execute(args: &Args) -> anyhow::Result<ExitCode> {
    let source = Source::read(&args.file)?;
    kind::expect(&source, FileKind::Pack, "cutover pack")?;
    let mut scenario = PackScenario::from_source(&source)?;
    match args.heuristic.as_deref() {
        Some("best-fit-decreasing") => scenario.heuristic = Heuristic::BestFitDecreasing,
        Some(_) => scenario.heuristic = Heuristic::FirstFitDecreasing,
        None => {}
    }
    let seed = args.seed.unwrap_or(scenario.seed);
    let out = args
        .out
        .as_ref()
        .map(|o| OutputDir::create(o, args.force))
        .transpose()?;
    let outcome = run::run(&scenario, seed, args.threads)
        .with_context(|| format!("packing {}", args.file.display()))?;
    print!("{}", pack_report::render(&scenario, seed, &outcome));
    if let Some(out) = out {
        pack_report::write(&out, &scenario, seed, &outcome)?;
        let dir = out.commit().context("finishing the output directory")?;
        println!("\nresults in {}", dir.display());
    }
    Ok(if outcome.passed == Some(false) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
