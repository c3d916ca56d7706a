//! Plan scenarios: a staged migration (regions, stages, gates, pacing), the
//! world it runs against (demand, old and new sites), the failures to
//! inject and, optionally, the cost scenario that prices it.
//!
//! Read by `cutover plan FILE`; see `scenarios/plan-*.toml`.

use std::path::{Path, PathBuf};

use cutover_models::cost::money::parse_money;
use cutover_models::cost::{Currency, Date, Money};
use cutover_models::plan::{FailurePolicy, Gate, Mechanism, PlanSpec, RegionPlan, StageSpec};
use cutover_models::SimDuration;
use serde::Deserialize;

use super::cost::{parse_percent, CostScenario};
use super::units::{Duration, Rate};
use super::{InputError, Source};

/// Default stages: the reference story's 1 -> 5 -> 10 -> 25 -> 50 -> 75 -> 100 %.
pub const DEFAULT_SHARES: [f64; 7] = [0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 1.0];
/// Default wait after each change: the story's 120 s for BGP convergence.
pub const DEFAULT_WAIT: SimDuration = SimDuration::from_secs(120);
/// Default observation window: the story's 30 minutes of health checks.
pub const DEFAULT_OBSERVE: SimDuration = SimDuration::from_secs(1800);
/// Default gate: the story's error rate below 1 % and p99 below 200 ms.
pub const DEFAULT_GATE: Gate = Gate {
    max_error_rate: 0.01,
    max_p99_ms: 200.0,
    min_requests: 1000,
};
/// Default SLO: the story's 99.95 % storefront availability target.
pub const DEFAULT_SLO: f64 = 0.9995;
/// Default eyeball networks per region that a BGP knob moves whole.
/// Assumption: 40 networks with Zipf(1) shares, so the smallest carries
/// 0.58 % of a region's users.
pub const DEFAULT_NETWORKS: usize = 40;
/// Default time for a BGP change to reach every network. Assumption, inside
/// the story's 120 s wait; the network layer's own runs (`ny-*.toml`) show a
/// clean withdrawal settling within seconds.
pub const DEFAULT_CONVERGENCE: SimDuration = SimDuration::from_secs(60);
/// Default time for anycast routing to notice a dead site: a 90 s BGP hold
/// time (RFC 4271, section 10, suggests 90 s).
pub const DEFAULT_BGP_DETECTION: SimDuration = SimDuration::from_secs(90);
/// Default time for an L7 proxy to stop sending to a dead upstream: nginx's
/// `fail_timeout` default of 10 s.
pub const DEFAULT_L7_DETECTION: SimDuration = SimDuration::from_secs(10);
/// Default time to notice a crashed server: a liveness probe every 5 s (the
/// story) and Kubernetes' default `failureThreshold` of 3, so 15 s.
pub const DEFAULT_HEALTH_CHECK: SimDuration = SimDuration::from_secs(15);
/// Default plan start, for the cost layer's calendar.
pub const DEFAULT_START: &str = "2027-02-01";
/// Longest simulated plan: two years.
pub const MAX_DURATION: SimDuration = SimDuration::from_secs(2 * 365 * 86_400);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    scenario: RawMeta,
    plan: RawPlan,
    region: Vec<RawRegion>,
    #[serde(default)]
    failure: Vec<RawFailure>,
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
struct RawPlan {
    start: Option<String>,
    begin: Option<Duration>,
    decommission_after: Option<Duration>,
    cost: Option<String>,
    region_spacing: Option<Duration>,
    on_failure: Option<String>,
    retry_delay: Option<Duration>,
    max_retries: Option<i64>,
    slo: Option<String>,
    tick: Option<Duration>,
    timeline_interval: Option<Duration>,
    max_duration: Option<Duration>,
    health_check: Option<Duration>,
    dual_running_budget: Option<String>,
    final_monthly_budget: Option<String>,
    #[serde(default)]
    stages: RawStages,
    #[serde(default)]
    gate: RawGate,
    #[serde(default)]
    bgp: RawBgp,
    #[serde(default)]
    l7: RawL7,
    reliability: Option<RawReliability>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStages {
    shares: Option<Vec<String>>,
    mechanism: Option<String>,
    wait: Option<Duration>,
    observe: Option<OneOrMany>,
}

/// One duration for every stage, or one per stage.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(Duration),
    Many(Vec<Duration>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGate {
    max_error_rate: Option<String>,
    max_p99: Option<Duration>,
    min_requests: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBgp {
    networks: Option<i64>,
    zipf: Option<f64>,
    convergence: Option<Duration>,
    detection: Option<Duration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawL7 {
    extra_hop: Option<Duration>,
    detection: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReliability {
    server_mtbf: Duration,
    server_mttr: Duration,
    disk_mtbf: Option<Duration>,
    disk_mttr: Option<Duration>,
    disks_per_server: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    name: String,
    demand: Rate,
    diurnal: Option<String>,
    peak_at: Option<Duration>,
    noise: Option<String>,
    migrate: Option<bool>,
    shares: Option<Vec<String>>,
    fallback: Option<String>,
    fallback_rtt: Option<Duration>,
    old: RawSite,
    new: Option<RawSite>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    servers: i64,
    workers: i64,
    service_time: Duration,
    rtt: Duration,
    cold_start: Option<Duration>,
    warmup: Option<Duration>,
    retry_servers: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFailure {
    kind: String,
    region: String,
    site: Option<String>,
    at: Option<Duration>,
    stage: Option<String>,
    stage_of: Option<String>,
    after: Option<Duration>,
    within: Option<[Duration; 2]>,
    duration: Option<Duration>,
    servers: Option<i64>,
    extra: Option<Duration>,
    factor: Option<f64>,
    period: Option<Duration>,
}

/// One site's capacity and distance from its region's users.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SiteSpec {
    /// Servers (nodes) at the site.
    pub servers: u32,
    /// Requests one server works on at once (its workers).
    pub workers: u32,
    /// Mean service time of a request (exponential).
    pub service_time: SimDuration,
    /// Network part of the region's users' latency to this site.
    pub rtt: SimDuration,
    /// Extra latency of the first requests to reach cold pods (pools, caches).
    pub cold_start: SimDuration,
    /// Time for that extra to fall linearly to zero.
    pub warmup: SimDuration,
    /// Servers after a rollback: what the retry delay buys (more servers
    /// ordered once the gate failed). `None`: unchanged.
    pub retry_servers: Option<u32>,
}

/// One region: its users' demand and its sites.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionSpec {
    /// Region (and site tag) name, e.g. `ny1`.
    pub name: String,
    /// Mean demand, requests per second.
    pub demand_rps: f64,
    /// Diurnal swing, 0 to 1.
    pub diurnal: f64,
    /// Time of day of the peak.
    pub peak_at: SimDuration,
    /// Day-to-day relative standard deviation of demand (lognormal).
    pub noise: f64,
    /// Region whose sites take this region's users when none of its own can.
    pub fallback: Option<usize>,
    /// Latency to the fallback region's sites.
    pub fallback_rtt: SimDuration,
    /// The site traffic moves from (the only one when the region stays).
    pub old: SiteSpec,
    /// The site traffic moves to.
    pub new: Option<SiteSpec>,
    /// Index of this region in the plan, when it migrates.
    pub plan_index: Option<usize>,
}

/// Which of a region's sites a failure hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The site traffic moves from.
    Old,
    /// The site traffic moves to.
    New,
}

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FailureKind {
    /// Servers drained and stopped: capacity falls, nothing is lost.
    NodeShutdown {
        /// How many.
        servers: u32,
    },
    /// Servers crash: their requests fail until the health check notices.
    NodeCrash {
        /// How many.
        servers: u32,
    },
    /// The whole site goes dark: traffic routed to it is lost until routing
    /// notices (BGP hold time or the proxy's health check).
    SiteLoss,
    /// The site's BGP session goes down and up every `period`; routes are
    /// withdrawn and re-announced, and flap damping may suppress them.
    BgpFlap {
        /// Time from one withdrawal to the next.
        period: SimDuration,
    },
    /// Extra network delay between the region's users and the site.
    Delay {
        /// The added delay.
        extra: SimDuration,
    },
    /// Pods crash, restart after Kubernetes' back-off and crash again.
    CrashLoop {
        /// Servers' worth of pods in the loop.
        servers: u32,
    },
    /// The region's demand is multiplied by `factor`.
    Spike {
        /// Demand multiplier.
        factor: f64,
    },
}

/// When a failure starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trigger {
    /// At a fixed time from the plan's start.
    At(SimDuration),
    /// `after` the first time `region`'s plan applies `share`.
    Stage {
        /// Plan region index.
        region: usize,
        /// The stage's share.
        share: f64,
        /// Delay after the share is applied.
        after: SimDuration,
    },
    /// At a uniformly random time in the interval (drawn per replication).
    Within(SimDuration, SimDuration),
}

/// A failure to inject.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureSpec {
    /// What goes wrong.
    pub kind: FailureKind,
    /// The region hit.
    pub region: usize,
    /// Its site hit.
    pub site: Which,
    /// When.
    pub trigger: Trigger,
    /// How long until it is repaired (`None`: never).
    pub duration: Option<SimDuration>,
}

/// Random server and disk failures over a long run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reliability {
    /// Mean time between failures of one server.
    pub server_mtbf: SimDuration,
    /// Mean time to repair a server.
    pub server_mttr: SimDuration,
    /// Mean time between failures of one disk, and its repair time.
    pub disk: Option<(SimDuration, SimDuration)>,
    /// Disks in each server.
    pub disks_per_server: u32,
}

