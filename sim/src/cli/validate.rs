//! `cutover validate FILE`.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::estate::Estate;
use crate::experiment::{Experiment, Fidelity};
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
    if source.has_field("experiment") {
        let exp = Experiment::from_source(&source)?;
        println!(
            "{}: ok: \"{}\" (experiment on estate \"{}\": {} sites, {} populations, {} failures, {} over {})",
            args.file.display(),
            exp.name,
            exp.estate.name,
            exp.estate.sites.len(),
            exp.estate.populations.len(),
            exp.failures.len(),
            match exp.fidelity {
                Fidelity::Fluid => "fluid",
                Fidelity::Request => "request level",
            },
            exp.duration
        );
        return Ok(ExitCode::SUCCESS);
    }
    if source.has_field("estate") {
        let estate = Estate::from_source(&source)?;
        let topo = estate.build_topology(&source, &|i| format!("sites[{i}]"))?;
        println!(
            "{}: ok: \"{}\" (estate: {} sites, {} populations, {} ASes, {} eBGP sessions)",
            args.file.display(),
            estate.name,
            topo.sites().len(),
            topo.populations().len(),
            topo.as_count(),
            topo.ebgp_session_count()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let scenario = Scenario::load(&args.file)?;
    let ModelSpec::Mmc(m) = &scenario.model;
    let what = format!(
        "M/M/c queue: {} servers, {}/s arrivals, {}/s service, {} customers",
        m.servers, m.arrival_rate_per_s, m.service_rate_per_s, m.customers
    );
    println!(
        "{}: ok: \"{}\" ({what})",
        args.file.display(),
        scenario.name
    );
    Ok(ExitCode::SUCCESS)
}
