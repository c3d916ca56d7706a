//! The output directory of `cutover plan`: summary with the verdict,
//! stage table, per-region figures, failures, timeline, Monte Carlo
//! replications, and charts of the shift and of latency.

use serde::{Deserialize, Serialize};

use super::plot::{render_svg, Chart, Line};
use super::{encode, write_json, OutputDir, WriteError};
use crate::engine::stats::TimeSeries;
use crate::montecarlo::{Proportion, Quantile};
use crate::plan::{Plan, PlanCostSummary, PlanOutcome};

/// One replication's headline, a row of `replications.csv`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ReplicationRow {
    /// Replication index.
    pub replication: u64,
    /// Its seed.
    pub seed: u64,
    /// Whether the plan passed (gates, finish, budget).
    pub success: bool,
    /// Plan duration, days.
    pub duration_days: f64,
    /// Failed requests.
    pub failed_requests: f64,
    /// Error budget consumed (1 = all of it).
    pub budget_consumed: f64,
    /// Rollbacks.
    pub rollbacks: usize,
    /// Dual-running cost (0 without a cost model).
    pub dual_running: f64,
    /// Monthly cost after the plan (0 without a cost model).
    pub final_monthly: f64,
    /// It finished within the experiment's duration.
    pub finished: bool,
    /// No budget overrun.
    pub within_budget: bool,
    /// Availability met the SLO, overall and per move.
    pub within_slo: bool,
    /// The draw of each declared risk, in declaration order (written as
    /// one column per risk).
    #[serde(skip)]
    pub draws: Vec<f64>,
}

impl ReplicationRow {
    /// The headline of `o`, replication `replication` run with `seed`.
    pub fn of(replication: u64, seed: u64, o: &PlanOutcome) -> Self {
        let money = |f: fn(&PlanCostSummary) -> f64| o.cost.as_ref().map_or(0.0, f);
        ReplicationRow {
            replication,
            seed,
            success: o.success(),
            duration_days: o.duration_s / 86_400.0,
            failed_requests: o.slo.failed,
            budget_consumed: o.slo.budget_consumed,
            rollbacks: o.rollbacks.len(),
            dual_running: money(|c| c.dual_running.as_f64()),
            final_monthly: money(|c| c.final_monthly.as_f64()),
            finished: o.finished,
            within_budget: o.within_budget(),
            within_slo: o.within_slo(),
            draws: o.risks.iter().map(|r| r.1).collect(),
        }
    }
}

/// How much one risk moves one figure: the figure's mean over the
/// replications whose draw of the risk is below its median, and over
/// those at or above it (a tornado's bar).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TornadoBar {
    /// The risk.
    pub risk: String,
    /// The figure: success, within_budget, within_slo, finished (as
    /// probabilities), dual_running, final_monthly, duration_days.
    pub figure: &'static str,
    /// Mean with the risk's draw in its lower half.
    pub low_half: f64,
    /// Mean with the risk's draw in its upper half.
    pub high_half: f64,
    /// `high_half - low_half`.
    pub swing: f64,
}

/// A figure of a replication, as a number.
type Figure = fn(&ReplicationRow) -> f64;

/// The figures a tornado bar can show.
const TORNADO_FIGURES: [(&str, Figure); 7] = [
    ("success", |r| f64::from(u8::from(r.success))),
    ("within_budget", |r| f64::from(u8::from(r.within_budget))),
    ("within_slo", |r| f64::from(u8::from(r.within_slo))),
    ("finished", |r| f64::from(u8::from(r.finished))),
    ("dual_running", |r| r.dual_running),
    ("final_monthly", |r| r.final_monthly),
    ("duration_days", |r| r.duration_days),
];

