//! The replica calculation of the Kubernetes HPA controller, ported from
//! `GetResourceReplicas`, `calcPlainMetricReplicas`,
//! `getUsageRatioReplicaCount`, `GetObjectPerPodMetricReplicas`,
//! `GetExternalPerPodMetricReplicas`, `groupPods`,
//! `GetResourceUtilizationRatio` and `GetMetricUsageRatio` in
//! kubernetes/kubernetes `pkg/controller/podautoscaler/replica_calculator.go`
//! and `pkg/controller/podautoscaler/metrics/utilization.go` (v1.33).
//!
//! The arithmetic is the controller's, including its integer steps: CPU is
//! in millicores, the utilisation is a whole percentage truncated towards
//! zero (`metricsTotal * 100 / requestsTotal`), and the usage ratio is that
//! percentage over the target percentage.

use crate::time::{SimDuration, SimTime};

/// The HPA controller's `--horizontal-pod-autoscaler-tolerance` default: 0.1
/// (Kubernetes docs, "Horizontal Pod Autoscaling", algorithm details).
pub const DEFAULT_TOLERANCE: f64 = 0.1;
/// `--horizontal-pod-autoscaler-cpu-initialization-period` default: 5 min
/// (kube-controller-manager reference).
pub const DEFAULT_CPU_INITIALIZATION_PERIOD: SimDuration = SimDuration::from_secs(300);
/// `--horizontal-pod-autoscaler-initial-readiness-delay` default: 30 s
/// (kube-controller-manager reference).
pub const DEFAULT_INITIAL_READINESS_DELAY: SimDuration = SimDuration::from_secs(30);

/// A pod's phase, as far as the HPA looks at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodPhase {
    /// Accepted but not running yet (unscheduled, pulling its image, ...).
    Pending,
    /// Bound to a node with its containers started.
    Running,
    /// Terminated in failure.
    Failed,
}

/// The pod's `Ready` condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadyCondition {
    /// Whether the condition is `True`.
    pub ready: bool,
    /// When the condition last changed.
    pub last_transition: SimTime,
}

/// One CPU sample from the resource metrics API (metrics-server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuMetric {
    /// Mean usage over the window, in millicores.
    pub usage_millicores: i64,
    /// End of the window the sample covers.
    pub timestamp: SimTime,
    /// Length of the window.
    pub window: SimDuration,
}

/// What the controller sees of one pod at a sync: its status from the pod
/// lister and its sample, if any, from the metrics API; or of `count` pods
/// it sees alike, listed once (the calculation is a sum over the pods, so
/// `count` alike pods weigh as that many listed one by one, exactly).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodSnapshot {
    /// How many pods this stands for (1 for one pod; 0 for none).
    pub count: u32,
    /// Phase.
    pub phase: PodPhase,
    /// A deletion timestamp is set (the pod is terminating).
    pub deleting: bool,
    /// `status.startTime`: when the kubelet accepted the pod.
    pub start_time: Option<SimTime>,
    /// The `Ready` condition, if the kubelet has reported one.
    pub ready: Option<ReadyCondition>,
    /// Sum of the containers' CPU requests, in millicores.
    pub request_millicores: i64,
    /// Sum of the containers' memory requests, bytes (0 if none).
    pub request_memory_bytes: i64,
    /// The CPU sample, or `None` if the metrics API returned none.
    pub metric: Option<CpuMetric>,
}

/// The controller flags that shape the calculation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReplicaCalcConfig {
    /// Usage ratios in `[1 - tolerance_down, 1 + tolerance_up]` cause no change.
    pub tolerance_up: f64,
    /// See `tolerance_up`.
    pub tolerance_down: f64,
    /// Pods younger than this are judged by their readiness and sample age.
    pub cpu_initialization_period: SimDuration,
    /// Older pods are ignored while unready if they never became ready
    /// within this delay of starting.
    pub initial_readiness_delay: SimDuration,
}

impl Default for ReplicaCalcConfig {
    fn default() -> Self {
        ReplicaCalcConfig {
            tolerance_up: DEFAULT_TOLERANCE,
            tolerance_down: DEFAULT_TOLERANCE,
            cpu_initialization_period: DEFAULT_CPU_INITIALIZATION_PERIOD,
            initial_readiness_delay: DEFAULT_INITIAL_READINESS_DELAY,
        }
    }
}

