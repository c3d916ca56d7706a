//! The estate's compute: the deployment every site runs (`[deployment]`),
//! its autoscaler (`[hpa]`), pod start-up (`[startup]`), node pools
//! (`[nodes]`, or `[sites.nodes]` per site), how a full site overflows to
//! the next (`[overflow]`) and the service level (`[slo]`).
//!
//! CPU amounts are written as Kubernetes writes them: `"500m"` (millicores)
//! or `"2"` (cores), as strings.

use cutover_models::capacity::ServiceProfile;
use cutover_models::hpa::{
    Behavior, HpaSpec, MetricSpec, PolicyKind, ReplicaCalcConfig, ResourceName, ScalingPolicy,
    ScalingRules, SelectPolicy, Target,
};
use cutover_models::nodes::{
    NodePool, Provisioning, DEFAULT_MAX_PODS_PER_NODE, DEFAULT_PROVISIONING_DELAY,
    DEFAULT_SCAN_INTERVAL,
};
use cutover_models::pods::StartupProfile;
use cutover_models::SimDuration;
use serde::Deserialize;

use crate::scenario::units::Duration;
use crate::scenario::{InputError, Source};

/// `[deployment]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDeployment {
    /// Kubernetes manifests (a Deployment and its HPA), relative to this file.
    manifests: Option<Vec<String>>,
    replicas: Option<i64>,
    cpu_request: Option<String>,
    cpu_limit: Option<String>,
    memory_base: Option<String>,
    memory_per_request: Option<String>,
    cpu_per_request: Duration,
    concurrency: i64,
    queue_limit: i64,
    timeout: Duration,
    balancing: Option<String>,
}

impl RawDeployment {
    /// Whether it names Kubernetes manifests.
    pub(crate) fn has_manifests(&self) -> bool {
        self.manifests.is_some()
    }
}

/// `[hpa]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHpa {
    min_replicas: Option<i64>,
    max_replicas: Option<i64>,
    target_cpu_utilization: Option<i64>,
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

/// `[startup]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStartup {
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

/// A node pool as written (`[nodes]` or `[sites.nodes]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNodes {
    kind: String,
    count: i64,
    allocatable_cpu: String,
    max_pods_per_node: Option<i64>,
    max_nodes: Option<i64>,
    provisioning_delay: Option<Duration>,
    scan_interval: Option<Duration>,
}

/// `[overflow]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOverflow {
    enabled: Option<bool>,
    threshold: Option<f64>,
    release: Option<f64>,
    step: Option<f64>,
    check_interval: Option<Duration>,
}

/// `[slo]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSlo {
    slow_threshold: Option<Duration>,
    availability: Option<f64>,
}

/// How a site spreads requests over its ready pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Balancing {
    /// Uniformly at random, whatever each pod's state (kube-proxy in
    /// iptables mode picks a backend at random).
    Random,
    /// The less busy of two random pods (Envoy's default `LEAST_REQUEST`,
    /// power of two choices); the fluid splits in proportion to capacity.
    LeastRequest,
}

/// The service every site runs, and how it scales.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
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
    /// Memory request per pod, bytes (0 when none is set).
    pub memory_request_bytes: i64,
    /// A pod's memory: this base, bytes, ...
    pub memory_base_bytes: i64,
    /// ... plus this per request in service, bytes.
    pub memory_per_request_bytes: i64,
    /// The HPA.
    pub hpa: HpaSpec,
    /// metrics-server scrape interval (its samples' window).
    pub metric_resolution: SimDuration,
    /// Pod start-up.
    pub startup: StartupProfile,
}

/// How a site near its limit sheds new traffic to the nearest healthy site
/// through an L7 proxy (the extra hop costs the RTT between the two sites).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OverflowSpec {
    /// Above this load (CPU used over CPU available) a site sheds more.
    pub threshold: f64,
    /// Only sites below this load take overflow.
    pub release: f64,
    /// Largest share of a site's traffic moved back per check.
    pub step: f64,
    /// How often sites check.
    pub check_interval: SimDuration,
}

