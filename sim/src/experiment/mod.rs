//! Experiments: a change to an estate, run through time. An experiment file
//! names its estate and states only what it changes or adds: sites added
//! (`[[sites]]`) or retired (`retire`), the traffic (`[traffic]`), the
//! failures (`[[failures]]`, and random hardware failures in
//! `[reliability]`), a ramp of load (`[load_test]`, see [`load_test`]), and any of the estate's `[deployment]`,
//! `[hpa]`, `[startup]`, `[nodes]`, `[overflow]`, `[detection]`, `[slo]` or
//! `[network.damping]`, which then replace the estate's section whole
//! (`[overflow]` with `enabled = false` turns the estate's overflow off) (a what-if: "with a CPU
//! limit of twice the request", "with BFD everywhere").
//!
//! ```toml
//! [experiment]
//! name = "Amsterdam crashes at the peak of the TV spike"
//! estate = "estate.toml"        # relative to this file
//! seed = 1
//! duration = "30m"
//! tick = "1s"                   # fluid step and control-loop clock
//! fidelity = "fluid"            # or "request": every request an event
//! retire = ["syd1"]             # sites of the estate this experiment removes
//! skip_repeated_days = true     # jump over days that repeat the day before
//!
//! [output]
//! timeline_interval = "15s"
//! ```

pub mod failure;
pub mod load_test;
pub mod reliability;
pub mod traffic;

use std::path::Path;

use cutover_models::bgp::topology::Topology;
use cutover_models::traffic::Demand;
use cutover_models::SimDuration;
use serde::Deserialize;

use crate::estate::network::{relative_to, RawSite};
use crate::estate::{compute, detection, Changes, Estate};
use crate::scenario::sweep::{self, SweepSpec};
use crate::scenario::units::Duration;
use crate::scenario::{limits, InputError, Source};
pub use failure::{Failure, FailureKind};

/// The experiment file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExperiment {
    experiment: RawMeta,
    traffic: Option<traffic::RawTraffic>,
    #[serde(default)]
    sites: Vec<RawSite>,
    #[serde(default)]
    failures: Vec<failure::RawFailure>,
    reliability: Option<reliability::RawReliability>,
    output: Option<RawOutput>,
    deployment: Option<compute::RawDeployment>,
    hpa: Option<compute::RawHpa>,
    startup: Option<compute::RawStartup>,
    nodes: Option<compute::RawNodes>,
    overflow: Option<compute::RawOverflow>,
    detection: Option<detection::RawDetection>,
    slo: Option<compute::RawSlo>,
    sweep: Option<sweep::RawSweep>,
    /// A plan file's plan (read by [`crate::plan::Plan`]).
    pub(crate) plan: Option<crate::plan::scenario::RawPlan>,
    /// A plan file's moves (read by [`crate::plan::Plan`]).
    #[serde(default)]
    pub(crate) moves: Vec<crate::plan::scenario::RawMove>,
    network: Option<RawNetworkChanges>,
    load_test: Option<load_test::RawLoadTest>,
}

/// The part of the estate's `[network]` an experiment may replace.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetworkChanges {
    damping: Option<crate::estate::policy::RawDamping>,
}

