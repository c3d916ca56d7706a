//! An experiment's files: `summary.json`, `timeline.csv`, `populations.csv`
//! and `sites.csv` (one row each, failures by cause), `routes.csv` (every
//! route change of a population), `routers.csv` (every BGP router's best
//! route over time: `time_s,router,asn,pop,site,as_path`), `failures.csv`
//! (every failure that struck, with its start and end), `costs.csv`
//! (each site's cost by line, when the estate is priced), `data.csv`,
//! `recovery.csv` and `partitions.csv` (each site failure's writes lost
//! per data class and its users' time to recover per service, each
//! partition's writes failed or queued, time to consistency and
//! staleness per class, when the estate declares them),
//! and the plots
//! `requests.svg` (requests by outcome),
//! `pods.svg` (ready pods per site) and `failures.svg` (failed requests per
//! population, each failure's window outlined).

use cutover_models::cost::meter::MeterLine;
use cutover_models::cost::Money;
use serde::Serialize;

use super::plot::{render_svg, Chart, Line};
use super::{encode, write_run_summary, write_timeline, OutputDir, WriteError};
use crate::engine::stats::TimeSeries;
use crate::world::failures::FailureRecord;
use crate::world::summary::{PopulationSummary, SiteSummary};
use crate::world::Outcome;

/// A row of `populations.csv`.
#[derive(Serialize)]
struct PopulationRow<'a> {
    population: &'a str,
    share: f64,
    site_before: &'a str,
    site_after: &'a str,
    ttfb_before_ms: Option<f64>,
    ttfb_after_ms: Option<f64>,
    blackhole_s: f64,
    requests: f64,
    served: f64,
    blackholed: f64,
    rejected: f64,
    timed_out: f64,
    reset: f64,
    write_failed: f64,
    availability: Option<f64>,
    error_budget_consumed: Option<f64>,
    latency_p50_ms: Option<f64>,
    latency_p99_ms: Option<f64>,
    latency_p999_ms: Option<f64>,
}

impl<'a> From<&'a PopulationSummary> for PopulationRow<'a> {
    fn from(p: &'a PopulationSummary) -> Self {
        PopulationRow {
            population: &p.population,
            share: p.share,
            site_before: &p.site_before,
            site_after: &p.site_after,
            ttfb_before_ms: p.ttfb_before_ms,
            ttfb_after_ms: p.ttfb_after_ms,
            blackhole_s: p.blackhole_s,
            requests: p.tally.requests,
            served: p.tally.served,
            blackholed: p.tally.blackholed,
            rejected: p.tally.rejected,
            timed_out: p.tally.timed_out,
            reset: p.tally.reset,
            write_failed: p.tally.write_failed,
            availability: p.availability,
            error_budget_consumed: p.error_budget_consumed,
            latency_p50_ms: p.latency_p50_ms,
            latency_p99_ms: p.latency_p99_ms,
            latency_p999_ms: p.latency_p999_ms,
        }
    }
}

/// A row of `sites.csv`.
#[derive(Serialize)]
struct SiteRow<'a> {
    site: &'a str,
    requests: f64,
    served: f64,
    rejected: f64,
    timed_out: f64,
    reset: f64,
    write_failed: f64,
    overflowed_in: f64,
    overflowed_out: f64,
    peak_load: f64,
    peak_offered_load: f64,
    max_ready_pods: u64,
    latency_p99_ms: Option<f64>,
    alive_at_end: bool,
}

impl<'a> From<&'a SiteSummary> for SiteRow<'a> {
    fn from(s: &'a SiteSummary) -> Self {
        SiteRow {
            site: &s.site,
            requests: s.tally.requests,
            served: s.tally.served,
            rejected: s.tally.rejected,
            timed_out: s.tally.timed_out,
            reset: s.tally.reset,
            write_failed: s.tally.write_failed,
            overflowed_in: s.stats.overflowed_in,
            overflowed_out: s.stats.overflowed_out,
            peak_load: s.stats.peak_load,
            peak_offered_load: s.stats.peak_offered_load,
            max_ready_pods: s.stats.max_ready_pods,
            latency_p99_ms: s.latency_p99_ms,
            alive_at_end: s.alive_at_end,
        }
    }
}

