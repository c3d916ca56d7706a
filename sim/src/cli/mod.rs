//! The `cutover` command line: one module per subcommand.

mod catchment;
mod cost;
mod experiment;
mod merge;
mod pack;
mod plan;
mod progress;
mod report;
mod run;
mod sweep;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// cutover: replay spikes, failovers and migrations against a model of your
/// network, clusters and bills before you touch production.
#[derive(Parser, Debug)]
#[command(
    name = "cutover",
    version,
    after_help = "Examples:\n  cutover validate scenarios/mmc.toml\n  cutover run scenarios/mmc.toml --out out/mmc --seed 7\n  cutover report out/mmc\n  cutover cost scenarios/cost-migration.toml --out out/migration\n  cutover catchment scenarios/story/estate.toml --sweep ams1\n  cutover run scenarios/story/ny-shutdown.toml --out out/ny-shutdown"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check files: each is read as what its top-level section says it is
    /// (model, plan, cost scenario or consolidation plan, price book, AS
    /// topology; a .csv by its header: CUR month, tenants, usage trace,
    /// population weights, measured catchments or traffic trace; a .json
    /// as a Prometheus range query). Every file given is checked; for
    /// each, every unknown
    /// field and then the first other problem are reported with file, line,
    /// column and field (later problems depend on the first, so they are
    /// not guessed at). Exit 2 if any file has a problem.
    #[command(
        after_help = "Examples:\n  cutover validate scenarios/mmc.toml\n  cutover validate scenarios/*.toml scenarios/pricebooks/*.toml"
    )]
    Validate(validate::Args),
    /// Run a scenario and write its results to an output directory.
    #[command(after_help = "Example:\n  cutover run scenarios/mmc.toml --out out/mmc --seed 7")]
    Run(run::Args),
    /// Write a self-contained HTML page (verdict, figures, charts) for a run directory.
    #[command(after_help = "Example:\n  cutover report out/mmc   # writes out/mmc/report.html")]
    Report(report::Args),
    /// Run every combination of a scenario's [sweep] parameters, with replications, into one table.
    #[command(
        after_help = "Example:\n  cutover sweep scenarios/mmc-sweep.toml --out out/sweep --replications 5"
    )]
    Sweep(sweep::Args),
    /// Price an estate or a migration month by month: bill table, cost.csv, summary and plot (exit 1 when a budget is overrun).
    #[command(
        after_help = "Example:\n  cutover cost scenarios/cost-migration.toml --out out/migration"
    )]
    Cost(cost::Args),
    /// Show which site each population reaches, at what RTT and TTFB, and why.
    #[command(
        after_help = "Example:\n  cutover catchment scenarios/story/estate.toml --out out/catchment --sweep ams1"
    )]
    Catchment(catchment::Args),
    /// Run a migration plan stage by stage: gates, rollbacks, SLO impact, costs and a verdict (exit 1 on failure).
    #[command(
        after_help = "Example:\n  cutover plan scenarios/story/plan-migration.toml --out out/plan --replications 20"
    )]
    Plan(plan::Args),
    /// Combine the partial directories of a sharded plan or sweep (--shard K/N) into the output of the whole run.
    #[command(
        after_help = "Example:\n  cutover plan scenarios/central/plan-vm-to-k8s.toml --replications 40 --shard 0/2 --out out/part-0\n  cutover plan scenarios/central/plan-vm-to-k8s.toml --replications 40 --shard 1/2 --out out/part-1\n  cutover merge out/part-0 out/part-1 --out out/plan"
    )]
    Merge(merge::Args),
    /// Pack tenants' VMs onto hosts (dedicated and shared with overcommit): hosts, contention risk at the peak hour, cost before and after (exit 1 above max_contention).
    #[command(after_help = "Example:\n  cutover pack scenarios/pack/platform.toml --out out/pack")]
    Pack(pack::Args),
}

/// Parses the process's command line and runs it; see [`main_with_args`].
pub fn main() -> ExitCode {
    main_with_args(std::env::args_os())
}

/// Parses `args` (the first is the program name), runs the subcommand and
/// turns errors into a message on stderr and a non-zero exit status.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Validate(args) => validate::execute(&args),
        Command::Run(args) => run::execute(&args),
        Command::Report(args) => report::execute(&args),
        Command::Sweep(args) => sweep::execute(&args),
        Command::Cost(args) => cost::execute(&args),
        Command::Catchment(args) => catchment::execute(&args),
        Command::Plan(args) => plan::execute(&args),
        Command::Merge(args) => merge::execute(&args),
        Command::Pack(args) => pack::execute(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
