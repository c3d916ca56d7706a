//! Scenario files: TOML read in two stages.
//!
//! Stage one deserialises the text into raw structs (`deny_unknown_fields`,
//! quantities with units, see [`units`]); stage two validates the raw values
//! into a [`Scenario`] whose values are possible, so that a run never starts
//! on an impossible input. Every error names the file, line, column and
//! field, and says what is allowed.

pub mod cost;
pub mod cur;
pub mod fleet;
pub mod kind;
pub mod limits;
pub mod measured;
pub mod prometheus;
pub mod replay;
pub mod risk;
pub mod source;
pub mod sweep;
pub mod trace;
pub mod units;
pub mod weights;

use std::path::Path;

use cutover_models::queueing::{ErlangC, QueueParamError};
use cutover_models::SimDuration;
use serde::Deserialize;

pub use source::{FieldError, InputError, Source};
use units::{Duration, Rate};

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    scenario: RawMeta,
    mmc: Option<RawMmc>,
    output: Option<RawOutput>,
    sweep: Option<sweep::RawSweep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    name: String,
    description: Option<String>,
    seed: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMmc {
    servers: i64,
    arrival_rate: Rate,
    service_rate: Rate,
    customers: i64,
    confidence_batches: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    timeline_interval: Option<Duration>,
}

/// A validated scenario, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// A short name for reports.
    pub name: String,
    /// What the scenario shows.
    pub description: Option<String>,
    /// The seed used when the command line gives none.
    pub seed: u64,
    /// What to simulate.
    pub model: ModelSpec,
    /// Interval of the rows of `timeline.csv`.
    pub timeline_interval: SimDuration,
    /// Parameters to vary for `cutover sweep`, if the file names any.
    pub sweep: Option<sweep::SweepSpec>,
}

/// The model a scenario runs.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelSpec {
    /// An M/M/c queue.
    Mmc(MmcSpec),
}

/// An M/M/c queue run until a number of customers have departed.
#[derive(Debug, Clone, PartialEq)]
pub struct MmcSpec {
    /// Servers c.
    pub servers: u32,
    /// Poisson arrival rate lambda, per second.
    pub arrival_rate_per_s: f64,
    /// Exponential service rate mu of one server, per second.
    pub service_rate_per_s: f64,
    /// Run until this many customers have departed.
    pub customers: u64,
    /// Batches for the batch-means confidence intervals.
    pub confidence_batches: u32,
}

/// The model sections a scenario may hold.
const MODEL_SECTIONS: &str =
    "[mmc] (estates and experiments are files of their own: see `cutover run`)";

/// Default seed when neither the file nor the command line gives one.
pub const DEFAULT_SEED: u64 = 1;
/// Default timeline row: one minute.
pub const DEFAULT_TIMELINE_INTERVAL: SimDuration = SimDuration::from_secs(60);
/// Default number of batches: 20 batches keep t(0.975, 19) = 2.09 near the
/// normal 1.96 while leaving each batch long (Law, *Simulation Modeling and
/// Analysis*, 5th ed., section 9.5.3, recommends 10 to 30).
pub const DEFAULT_CONFIDENCE_BATCHES: u32 = 20;
/// The largest number of customers a run accepts (10^10: about 10 minutes
/// of simulation at the engine's measured speed).
pub const MAX_CUSTOMERS: i64 = 10_000_000_000;
/// The most servers an M/M/c queue may have: 10^6. The queue keeps a slot
/// per server (16 bytes: 16 MB here, 16 GB at 10^9).
pub const MAX_SERVERS: i64 = 1_000_000;
/// The highest arrival or service rate: 10^9/s, one per nanosecond, the
/// engine's time resolution; faster, every gap rounds to zero.
pub const MAX_RATE_PER_S: f64 = 1e9;

impl Scenario {
    /// Reads and validates the scenario file at `path`.
    pub fn load(path: &Path) -> Result<Scenario, InputError> {
        Self::from_source(&Source::read(path)?)
    }