/// Everything `cutover plan` needs, validated.
#[derive(Debug, Clone)]
pub struct PlanScenario {
    /// A short name for reports.
    pub name: String,
    /// What it shows.
    pub description: Option<String>,
    /// The seed used when the command line gives none.
    pub seed: u64,
    /// The staged plan for the migrating regions.
    pub plan: PlanSpec,
    /// Calendar day of simulated time zero (midnight).
    pub start: Date,
    /// Time of the first region's first stage, from time zero.
    pub begin: SimDuration,
    /// How long an old site is kept (idle, as a fallback) after its region
    /// reached 100 %, before it is decommissioned.
    pub decommission_after: SimDuration,
    /// Availability objective, e.g. 0.9995.
    pub slo: f64,
    /// Demand is re-evaluated every tick.
    pub tick: SimDuration,
    /// Rows of `timeline.csv`.
    pub timeline_interval: SimDuration,
    /// The run stops here even if the plan has not finished.
    pub max_duration: SimDuration,
    /// Time to notice a crashed server.
    pub health_check: SimDuration,
    /// Eyeball networks per region and their Zipf exponent.
    pub networks: (usize, f64),
    /// Time for a BGP change to reach every network.
    pub convergence: SimDuration,
    /// Time for anycast routing to notice a dead site.
    pub bgp_detection: SimDuration,
    /// Latency an L7 proxy adds.
    pub l7_extra_hop: SimDuration,
    /// Time for the proxy to notice a dead upstream.
    pub l7_detection: SimDuration,
    /// Random server and disk failures, if modelled.
    pub reliability: Option<Reliability>,
    /// The regions.
    pub regions: Vec<RegionSpec>,
    /// Failures to inject.
    pub failures: Vec<FailureSpec>,
    /// The cost scenario that prices the plan, and its file.
    pub cost: Option<(PathBuf, CostScenario)>,
    /// Limit on the dual-running cost.
    pub dual_running_budget: Option<(Money, Currency)>,
    /// Limit on the monthly cost after the plan.
    pub final_monthly_budget: Option<(Money, Currency)>,
}