impl ReplicaCalcConfig {
    /// `Tolerances.isWithin`: `1 - down <= ratio <= 1 + up`.
    fn within(&self, ratio: f64) -> bool {
        (1.0 - self.tolerance_down) <= ratio && ratio <= (1.0 + self.tolerance_up)
    }
}

/// Why the controller could not compute a replica count from a metric.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplicaCalcError {
    /// The selector matched no pods.
    #[error("no pods returned by selector while calculating replica count")]
    NoPods,
    /// No ready pod had a sample.
    #[error("did not receive metrics for targeted pods (pods might be unready)")]
    NoMetrics,
    /// A pod has no request for the resource, so utilisation is undefined.
    #[error("missing request for the resource")]
    MissingRequest,
    /// The metrics API answered with an error (the caller says so).
    #[error("unable to fetch the metric")]
    FetchFailed,
    /// The target's type does not fit the metric (e.g. a utilisation for
    /// an object metric).
    #[error("invalid metric source: the target type does not fit the metric")]
    InvalidTarget,
}

/// The result of one replica calculation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaCalc {
    /// The replica count the metric asks for (before behaviour and bounds).
    pub replicas: i32,
    /// Utilisation over the counted pods, whole percent of request (0 for
    /// a target that is not a utilisation).
    pub utilization_percent: i64,
    /// Mean usage over the counted pods (or, for an object or external
    /// metric, its value), milli-units (millicores for CPU).
    pub raw_average_millicores: i64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Ready,
    Unready,
    Missing,
    Ignored,
}

/// `groupPods`: deleted and failed pods are ignored; pending pods are
/// unready; pods without a sample are missing; only for CPU
/// (`cpu_readiness`), pods that are not (or not long enough) ready are
/// unready too.
fn group(
    now: SimTime,
    pod: &PodSnapshot,
    sample: Option<i64>,
    cpu_readiness: bool,
    cfg: &ReplicaCalcConfig,
) -> Group {
    if pod.deleting || pod.phase == PodPhase::Failed {
        return Group::Ignored;
    }
    if pod.phase == PodPhase::Pending {
        return Group::Unready;
    }
    if sample.is_none() {
        return Group::Missing;
    }
    if !cpu_readiness {
        return Group::Ready;
    }
    let Some(metric) = pod.metric else {
        return Group::Missing;
    };
    let unready = match (pod.ready, pod.start_time) {
        (Some(cond), Some(start)) => {
            if start + cfg.cpu_initialization_period > now {
                // Within the initialisation period: ignore the sample if the
                // pod is unready or no full window was collected since the
                // last readiness transition.
                !cond.ready || metric.timestamp < cond.last_transition + metric.window
            } else {
                // Afterwards: ignore it only if the pod is unready and never
                // became ready within the initial readiness delay.
                !cond.ready && start + cfg.initial_readiness_delay > cond.last_transition
            }
        }
        _ => true,
    };
    if unready {
        Group::Unready
    } else {
        Group::Ready
    }
}

/// Usage and requests summed over the pods that take part, without
/// collecting them.
#[derive(Clone, Copy, Default)]
struct Samples {
    usage: i64,
    requests: i64,
    count: i64,
}

impl Samples {
    /// Adds `pods` pods, each of `usage` and `request`.
    fn add(&mut self, usage: i64, request: i64, pods: u32) {
        self.usage = add_times(self.usage, usage, pods);
        self.requests = add_times(self.requests, request, pods);
        self.count += i64::from(pods);
    }
}