/// A row of `costs.csv`: one line of the cost meter.
#[derive(Serialize)]
struct CostRow<'a> {
    month: &'a str,
    site: &'a str,
    line: &'a str,
    sku: &'a str,
    data_class: &'a str,
    quantity: f64,
    unit: &'a str,
    unit_price: Money,
    amount: Money,
    currency: &'a str,
}

impl<'a> CostRow<'a> {
    fn new(l: &'a MeterLine, currency: &'a str) -> Self {
        CostRow {
            month: &l.month,
            site: &l.site,
            line: &l.line,
            sku: &l.sku,
            data_class: &l.data_class,
            quantity: l.quantity,
            unit: &l.unit,
            unit_price: l.unit_price,
            amount: l.amount,
            currency,
        }
    }
}

/// Writes the result files of an experiment into `out`.
pub fn write(out: &OutputDir, name: &str, seed: u64, outcome: &Outcome) -> Result<(), WriteError> {
    write_run_summary(out, name, "experiment", seed, &outcome.summary)?;
    write_files(out, outcome)
}

/// Writes every file of a world's outcome but `summary.json`: the
/// timeline, the population, site and route tables, and the plots.
pub fn write_files(out: &OutputDir, outcome: &Outcome) -> Result<(), WriteError> {
    let s = &outcome.summary;
    write_timeline(out, &outcome.timeline)?;
    let populations: Vec<PopulationRow> = s.populations.iter().map(PopulationRow::from).collect();
    write_csv(out, "populations.csv", &populations, &[])?;
    let sites: Vec<SiteRow> = s.sites.iter().map(SiteRow::from).collect();
    write_csv(out, "sites.csv", &sites, &[])?;
    write_csv(out, "routes.csv", &outcome.routes, &ROUTE_COLUMNS)?;
    write_csv(out, "failures.csv", &s.failure_log, &FAILURE_COLUMNS)?;
    out.write("routers.csv", outcome.routers_csv.as_bytes())?;
    if let Some(c) = &s.cost {
        let rows: Vec<CostRow> = c
            .lines
            .iter()
            .map(|l| CostRow::new(l, &c.currency))
            .collect();
        write_csv(out, "costs.csv", &rows, &[])?;
    }
    if let Some(r) = &s.recovery {
        write_csv(out, "data.csv", &r.data, &DATA_COLUMNS)?;
        write_csv(out, "recovery.csv", &r.services, &RECOVERY_COLUMNS)?;
        write_csv(out, "partitions.csv", &r.partitions, &PARTITION_COLUMNS)?;
    }
    let tl = &outcome.timeline;
    let lines = |names: &[(&'static str, String)]| -> Vec<Line<'static>> {
        names
            .iter()
            .map(|(label, col)| Line {
                label,
                points: series(tl, col),
            })
            .collect()
    };
    let requests = lines(&[
        ("requests", "requests".into()),
        ("served", "served".into()),
        ("blackholed", "blackholed".into()),
        ("rejected", "rejected".into()),
        ("timed out", "timed_out".into()),
        ("reset", "reset".into()),
        ("write failed", "write_failed".into()),
    ]);
    plot(
        out,
        "requests.svg",
        "Requests per interval, by outcome",
        "requests",
        requests,
    )?;
    let site_labels: Vec<(String, String)> = s
        .sites
        .iter()
        .map(|x| (x.site.clone(), format!("{}_ready_pods", x.site)))
        .collect();
    plot_owned(
        out,
        "pods.svg",
        "Ready pods per site",
        "pods",
        tl,
        &site_labels,
    )?;
    let pop_labels: Vec<(String, String)> = s
        .populations
        .iter()
        .filter(|p| p.tally.failed() > 0.0)
        .map(|p| (p.population.clone(), format!("{}_failed", p.population)))
        .collect();
    let mut lines: Vec<Line> = pop_labels
        .iter()
        .map(|(label, col)| Line {
            label,
            points: series(tl, col),
        })
        .collect();
    let top = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let top = if top > 0.0 { top } else { 1.0 };
    let windows = failure_windows(&s.failure_log, s.simulated_s, top);
    lines.extend(windows.iter().map(|(label, points)| Line {
        label,
        points: points.clone(),
    }));
    plot(
        out,
        "failures.svg",
        "Failed requests per interval, by population; failures outlined",
        "requests",
        lines,
    )
}

/// Most failures outlined on `failures.svg` (the first to strike): more
/// would hide the lines.
const MAX_WINDOWS: usize = 10;

/// Each failure's window, start to end (or the run's end, `end_s`), in
/// minutes, as an outline `top` high (each next one 7 % lower, so that
/// windows that overlap stay apart), labelled with its site and kind.
fn failure_windows(log: &[FailureRecord], end_s: f64, top: f64) -> Vec<(String, Vec<(f64, f64)>)> {
    log.iter()
        .take(MAX_WINDOWS)
        .enumerate()
        .map(|(i, r)| {
            let (a, b) = (r.start_s / 60.0, r.end_s.unwrap_or(end_s) / 60.0);
            let top = top * (1.0 - 0.07 * i as f64);
            let label = format!("{} {}", r.site, r.kind).trim().to_string();
            (label, vec![(a, 0.0), (a, top), (b, top), (b, 0.0)])
        })
        .collect()
}

/// The column `name` of the timeline as (minutes, value) points.
fn series(tl: &TimeSeries, name: &str) -> Vec<(f64, f64)> {
    let Some(col) = tl.columns().iter().position(|c| c == name) else {
        return Vec::new();
    };
    (0..tl.len())
        .filter_map(|row| Some((tl.row_start_s(row) / 60.0, tl.value(row, col)?)))
        .collect()
}

fn plot(
    out: &OutputDir,
    file: &'static str,
    title: &str,
    y_label: &str,
    lines: Vec<Line>,
) -> Result<(), WriteError> {
    let svg = render_svg(
        &Chart {
            title,
            x_label: "simulated time (min)",
            y_label,
            lines,
        },
        900,
        420,
    )
    .map_err(encode(file))?;
    out.write(file, svg.as_bytes())?;
    Ok(())
}

/// Plots timeline columns given as (label, column) pairs.
fn plot_owned(
    out: &OutputDir,
    file: &'static str,
    title: &str,
    y_label: &str,
    tl: &TimeSeries,
    columns: &[(String, String)],
) -> Result<(), WriteError> {
    let lines = columns
        .iter()
        .map(|(label, col)| Line {
            label,
            points: series(tl, col),
        })
        .collect();
    plot(out, file, title, y_label, lines)
}

/// The columns of `routes.csv`, the fields of [`RouteChange`]: written as
/// the header of a run in which no route moved, so the file still reads
/// as a table.
const ROUTE_COLUMNS: [&str; 5] = ["t_s", "population", "from_site", "to_site", "ttfb_ms"];

/// The columns of `failures.csv`, the fields of
/// [`FailureRecord`](crate::world::failures::FailureRecord).
const FAILURE_COLUMNS: [&str; 5] = ["site", "kind", "what", "start_s", "end_s"];

/// The columns of `data.csv`, the fields of
/// [`DataLossRow`](crate::world::recovery::DataLossRow).
const DATA_COLUMNS: [&str; 10] = [
    "site",
    "failure",
    "start_s",
    "class",
    "replication",
    "write_rate_per_s",
    "window_s",
    "lost_writes",
    "rpo_s",
    "met",
];

/// The columns of `recovery.csv`, the fields of
/// [`ServiceRecoveryRow`](crate::world::recovery::ServiceRecoveryRow).
const RECOVERY_COLUMNS: [&str; 8] = [
    "site",
    "failure",
    "start_s",
    "service",
    "tier",
    "recovered_s",
    "rto_s",
    "met",
];

/// The columns of `partitions.csv`, the fields of
/// [`PartitionRow`](crate::world::partition::PartitionRow).
const PARTITION_COLUMNS: [&str; 11] = [
    "sites",
    "start_s",
    "end_s",
    "class",
    "replication",
    "writes_failed",
    "writes_queued",
    "consistent_after_s",
    "staleness_p50_s",
    "staleness_p99_s",
    "staleness_max_s",
];

/// Writes `rows` as CSV with a header from their fields, or `empty_header`
/// when there are none.
pub(super) fn write_csv<T: Serialize>(
    out: &OutputDir,
    file: &'static str,
    rows: &[T],
    empty_header: &[&str],
) -> Result<(), WriteError> {
    let bytes = csv_bytes(rows, empty_header).map_err(encode(file))?;
    out.write(file, &bytes)?;
    Ok(())
}

/// `rows` as CSV; `empty_header` alone when there are no rows.
fn csv_bytes<T: Serialize>(rows: &[T], empty_header: &[&str]) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    if rows.is_empty() && !empty_header.is_empty() {
        w.write_record(empty_header).map_err(|e| e.to_string())?;
    }
    for row in rows {
        w.serialize(row).map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::summary::RouteChange;

    #[test]
    fn routes_csv_has_its_header_when_no_route_moved() {
        let empty = csv_bytes::<RouteChange>(&[], &ROUTE_COLUMNS).unwrap();
        assert_eq!(
            String::from_utf8(empty).unwrap(),
            "t_s,population,from_site,to_site,ttfb_ms\n"
        );
        let one = csv_bytes(
            &[RouteChange {
                t_s: 60.0,
                population: "nyc".into(),
                from_site: "ny1".into(),
                to_site: String::new(),
                ttfb_ms: None,
            }],
            &ROUTE_COLUMNS,
        )
        .unwrap();
        let text = String::from_utf8(one).unwrap();
        assert_eq!(
            text.lines().next(),
            Some(ROUTE_COLUMNS.join(",").as_str()),
            "the empty header must match the fields"
        );
        assert_eq!(text.lines().nth(1), Some("60.0,nyc,ny1,,"));
    }

    #[test]
    fn a_failure_window_runs_from_its_start_to_its_end_or_the_runs() {
        let record = |site: &str, end_s| FailureRecord {
            site: site.into(),
            kind: "crash",
            what: String::new(),
            start_s: 60.0,
            end_s,
        };
        let w = failure_windows(&[record("ny1", Some(120.0)), record("", None)], 300.0, 5.0);
        assert_eq!(w[0].0, "ny1 crash");
        assert_eq!(w[0].1, [(1.0, 0.0), (1.0, 5.0), (2.0, 5.0), (2.0, 0.0)]);
        assert_eq!(w[1].0, "crash");
        assert_eq!(w[1].1[2].0, 5.0);
        assert!((w[1].1[2].1 - 4.65).abs() < 1e-12);
    }

    #[test]
    fn failures_csv_has_its_header_and_an_open_end() {
        let one = csv_bytes(
            &[FailureRecord {
                site: "ny1".into(),
                kind: "crash",
                what: "crash".into(),
                start_s: 60.0,
                end_s: None,
            }],
            &FAILURE_COLUMNS,
        )
        .unwrap();
        let text = String::from_utf8(one).unwrap();
        assert_eq!(
            text.lines().next(),
            Some(FAILURE_COLUMNS.join(",").as_str())
        );
        assert_eq!(text.lines().nth(1), Some("ny1,crash,crash,60.0,"));
    }
}