fn fraction(source: &Source, field: &str, text: &str, lo: f64, hi: f64) -> Result<f64, InputError> {
    let v = parse_percent(text).map_err(|m| source.field_error(field, m))?;
    if !(lo..=hi).contains(&v) {
        return Err(source.field_error(
            field,
            format!("`{text}`; allowed: {}% to {}%", lo * 100.0, hi * 100.0),
        ));
    }
    Ok(v)
}

fn count(source: &Source, field: &str, v: i64, lo: i64, hi: i64) -> Result<u32, InputError> {
    if v < lo || v > hi {
        return Err(source.field_error(field, format!("{v}; allowed: {lo} to {hi}")));
    }
    Ok(v as u32)
}

fn positive(source: &Source, field: &str, d: SimDuration) -> Result<SimDuration, InputError> {
    if d == SimDuration::ZERO {
        return Err(source.field_error(field, "0; allowed: a duration above zero"));
    }
    Ok(d)
}

fn money(source: &Source, field: &str, text: &str) -> Result<(Money, Currency), InputError> {
    let (m, c) = parse_money(text).map_err(|e| source.field_error(field, e))?;
    if m < Money::ZERO {
        return Err(source.field_error(
            field,
            format!("`{text}` is negative; allowed: zero or more"),
        ));
    }
    Ok((m, c))
}

