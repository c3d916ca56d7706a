//! The `[compute]` section: one region's deployment, HPA, pod start-up and
//! nodes under a traffic spike.
//!
//! CPU amounts are written as Kubernetes writes them: `"500m"` (millicores)
//! or `"2"` (cores), as strings.

use cutover_models::capacity::ServiceProfile;
use cutover_models::hpa::{
    Behavior, HpaSpec, PolicyKind, ReplicaCalcConfig, ScalingPolicy, ScalingRules, SelectPolicy,
};
use cutover_models::nodes::{
    NodePool, Provisioning, DEFAULT_MAX_PODS_PER_NODE, DEFAULT_PROVISIONING_DELAY,
    DEFAULT_SCAN_INTERVAL,
};
use cutover_models::pods::StartupProfile;
use cutover_models::traffic::{Demand, Diurnal, FlashSpike};
use cutover_models::SimDuration;
use serde::Deserialize;

use super::units::{Duration, Rate};
use super::{InputError, Source};

/// `[compute]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCompute {
    duration: Duration,
    tick: Option<Duration>,
    fidelity: Option<String>,
    traffic: RawTraffic,
    deployment: RawDeployment,
    hpa: RawHpa,
    startup: Option<RawStartup>,
    nodes: Option<RawNodes>,
    sites: Option<Vec<RawSite>>,
    catchment: Option<String>,
    overflow: Option<RawOverflow>,
    slo: Option<RawSlo>,
    search: Option<RawSearch>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    name: String,
    share: Option<f64>,
    network_latency: Option<Duration>,
    next: Option<Vec<String>>,
    nodes: RawNodes,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverflow {
    mechanism: String,
    threshold: Option<f64>,
    release: Option<f64>,
    step: Option<f64>,
    check_interval: Option<Duration>,
    extra_latency: Option<Duration>,
    convergence: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSearch {
    max_servers: i64,
    p99: Option<Duration>,
    max_failed_fraction: Option<f64>,
    fill_servers: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTraffic {
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeployment {
    replicas: i64,
    cpu_request: String,
    cpu_limit: Option<String>,
    cpu_per_request: Duration,
    concurrency: i64,
    queue_limit: i64,
    timeout: Duration,
    balancing: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHpa {
    min_replicas: Option<i64>,
    max_replicas: i64,
    target_cpu_utilization: i64,
    sync_period: Option<Duration>,
    tolerance: Option<f64>,
    cpu_initialization_period: Option<Duration>,
    initial_readiness_delay: Option<Duration>,
    metric_resolution: Option<Duration>,
    legacy_behavior: Option<bool>,
    scale_up: Option<RawRules>,
    scale_down: Option<RawRules>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    stabilization_window: Option<Duration>,
    select: Option<String>,
    policies: Option<Vec<RawPolicy>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(rename = "type")]
    kind: String,
    value: i64,
    period: Duration,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStartup {
    scheduling: Option<Duration>,
    image_pull_cached: Option<Duration>,
    image_pull_uncached: Option<Duration>,
    container_start: Option<Duration>,
    app_start: Option<Duration>,
    probe_initial_delay: Option<Duration>,
    probe_period: Option<Duration>,
    warmup: Option<Duration>,
    warmup_cpu_factor: Option<f64>,
    warmup_added_latency: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNodes {
    kind: String,
    count: i64,
    allocatable_cpu: String,
    max_pods_per_node: Option<i64>,
    max_nodes: Option<i64>,
    provisioning_delay: Option<Duration>,
    scan_interval: Option<Duration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlo {
    slow_threshold: Option<Duration>,
    network_latency: Option<Duration>,
}

/// One region's compute under a traffic spike, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ComputeSpec {
    /// Simulated span.
    pub duration: SimDuration,
    /// Fluid tick (and the step of the control loops' clock).
    pub tick: SimDuration,
    /// Every request an event (`true`) or the fluid (`false`).
    pub request_level: bool,
    /// Demand reaching the region.
    pub demand: Demand,
    /// How pods serve.
    pub service: ServiceProfile,
    /// How a site spreads requests over its ready pods.
    pub balancing: Balancing,
    /// Replicas at the start (all ready and warm).
    pub initial_replicas: u32,
    /// CPU request per pod, millicores.
    pub cpu_request_millicores: i64,
    /// CPU limit per pod, millicores.
    pub cpu_limit_millicores: i64,
    /// The HPA.
    pub hpa: HpaSpec,
    /// metrics-server scrape interval (its samples' window).
    pub metric_resolution: SimDuration,
    /// Pod start-up.
    pub startup: StartupProfile,
    /// The sites the demand is split over (one for a single region).
    pub sites: Vec<SiteSpec>,
    /// Overflow to the next site, if on.
    pub overflow: Option<OverflowSpec>,
    /// Requests slower than this count as slow (the story's p99 gate).
    pub slow_threshold: SimDuration,
    /// Search for the smallest fixed server count, if asked.
    pub search: Option<ServerSearch>,
}

/// How requests are spread over a site's ready pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Balancing {
    /// Uniformly at random, whatever each pod's state (kube-proxy in
    /// iptables mode picks a backend at random).
    Random,
    /// The less busy of two random pods (Envoy's default `LEAST_REQUEST`,
    /// power of two choices); the fluid splits in proportion to capacity.
    LeastRequest,
}

/// One site: its share of the demand, its nodes, and where it overflows.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteSpec {
    /// Site tag, e.g. `ny1`.
    pub name: String,
    /// Share of the demand that reaches the site: the catchment seam, fixed
    /// until the network layer provides per-population catchments.
    pub share: f64,
    /// Nodes at the start and how they grow.
    pub nodes: NodePool,
    /// Network time added to every request served here (TTFB).
    pub network_latency: SimDuration,
    /// Sites to overflow to, nearest first (indexes into the site list).
    pub next: Vec<usize>,
}

/// How a site sheds new traffic to the next site.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OverflowMechanism {
    /// An L7 proxy forwards at once, through an extra hop.
    L7,
    /// A BGP knob (prepend, withdraw a more-specific); takes effect after
    /// the convergence delay.
    Bgp {
        /// From the change to traffic moving.
        convergence: SimDuration,
    },
}

/// The overflow policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OverflowSpec {
    /// How traffic moves.
    pub mechanism: OverflowMechanism,
    /// Above this load (CPU used over CPU available) a site sheds more.
    pub threshold: f64,
    /// Only sites below this load take overflow.
    pub release: f64,
    /// Largest share of a site's traffic moved back per check.
    pub step: f64,
    /// How often sites check.
    pub check_interval: SimDuration,
    /// Latency added to overflowed requests (the story: +20-30 ms).
    pub extra_latency: SimDuration,
}

/// Overflow defaults: shed above 85 % load to sites below 75 %, take back
/// at most 10 % of the traffic per 5 s check (assumptions, to be tuned per service).
pub const DEFAULT_OVERFLOW_THRESHOLD: f64 = 0.85;
/// See [`DEFAULT_OVERFLOW_THRESHOLD`].
pub const DEFAULT_OVERFLOW_RELEASE: f64 = 0.75;
/// See [`DEFAULT_OVERFLOW_THRESHOLD`].
pub const DEFAULT_OVERFLOW_STEP: f64 = 0.1;
/// See [`DEFAULT_OVERFLOW_THRESHOLD`].
pub const DEFAULT_OVERFLOW_CHECK: SimDuration = SimDuration::from_secs(5);
/// The story: the next-nearest site adds 20-30 ms; 25 ms.
pub const DEFAULT_OVERFLOW_EXTRA_LATENCY: SimDuration = SimDuration::from_millis(25);
/// The story: wait ~120 s for BGP convergence after each change.
pub const DEFAULT_BGP_CONVERGENCE: SimDuration = SimDuration::from_secs(120);

/// The planner's question for a bare-metal pool: the fewest servers that
/// survive the scenario within the SLO.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServerSearch {
    /// Largest server count to try.
    pub max_servers: u32,
    /// The p99 latency the run must stay under.
    pub p99: SimDuration,
    /// The share of requests that may fail.
    pub max_failed_fraction: f64,
    /// Run as many pods as the servers hold (bare metal is paid for whether
    /// used or not) instead of the deployment's replicas and HPA minimum.
    pub fill_servers: bool,
}

