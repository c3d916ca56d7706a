//! An experiment's `[load_test]`: a ramp of traffic against one site or
//! the whole estate, step by step, each step's window judged by a gate;
//! the knee of a site is the highest step whose window stayed within the
//! limits (the capacity check run before a launch).
//!
//! ```toml
//! [load_test]
//! target = "ams1"           # a site: the load generator's requests go to it
//!                           # alone (the estate's other sites are left out
//!                           # and the file has no [traffic]); or "estate":
//!                           # the estate's own demand ([traffic]), scaled
//! from = "2000/s"           # a site: requests/s; the estate: a percent of
//! step = "1000/s"           # its demand, e.g. from = "100%", step = "25%"
//! max = "20000/s"           # the last step (optional: else as many steps as
//!                           # experiment.duration holds)
//! hold = "5m"               # each step's duration
//! warmup = "1m"             # left out of each step's window (default none)
//! p99 = "200ms"             # each site's p99 (at the site) must stay below
//! error_rate = "1%"         # and its failed share of requests
//! min_requests = 1000       # a site's window with fewer cannot pass
//!                           # (default 0; asked only of a targeted site)
//! stop = "first-failure"    # or "all-steps"
//! ```
//!
//! The run lasts the steps (`steps x hold`, at most
//! `experiment.duration`). The sites' autoscaling applies as the estate
//! says: a knee at the HPA's `max_replicas` is the site's capacity, one
//! below it may be the autoscaler's lag.

use cutover_models::plan::Gate;
use cutover_models::traffic::{Demand, Trace, TracePoint};
use cutover_models::{SimDuration, SimTime};
use serde::{Deserialize, Serialize};

use super::failure::{Failure, FailureKind, MAX_FACTOR};
use super::traffic::DEFAULT_THINK_TIME;
use crate::estate::Estate;
use crate::scenario::cost::parse_percent;
use crate::scenario::units::{parse_rate, Duration};
use crate::scenario::{InputError, Source};

/// `[load_test]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLoadTest {
    target: String,
    from: String,
    step: String,
    max: Option<String>,
    hold: Duration,
    warmup: Option<Duration>,
    p99: Duration,
    error_rate: String,
    min_requests: Option<i64>,
    stop: Option<String>,
}

/// What a load test ramps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One site (by tag), alone: the generator's requests reach only it.
    Site(String),
    /// The estate: its own demand, scaled.
    Estate,
}

/// What a step's level counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LevelUnit {
    /// The generator's requests per second.
    RequestsPerS,
    /// Percent of the experiment's own demand.
    Percent,
}

/// When the ramp ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stop {
    /// After the first step in which a judged site fails.
    FirstFailure,
    /// After every step.
    AllSteps,
}

/// A validated load test.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadTest {
    /// What it ramps.
    pub target: Target,
    /// Each step's level, in `unit`.
    pub levels: Vec<f64>,
    /// What a level counts.
    pub unit: LevelUnit,
    /// Each step's duration.
    pub hold: SimDuration,
    /// The start of each step left out of its window.
    pub warmup: SimDuration,
    /// The limits each site's window must stay within (`max_p99_ms`,
    /// `max_error_rate`, `min_requests`; availability is not judged).
    pub gate: Gate,
    /// When the ramp ends.
    pub stop: Stop,
}

impl LoadTest {
    /// Start of step `n` from the start of the run.
    pub fn step_start(&self, n: usize) -> SimDuration {
        SimDuration::from_nanos(self.hold.as_nanos() * n as u64)
    }
}

/// Most steps a load test may take.
pub const MAX_STEPS: usize = 1000;

