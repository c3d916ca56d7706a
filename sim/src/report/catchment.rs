//! The catchment table: printed text and `catchment.csv`.

use cutover_models::bgp::catchment::Catchment;
use cutover_models::bgp::topology::Topology;
use cutover_models::geo::{LatencyModel, FIBER_KM_PER_S, PATH_INFLATION_RANGE};
use serde::Serialize;

use crate::scenario::measured::Measurement;

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
    /// The model held against measured catchments (`--measured`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured: Option<MeasuredComparison>,
}

/// Writes `summary` as the directory's `summary.json`.
pub fn write_summary(
    out: &super::OutputDir,
    summary: &CatchmentSummary,
) -> Result<(), super::WriteError> {
    super::write_json(out, "summary.json", summary)
}

/// One population's measurements against the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasuredPopulation {
    /// The population.
    pub population: String,
    /// Clients measured in it.
    pub clients: usize,
    /// The site the model sends it to (its heaviest access ISP's).
    pub model_site: String,
    /// Share of its clients that reached the model's site.
    pub agreement: f64,
    /// Median of measured minus modelled RTT to the site reached, ms.
    pub rtt_error_median_ms: f64,
    /// The error of largest size, ms (signed).
    pub rtt_error_worst_ms: f64,
}

/// A client that reached another site than the model's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Disagreement {
    /// The client network, prefix or probe.
    pub client: String,
    /// Its population.
    pub population: String,
    /// The site it reached.
    pub measured_site: String,
    /// The site the model sends its population to.
    pub model_site: String,
    /// Measured RTT, ms.
    pub measured_rtt_ms: f64,
    /// The model's RTT to the model's site, ms.
    pub model_rtt_ms: f64,
}

/// Measured catchments against the model's: what `--measured` prints and
/// adds to `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasuredComparison {
    /// Clients measured.
    pub clients: usize,
    /// Share of them that reached the model's site.
    pub agreement: f64,
    /// Median RTT error (measured minus model, to the site reached), ms.
    pub rtt_error_median_ms: f64,
    /// The error of largest size, ms (signed).
    pub rtt_error_worst_ms: f64,
    /// The model's path inflation.
    pub path_inflation: f64,
    /// The path inflation that makes the median error zero over clients
    /// at least [`FIT_MIN_KM`] from the site they reached, if any.
    pub fitted_path_inflation: Option<f64>,
    /// Per population, in the estate's order.
    pub populations: Vec<MeasuredPopulation>,
    /// Every client that reached another site than the model's.
    pub disagreements: Vec<Disagreement>,
}

/// Clients nearer their site than this leave the path inflation out of
/// the fit: below a few hundred km the access network's round trip
/// dominates the RTT (an assumption of this comparison).
pub const FIT_MIN_KM: f64 = 500.0;

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn worst(values: &[f64]) -> f64 {
    values
        .iter()
        .copied()
        .max_by(|a, b| a.abs().total_cmp(&b.abs()))
        .unwrap_or(0.0)
}

/// The site the model sends population `name` to: its heaviest access
/// ISP's.
fn model_site(topo: &Topology, c: &Catchment, name: &str) -> Option<usize> {
    c.rows
        .iter()
        .filter(|r| topo.populations()[r.population].name == name)
        .max_by(|a, b| {
            let w = |r: &cutover_models::bgp::catchment::CatchmentRow| {
                topo.populations()[r.population].weight
            };
            w(a).total_cmp(&w(b)).then(b.population.cmp(&a.population))
        })
        .and_then(|r| r.site)
}