impl RawExperiment {
    /// The estate sections this experiment replaces.
    fn changes<'a>(&'a self, source: &'a Source) -> Changes<'a> {
        Changes {
            source,
            deployment: self.deployment.as_ref(),
            hpa: self.hpa.as_ref(),
            startup: self.startup.as_ref(),
            nodes: self.nodes.as_ref(),
            overflow: self.overflow.as_ref(),
            detection: self.detection.as_ref(),
            slo: self.slo.as_ref(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    name: String,
    description: Option<String>,
    estate: String,
    seed: Option<u64>,
    duration: Duration,
    tick: Option<Duration>,
    fidelity: Option<String>,
    #[serde(default)]
    retire: Vec<String>,
    skip_repeated_days: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    timeline_interval: Option<Duration>,
}

/// How the world serves requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fidelity {
    /// Expected flows per tick.
    Fluid,
    /// Every request an event.
    Request,
}

/// A validated experiment on its estate, ready to run.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// A short name for reports.
    pub name: String,
    /// What the experiment shows.
    pub description: Option<String>,
    /// The seed used when the command line gives none.
    pub seed: u64,
    /// The estate with the experiment's sites added and retired.
    pub estate: Estate,
    /// The AS graph with every site and population.
    pub topology: Topology,
    /// Simulated span.
    pub duration: SimDuration,
    /// Fluid tick and the step of the control loops' clock.
    pub tick: SimDuration,
    /// Fluid or request level.
    pub fidelity: Fidelity,
    /// Demand of all users together.
    pub demand: Demand,
    /// What was read from `[traffic.replay]`'s file and done to it.
    pub traffic_import: Option<crate::scenario::replay::ReplayReport>,
    /// Failures, in file order.
    pub failures: Vec<Failure>,
    /// Random hardware failures of the nodes, if any.
    pub reliability: Option<reliability::Reliability>,
    /// Interval of the rows of `timeline.csv`.
    pub timeline_interval: SimDuration,
    /// Parameters to vary for `cutover sweep`, if the file names any.
    pub sweep: Option<SweepSpec>,
    /// Calendar day of simulated time zero (midnight): a plan's `[plan]
    /// start`; `None` for an experiment, which has no date. The cost meter
    /// bills a dated run by calendar months.
    pub calendar: Option<cutover_models::cost::Date>,
    /// The ramp of `[load_test]`, if the file has one.
    pub load_test: Option<load_test::LoadTest>,
    /// Whether the world jumps over whole days that repeat the day before
    /// exactly (`[experiment] skip_repeated_days`, default true; false runs
    /// every day, to validate the jump against).
    pub skip_repeated_days: bool,
}

/// Default fluid tick: 1 s, well below the 10-15 s of the control loops.
pub const DEFAULT_TICK: SimDuration = SimDuration::from_secs(1);
/// Default timeline row: 15 s, metrics-server's resolution.
pub const DEFAULT_TIMELINE_INTERVAL: SimDuration = SimDuration::from_secs(15);
/// Default seed when neither the file nor the command line gives one.
pub const DEFAULT_SEED: u64 = 1;
/// Most ticks a run accepts (about four months of 1 s ticks).
pub const MAX_TICKS: u64 = 10_000_000;
/// Most requests in one tick of a request-level run.
pub const MAX_REQUESTS_PER_TICK: f64 = 1e7;
/// Most requests (peak rate times duration) in a request-level run: about
/// ten minutes of simulation at the measured speed.
pub const MAX_REQUESTS: f64 = 5e9;

impl Experiment {
    /// Reads and validates the experiment at `path` and the estate it names.
    pub fn load(path: &Path) -> Result<Experiment, InputError> {
        Self::from_source(&Source::read(path)?)
    }

    /// Validates an experiment already read into `source`.
    pub fn from_source(source: &Source) -> Result<Experiment, InputError> {
        let raw: RawExperiment = source.parse()?;
        if raw.plan.is_some() || !raw.moves.is_empty() {
            return Err(
                source.field_error("plan", "a plan file; allowed: run it with `cutover plan`")
            );
        }
        Self::from_raw(source, &raw)
    }