/// The site a load test targets, if it targets one: `None` for
/// "estate"; an error for a tag the estate does not have.
pub(crate) fn target_site(
    source: &Source,
    raw: &RawLoadTest,
    estate: &Estate,
) -> Result<Option<String>, InputError> {
    if raw.target == "estate" {
        return Ok(None);
    }
    if estate.site_index(&raw.target).is_none() {
        return Err(source.field_error(
            "load_test.target",
            format!(
                "unknown target `{}`; allowed: \"estate\" or a site: {}",
                raw.target,
                estate.site_tags()
            ),
        ));
    }
    Ok(Some(raw.target.clone()))
}

/// Leaves only site `tag` in `estate`: the generator's requests reach it
/// alone, whatever anycast would have chosen.
pub(crate) fn keep_only(estate: &mut Estate, tag: &str) {
    estate.sites.retain(|s| s.network.tag == tag);
}

/// A level as written: a rate ("2000/s") or a percent ("125%").
fn level(source: &Source, field: &str, text: &str, unit: LevelUnit) -> Result<f64, InputError> {
    let field = format!("load_test.{field}");
    match unit {
        LevelUnit::RequestsPerS => parse_rate(text).map_err(|m| {
            source.field_error(
                &field,
                format!("{m} (a load test on a site ramps requests per second)"),
            )
        }),
        LevelUnit::Percent => {
            let v = parse_percent(text).map_err(|m| {
                source.field_error(
                    &field,
                    format!("{m} (a load test on the estate ramps a percent of its demand)"),
                )
            })?;
            if !(v > 0.0 && v <= MAX_FACTOR) {
                return Err(source.field_error(
                    &field,
                    format!(
                        "`{text}`; allowed: above 0 % and at most {} %",
                        MAX_FACTOR * 100.0
                    ),
                ));
            }
            Ok(v * 100.0)
        }
    }
}

/// Validates `[load_test]` for a run of `duration` in ticks of `tick`;
/// `site`: its target as [`target_site`] found it.
pub(crate) fn validate(
    source: &Source,
    raw: &RawLoadTest,
    site: Option<String>,
    duration: SimDuration,
    tick: SimDuration,
) -> Result<LoadTest, InputError> {
    let unit = if site.is_some() {
        LevelUnit::RequestsPerS
    } else {
        LevelUnit::Percent
    };
    let (hold, warmup) = hold_and_warmup(source, raw, tick)?;
    let levels = levels(source, raw, unit, hold, duration)?;
    let p99 = raw.p99.0;
    if p99 == SimDuration::ZERO {
        return Err(source.field_error("load_test.p99", "must be longer than zero, e.g. \"200ms\""));
    }
    let error_rate = parse_percent(&raw.error_rate)
        .map_err(|m| source.field_error("load_test.error_rate", m))?;
    if !(error_rate > 0.0 && error_rate <= 1.0) {
        return Err(source.field_error(
            "load_test.error_rate",
            format!("`{}`; allowed: above 0 % and at most 100 %", raw.error_rate),
        ));
    }
    let min_requests = raw.min_requests.unwrap_or(0);
    if min_requests < 0 {
        return Err(source.field_error(
            "load_test.min_requests",
            format!("{min_requests}; allowed: 0 or more"),
        ));
    }
    let stop = match raw.stop.as_deref() {
        None | Some("first-failure") => Stop::FirstFailure,
        Some("all-steps") => Stop::AllSteps,
        Some(other) => {
            return Err(source.field_error(
                "load_test.stop",
                format!("`{other}`; allowed: \"first-failure\", \"all-steps\""),
            ))
        }
    };
    Ok(LoadTest {
        target: site.map_or(Target::Estate, Target::Site),
        levels,
        unit,
        hold,
        warmup,
        gate: Gate {
            max_error_rate: error_rate,
            max_p99_ms: p99.as_secs_f64() * 1e3,
            min_requests: min_requests as u64,
            min_availability: 0.0,
        },
        stop,
    })
}