/// The story's health gate: p99 under 200 ms.
pub const DEFAULT_SEARCH_P99: SimDuration = SimDuration::from_millis(200);
/// The story's health gate: error rate under 1 %.
pub const DEFAULT_SEARCH_FAILED_FRACTION: f64 = 0.01;

/// Default tick of the fluid run: 1 s, well below the 10-15 s of the
/// control loops it drives.
pub const DEFAULT_TICK: SimDuration = SimDuration::from_secs(1);
/// Default think time: 10 s, so that the story's 80,000 users make the
/// issue's ~8,000 requests/s.
pub const DEFAULT_THINK_TIME: SimDuration = SimDuration::from_secs(10);
/// metrics-server `--metric-resolution`: 15 s, as set by the released
/// metrics-server manifests (components.yaml, v0.5 on).
pub const DEFAULT_METRIC_RESOLUTION: SimDuration = SimDuration::from_secs(15);
/// Slow threshold: the story's p99 health gate, 200 ms.
pub const DEFAULT_SLOW_THRESHOLD: SimDuration = SimDuration::from_millis(200);
/// Most ticks a run accepts (about four months of 1 s ticks).
pub const MAX_TICKS: u64 = 10_000_000;
/// Most requests in one tick of a request-level run.
pub const MAX_REQUESTS_PER_TICK: f64 = 1e7;
/// Most requests (peak rate times duration) in a request-level run: about
/// ten minutes of simulation at the measured speed.
pub const MAX_REQUESTS: f64 = 5e9;
/// Most replicas an HPA may ask for here.
pub const MAX_REPLICAS: i64 = 100_000;

