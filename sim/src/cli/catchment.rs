//! `cutover catchment FILE [--out DIR]`: the steady-state catchment of an
//! estate (or of an experiment's changed estate), and the share a site gets
//! with each BGP knob.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use cutover_models::bgp::catchment::{compute, knob_sweep, Announcement, Knob};
use cutover_models::bgp::decision::DecisionConfig;
use cutover_models::bgp::topology::Topology;
use cutover_models::geo::LatencyModel;

use cutover::experiment::load_estate;
use cutover::report::catchment::{
    compare_measured, csv_bytes, measured_csv, measured_text, rows, text, write_summary,
    CatchmentCsvRow, CatchmentSummary, KnobShare, SiteShare,
};
use cutover::report::OutputDir;
use cutover::scenario::kind::{self, FileKind};
use cutover::scenario::measured::{self, Known, Measurement};
use cutover::scenario::source::read_text;
use cutover::scenario::Source;

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
    let source = Source::read(&args.file)?;
    kind::expect_one_of(
        &source,
        &[FileKind::Estate, FileKind::Experiment],
        "cutover catchment",
    )?;
    let (estate, topo) = load_estate(&args.file)?;
    let topo = &topo;
    let announcements = estate.announcements();
    let latency = &estate.network.latency;
    let decision = estate.network.bgp.decision;
    let sweep_site = sweep_site(topo, args.sweep.as_deref())?;
    let catchment = compute(topo, &announcements, latency, decision)?;
    let table = rows(topo, &catchment);
    println!(
        "{}: {} populations, {} sites, {} ASes, {} eBGP sessions, {} UPDATEs to converge",
        estate.name,
        topo.populations().len(),
        topo.sites().len(),
        topo.as_count(),
        topo.ebgp_session_count(),
        catchment.updates
    );
    print!("{}", text(&table));
    let shares = catchment.site_shares(topo);
    let share_text: Vec<String> = topo
        .sites()
        .iter()
        .zip(&shares)
        .map(|(s, v)| format!("{} {:.1}%", s.name, v * 100.0))
        .collect();
    println!("share of users: {}", share_text.join(", "));

    let mut summary = CatchmentSummary {
        scenario: estate.name.clone(),
        model: "catchment",
        populations: topo.populations().len(),
        site_shares: topo
            .sites()
            .iter()
            .zip(&shares)
            .map(|(s, &share)| SiteShare {
                site: s.name.clone(),
                share,
            })
            .collect(),
        updates: catchment.updates,
        sweep_site: sweep_site.map(|i| topo.sites()[i].name.clone()),
        sweep: Vec::new(),
        measured: None,
    };
    if let Some(file) = &args.measured {
        let measured = read_measured(file, topo)?;
        let m = compare_measured(topo, &catchment, latency, &measured);
        print!("{}", measured_text(&m));
        summary.measured = Some(m);
    }
    if let Some(site) = sweep_site {
        let sweep = SweepInputs {
            topo,
            announcements: &announcements,
            latency,
            decision,
        };
        summary.sweep = sweep_knobs(&sweep, site, args.max_prepends)?;
    }
    if let Some(out_path) = &args.out {
        write_outputs(out_path, args.force, &table, &summary)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The site `--sweep` names, by index.
fn sweep_site(topo: &Topology, tag: Option<&str>) -> anyhow::Result<Option<usize>> {
    let Some(tag) = tag else { return Ok(None) };
    let found = topo.sites().iter().position(|s| s.name == tag);
    found.map(Some).with_context(|| {
        format!(
            "--sweep {tag}: unknown site; allowed: {}",
            topo.sites()
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// What a knob sweep runs on.
struct SweepInputs<'a> {
    topo: &'a Topology,
    announcements: &'a [Announcement],
    latency: &'a LatencyModel,
    decision: DecisionConfig,
}

/// Site `site`'s share of users under each knob (prepends up to
/// `max_prepends`, and two LOCAL_PREF communities), printed.
fn sweep_knobs(
    inputs: &SweepInputs,
    site: usize,
    max_prepends: u8,
) -> anyhow::Result<Vec<KnobShare>> {
    // Prepends, and the two LOCAL_PREF communities a large transit
    // offers: 70 "below peers" and 10 "below everything" (Cogent AS174).
    let mut knobs: Vec<Knob> = (0..=max_prepends).map(Knob::Prepends).collect();
    knobs.extend([Knob::LocalPref(70), Knob::LocalPref(10)]);
    let topo = inputs.topo;
    let sweep = knob_sweep(
        topo,
        inputs.announcements,
        site,
        &knobs,
        inputs.latency,
        inputs.decision,
    )?;
    let name = &topo.sites()[site].name;
    let parts: Vec<String> = knobs
        .iter()
        .zip(&sweep)
        .map(|(k, v)| format!("{k}: {:.1}%", v * 100.0))
        .collect();
    println!("share of users at {name} by knob: {}", parts.join(", "));
    let smallest = sweep
        .iter()
        .copied()
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
    Ok(knobs
        .iter()
        .zip(&sweep)
        .map(|(k, v)| KnobShare {
            knob: k.to_string(),
            share: *v,
        })
        .collect())
}

/// Writes `catchment.csv`, `sweep.csv` and `measured.csv` when there is
/// one, and `summary.json` into `out_path`.
fn write_outputs(
    out_path: &Path,
    force: bool,
    table: &[CatchmentCsvRow],
    summary: &CatchmentSummary,
) -> anyhow::Result<()> {
    let out = OutputDir::create(out_path, force)?;
    out.write(
        "catchment.csv",
        &csv_bytes(table).context("encoding catchment.csv")?,
    )?;
    if summary.sweep_site.is_some() {
        let mut sweep_csv = String::from("knob,share\n");
        for k in &summary.sweep {
            sweep_csv.push_str(&format!("{},{:.6}\n", k.knob, k.share));
        }
        out.write("sweep.csv", sweep_csv.as_bytes())?;
    }
    if let Some(m) = &summary.measured {
        out.write(
            "measured.csv",
            &measured_csv(m).context("encoding measured.csv")?,
        )?;
    }
    write_summary(&out, summary)?;
    let dir = out.commit().context("finishing the output directory")?;
    println!("results in {}", dir.display());
    Ok(())
}

/// Reads `--measured`'s file, checked against the estate's populations
/// and sites.
fn read_measured(
    file: &std::path::Path,
    topo: &cutover_models::bgp::topology::Topology,
) -> anyhow::Result<Vec<Measurement>> {
    let text = read_text(file)?;
    let mut populations: Vec<(String, cutover_models::geo::LatLon)> = Vec::new();
    for p in topo.populations() {
        if !populations.iter().any(|(n, _)| n == &p.name) {
            populations.push((p.name.clone(), p.location));
        }
    }
    let sites: Vec<String> = topo.sites().iter().map(|s| s.name.clone()).collect();
    let known = Known {
        populations: &populations,
        sites: &sites,
    };
    Ok(measured::parse(file, &text, Some(&known))?)
}