/// `sum` plus `times` times `value`, saturating exactly as that many
/// saturating additions do: they all go one way, so they stop at the bound
/// they run into, if any.
fn add_times(sum: i64, value: i64, times: u32) -> i64 {
    let exact = i128::from(sum) + i128::from(value) * i128::from(times);
    exact.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Whether `pods` stand for no pod.
fn no_pods(pods: &[PodSnapshot]) -> bool {
    pods.iter().all(|p| p.count == 0)
}

/// How many of `pods` `keep` holds for.
pub(crate) fn count_pods(pods: &[PodSnapshot], keep: impl Fn(&PodSnapshot) -> bool) -> u64 {
    pods.iter()
        .filter(|p| keep(p))
        .map(|p| u64::from(p.count))
        .sum()
}

/// How a per-pod metric is compared with its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// Summed usage over summed requests, whole percent, against a target
    /// percentage (`GetResourceUtilizationRatio`).
    Utilization(i64),
    /// Mean usage per pod, milli-units, against a target mean
    /// (`GetMetricUsageRatio`, for AverageValue and Pods metrics).
    Average(i64),
}

impl Measure {
    /// (ratio, utilisation %, raw average) of `samples`.
    fn ratio(self, samples: Samples) -> (f64, i64, i64) {
        let Samples {
            usage,
            requests,
            count,
        } = samples;
        let raw = usage / count.max(1);
        match self {
            Measure::Utilization(target) => {
                let utilization = if requests > 0 {
                    usage.saturating_mul(100) / requests
                } else {
                    0
                };
                (utilization as f64 / target as f64, utilization, raw)
            }
            Measure::Average(target) => (raw as f64 / target as f64, 0, raw),
        }
    }

    /// What a pod without a sample is taken to use on a scale-down: 100 %
    /// of its request (or the target if above), or the target mean.
    fn fallback(self, request: i64) -> i64 {
        match self {
            Measure::Utilization(target) => request.saturating_mul(target.max(100)) / 100,
            Measure::Average(target) => target,
        }
    }
}

/// Replicas needed to bring mean CPU utilisation to `target_percent` of
/// request, exactly as `GetResourceReplicas` computes them.
///
/// `current_replicas` is the scale target's `spec.replicas`; `pods` is
/// every pod the selector matches.
pub fn resource_replicas(
    now: SimTime,
    current_replicas: i32,
    target_percent: i32,
    pods: &[PodSnapshot],
    cfg: &ReplicaCalcConfig,
) -> Result<ReplicaCalc, ReplicaCalcError> {
    let input = PerPod {
        pods,
        samples: PodSamples::Cpu,
        requests: PodRequest::Cpu,
        cpu_readiness: true,
    };
    per_pod_replicas(
        now,
        current_replicas,
        &input,
        Measure::Utilization(i64::from(target_percent.max(1))),
        cfg,
    )
}

/// A per-pod metric as the calculation reads it.
pub struct PerPod<'a> {
    /// Every pod the selector matches.
    pub pods: &'a [PodSnapshot],
    /// Each snapshot's sample.
    pub samples: PodSamples<'a>,
    /// A pod's request for the resource (read only for a utilisation).
    pub requests: PodRequest,
    /// Whether the CPU readiness rules of `groupPods` apply (CPU only).
    pub cpu_readiness: bool,
}

/// Where a per-pod metric's samples come from (read in one pass over the
/// pods, with nothing collected).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodSamples<'a> {
    /// Each pod's own CPU sample ([`PodSnapshot::metric`]), millicores.
    Cpu,
    /// Fetched samples, one per snapshot in the same order (the sample
    /// of each pod it stands for), milli-units; `None` where the metrics
    /// API returned none. Snapshots beyond the list take no part.
    Fetched(&'a [Option<i64>]),
}

/// The request a pod's usage is measured against, milli-units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodRequest {
    /// CPU, millicores.
    Cpu,
    /// Memory, milli-bytes (the controller's `MilliValue`).
    Memory,
    /// None: a per-pod mean that is not a utilisation reads no request.
    Unused,
}

impl PodRequest {
    /// `pod`'s request, milli-units.
    fn of(self, pod: &PodSnapshot) -> i64 {
        match self {
            PodRequest::Cpu => pod.request_millicores,
            PodRequest::Memory => pod.request_memory_bytes.saturating_mul(1000),
            PodRequest::Unused => 0,
        }
    }
}