/// The service level the estate promises.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slo {
    /// Requests slower than this count as slow (the story's p99 gate).
    pub slow_threshold: SimDuration,
    /// Share of requests that must succeed (the story: 99.95 %).
    pub availability: f64,
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
/// metrics-server `--metric-resolution`: 15 s, as set by the released
/// metrics-server manifests (components.yaml, v0.5 on).
pub const DEFAULT_METRIC_RESOLUTION: SimDuration = SimDuration::from_secs(15);
/// Slow threshold: the story's p99 health gate, 200 ms.
pub const DEFAULT_SLOW_THRESHOLD: SimDuration = SimDuration::from_millis(200);
/// Availability target: the story's storefront, 99.95 %.
pub const DEFAULT_AVAILABILITY: f64 = 0.9995;
/// Most replicas an HPA may ask for here.
pub const MAX_REPLICAS: i64 = 100_000;

/// Validates `[deployment]` with `[hpa]` and `[startup]`, each from the
/// file that holds it; with `manifests`, the Deployment and HPA they hold
/// take the place of the fields they set.
pub(crate) fn deployment(
    (source, d): (&Source, &RawDeployment),
    (hpa_source, h): (&Source, Option<&RawHpa>),
    (startup_source, s): (&Source, Option<&RawStartup>),
) -> Result<Deployment, InputError> {
    let manifests = match &d.manifests {
        Some(list) => Some(read_manifests(source, list)?),
        None => None,
    };
    let (request, limit, replicas, memory_request) = match &manifests {
        Some(m) => {
            for (field, set) in [
                ("replicas", d.replicas.is_some()),
                ("cpu_request", d.cpu_request.is_some()),
                ("cpu_limit", d.cpu_limit.is_some()),
            ] {
                if set {
                    return Err(source.field_error(
                        &format!("deployment.{field}"),
                        "is set by the Deployment in `manifests`; remove it here",
                    ));
                }
            }
            let k = &m.deployment;
            (
                k.cpu_request,
                k.cpu_limit,
                k.replicas as u32,
                k.memory_request,
            )
        }
        None => {
            let (request, limit) = cpu_fields(source, d)?;
            let Some(replicas) = d.replicas else {
                return Err(missing(
                    source,
                    "deployment.replicas",
                    "a whole number of pods",
                ));
            };
            let replicas = count(source, "deployment.replicas", replicas, 1, MAX_REPLICAS)?;
            (request, limit, replicas, 0)
        }
    };
    let service = ServiceProfile {
        cpu_per_request: positive(source, "deployment.cpu_per_request", d.cpu_per_request.0)?,
        concurrency: count(source, "deployment.concurrency", d.concurrency, 1, 100_000)?,
        queue_limit: count(
            source,
            "deployment.queue_limit",
            d.queue_limit,
            0,
            1_000_000,
        )?,
        timeout: positive(source, "deployment.timeout", d.timeout.0)?,
    };
    let balancing = match d.balancing.as_deref() {
        None | Some("random") => Balancing::Random,
        Some("least-request") => Balancing::LeastRequest,
        Some(other) => {
            return Err(source.field_error(
                "deployment.balancing",
                format!("`{other}`; allowed: \"random\", \"least-request\""),
            ))
        }
    };
    let k8s_hpa = manifests.as_ref().and_then(|m| m.hpa.as_ref());
    let (hpa, metric_resolution) = match k8s_hpa {
        Some(k) => hpa_from_manifest(hpa_source, h, k)?,
        None => match h {
            Some(h) => hpa(hpa_source, h)?,
            None => {
                return Err(missing(
                    source,
                    "hpa",
                    "an [hpa] section, or an HPA in `manifests`",
                ))
            }
        },
    };
    let (memory_base_bytes, memory_per_request_bytes) =
        memory_model(source, d, &hpa, memory_request)?;
    let probe = manifests.as_ref().and_then(|m| m.deployment.readiness);
    Ok(Deployment {
        service,
        balancing,
        initial_replicas: replicas,
        cpu_request_millicores: request,
        cpu_limit_millicores: limit,
        memory_request_bytes: memory_request,
        memory_base_bytes,
        memory_per_request_bytes,
        hpa,
        metric_resolution,
        startup: with_probe(startup_source, startup(startup_source, s)?, s, probe)?,
    })
}

/// A required field that is absent.
fn missing(source: &Source, field: &str, allowed: &str) -> InputError {
    source.field_error(field, format!("missing; allowed: {allowed}"))
}

