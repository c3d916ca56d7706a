//! `cutover plan FILE [--out DIR] [--seed N] [--replications N] [--threads N]
//! [--shard K/N]`.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use super::progress::SharedProgress;
use cutover::drive::{self, RunInfo};
use cutover::engine::rng::replication_seed;
use cutover::montecarlo::Quantile;
use cutover::plan::{self, Plan, PlanOutcome};
use cutover::report::fmt;
use cutover::report::plan::{MonteCarloSummary, ReplicationRow, Spread};
use cutover::report::{plan as plan_report, OutputDir};
use cutover::scenario::limits;
use cutover::scenario::source::hashing_inputs;
use cutover::shard::{self, Part, RunIdentity, Shard, ShardManifest, SHARD_FILE};

/// Arguments of `cutover plan`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The plan file (TOML): an experiment on an estate with [plan] and
    /// [[moves]].
    file: PathBuf,
    /// Directory for the plan's summary.json, stages.csv, regions.csv,
    /// replications.csv, share.svg and cost.svg, and the world's
    /// timeline.csv, populations.csv, sites.csv, routes.csv, routers.csv,
    /// failures.csv and charts; must not exist or be empty (see --force).
    /// Without it, only the verdict is printed.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Run seed; overrides the scenario's `seed`.
    #[arg(long)]
    seed: Option<u64>,
    /// Also run this many independent replications (1 to 1000000; seeds
    /// derived from the run seed, each drawing the plan's risks anew) and
    /// report the probabilities of success, of finishing in time, within
    /// budget and within the SLO, P10/P50/P90 and each risk's swing.
    #[arg(long, value_parser = limits::parse_replications)]
    replications: Option<u64>,
    /// Worker threads for replications (1 to 1024; default: one per core);
    /// results do not depend on it.
    #[arg(long, value_parser = limits::parse_threads)]
    threads: Option<usize>,
    /// Run only shard K of N (K from 0 to N - 1) of the replications and
    /// write their rows, with a manifest, to --out as a partial directory;
    /// `cutover merge` turns the N partial directories into the output of
    /// the whole run. Each replication's seed depends only on the run seed
    /// and its index, so any N gives the same result.
    #[arg(long, value_parser = Shard::parse, requires_all = ["replications", "out"])]
    shard: Option<Shard>,
    /// Replace the output directory if it exists.
    #[arg(long)]
    force: bool,
}

/// What BGP can do for each move: the distinct shares its knob settings
/// reach (the catchment model's), so a stage sent by L7 says why.
fn print_reachable(plan: &Plan) {
    for m in &plan.moves {
        let mut shares: Vec<f64> = m.reachable.iter().map(|r| r.share).collect();
        shares.sort_by(f64::total_cmp);
        shares.dedup();
        let text: Vec<String> = shares
            .iter()
            .map(|s| format!("{:.1} %", 100.0 * s + 0.0))
            .collect();
        println!(
            "  {} -> {}: BGP knobs reach {} of its users ({})",
            m.name,
            plan.experiment.estate.sites[m.new].network.tag,
            text.join(", "),
            plan.experiment.estate.sites[m.old].network.tag
        );
    }
}

fn print_outcome(name: &str, seed: u64, o: &PlanOutcome) {
    println!("{name} (seed {seed})");
    for s in &o.stages {
        println!(
            "  {:<6} try {} stage {} asked {:>5.1} %, reached {:>5.1} % ({}) day {:>6.2}: {:>9} requests, error {:.3} %, p99 {:>10}  {}{}",
            s.region,
            s.attempt,
            s.stage,
            100.0 * s.share_requested,
            100.0 * s.share_reached + 0.0,
            s.action,
            s.applied_s / 86_400.0,
            s.requests,
            100.0 * s.error_rate,
            fmt::latency_ms(s.p99_ms),
            if s.passed { "pass" } else { "FAIL: " },
            s.reasons
        );
    }
    for c in &o.regions {
        println!(
            "  {:<6} -> {:<10} users {}: availability {:.5} %, failed {} of {}, worst window p99 {}",
            c.region,
            c.new_site,
            c.users,
            100.0 * c.availability,
            fmt::count(c.failed),
            fmt::count(c.requests),
            fmt::latency_ms(c.worst_window_p99_ms.unwrap_or(f64::NAN))
        );
    }
    println!(
        "  SLO {:.3} %: availability {:.5} %, {} requests failed, {:.1} % of the error budget",
        100.0 * o.slo.target,
        100.0 * o.slo.availability,
        fmt::count(o.slo.failed),
        100.0 * o.slo.budget_consumed
    );
    println!("  duration {:.2} days", o.duration_s / 86_400.0);
    if let Some(c) = &o.cost {
        println!(
            "  dual running {} {} ({}); monthly after the plan ({}) {} {}",
            c.dual_running,
            c.currency,
            fmt::versus_schedule(
                c.dual_running_extra,
                c.dual_running_as_scheduled,
                &c.currency
            ),
            c.final_month,
            c.final_monthly,
            c.currency
        );
    }
    if let Some(m) = &o.world.summary.cost {
        println!(
            "  metered over the run: {} {} for what the sites ran (costs.csv)",
            m.total, m.currency
        );
    }
}