/// `GetResourceReplicas` (a utilisation) or `calcPlainMetricReplicas` (a
/// mean per pod: resource AverageValue and Pods metrics), which differ only
/// in how the ratio is formed and what a missing pod counts as.
pub fn per_pod_replicas(
    now: SimTime,
    current_replicas: i32,
    input: &PerPod,
    measure: Measure,
    cfg: &ReplicaCalcConfig,
) -> Result<ReplicaCalc, ReplicaCalcError> {
    let pods = input.pods;
    if no_pods(pods) {
        return Err(ReplicaCalcError::NoPods);
    }
    // The pods that take part, and the others by group.
    let mut samples = Samples::default();
    let mut unready = Samples::default();
    let mut missing = Samples::default();
    let counted = match input.samples {
        PodSamples::Cpu => pods.len(),
        PodSamples::Fetched(s) => s.len().min(pods.len()),
    };
    let mut no_request = false;
    for (i, pod) in pods[..counted].iter().enumerate() {
        let sample = match input.samples {
            PodSamples::Cpu => pod.metric.map(|m| m.usage_millicores),
            PodSamples::Fetched(s) => s[i],
        };
        let (request, n) = (input.requests.of(pod), pod.count);
        no_request |= n > 0 && request <= 0;
        match group(now, pod, sample, input.cpu_readiness, cfg) {
            Group::Ready => samples.add(sample.unwrap_or(0), request, n),
            Group::Unready => unready.add(0, request, n),
            // On a scale-down, missing pods count as using the fallback.
            Group::Missing => missing.add(measure.fallback(request), request, n),
            Group::Ignored => {}
        }
    }
    let ready_count = samples.count;
    if ready_count == 0 {
        return Err(ReplicaCalcError::NoMetrics);
    }
    // calculatePodRequests fails on any listed pod without a request.
    if matches!(measure, Measure::Utilization(_))
        && (no_request
            || pods[counted..]
                .iter()
                .any(|p| p.count > 0 && input.requests.of(p) <= 0))
    {
        return Err(ReplicaCalcError::MissingRequest);
    }
    let (ratio, utilization, raw) = measure.ratio(samples);
    let result = |replicas| ReplicaCalc {
        replicas,
        utilization_percent: utilization,
        raw_average_millicores: raw,
    };

    let scale_up_with_unready = unready.count > 0 && ratio > 1.0;
    if !scale_up_with_unready && missing.count == 0 {
        if cfg.within(ratio) {
            return Ok(result(current_replicas));
        }
        return Ok(result(ceil_replicas(ratio * ready_count as f64)));
    }

    if missing.count > 0 {
        if ratio < 1.0 {
            samples.usage += missing.usage;
            samples.requests += missing.requests;
            samples.count += missing.count;
        } else if ratio > 1.0 {
            // On a scale-up, missing pods count as using nothing.
            samples.requests += missing.requests;
            samples.count += missing.count;
        }
    }
    if scale_up_with_unready {
        // On a scale-up, unready pods count as using nothing.
        samples.requests += unready.requests;
        samples.count += unready.count;
    }

    let (new_ratio, _, _) = measure.ratio(samples);
    if cfg.within(new_ratio) || (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0)
    {
        // Too small a change, or the direction flipped.
        return Ok(result(current_replicas));
    }
    let new_replicas = ceil_replicas(new_ratio * samples.count as f64);
    if (new_ratio < 1.0 && new_replicas > current_replicas)
        || (new_ratio > 1.0 && new_replicas < current_replicas)
    {
        // Counting more pods than before would flip the direction.
        return Ok(result(current_replicas));
    }
    Ok(result(new_replicas))
}

/// `GetObjectMetricReplicas` and `GetExternalMetricReplicas` (a Value
/// target) through `getUsageRatioReplicaCount`: the value over the target,
/// times the ready pods, unless within tolerance; from zero replicas, the
/// ratio itself.
pub fn value_replicas(
    current_replicas: i32,
    usage: i64,
    target: i64,
    pods: &[PodSnapshot],
    cfg: &ReplicaCalcConfig,
) -> Result<ReplicaCalc, ReplicaCalcError> {
    let ratio = usage as f64 / target.max(1) as f64;
    let replicas = if current_replicas != 0 {
        if cfg.within(ratio) {
            current_replicas
        } else {
            // getReadyPodsCount: running pods whose Ready condition is true.
            if no_pods(pods) {
                return Err(ReplicaCalcError::NoPods);
            }
            let ready = count_pods(pods, |p| {
                p.phase == PodPhase::Running && p.ready.is_some_and(|c| c.ready)
            });
            ceil_replicas(ratio * ready as f64)
        }
    } else {
        ceil_replicas(ratio)
    };
    Ok(ReplicaCalc {
        replicas,
        utilization_percent: 0,
        raw_average_millicores: usage,
    })
}