    /// Validates a scenario already read into `source`.
    pub fn from_source(source: &Source) -> Result<Scenario, InputError> {
        let raw: RawScenario = source.parse()?;
        let seed = raw.scenario.seed.unwrap_or(DEFAULT_SEED);
        let model = match raw.mmc {
            Some(mmc) => ModelSpec::Mmc(validate_mmc(source, &mmc)?),
            None => {
                return Err(source.field_error(
                    "",
                    format!("the scenario has no model section; allowed: {MODEL_SECTIONS}"),
                ))
            }
        };
        let timeline_interval = raw
            .output
            .and_then(|o| o.timeline_interval)
            .map(|d| d.0)
            .unwrap_or(DEFAULT_TIMELINE_INTERVAL);
        if timeline_interval == SimDuration::ZERO {
            return Err(source.field_error(
                "output.timeline_interval",
                "must be longer than zero, e.g. \"60s\"",
            ));
        }
        check_work(source, &model, timeline_interval)?;
        if raw.scenario.name.trim().is_empty() {
            return Err(source.field_error("scenario.name", "must not be empty"));
        }
        limits::check_name(source, "scenario.name", &raw.scenario.name)?;
        let sweep = raw.sweep.map(|s| sweep::validate(source, &s)).transpose()?;
        Ok(Scenario {
            name: raw.scenario.name,
            description: raw.scenario.description,
            seed,
            model,
            timeline_interval,
            sweep,
        })
    }
}

/// Refuses a model whose run would exhaust memory or take hours (see
/// [`limits`]): timeline rows, fixed steps and expected events.
fn check_work(source: &Source, model: &ModelSpec, interval: SimDuration) -> Result<(), InputError> {
    const TIMELINE: &str = "output.timeline_interval";
    match model {
        ModelSpec::Mmc(m) => {
            let span_s = m.customers as f64 / m.arrival_rate_per_s;
            let rows = span_s / interval.as_secs_f64();
            if rows > limits::MAX_ROWS {
                return Err(source.field_error(
                    "mmc.arrival_rate",
                    format!(
                        "{} customers at {}/s span about {span_s:.3e} s of simulated time, \
                         {:.1e} rows of timeline.csv at one per {interval}; allowed: at most \
                         {:.0e} rows: raise the arrival rate, lower customers or lengthen {TIMELINE}",
                        m.customers,
                        m.arrival_rate_per_s,
                        rows,
                        limits::MAX_ROWS
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn validate_mmc(source: &Source, raw: &RawMmc) -> Result<MmcSpec, InputError> {
    let servers = u32::try_from(raw.servers)
        .ok()
        .filter(|&s| (1..=MAX_SERVERS).contains(&i64::from(s)))
        .ok_or_else(|| {
            source.field_error(
                "mmc.servers",
                format!(
                    "{} servers; allowed: a whole number from 1 to {MAX_SERVERS} \
                     (the queue keeps a slot per server)",
                    raw.servers
                ),
            )
        })?;
    for (field, rate) in [
        ("mmc.arrival_rate", raw.arrival_rate.0),
        ("mmc.service_rate", raw.service_rate.0),
    ] {
        if rate > MAX_RATE_PER_S {
            return Err(source.field_error(
                field,
                format!(
                    "{rate:e}/s; allowed: at most {MAX_RATE_PER_S:e}/s, one per nanosecond \
                     (the engine's time resolution)"
                ),
            ));
        }
    }
    if !(1..=MAX_CUSTOMERS).contains(&raw.customers) {
        return Err(source.field_error(
            "mmc.customers",
            format!(
                "{} customers; allowed: a whole number from 1 to {MAX_CUSTOMERS}",
                raw.customers
            ),
        ));
    }
    let customers = raw.customers as u64;
    let batches = raw
        .confidence_batches
        .unwrap_or(i64::from(DEFAULT_CONFIDENCE_BATCHES));
    if !(2..=1000).contains(&batches) || batches > raw.customers {
        return Err(source.field_error(
            "mmc.confidence_batches",
            format!("{batches} batches; allowed: 2 to 1000, and no more than the customers"),
        ));
    }
    match ErlangC::new(servers, raw.arrival_rate.0, raw.service_rate.0) {
        Ok(_) => {}
        Err(QueueParamError::Unstable { utilisation }) => {
            return Err(source.field_error(
                "mmc.arrival_rate",
                format!(
                    "{}/s against {servers} servers at {}/s each is utilisation {utilisation:.3}, \
                     so the queue grows without bound; allowed: arrival_rate below servers x service_rate",
                    raw.arrival_rate.0, raw.service_rate.0
                ),
            ))
        }
        Err(other) => return Err(source.field_error("mmc", other.to_string())),
    }
    Ok(MmcSpec {
        servers,
        arrival_rate_per_s: raw.arrival_rate.0,
        service_rate_per_s: raw.service_rate.0,
        customers,
        confidence_batches: batches as u32,
    })
}
