//! Recorded traffic replayed per population: the series a traffic file
//! holds (a Prometheus range query, [`super::prometheus`], or a CSV,
//! [`super::trace`]) turned into one [`Trace`] per population, with what
//! was done to them reported.
//!
//! Time zero is the earliest sample of the file when its times are
//! absolute (Unix seconds), else the times are read as durations since the
//! start. The sampling step is the shortest interval between two samples
//! of a series (a range query's `step`). Between two samples the rate runs
//! in a straight line (`interpolation = "linear"`) or holds (`"step"`); the
//! world then takes each tick's requests at the tick's midpoint, which is
//! exact within a straight segment. An interval longer than `max_gap_steps`
//! steps is a gap: it is filled as asked (`"interpolate"` as any other
//! interval, `"zero"`: no requests from one step after the last sample to
//! one step before the next, `"hold"`: the last rate until one step before
//! the next) and reported. A counter's rate is the mean over each interval
//! (so its requests are kept exactly, gaps included), a decrease read as a
//! reset to zero as Prometheus's `rate()` reads it; each reset is reported.

use cutover_models::traffic::{
    counter_rates, gaps, sampling_step, Interpolation, Trace, TracePoint,
};
use cutover_models::SimTime;
use serde::Serialize;

/// One population's samples as read: `(seconds, value)` in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSeries {
    /// The population the series belongs to, as the file names it.
    pub population: String,
    /// `(seconds, value)`, strictly increasing in time.
    pub samples: Vec<(f64, f64)>,
}

/// What a series' values are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeriesKind {
    /// Requests per second.
    Rate,
    /// Requests counted since the process started (a Prometheus counter).
    Counter,
}

/// How a gap is filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapFill {
    /// As any other interval (a straight line, or the last rate held).
    Interpolate,
    /// No requests during the gap.
    Zero,
    /// The last rate until one step before the next sample.
    Hold,
}

impl GapFill {
    fn name(self) -> &'static str {
        match self {
            GapFill::Interpolate => "interpolate",
            GapFill::Zero => "zero",
            GapFill::Hold => "hold",
        }
    }
}

/// How a file's series are replayed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReplayOptions {
    /// What the values are.
    pub kind: SeriesKind,
    /// Between two samples of a rate.
    pub interpolation: Interpolation,
    /// An interval longer than this many steps is a gap.
    pub max_gap_steps: f64,
    /// How a gap of a rate series is filled.
    pub fill: GapFill,
}

/// A gap in a series, as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapNote {
    /// The population.
    pub population: String,
    /// The last sample before the gap, seconds since time zero.
    pub from_s: f64,
    /// The first sample after it.
    pub to_s: f64,
    /// Samples missing at the file's step.
    pub missing_samples: u64,
    /// How it was filled.
    pub filled: String,
}

/// A counter reset, as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResetNote {
    /// The population.
    pub population: String,
    /// The first sample after the reset, seconds since time zero.
    pub at_s: f64,
    /// The counter before.
    pub before: f64,
    /// The counter after (counted from zero).
    pub after: f64,
}

/// What was read and done to it, for the printed summary and
/// `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayReport {
    /// The file as the experiment names it.
    pub file: String,
    /// "prometheus" or "csv".
    pub format: &'static str,
    /// "rate" or "counter".
    pub values: &'static str,
    /// "linear" or "step" ("step" for a counter's mean rates).
    pub interpolation: &'static str,
    /// Series read (one per population).
    pub series: usize,
    /// Samples read, all series.
    pub samples: usize,
    /// Time zero as a Unix time, when the file's times are absolute.
    pub start_unix_s: Option<f64>,
    /// The sampling step, seconds.
    pub step_s: Option<f64>,
    /// Gaps longer than `max_gap_steps` steps.
    pub gaps: Vec<GapNote>,
    /// Counter resets.
    pub counter_resets: Vec<ResetNote>,
    /// The estate's populations the file has no series for (they get no
    /// recorded demand).
    pub populations_without_series: Vec<String>,
}

