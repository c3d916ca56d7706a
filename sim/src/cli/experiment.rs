//! `cutover run EXPERIMENT`: an experiment on its estate in the one world,
//! printed as a short table per population and per site, written to the
//! output directory.

use std::path::Path;
use std::process::ExitCode;

use cutover::drive;
use cutover::experiment::Experiment;
use cutover::report::OutputDir;
use cutover::world::cost::CostSummary;
use cutover::world::load_test::LoadTestResult;
use cutover::world::recovery::RecoverySummary;
use cutover::world::summary::Summary;
use cutover_models::SimDuration;

/// Runs the experiment at `file` with `seed` (or the file's) into `out`.
pub fn execute(file: &Path, seed: Option<u64>, out: OutputDir) -> anyhow::Result<ExitCode> {
    let run = drive::experiment::run(file, seed, out)?;
    print!("{}", table(&run.experiment, run.seed, &run.outcome.summary));
    if let Some(r) = &run.load_test {
        print!("{}", load_test_table(r));
    }
    println!(
        "  wall {:.2} s; results in {}",
        run.wall_s,
        run.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// An optional figure with `digits` decimals, or "n/a".
fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.digits$}"))
}

/// The terminal table: headline, failures, then one line per population
/// and per site.
pub fn table(exp: &Experiment, seed: u64, s: &Summary) -> String {
    let mut t = format!(
        "{} (estate \"{}\", seed {seed}, {}): {}\n",
        exp.name, s.estate, s.fidelity, s.verdict
    );
    for r in &s.reasons {
        t.push_str(&format!("  why: {r}\n"));
    }
    for f in &s.failures {
        t.push_str(&format!("  failure: {f}\n"));
    }
    if let Some(r) = &s.traffic_import {
        t.push_str(&r.text());
    }
    t.push_str(&format!(
        "  requests {:.0}: served {:.0}, blackholed {:.0}, rejected {:.0}, timed out {:.0}, reset {:.0}; availability {} %; p50/p99/p99.9 {}/{}/{} ms\n",
        s.tally.requests, s.tally.served, s.tally.blackholed, s.tally.rejected, s.tally.timed_out,
        s.tally.reset, opt(s.availability.map(|a| a * 100.0), 4),
        opt(s.latency_p50_ms, 1), opt(s.latency_p99_ms, 1), opt(s.latency_p999_ms, 1)
    ));
    t.push_str(&format!(
        "  {:<10} {:>7} {:>11} {:>9} {:>11} {:>9} {:>9} {:>7} {:>8} {:>9}\n",
        "population",
        "share",
        "site",
        "ttfb ms",
        "blackhole s",
        "blackhol.",
        "rejected",
        "t/out",
        "reset",
        "p99 ms"
    ));
    for p in &s.populations {
        let moved = if p.site_before == p.site_after {
            p.site_after.clone()
        } else {
            format!("{}>{}", p.site_before, p.site_after)
        };
        t.push_str(&format!(
            "  {:<10} {:>6.1}% {:>11} {:>9} {:>11.1} {:>9.0} {:>9.0} {:>7.0} {:>8.0} {:>9}\n",
            p.population,
            p.share * 100.0,
            moved,
            opt(p.ttfb_after_ms, 1),
            p.blackhole_s,
            p.tally.blackholed,
            p.tally.rejected,
            p.tally.timed_out,
            p.tally.reset,
            opt(p.latency_p99_ms, 1)
        ));
    }
    t.push_str(&format!(
        "  {:<10} {:>11} {:>9} {:>9} {:>9} {:>10} {:>10} {:>9}\n",
        "site", "requests", "rejected", "t/out", "reset", "peak load", "max pods", "p99 ms"
    ));
    for x in &s.sites {
        t.push_str(&format!(
            "  {:<10} {:>11.0} {:>9.0} {:>9.0} {:>9.0} {:>10.2} {:>10} {:>9}\n",
            x.site,
            x.tally.requests,
            x.tally.rejected,
            x.tally.timed_out,
            x.tally.reset,
            x.stats.peak_load,
            x.stats.max_ready_pods,
            opt(x.latency_p99_ms, 1)
        ));
    }
    if let Some(c) = &s.cost {
        t.push_str(&cost_table(c));
    }
    if let Some(r) = &s.recovery {
        t.push_str(&recovery_table(r));
    }
    t
}