    /// Validates the experiment part of a file parsed into `raw` (an
    /// experiment, or the world of a plan).
    pub(crate) fn from_raw(source: &Source, raw: &RawExperiment) -> Result<Experiment, InputError> {
        let meta = &raw.experiment;
        if meta.name.trim().is_empty() {
            return Err(source.field_error("experiment.name", "must not be empty"));
        }
        let estate_path = relative_to(source, &meta.estate);
        let estate_source = Source::read(&estate_path).map_err(|e| match e {
            InputError::Read { path, reason } => source.field_error(
                "experiment.estate",
                format!("cannot read `{}`: {reason}", path.display()),
            ),
            other => other,
        })?;
        let estate = Estate::with_changes(&estate_source, &raw.changes(source))?;
        let mut estate = changed_estate(source, raw, estate)?;
        let target = match &raw.load_test {
            Some(lt) => {
                if raw.plan.is_some() {
                    return Err(source.field_error(
                        "load_test",
                        "in a plan file; allowed: a load test in an experiment file",
                    ));
                }
                load_test::target_site(source, lt, &estate)?
            }
            None => None,
        };
        if let Some(tag) = &target {
            load_test::keep_only(&mut estate, tag);
        }
        let raw_traffic = traffic_section(source, raw, target.is_some())?;
        if let Some(tr) = raw_traffic {
            traffic::apply_weights(source, tr, &mut estate)?;
        }
        if let Some(d) = raw.network.as_ref().and_then(|n| n.damping.as_ref()) {
            estate.bgp_policy.damping = Some(crate::estate::policy::damping(source, d)?);
        }
        let first_added = estate.sites.len() - raw.sites.len();
        let topology = estate.build_topology(source, &|i| {
            if i >= first_added {
                format!("sites[{}]", i - first_added)
            } else {
                "experiment.retire".to_string()
            }
        })?;
        let (mut duration, tick, fidelity) = clock(source, meta)?;
        let load_test = raw
            .load_test
            .as_ref()
            .map(|lt| load_test::validate(source, lt, target, duration, tick))
            .transpose()?;
        let (demand, traffic_import) = match (raw_traffic, &load_test) {
            (Some(tr), _) => traffic::validate(source, tr, &estate.populations)?,
            (None, Some(lt)) => (load_test::generator_demand(lt), None),
            (None, None) => return Err(source.field_error(
                "traffic",
                "missing; allowed: a [traffic] section (the demand), or a [load_test] on a site",
            )),
        };
        let mut failures = raw
            .failures
            .iter()
            .enumerate()
            .map(|(i, f)| failure::validate(source, i, f, &estate, duration))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(lt) = &load_test {
            // The run ends with the last step.
            duration = lt.step_start(lt.levels.len());
            if lt.target == load_test::Target::Estate {
                failures.extend(load_test::scaling(lt));
            }
        }
        if fidelity == Fidelity::Request {
            let spikes = failure::spike_bound(&failures);
            bound_requests(source, &demand, spikes, duration, tick)?;
        }
        check_work(source, &estate, &topology, duration, tick)?;
        let reliability = raw
            .reliability
            .as_ref()
            .map(|r| reliability::validate(source, r, &estate, duration))
            .transpose()?;
        limits::check_name(source, "experiment.name", &meta.name)?;
        Ok(Experiment {
            name: meta.name.clone(),
            description: meta.description.clone(),
            seed: meta.seed.unwrap_or(DEFAULT_SEED),
            estate,
            topology,
            duration,
            tick,
            fidelity,
            demand,
            traffic_import,
            failures,
            reliability,
            timeline_interval: timeline_interval(source, raw.output.as_ref(), duration)?,
            sweep: raw
                .sweep
                .as_ref()
                .map(|s| sweep::validate(source, s))
                .transpose()?,
            calendar: None,
            load_test,
            skip_repeated_days: meta.skip_repeated_days.unwrap_or(true),
        })
    }
}

/// The estate of a file that is either an estate or an experiment (with the
/// experiment's changes), and its topology.
pub fn load_estate(path: &Path) -> Result<(Estate, Topology), InputError> {
    let source = Source::read(path)?;
    if source.has_field("experiment") {
        let raw: RawExperiment = source.parse()?;
        let exp = Experiment::from_raw(&source, &raw)?;
        return Ok((exp.estate, exp.topology));
    }
    let estate = Estate::from_source(&source)?;
    let topology = estate.build_topology(&source, &|i| format!("sites[{i}]"))?;
    Ok((estate, topology))
}

/// The file's `[traffic]`, refused with a load test on a site, whose
/// generator is its only demand.
fn traffic_section<'r>(
    source: &Source,
    raw: &'r RawExperiment,
    site_load_test: bool,
) -> Result<Option<&'r traffic::RawTraffic>, InputError> {
    match (&raw.traffic, site_load_test) {
        (Some(_), true) => Err(source.field_error(
            "traffic",
            "a load test on a site sends only its generator's requests; allowed: no [traffic], \
             or load_test.target = \"estate\" to scale the estate's demand",
        )),
        (tr, _) => Ok(tr.as_ref()),
    }
}

/// Refuses an experiment whose run would take hours (see [`limits`]): the
/// fixed steps of every site's control loops and busy MRAI timers.
fn check_work(
    source: &Source,
    estate: &Estate,
    topology: &Topology,
    duration: SimDuration,
    tick: SimDuration,
) -> Result<(), InputError> {
    let sites = estate.sites.len();
    let dep = &estate.deployment;
    limits::check_steps(source, "experiment.tick", duration, tick, sites)?;
    for (field, period) in [
        ("hpa.metric_resolution", dep.metric_resolution),
        ("hpa.sync_period", dep.hpa.sync_period),
    ] {
        limits::check_steps(source, field, duration, period, sites)?;
    }
    if let Some(o) = &estate.overflow {
        limits::check_steps(
            source,
            "overflow.check_interval",
            duration,
            o.check_interval,
            1,
        )?;
    }
    let bgp = &estate.network.bgp;
    // Sessions with their own MRAI count as if every one had the shortest.
    let options = estate.topology_options();
    let mrai = options
        .sessions
        .values()
        .chain(options.site_sessions.values().map(|s| &s.session))
        .filter_map(|s| s.mrai)
        .chain([bgp.ebgp_mrai])
        .filter(|&m| m > SimDuration::ZERO)
        .min();
    if let Some(mrai) = mrai.filter(|_| bgp.mrai_busy) {
        let sessions = topology.ebgp_session_count() as f64;
        let events = 2.0 * sessions * limits::intervals(duration, mrai);
        let how = format!("busy MRAI timers: 2 x {sessions} eBGP sessions x {duration} / {mrai}");
        limits::check_events(source, "experiment.duration", events, &how)?;
    }
    Ok(())
}

