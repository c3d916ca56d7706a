//! The Kubernetes Horizontal Pod Autoscaler (`autoscaling/v2`: resource,
//! pods, object and external metrics), as a sans-IO state machine.
//!
//! [`Hpa::sync_metrics`] is one pass of the controller's `reconcileAutoscaler`
//! (kubernetes/kubernetes `pkg/controller/podautoscaler/horizontal.go`,
//! v1.33): it takes the current time, the scale target's replica count, a
//! snapshot of the pods with their CPU samples and what the metrics APIs
//! returned for the other metrics, and returns the replica count to set and
//! when the next sync is due. The caller (the engine) owns the clock, the
//! pods and the metrics pipeline.

pub mod behavior;
pub mod metrics;
pub mod replicas;

pub use metrics::{compute_replicas, Fetched, MetricSpec, Proposal, ResourceName, Target};

pub use behavior::{Behavior, Limit, PolicyKind, ScalingPolicy, ScalingRules, SelectPolicy};
pub use replicas::{
    resource_replicas, CpuMetric, PodPhase, PodSnapshot, ReadyCondition, ReplicaCalc,
    ReplicaCalcConfig, ReplicaCalcError,
};

use crate::time::{SimDuration, SimTime};
use behavior::{apply_rate, prune_events, stabilize, ScaleEvent, DEFAULT_DOWNSCALE_STABILIZATION};

/// `--horizontal-pod-autoscaler-sync-period` default: 15 s (Kubernetes docs,
/// "Horizontal Pod Autoscaling").
pub const DEFAULT_SYNC_PERIOD: SimDuration = SimDuration::from_secs(15);

/// Without `behavior`, the controller grows by at most a factor of 2 per
/// sync, or to 4 replicas (`scaleUpLimitFactor`, `scaleUpLimitMinimum` in
/// horizontal.go).
const LEGACY_SCALE_UP_FACTOR: i64 = 2;
/// See [`LEGACY_SCALE_UP_FACTOR`].
const LEGACY_SCALE_UP_MINIMUM: i64 = 4;

/// An HPA object and the controller flags that apply to it.
#[derive(Clone, Debug, PartialEq)]
pub struct HpaSpec {
    /// `minReplicas` (Kubernetes defaults it to 1).
    pub min_replicas: i32,
    /// `maxReplicas`.
    pub max_replicas: i32,
    /// `metrics`: each proposes a replica count, the largest wins.
    pub metrics: Vec<MetricSpec>,
    /// `behavior`; `None` selects the controller's older path (growth
    /// bounded by max(2x, 4) per sync, scale-down stabilised over
    /// `downscale_stabilization`).
    pub behavior: Option<Behavior>,
    /// Tolerance and readiness handling.
    pub calc: ReplicaCalcConfig,
    /// How often the controller syncs.
    pub sync_period: SimDuration,
    /// `--horizontal-pod-autoscaler-downscale-stabilization`, used when
    /// `behavior` is `None` (with a behaviour, its own window applies).
    pub downscale_stabilization: SimDuration,
}

impl HpaSpec {
    /// An HPA on a CPU utilisation target with Kubernetes' defaults:
    /// default behaviour, tolerance 0.1, 15 s sync.
    pub fn new(min_replicas: i32, max_replicas: i32, target_cpu_percent: i32) -> Self {
        HpaSpec {
            min_replicas,
            max_replicas,
            metrics: vec![MetricSpec::cpu_utilization(target_cpu_percent)],
            behavior: Some(Behavior::default()),
            calc: ReplicaCalcConfig::default(),
            sync_period: DEFAULT_SYNC_PERIOD,
            downscale_stabilization: DEFAULT_DOWNSCALE_STABILIZATION,
        }
    }

    /// The CPU utilisation target, percent of request, if a metric has one.
    pub fn cpu_target_percent(&self) -> Option<i32> {
        self.metrics.iter().find_map(|m| match m {
            MetricSpec::Resource {
                name: ResourceName::Cpu,
                target: Target::Utilization(p),
            } => Some(*p),
            _ => None,
        })
    }
}

/// What one sync decided.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncOutcome {
    /// The replica count the scale target should have.
    pub desired_replicas: i32,
    /// Whether that differs from the current count (the controller writes
    /// the scale subresource only then).
    pub rescale: bool,
    /// The winning metric's recommendation, or why the metrics gave none
    /// (the first failing metric's error).
    pub metric: Result<ReplicaCalc, ReplicaCalcError>,
    /// Each metric's own result, in the spec's order (empty when bounds
    /// decided before the metrics were read).
    pub per_metric: Vec<Result<ReplicaCalc, ReplicaCalcError>>,
    /// The recommendation after stabilisation, before rate limits.
    pub stabilized_replicas: i32,
    /// What bounded the final count.
    pub limit: Limit,
    /// When the controller syncs next.
    pub next_sync: SimTime,
}