impl ReplayReport {
    /// The report in a few lines for the terminal.
    pub fn text(&self) -> String {
        let mut t = format!(
            "  traffic from {} ({}, {} series, {} samples, {}{}, {} between samples)\n",
            self.file,
            self.format,
            self.series,
            self.samples,
            self.values,
            self.step_s
                .map_or(String::new(), |s| format!(" every {s} s")),
            self.interpolation
        );
        for g in &self.gaps {
            t.push_str(&format!(
                "    gap: {} {} s to {} s ({} samples missing), filled: {}\n",
                g.population, g.from_s, g.to_s, g.missing_samples, g.filled
            ));
        }
        for r in &self.counter_resets {
            t.push_str(&format!(
                "    counter reset: {} at {} s ({} -> {}), read as a restart from zero\n",
                r.population, r.at_s, r.before, r.after
            ));
        }
        if !self.populations_without_series.is_empty() {
            t.push_str(&format!(
                "    no series (no recorded demand): {}\n",
                self.populations_without_series.join(", ")
            ));
        }
        t
    }
}

/// The series as traces from time zero, in file order, and the report
/// (its `file`, `format` and `populations_without_series` left for the
/// caller). `absolute`: the times are Unix seconds (time zero is the
/// earliest sample), else seconds since the start.
pub fn resample(
    series: &[RawSeries],
    absolute: bool,
    options: &ReplayOptions,
) -> Result<(Vec<(String, Trace)>, ReplayReport), String> {
    let zero = if absolute {
        series
            .iter()
            .filter_map(|s| s.samples.first().map(|p| p.0))
            .reduce(f64::min)
            .unwrap_or(0.0)
    } else {
        0.0
    };
    let samples: Vec<&[(f64, f64)]> = series.iter().map(|s| s.samples.as_slice()).collect();
    let step = sampling_step(&samples);
    let mut report = ReplayReport {
        file: String::new(),
        format: "",
        values: match options.kind {
            SeriesKind::Rate => "rate",
            SeriesKind::Counter => "counter",
        },
        interpolation: match (options.kind, options.interpolation) {
            (SeriesKind::Rate, Interpolation::Linear) => "linear",
            _ => "step",
        },
        series: series.len(),
        samples: samples.iter().map(|s| s.len()).sum(),
        start_unix_s: absolute.then_some(zero),
        step_s: step,
        gaps: Vec::new(),
        counter_resets: Vec::new(),
        populations_without_series: Vec::new(),
    };
    let mut traces = Vec::with_capacity(series.len());
    for s in series {
        let shifted: Vec<(f64, f64)> = s.samples.iter().map(|&(t, v)| (t - zero, v)).collect();
        let points = match options.kind {
            SeriesKind::Rate => rate_points(&s.population, &shifted, step, options, &mut report),
            SeriesKind::Counter => {
                counter_points(&s.population, &shifted, step, options, &mut report)
            }
        };
        let interpolation = match options.kind {
            SeriesKind::Rate => options.interpolation,
            SeriesKind::Counter => Interpolation::Step,
        };
        let trace = Trace::new(points)
            .map_err(|e| format!("series `{}`: {e}", s.population))?
            .with_interpolation(interpolation);
        traces.push((s.population.clone(), trace));
    }
    Ok((traces, report))
}

fn at(seconds: f64) -> SimTime {
    SimTime::from_nanos((seconds.max(0.0) * 1e9).round() as u64)
}

fn point(seconds: f64, rate_per_s: f64) -> TracePoint {
    TracePoint {
        at: at(seconds),
        rate_per_s,
    }
}

/// Notes each gap of `samples` in the report.
fn note_gaps(
    population: &str,
    samples: &[(f64, f64)],
    step: Option<f64>,
    options: &ReplayOptions,
    filled: &str,
    report: &mut ReplayReport,
) -> Vec<usize> {
    let Some(step) = step else {
        return Vec::new();
    };
    let found = gaps(samples, step, options.max_gap_steps);
    for &i in &found {
        let (from, to) = (samples[i].0, samples[i + 1].0);
        report.gaps.push(GapNote {
            population: population.to_string(),
            from_s: from,
            to_s: to,
            missing_samples: ((to - from) / step).round().max(1.0) as u64 - 1,
            filled: filled.to_string(),
        });
    }
    found
}