/// Parses a Kubernetes CPU quantity: `"500m"` or `"2"` / `"0.5"` cores.
pub fn parse_cpu(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let allowed = "a CPU quantity as Kubernetes writes it, e.g. \"500m\" or \"2\"";
    let (number, scale) = match t.strip_suffix('m') {
        Some(n) => (n, 1.0),
        None => (t, 1000.0),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not {allowed}"))?;
    let milli = value * scale;
    if !(milli.is_finite() && (1.0..=1e9).contains(&milli)) {
        return Err(format!(
            "`{text}` is out of range; write {allowed}, at least 1m"
        ));
    }
    Ok(milli.round() as i64)
}

fn positive(source: &Source, field: &str, d: SimDuration) -> Result<SimDuration, InputError> {
    if d == SimDuration::ZERO {
        Err(source.field_error(field, "must be longer than zero, e.g. \"15s\""))
    } else {
        Ok(d)
    }
}

fn count(source: &Source, field: &str, v: i64, lo: i64, hi: i64) -> Result<u32, InputError> {
    if (lo..=hi).contains(&v) {
        Ok(v as u32)
    } else {
        Err(source.field_error(
            field,
            format!("{v}; allowed: a whole number from {lo} to {hi}"),
        ))
    }
}

fn rules(
    source: &Source,
    field: &str,
    raw: Option<&RawRules>,
    default: ScalingRules,
) -> Result<ScalingRules, InputError> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    let select = match raw.select.as_deref() {
        None => default.select,
        Some("max") | Some("Max") => SelectPolicy::Max,
        Some("min") | Some("Min") => SelectPolicy::Min,
        Some("disabled") | Some("Disabled") => SelectPolicy::Disabled,
        Some(other) => {
            return Err(source.field_error(
                &format!("{field}.select"),
                format!("`{other}`; allowed: \"max\", \"min\", \"disabled\""),
            ))
        }
    };
    let policies = match &raw.policies {
        None => default.policies,
        Some(list) => {
            let mut out = Vec::with_capacity(list.len());
            for (i, p) in list.iter().enumerate() {
                let at = format!("{field}.policies[{i}]");
                let kind = match p.kind.as_str() {
                    "pods" | "Pods" => PolicyKind::Pods,
                    "percent" | "Percent" => PolicyKind::Percent,
                    other => {
                        return Err(source.field_error(
                            &format!("{at}.type"),
                            format!("`{other}`; allowed: \"pods\", \"percent\""),
                        ))
                    }
                };
                let value = count(source, &format!("{at}.value"), p.value, 1, 100_000)? as i32;
                // periodSeconds: 1 s to 30 min (autoscaling/v2 validation).
                let period = p.period.0;
                if period < SimDuration::from_secs(1) || period > SimDuration::from_secs(1800) {
                    return Err(source.field_error(
                        &format!("{at}.period"),
                        "allowed: from \"1s\" to \"30m\", as Kubernetes validates periodSeconds",
                    ));
                }
                out.push(ScalingPolicy {
                    kind,
                    value,
                    period,
                });
            }
            if out.is_empty() && select != SelectPolicy::Disabled {
                return Err(source.field_error(
                    &format!("{field}.policies"),
                    "at least one policy, unless select = \"disabled\"",
                ));
            }
            out
        }
    };
    let window = raw
        .stabilization_window
        .map_or(default.stabilization_window, |d| d.0);
    if window > SimDuration::from_secs(3600) {
        return Err(source.field_error(
            &format!("{field}.stabilization_window"),
            "allowed: up to \"1h\", as Kubernetes validates stabilizationWindowSeconds",
        ));
    }
    Ok(ScalingRules {
        stabilization_window: window,
        select,
        policies,
    })
}