/// The controller's memory for one HPA: past recommendations (for the
/// stabilisation windows) and past scale changes (for the policies).
#[derive(Clone, Debug)]
pub struct Hpa {
    spec: HpaSpec,
    recommendations: Vec<(SimTime, i32)>,
    /// Whether a reconcile has seeded `recommendations`.
    seeded: bool,
    scale_up_events: Vec<ScaleEvent>,
    scale_down_events: Vec<ScaleEvent>,
}

impl Hpa {
    /// A controller with no history.
    pub fn new(spec: HpaSpec) -> Self {
        Hpa {
            spec,
            recommendations: Vec::new(),
            seeded: false,
            scale_up_events: Vec::new(),
            scale_down_events: Vec::new(),
        }
    }

    /// The controller's memory as numbers, each instant through `time`
    /// (for a caller comparing two states, e.g. a world looking for a day
    /// that repeats the day before).
    pub fn memory_words(&self, time: &dyn Fn(SimTime) -> u64, out: &mut Vec<u64>) {
        out.push(u64::from(self.seeded));
        out.push(self.recommendations.len() as u64);
        for &(at, r) in &self.recommendations {
            out.extend([time(at), r as u64]);
        }
        for events in [&self.scale_up_events, &self.scale_down_events] {
            out.push(events.len() as u64);
            out.extend(events.iter().flat_map(|e| [time(e.at), e.change as u64]));
        }
    }

    /// The longest age at which an instant still changes what the
    /// controller decides: its stabilisation windows, its policies'
    /// periods, and the CPU initialisation and readiness delays it applies
    /// to a new pod. Older instants are all alike to it.
    pub fn memory_span(&self) -> SimDuration {
        let spec = &self.spec;
        let mut span = spec
            .downscale_stabilization
            .max(spec.calc.cpu_initialization_period)
            .max(spec.calc.initial_readiness_delay);
        if let Some(b) = &spec.behavior {
            for rules in [&b.scale_up, &b.scale_down] {
                span = span.max(rules.stabilization_window);
                for p in &rules.policies {
                    span = span.max(p.period);
                }
            }
        }
        span
    }

    /// Moves every instant the controller remembers through `shift`.
    pub fn shift_times(&mut self, shift: &dyn Fn(SimTime) -> SimTime) {
        for (at, _) in &mut self.recommendations {
            *at = shift(*at);
        }
        for e in self
            .scale_up_events
            .iter_mut()
            .chain(self.scale_down_events.iter_mut())
        {
            e.at = shift(e.at);
        }
    }

    /// The HPA object.
    pub fn spec(&self) -> &HpaSpec {
        &self.spec
    }

    /// One reconcile at `now` with the scale target at `current_replicas`
    /// and `pods` as the selector matches them, for an HPA whose metrics
    /// are all CPU (any other metric is taken as failing to fetch).
    pub fn sync(
        &mut self,
        now: SimTime,
        current_replicas: i32,
        pods: &[PodSnapshot],
    ) -> SyncOutcome {
        self.sync_metrics(now, current_replicas, pods, &[])
    }

