//! `cutover run` for a scenario with a `[network]` section.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};

use super::run_info::RunInfo;

use crate::report::{network as network_report, OutputDir};
use crate::runs::network;
use crate::scenario::network::NetworkSpec;
use crate::scenario::Scenario;

/// Runs the network scenario, writes its output directory and prints what
/// happened to the populations the failure touched.
pub fn execute(
    file: &Path,
    scenario: &Scenario,
    spec: &NetworkSpec,
    seed: u64,
    out: OutputDir,
) -> anyhow::Result<ExitCode> {
    let lengths: BTreeSet<u8> = spec
        .announcements
        .iter()
        .filter(|a| a.announce)
        .map(|a| a.prefix_len)
        .collect();
    if lengths.len() > 1 {
        bail!(
            "{}: the sites announce prefixes of different lengths ({lengths:?}); `cutover run` models one \
             prefix, so give every site the same prefix_len (`cutover catchment` shows more-specifics)",
            file.display()
        );
    }
    let started = Instant::now();
    let outcome = network::run(spec, seed)?;
    let wall_s = started.elapsed().as_secs_f64();
    network_report::write(&out, scenario, spec, seed, &outcome)?;
    RunInfo::new(file, seed, wall_s)
        .with_events(outcome.summary.events)
        .write(&out)?;
    let dir = out.commit().context("finishing the output directory")?;

    let s = &outcome.summary;
    println!(
        "{} (seed {seed}): {:.0} s simulated, {} populations, {} UPDATEs",
        scenario.name,
        s.simulated_s,
        s.populations.len(),
        s.updates
    );
    if let Some(f) = &s.failure {
        println!("  failure at t={:.1}s: {f}", s.failure_at_s.unwrap_or(0.0));
    }
    for p in &s.populations {
        if p.site_before != p.site_after || p.failing_s > 0.0 {
            let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.0} ms"));
            println!(
                "  {:<5} via {:<8} {} {} -> {} {}; requests failing {:.1} s ({:.0} lost)",
                p.city,
                p.isp,
                p.site_before,
                ms(p.ttfb_before_ms),
                if p.site_after.is_empty() {
                    "(none)"
                } else {
                    &p.site_after
                },
                ms(p.ttfb_after_ms),
                p.failing_s,
                p.failed_requests
            );
        }
    }
    if let Some(c) = s.control_plane_settled_s {
        println!("  BGP settled {c:.1} s after the failure (last best-route change at any router)");
    }
    println!(
        "  requests {:.0}, failed {:.0} ({:.3}%); longest blackhole {:.1} s; last route change {} after the failure",
        s.requests,
        s.failed_requests,
        s.error_rate * 100.0,
        s.longest_blackhole_s,
        s.convergence_s
            .map_or("-".to_string(), |c| format!("{c:.1} s"))
    );
    println!("  wall {wall_s:.3} s; results in {}", dir.display());
    Ok(ExitCode::SUCCESS)
}
