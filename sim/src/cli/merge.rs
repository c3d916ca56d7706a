//! `cutover merge DIR... --out OUT [--scenario FILE] [--force]`: the partial directories of a
//! sharded `cutover plan` or `cutover sweep` combined into the output the
//! whole run gives on one machine.

use std::path::PathBuf;
use std::process::ExitCode;

use cutover::report::OutputDir;
use cutover::shard::{self, Command};

/// Arguments of `cutover merge`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The shards' partial directories (written with --shard K/N), every
    /// shard of one run once, in any order.
    #[arg(required = true, num_args = 1..)]
    dirs: Vec<PathBuf>,
    /// Directory for the run's output, the same files a run on one machine
    /// writes; must not exist or be empty (see --force).
    #[arg(long)]
    out: PathBuf,
    /// Read the scenario from this file instead of the path the shards
    /// recorded (when they ran on another machine or in another
    /// directory); its input files must hash as the shards' did.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Replace the output directory if it exists.
    #[arg(long)]
    force: bool,
}

/// Checks that the directories are the shards of one run, reads their
/// records and writes the whole run's output.
pub fn execute(args: &Args) -> anyhow::Result<ExitCode> {
    let mut parts = shard::read_parts(&args.dirs)?;
    if let Some(file) = &args.scenario {
        for part in &mut parts {
            part.manifest.scenario_file = file.clone();
        }
    }
    let out = OutputDir::create(&args.out, args.force)?;
    match parts[0].manifest.command {
        Command::Plan => super::plan::merge(&parts, out),
        Command::Sweep => super::sweep::merge(&parts, out),
    }
}
