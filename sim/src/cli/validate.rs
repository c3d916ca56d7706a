//! `cutover validate FILE`.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::scenario::plan::PlanScenario;
use crate::scenario::{ModelSpec, Scenario, Source};

/// Arguments of `cutover validate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The scenario file (TOML).
    file: PathBuf,
}

/// Loads and validates the file; prints what it describes.
pub fn execute(args: &Args) -> anyhow::Result<ExitCode> {
    let source = Source::read(&args.file)?;
    if source.has_field("plan") {
        let plan = PlanScenario::from_source(&source)?;
        println!(
            "{}: ok: \"{}\" (plan: {} of {} regions migrate, {} failures to inject{})",
            args.file.display(),
            plan.name,
            plan.plan.regions.len(),
            plan.regions.len(),
            plan.failures.len(),
            if plan.cost.is_some() { ", priced" } else { "" }
        );
        return Ok(ExitCode::SUCCESS);
    }
    let scenario = Scenario::load(&args.file)?;
    let what =
        match &scenario.model {
            ModelSpec::Mmc(m) => format!(
                "M/M/c queue: {} servers, {}/s arrivals, {}/s service, {} customers",
                m.servers, m.arrival_rate_per_s, m.service_rate_per_s, m.customers
            ),
            ModelSpec::Compute(c) => format!(
            "{} site(s) for {}: {} pods each of {}m CPU (limit {}m), HPA {}-{} at {} %, {} nodes",
            c.sites.len(),
            c.duration,
            c.initial_replicas,
            c.cpu_request_millicores,
            c.cpu_limit_millicores,
            c.hpa.min_replicas,
            c.hpa.max_replicas,
            c.hpa.target_cpu_percent,
            c.sites.iter().map(|s| s.nodes.ready_nodes().len()).sum::<usize>()
        ),
            ModelSpec::Network(n) => format!(
                "network: {} sites, {} populations, {} ASes, {} eBGP sessions",
                n.built.sites().len(),
                n.built.populations().len(),
                n.built.as_count(),
                n.built.ebgp_session_count()
            ),
        };
    println!(
        "{}: ok: \"{}\" ({what})",
        args.file.display(),
        scenario.name
    );
    Ok(ExitCode::SUCCESS)
}