    /// One reconcile at `now`: `fetched[i]` is what the metrics APIs
    /// returned for `spec.metrics[i]` (a CPU metric reads the pods' own
    /// samples; a missing entry counts as a failed fetch).
    pub fn sync_metrics(
        &mut self,
        now: SimTime,
        current_replicas: i32,
        pods: &[PodSnapshot],
        fetched: &[Fetched],
    ) -> SyncOutcome {
        // recordInitialRecommendation: the first reconcile seeds the
        // history with the current count, so a new HPA does not scale
        // down before a stabilisation window has passed.
        if !self.seeded {
            self.seeded = true;
            self.recommendations.push((now, current_replicas));
        }
        let spec = &self.spec;
        let next_sync = now + spec.sync_period;
        let min = spec.min_replicas;
        let max = spec.max_replicas;
        let hold = |metric, per_metric, limit| SyncOutcome {
            desired_replicas: current_replicas,
            rescale: false,
            metric,
            per_metric,
            stabilized_replicas: current_replicas,
            limit,
            next_sync,
        };
        if current_replicas == 0 && min != 0 {
            // Scaled to zero by hand: autoscaling is disabled.
            return hold(
                Err(ReplicaCalcError::NoPods),
                Vec::new(),
                Limit::DesiredWithinRange,
            );
        }
        let (desired, stabilized, limit, metric, per_metric) = if current_replicas > max {
            (
                max,
                max,
                Limit::TooManyReplicas,
                Err(ReplicaCalcError::NoMetrics),
                Vec::new(),
            )
        } else if current_replicas < min {
            (
                min,
                min,
                Limit::TooFewReplicas,
                Err(ReplicaCalcError::NoMetrics),
                Vec::new(),
            )
        } else {
            let proposal = compute_replicas(
                now,
                current_replicas,
                &spec.metrics,
                fetched,
                pods,
                &spec.calc,
            );
            let proposed = match proposal.replicas {
                Ok(r) => r.max(0),
                // The controller records the failure and leaves the scale
                // alone.
                Err(e) => return hold(Err(e), proposal.per_metric, Limit::DesiredWithinRange),
            };
            let metric = proposal
                .winner
                .map_or(Err(ReplicaCalcError::NoMetrics), |w| {
                    proposal.per_metric[w].clone()
                });
            let (d, s, l) = self.normalize(now, current_replicas, proposed);
            (d, s, l, metric, proposal.per_metric)
        };
        let rescale = desired != current_replicas;
        if rescale {
            self.store_scale_event(now, current_replicas, desired);
        }
        SyncOutcome {
            desired_replicas: desired,
            rescale,
            metric,
            per_metric,
            stabilized_replicas: stabilized,
            limit,
            next_sync,
        }
    }

    /// Stabilisation and rate limits, with the behaviour or without.
    fn normalize(&mut self, now: SimTime, current: i32, proposed: i32) -> (i32, i32, Limit) {
        // The behaviour is lent out for the call rather than cloned.
        match self.spec.behavior.take() {
            Some(b) => {
                let r = self.normalize_with_behavior(now, &b, current, proposed);
                self.spec.behavior = Some(b);
                r
            }
            None => self.normalize_legacy(now, current, proposed),
        }
    }

    /// `normalizeDesiredReplicasWithBehaviors`.
    fn normalize_with_behavior(
        &mut self,
        now: SimTime,
        behavior: &Behavior,
        current: i32,
        proposed: i32,
    ) -> (i32, i32, Limit) {
        let stabilized = stabilize(now, behavior, &self.recommendations, current, proposed);
        let cut = |w: SimDuration| SimTime::from_nanos(now.as_nanos().saturating_sub(w.as_nanos()));
        let oldest = cut(behavior.scale_up.stabilization_window)
            .min(cut(behavior.scale_down.stabilization_window));
        self.recommendations.retain(|&(at, _)| at >= oldest);
        self.recommendations.push((now, proposed));

        let (desired, limit) = apply_rate(
            now,
            behavior,
            &self.scale_up_events,
            &self.scale_down_events,
            current,
            stabilized,
            (self.spec.min_replicas, self.spec.max_replicas),
        );
        (desired, stabilized, limit)
    }

    /// `normalizeDesiredReplicas` (no `behavior`): the highest recommendation
    /// of the downscale window (inclusive of its start), then
    /// `convertDesiredReplicasWithRules`.
    fn normalize_legacy(&mut self, now: SimTime, current: i32, proposed: i32) -> (i32, i32, Limit) {
        let cutoff = SimTime::from_nanos(
            now.as_nanos()
                .saturating_sub(self.spec.downscale_stabilization.as_nanos()),
        );
        self.recommendations.retain(|&(at, _)| at >= cutoff);
        let stabilized = self
            .recommendations
            .iter()
            .map(|&(_, r)| r)
            .fold(proposed, i32::max);
        self.recommendations.push((now, proposed));

        let scale_up_limit = (LEGACY_SCALE_UP_FACTOR * i64::from(current))
            .max(LEGACY_SCALE_UP_MINIMUM)
            .min(i64::from(i32::MAX)) as i32;
        let (max_allowed, max_reason) = if self.spec.max_replicas > scale_up_limit {
            (scale_up_limit, Limit::ScaleUpLimit)
        } else {
            (self.spec.max_replicas, Limit::TooManyReplicas)
        };
        let (desired, limit) = if stabilized < self.spec.min_replicas {
            (self.spec.min_replicas, Limit::TooFewReplicas)
        } else if stabilized > max_allowed {
            (max_allowed, max_reason)
        } else {
            (stabilized, Limit::DesiredWithinRange)
        };
        (desired, stabilized, limit)
    }