/// Every risk's bar for every figure, the largest swings first within
/// each figure.
pub fn tornado(rows: &[ReplicationRow], risks: &[String]) -> Vec<TornadoBar> {
    let mut bars = Vec::new();
    for (figure, value) in TORNADO_FIGURES {
        let mut these: Vec<TornadoBar> = risks
            .iter()
            .enumerate()
            .filter_map(|(i, risk)| {
                let mut draws: Vec<f64> = rows.iter().map(|r| r.draws[i]).collect();
                draws.sort_by(f64::total_cmp);
                let median = *draws.get(draws.len() / 2)?;
                let mean = |upper: bool| {
                    let v: Vec<f64> = rows
                        .iter()
                        .filter(|r| (r.draws[i] >= median) == upper)
                        .map(value)
                        .collect();
                    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
                };
                let (low_half, high_half) = (mean(false)?, mean(true)?);
                Some(TornadoBar {
                    risk: risk.clone(),
                    figure,
                    low_half,
                    high_half,
                    swing: high_half - low_half,
                })
            })
            .collect();
        these.sort_by(|a, b| b.swing.abs().total_cmp(&a.swing.abs()));
        bars.extend(these);
    }
    bars
}

/// P10, P50 and P90 of one figure, each with its 95 % interval.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Spread {
    /// 10th percentile.
    pub p10: Option<Quantile>,
    /// Median.
    pub p50: Option<Quantile>,
    /// 90th percentile.
    pub p90: Option<Quantile>,
}

impl Spread {
    fn of(values: &[f64]) -> Self {
        let q = |p| crate::montecarlo::quantile(values, p);
        Spread {
            p10: q(0.1),
            p50: q(0.5),
            p90: q(0.9),
        }
    }
}

/// What the replications say about the plan.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MonteCarloSummary {
    /// Replications run.
    pub replications: u64,
    /// Probability that the plan succeeds, with its Wilson interval.
    pub success: Proportion,
    /// Plan duration, days.
    pub duration_days: Spread,
    /// Failed requests.
    pub failed_requests: Spread,
    /// Error budget consumed.
    pub budget_consumed: Spread,
    /// Dual-running cost.
    pub dual_running: Spread,
    /// Monthly cost after the plan.
    pub final_monthly: Spread,
    /// Probability of finishing within the experiment's duration.
    pub within_duration: Proportion,
    /// Probability of keeping every budget.
    pub within_budget: Proportion,
    /// Probability of meeting the SLO, overall and per move.
    pub within_slo: Proportion,
    /// How much each declared risk moves each figure.
    pub tornado: Vec<TornadoBar>,
}

impl MonteCarloSummary {
    /// Summarises replication rows; `risks` names their draws.
    pub fn of(rows: &[ReplicationRow], risks: &[String]) -> Self {
        let col = |f: fn(&ReplicationRow) -> f64| -> Vec<f64> { rows.iter().map(f).collect() };
        let share = |f: fn(&ReplicationRow) -> bool| {
            crate::montecarlo::proportion(
                rows.iter().filter(|r| f(r)).count() as u64,
                rows.len() as u64,
            )
        };
        MonteCarloSummary {
            replications: rows.len() as u64,
            within_duration: share(|r| r.finished),
            within_budget: share(|r| r.within_budget),
            within_slo: share(|r| r.within_slo),
            tornado: tornado(rows, risks),
            success: crate::montecarlo::proportion(
                rows.iter().filter(|r| r.success).count() as u64,
                rows.len() as u64,
            ),
            duration_days: Spread::of(&col(|r| r.duration_days)),
            failed_requests: Spread::of(&col(|r| r.failed_requests)),
            budget_consumed: Spread::of(&col(|r| r.budget_consumed)),
            dual_running: Spread::of(&col(|r| r.dual_running)),
            final_monthly: Spread::of(&col(|r| r.final_monthly)),
        }
    }
}

#[derive(Serialize)]
struct SummaryFile<'a> {
    scenario: &'a str,
    model: &'static str,
    seed: u64,
    verdict: &'static str,
    success: bool,
    reasons: Vec<String>,
    duration_days: f64,
    /// Whole days the world skipped, each repeating the day before.
    #[serde(skip_serializing_if = "Option::is_none")]
    days_skipped: Option<u64>,
    #[serde(flatten)]
    outcome: &'a PlanOutcome,
    montecarlo: Option<&'a MonteCarloSummary>,
}