/// Validates one node pool at `at`.
fn nodes(source: &Source, at: &str, n: &RawNodes, request: i64) -> Result<NodePool, InputError> {
    let allocatable = parse_cpu(&n.allocatable_cpu)
        .map_err(|m| source.field_error(&format!("{at}.allocatable_cpu"), m))?;
    if allocatable < request {
        return Err(source.field_error(
            &format!("{at}.allocatable_cpu"),
            "is below the pods' cpu_request, so no pod would ever fit; allowed: at least cpu_request",
        ));
    }
    let nodes_now = count(source, &format!("{at}.count"), n.count, 0, 100_000)?;
    let max_pods = count(
        source,
        &format!("{at}.max_pods_per_node"),
        n.max_pods_per_node
            .unwrap_or(i64::from(DEFAULT_MAX_PODS_PER_NODE)),
        1,
        10_000,
    )?;
    let provisioning = match n.kind.as_str() {
        "cloud" => {
            let max_nodes = match n.max_nodes {
                Some(m) => count(
                    source,
                    &format!("{at}.max_nodes"),
                    m,
                    i64::from(nodes_now),
                    100_000,
                )?,
                None => {
                    return Err(source.field_error(
                        &format!("{at}.max_nodes"),
                        "a cloud pool needs max_nodes (the cluster autoscaler's maximum)",
                    ))
                }
            };
            Provisioning::Cloud {
                max_nodes,
                delay: n
                    .provisioning_delay
                    .map_or(DEFAULT_PROVISIONING_DELAY, |d| d.0),
                scan_interval: positive(
                    source,
                    &format!("{at}.scan_interval"),
                    n.scan_interval.map_or(DEFAULT_SCAN_INTERVAL, |d| d.0),
                )?,
            }
        }
        "bare-metal" => {
            for (field, set) in [
                ("max_nodes", n.max_nodes.is_some()),
                ("provisioning_delay", n.provisioning_delay.is_some()),
                ("scan_interval", n.scan_interval.is_some()),
            ] {
                if set {
                    return Err(source.field_error(
                        &format!("{at}.{field}"),
                        "bare-metal servers are fixed; remove this field or use kind = \"cloud\"",
                    ));
                }
            }
            Provisioning::BareMetal
        }
        other => {
            return Err(source.field_error(
                &format!("{at}.kind"),
                format!("`{other}`; allowed: \"cloud\", \"bare-metal\""),
            ))
        }
    };
    Ok(NodePool::new(
        nodes_now,
        allocatable,
        max_pods,
        provisioning,
    ))
}

/// Validates `[[compute.sites]]`; with `from_catchment` the shares come
/// from the network layer and must not be written.
fn sites(
    source: &Source,
    list: &[RawSite],
    request: i64,
    from_catchment: bool,
) -> Result<Vec<SiteSpec>, InputError> {
    if list.is_empty() {
        return Err(source.field_error("compute.sites", "at least one site"));
    }
    let mut total = 0.0;
    let mut shares = Vec::with_capacity(list.len());
    for (i, s) in list.iter().enumerate() {
        let share = match (s.share, from_catchment) {
            (Some(_), true) => {
                return Err(source.field_error(
                    &format!("compute.sites[{i}].share"),
                    "the shares come from compute.catchment; remove this field",
                ))
            }
            (None, true) => 1.0,
            (Some(v), false) => v,
            (None, false) => return Err(source.field_error(
                &format!("compute.sites[{i}]"),
                "missing `share`; allowed: a share of the demand, e.g. 0.12, or compute.catchment",
            )),
        };
        if !(share.is_finite() && share >= 0.0) {
            return Err(source.field_error(
                &format!("compute.sites[{i}].share"),
                format!("{share}; allowed: a share of zero or more"),
            ));
        }
        shares.push(share);
        if list[..i].iter().any(|o| o.name == s.name) {
            return Err(source.field_error(
                &format!("compute.sites[{i}].name"),
                format!("`{}` is used twice; site names must be unique", s.name),
            ));
        }
        total += share;
    }
    if total <= 0.0 {
        return Err(source.field_error("compute.sites", "the shares sum to zero"));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, s) in list.iter().enumerate() {
        let at = format!("compute.sites[{i}]");
        let mut next = Vec::new();
        for (j, name) in s.next.iter().flatten().enumerate() {
            match list.iter().position(|o| &o.name == name) {
                Some(k) if k != i => next.push(k),
                _ => {
                    let known: Vec<&str> = list.iter().map(|o| o.name.as_str()).collect();
                    return Err(source.field_error(
                        &format!("{at}.next[{j}]"),
                        format!(
                            "`{name}` is not another site; allowed: {}",
                            known.join(", ")
                        ),
                    ));
                }
            }
        }
        out.push(SiteSpec {
            name: s.name.clone(),
            // Normalised so the shares sum to 1.
            share: shares[i] / total,
            nodes: nodes(source, &format!("{at}.nodes"), &s.nodes, request)?,
            network_latency: s.network_latency.map_or(SimDuration::ZERO, |d| d.0),
            next,
        });
    }
    Ok(out)
}