/// Each site failure's writes lost per data class, then its users' time
/// to recover against each service's RTO.
fn recovery_table(r: &RecoverySummary) -> String {
    let span = |secs: f64| SimDuration::from_secs_f64(secs).to_string();
    let mut t = String::new();
    if !r.data.is_empty() {
        t.push_str(&format!(
            "  {:<8} {:>8} {:<12} {:<12} {:>10} {:>14} {:>12} {:>8} {:>5}\n",
            "site",
            "at",
            "data",
            "replication",
            "writes/s",
            "not replicated",
            "lost writes",
            "RPO",
            "met"
        ));
    }
    for d in &r.data {
        t.push_str(&format!(
            "  {:<8} {:>8} {:<12} {:<12} {:>10.2} {:>14} {:>12.0} {:>8} {:>5}\n",
            d.site,
            span(d.start_s),
            d.class,
            d.replication,
            d.write_rate_per_s,
            span(d.window_s),
            d.lost_writes,
            span(d.rpo_s),
            yes_no(d.met)
        ));
    }
    if !r.services.is_empty() {
        t.push_str(&format!(
            "  {:<8} {:>8} {:<20} {:<5} {:>12} {:>8} {:>5}\n",
            "site", "at", "service", "tier", "recovered", "RTO", "met"
        ));
    }
    for x in &r.services {
        t.push_str(&format!(
            "  {:<8} {:>8} {:<20} {:<5} {:>12} {:>8} {:>5}\n",
            x.site,
            span(x.start_s),
            x.service,
            x.tier,
            x.recovered_s.map_or("not".to_string(), span),
            span(x.rto_s),
            yes_no(x.met)
        ));
    }
    if !r.partitions.is_empty() {
        t.push_str(&format!(
            "  {:<24} {:>8} {:<12} {:>10} {:>10} {:>12} {:>12} {:>12}\n",
            "cut off", "at", "data", "failed", "queued", "consistent", "stale p99", "stale max"
        ));
    }
    for p in &r.partitions {
        let opt_span = |v: Option<f64>| v.map_or("n/a".to_string(), span);
        t.push_str(&format!(
            "  {:<24} {:>8} {:<12} {:>10.0} {:>10.0} {:>12} {:>12} {:>12}\n",
            p.sites,
            span(p.start_s),
            p.class,
            p.writes_failed,
            p.writes_queued,
            opt_span(p.consistent_after_s),
            opt_span(p.staleness_p99_s),
            opt_span(p.staleness_max_s)
        ));
    }
    t
}

/// A load test's result: its limits, then each judged site's knee and
/// first failing step.
pub fn load_test_table(r: &LoadTestResult) -> String {
    let unit = |v: f64| match r.unit {
        cutover::experiment::load_test::LevelUnit::RequestsPerS => format!("{v:.0}/s"),
        cutover::experiment::load_test::LevelUnit::Percent => format!("{v:.1}%"),
    };
    let mut t = format!(
        "  load test on {}: {} of {} steps of {} s ({} s warm-up); limits p99 < {:.1} ms, errors < {:.3} %, at least {} requests\n",
        r.target, r.steps_run, r.steps_planned, r.hold_s, r.warmup_s, r.max_p99_ms,
        r.max_error_rate * 100.0, r.min_requests
    );
    for k in &r.sites {
        let knee = match (k.knee_level, k.knee_requests_per_s) {
            (Some(level), Some(rps)) => format!(
                "{} ({rps:.0} requests/s, {} pods{})",
                unit(level),
                k.knee_pods.unwrap_or(0),
                if k.knee_at_max_replicas == Some(true) {
                    ", at max replicas"
                } else {
                    ""
                }
            ),
            _ => "none: the first step failed".to_string(),
        };
        let knee = if k.status == "reached" {
            knee
        } else {
            format!("every step run passed, up to {knee}")
        };
        let failure = match (k.first_failure_level, &k.first_failure_limits) {
            (Some(level), Some(why)) => format!("; first failure at {}: {why}", unit(level)),
            _ => String::new(),
        };
        t.push_str(&format!(
            "  {:<10} knee {}: {knee}{failure}\n",
            k.site, k.status
        ));
    }
    t
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The run's cost: per site, then the total and its monthly rate.
fn cost_table(c: &CostSummary) -> String {
    let mut t = format!(
        "  {:<10} {:>12} {:>10} {:>14}\n",
        "site", "cost", "node-hours", "profile"
    );
    for x in &c.sites {
        t.push_str(&format!(
            "  {:<10} {:>12} {:>10.1} {:>14}\n",
            x.site,
            x.total.to_string(),
            x.node_hours,
            x.profile
        ));
    }
    t.push_str(&format!(
        "  cost {} {} over the run ({} {} a month at this rate; prices of {})\n",
        c.total, c.currency, c.per_month, c.currency, c.prices_on
    ));
    t
}
