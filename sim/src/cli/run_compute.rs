//! `cutover run` for a `[compute]` scenario.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

use super::run_info::RunInfo;

use crate::report::{compute as compute_report, OutputDir};
use crate::runs::compute;
use crate::scenario::compute::ComputeSpec;
use crate::scenario::Scenario;

/// `search.json`: every server count tried and the answer.
#[derive(Serialize)]
struct SearchFile<'a> {
    max_failed_fraction: f64,
    p99_s: f64,
    fill_servers: bool,
    smallest_servers: Option<u32>,
    trials: &'a [compute::Trial],
}

/// Runs the region (or the server search), writes the output directory and prints the headline.
pub fn execute(
    file: &Path,
    scenario: &Scenario,
    spec: &ComputeSpec,
    seed: u64,
    out: OutputDir,
    started: Instant,
) -> anyhow::Result<ExitCode> {
    let outcome = match &spec.search {
        None => compute::run_with(
            spec,
            scenario.timeline_interval,
            compute::Fidelity::of(spec, seed),
        ),
        Some(search) => {
            let found = compute::search_servers(spec, search, scenario.timeline_interval);
            let mut json = serde_json::to_string_pretty(&SearchFile {
                max_failed_fraction: search.max_failed_fraction,
                p99_s: search.p99.as_secs_f64(),
                fill_servers: search.fill_servers,
                smallest_servers: found.smallest.as_ref().map(|s| s.0),
                trials: &found.trials,
            })?;
            json.push('\n');
            out.write("search.json", json.as_bytes())?;
            for t in &found.trials {
                println!(
                    "  {:>4} servers, {:>6} pods: failed {:.3} %, p99 {:.3} s: {}",
                    t.servers,
                    t.replicas,
                    100.0 * t.failed_fraction,
                    t.latency_p99_s,
                    if t.passed { "pass" } else { "fail" }
                );
            }
            match found.smallest {
                Some((n, outcome)) => {
                    println!("smallest server count within the SLO: {n} (its run follows)");
                    outcome
                }
                None => {
                    out.commit().context("finishing the output directory")?;
                    println!(
                        "no server count up to {} stays within the SLO (failed <= {:.2} %, p99 < {} s)",
                        search.max_servers,
                        100.0 * search.max_failed_fraction,
                        search.p99.as_secs_f64()
                    );
                    return Ok(ExitCode::from(1));
                }
            }
        }
    };
    let wall_s = started.elapsed().as_secs_f64();
    compute_report::write(&out, scenario, seed, &outcome)?;
    RunInfo::new(file, seed, wall_s)
        .with_ticks(spec.duration.as_nanos() / spec.tick.as_nanos())
        .write(&out)?;
    let dir = out.commit().context("finishing the output directory")?;

    let s = &outcome.summary;
    let opt = |v: Option<f64>| v.map_or("never".to_string(), |x| format!("{x:.0} s"));
    println!(
        "{}: peak {:.0} users, {:.0} requests/s; {} pods needed at the {} % target",
        scenario.name,
        s.peak_users,
        s.peak_demand_rps,
        s.pods_needed_at_target,
        spec.hpa.target_cpu_percent
    );
    println!(
        "  first new pod serving {} after the spike start; capacity caught up at {} ({} after the spike start); last failure at {}",
        opt(s.first_new_pod_serving_after_spike_s),
        opt(s.capacity_caught_up_s),
        opt(s.catch_up_after_spike_s),
        opt(s.last_failure_s)
    );
    println!(
        "  requests {:.0}: failed {:.0} ({:.2} %: {:.0} rejected, {:.0} timed out), slow > {:.0} ms {:.0} ({:.2} %)",
        s.arrivals,
        s.rejected + s.timed_out,
        100.0 * s.failed_fraction,
        s.rejected,
        s.timed_out,
        1000.0 * s.slow_threshold_s,
        s.slow,
        100.0 * s.slow_fraction
    );
    println!(
        "  latency p50/p99/p99.9 {:.3}/{:.3}/{:.3} s; max ready pods {}, max nodes {}",
        s.latency_p50_s, s.latency_p99_s, s.latency_p999_s, s.max_ready_pods, s.max_nodes
    );
    println!("  wall {wall_s:.2} s; results in {}", dir.display());
    Ok(ExitCode::SUCCESS)
}
