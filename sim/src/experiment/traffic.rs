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
//!
//! [traffic.spike]
//! start = "2m"
//! base_users = 300
//! peak_users = 80_000
//! ramp = "50s"
//! hold = "20m"
//! decay = "5m"
//! ```

use cutover_models::traffic::{Demand, Diurnal, FlashSpike};
use cutover_models::{SimDuration, SimTime};
use serde::Deserialize;

use crate::estate::network::relative_to;
use crate::scenario::units::{Duration, Rate};
use crate::scenario::{InputError, Source};

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

/// Validates `[traffic]`.
pub(crate) fn validate(source: &Source, tr: &RawTraffic) -> Result<Demand, InputError> {
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
            crate::scenario::trace::load(&relative_to(source, file)).map_err(|e| match e {
                InputError::Read { path, reason } => source.field_error(
                    "traffic.trace",
                    format!("cannot read `{}`: {reason}", path.display()),
                ),
                other => other,
            })?,
        ),
    };
    if diurnal.is_none() && tr.spike.is_none() && trace.is_none() {
        return Err(source.field_error(
            "traffic",
            "no demand; allowed: base_rate, a [traffic.spike] and/or a trace",
        ));
    }
    Ok(Demand {
        diurnal,
        spikes,
        think_time,
        trace,
    })
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
