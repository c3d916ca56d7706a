//! An estate's steady-state catchment, the share a site gets with each
//! BGP knob, and measured catchments held against the model: the parts of
//! `cutover catchment` between reading the file and printing.

use std::path::Path;

use anyhow::Context;
use cutover_models::bgp::catchment::{knob_sweep, Announcement, Catchment, Knob};
use cutover_models::bgp::decision::DecisionConfig;
use cutover_models::bgp::topology::Topology;
use cutover_models::geo::{LatLon, LatencyModel};

use crate::estate::Estate;
use crate::experiment::load_estate;
use crate::report::catchment::{
    csv_bytes, measured_csv, write_summary, CatchmentCsvRow, CatchmentSummary, KnobShare, SiteShare,
};
use crate::report::OutputDir;
use crate::scenario::kind::{self, FileKind};
use crate::scenario::measured::{self, Known, Measurement};
use crate::scenario::source::read_text;
use crate::scenario::Source;

/// Reads an estate file, or an experiment's (its estate with its
/// changes), with the AS topology its network builds.
pub fn load(file: &Path) -> anyhow::Result<(Estate, Topology)> {
    let source = Source::read(file)?;
    kind::expect_one_of(
        &source,
        &[FileKind::Estate, FileKind::Experiment],
        "cutover catchment",
    )?;
    Ok(load_estate(file)?)
}

/// The index of the site named `tag` in `topo`, if a tag is given; an
/// unknown tag is an error listing the sites.
pub fn site_index(topo: &Topology, tag: Option<&str>) -> anyhow::Result<Option<usize>> {
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

/// What a knob sweep runs on: the estate's topology, announcements,
/// latency model and BGP decision settings.
pub struct KnobInputs<'a> {
    /// The AS topology.
    pub topo: &'a Topology,
    /// Every site's announcement.
    pub announcements: &'a [Announcement],
    /// How paths turn into round-trip times.
    pub latency: &'a LatencyModel,
    /// The BGP decision process's settings.
    pub decision: DecisionConfig,
}

/// Site `site`'s share of users under each knob: prepends from 0 to
/// `max_prepends`, then the two LOCAL_PREF communities a large transit
/// offers, 70 "below peers" and 10 "below everything" (Cogent AS174).
pub fn knob_shares(
    inputs: &KnobInputs,
    site: usize,
    max_prepends: u8,
) -> anyhow::Result<Vec<KnobShare>> {
    let mut knobs: Vec<Knob> = (0..=max_prepends).map(Knob::Prepends).collect();
    knobs.extend([Knob::LocalPref(70), Knob::LocalPref(10)]);
    let sweep = knob_sweep(
        inputs.topo,
        inputs.announcements,
        site,
        &knobs,
        inputs.latency,
        inputs.decision,
    )?;
    Ok(knobs
        .iter()
        .zip(&sweep)
        .map(|(k, v)| KnobShare {
            knob: k.to_string(),
            share: *v,
        })
        .collect())
}

/// The summary of `catchment` for the estate `name`: each site's share of
/// users, with the swept site named and no sweep or measurements yet.
pub fn summary(
    name: &str,
    topo: &Topology,
    catchment: &Catchment,
    sweep_site: Option<usize>,
) -> CatchmentSummary {
    let shares = catchment.site_shares(topo);
    CatchmentSummary {
        scenario: name.to_string(),
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
    }
}

/// Writes `catchment.csv`, `sweep.csv` (with a swept site), `measured.csv`
/// (with measurements) and `summary.json` into `out` (not committed).
pub fn write(
    out: &OutputDir,
    table: &[CatchmentCsvRow],
    summary: &CatchmentSummary,
) -> anyhow::Result<()> {
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
    write_summary(out, summary)?;
    Ok(())
}

/// Reads a CSV of measured catchments, checked against the populations
/// and sites of `topo`.
pub fn read_measured(file: &Path, topo: &Topology) -> anyhow::Result<Vec<Measurement>> {
    let text = read_text(file)?;
    let mut populations: Vec<(String, LatLon)> = Vec::new();
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
