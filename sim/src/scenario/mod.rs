//! Scenario files: TOML read in two stages.
//!
//! Stage one deserialises the text into raw structs (`deny_unknown_fields`,
//! quantities with units, see [`units`]); stage two validates the raw values
//! into a [`Scenario`] whose values are possible, so that a run never starts
//! on an impossible input. Every error names the file, line, column and
//! field, and says what is allowed.

pub mod compute;
pub mod cost;
pub mod network;
pub mod plan;
pub mod source;
pub mod sweep;
pub mod trace;
pub mod units;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

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
    compute: Option<compute::RawCompute>,
    network: Option<network::RawNetwork>,
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
    /// One region's compute under a traffic spike.
    Compute(Box<compute::ComputeSpec>),
    /// Anycast sites behind BGP: catchments, convergence, failures.
    Network(Box<network::NetworkSpec>),
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

/// The model sections a scenario may hold, one at a time.
const MODEL_SECTIONS: &str = "[mmc], [compute], [network]";

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

thread_local! {
    /// The scenario files being read on this thread, outermost first.
    static LOADING: RefCell<Vec<PathBuf>> = const { RefCell::new(Vec::new()) };
}

/// Marks a file as being read until dropped (also when a loader panics).
struct Loading;

impl Drop for Loading {
    fn drop(&mut self) {
        LOADING.with(|l| l.borrow_mut().pop());
    }
}

impl Scenario {
    /// Reads and validates the scenario file at `path`. A file that a
    /// scenario it names leads back to (a compute `catchment` naming the
    /// file itself, or a cycle of them) is refused instead of read for ever.
    pub fn load(path: &Path) -> Result<Scenario, InputError> {
        let source = Source::read(path)?;
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if LOADING.with(|l| l.borrow().contains(&key)) {
            return Err(source.field_error(
                "compute.catchment",
                "leads back to this file, which is being read already; \
                 allowed: a network scenario, which names no catchment",
            ));
        }
        LOADING.with(|l| l.borrow_mut().push(key));
        let _loading = Loading;
        Self::from_source(&source)
    }

    /// Validates a scenario already read into `source`.
    pub fn from_source(source: &Source) -> Result<Scenario, InputError> {
        let raw: RawScenario = source.parse()?;
        let seed = raw.scenario.seed.unwrap_or(DEFAULT_SEED);
        let named: Vec<&str> = [
            ("mmc", raw.mmc.is_some()),
            ("compute", raw.compute.is_some()),
            ("network", raw.network.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect();
        if named.len() > 1 {
            return Err(source.field_error(
                named[1],
                format!(
                    "a scenario runs one model and this one names [{}]; allowed: one of {MODEL_SECTIONS}",
                    named.join("] and [")
                ),
            ));
        }
        let model = if let Some(mmc) = raw.mmc {
            ModelSpec::Mmc(validate_mmc(source, &mmc)?)
        } else if let Some(c) = raw.compute {
            ModelSpec::Compute(Box::new(compute::validate(source, &c)?))
        } else if let Some(net) = raw.network {
            ModelSpec::Network(Box::new(network::validate(source, &net, seed)?))
        } else {
            return Err(source.field_error(
                "",
                format!("the scenario has no model section; allowed: {MODEL_SECTIONS}"),
            ));
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
        if raw.scenario.name.trim().is_empty() {
            return Err(source.field_error("scenario.name", "must not be empty"));
        }
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

fn validate_mmc(source: &Source, raw: &RawMmc) -> Result<MmcSpec, InputError> {
    let servers = u32::try_from(raw.servers)
        .ok()
        .filter(|&s| s >= 1)
        .ok_or_else(|| {
            source.field_error(
                "mmc.servers",
                format!(
                    "{} servers; allowed: a whole number from 1 to {}",
                    raw.servers,
                    u32::MAX
                ),
            )
        })?;
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
