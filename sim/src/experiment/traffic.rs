//! An experiment's `[traffic]`: the demand of all users together, split
//! over the populations by their weights.
//!
//! ```toml
//! [traffic]
//! think_time = "10s"            # spike users: one request per think time
//! base_rate = "800/s"           # a diurnal base load (optional)
//! diurnal_amplitude = 0.3
//! diurnal_peak = "20h"
//! trace = "traces/spike.csv"    # a recorded rate added on top (optional)
//! weights = "weights.csv"       # the populations' weights (users per city), see
//!                               # `scenario::weights`; replaces the estate's
//!
//! [traffic.replay]              # each population's own recorded rate (optional)
//! file = "requests.json"        # Prometheus /api/v1/query_range JSON, or a CSV
//! format = "prometheus"         # "prometheus" | "csv"; default by the extension
//! label = "city"                # Prometheus: the label naming the population
//! series = "rate"               # Prometheus: "rate" (requests/s) | "counter"
//! interpolation = "linear"      # between samples: "linear" | "step"
//! max_gap_steps = 1             # an interval longer than this many steps is a gap
//! gaps = "interpolate"          # a gap is filled: "interpolate" | "zero" | "hold"
//!
//! [traffic.spike]
//! start = "2m"
//! base_users = 300
//! peak_users = 80_000
//! ramp = "50s"
//! hold = "20m"
//! decay = "5m"
//! ```

use cutover_models::traffic::{Demand, Diurnal, FlashSpike, Interpolation, Trace};
use cutover_models::{SimDuration, SimTime};
use serde::Deserialize;

use crate::estate::network::{population_names, relative_to, Population};
use crate::estate::Estate;
use crate::scenario::replay::{
    resample, GapFill, RawSeries, ReplayOptions, ReplayReport, SeriesKind,
};
use crate::scenario::source::read_text;
use crate::scenario::units::{Duration, Rate};
use crate::scenario::{prometheus, trace, InputError, Source};

/// Default think time: 10 s, so that the story's 80,000 users make the
/// ~8,000 requests/s of the reference spike.
pub const DEFAULT_THINK_TIME: SimDuration = SimDuration::from_secs(10);

/// `[traffic]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTraffic {
    think_time: Option<Duration>,
    base_rate: Option<Rate>,
    diurnal_amplitude: Option<f64>,
    diurnal_peak: Option<Duration>,
    spike: Option<RawSpike>,
    trace: Option<String>,
    weights: Option<String>,
    replay: Option<RawReplay>,
}

/// `[traffic.replay]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReplay {
    file: String,
    format: Option<String>,
    label: Option<String>,
    series: Option<String>,
    interpolation: Option<String>,
    max_gap_steps: Option<f64>,
    gaps: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpike {
    start: Duration,
    base_users: f64,
    peak_users: f64,
    ramp: Duration,
    hold: Duration,
    decay: Duration,
}

/// Validates `[traffic]` for the estate's `populations`: the demand, and
/// the report of a replayed file.
pub(crate) fn validate(
    source: &Source,
    tr: &RawTraffic,
    populations: &[Population],
) -> Result<(Demand, Option<ReplayReport>), InputError> {
    let think_time = tr.think_time.map_or(DEFAULT_THINK_TIME, |d| d.0);
    if think_time < SimDuration::from_millis(1) {
        return Err(source.field_error(
            "traffic.think_time",
            format!("{think_time}; allowed: at least \"1ms\""),
        ));
    }
    let amplitude = tr.diurnal_amplitude.unwrap_or(0.0);
    if !(0.0..=1.0).contains(&amplitude) {
        return Err(source.field_error(
            "traffic.diurnal_amplitude",
            format!("{amplitude}; allowed: 0 to 1"),
        ));
    }
    let diurnal = tr.base_rate.map(|r| Diurnal {
        mean_rate_per_s: r.0,
        amplitude,
        peak_at: tr.diurnal_peak.map_or(SimDuration::ZERO, |d| d.0),
    });
    let spikes = tr
        .spike
        .as_ref()
        .map(|s| spike(source, s))
        .transpose()?
        .into_iter()
        .collect();
    let trace = match &tr.trace {
        None => None,
        Some(file) => Some(
            trace::load(&relative_to(source, file))
                .map_err(|e| unreadable(source, "traffic.trace", e))?,
        ),
    };
    let (by_population, report) = match &tr.replay {
        None => (Vec::new(), None),
        Some(r) => {
            let (traces, report) = replay(source, r, populations)?;
            (traces, Some(report))
        }
    };
    if diurnal.is_none() && tr.spike.is_none() && trace.is_none() && report.is_none() {
        return Err(source.field_error(
            "traffic",
            "no demand; allowed: base_rate, a [traffic.spike], a trace and/or a [traffic.replay]",
        ));
    }
    let demand = Demand {
        diurnal,
        spikes,
        think_time,
        trace,
        by_population,
    };
    Ok((demand, report))
}