/// `GetObjectPerPodMetricReplicas` and `GetExternalPerPodMetricReplicas`
/// (an AverageValue target): the value over the target per pod of the
/// scale's `status.replicas`; outside tolerance, ceil(value / target).
pub fn average_value_replicas(
    status_replicas: i32,
    usage: i64,
    target: i64,
    cfg: &ReplicaCalcConfig,
) -> ReplicaCalc {
    let target = target.max(1) as f64;
    let ratio = usage as f64 / (target * f64::from(status_replicas));
    let replicas = if cfg.within(ratio) {
        status_replicas
    } else {
        ceil_replicas(usage as f64 / target)
    };
    ReplicaCalc {
        replicas,
        utilization_percent: 0,
        raw_average_millicores: (usage as f64 / f64::from(status_replicas)).ceil() as i64,
    }
}

/// `int32(math.Ceil(x))`, saturating.
fn ceil_replicas(x: f64) -> i32 {
    let c = x.ceil();
    if c >= f64::from(i32::MAX) {
        i32::MAX
    } else if c <= 0.0 || c.is_nan() {
        0
    } else {
        c as i32
    }
}

#[cfg(test)]
mod tests {
    //! Situations ported from kubernetes/kubernetes
    //! `pkg/controller/podautoscaler/replica_calculator_test.go` (v1.33).
    //! The upstream harness gives each pod two containers requesting 1.0 CPU
    //! each and reports each container at the listed level, so a pod
    //! requests 2000m and uses twice the level; pods beyond the listed
    //! levels have no sample. "Cool" pods started long ago; "hot" pods are
    //! inside the CPU initialisation period with a sample taken before one
    //! full window after their readiness transition.
    use super::*;

    const NOW_S: u64 = 10_000;