fn shares(source: &Source, field: &str, list: &[String]) -> Result<Vec<f64>, InputError> {
    if list.is_empty() {
        return Err(source.field_error(
            field,
            "empty; allowed: one or more shares, e.g. [\"1%\", \"100%\"]",
        ));
    }
    let mut out = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let f = format!("{field}[{i}]");
        let v = fraction(source, &f, s, 0.0, 1.0)?;
        if v == 0.0 || out.last().is_some_and(|&p| v <= p) {
            return Err(source.field_error(
                &f,
                format!("`{s}`; allowed: above 0% and above the previous stage's share"),
            ));
        }
        out.push(v);
    }
    Ok(out)
}

fn site(source: &Source, field: &str, raw: &RawSite) -> Result<SiteSpec, InputError> {
    Ok(SiteSpec {
        servers: count(source, &format!("{field}.servers"), raw.servers, 1, 100_000)?,
        workers: count(source, &format!("{field}.workers"), raw.workers, 1, 100_000)?,
        service_time: positive(source, &format!("{field}.service_time"), raw.service_time.0)?,
        rtt: raw.rtt.0,
        retry_servers: raw
            .retry_servers
            .map(|v| count(source, &format!("{field}.retry_servers"), v, 1, 100_000))
            .transpose()?,
        cold_start: raw.cold_start.map_or(SimDuration::ZERO, |d| d.0),
        warmup: match (raw.cold_start, raw.warmup) {
            (Some(c), None) if c.0 > SimDuration::ZERO => {
                return Err(source.field_error(
                    &format!("{field}.cold_start"),
                    "needs `warmup` too: the time for the extra latency to fall to zero",
                ))
            }
            (_, Some(w)) => positive(source, &format!("{field}.warmup"), w.0)?,
            (_, None) => SimDuration::ZERO,
        },
    })
}

impl PlanScenario {
    /// Reads and validates the plan scenario at `path`; the cost scenario
    /// it names is read relative to the plan's directory.
    pub fn load(path: &Path) -> Result<PlanScenario, InputError> {
        let source = Source::read(path)?;
        Self::from_source(&source)
    }

