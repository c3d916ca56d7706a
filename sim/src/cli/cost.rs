//! `cutover cost FILE [--out DIR]`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use cutover::report::{cost as cost_report, OutputDir};
use cutover::scenario::cost::CostScenario;
use cutover::scenario::kind::{self, FileKind};
use cutover::scenario::Source;

/// Arguments of `cutover cost`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The cost scenario file (TOML).
    file: PathBuf,
    /// Directory for cost.csv, summary.json, cost.svg (and savings.svg for a
    /// migration); must not exist or be empty (see --force). Without it,
    /// only the table is printed.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace the output directory if it exists.
    #[arg(long)]
    force: bool,
}

/// Prices the scenario, prints the report and writes the output directory;
/// exit status 1 when a budget is overrun (2 for bad input).
pub fn execute(args: &Args) -> anyhow::Result<ExitCode> {
    let source = Source::read(&args.file)?;
    kind::expect(&source, FileKind::Cost, "cutover cost")?;
    let scenario = CostScenario::from_source(&source)?;
    let out = args
        .out
        .as_ref()
        .map(|o| OutputDir::create(o, args.force))
        .transpose()?;
    let analysis = scenario
        .model
        .analyse()
        .with_context(|| format!("pricing {}", args.file.display()))?;
    print!("{}", cost_report::render_table(&scenario, &analysis));
    if let Some(out) = out {
        cost_report::write(&out, &scenario, &analysis)?;
        let dir = out.commit().context("finishing the output directory")?;
        println!("\nresults in {}", dir.display());
    }
    match cost_report::verdict(&scenario, &analysis) {
        Some(v) => {
            println!("\nverdict: {v}");
            Ok(if analysis.overruns.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        None => Ok(ExitCode::SUCCESS),
    }
}