/// How a figure of the replications is written (days, requests, money).
type Unit<'a> = dyn Fn(f64) -> String + 'a;

/// Prints P10, P50 and P90 of the replications' figures, each with its
/// 95 % interval and its unit: days, whole requests, percent of the error
/// budget, money.
fn print_spreads(summary: &MonteCarloSummary, currency: Option<&str>) {
    let days = |v: f64| format!("{v:.2} days");
    let percent = |v: f64| format!("{:.3} %", 100.0 * v);
    let cur = currency.unwrap_or("");
    let money = |v: f64| fmt::money_f64(v, cur);
    let mut figures: Vec<(&str, &Spread, &Unit)> = vec![
        ("duration", &summary.duration_days, &days),
        ("failed requests", &summary.failed_requests, &fmt::count),
        ("error budget consumed", &summary.budget_consumed, &percent),
    ];
    if currency.is_some() {
        figures.push(("dual running", &summary.dual_running, &money));
        figures.push(("monthly after the plan", &summary.final_monthly, &money));
    }
    for (name, s, unit) in figures {
        let v = |q: &Option<Quantile>| {
            q.map_or("-".to_string(), |q| {
                format!(
                    "{} [{}, {}]",
                    unit(q.value),
                    unit(q.ci95_low),
                    unit(q.ci95_high)
                )
            })
        };
        println!(
            "    {name}: P10 {}  P50 {}  P90 {}",
            v(&s.p10),
            v(&s.p50),
            v(&s.p90)
        );
    }
}

/// The probabilities of finishing in time, within budget and within the
/// SLO, and the largest swing each risk causes in them and in the costs.
fn print_risks(summary: &MonteCarloSummary) {
    for (name, p) in [
        ("within the duration", &summary.within_duration),
        ("within budget", &summary.within_budget),
        ("within the SLO", &summary.within_slo),
    ] {
        println!(
            "    {name}: {:.3} (95 % CI {:.3} to {:.3})",
            p.estimate, p.ci95_low, p.ci95_high
        );
    }
    for bar in summary.tornado.iter().filter(|b| b.swing != 0.0) {
        println!(
            "    risk {}: {} {:.4} with its lower draws, {:.4} with its upper draws",
            bar.risk, bar.figure, bar.low_half, bar.high_half
        );
    }
}

/// Where a run's replications come from.
enum Replications {
    /// None were asked for.
    None,
    /// Run them here: `count` of them on `threads` threads.
    Run {
        /// How many.
        count: u64,
        /// Worker threads (`None`: one per core).
        threads: Option<usize>,
    },
    /// Rows read back from the shards of a run (`cutover merge`).
    Merged(Vec<ReplicationRow>),
}

/// Runs the replications `indices` of a run with `seed`, with a progress
/// bar on a terminal.
fn run_rows(
    scenario: &Plan,
    seed: u64,
    indices: Range<u64>,
    threads: Option<usize>,
) -> anyhow::Result<Vec<ReplicationRow>> {
    let progress = SharedProgress::new(indices.end - indices.start, "replications");
    let rows = drive::plan::replications(scenario, seed, indices, threads, &|| progress.tick())?;
    progress.finish();
    Ok(rows)
}

/// Summarises the replications' rows and prints what they say.
fn summarise(
    scenario: &Plan,
    rows: &[ReplicationRow],
    currency: Option<&str>,
) -> MonteCarloSummary {
    let names: Vec<String> = scenario.risks.iter().map(|r| r.name.clone()).collect();
    let summary = MonteCarloSummary::of(rows, &names);
    let p = &summary.success;
    println!(
        "  Monte Carlo, {} replications: success probability {:.3} (95 % CI {:.3} to {:.3})",
        summary.replications, p.estimate, p.ci95_low, p.ci95_high
    );
    print_spreads(&summary, currency);
    print_risks(&summary);
    summary
}

