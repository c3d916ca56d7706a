//! `cutover plan FILE [--out DIR] [--seed N] [--replications N] [--threads N]`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use super::progress::SharedProgress;
use super::run_info::RunInfo;
use crate::montecarlo::{replicate, Quantile};
use crate::plan::{self, Plan, PlanOutcome};
use crate::report::fmt;
use crate::report::plan::{MonteCarloSummary, ReplicationRow, Spread};
use crate::report::{plan as plan_report, OutputDir};
use crate::scenario::kind::{self, FileKind};
use crate::scenario::limits;
use crate::scenario::Source;

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

/// Runs the plan (and its replications), prints the verdict, writes the
/// output directory; exit status 1 when the plan fails its gates or budget.
pub fn execute(args: &Args) -> anyhow::Result<ExitCode> {
    let source = Source::read(&args.file)?;
    kind::expect(&source, FileKind::Plan, "cutover plan")?;
    let scenario = Plan::from_source(&source)?;
    let seed = args.seed.unwrap_or(scenario.experiment.seed);
    let out = args
        .out
        .as_ref()
        .map(|o| OutputDir::create(o, args.force))
        .transpose()?;
    let started = Instant::now();
    let outcome = plan::run(&scenario, seed)?;
    print_outcome(scenario.name(), seed, &outcome);
    print_reachable(&scenario);
    let mc = if let Some(replications) = args.replications {
        let progress = SharedProgress::new(replications, "replications");
        let runs = replicate(seed, replications, args.threads, |i, s| {
            let row = plan::run_replication(&scenario, s).map(|o| ReplicationRow::of(i, s, &o));
            progress.tick();
            row
        })?;
        progress.finish();
        let rows = runs.into_iter().collect::<Result<Vec<_>, _>>()?;
        let names: Vec<String> = scenario.risks.iter().map(|r| r.name.clone()).collect();
        let summary = MonteCarloSummary::of(&rows, &names);
        let p = &summary.success;
        println!(
            "  Monte Carlo, {} replications: success probability {:.3} (95 % CI {:.3} to {:.3})",
            summary.replications, p.estimate, p.ci95_low, p.ci95_high
        );
        print_spreads(&summary, outcome.cost.as_ref().map(|c| c.currency.as_str()));
        print_risks(&summary);
        Some((rows, summary))
    } else {
        None
    };
    let success = outcome.success();
    println!("verdict: {}", if success { "PASS" } else { "FAIL" });
    for r in outcome.failure_reasons() {
        println!("  {r}");
    }
    if let Some(out) = out {
        plan_report::write(
            &out,
            &scenario,
            seed,
            &outcome,
            mc.as_ref().map(|(rows, s)| (rows.as_slice(), s)),
        )?;
        RunInfo::new(&args.file, seed, started.elapsed().as_secs_f64()).write(&out)?;
        let dir = out.commit().context("finishing the output directory")?;
        println!("results in {}", dir.display());
    }
    Ok(if success {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
