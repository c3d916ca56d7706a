//! `cutover report RUN_DIR [--out FILE]`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use cutover::report::html;
use cutover::shard::SHARD_FILE;

/// Arguments of `cutover report`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A directory written by `cutover run`, `cutover cost` or `cutover plan`.
    run_dir: PathBuf,
    /// Where to write the page (default: RUN_DIR/report.html).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Writes the HTML page for the run directory, atomically.
pub fn execute(args: &Args) -> anyhow::Result<ExitCode> {
    if args.run_dir.join(SHARD_FILE).is_file() {
        anyhow::bail!(
            "{}: a shard's partial directory (it has {SHARD_FILE}), which holds only its part of the replications; merge the shards first (`cutover merge DIR... --out OUT`), then report OUT",
            args.run_dir.display()
        );
    }
    let page = html::render(&args.run_dir)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.run_dir.join("report.html"));
    let tmp = out.with_extension("html.partial");
    std::fs::write(&tmp, page).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &out).with_context(|| format!("cannot write {}", out.display()))?;
    println!("report: {}", out.display());
    Ok(ExitCode::SUCCESS)
}
