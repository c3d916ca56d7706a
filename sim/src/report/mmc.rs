//! The M/M/c run's files: `summary.json`, `timeline.csv`, `timeline.svg`
//! and `waits.svg` (the simulated waiting-time tail against Erlang C).

use cutover_models::queueing::ErlangC;

use super::plot::{render_svg, Chart, Line};
use super::{encode, write_run_summary, write_timeline, OutputDir, WriteError};
use crate::runs::mmc::MmcOutcome;
use crate::scenario::{MmcSpec, Scenario};

/// Writes the result files of an M/M/c run into `out`.
pub fn write(
    out: &OutputDir,
    scenario: &Scenario,
    spec: &MmcSpec,
    seed: u64,
    outcome: &MmcOutcome,
) -> Result<(), WriteError> {
    write_run_summary(out, &scenario.name, "mmc", seed, &outcome.summary)?;
    write_timeline(out, &outcome.timeline)?;

    let series = |col: usize| -> Vec<(f64, f64)> {
        (0..outcome.timeline.len())
            .filter_map(|row| {
                let v = outcome.timeline.value(row, col)?;
                Some((outcome.timeline.row_start_s(row) / 60.0, v))
            })
            .collect()
    };
    let timeline_svg = render_svg(
        &Chart {
            title: "Queue length and mean wait per interval",
            x_label: "simulated time (min)",
            y_label: "customers waiting / wait (s)",
            lines: vec![
                Line {
                    label: "mean queue length",
                    points: series(4),
                },
                Line {
                    label: "mean wait (s)",
                    points: series(2),
                },
            ],
        },
        900,
        420,
    )
    .map_err(encode("timeline.svg"))?;
    out.write("timeline.svg", timeline_svg.as_bytes())?;

    let formula = ErlangC::new(
        spec.servers,
        spec.arrival_rate_per_s,
        spec.service_rate_per_s,
    )
    .expect("validated scenario has a stable queue");
    let p999 = formula.wait_quantile_s(0.999);
    let steps = 60;
    let grid: Vec<f64> = (0..=steps)
        .map(|i| p999 * i as f64 / steps as f64)
        .collect();
    let waits_svg = render_svg(
        &Chart {
            title: "P(wait > t): simulated vs Erlang C",
            x_label: "t (s)",
            y_label: "probability",
            lines: vec![
                Line {
                    label: "simulated",
                    points: grid
                        .iter()
                        .map(|&t| (t, outcome.waits.fraction_above(t)))
                        .collect(),
                },
                Line {
                    label: "Erlang C",
                    points: grid
                        .iter()
                        .map(|&t| (t, formula.prob_wait_longer_than(t)))
                        .collect(),
                },
            ],
        },
        700,
        420,
    )
    .map_err(encode("waits.svg"))?;
    out.write("waits.svg", waits_svg.as_bytes())?;
    Ok(())
}
