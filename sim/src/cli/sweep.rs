//! `cutover sweep FILE --out DIR [--replications N] [--threads N] [--seed N]
//! [--shard K/N]`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::progress::SharedProgress;
use cutover::drive;
use cutover::report::OutputDir;
use cutover::scenario::limits;
use cutover::scenario::source::hashing_inputs;
use cutover::shard::{self, Part, RunIdentity, Shard, ShardManifest, SHARD_FILE};
use cutover::sweep::{self, tabulate, SweepLayout, SweepOutcome};

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
    /// Run only shard K of N (K from 0 to N - 1) of the sweep's cells (one
    /// cell: one replication of one combination) and write them, with a
    /// manifest, to --out as a partial directory; `cutover merge` turns the
    /// N partial directories into the output of the whole sweep.
    #[arg(long, value_parser = Shard::parse)]
    shard: Option<Shard>,
    /// Replace the output directory if it exists.
    #[arg(long)]
    force: bool,
}

/// Runs the sweep (or a shard of its cells) and writes its directory.
pub fn execute(args: &Args) -> anyhow::Result<ExitCode> {
    let (loaded, inputs) = hashing_inputs(|| drive::sweep::load(&args.file));
    let (source, base) = loaded?;
    let seed = args.seed.unwrap_or(base.seed());
    let out = OutputDir::create(&args.out, args.force)?;
    let layout = SweepLayout::new(&source, &base, args.replications)?;
    let cells = match args.shard {
        Some(shard) => shard.range(layout.cells()),
        None => 0..layout.cells(),
    };
    let progress = SharedProgress::new(cells.end - cells.start, "runs");
    let results = sweep::run_cells(&source, &layout, seed, cells.clone(), args.threads, &|| {
        progress.tick()
    })?;
    progress.finish();
    let Some(shard) = args.shard else {
        return conclude(base.name(), &tabulate(&layout, &results), out);
    };
    out.write(
        SHARD_FILE,
        ShardManifest::new(
            shard::Command::Sweep,
            RunIdentity::new(&args.file, base.name(), inputs, seed, layout.replications()),
            shard,
            layout.cells(),
        )
        .to_json()
        .as_bytes(),
    )?;
    out.write(
        CELLS_CSV,
        &sweep::cells_csv(&layout, &results).context("encoding cells.csv")?,
    )?;
    let dir = out.commit().context("finishing the output directory")?;
    println!(
        "{} (seed {seed}) shard {shard}: cells {} to {} of {} in {}",
        base.name(),
        cells.start,
        cells.end,
        layout.cells(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// A shard's cells.
const CELLS_CSV: &str = "cells.csv";

/// `cutover merge` of a sweep's shards: the cells of every part, in
/// order, tabulated and written by the code of the single run.
pub(super) fn merge(parts: &[Part], out: OutputDir) -> anyhow::Result<ExitCode> {
    let run = &parts[0].manifest;
    let (source, base) = shard::load_scenario(run, drive::sweep::load)?;
    let layout = SweepLayout::new(&source, &base, Some(run.replications))?;
    let mut cells = Vec::new();
    for part in parts {
        let these = sweep::read_cells_csv(&layout, &part.read(CELLS_CSV)?)
            .map_err(|reason| part.records_error(CELLS_CSV, reason))?;
        let expected = part.manifest.range();
        let per = layout.replications();
        let fits = layout.cells() == run.units
            && these
                .iter()
                .map(|c| c.combination * per + c.replication)
                .eq(expected.clone())
            && these.iter().all(|c| c.replication < per);
        if !fits {
            return Err(part
                .records_error(
                    CELLS_CSV,
                    format!(
                        "it should hold cells {} to {} of {} ({per} replications per combination), and does not",
                        expected.start, expected.end, run.units
                    ),
                )
                .into());
        }
        cells.extend(these);
    }
    conclude(base.name(), &tabulate(&layout, &cells), out)
}

/// Writes the sweep's table, summary and chart, and prints the table.
fn conclude(name: &str, outcome: &SweepOutcome, out: OutputDir) -> anyhow::Result<ExitCode> {
    drive::sweep::write_outputs(name, outcome, &out)?;
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
                let v = |x: f64| cutover::report::fmt::metric(&m.metric, x);
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