/// Replaces the sites' shares (and, where a site gives none, its network
/// latency) with the steady-state anycast catchment of the network scenario
/// `file` (relative to this scenario): each site's share of the population
/// weight, and the weight-averaged TTFB of the populations it serves.
/// Sites are matched by name to the network's site tags.
fn from_network(
    source: &Source,
    file: &str,
    raw: &[RawSite],
    mut sites: Vec<SiteSpec>,
) -> Result<Vec<SiteSpec>, InputError> {
    let dir = source.path().parent().unwrap_or(std::path::Path::new("."));
    let network = super::Scenario::load(&dir.join(file))?;
    let super::ModelSpec::Network(net) = &network.model else {
        return Err(source.field_error(
            "compute.catchment",
            format!("`{file}` is not a network scenario; allowed: a file with a [network] section"),
        ));
    };
    let topo = &net.built;
    let catchment = cutover_models::bgp::catchment::compute(
        topo,
        &net.announcements,
        &net.latency,
        net.decision,
    )
    .map_err(|e| {
        source.field_error(
            "compute.catchment",
            format!(
                "BGP found no steady state in `{file}` ({} inputs processed)",
                e.processed
            ),
        )
    })?;
    let shares = catchment.site_shares(topo);
    let pops = topo.populations();
    let mut ttfb = vec![(0.0, 0.0); topo.sites().len()];
    for row in &catchment.rows {
        if let (Some(site), Some(ms)) = (row.site, row.ttfb_ms) {
            let w = pops[row.population].weight;
            ttfb[site].0 += w * ms;
            ttfb[site].1 += w;
        }
    }
    let names: Vec<&str> = topo.sites().iter().map(|s| s.name.as_str()).collect();
    let mut covered = vec![false; names.len()];
    for (i, site) in sites.iter_mut().enumerate() {
        let Some(j) = names.iter().position(|&n| n == site.name) else {
            return Err(source.field_error(
                &format!("compute.sites[{i}].name"),
                format!(
                    "`{}` is not a site of `{file}`; allowed: {}",
                    site.name,
                    names.join(", ")
                ),
            ));
        };
        covered[j] = true;
        site.share = shares[j];
        if raw[i].network_latency.is_none() && ttfb[j].1 > 0.0 {
            site.network_latency = SimDuration::from_secs_f64(ttfb[j].0 / ttfb[j].1 / 1000.0);
        }
    }
    if let Some(j) = (0..names.len()).find(|&j| !covered[j] && shares[j] > 0.0) {
        return Err(source.field_error(
            "compute.sites",
            format!(
                "`{file}` sends {:.1} % of users to `{}`, which has no [[compute.sites]] entry",
                100.0 * shares[j],
                names[j]
            ),
        ));
    }
    let total: f64 = sites.iter().map(|s| s.share).sum();
    if total <= 0.0 {
        return Err(source.field_error(
            "compute.catchment",
            format!("no population of `{file}` reaches these sites"),
        ));
    }
    for site in &mut sites {
        site.share /= total;
    }
    Ok(sites)
}

/// Validates `[compute.overflow]`.
fn overflow(source: &Source, o: &RawOverflow) -> Result<OverflowSpec, InputError> {
    let mechanism = match o.mechanism.as_str() {
        "l7" => {
            if o.convergence.is_some() {
                return Err(source.field_error(
                    "compute.overflow.convergence",
                    "an L7 proxy moves traffic at once; convergence applies to mechanism = \"bgp\"",
                ));
            }
            OverflowMechanism::L7
        }
        "bgp" => OverflowMechanism::Bgp {
            convergence: o.convergence.map_or(DEFAULT_BGP_CONVERGENCE, |d| d.0),
        },
        other => {
            return Err(source.field_error(
                "compute.overflow.mechanism",
                format!("`{other}`; allowed: \"l7\", \"bgp\""),
            ))
        }
    };
    let fraction = |field: &str, v: Option<f64>, d: f64| -> Result<f64, InputError> {
        let v = v.unwrap_or(d);
        if v.is_finite() && v > 0.0 && v <= 1.0 {
            Ok(v)
        } else {
            Err(source.field_error(
                &format!("compute.overflow.{field}"),
                format!("{v}; allowed: above 0, up to 1"),
            ))
        }
    };
    let threshold = fraction("threshold", o.threshold, DEFAULT_OVERFLOW_THRESHOLD)?;
    let release = fraction("release", o.release, DEFAULT_OVERFLOW_RELEASE)?;
    if release >= threshold {
        return Err(source.field_error(
            "compute.overflow.release",
            "must be below threshold, or sites would flap",
        ));
    }
    Ok(OverflowSpec {
        mechanism,
        threshold,
        release,
        step: fraction("step", o.step, DEFAULT_OVERFLOW_STEP)?,
        check_interval: positive(
            source,
            "compute.overflow.check_interval",
            o.check_interval.map_or(DEFAULT_OVERFLOW_CHECK, |d| d.0),
        )?,
        extra_latency: o
            .extra_latency
            .map_or(DEFAULT_OVERFLOW_EXTRA_LATENCY, |d| d.0),
    })
}