/// The estate after the experiment's retirements and additions.
fn changed_estate(
    source: &Source,
    raw: &RawExperiment,
    mut estate: Estate,
) -> Result<Estate, InputError> {
    for (i, tag) in raw.experiment.retire.iter().enumerate() {
        let Some(k) = estate.site_index(tag) else {
            return Err(source.field_error(
                &format!("experiment.retire[{i}]"),
                format!("unknown site `{tag}`; allowed: {}", estate.site_tags()),
            ));
        };
        estate.sites.remove(k);
    }
    if estate.sites.is_empty() && raw.sites.is_empty() {
        return Err(source.field_error(
            "experiment.retire",
            "retires every site; allowed: keep or add at least one",
        ));
    }
    for (i, s) in raw.sites.iter().enumerate() {
        let site = estate.site(source, &format!("sites[{i}]"), s)?;
        estate.add_site(source, &format!("sites[{i}].tag"), site)?;
    }
    Ok(estate)
}

/// Duration, tick and fidelity.
fn clock(
    source: &Source,
    meta: &RawMeta,
) -> Result<(SimDuration, SimDuration, Fidelity), InputError> {
    let duration = meta.duration.0;
    if duration == SimDuration::ZERO {
        return Err(source.field_error("experiment.duration", "must be longer than zero"));
    }
    let tick = meta.tick.map_or(DEFAULT_TICK, |d| d.0);
    if tick < SimDuration::from_millis(1)
        || tick > SimDuration::from_secs(60)
        || duration.as_nanos() / tick.as_nanos() > MAX_TICKS
    {
        return Err(source.field_error(
            "experiment.tick",
            format!(
                "{tick} over {duration}; allowed: \"1ms\" to \"60s\" and at most {MAX_TICKS} ticks in the duration"
            ),
        ));
    }
    let fidelity = match meta.fidelity.as_deref() {
        None | Some("fluid") => Fidelity::Fluid,
        Some("request") => Fidelity::Request,
        Some(other) => {
            return Err(source.field_error(
                "experiment.fidelity",
                format!("`{other}`; allowed: \"fluid\", \"request\""),
            ))
        }
    };
    Ok((duration, tick, fidelity))
}

/// Every request is an event: bound the work before starting (the
/// failures' spikes multiplying the peak by at most `spikes`).
fn bound_requests(
    source: &Source,
    demand: &Demand,
    spikes: f64,
    duration: SimDuration,
    tick: SimDuration,
) -> Result<(), InputError> {
    let peak = traffic::peak_rate(demand, duration, tick) * spikes;
    let requests = peak * duration.as_secs_f64();
    if peak * tick.as_secs_f64() > MAX_REQUESTS_PER_TICK || requests > MAX_REQUESTS {
        return Err(source.field_error(
            "experiment.fidelity",
            format!(
                "request level at a peak of {peak:.0} requests/s over {duration} is too many events \
                 (at most {MAX_REQUESTS_PER_TICK:.0} per tick and {MAX_REQUESTS:.0} in all); \
                 allowed: \"fluid\" for this demand"
            ),
        ));
    }
    Ok(())
}

fn timeline_interval(
    source: &Source,
    raw: Option<&RawOutput>,
    duration: SimDuration,
) -> Result<SimDuration, InputError> {
    const FIELD: &str = "output.timeline_interval";
    let interval = raw
        .and_then(|o| o.timeline_interval)
        .map_or(DEFAULT_TIMELINE_INTERVAL, |d| d.0);
    if interval == SimDuration::ZERO {
        return Err(source.field_error(FIELD, "must be longer than zero, e.g. \"15s\""));
    }
    limits::check_rows(source, FIELD, duration, interval)?;
    Ok(interval)
}