/// `cpu_request` and `cpu_limit` as written in the estate.
fn cpu_fields(source: &Source, d: &RawDeployment) -> Result<(i64, i64), InputError> {
    let Some(text) = &d.cpu_request else {
        return Err(missing(
            source,
            "deployment.cpu_request",
            "a CPU quantity such as \"500m\", or `manifests` naming a Deployment",
        ));
    };
    let request = parse_cpu(text).map_err(|m| source.field_error("deployment.cpu_request", m))?;
    let limit = match &d.cpu_limit {
        Some(l) => parse_cpu(l).map_err(|m| source.field_error("deployment.cpu_limit", m))?,
        None => request,
    };
    if limit < request {
        return Err(source.field_error(
            "deployment.cpu_limit",
            "is below cpu_request; allowed: a limit at or above the request",
        ));
    }
    Ok((request, limit))
}

/// Reads the manifests `list` names, relative to the file holding them.
fn read_manifests(source: &Source, list: &[String]) -> Result<super::k8s::Manifests, InputError> {
    if list.is_empty() || list.len() > 16 {
        return Err(source.field_error(
            "deployment.manifests",
            "allowed: 1 to 16 YAML files holding a Deployment and its HPA",
        ));
    }
    let dir = source.path().parent().unwrap_or(std::path::Path::new(""));
    let paths: Vec<_> = list.iter().map(|f| dir.join(f)).collect();
    super::k8s::read(&paths).map_err(|e| match e {
        InputError::Read { path, reason } => source.field_error(
            "deployment.manifests",
            format!("cannot read `{}`: {reason}", path.display()),
        ),
        other => other,
    })
}

/// The memory model a memory metric reads: `memory_base` plus
/// `memory_per_request` for each request in service (Little's law: the
/// rate a pod serves times its CPU per request, i.e. its busy cores).
/// Both are the user's measurements; there is no default, so a memory
/// metric without `memory_base` is refused.
fn memory_model(
    source: &Source,
    d: &RawDeployment,
    hpa: &HpaSpec,
    memory_request: i64,
) -> Result<(i64, i64), InputError> {
    let bytes = |field: &str, v: &Option<String>| -> Result<i64, InputError> {
        let Some(t) = v else { return Ok(0) };
        super::k8s::quantity_milli(t)
            .map(|m| (m + 999) / 1000)
            .map_err(|m| source.field_error(&format!("deployment.{field}"), m))
    };
    let base = bytes("memory_base", &d.memory_base)?;
    let per_request = bytes("memory_per_request", &d.memory_per_request)?;
    for m in &hpa.metrics {
        if let MetricSpec::Resource {
            name: ResourceName::Memory,
            target,
        } = m
        {
            if d.memory_base.is_none() {
                return Err(missing(
                    source,
                    "deployment.memory_base",
                    "a memory quantity such as \"300Mi\" (a memory metric needs the pods' memory model)",
                ));
            }
            if matches!(target, Target::Utilization(_)) && memory_request == 0 {
                return Err(source.field_error(
                    "deployment.manifests",
                    "a memory utilisation target needs the containers' memory requests",
                ));
            }
        }
    }
    Ok((base, per_request))
}

/// The readiness probe of the manifests in place of `[startup]`'s probe
/// fields.
fn with_probe(
    source: &Source,
    mut profile: StartupProfile,
    raw: Option<&RawStartup>,
    probe: Option<super::k8s::Probe>,
) -> Result<StartupProfile, InputError> {
    let Some(p) = probe else { return Ok(profile) };
    if let Some(r) = raw {
        for (field, set) in [
            ("probe_initial_delay", r.probe_initial_delay.is_some()),
            ("probe_period", r.probe_period.is_some()),
        ] {
            if set {
                return Err(source.field_error(
                    &format!("startup.{field}"),
                    "is set by the readiness probe in `manifests`; remove it here",
                ));
            }
        }
    }
    profile.probe_initial_delay = p.initial_delay;
    profile.probe_period = p.period;
    profile.probe_success_threshold = p.success_threshold;
    Ok(profile)
}