/// `replications.csv`: the rows' fields, then one column per risk with its
/// draw. Numbers are written in their shortest form that reads back to the
/// same value, so [`read_replications_csv`] gives back the rows exactly.
pub fn replications_csv(rows: &[ReplicationRow], risks: &[&str]) -> Result<Vec<u8>, WriteError> {
    let name = "replications.csv";
    let fixed = csv_of(name, rows)?;
    let text = String::from_utf8(fixed).map_err(|e| encode(name)(e.to_string()))?;
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        out.push_str(line);
        if i == 0 {
            for r in risks {
                out.push(',');
                out.push_str(&csv_field(r));
            }
        } else if let Some(row) = rows.get(i - 1) {
            for d in &row.draws {
                out.push_str(&format!(",{d}"));
            }
        }
        out.push('\n');
    }
    Ok(out.into_bytes())
}

/// Reads the rows of a `replications.csv` written by [`replications_csv`]
/// for the risks `risks`, exactly as they were (a shard's records).
pub fn read_replications_csv(text: &str, risks: &[&str]) -> Result<Vec<ReplicationRow>, String> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| e.to_string())?.clone();
    let fixed = replications_csv(&[ReplicationRow::default()], &[])
        .map_err(|e| e.to_string())
        .and_then(|b| String::from_utf8(b).map_err(|e| e.to_string()))?;
    let fixed: Vec<&str> = fixed
        .lines()
        .next()
        .unwrap_or_default()
        .split(',')
        .collect();
    let expected: Vec<&str> = fixed.iter().chain(risks).copied().collect();
    if header.iter().collect::<Vec<_>>() != expected {
        return Err(format!(
            "its header is `{}`; expected `{}`",
            header.iter().collect::<Vec<_>>().join(","),
            expected.join(",")
        ));
    }
    let mut rows = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let at = |e: String| format!("row {}: {e}", line + 1);
        let record = record.map_err(|e| at(e.to_string()))?;
        let mut row: ReplicationRow = record
            .deserialize(Some(&header))
            .map_err(|e| at(e.to_string()))?;
        row.draws = record
            .iter()
            .skip(fixed.len())
            .map(|d| d.parse::<f64>().map_err(|e| at(format!("draw `{d}`: {e}"))))
            .collect::<Result<_, _>>()?;
        rows.push(row);
    }
    Ok(rows)
}

/// A CSV field, quoted when it needs to be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn csv_of<T: Serialize>(name: &'static str, rows: &[T]) -> Result<Vec<u8>, WriteError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(|e| encode(name)(e.to_string()))?;
    }
    w.into_inner().map_err(|e| encode(name)(e.to_string()))
}

fn svg(out: &OutputDir, name: &'static str, chart: &Chart) -> Result<(), WriteError> {
    let s = render_svg(chart, 900, 450).map_err(encode(name))?;
    out.write(name, s.as_bytes())?;
    Ok(())
}

/// Writes the run's files into `out`: the plan's (summary.json, stages.csv,
/// gates.csv, regions.csv, replications.csv, share.svg, cost.svg) and the world's
/// (timeline.csv, populations.csv, sites.csv, routes.csv and its plots).
pub fn write(
    out: &OutputDir,
    plan: &Plan,
    seed: u64,
    o: &PlanOutcome,
    replications: Option<(&[ReplicationRow], &MonteCarloSummary)>,
) -> Result<(), WriteError> {
    let success = o.success();
    write_json(
        out,
        "summary.json",
        &SummaryFile {
            scenario: plan.name(),
            model: "plan",
            seed,
            verdict: if success { "pass" } else { "fail" },
            success,
            reasons: o.failure_reasons(),
            duration_days: o.duration_s / 86_400.0,
            days_skipped: o.world.summary.days_skipped,
            outcome: o,
            montecarlo: replications.map(|r| r.1),
        },
    )?;
    out.write("stages.csv", &csv_of("stages.csv", &o.stages)?)?;
    out.write("gates.csv", &csv_of("gates.csv", &o.gates)?)?;
    out.write("regions.csv", &csv_of("regions.csv", &o.regions)?)?;
    if let Some((rows, _)) = replications {
        let names: Vec<&str> = plan.risks.iter().map(|r| r.name.as_str()).collect();
        out.write("replications.csv", &replications_csv(rows, &names)?)?;
    }
    super::world::write_files(out, &o.world)?;
    svg(out, "share.svg", &share_chart(plan, &o.world.timeline))?;
    if let Some(c) = &o.cost {
        let y_label = format!("spend ({})", c.currency);
        svg(out, "cost.svg", &cost_chart(c, &y_label))?;
    }
    Ok(())
}