/// Validates `[compute]`.
pub(super) fn validate(source: &Source, raw: &RawCompute) -> Result<ComputeSpec, InputError> {
    let duration = positive(source, "compute.duration", raw.duration.0)?;
    let tick = positive(
        source,
        "compute.tick",
        raw.tick.map_or(DEFAULT_TICK, |d| d.0),
    )?;
    if tick > SimDuration::from_secs(60) || duration.as_nanos() / tick.as_nanos() > MAX_TICKS {
        return Err(source.field_error(
            "compute.tick",
            format!("allowed: up to \"60s\" and at most {MAX_TICKS} ticks in the duration"),
        ));
    }

    let request_level = match raw.fidelity.as_deref() {
        None | Some("fluid") => false,
        Some("request") => true,
        Some(other) => {
            return Err(source.field_error(
                "compute.fidelity",
                format!("`{other}`; allowed: \"fluid\", \"request\""),
            ))
        }
    };

    // Traffic.
    let tr = &raw.traffic;
    let think_time = positive(
        source,
        "compute.traffic.think_time",
        tr.think_time.map_or(DEFAULT_THINK_TIME, |d| d.0),
    )?;
    let amplitude = tr.diurnal_amplitude.unwrap_or(0.0);
    if !(0.0..=1.0).contains(&amplitude) {
        return Err(source.field_error(
            "compute.traffic.diurnal_amplitude",
            format!("{amplitude}; allowed: 0 to 1"),
        ));
    }
    let diurnal = tr.base_rate.map(|r| Diurnal {
        mean_rate_per_s: r.0,
        amplitude,
        peak_at: tr.diurnal_peak.map_or(SimDuration::ZERO, |d| d.0),
    });
    let mut spikes = Vec::new();
    if let Some(s) = &tr.spike {
        for (name, v) in [("base_users", s.base_users), ("peak_users", s.peak_users)] {
            if !(v.is_finite() && (0.0..=1e9).contains(&v)) {
                return Err(source.field_error(
                    &format!("compute.traffic.spike.{name}"),
                    format!("{v}; allowed: 0 to 1e9 users"),
                ));
            }
        }
        spikes.push(FlashSpike {
            start: cutover_models::SimTime::ZERO + s.start.0,
            base_users: s.base_users,
            peak_users: s.peak_users,
            ramp: s.ramp.0,
            hold: s.hold.0,
            decay: s.decay.0,
        });
    }
    let trace = match &tr.trace {
        None => None,
        Some(file) => {
            // Relative to the scenario file.
            let dir = source.path().parent().unwrap_or(std::path::Path::new("."));
            Some(super::trace::load(&dir.join(file))?)
        }
    };
    if diurnal.is_none() && spikes.is_empty() && trace.is_none() {
        return Err(source.field_error(
            "compute.traffic",
            "no demand; allowed: base_rate, a [compute.traffic.spike] and/or a trace",
        ));
    }
    let demand = Demand {
        diurnal,
        spikes,
        think_time,
        trace,
    };
    if request_level {
        // Every request is an event: bound the work before starting.
        let samples = (duration.as_nanos() / tick.as_nanos()).clamp(1, 100_000);
        let step = duration.as_nanos() / samples;
        let peak = (0..samples)
            .map(|i| demand.rate_at(cutover_models::SimTime::from_nanos(i * step)))
            .fold(0.0, f64::max);
        let requests = peak * duration.as_secs_f64();
        if peak * tick.as_secs_f64() > MAX_REQUESTS_PER_TICK || requests > MAX_REQUESTS {
            return Err(source.field_error(
                "compute.fidelity",
                format!(
                    "request level at a peak of {peak:.0} requests/s over {duration} is too many events \
                     (at most {MAX_REQUESTS_PER_TICK:.0} per tick and {MAX_REQUESTS:.0} in all); \
                     allowed: \"fluid\" for this demand"
                ),
            ));
        }
    }

    // Deployment.
    let d = &raw.deployment;
    let request = parse_cpu(&d.cpu_request)
        .map_err(|m| source.field_error("compute.deployment.cpu_request", m))?;
    let limit = match &d.cpu_limit {
        Some(l) => {
            parse_cpu(l).map_err(|m| source.field_error("compute.deployment.cpu_limit", m))?
        }
        None => request,
    };
    if limit < request {
        return Err(source.field_error(
            "compute.deployment.cpu_limit",
            "is below cpu_request; allowed: a limit at or above the request",
        ));
    }
    let replicas = count(
        source,
        "compute.deployment.replicas",
        d.replicas,
        1,
        MAX_REPLICAS,
    )?;
    let service = ServiceProfile {
        cpu_per_request: positive(
            source,
            "compute.deployment.cpu_per_request",
            d.cpu_per_request.0,
        )?,
        concurrency: count(
            source,
            "compute.deployment.concurrency",
            d.concurrency,
            1,
            100_000,
        )?,
        queue_limit: count(
            source,
            "compute.deployment.queue_limit",
            d.queue_limit,
            0,
            1_000_000,
        )?,
        timeout: positive(source, "compute.deployment.timeout", d.timeout.0)?,
    };

    let balancing = match d.balancing.as_deref() {
        None | Some("random") => Balancing::Random,
        Some("least-request") => Balancing::LeastRequest,
        Some(other) => {
            return Err(source.field_error(
                "compute.deployment.balancing",
                format!("`{other}`; allowed: \"random\", \"least-request\""),
            ))
        }
    };

    // HPA.
    let h = &raw.hpa;
    let max_replicas = count(
        source,
        "compute.hpa.max_replicas",
        h.max_replicas,
        1,
        MAX_REPLICAS,
    )?;
    let min_replicas = count(
        source,
        "compute.hpa.min_replicas",
        h.min_replicas.unwrap_or(1),
        1,
        i64::from(max_replicas),
    )?;
    let target = count(
        source,
        "compute.hpa.target_cpu_utilization",
        h.target_cpu_utilization,
        1,
        1000,
    )?;
    let tolerance = h
        .tolerance
        .unwrap_or(cutover_models::hpa::replicas::DEFAULT_TOLERANCE);
    if !(0.0..1.0).contains(&tolerance) {
        return Err(source.field_error(
            "compute.hpa.tolerance",
            format!("{tolerance}; allowed: 0 up to (not including) 1"),
        ));
    }
    let defaults = ReplicaCalcConfig::default();
    let mut hpa = HpaSpec::new(min_replicas as i32, max_replicas as i32, target as i32);
    hpa.calc = ReplicaCalcConfig {
        tolerance_up: tolerance,
        tolerance_down: tolerance,
        cpu_initialization_period: h
            .cpu_initialization_period
            .map_or(defaults.cpu_initialization_period, |d| d.0),
        initial_readiness_delay: h
            .initial_readiness_delay
            .map_or(defaults.initial_readiness_delay, |d| d.0),
    };
    hpa.sync_period = positive(
        source,
        "compute.hpa.sync_period",
        h.sync_period.map_or(hpa.sync_period, |d| d.0),
    )?;
    if h.legacy_behavior == Some(true) {
        if h.scale_up.is_some() || h.scale_down.is_some() {
            return Err(source.field_error(
                "compute.hpa.legacy_behavior",
                "legacy_behavior = true means no behavior; remove scale_up and scale_down",
            ));
        }
        hpa.behavior = None;
    } else {
        hpa.behavior = Some(Behavior {
            scale_up: rules(
                source,
                "compute.hpa.scale_up",
                h.scale_up.as_ref(),
                ScalingRules::default_scale_up(),
            )?,
            scale_down: rules(
                source,
                "compute.hpa.scale_down",
                h.scale_down.as_ref(),
                ScalingRules::default_scale_down(),
            )?,
        });
    }
    let metric_resolution = positive(
        source,
        "compute.hpa.metric_resolution",
        h.metric_resolution
            .map_or(DEFAULT_METRIC_RESOLUTION, |d| d.0),
    )?;

    // Start-up.
    let s = raw.startup.as_ref();
    let dflt = StartupProfile::default();
    let pick =
        |f: fn(&RawStartup) -> Option<Duration>, d: SimDuration| s.and_then(f).map_or(d, |x| x.0);
    let warmup_cpu_factor = s
        .and_then(|s| s.warmup_cpu_factor)
        .unwrap_or(dflt.warmup_cpu_factor);
    if !(warmup_cpu_factor.is_finite() && (1.0..=100.0).contains(&warmup_cpu_factor)) {
        return Err(source.field_error(
            "compute.startup.warmup_cpu_factor",
            format!("{warmup_cpu_factor}; allowed: 1 (no slowdown) to 100"),
        ));
    }
    let startup = StartupProfile {
        scheduling: pick(|s| s.scheduling, dflt.scheduling),
        image_pull_cached: pick(|s| s.image_pull_cached, dflt.image_pull_cached),
        image_pull_uncached: pick(|s| s.image_pull_uncached, dflt.image_pull_uncached),
        container_start: pick(|s| s.container_start, dflt.container_start),
        app_start: pick(|s| s.app_start, dflt.app_start),
        probe_initial_delay: pick(|s| s.probe_initial_delay, dflt.probe_initial_delay),
        probe_period: positive(
            source,
            "compute.startup.probe_period",
            pick(|s| s.probe_period, dflt.probe_period),
        )?,
        warmup: pick(|s| s.warmup, dflt.warmup),
        warmup_cpu_factor,
        warmup_added_latency: pick(|s| s.warmup_added_latency, dflt.warmup_added_latency),
    };

    // Sites.
    let sites = match (&raw.nodes, &raw.sites) {
        (Some(n), None) => vec![SiteSpec {
            name: "region".to_string(),
            share: 1.0,
            nodes: nodes(source, "compute.nodes", n, request)?,
            network_latency: raw
                .slo
                .as_ref()
                .and_then(|s| s.network_latency)
                .map_or(SimDuration::ZERO, |d| d.0),
            next: Vec::new(),
        }],
        (None, Some(list)) => sites(source, list, request, raw.catchment.is_some())?,
        _ => {
            return Err(source.field_error(
                "compute",
                "describe the nodes once; allowed: [compute.nodes] for one region, or [[compute.sites]] with their own nodes",
            ))
        }
    };
    let sites = match (&raw.catchment, &raw.sites) {
        (None, _) => sites,
        (Some(file), Some(list)) => from_network(source, file, list, sites)?,
        (Some(_), None) => {
            return Err(source.field_error(
                "compute.catchment",
                "a catchment splits demand over [[compute.sites]]; allowed with sites only",
            ))
        }
    };
    let overflow = match &raw.overflow {
        None => None,
        Some(o) => Some(overflow(source, o)?),
    };
    if overflow.is_some() && sites.iter().all(|s| s.next.is_empty()) {
        return Err(source.field_error(
            "compute.overflow",
            "no site has a `next` list to overflow to; allowed: next = [\"site\", ...] on [[compute.sites]]",
        ));
    }
    let provisioning = sites[0].nodes.provisioning;
    let search = match &raw.search {
        None => None,
        Some(r) => {
            if sites.len() != 1 || provisioning != Provisioning::BareMetal {
                return Err(source.field_error(
                    "compute.search",
                    "the server search needs one fixed pool; allowed with [compute.nodes] kind = \"bare-metal\"",
                ));
            }
            let fraction = r
                .max_failed_fraction
                .unwrap_or(DEFAULT_SEARCH_FAILED_FRACTION);
            if !(0.0..=1.0).contains(&fraction) {
                return Err(source.field_error(
                    "compute.search.max_failed_fraction",
                    format!("{fraction}; allowed: 0 to 1, e.g. 0.01 for 1 %"),
                ));
            }
            Some(ServerSearch {
                max_servers: count(
                    source,
                    "compute.search.max_servers",
                    r.max_servers,
                    1,
                    10_000,
                )?,
                p99: positive(
                    source,
                    "compute.search.p99",
                    r.p99.map_or(DEFAULT_SEARCH_P99, |d| d.0),
                )?,
                max_failed_fraction: fraction,
                fill_servers: r.fill_servers.unwrap_or(true),
            })
        }
    };

    let slo = raw.slo.as_ref();
    Ok(ComputeSpec {
        duration,
        tick,
        request_level,
        demand,
        service,
        balancing,
        initial_replicas: replicas,
        cpu_request_millicores: request,
        cpu_limit_millicores: limit,
        hpa,
        metric_resolution,
        startup,
        sites,
        overflow,
        slow_threshold: slo
            .and_then(|s| s.slow_threshold)
            .map_or(DEFAULT_SLOW_THRESHOLD, |d| d.0),
        search,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_quantities() {
        assert_eq!(parse_cpu("500m"), Ok(500));
        assert_eq!(parse_cpu("2"), Ok(2000));
        assert_eq!(parse_cpu("0.25"), Ok(250));
        assert!(parse_cpu("two").unwrap_err().contains("500m"));
        assert!(parse_cpu("0").unwrap_err().contains("out of range"));
        assert!(parse_cpu("-1").is_err());
    }
}
