//! The catchment table: printed text and `catchment.csv`.

use cutover_models::bgp::catchment::Catchment;
use cutover_models::bgp::topology::Topology;
use serde::Serialize;

/// One row of `catchment.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct CatchmentCsvRow {
    /// Population (city code).
    pub city: String,
    /// Access ISP.
    pub isp: String,
    /// Share of users.
    pub weight: f64,
    /// Site reached, empty if none.
    pub site: String,
    /// AS path from the ISP to the origin.
    pub as_path: String,
    /// Great-circle km to the site.
    pub distance_km: Option<f64>,
    /// Round trip, ms.
    pub rtt_ms: Option<f64>,
    /// Time to first byte, ms.
    pub ttfb_ms: Option<f64>,
    /// The nearest announcing site.
    pub nearest_site: String,
    /// TTFB at the nearest site, ms.
    pub nearest_ttfb_ms: Option<f64>,
    /// Why the population is not at the nearest site.
    pub why_not_nearest: String,
}

fn round1(v: Option<f64>) -> Option<f64> {
    v.map(|x| (x * 10.0).round() / 10.0)
}

/// The rows of the table, in population order.
pub fn rows(topo: &Topology, c: &Catchment) -> Vec<CatchmentCsvRow> {
    let site_name = |s: Option<usize>| s.map_or(String::new(), |s| topo.sites()[s].name.clone());
    c.rows
        .iter()
        .map(|r| {
            let p = &topo.populations()[r.population];
            CatchmentCsvRow {
                city: p.name.clone(),
                isp: p.isp.to_string(),
                weight: p.weight,
                site: site_name(r.site),
                as_path: r
                    .as_path
                    .iter()
                    .map(|a| a.0.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
                distance_km: r.distance_km.map(f64::round),
                rtt_ms: round1(r.rtt_ms),
                ttfb_ms: round1(r.ttfb_ms),
                nearest_site: site_name(r.nearest_site),
                nearest_ttfb_ms: round1(r.nearest_ttfb_ms),
                why_not_nearest: r.why_not_nearest.clone(),
            }
        })
        .collect()
}

/// `catchment.csv` as bytes.
pub fn csv_bytes(rows: &[CatchmentCsvRow]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".to_string(), |x| format!("{x:.digits$}"))
}

/// The table as text for the terminal.
pub fn text(rows: &[CatchmentCsvRow]) -> String {
    let mut s = format!(
        "{:<6} {:<8} {:<6} {:<22} {:>7} {:>7} {:>7} {:<7} {}\n",
        "city", "isp", "site", "as path", "km", "rtt ms", "ttfb ms", "nearest", "why not nearest"
    );
    for r in rows {
        s.push_str(&format!(
            "{:<6} {:<8} {:<6} {:<22} {:>7} {:>7} {:>7} {:<7} {}\n",
            r.city,
            r.isp,
            if r.site.is_empty() { "-" } else { &r.site },
            r.as_path,
            opt(r.distance_km, 0),
            opt(r.rtt_ms, 1),
            opt(r.ttfb_ms, 1),
            r.nearest_site,
            r.why_not_nearest
        ));
    }
    s
}

/// One site's share of users, a row of the catchment summary.
#[derive(Debug, Clone, Serialize)]
pub struct SiteShare {
    /// The site.
    pub site: String,
    /// Its share of users, 0 to 1.
    pub share: f64,
}

/// One knob's share for the swept site.
#[derive(Debug, Clone, Serialize)]
pub struct KnobShare {
    /// The knob, e.g. `prepend 2`.
    pub knob: String,
    /// The swept site's share of users with it, 0 to 1.
    pub share: f64,
}

/// The `summary.json` of `cutover catchment`, which `cutover report`
/// renders.
#[derive(Debug, Clone, Serialize)]
pub struct CatchmentSummary {
    /// The scenario's name.
    pub scenario: String,
    /// Always `catchment`.
    pub model: &'static str,
    /// Populations (city and access ISP).
    pub populations: usize,
    /// Each site's share of users, in site order.
    pub site_shares: Vec<SiteShare>,
    /// UPDATE messages sent until the routes converged.
    pub updates: u64,
    /// The site swept over BGP knobs, if any.
    pub sweep_site: Option<String>,
    /// Its share with each knob.
    pub sweep: Vec<KnobShare>,
}

/// Writes `summary` as the directory's `summary.json`.
pub fn write_summary(
    out: &super::OutputDir,
    summary: &CatchmentSummary,
) -> Result<(), super::WriteError> {
    super::write_json(out, "summary.json", summary)
}