/// Each step's duration and the part of it left out of its window: a
/// whole number of ticks each, the window at least one tick.
fn hold_and_warmup(
    source: &Source,
    raw: &RawLoadTest,
    tick: SimDuration,
) -> Result<(SimDuration, SimDuration), InputError> {
    let hold = raw.hold.0;
    let warmup = raw.warmup.map_or(SimDuration::ZERO, |d| d.0);
    let whole = |d: SimDuration| d.as_nanos().is_multiple_of(tick.as_nanos());
    if hold < tick || !whole(hold) {
        return Err(source.field_error(
            "load_test.hold",
            format!("{hold}; allowed: a whole number of ticks (experiment.tick {tick})"),
        ));
    }
    if !whole(warmup) || warmup.as_nanos() + tick.as_nanos() > hold.as_nanos() {
        return Err(source.field_error(
            "load_test.warmup",
            format!(
                "{warmup}; allowed: a whole number of ticks (experiment.tick {tick}), at least \
                 one tick shorter than hold ({hold})"
            ),
        ));
    }
    Ok((hold, warmup))
}

/// The steps' levels: from `from` by `step` up to `max`, or as many as the
/// duration holds.
fn levels(
    source: &Source,
    raw: &RawLoadTest,
    unit: LevelUnit,
    hold: SimDuration,
    duration: SimDuration,
) -> Result<Vec<f64>, InputError> {
    let from = level(source, "from", &raw.from, unit)?;
    let step = level(source, "step", &raw.step, unit)?;
    let fit = (duration.as_nanos() / hold.as_nanos()) as usize;
    let count = match &raw.max {
        None => fit,
        Some(text) => {
            let max = level(source, "max", text, unit)?;
            if max < from {
                return Err(source.field_error(
                    "load_test.max",
                    format!(
                        "`{text}` is below from (`{}`); allowed: at least from",
                        raw.from
                    ),
                ));
            }
            // A small allowance so that 1000 + 9 x 100 reaches 1900.
            let count = ((max - from) / step * (1.0 + 1e-12)).floor() as usize + 1;
            if count > fit {
                return Err(source.field_error(
                    "load_test.max",
                    format!(
                        "{count} steps of {hold} last longer than experiment.duration \
                         ({duration}); allowed: at most {fit} steps, or a longer duration"
                    ),
                ));
            }
            count
        }
    };
    if count == 0 || count > MAX_STEPS {
        return Err(source.field_error(
            "load_test.hold",
            format!(
                "{count} steps of {hold} in experiment.duration ({duration}); allowed: 1 to \
                 {MAX_STEPS} steps"
            ),
        ));
    }
    let levels: Vec<f64> = (0..count).map(|n| from + step * n as f64).collect();
    if unit == LevelUnit::Percent && levels[count - 1] > MAX_FACTOR * 100.0 {
        return Err(source.field_error(
            "load_test.step",
            format!(
                "the last step reaches {} %; allowed: at most {} %",
                levels[count - 1],
                MAX_FACTOR * 100.0
            ),
        ));
    }
    Ok(levels)
}

/// The generator's demand on a site: each step's rate for its hold.
pub fn generator_demand(lt: &LoadTest) -> Demand {
    let points = lt
        .levels
        .iter()
        .enumerate()
        .map(|(n, &rate)| TracePoint {
            at: SimTime::ZERO + lt.step_start(n),
            rate_per_s: rate,
        })
        .collect();
    Demand {
        diurnal: None,
        spikes: Vec::new(),
        think_time: DEFAULT_THINK_TIME,
        trace: Some(Trace::new(points).expect("levels rise from above zero, steps in time order")),
        by_population: Vec::new(),
    }
}

/// The estate's demand scaled step by step: each step a demand multiplier
/// (a `spike` of every population) for its hold.
pub fn scaling(lt: &LoadTest) -> Vec<Failure> {
    lt.levels
        .iter()
        .enumerate()
        .map(|(n, &percent)| Failure {
            site: None,
            at: lt.step_start(n),
            duration: Some(lt.hold),
            kind: FailureKind::Spike {
                factor: percent / 100.0,
                populations: Vec::new(),
            },
        })
        .collect()
}