/// The share of each move's two sites' requests served by the new site,
/// per timeline row.
fn share_chart<'a>(plan: &'a Plan, tl: &TimeSeries) -> Chart<'a> {
    let sites = &plan.experiment.estate.sites;
    let col = |k: usize| {
        let name = format!("{}_requests", sites[k].network.tag);
        tl.columns().iter().position(|c| *c == name)
    };
    let lines = plan
        .moves
        .iter()
        .map(|m| {
            let points = match (col(m.old), col(m.new)) {
                (Some(a), Some(b)) => (0..tl.len())
                    .filter_map(|row| {
                        let old = tl.value(row, a)?;
                        let new = tl.value(row, b)?;
                        (old + new > 0.0)
                            .then(|| (tl.row_start_s(row) / 86_400.0, 100.0 * new / (old + new)))
                    })
                    .collect(),
                _ => Vec::new(),
            };
            Line {
                label: &m.name,
                points,
            }
        })
        .collect();
    Chart {
        title: "Share of each move's requests served by its new site",
        x_label: "days from the plan's start",
        y_label: "share on the new site (%)",
        lines,
    }
}

fn cost_chart<'a>(c: &PlanCostSummary, y_label: &'a str) -> Chart<'a> {
    Chart {
        title: "Monthly spend with the plan's dates",
        x_label: "month of the cost horizon",
        y_label,
        lines: vec![Line {
            label: "plan",
            points: c
                .months
                .iter()
                .enumerate()
                .map(|(i, (_, m))| ((i + 1) as f64, m.as_f64()))
                .collect(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replication_rows_read_back_bit_for_bit() {
        let row = |i: u64, x: f64| ReplicationRow {
            replication: i,
            seed: u64::MAX - i,
            success: i.is_multiple_of(2),
            duration_days: x,
            failed_requests: 0.1 + 0.2,
            budget_consumed: -0.0,
            rollbacks: 3,
            dual_running: 1e-300,
            final_monthly: f64::INFINITY,
            finished: true,
            within_budget: false,
            within_slo: true,
            draws: vec![x / 3.0, f64::NAN],
        };
        let rows = vec![row(7, 1.0 / 7.0), row(8, 123_456_789.987_654_3)];
        let risks = ["price, \"rise\"", "delivery"];
        let text = String::from_utf8(replications_csv(&rows, &risks).unwrap()).unwrap();
        let back = read_replications_csv(&text, &risks).unwrap();
        let bits = |r: &[ReplicationRow]| -> Vec<Vec<u64>> {
            r.iter()
                .map(|r| {
                    let mut v = vec![r.duration_days.to_bits(), r.failed_requests.to_bits()];
                    v.extend(
                        [r.budget_consumed, r.dual_running, r.final_monthly].map(f64::to_bits),
                    );
                    v.extend(r.draws.iter().map(|d| d.to_bits()));
                    v
                })
                .collect()
        };
        assert_eq!(bits(&back), bits(&rows));
        assert_eq!(back[1].seed, u64::MAX - 8);
        assert_eq!(
            (back[0].success, back[0].within_budget, back[0].rollbacks),
            (false, false, 3)
        );
        assert!(read_replications_csv("", &risks).unwrap().is_empty());
        let err = read_replications_csv(&text, &["delivery"]).unwrap_err();
        assert!(err.contains("expected `replication,seed,"), "{err}");
        let broken = text.replace("true", "maybe");
        assert!(read_replications_csv(&broken, &risks)
            .unwrap_err()
            .starts_with("row 1:"));
    }
}