/// Runs the plan (and its replications, or a shard of them), prints the
/// verdict, writes the output directory; exit status 1 when the plan
/// fails its gates or budget.
pub fn execute(args: &Args) -> anyhow::Result<ExitCode> {
    let (scenario, inputs) = hashing_inputs(|| drive::plan::load(&args.file));
    let scenario = scenario?;
    let seed = args.seed.unwrap_or(scenario.experiment.seed);
    if let Some(shard) = args.shard {
        return run_shard(args, &scenario, seed, shard, inputs);
    }
    let out = args
        .out
        .as_ref()
        .map(|o| OutputDir::create(o, args.force))
        .transpose()?;
    let replications = match args.replications {
        Some(count) => Replications::Run {
            count,
            threads: args.threads,
        },
        None => Replications::None,
    };
    conclude(&scenario, &args.file, seed, replications, out)
}

/// Runs `shard` of the replications and writes them with their manifest
/// as a partial directory.
fn run_shard(
    args: &Args,
    scenario: &Plan,
    seed: u64,
    shard: Shard,
    inputs: String,
) -> anyhow::Result<ExitCode> {
    let (Some(total), Some(out)) = (args.replications, &args.out) else {
        anyhow::bail!("--shard needs --replications N (the run's replications) and --out DIR (the shard's directory)");
    };
    let out = OutputDir::create(out, args.force)?;
    let started = Instant::now();
    let indices = shard.range(total);
    let rows = run_rows(scenario, seed, indices.clone(), args.threads)?;
    out.write(
        "replications.csv",
        &plan_report::replications_csv(&rows, &drive::plan::risk_names(scenario))?,
    )?;
    let run = RunIdentity::new(&args.file, scenario.name(), inputs, seed, total);
    let manifest = ShardManifest::new(shard::Command::Plan, run, shard, total);
    out.write(SHARD_FILE, manifest.to_json().as_bytes())?;
    RunInfo::new(&args.file, seed, started.elapsed().as_secs_f64()).write(&out)?;
    let dir = out.commit().context("finishing the output directory")?;
    println!(
        "{} (seed {seed}) shard {shard}: replications {} to {} of {total} in {}",
        scenario.name(),
        indices.start,
        indices.end,
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `cutover merge` of a plan's shards: the rows of every part, in order,
/// summarised and written by the code of the single run.
pub(super) fn merge(parts: &[Part], out: OutputDir) -> anyhow::Result<ExitCode> {
    let run = &parts[0].manifest;
    let scenario = shard::load_scenario(run, drive::plan::load)?;
    let names = drive::plan::risk_names(&scenario);
    let mut rows = Vec::new();
    for part in parts {
        let name = "replications.csv";
        let these = plan_report::read_replications_csv(&part.read(name)?, &names)
            .map_err(|reason| part.records_error(name, reason))?;
        let expected = part.manifest.range();
        let fits = these.iter().map(|r| r.replication).eq(expected.clone())
            && these
                .iter()
                .all(|r| r.seed == replication_seed(run.seed, r.replication));
        if !fits {
            return Err(part
                .records_error(
                    name,
                    format!(
                        "it should hold replications {} to {} with seeds derived from {}, and does not",
                        expected.start, expected.end, run.seed
                    ),
                )
                .into());
        }
        rows.extend(these);
    }
    let file = run.scenario_file.clone();
    conclude(
        &scenario,
        &file,
        run.seed,
        Replications::Merged(rows),
        Some(out),
    )
}

/// Runs the plan once at `seed` and prints its outcome, takes in its
/// replications, prints the verdict and writes `out`: the single run's
/// code, and the merge's.
fn conclude(
    scenario: &Plan,
    file: &Path,
    seed: u64,
    replications: Replications,
    out: Option<OutputDir>,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let outcome = plan::run(scenario, seed)?;
    print_outcome(scenario.name(), seed, &outcome);
    print_reachable(scenario);
    let rows = match replications {
        Replications::None => None,
        Replications::Run { count, threads } => Some(run_rows(scenario, seed, 0..count, threads)?),
        Replications::Merged(rows) => Some(rows),
    };
    let currency = outcome.cost.as_ref().map(|c| c.currency.as_str());
    let mc = rows.map(|rows| {
        let summary = summarise(scenario, &rows, currency);
        (rows, summary)
    });
    let success = outcome.success();
    println!("verdict: {}", if success { "PASS" } else { "FAIL" });
    for r in outcome.failure_reasons() {
        println!("  {r}");
    }
    if let Some(out) = out {
        plan_report::write(
            &out,
            scenario,
            seed,
            &outcome,
            mc.as_ref().map(|(rows, s)| (rows.as_slice(), s)),
        )?;
        RunInfo::new(file, seed, started.elapsed().as_secs_f64()).write(&out)?;
        let dir = out.commit().context("finishing the output directory")?;
        println!("results in {}", dir.display());
    }
    Ok(if success {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