/// A rate series' points, its gaps filled as asked.
fn rate_points(
    population: &str,
    samples: &[(f64, f64)],
    step: Option<f64>,
    options: &ReplayOptions,
    report: &mut ReplayReport,
) -> Vec<TracePoint> {
    let found = note_gaps(
        population,
        samples,
        step,
        options,
        options.fill.name(),
        report,
    );
    let linear = options.interpolation == Interpolation::Linear;
    let step = step.unwrap_or(0.0);
    let mut points = Vec::with_capacity(samples.len() + 2 * found.len());
    for (i, &(t, v)) in samples.iter().enumerate() {
        points.push(point(t, v));
        if found.binary_search(&i).is_err() {
            continue;
        }
        let next = samples[i + 1].0;
        match options.fill {
            GapFill::Interpolate => {}
            GapFill::Zero => {
                points.push(point(t + step, 0.0));
                if linear && next - step > t + step {
                    points.push(point(next - step, 0.0));
                }
            }
            GapFill::Hold => {
                if linear {
                    points.push(point(next - step, v));
                }
            }
        }
    }
    points
}

/// A counter's mean rate over each interval, its resets noted.
fn counter_points(
    population: &str,
    samples: &[(f64, f64)],
    step: Option<f64>,
    options: &ReplayOptions,
    report: &mut ReplayReport,
) -> Vec<TracePoint> {
    note_gaps(
        population,
        samples,
        step,
        options,
        "the increase spread evenly over the gap (a counter keeps its requests)",
        report,
    );
    let (rates, resets) = counter_rates(samples);
    for i in resets {
        report.counter_resets.push(ResetNote {
            population: population.to_string(),
            at_s: samples[i].0,
            before: samples[i - 1].1,
            after: samples[i].1,
        });
    }
    rates.into_iter().map(|(t, r)| point(t, r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cutover_models::SimDuration;

    fn secs(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    fn options(kind: SeriesKind, fill: GapFill) -> ReplayOptions {
        ReplayOptions {
            kind,
            interpolation: Interpolation::Linear,
            max_gap_steps: 1.0,
            fill,
        }
    }

    fn series(samples: &[(f64, f64)]) -> Vec<RawSeries> {
        vec![RawSeries {
            population: "nyc".into(),
            samples: samples.to_vec(),
        }]
    }

    #[test]
    fn absolute_times_start_at_the_earliest_sample_and_gaps_are_filled_as_asked() {
        let s = series(&[
            (1000.0, 10.0),
            (1060.0, 20.0),
            (1300.0, 40.0),
            (1360.0, 40.0),
        ]);
        let (traces, report) =
            resample(&s, true, &options(SeriesKind::Rate, GapFill::Interpolate)).unwrap();
        assert_eq!(report.start_unix_s, Some(1000.0));
        assert_eq!(report.step_s, Some(60.0));
        assert_eq!(report.gaps.len(), 1);
        assert_eq!(report.gaps[0].missing_samples, 3);
        assert_eq!(traces[0].1.rate_at(secs(30)), 15.0);
        assert_eq!(traces[0].1.rate_at(secs(180)), 30.0);
        let (zero, _) = resample(&s, true, &options(SeriesKind::Rate, GapFill::Zero)).unwrap();
        assert_eq!(zero[0].1.rate_at(secs(180)), 0.0);
        assert_eq!(zero[0].1.rate_at(secs(90)), 10.0);
        let (hold, _) = resample(&s, true, &options(SeriesKind::Rate, GapFill::Hold)).unwrap();
        assert_eq!(hold[0].1.rate_at(secs(180)), 20.0);
        assert_eq!(hold[0].1.rate_at(secs(270)), 30.0);
    }

    #[test]
    fn counters_keep_their_requests_across_resets_and_gaps() {
        let s = series(&[(0.0, 0.0), (60.0, 600.0), (180.0, 1800.0), (240.0, 300.0)]);
        let (traces, report) =
            resample(&s, false, &options(SeriesKind::Counter, GapFill::Zero)).unwrap();
        let tr = &traces[0].1;
        assert_eq!(report.counter_resets.len(), 1);
        assert_eq!(report.counter_resets[0].at_s, 240.0);
        assert_eq!(report.gaps.len(), 1);
        assert_eq!(report.interpolation, "step");
        assert_eq!(tr.rate_at(secs(30)), 10.0);
        assert_eq!(tr.rate_at(secs(100)), 10.0);
        assert_eq!(tr.rate_at(secs(200)), 5.0);
    }
}