    fn at(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    fn now() -> SimTime {
        at(NOW_S)
    }

    #[derive(Clone, Copy)]
    struct P {
        ready: bool,
        phase: PodPhase,
        deleting: bool,
        hot: bool,
    }

    const OK: P = P {
        ready: true,
        phase: PodPhase::Running,
        deleting: false,
        hot: false,
    };

    fn pods(spec: &[P], levels: &[i64]) -> Vec<PodSnapshot> {
        spec.iter()
            .enumerate()
            .map(|(i, p)| {
                let (start, transition) = if p.hot {
                    // Started 60 s ago, became ready at start.
                    (at(NOW_S - 60), at(NOW_S - 60))
                } else {
                    (SimTime::ZERO, SimTime::ZERO)
                };
                PodSnapshot {
                    count: 1,
                    phase: p.phase,
                    deleting: p.deleting,
                    start_time: Some(start),
                    ready: Some(ReadyCondition {
                        ready: p.ready,
                        last_transition: transition,
                    }),
                    request_millicores: 2000,
                    request_memory_bytes: 0,
                    metric: levels.get(i).map(|&l| CpuMetric {
                        usage_millicores: 2 * l,
                        // A sample 30 s old with a 60 s window: for a hot
                        // pod it predates transition + window.
                        timestamp: at(NOW_S - 30),
                        window: SimDuration::from_secs(60),
                    }),
                }
            })
            .collect()
    }

    /// The upstream test clock: tolerance 0.1, initialisation 2 min,
    /// readiness delay 10 s (`defaultTesting*` in replica_calculator.go).
    fn cfg() -> ReplicaCalcConfig {
        ReplicaCalcConfig {
            tolerance_up: 0.1,
            tolerance_down: 0.1,
            cpu_initialization_period: SimDuration::from_secs(120),
            initial_readiness_delay: SimDuration::from_secs(10),
        }
    }

    fn calc(current: i32, target: i32, spec: &[P], levels: &[i64]) -> ReplicaCalc {
        resource_replicas(now(), current, target, &pods(spec, levels), &cfg()).unwrap()
    }

    fn unready() -> P {
        P { ready: false, ..OK }
    }
    fn hot() -> P {
        P { hot: true, ..OK }
    }

    #[test]
    fn scale_up() {
        // TestReplicaCalcScaleUp: 3 -> 5 at 50 % against a 30 % target.
        let r = calc(3, 30, &[OK; 3], &[300, 500, 700]);
        assert_eq!((r.replicas, r.utilization_percent), (5, 50));
        assert_eq!(r.raw_average_millicores, 1000);
    }

    #[test]
    fn scale_up_unready_less_scale() {
        // TestReplicaCalcScaleUpUnreadyLessScale: 3 -> 4, utilisation 60.
        let r = calc(3, 30, &[unready(), OK, OK], &[300, 500, 700]);
        assert_eq!((r.replicas, r.utilization_percent), (4, 60));
    }

    #[test]
    fn scale_up_hot_cpu_less_scale() {
        // TestReplicaCalcScaleUpHotCpuLessScale: 3 -> 4, utilisation 60.
        let r = calc(3, 30, &[hot(), OK, OK], &[300, 500, 700]);
        assert_eq!((r.replicas, r.utilization_percent), (4, 60));
    }

    #[test]
    fn scale_up_unready_no_scale() {
        // TestReplicaCalcScaleUpUnreadyNoScale: stays 3, utilisation 40.
        let r = calc(3, 30, &[OK, unready(), unready()], &[400, 500, 700]);
        assert_eq!((r.replicas, r.utilization_percent), (3, 40));
    }

    #[test]
    fn scale_up_ignores_failed_and_deleted_pods() {
        // TestReplicaCalcScaleUpIgnoresFailedPods / ...IgnoresDeletionPods: 2 -> 4.
        let failed = P {
            ready: false,
            phase: PodPhase::Failed,
            ..OK
        };
        let r = calc(2, 30, &[OK, OK, failed, failed], &[500, 700]);
        assert_eq!((r.replicas, r.utilization_percent), (4, 60));
        let deleting = P {
            ready: false,
            deleting: true,
            ..OK
        };
        let r = calc(2, 30, &[OK, OK, deleting, deleting], &[500, 700]);
        assert_eq!((r.replicas, r.utilization_percent), (4, 60));
    }

    #[test]
    fn scale_down() {
        // TestReplicaCalcScaleDown: 5 -> 3 at 28 % against 50 %.
        let r = calc(5, 50, &[OK; 5], &[100, 300, 500, 250, 250]);
        assert_eq!((r.replicas, r.utilization_percent), (3, 28));
    }

    #[test]
    fn scale_down_excludes_unscheduled_pods() {
        // TestReplicaCalcScaleDownExcludeUnscheduledPods: 5 -> 1.
        let pending = P {
            ready: false,
            phase: PodPhase::Pending,
            ..OK
        };
        let spec = [OK, pending, pending, pending, pending];
        let r = calc(5, 50, &spec, &[100]);
        assert_eq!((r.replicas, r.utilization_percent), (1, 10));
    }

    #[test]
    fn scale_down_ignores_hot_cpu_pods() {
        // TestReplicaCalcScaleDownIgnoreHotCpuPods: 5 -> 2 at 30 %.
        let spec = [OK, OK, OK, hot(), hot()];
        let r = calc(5, 50, &spec, &[100, 300, 500, 250, 250]);
        assert_eq!((r.replicas, r.utilization_percent), (2, 30));
    }

    #[test]
    fn tolerance_holds_the_count() {
        // TestReplicaCalcTolerance: requests 0.9/1.0/1.1 per container,
        // usage 1010/1030/1020: utilisation 102 % of a 100 % target.
        let mut p = pods(&[OK; 3], &[1010, 1030, 1020]);
        for (pod, req) in p.iter_mut().zip([900, 1000, 1100]) {
            pod.request_millicores = 2 * req;
        }
        let r = resource_replicas(now(), 3, 100, &p, &cfg()).unwrap();
        assert_eq!((r.replicas, r.utilization_percent), (3, 102));
    }

    #[test]
    fn missing_metrics_scale_down() {
        // TestReplicaCalcMissingMetrics: 4 pods, two samples (400, 95),
        // target 100 %: utilisation 24 %, missing pods at 100 % -> 3.
        let r = calc(4, 100, &[OK; 4], &[400, 95]);
        assert_eq!((r.replicas, r.utilization_percent), (3, 24));
    }

    #[test]
    fn missing_metrics_no_change_when_at_target_or_direction_flips() {
        // TestReplicaCalcMissingMetricsNoChangeEq / Gt / Lt: all stay at 2.
        assert_eq!(calc(2, 100, &[OK; 2], &[1000]).replicas, 2);
        assert_eq!(calc(2, 100, &[OK; 2], &[1900]).replicas, 2);
        assert_eq!(calc(2, 100, &[OK; 2], &[600]).replicas, 2);
    }

    #[test]
    fn missing_metrics_with_unready_pods() {
        // TestReplicaCalcMissingMetricsUnreadyChange: stays 3 at 45 %.
        let r = calc(3, 50, &[unready(), OK, OK], &[100, 450]);
        assert_eq!((r.replicas, r.utilization_percent), (3, 45));
        // TestReplicaCalcMissingMetricsHotCpuNoChange: stays 3 at 45 %.
        let r = calc(3, 50, &[hot(), OK, OK], &[100, 450]);
        assert_eq!((r.replicas, r.utilization_percent), (3, 45));
        // TestReplicaCalcMissingMetricsUnreadyScaleUp: 3 -> 4 at 200 %.
        let r = calc(3, 50, &[unready(), OK, OK], &[100, 2000]);
        assert_eq!((r.replicas, r.utilization_percent), (4, 200));
    }

    #[test]
    fn utilisation_percent_is_truncated_like_the_controller() {
        // 100m of 300m is 33 %, not 33.3 %: ratio 33/50 = 0.66, ceil(0.66*3) = 2.
        let mut p = pods(&[OK; 3], &[50, 25, 25]);
        for pod in &mut p {
            pod.request_millicores = 100;
            pod.metric.as_mut().unwrap().usage_millicores /= 2;
        }
        let r = resource_replicas(now(), 3, 50, &p, &cfg()).unwrap();
        assert_eq!((r.replicas, r.utilization_percent), (2, 33));
    }

    #[test]
    fn errors_leave_the_decision_to_the_caller() {
        assert_eq!(
            resource_replicas(now(), 1, 50, &[], &cfg()),
            Err(ReplicaCalcError::NoPods)
        );
        // TestReplicaCalcEmptyMetrics: no samples at all.
        let p = pods(&[OK; 3], &[]);
        assert_eq!(
            resource_replicas(now(), 3, 100, &p, &cfg()),
            Err(ReplicaCalcError::NoMetrics)
        );
        // TestReplicaCalcEmptyCPURequest.
        let mut p = pods(&[OK], &[200]);
        p[0].request_millicores = 0;
        assert_eq!(
            resource_replicas(now(), 1, 100, &p, &cfg()),
            Err(ReplicaCalcError::MissingRequest)
        );
    }

    #[test]
    fn an_old_pod_that_was_once_ready_counts_even_when_unready() {
        // Past the initialisation period, an unready pod whose readiness
        // changed after the initial delay has been ready before: counted.
        // Counted: 70 % against 30 % on 2 pods -> 5. Were it ignored, the
        // rebalanced ratio would flip direction and hold at 2.
        let mut p = pods(&[OK; 2], &[500, 900]);
        p[1].ready = Some(ReadyCondition {
            ready: false,
            last_transition: at(3600),
        });
        let r = resource_replicas(now(), 2, 30, &p, &cfg()).unwrap();
        assert_eq!((r.replicas, r.utilization_percent), (5, 70));
        // Never ready since start (transition within the delay): ignored.
        p[1].ready = Some(ReadyCondition {
            ready: false,
            last_transition: at(5),
        });
        let r = resource_replicas(now(), 2, 30, &p, &cfg()).unwrap();
        assert_eq!((r.replicas, r.utilization_percent), (2, 50));
    }
}