/// `[hpa]` next to an HPA from the manifests: only the controller's flags
/// (sync period, CPU initialisation period, readiness delay, metrics
/// resolution), which an HPA object does not hold.
fn hpa_from_manifest(
    source: &Source,
    h: Option<&RawHpa>,
    k: &super::k8s::K8sHpa,
) -> Result<(HpaSpec, SimDuration), InputError> {
    if let Some(h) = h {
        for (field, set) in [
            ("min_replicas", h.min_replicas.is_some()),
            ("max_replicas", h.max_replicas.is_some()),
            ("target_cpu_utilization", h.target_cpu_utilization.is_some()),
            ("tolerance", h.tolerance.is_some()),
            ("legacy_behavior", h.legacy_behavior.is_some()),
            ("scale_up", h.scale_up.is_some()),
            ("scale_down", h.scale_down.is_some()),
        ] {
            if set {
                return Err(source.field_error(
                    &format!("hpa.{field}"),
                    "is set by the HorizontalPodAutoscaler in `manifests`; remove it here",
                ));
            }
        }
    }
    let defaults = ReplicaCalcConfig::default();
    let mut hpa = HpaSpec::new(k.min_replicas as i32, k.max_replicas as i32, 80);
    hpa.metrics = k.metrics.clone();
    hpa.behavior = Some(k.behavior.clone());
    let flag = |f: fn(&RawHpa) -> Option<Duration>| h.and_then(f).map(|d| d.0);
    hpa.calc = ReplicaCalcConfig {
        tolerance_up: k.tolerance_up.unwrap_or(defaults.tolerance_up),
        tolerance_down: k.tolerance_down.unwrap_or(defaults.tolerance_down),
        cpu_initialization_period: flag(|h| h.cpu_initialization_period)
            .unwrap_or(defaults.cpu_initialization_period),
        initial_readiness_delay: flag(|h| h.initial_readiness_delay)
            .unwrap_or(defaults.initial_readiness_delay),
    };
    hpa.sync_period = at_least_a_second(
        source,
        "hpa.sync_period",
        flag(|h| h.sync_period).unwrap_or(hpa.sync_period),
    )?;
    let metric_resolution = at_least_a_second(
        source,
        "hpa.metric_resolution",
        flag(|h| h.metric_resolution).unwrap_or(DEFAULT_METRIC_RESOLUTION),
    )?;
    Ok((hpa, metric_resolution))
}