    /// `storeScaleEvent`: remembered only when a behaviour uses them.
    fn store_scale_event(&mut self, now: SimTime, from: i32, to: i32) {
        let Some(behavior) = &self.spec.behavior else {
            return;
        };
        prune_events(now, behavior, &mut self.scale_up_events);
        prune_events(now, behavior, &mut self.scale_down_events);
        if to > from {
            self.scale_up_events.push(ScaleEvent {
                at: now,
                change: to - from,
            });
        } else {
            self.scale_down_events.push(ScaleEvent {
                at: now,
                change: from - to,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test times start at 10,000 s so that the pods, started at zero, are
    /// long past their CPU initialisation period.
    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(10_000 + s)
    }

    /// `n` ready pods long past initialisation, each requesting 1000m and
    /// using `usage` millicores.
    fn steady(n: usize, usage: i64) -> Vec<PodSnapshot> {
        vec![
            PodSnapshot {
                count: 1,
                phase: PodPhase::Running,
                deleting: false,
                start_time: Some(SimTime::ZERO),
                ready: Some(ReadyCondition {
                    ready: true,
                    last_transition: SimTime::ZERO,
                }),
                request_millicores: 1000,
                request_memory_bytes: 0,
                metric: Some(CpuMetric {
                    usage_millicores: usage,
                    timestamp: t(0),
                    window: SimDuration::from_secs(15),
                }),
            };
            n
        ]
    }

    #[test]
    fn spike_grows_by_at_most_double_per_period() {
        // Story: 10 pods at a 70 % target, saturated at 100 % (limit =
        // request). The metric asks for ceil(100/70 * 10) = 15, within rate.
        let mut hpa = Hpa::new(HpaSpec::new(10, 200, 70));
        let now = t(1000);
        let out = hpa.sync(now, 10, &steady(10, 1000));
        assert_eq!(out.metric.as_ref().unwrap().replicas, 15);
        assert_eq!(
            (out.desired_replicas, out.limit),
            (15, Limit::DesiredWithinRange)
        );
        assert_eq!(out.next_sync, t(1015));
        // With limit = 2x request the pods can show 200 %: ceil(200/70*10) =
        // 29, cut to 20 by the default policy (100 % per 15 s).
        let mut hpa = Hpa::new(HpaSpec::new(10, 200, 70));
        let out = hpa.sync(now, 10, &steady(10, 2000));
        assert_eq!(out.metric.as_ref().unwrap().replicas, 29);
        assert_eq!((out.desired_replicas, out.limit), (20, Limit::ScaleUpLimit));
    }

    #[test]
    fn scale_down_waits_for_the_stabilisation_window() {
        let mut hpa = Hpa::new(HpaSpec::new(1, 100, 50));
        // 20 pods at 50 %: no change, recommendation 20 recorded.
        assert_eq!(hpa.sync(t(0), 20, &steady(20, 500)).desired_replicas, 20);
        // Load drops to 10 %: the metric says 4 but the last 300 s held 20.
        let out = hpa.sync(t(15), 20, &steady(20, 100));
        assert_eq!(out.metric.as_ref().unwrap().replicas, 4);
        assert_eq!(out.desired_replicas, 20);
        assert!(!out.rescale);
        // At t = 300 the 20 of t = 0 is exactly at the cutoff, so excluded;
        // every later recommendation is 4, so the HPA drops to 4 (100 % per
        // 15 s allows it).
        let mut last = None;
        for s in (30..=300).step_by(15) {
            last = Some(hpa.sync(t(s), 20, &steady(20, 100)));
        }
        let out = last.unwrap();
        assert_eq!(out.desired_replicas, 4);
        assert!(out.rescale);
    }

    #[test]
    fn custom_scale_down_window_and_disabled_scale_down() {
        let mut spec = HpaSpec::new(1, 100, 50);
        let mut b = Behavior::default();
        b.scale_down.stabilization_window = SimDuration::ZERO;
        spec.behavior = Some(b.clone());
        let mut hpa = Hpa::new(spec.clone());
        assert_eq!(hpa.sync(t(0), 20, &steady(20, 500)).desired_replicas, 20);
        assert_eq!(hpa.sync(t(15), 20, &steady(20, 100)).desired_replicas, 4);

        b.scale_down.select = SelectPolicy::Disabled;
        spec.behavior = Some(b);
        let mut hpa = Hpa::new(spec);
        let out = hpa.sync(t(15), 20, &steady(20, 100));
        assert_eq!(
            (out.desired_replicas, out.limit),
            (20, Limit::ScaleDownLimit)
        );
    }

    #[test]
    fn scale_up_stabilisation_window_uses_the_lowest_recent_recommendation() {
        let mut spec = HpaSpec::new(1, 100, 50);
        let mut b = Behavior::default();
        b.scale_up.stabilization_window = SimDuration::from_secs(60);
        spec.behavior = Some(b);
        let mut hpa = Hpa::new(spec);
        assert_eq!(hpa.sync(t(0), 4, &steady(4, 500)).desired_replicas, 4);
        // A burst asks for 8, but the window still holds 4.
        let out = hpa.sync(t(15), 4, &steady(4, 1000));
        assert_eq!((out.stabilized_replicas, out.desired_replicas), (4, 4));
        // Once t = 0 leaves the window, every recommendation is 8.
        let out = hpa.sync(t(61), 4, &steady(4, 1000));
        assert_eq!(out.desired_replicas, 8);
    }

    #[test]
    fn successive_scale_ups_share_the_period_allowance() {
        // A custom policy: 5 pods per 60 s. Grow 10 -> 15, then nothing
        // more until the first event leaves the period.
        let mut spec = HpaSpec::new(1, 100, 50);
        let mut b = Behavior::default();
        b.scale_up.policies = vec![ScalingPolicy {
            kind: PolicyKind::Pods,
            value: 5,
            period: SimDuration::from_secs(60),
        }];
        spec.behavior = Some(b);
        let mut hpa = Hpa::new(spec);
        assert_eq!(hpa.sync(t(0), 10, &steady(10, 1000)).desired_replicas, 15);
        let out = hpa.sync(t(15), 15, &steady(15, 1000));
        assert_eq!((out.desired_replicas, out.limit), (15, Limit::ScaleUpLimit));
        assert_eq!(hpa.sync(t(60), 15, &steady(15, 1000)).desired_replicas, 20);
    }

    #[test]
    fn bounds_apply_before_metrics() {
        let mut hpa = Hpa::new(HpaSpec::new(3, 10, 50));
        // Above max: straight to max, whatever the metric.
        let out = hpa.sync(t(0), 12, &steady(12, 1000));
        assert_eq!(
            (out.desired_replicas, out.limit),
            (10, Limit::TooManyReplicas)
        );
        // Below min: straight to min.
        let out = hpa.sync(t(15), 2, &steady(2, 0));
        assert_eq!(out.desired_replicas, 3);
        // Scaled to zero by hand: left alone.
        let out = hpa.sync(t(30), 0, &[]);
        assert_eq!((out.desired_replicas, out.rescale), (0, false));
        // No metrics: no change.
        let out = hpa.sync(t(45), 5, &[]);
        assert_eq!((out.desired_replicas, out.rescale), (5, false));
        assert!(out.metric.is_err());
    }

    #[test]
    fn legacy_path_without_behavior() {
        let mut spec = HpaSpec::new(1, 1000, 50);
        spec.behavior = None;
        let mut hpa = Hpa::new(spec);
        // 1 replica at 500 %: metric wants 10, limit max(2, 4) = 4.
        let out = hpa.sync(t(0), 1, &steady(1, 5000));
        assert_eq!((out.desired_replicas, out.limit), (4, Limit::ScaleUpLimit));
        // 4 replicas at 500 %: wants 40, limit 8 per sync.
        assert_eq!(hpa.sync(t(15), 4, &steady(4, 5000)).desired_replicas, 8);
        // Load drops, the metric wants 2, but the highest recommendation of
        // the last 5 min (40) wins, even above the current count: 16.
        let out = hpa.sync(t(30), 8, &steady(8, 100));
        assert_eq!(out.metric.as_ref().unwrap().replicas, 2);
        assert_eq!((out.stabilized_replicas, out.desired_replicas), (40, 16));
        // The window includes its start: at t = 315 the 40 of t = 15 counts.
        let mut later = hpa.clone();
        assert_eq!(
            later.sync(t(315), 16, &steady(16, 100)).stabilized_replicas,
            40
        );
        // One second later only low recommendations remain: ceil(0.2 * 16).
        assert_eq!(hpa.sync(t(316), 16, &steady(16, 100)).desired_replicas, 4);
    }
}
