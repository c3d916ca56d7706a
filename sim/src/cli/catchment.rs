//! `cutover catchment FILE [--out DIR]`: the steady-state catchment of an
//! estate (or of an experiment's changed estate), and the share a site gets
//! with each BGP knob.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use cutover_models::bgp::catchment::compute;

use cutover::drive::catchment;
use cutover::report::catchment::{compare_measured, measured_text, rows, text, KnobShare};
use cutover::report::OutputDir;

/// Arguments of `cutover catchment`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// An estate file, or an experiment (its estate with its changes).
    file: PathBuf,
    /// Directory for catchment.csv, sweep.csv and summary.json (which
    /// `cutover report` renders).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace the output directory if it exists.
    #[arg(long)]
    force: bool,
    /// Site whose share to sweep over prepends and LOCAL_PREF communities
    /// (none by default).
    #[arg(long)]
    sweep: Option<String>,
    /// A CSV of measured catchments (client, population or lat/lon, site
    /// reached, rtt_ms) to hold the model against.
    #[arg(long)]
    measured: Option<PathBuf>,
    /// Highest prepend count of the sweep.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(0..=10))]
    max_prepends: u8,
}

/// Computes and prints the catchment; writes the CSV files if asked.
pub fn execute(args: &Args) -> anyhow::Result<ExitCode> {
    let (estate, topo) = catchment::load(&args.file)?;
    let topo = &topo;
    let announcements = estate.announcements();
    let latency = &estate.network.latency;
    let decision = estate.network.bgp.decision;
    let sweep_site = catchment::site_index(topo, args.sweep.as_deref())?;
    let computed = compute(topo, &announcements, latency, decision)?;
    let table = rows(topo, &computed);
    println!(
        "{}: {} populations, {} sites, {} ASes, {} eBGP sessions, {} UPDATEs to converge",
        estate.name,
        topo.populations().len(),
        topo.sites().len(),
        topo.as_count(),
        topo.ebgp_session_count(),
        computed.updates
    );
    print!("{}", text(&table));
    let mut summary = catchment::summary(&estate.name, topo, &computed, sweep_site);
    let share_text: Vec<String> = summary
        .site_shares
        .iter()
        .map(|s| format!("{} {:.1}%", s.site, s.share * 100.0))
        .collect();
    println!("share of users: {}", share_text.join(", "));
    if let Some(file) = &args.measured {
        let measured = catchment::read_measured(file, topo)?;
        let m = compare_measured(topo, &computed, latency, &measured);
        print!("{}", measured_text(&m));
        summary.measured = Some(m);
    }
    if let Some(site) = sweep_site {
        let inputs = catchment::KnobInputs {
            topo,
            announcements: &announcements,
            latency,
            decision,
        };
        summary.sweep = catchment::knob_shares(&inputs, site, args.max_prepends)?;
        print_knobs(&topo.sites()[site].name, &summary.sweep);
    }
    if let Some(out_path) = &args.out {
        let out = OutputDir::create(out_path, args.force)?;
        catchment::write(&out, &table, &summary)?;
        let dir = out.commit().context("finishing the output directory")?;
        println!("results in {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Site `name`'s share of users by knob, and the smallest non-zero one.
fn print_knobs(name: &str, shares: &[KnobShare]) {
    let parts: Vec<String> = shares
        .iter()
        .map(|k| format!("{}: {:.1}%", k.knob, k.share * 100.0))
        .collect();
    println!("share of users at {name} by knob: {}", parts.join(", "));
    let smallest = shares
        .iter()
        .map(|k| k.share)
        .filter(|&v| v > 0.0)
        .fold(f64::INFINITY, f64::min);
    if smallest.is_finite() {
        println!(
            "  the smallest non-zero share these knobs give {name} is {:.1}%; finer splits (1%, 5%) need an L7 weighted split",
            smallest * 100.0
        );
    } else {
        println!("  no knob gives {name} any users; it needs an L7 weighted split");
    }
}