/// Validates `[hpa]`; returns the HPA and metrics-server's resolution.
fn hpa(source: &Source, h: &RawHpa) -> Result<(HpaSpec, SimDuration), InputError> {
    let Some(max) = h.max_replicas else {
        return Err(missing(
            source,
            "hpa.max_replicas",
            "a whole number of pods",
        ));
    };
    let Some(target) = h.target_cpu_utilization else {
        return Err(missing(
            source,
            "hpa.target_cpu_utilization",
            "a whole percentage, e.g. 70",
        ));
    };
    let max_replicas = count(source, "hpa.max_replicas", max, 1, MAX_REPLICAS)?;
    let min_replicas = count(
        source,
        "hpa.min_replicas",
        h.min_replicas.unwrap_or(1),
        1,
        i64::from(max_replicas),
    )?;
    let target = count(source, "hpa.target_cpu_utilization", target, 1, 1000)?;
    let tolerance = h
        .tolerance
        .unwrap_or(cutover_models::hpa::replicas::DEFAULT_TOLERANCE);
    if !(0.0..1.0).contains(&tolerance) {
        return Err(source.field_error(
            "hpa.tolerance",
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
    hpa.sync_period = at_least_a_second(
        source,
        "hpa.sync_period",
        h.sync_period.map_or(hpa.sync_period, |d| d.0),
    )?;
    if h.legacy_behavior == Some(true) {
        if h.scale_up.is_some() || h.scale_down.is_some() {
            return Err(source.field_error(
                "hpa.legacy_behavior",
                "legacy_behavior = true means no behavior; remove scale_up and scale_down",
            ));
        }
        hpa.behavior = None;
    } else {
        hpa.behavior = Some(Behavior {
            scale_up: rules(
                source,
                "hpa.scale_up",
                h.scale_up.as_ref(),
                ScalingRules::default_scale_up(),
            )?,
            scale_down: rules(
                source,
                "hpa.scale_down",
                h.scale_down.as_ref(),
                ScalingRules::default_scale_down(),
            )?,
        });
    }
    let metric_resolution = at_least_a_second(
        source,
        "hpa.metric_resolution",
        h.metric_resolution
            .map_or(DEFAULT_METRIC_RESOLUTION, |d| d.0),
    )?;
    Ok((hpa, metric_resolution))
}

/// A control-loop period: at least a second (a loop every nanosecond
/// would never let a run end; Kubernetes' own periods are seconds).
fn at_least_a_second(
    source: &Source,
    field: &str,
    d: SimDuration,
) -> Result<SimDuration, InputError> {
    if d < SimDuration::from_secs(1) {
        Err(source.field_error(field, format!("{d}; allowed: at least \"1s\"")))
    } else {
        Ok(d)
    }
}

/// Validates `[startup]`.
fn startup(source: &Source, s: Option<&RawStartup>) -> Result<StartupProfile, InputError> {
    let dflt = StartupProfile::default();
    let pick =
        |f: fn(&RawStartup) -> Option<Duration>, d: SimDuration| s.and_then(f).map_or(d, |x| x.0);
    let warmup_cpu_factor = s
        .and_then(|s| s.warmup_cpu_factor)
        .unwrap_or(dflt.warmup_cpu_factor);
    if !(warmup_cpu_factor.is_finite() && (1.0..=100.0).contains(&warmup_cpu_factor)) {
        return Err(source.field_error(
            "startup.warmup_cpu_factor",
            format!("{warmup_cpu_factor}; allowed: 1 (no slowdown) to 100"),
        ));
    }
    Ok(StartupProfile {
        scheduling: pick(|s| s.scheduling, dflt.scheduling),
        image_pull_cached: pick(|s| s.image_pull_cached, dflt.image_pull_cached),
        image_pull_uncached: pick(|s| s.image_pull_uncached, dflt.image_pull_uncached),
        container_start: pick(|s| s.container_start, dflt.container_start),
        app_start: pick(|s| s.app_start, dflt.app_start),
        probe_initial_delay: pick(|s| s.probe_initial_delay, dflt.probe_initial_delay),
        probe_period: positive(
            source,
            "startup.probe_period",
            pick(|s| s.probe_period, dflt.probe_period),
        )?,
        probe_success_threshold: dflt.probe_success_threshold,
        warmup: pick(|s| s.warmup, dflt.warmup),
        warmup_cpu_factor,
        warmup_added_latency: pick(|s| s.warmup_added_latency, dflt.warmup_added_latency),
    })
}

/// Validates `[overflow]`; `None` when it says `enabled = false` (an
/// experiment's way to turn the estate's overflow off).
pub(crate) fn overflow(
    source: &Source,
    o: &RawOverflow,
) -> Result<Option<OverflowSpec>, InputError> {
    if o.enabled == Some(false) {
        return Ok(None);
    }
    overflow_spec(source, o).map(Some)
}

fn overflow_spec(source: &Source, o: &RawOverflow) -> Result<OverflowSpec, InputError> {
    let fraction = |field: &str, v: Option<f64>, d: f64| -> Result<f64, InputError> {
        let v = v.unwrap_or(d);
        if v.is_finite() && v > 0.0 && v <= 1.0 {
            Ok(v)
        } else {
            Err(source.field_error(
                &format!("overflow.{field}"),
                format!("{v}; allowed: above 0, up to 1"),
            ))
        }
    };
    let threshold = fraction("threshold", o.threshold, DEFAULT_OVERFLOW_THRESHOLD)?;
    let release = fraction("release", o.release, DEFAULT_OVERFLOW_RELEASE)?;
    if release >= threshold {
        return Err(source.field_error(
            "overflow.release",
            "must be below threshold, or sites would flap",
        ));
    }
    Ok(OverflowSpec {
        threshold,
        release,
        step: fraction("step", o.step, DEFAULT_OVERFLOW_STEP)?,
        check_interval: at_least_a_second(
            source,
            "overflow.check_interval",
            o.check_interval.map_or(DEFAULT_OVERFLOW_CHECK, |d| d.0),
        )?,
    })
}

/// Validates `[slo]`.
pub(crate) fn slo(source: &Source, raw: Option<&RawSlo>) -> Result<Slo, InputError> {
    let availability = raw
        .and_then(|s| s.availability)
        .unwrap_or(DEFAULT_AVAILABILITY);
    if !(availability.is_finite() && availability > 0.0 && availability < 1.0) {
        return Err(source.field_error(
            "slo.availability",
            format!("{availability}; allowed: a share above 0 and below 1, e.g. 0.9995"),
        ));
    }
    Ok(Slo {
        slow_threshold: positive(
            source,
            "slo.slow_threshold",
            raw.and_then(|s| s.slow_threshold)
                .map_or(DEFAULT_SLOW_THRESHOLD, |d| d.0),
        )?,
        availability,
    })
}

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
pub(crate) fn nodes(
    source: &Source,
    at: &str,
    n: &RawNodes,
    request: i64,
) -> Result<NodePool, InputError> {
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