    /// Validates a plan scenario already read into `source`.
    pub fn from_source(source: &Source) -> Result<PlanScenario, InputError> {
        let raw: RawFile = source.parse()?;
        let p = &raw.plan;
        let start = Date::parse(p.start.as_deref().unwrap_or(DEFAULT_START))
            .map_err(|m| source.field_error("plan.start", m))?;
        let slo = match &p.slo {
            Some(s) => fraction(source, "plan.slo", s, 0.5, 0.999_999)?,
            None => DEFAULT_SLO,
        };
        let tick = positive(
            source,
            "plan.tick",
            p.tick.map_or(SimDuration::from_secs(300), |d| d.0),
        )?;
        let timeline_interval = p
            .timeline_interval
            .map_or(SimDuration::from_secs(3600), |d| d.0);
        if timeline_interval.as_nanos() == 0 || timeline_interval.as_nanos() % tick.as_nanos() != 0
        {
            return Err(source.field_error(
                "plan.timeline_interval",
                "allowed: a whole number of ticks (plan.tick, 5m by default)",
            ));
        }
        let max_duration = p
            .max_duration
            .map_or(SimDuration::from_secs(365 * 86_400), |d| d.0);
        if max_duration > MAX_DURATION || max_duration == SimDuration::ZERO {
            return Err(
                source.field_error("plan.max_duration", "allowed: above zero and at most 730d")
            );
        }
        let mechanism = match p.stages.mechanism.as_deref().unwrap_or("bgp") {
            "bgp" => Mechanism::Bgp,
            "l7" => Mechanism::L7Weight,
            other => {
                return Err(source.field_error(
                    "plan.stages.mechanism",
                    format!(
                    "`{other}`; allowed: \"bgp\" (announce and prepend) or \"l7\" (proxy weights)"
                ),
                ))
            }
        };
        let default_shares = match &p.stages.shares {
            Some(list) => shares(source, "plan.stages.shares", list)?,
            None => DEFAULT_SHARES.to_vec(),
        };
        let wait = p.stages.wait.map_or(DEFAULT_WAIT, |d| d.0);
        let observe_for = |count: usize| -> Result<Vec<SimDuration>, InputError> {
            let list = match &p.stages.observe {
                None => vec![DEFAULT_OBSERVE; count],
                Some(OneOrMany::One(d)) => vec![d.0; count],
                Some(OneOrMany::Many(v)) if v.len() == count => v.iter().map(|d| d.0).collect(),
                Some(OneOrMany::Many(v)) => {
                    return Err(source.field_error(
                        "plan.stages.observe",
                        format!(
                        "{} windows for {count} stages; allowed: one duration, or one per stage",
                        v.len()
                    ),
                    ))
                }
            };
            list.into_iter()
                .map(|d| positive(source, "plan.stages.observe", d))
                .collect()
        };
        let gate = Gate {
            max_error_rate: match &p.gate.max_error_rate {
                Some(s) => fraction(source, "plan.gate.max_error_rate", s, 0.0, 1.0)?,
                None => DEFAULT_GATE.max_error_rate,
            },
            max_p99_ms: p
                .gate
                .max_p99
                .map_or(DEFAULT_GATE.max_p99_ms, |d| d.0.as_secs_f64() * 1e3),
            min_requests: match p.gate.min_requests {
                Some(v) => u64::from(count(
                    source,
                    "plan.gate.min_requests",
                    v,
                    0,
                    i64::from(u32::MAX),
                )?),
                None => DEFAULT_GATE.min_requests,
            },
        };
        let on_failure = match p.on_failure.as_deref().unwrap_or("abort") {
            "abort" => FailurePolicy::Abort,
            "retry" => FailurePolicy::Retry {
                delay: p
                    .retry_delay
                    .map_or(SimDuration::from_secs(7 * 86_400), |d| d.0),
                max_retries: count(
                    source,
                    "plan.max_retries",
                    p.max_retries.unwrap_or(1),
                    0,
                    100,
                )?,
            },
            other => {
                return Err(source.field_error(
                    "plan.on_failure",
                    format!("`{other}`; allowed: \"abort\" or \"retry\""),
                ))
            }
        };

        let names: Vec<&str> = raw.region.iter().map(|r| r.name.as_str()).collect();
        let find = |field: &str, name: &str| -> Result<usize, InputError> {
            names.iter().position(|n| *n == name).ok_or_else(|| {
                source.field_error(
                    field,
                    format!("unknown region `{name}`; allowed: {}", names.join(", ")),
                )
            })
        };
        if raw.region.is_empty() {
            return Err(source.field_error("region", "no [[region]]; allowed: one or more"));
        }
        let mut regions = Vec::new();
        let mut plan_regions = Vec::new();
        for (i, r) in raw.region.iter().enumerate() {
            let f = format!("region[{i}]");
            if names[..i].contains(&r.name.as_str()) {
                return Err(source
                    .field_error(&format!("{f}.name"), format!("`{}` is named twice", r.name)));
            }
            let migrate = r.migrate.unwrap_or(true);
            let new = match &r.new {
                Some(s) => Some(site(source, &format!("{f}.new"), s)?),
                None if migrate => {
                    return Err(source.field_error(
                        &format!("{f}.name"),
                        format!("region `{}` migrates but has no [region.new] site; add one or set migrate = false", r.name),
                    ))
                }
                None => None,
            };
            let plan_index = if migrate {
                let stage_shares = match &r.shares {
                    Some(list) => shares(source, &format!("{f}.shares"), list)?,
                    None => default_shares.clone(),
                };
                plan_regions.push(RegionPlan {
                    name: r.name.clone(),
                    mechanism,
                    stages: stage_shares
                        .iter()
                        .zip(observe_for(stage_shares.len())?)
                        .map(|(&share, observe)| StageSpec {
                            share,
                            wait,
                            observe,
                        })
                        .collect(),
                    gate,
                });
                Some(plan_regions.len() - 1)
            } else {
                None
            };
            let fallback = match &r.fallback {
                Some(name) if name == &r.name => {
                    return Err(source.field_error(
                        &format!("{f}.fallback"),
                        "a region cannot fall back to itself",
                    ))
                }
                Some(name) => Some(find(&format!("{f}.fallback"), name)?),
                None => None,
            };
            if fallback.is_some() != r.fallback_rtt.is_some() {
                return Err(source.field_error(
                    &format!("{f}.fallback"),
                    "`fallback` and `fallback_rtt` go together: name the region and the latency to it",
                ));
            }
            regions.push(RegionSpec {
                name: r.name.clone(),
                demand_rps: r.demand.0,
                diurnal: match &r.diurnal {
                    Some(s) => fraction(source, &format!("{f}.diurnal"), s, 0.0, 1.0)?,
                    None => 0.0,
                },
                peak_at: r.peak_at.map_or(SimDuration::from_secs(20 * 3600), |d| d.0),
                noise: match &r.noise {
                    Some(s) => fraction(source, &format!("{f}.noise"), s, 0.0, 1.0)?,
                    None => 0.0,
                },
                fallback,
                fallback_rtt: r.fallback_rtt.map_or(SimDuration::ZERO, |d| d.0),
                old: site(source, &format!("{f}.old"), &r.old)?,
                new,
                plan_index,
            });
        }
        if plan_regions.is_empty() {
            return Err(source.field_error(
                "region",
                "no region migrates; allowed: at least one without `migrate = false`",
            ));
        }

        let mut failures = Vec::new();
        for (i, x) in raw.failure.iter().enumerate() {
            let f = format!("failure[{i}]");
            let region = find(&format!("{f}.region"), &x.region)?;
            let which = match x.site.as_deref().unwrap_or("new") {
                "old" => Which::Old,
                "new" => Which::New,
                other => {
                    return Err(source.field_error(
                        &format!("{f}.site"),
                        format!("`{other}`; allowed: \"old\" or \"new\""),
                    ))
                }
            };
            let spec = &regions[region];
            let target = match which {
                Which::Old => Some(spec.old),
                Which::New => spec.new,
            };
            let Some(target) = target else {
                return Err(source.field_error(
                    &format!("{f}.site"),
                    format!("region `{}` has no new site", spec.name),
                ));
            };
            let servers = |default: u32| -> Result<u32, InputError> {
                count(
                    source,
                    &format!("{f}.servers"),
                    x.servers.unwrap_or(i64::from(default)),
                    1,
                    i64::from(target.servers),
                )
            };
            let kind = match x.kind.as_str() {
                "node-shutdown" => FailureKind::NodeShutdown { servers: servers(1)? },
                "node-crash" => FailureKind::NodeCrash { servers: servers(1)? },
                "site-loss" => FailureKind::SiteLoss,
                "bgp-flap" => FailureKind::BgpFlap {
                    period: positive(source, &format!("{f}.period"), x.period.map_or(SimDuration::from_secs(60), |d| d.0))?,
                },
                "delay" => FailureKind::Delay {
                    extra: x.extra.ok_or_else(|| source.field_error(&format!("{f}.kind"), "a delay needs `extra`, e.g. \"80ms\""))?.0,
                },
                "crash-loop" => FailureKind::CrashLoop { servers: servers(1)? },
                "spike" => {
                    let factor = x.factor.ok_or_else(|| source.field_error(&format!("{f}.kind"), "a spike needs `factor`, e.g. 3.0"))?;
                    if !(factor.is_finite() && factor > 0.0 && factor <= 1000.0) {
                        return Err(source.field_error(&format!("{f}.factor"), format!("{factor}; allowed: above 0 and at most 1000")));
                    }
                    FailureKind::Spike { factor }
                }
                other => {
                    return Err(source.field_error(
                        &format!("{f}.kind"),
                        format!("`{other}`; allowed: node-shutdown, node-crash, site-loss, bgp-flap, delay, crash-loop, spike"),
                    ))
                }
            };
            let trigger = match (x.at, &x.stage, x.within) {
                (Some(at), None, None) => Trigger::At(at.0),
                (None, Some(share), None) => {
                    let staged = match &x.stage_of {
                        Some(name) => &regions[find(&format!("{f}.stage_of"), name)?],
                        None => spec,
                    };
                    let Some(plan_region) = staged.plan_index else {
                        return Err(source.field_error(
                            &format!("{f}.stage"),
                            format!("region `{}` does not migrate; name the migrating region whose stage starts the failure with `stage_of`", staged.name),
                        ));
                    };
                    let share = fraction(source, &format!("{f}.stage"), share, 0.0, 1.0)?;
                    if !plan_regions[plan_region].stages.iter().any(|s| (s.share - share).abs() < 1e-9) {
                        return Err(source.field_error(&format!("{f}.stage"), "allowed: one of the region's stage shares"));
                    }
                    Trigger::Stage { region: plan_region, share, after: x.after.map_or(SimDuration::ZERO, |d| d.0) }
                }
                (None, None, Some([a, b])) if a.0 < b.0 => Trigger::Within(a.0, b.0),
                (None, None, Some(_)) => {
                    return Err(source.field_error(&format!("{f}.within"), "allowed: [from, until] with from before until"))
                }
                _ => {
                    return Err(source.field_error(
                        &format!("{f}.kind"),
                        "give exactly one of `at` (a time), `stage` (a share of the region's plan, with optional `after`) or `within` ([from, until], random)",
                    ))
                }
            };
            if matches!(
                kind,
                FailureKind::BgpFlap { .. }
                    | FailureKind::CrashLoop { .. }
                    | FailureKind::Spike { .. }
                    | FailureKind::Delay { .. }
            ) && x.duration.is_none()
            {
                return Err(source.field_error(
                    &format!("{f}.kind"),
                    format!("a {} needs `duration`", x.kind),
                ));
            }
            failures.push(FailureSpec {
                kind,
                region,
                site: which,
                trigger,
                duration: x.duration.map(|d| d.0),
            });
        }

        let reliability = match &p.reliability {
            None => None,
            Some(r) => Some(Reliability {
                server_mtbf: positive(source, "plan.reliability.server_mtbf", r.server_mtbf.0)?,
                server_mttr: positive(source, "plan.reliability.server_mttr", r.server_mttr.0)?,
                disk: match (r.disk_mtbf, r.disk_mttr) {
                    (Some(a), Some(b)) => Some((
                        positive(source, "plan.reliability.disk_mtbf", a.0)?,
                        positive(source, "plan.reliability.disk_mttr", b.0)?,
                    )),
                    (None, None) => None,
                    _ => {
                        return Err(source.field_error(
                            "plan.reliability",
                            "`disk_mtbf` and `disk_mttr` go together",
                        ))
                    }
                },
                disks_per_server: count(
                    source,
                    "plan.reliability.disks_per_server",
                    r.disks_per_server.unwrap_or(2),
                    0,
                    64,
                )?,
            }),
        };

        let cost = match &p.cost {
            None => None,
            Some(file) => {
                let dir = source.path().parent().unwrap_or(Path::new("."));
                let path = dir.join(file);
                let scenario = CostScenario::load(&path).map_err(|e| match e {
                    InputError::Read { reason, .. } => source.field_error(
                        "plan.cost",
                        format!("cannot read the cost scenario {}: {reason}", path.display()),
                    ),
                    other => other,
                })?;
                let Some(m) = &scenario.model.migration else {
                    return Err(source.field_error(
                        "plan.cost",
                        format!(
                            "{} has no [migration] to price the plan with",
                            path.display()
                        ),
                    ));
                };
                for r in &plan_regions {
                    if !m.regions.contains(&r.name) {
                        return Err(source.field_error(
                            "plan.cost",
                            format!(
                                "region `{}` is not in {}'s [migration] regions ({})",
                                r.name,
                                path.display(),
                                m.regions.join(", ")
                            ),
                        ));
                    }
                }
                Some((PathBuf::from(file), scenario))
            }
        };
        let budget =
            |field: &str, v: &Option<String>| -> Result<Option<(Money, Currency)>, InputError> {
                v.as_deref().map(|t| money(source, field, t)).transpose()
            };
        let dual_running_budget = budget("plan.dual_running_budget", &p.dual_running_budget)?;
        let final_monthly_budget = budget("plan.final_monthly_budget", &p.final_monthly_budget)?;
        if (dual_running_budget.is_some() || final_monthly_budget.is_some()) && cost.is_none() {
            return Err(source.field_error(
                "plan.cost",
                "a budget needs `cost`: the cost scenario that prices the plan",
            ));
        }
        if let Some((_, c)) = &cost {
            for (field, b) in [
                ("plan.dual_running_budget", dual_running_budget),
                ("plan.final_monthly_budget", final_monthly_budget),
            ] {
                if let Some((_, cur)) = b {
                    if cur != c.model.currency {
                        return Err(source.field_error(
                            field,
                            format!(
                                "allowed: amounts in {}, the cost scenario's currency",
                                c.model.currency.code()
                            ),
                        ));
                    }
                }
            }
        }

        Ok(PlanScenario {
            name: raw.scenario.name.clone(),
            description: raw.scenario.description.clone(),
            seed: raw.scenario.seed.unwrap_or(super::DEFAULT_SEED),
            plan: PlanSpec {
                regions: plan_regions,
                region_spacing: p
                    .region_spacing
                    .map_or(SimDuration::from_secs(7 * 86_400), |d| d.0),
                on_failure,
            },
            start,
            begin: p.begin.map_or(SimDuration::ZERO, |d| d.0),
            decommission_after: p.decommission_after.map_or(SimDuration::ZERO, |d| d.0),
            slo,
            tick,
            timeline_interval,
            max_duration,
            health_check: p.health_check.map_or(DEFAULT_HEALTH_CHECK, |d| d.0),
            networks: (
                count(
                    source,
                    "plan.bgp.networks",
                    p.bgp.networks.unwrap_or(DEFAULT_NETWORKS as i64),
                    1,
                    100_000,
                )? as usize,
                match p.bgp.zipf {
                    Some(z) if !(z.is_finite() && (0.0..=5.0).contains(&z)) => {
                        return Err(
                            source.field_error("plan.bgp.zipf", format!("{z}; allowed: 0 to 5"))
                        )
                    }
                    Some(z) => z,
                    None => 1.0,
                },
            ),
            convergence: p.bgp.convergence.map_or(DEFAULT_CONVERGENCE, |d| d.0),
            bgp_detection: p.bgp.detection.map_or(DEFAULT_BGP_DETECTION, |d| d.0),
            l7_extra_hop: p.l7.extra_hop.map_or(SimDuration::ZERO, |d| d.0),
            l7_detection: p.l7.detection.map_or(DEFAULT_L7_DETECTION, |d| d.0),
            reliability,
            regions,
            failures,
            cost,
            dual_running_budget,
            final_monthly_budget,
        })
    }
}
