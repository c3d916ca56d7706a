//! The network run's files: `summary.json`, `timeline.csv` (requests,
//! failures, mean TTFB and each site's share per interval),
//! `route-changes.csv`, `catchment.csv` (the steady state at the start),
//! `timeline.svg` (mean TTFB and error rate) and `catchment.svg` (each
//! site's share over time).

use cutover_models::{SimDuration, SimTime};

use super::catchment::{csv_bytes, rows};
use super::plot::{render_svg, Chart, Line};
use super::{encode, write_run_summary, OutputDir, WriteError};
use crate::runs::network::{NetworkOutcome, PopState};
use crate::scenario::network::NetworkSpec;
use crate::scenario::Scenario;

/// One timeline row.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineRow {
    /// Start of the interval, seconds.
    pub t_s: f64,
    /// Requests sent in the interval.
    pub requests: f64,
    /// Requests that failed.
    pub failed: f64,
    /// Request-weighted mean TTFB of served requests, ms.
    pub mean_ttfb_ms: Option<f64>,
    /// Share of requests served by each site.
    pub site_share: Vec<f64>,
}

/// Integrates the populations' state histories over intervals of `step`.
pub fn timeline(
    spec: &NetworkSpec,
    outcome: &NetworkOutcome,
    step: SimDuration,
) -> Vec<TimelineRow> {
    let topo = &spec.built;
    let pops = topo.populations();
    let total_weight: f64 = pops.iter().map(|p| p.weight).sum();
    let end = SimTime::ZERO + spec.duration;
    let mut rows = Vec::new();
    let mut t0 = SimTime::ZERO;
    while t0 < end && step > SimDuration::ZERO {
        let t1 = (t0 + step).min(end);
        let mut row = TimelineRow {
            t_s: t0.as_secs_f64(),
            requests: 0.0,
            failed: 0.0,
            mean_ttfb_ms: None,
            site_share: vec![0.0; topo.sites().len()],
        };
        let mut ttfb_sum = 0.0;
        let mut served = 0.0;
        for (i, h) in outcome.history.iter().enumerate() {
            let rate = if total_weight > 0.0 {
                spec.request_rate_per_s * pops[i].weight / total_weight
            } else {
                0.0
            };
            for (k, &(start, state)) in h.iter().enumerate() {
                let stop = h.get(k + 1).map_or(end, |n| n.0);
                let (a, b) = (start.max(t0), stop.min(t1));
                if b <= a {
                    continue;
                }
                let n = rate * (b - a).as_secs_f64();
                row.requests += n;
                match state {
                    PopState::Failing => row.failed += n,
                    PopState::Served(site) => {
                        served += n;
                        row.site_share[site] += n;
                        ttfb_sum += n * spec
                            .latency
                            .ttfb_between_ms(pops[i].location, topo.sites()[site].location);
                    }
                }
            }
        }
        if served > 0.0 {
            row.mean_ttfb_ms = Some(ttfb_sum / served);
        }
        if row.requests > 0.0 {
            for s in &mut row.site_share {
                *s /= row.requests;
            }
        }
        rows.push(row);
        t0 = t1;
    }
    rows
}

/// Writes the result files of a network run into `out`.
pub fn write(
    out: &OutputDir,
    scenario: &Scenario,
    spec: &NetworkSpec,
    seed: u64,
    outcome: &NetworkOutcome,
) -> Result<(), WriteError> {
    write_run_summary(out, &scenario.name, "network", seed, &outcome.summary)?;

    let table = rows(&spec.built, &outcome.initial);
    out.write(
        "catchment.csv",
        &csv_bytes(&table).map_err(|e| encode("catchment.csv")(e.to_string()))?,
    )?;

    let mut w = csv::Writer::from_writer(Vec::new());
    for c in &outcome.changes {
        w.serialize(c)
            .map_err(|e| encode("route-changes.csv")(e.to_string()))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| encode("route-changes.csv")(e.to_string()))?;
    out.write("route-changes.csv", &bytes)?;

    let tl = timeline(spec, outcome, scenario.timeline_interval);
    let mut csv = String::from("t_s,requests,failed,error_rate,mean_ttfb_ms");
    for name in &outcome.site_names {
        csv.push_str(&format!(",share_{name}"));
    }
    csv.push('\n');
    for r in &tl {
        let err = if r.requests > 0.0 {
            r.failed / r.requests
        } else {
            0.0
        };
        csv.push_str(&format!(
            "{},{:.3},{:.3},{:.6},{}",
            r.t_s,
            r.requests,
            r.failed,
            err,
            r.mean_ttfb_ms.map_or(String::new(), |v| format!("{v:.2}"))
        ));
        for s in &r.site_share {
            csv.push_str(&format!(",{s:.6}"));
        }
        csv.push('\n');
    }
    out.write("timeline.csv", csv.as_bytes())?;

    let svg = render_svg(
        &Chart {
            title: "Mean TTFB of served requests and error rate",
            x_label: "simulated time (s)",
            y_label: "TTFB (ms) / error rate (%)",
            lines: vec![
                Line {
                    label: "mean TTFB (ms)",
                    points: tl
                        .iter()
                        .filter_map(|r| Some((r.t_s, r.mean_ttfb_ms?)))
                        .collect(),
                },
                Line {
                    label: "error rate (%)",
                    points: tl
                        .iter()
                        .map(|r| {
                            let e = if r.requests > 0.0 {
                                r.failed / r.requests
                            } else {
                                0.0
                            };
                            (r.t_s, e * 100.0)
                        })
                        .collect(),
                },
            ],
        },
        900,
        450,
    )
    .map_err(encode("timeline.svg"))?;
    out.write("timeline.svg", svg.as_bytes())?;

    let svg = render_svg(
        &Chart {
            title: "Share of requests served by each site",
            x_label: "simulated time (s)",
            y_label: "share of requests (%)",
            lines: outcome
                .site_names
                .iter()
                .enumerate()
                .map(|(k, name)| Line {
                    label: name,
                    points: tl
                        .iter()
                        .map(|r| (r.t_s, r.site_share[k] * 100.0))
                        .collect(),
                })
                .collect(),
        },
        900,
        450,
    )
    .map_err(encode("catchment.svg"))?;
    out.write("catchment.svg", svg.as_bytes())?;
    Ok(())
}