/// A file that cannot be read, as an error at the field that names it.
fn unreadable(source: &Source, field: &str, e: InputError) -> InputError {
    match e {
        InputError::Read { path, reason } => {
            source.field_error(field, format!("cannot read `{}`: {reason}", path.display()))
        }
        other => other,
    }
}

/// Replaces the estate's population weights with those of `[traffic]
/// weights`, if given.
pub(crate) fn apply_weights(
    source: &Source,
    tr: &RawTraffic,
    estate: &mut Estate,
) -> Result<(), InputError> {
    match &tr.weights {
        None => Ok(()),
        Some(file) => crate::estate::network::read_weights(
            source,
            "traffic.weights",
            file,
            &mut estate.populations,
        ),
    }
}

/// What a replay's `[traffic.replay]` fields say.
fn replay_options(source: &Source, r: &RawReplay) -> Result<ReplayOptions, InputError> {
    let pick = |field: &str, value: Option<&str>, default: &str, allowed: &[&str]| {
        let v = value.unwrap_or(default);
        if allowed.contains(&v) {
            Ok(v.to_string())
        } else {
            Err(source.field_error(
                &format!("traffic.replay.{field}"),
                format!("`{v}`; allowed: {}", quoted(allowed)),
            ))
        }
    };
    let kind = match pick("series", r.series.as_deref(), "rate", &["rate", "counter"])?.as_str() {
        "rate" => SeriesKind::Rate,
        _ => SeriesKind::Counter,
    };
    let interpolation = match pick(
        "interpolation",
        r.interpolation.as_deref(),
        "linear",
        &["linear", "step"],
    )?
    .as_str()
    {
        "linear" => Interpolation::Linear,
        _ => Interpolation::Step,
    };
    let fill = match pick(
        "gaps",
        r.gaps.as_deref(),
        "interpolate",
        &["interpolate", "zero", "hold"],
    )?
    .as_str()
    {
        "interpolate" => GapFill::Interpolate,
        "zero" => GapFill::Zero,
        _ => GapFill::Hold,
    };
    let max_gap_steps = r.max_gap_steps.unwrap_or(DEFAULT_MAX_GAP_STEPS);
    if !(max_gap_steps.is_finite() && (1.0..=1e6).contains(&max_gap_steps)) {
        return Err(source.field_error(
            "traffic.replay.max_gap_steps",
            format!("{max_gap_steps}; allowed: 1 to 1e6 steps"),
        ));
    }
    Ok(ReplayOptions {
        kind,
        interpolation,
        max_gap_steps,
        fill,
    })
}

