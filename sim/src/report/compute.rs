//! The compute run's files: `summary.json`, `timeline.csv`, `pods.svg`
//! (replicas, ready and starting pods against the pods needed) and
//! `requests.svg` (served, failed and slow requests per interval).

use super::plot::{render_svg, Chart, Line};
use super::{encode, write_run_summary, write_timeline, OutputDir, WriteError};
use crate::runs::compute::{ComputeOutcome, TIMELINE_COLUMNS};
use crate::scenario::Scenario;

fn column(name: &str) -> usize {
    TIMELINE_COLUMNS
        .iter()
        .position(|(n, _)| *n == name)
        .unwrap_or(0)
}

/// Writes the result files of a compute run into `out`.
pub fn write(
    out: &OutputDir,
    scenario: &Scenario,
    seed: u64,
    outcome: &ComputeOutcome,
) -> Result<(), WriteError> {
    write_run_summary(out, &scenario.name, "compute", seed, &outcome.summary)?;

    write_timeline(out, &outcome.timeline)?;

    let tl = &outcome.timeline;
    let series = |name: &str| -> Vec<(f64, f64)> {
        let col = column(name);
        (0..tl.len())
            .filter_map(|row| Some((tl.row_start_s(row) / 60.0, tl.value(row, col)?)))
            .collect()
    };
    let needed = outcome.summary.pods_needed_at_target as f64;
    let needed_line: Vec<(f64, f64)> = series("replicas")
        .iter()
        .map(|&(x, _)| (x, needed))
        .collect();
    let pods_svg = render_svg(
        &Chart {
            title: "Pods: HPA replicas, ready and starting, against the pods needed",
            x_label: "simulated time (min)",
            y_label: "pods",
            lines: vec![
                Line {
                    label: "replicas (HPA)",
                    points: series("replicas"),
                },
                Line {
                    label: "ready",
                    points: series("ready_pods"),
                },
                Line {
                    label: "starting",
                    points: series("starting_pods"),
                },
                Line {
                    label: "needed at target",
                    points: needed_line,
                },
            ],
        },
        900,
        420,
    )
    .map_err(encode("pods.svg"))?;
    out.write("pods.svg", pods_svg.as_bytes())?;

    let requests_svg = render_svg(
        &Chart {
            title: "Requests per interval",
            x_label: "simulated time (min)",
            y_label: "requests",
            lines: vec![
                Line {
                    label: "arrivals",
                    points: series("arrivals"),
                },
                Line {
                    label: "served",
                    points: series("served"),
                },
                Line {
                    label: "rejected",
                    points: series("rejected"),
                },
                Line {
                    label: "timed out",
                    points: series("timed_out"),
                },
                Line {
                    label: "slow",
                    points: series("slow"),
                },
            ],
        },
        900,
        420,
    )
    .map_err(encode("requests.svg"))?;
    out.write("requests.svg", requests_svg.as_bytes())?;
    Ok(())
}