/// Holds `measured` against the model's catchment `c` on `topo`.
pub fn compare_measured(
    topo: &Topology,
    c: &Catchment,
    latency: &LatencyModel,
    measured: &[Measurement],
) -> MeasuredComparison {
    let site_at = |tag: &str| topo.sites().iter().find(|s| s.name == tag);
    let place = |m: &Measurement| {
        m.location.or_else(|| {
            topo.populations()
                .iter()
                .find(|p| p.name == m.population)
                .map(|p| p.location)
        })
    };
    let mut errors = Vec::with_capacity(measured.len());
    let mut fits = Vec::new();
    let mut disagreements = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for p in topo.populations() {
        if !names.contains(&p.name.as_str()) {
            names.push(&p.name);
        }
    }
    let mut per: Vec<(usize, usize, Vec<f64>)> = vec![(0, 0, Vec::new()); names.len()];
    for m in measured {
        let Some(i) = names.iter().position(|n| *n == m.population) else {
            continue;
        };
        let (Some(at), Some(site)) = (place(m), site_at(&m.site)) else {
            continue;
        };
        let km = at.distance_km(site.location);
        let error = m.rtt_ms - latency.rtt_ms(km);
        errors.push(error);
        if km >= FIT_MIN_KM {
            let one_way_ms = (m.rtt_ms - latency.access_rtt_ms()) / 2.0;
            fits.push(one_way_ms / 1000.0 * FIBER_KM_PER_S / km);
        }
        per[i].0 += 1;
        per[i].2.push(error);
        let model = model_site(topo, c, &m.population).map(|k| &topo.sites()[k]);
        if model.is_some_and(|s| s.name == m.site) {
            per[i].1 += 1;
        } else {
            disagreements.push(Disagreement {
                client: m.client.clone(),
                population: m.population.clone(),
                measured_site: m.site.clone(),
                model_site: model.map_or("-".to_string(), |s| s.name.clone()),
                measured_rtt_ms: m.rtt_ms,
                model_rtt_ms: model.map_or(f64::NAN, |s| {
                    round1(Some(latency.rtt_ms(at.distance_km(s.location)))).unwrap_or(0.0)
                }),
            });
        }
    }
    let populations = names
        .iter()
        .zip(&mut per)
        .filter(|(_, p)| p.0 > 0)
        .map(|(name, (n, agree, errs))| MeasuredPopulation {
            population: name.to_string(),
            clients: *n,
            model_site: model_site(topo, c, name)
                .map_or("-".to_string(), |k| topo.sites()[k].name.clone()),
            agreement: *agree as f64 / *n as f64,
            rtt_error_median_ms: median(errs),
            rtt_error_worst_ms: worst(errs),
        })
        .collect::<Vec<_>>();
    let agreeing: usize = per.iter().map(|p| p.1).sum();
    let clients = errors.len();
    let (lo, hi) = PATH_INFLATION_RANGE;
    MeasuredComparison {
        clients,
        agreement: if clients > 0 {
            agreeing as f64 / clients as f64
        } else {
            0.0
        },
        rtt_error_median_ms: median(&mut errors.clone()),
        rtt_error_worst_ms: worst(&errors),
        path_inflation: latency.path_inflation(),
        fitted_path_inflation: (!fits.is_empty()).then(|| median(&mut fits).clamp(lo, hi)),
        populations,
        disagreements,
    }
}

/// The comparison as text for the terminal.
pub fn measured_text(m: &MeasuredComparison) -> String {
    let mut s = format!(
        "measured: {} clients, {:.1} % at the model's site; RTT error (measured - model) median {:+.1} ms, worst {:+.1} ms\n",
        m.clients,
        m.agreement * 100.0,
        m.rtt_error_median_ms,
        m.rtt_error_worst_ms
    );
    s.push_str(&format!(
        "  {:<10} {:>7} {:<10} {:>7} {:>14} {:>10}\n",
        "population", "clients", "model site", "agree", "rtt err median", "worst"
    ));
    for p in &m.populations {
        s.push_str(&format!(
            "  {:<10} {:>7} {:<10} {:>6.1}% {:>+14.1} {:>+10.1}\n",
            p.population,
            p.clients,
            p.model_site,
            p.agreement * 100.0,
            p.rtt_error_median_ms,
            p.rtt_error_worst_ms
        ));
    }
    if !m.disagreements.is_empty() {
        s.push_str("  disagreements (client, population: measured site / model site, measured / model RTT ms):\n");
        for d in &m.disagreements {
            s.push_str(&format!(
                "    {} {}: {} / {}, {:.1} / {:.1}\n",
                d.client,
                d.population,
                d.measured_site,
                d.model_site,
                d.measured_rtt_ms,
                d.model_rtt_ms
            ));
        }
    }
    if let Some(f) = m.fitted_path_inflation {
        s.push_str(&format!(
            "  path inflation: the model's {:.2}; {:.2} would make the median error zero over the clients {:.0} km or more from their site (`[network] path_inflation`)\n",
            m.path_inflation, f, FIT_MIN_KM
        ));
    }
    s
}

/// The per-population comparison as `measured.csv`.
pub fn measured_csv(m: &MeasuredComparison) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for p in &m.populations {
        w.serialize(p)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}