fn quoted(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Default gap: one step (any missing sample of a range query is a gap).
pub const DEFAULT_MAX_GAP_STEPS: f64 = 1.0;

/// Reads `[traffic.replay]`'s file into one trace per population of the
/// estate (none for a population without a series).
fn replay(
    source: &Source,
    r: &RawReplay,
    populations: &[Population],
) -> Result<(Vec<Option<Trace>>, ReplayReport), InputError> {
    let options = replay_options(source, r)?;
    let path = relative_to(source, &r.file);
    let default_format = if r.file.ends_with(".json") {
        "prometheus"
    } else {
        "csv"
    };
    let format = r.format.as_deref().unwrap_or(default_format);
    let names = population_names(populations);
    let (series, absolute, format): (Vec<RawSeries>, bool, &'static str) = match format {
        "prometheus" => {
            let text =
                read_text(&path).map_err(|e| unreadable(source, "traffic.replay.file", e))?;
            let expect = prometheus::Expect {
                label: Some(r.label.as_deref().unwrap_or("city")),
                kind: Some(options.kind),
                populations: Some(&names),
            };
            (
                prometheus::parse(&path, &text, &expect)?,
                true,
                "prometheus",
            )
        }
        "csv" => {
            if r.label.is_some() {
                return Err(source.field_error(
                    "traffic.replay.label",
                    "a CSV names its populations in its `population` column; allowed: `label` \
                     for a Prometheus file only",
                ));
            }
            if options.kind == SeriesKind::Counter {
                return Err(source.field_error(
                    "traffic.replay.series",
                    "\"counter\" is read from Prometheus files; allowed for a CSV: \"rate\" (a CSV gives rates or counts per row)",
                ));
            }
            let text =
                read_text(&path).map_err(|e| unreadable(source, "traffic.replay.file", e))?;
            let (series, absolute) = trace::parse_series(&path, &text, &names)?;
            (series, absolute, "csv")
        }
        other => {
            return Err(source.field_error(
                "traffic.replay.format",
                format!("`{other}`; allowed: \"prometheus\", \"csv\""),
            ))
        }
    };
    let (traces, mut report) = resample(&series, absolute, &options)
        .map_err(|m| source.field_error("traffic.replay.file", m))?;
    report.file = r.file.clone();
    report.format = format;
    report.populations_without_series = names
        .iter()
        .filter(|n| !traces.iter().any(|(p, _)| &p == n))
        .cloned()
        .collect();
    Ok((split_by_population(&traces, populations), report))
}

/// Each estate population's share of its named series: a name held by
/// several populations (one per access ISP) is split by their weights.
fn split_by_population(
    traces: &[(String, Trace)],
    populations: &[Population],
) -> Vec<Option<Trace>> {
    populations
        .iter()
        .map(|p| {
            let (_, trace) = traces.iter().find(|(name, _)| name == &p.city)?;
            let group: Vec<&Population> = populations.iter().filter(|q| q.city == p.city).collect();
            let total: f64 = group.iter().map(|q| q.weight).sum();
            let share = if total > 0.0 {
                p.weight / total
            } else {
                1.0 / group.len() as f64
            };
            Some(if group.len() == 1 {
                trace.clone()
            } else {
                trace.scaled(share)
            })
        })
        .collect()
}

fn spike(source: &Source, s: &RawSpike) -> Result<FlashSpike, InputError> {
    for (name, v) in [("base_users", s.base_users), ("peak_users", s.peak_users)] {
        if !(v.is_finite() && (0.0..=1e9).contains(&v)) {
            return Err(source.field_error(
                &format!("traffic.spike.{name}"),
                format!("{v}; allowed: 0 to 1e9 users"),
            ));
        }
    }
    Ok(FlashSpike {
        start: SimTime::ZERO + s.start.0,
        base_users: s.base_users,
        peak_users: s.peak_users,
        ramp: s.ramp.0,
        hold: s.hold.0,
        decay: s.decay.0,
    })
}

/// The highest demand over `duration`, sampled at `samples` points (at
/// least every tick of a run, at most 100,000 points).
pub fn peak_rate(demand: &Demand, duration: SimDuration, tick: SimDuration) -> f64 {
    let samples = (duration.as_nanos() / tick.as_nanos().max(1)).clamp(1, 100_000);
    let step = duration.as_nanos() / samples;
    (0..=samples)
        .map(|i| demand.rate_at(SimTime::from_nanos(i * step)))
        .fold(0.0, f64::max)
}
