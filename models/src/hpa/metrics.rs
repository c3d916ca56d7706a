//! The metrics an `autoscaling/v2` HPA scales on, and
//! `computeReplicasForMetrics` (kubernetes/kubernetes
//! `pkg/controller/podautoscaler/horizontal.go`, v1.33): each metric
//! proposes a replica count, the largest proposal wins, and a metric that
//! fails is skipped if another one works, unless the working ones would
//! scale down.

use super::replicas::{
    average_value_replicas, count_pods, per_pod_replicas, value_replicas, Measure, PerPod,
    PodPhase, PodRequest, PodSamples, PodSnapshot, ReplicaCalc, ReplicaCalcConfig,
    ReplicaCalcError,
};
use crate::time::SimTime;

/// A resource the resource metrics API (metrics-server) reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceName {
    /// CPU, millicores.
    Cpu,
    /// Memory (working set), milli-bytes as the controller's `MilliValue`.
    Memory,
}

/// A metric's target, in the units of `autoscaling/v2`'s `MetricTarget`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `averageUtilization`: percent of the pods' request.
    Utilization(i32),
    /// `averageValue`: mean per pod, milli-units.
    AverageValue(i64),
    /// `value`: the metric's whole value, milli-units.
    Value(i64),
}

/// One entry of the HPA's `spec.metrics`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetricSpec {
    /// `type: Resource`: Utilization or AverageValue.
    Resource {
        /// Which resource.
        name: ResourceName,
        /// Its target.
        target: Target,
    },
    /// `type: Pods`: a per-pod custom metric with an AverageValue target.
    Pods {
        /// The metric's name.
        name: String,
        /// Target mean per pod, milli-units.
        average_value: i64,
    },
    /// `type: Object`: one object's metric, Value or AverageValue.
    Object {
        /// The metric's name.
        name: String,
        /// Its target.
        target: Target,
    },
    /// `type: External`: a metric from outside the cluster (the sum of the
    /// series the selector matches), Value or AverageValue.
    External {
        /// The metric's name.
        name: String,
        /// Its target.
        target: Target,
    },
}

impl MetricSpec {
    /// A CPU utilisation target, the only metric of a v1 HPA.
    pub fn cpu_utilization(percent: i32) -> Self {
        MetricSpec::Resource {
            name: ResourceName::Cpu,
            target: Target::Utilization(percent),
        }
    }
}

/// What the metrics APIs returned for one metric at a sync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetched {
    /// A sample per pod snapshot (same order; the sample of each pod it
    /// stands for), milli-units; `None` for pods without one. Unused for
    /// CPU, whose samples are the snapshots' `metric`.
    PerPod(Vec<Option<i64>>),
    /// An object's value, or the sum of an external metric's series,
    /// milli-units.
    Total(i64),
    /// The API answered with an error.
    Failed,
}

/// `computeReplicasForMetric` for one metric: `spec_replicas` is the
/// scale's `spec.replicas`, `status_replicas` its `status.replicas`.
fn one_metric(
    now: SimTime,
    (spec_replicas, status_replicas): (i32, i32),
    spec: &MetricSpec,
    fetched: Option<&Fetched>,
    pods: &[PodSnapshot],
    cfg: &ReplicaCalcConfig,
) -> Result<ReplicaCalc, ReplicaCalcError> {
    if matches!(fetched, Some(Fetched::Failed)) {
        return Err(ReplicaCalcError::FetchFailed);
    }
    match spec {
        MetricSpec::Resource { name, target } => {
            let measure = match *target {
                Target::Utilization(p) => Measure::Utilization(i64::from(p.max(1))),
                Target::AverageValue(v) => Measure::Average(v.max(1)),
                Target::Value(_) => return Err(ReplicaCalcError::InvalidTarget),
            };
            let (samples, requests) = match name {
                ResourceName::Cpu => (PodSamples::Cpu, PodRequest::Cpu),
                ResourceName::Memory => (
                    PodSamples::Fetched(per_pod_values(fetched, pods.len())?),
                    PodRequest::Memory,
                ),
            };
            let input = PerPod {
                pods,
                samples,
                requests,
                cpu_readiness: *name == ResourceName::Cpu,
            };
            per_pod_replicas(now, spec_replicas, &input, measure, cfg)
        }
        // GetMetricReplicas: calcPlainMetricReplicas with no resource name,
        // so without the CPU readiness rules.
        MetricSpec::Pods { average_value, .. } => {
            let input = PerPod {
                pods,
                samples: PodSamples::Fetched(per_pod_values(fetched, pods.len())?),
                requests: PodRequest::Unused,
                cpu_readiness: false,
            };
            let measure = Measure::Average((*average_value).max(1));
            per_pod_replicas(now, spec_replicas, &input, measure, cfg)
        }
        MetricSpec::Object { target, .. } | MetricSpec::External { target, .. } => {
            let Some(Fetched::Total(usage)) = fetched else {
                return Err(ReplicaCalcError::FetchFailed);
            };
            match *target {
                Target::AverageValue(v) => {
                    Ok(average_value_replicas(status_replicas, *usage, v, cfg))
                }
                Target::Value(v) => value_replicas(spec_replicas, *usage, v, pods, cfg),
                Target::Utilization(_) => Err(ReplicaCalcError::InvalidTarget),
            }
        }
    }
}

/// The per-pod samples fetched for a metric, if they match the pods.
fn per_pod_values(
    fetched: Option<&Fetched>,
    pods: usize,
) -> Result<&[Option<i64>], ReplicaCalcError> {
    match fetched {
        Some(Fetched::PerPod(s)) if s.len() == pods => Ok(s),
        _ => Err(ReplicaCalcError::FetchFailed),
    }
}

/// What `computeReplicasForMetrics` decided.
#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    /// The replica count to normalise, or the first metric's error when
    /// the controller does not scale (every metric failed, or some failed
    /// and the others would scale down).
    pub replicas: Result<i32, ReplicaCalcError>,
    /// Each metric's own result, in the spec's order.
    pub per_metric: Vec<Result<ReplicaCalc, ReplicaCalcError>>,
    /// The metric whose proposal won.
    pub winner: Option<usize>,
}

/// `computeReplicasForMetrics`: the largest proposal of the metrics that
/// worked; no proposal if all failed, or if some failed and the rest would
/// scale below `spec.replicas` (a failing metric never lets the HPA scale
/// down).
pub fn compute_replicas(
    now: SimTime,
    spec_replicas: i32,
    metrics: &[MetricSpec],
    fetched: &[Fetched],
    pods: &[PodSnapshot],
    cfg: &ReplicaCalcConfig,
) -> Proposal {
    // status.replicas: the pods that are not terminating or failed.
    let status_replicas = count_pods(pods, |p| !p.deleting && p.phase != PodPhase::Failed) as i32;
    let per_metric: Vec<_> = metrics
        .iter()
        .enumerate()
        .map(|(i, m)| {
            one_metric(
                now,
                (spec_replicas, status_replicas),
                m,
                fetched.get(i),
                pods,
                cfg,
            )
        })
        .collect();
    let mut replicas = 0;
    let mut winner = None;
    let mut first_error = None;
    for (i, r) in per_metric.iter().enumerate() {
        match r {
            Err(e) => {
                first_error.get_or_insert_with(|| e.clone());
            }
            Ok(c) if winner.is_none() || c.replicas > replicas => {
                replicas = c.replicas;
                winner = Some(i);
            }
            Ok(_) => {}
        }
    }
    let replicas = match (first_error, winner) {
        (Some(e), None) => Err(e),
        (None, None) => Err(ReplicaCalcError::NoMetrics),
        (Some(e), Some(_)) if replicas < spec_replicas => Err(e),
        _ => Ok(replicas),
    };
    Proposal {
        replicas,
        per_metric,
        winner,
    }
}

#[cfg(test)]
mod tests {
    //! Expected numbers are derived by hand from the controller's code
    //! (`computeReplicasForMetrics` in horizontal.go, the calculators in
    //! replica_calculator.go), with the situations of
    //! replica_calculator_test.go where one exists.
    use super::*;
    use crate::hpa::replicas::{CpuMetric, ReadyCondition};
    use crate::hpa::{Hpa, HpaSpec};
    use crate::time::SimDuration;

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(10_000 + s)
    }

    /// `cpu` millicores used per pod (1000m requested, 1 GiB memory
    /// requested), ready and long past initialisation.
    fn pods(cpu: &[i64]) -> Vec<PodSnapshot> {
        cpu.iter()
            .map(|&c| PodSnapshot {
                count: 1,
                phase: PodPhase::Running,
                deleting: false,
                start_time: Some(SimTime::ZERO),
                ready: Some(ReadyCondition {
                    ready: true,
                    last_transition: SimTime::ZERO,
                }),
                request_millicores: 1000,
                request_memory_bytes: 1 << 30,
                metric: Some(CpuMetric {
                    usage_millicores: c,
                    timestamp: t(0),
                    window: SimDuration::from_secs(15),
                }),
            })
            .collect()
    }

    const MIB: i64 = 1 << 20;

    fn memory_average(mib: i64) -> MetricSpec {
        MetricSpec::Resource {
            name: ResourceName::Memory,
            target: Target::AverageValue(mib * MIB * 1000),
        }
    }

    fn per_pod_mib(mib: &[i64]) -> Fetched {
        Fetched::PerPod(mib.iter().map(|m| Some(m * MIB * 1000)).collect())
    }

    fn rps(name: &str, average: i64) -> MetricSpec {
        MetricSpec::Pods {
            name: name.into(),
            average_value: average * 1000,
        }
    }

    fn compute(current: i32, metrics: &[MetricSpec], fetched: &[Fetched], cpu: &[i64]) -> Proposal {
        let cfg = ReplicaCalcConfig::default();
        compute_replicas(t(0), current, metrics, fetched, &pods(cpu), &cfg)
    }

    #[test]
    fn memory_average_value() {
        // 4 pods at 600, 700, 800, 900 MiB against 500 MiB a pod: the mean
        // is 750 MiB (an exact milli-byte division), ratio 1.5, so
        // ceil(1.5 * 4) = 6.
        let p = compute(
            4,
            &[memory_average(500)],
            &[per_pod_mib(&[600, 700, 800, 900])],
            &[100; 4],
        );
        assert_eq!(p.replicas, Ok(6));
        assert_eq!(
            p.per_metric[0].as_ref().unwrap().raw_average_millicores,
            750 * MIB * 1000
        );
        // Memory ignores readiness (only CPU applies the rules): pod 0 has
        // been unready since it started (its last transition came within
        // the 30 s initial readiness delay), yet its sample counts. 900 and
        // 100 MiB: mean 500, ratio 1, within tolerance: 2.
        let mut ps = pods(&[900, 100]);
        ps[0].ready = Some(ReadyCondition {
            ready: false,
            last_transition: SimTime::ZERO + SimDuration::from_secs(10),
        });
        let cfg = ReplicaCalcConfig::default();
        let fetched = [per_pod_mib(&[900, 100])];
        let p = compute_replicas(t(0), 2, &[memory_average(500)], &fetched, &ps, &cfg);
        assert_eq!(p.replicas, Ok(2));
        // The same pods on a 50 % CPU target: pod 0 is left out, pod 1 at
        // 10 % asks for ceil(0.2 * 1) = 1 (counting pod 0 would give
        // (900 + 100) * 100 / 2000 = 50 %, ratio 1, so 2).
        let cpu = MetricSpec::cpu_utilization(50);
        let p = compute_replicas(t(0), 2, &[cpu], &[], &ps, &cfg);
        assert_eq!(p.replicas, Ok(1));
    }

    #[test]
    fn memory_utilization_uses_the_memory_request() {
        // 2 pods at 768 MiB of 1 GiB requested: 75 % against 50 %, ratio
        // 1.5, ceil(1.5 * 2) = 3.
        let spec = MetricSpec::Resource {
            name: ResourceName::Memory,
            target: Target::Utilization(50),
        };
        let p = compute(2, &[spec], &[per_pod_mib(&[768, 768])], &[100, 100]);
        assert_eq!(p.replicas, Ok(3));
        assert_eq!(p.per_metric[0].as_ref().unwrap().utilization_percent, 75);
    }

    #[test]
    fn pods_object_and_external_targets() {
        // TestReplicaCalcScaleUpCM: 3 pods at 20, 10, 30 (qps) against
        // 15 a pod: mean 20, ratio 4/3, ceil(4/3 * 3) = 4.
        let fetched = Fetched::PerPod(vec![Some(20_000), Some(10_000), Some(30_000)]);
        let p = compute(3, &[rps("qps", 15)], &[fetched], &[500; 3]);
        assert_eq!(p.replicas, Ok(4));
        // TestReplicaCalcScaleUpCMObject: an object at 20 against a value
        // of 15, 3 ready pods: ceil(20/15 * 3) = 4.
        let object = MetricSpec::Object {
            name: "qps".into(),
            target: Target::Value(15_000),
        };
        let p = compute(3, &[object], &[Fetched::Total(20_000)], &[500; 3]);
        assert_eq!(p.replicas, Ok(4));
        // TestReplicaCalcScaleUpPerPodCMExternal: 8.6 against 2.15 a pod
        // over 3 replicas: ratio 8.6 / 6.45 = 1.33, so ceil(8.6 / 2.15) = 4.
        let external = MetricSpec::External {
            name: "queue".into(),
            target: Target::AverageValue(2_150),
        };
        let p = compute(
            3,
            std::slice::from_ref(&external),
            &[Fetched::Total(8_600)],
            &[500; 3],
        );
        assert_eq!(p.replicas, Ok(4));
        // Within tolerance (6.6 / 6.45 = 1.023): status.replicas, 3.
        let p = compute(3, &[external], &[Fetched::Total(6_600)], &[500; 3]);
        assert_eq!(p.replicas, Ok(3));
        // TestReplicaCalcScaleUpCMExternal: 8.6 against a value of 4.4 with
        // one ready pod: ceil(1.954 * 1) = 2.
        let external = MetricSpec::External {
            name: "queue".into(),
            target: Target::Value(4_400),
        };
        let p = compute(1, &[external], &[Fetched::Total(8_600)], &[500]);
        assert_eq!(p.replicas, Ok(2));
    }

    #[test]
    fn a_pod_without_a_sample_counts_as_the_target_on_a_scale_down() {
        // calcPlainMetricReplicas: three pods at 5 (rps) against 10, one
        // without a sample. Ratio 0.5 < 1, so the missing pod counts as
        // the target: (3 x 5000 + 10000) / 4 = 6250 milli, ratio 0.625,
        // ceil(0.625 x 4) = 3.
        let fetched = Fetched::PerPod(vec![Some(5_000), Some(5_000), Some(5_000), None]);
        let p = compute(4, &[rps("rps", 10)], &[fetched], &[500; 4]);
        assert_eq!(p.replicas, Ok(3));
        // On a scale-up it counts as zero: 3 x 30 / 4 = 22.5, ratio 2.25,
        // ceil(2.25 x 4) = 9.
        let fetched = Fetched::PerPod(vec![Some(30_000), Some(30_000), Some(30_000), None]);
        let p = compute(4, &[rps("rps", 10)], &[fetched], &[500; 4]);
        assert_eq!(p.replicas, Ok(9));
    }

    #[test]
    fn the_largest_proposal_wins() {
        // CPU: 4 pods at 90 % of a 60 % target, ceil(1.5 * 4) = 6.
        // Pods: 4 pods at 25 rps against 10, ceil(2.5 * 4) = 10.
        // Memory: 4 pods at 250 MiB against 500 MiB, ceil(0.5 * 4) = 2.
        let metrics = [
            MetricSpec::cpu_utilization(60),
            rps("requests_per_second", 10),
            memory_average(500),
        ];
        let fetched = [
            Fetched::PerPod(vec![]),
            Fetched::PerPod(vec![Some(25_000); 4]),
            per_pod_mib(&[250; 4]),
        ];
        let p = compute(4, &metrics, &fetched, &[900; 4]);
        let each: Vec<i32> = p
            .per_metric
            .iter()
            .map(|r| r.as_ref().unwrap().replicas)
            .collect();
        assert_eq!(each, vec![6, 10, 2]);
        assert_eq!((p.replicas, p.winner), (Ok(10), Some(1)));
    }

    #[test]
    fn a_failed_metric_is_skipped_for_a_scale_up_but_blocks_a_scale_down() {
        let metrics = [MetricSpec::cpu_utilization(60), rps("rps", 10)];
        // CPU asks for 6 (above 4), the pods metric failed: scale to 6.
        let p = compute(
            4,
            &metrics,
            &[Fetched::PerPod(vec![]), Fetched::Failed],
            &[900; 4],
        );
        assert_eq!(p.replicas, Ok(6));
        assert_eq!(p.per_metric[1], Err(ReplicaCalcError::FetchFailed));
        // CPU asks for ceil(0.5 * 4) = 2, below 4, while a metric failed:
        // no proposal (invalidMetricsCount > 0 && replicas < specReplicas).
        let p = compute(
            4,
            &metrics,
            &[Fetched::PerPod(vec![]), Fetched::Failed],
            &[300; 4],
        );
        assert_eq!(p.replicas, Err(ReplicaCalcError::FetchFailed));
        // Both fail: the first error.
        let p = compute(4, &metrics, &[Fetched::Failed, Fetched::Failed], &[300; 4]);
        assert_eq!(p.replicas, Err(ReplicaCalcError::FetchFailed));
        // Through the HPA: the count is held, nothing rescaled.
        let mut spec = HpaSpec::new(1, 20, 60);
        spec.metrics = metrics.to_vec();
        let mut hpa = Hpa::new(spec);
        let out = hpa.sync_metrics(
            t(0),
            4,
            &pods(&[300; 4]),
            &[Fetched::PerPod(vec![]), Fetched::Failed],
        );
        assert_eq!((out.desired_replicas, out.rescale), (4, false));
        assert!(out.metric.is_err());
        // And the scale-up goes through, with the failure reported.
        let out = hpa.sync_metrics(
            t(15),
            4,
            &pods(&[900; 4]),
            &[Fetched::PerPod(vec![]), Fetched::Failed],
        );
        assert_eq!(out.desired_replicas, 6);
        assert_eq!(out.per_metric[1], Err(ReplicaCalcError::FetchFailed));
    }

    #[test]
    fn the_first_sync_seeds_the_history_with_the_current_count() {
        // A fresh HPA over 10 idle pods (10 % of a 50 % target): the metric
        // asks for ceil(0.2 * 10) = 2, but recordInitialRecommendation put
        // 10 in the history at the first sync, and the default scale-down
        // window (300 s) keeps the highest recommendation in it.
        let mut hpa = Hpa::new(HpaSpec::new(1, 20, 50));
        let idle = pods(&[100; 10]);
        let out = hpa.sync(t(0), 10, &idle);
        assert_eq!(out.metric.as_ref().unwrap().replicas, 2);
        assert_eq!((out.desired_replicas, out.stabilized_replicas), (10, 10));
        for s in (15..300).step_by(15) {
            assert_eq!(hpa.sync(t(s), 10, &idle).desired_replicas, 10, "at {s} s");
        }
        // At 300 s the seed sits exactly on the cutoff (kept only if
        // after it): every recommendation left is 2, and the default
        // scale-down policy (100 % per 15 s) allows the whole drop.
        assert_eq!(hpa.sync(t(300), 10, &idle).desired_replicas, 2);
        // Without behaviour the seed keeps it too (normalizeDesiredReplicas
        // takes the highest recommendation of the window).
        let mut spec = HpaSpec::new(1, 20, 50);
        spec.behavior = None;
        let mut hpa = Hpa::new(spec);
        assert_eq!(hpa.sync(t(0), 10, &idle).desired_replicas, 10);
    }

    /// Pods of every kind the calculation tells apart, each `count` times
    /// alike: ready past initialisation at several levels, hot (started a
    /// minute ago, sample older than its window), unready, pending,
    /// missing a sample, terminating and failed.
    fn kinds(levels: &[i64], counts: &[u32]) -> Vec<PodSnapshot> {
        let mut all = pods(levels);
        let base = all[0];
        let hot = SimTime::ZERO + SimDuration::from_secs(10_000 - 60);
        let hot_ready = ReadyCondition {
            ready: true,
            last_transition: hot,
        };
        all.extend([
            PodSnapshot {
                start_time: Some(hot),
                ready: Some(hot_ready),
                ..base
            },
            PodSnapshot {
                ready: Some(ReadyCondition {
                    ready: false,
                    last_transition: SimTime::ZERO,
                }),
                ..base
            },
            PodSnapshot {
                phase: PodPhase::Pending,
                metric: None,
                ..base
            },
            PodSnapshot {
                metric: None,
                ..base
            },
            PodSnapshot {
                deleting: true,
                ..base
            },
            PodSnapshot {
                phase: PodPhase::Failed,
                ..base
            },
        ]);
        for (p, &n) in all.iter_mut().zip(counts.iter().cycle()) {
            p.count = n;
        }
        all
    }

    /// Each snapshot of `runs` listed `count` times, one pod each.
    fn one_by_one<T: Clone>(runs: &[PodSnapshot], values: &[T]) -> (Vec<PodSnapshot>, Vec<T>) {
        let mut pods = Vec::new();
        let mut per_pod = Vec::new();
        for (p, v) in runs.iter().zip(values) {
            for _ in 0..p.count {
                pods.push(PodSnapshot { count: 1, ..*p });
                per_pod.push(v.clone());
            }
        }
        (pods, per_pod)
    }

    #[test]
    fn alike_pods_listed_once_decide_as_listed_one_by_one() {
        let metrics = [
            MetricSpec::cpu_utilization(50),
            MetricSpec::Resource {
                name: ResourceName::Cpu,
                target: Target::AverageValue(400),
            },
            memory_average(700),
            rps("rps", 40),
            MetricSpec::External {
                name: "queue".into(),
                target: Target::Value(90_000),
            },
        ];
        let levels: [&[i64]; 4] = [&[100, 900], &[500, 500, 700], &[1500], &[0, 300]];
        let counts: [&[u32]; 4] = [&[1], &[3, 1, 2], &[2, 5, 1, 4], &[4, 0, 3]];
        let (mut checked, mut rescaled) = (0, 0);
        for levels in levels {
            for counts in counts {
                let runs = kinds(levels, counts);
                let mib: Vec<Option<i64>> = (0..runs.len())
                    .map(|i| (i % 4 != 3).then_some((500 + 150 * i as i64) * MIB * 1000))
                    .collect();
                let rps: Vec<Option<i64>> = (0..runs.len())
                    .map(|i| (i % 5 != 2).then_some(25_000 + 9_000 * i as i64))
                    .collect();
                let (pods, pod_mib) = one_by_one(&runs, &mib);
                let (_, pod_rps) = one_by_one(&runs, &rps);
                for (m, metric) in metrics.iter().enumerate() {
                    let fetch = |mib: &Vec<Option<i64>>, rps: &Vec<Option<i64>>| match m {
                        2 => Fetched::PerPod(mib.clone()),
                        3 => Fetched::PerPod(rps.clone()),
                        _ => Fetched::Total(130_000),
                    };
                    let mut spec = HpaSpec::new(1, 50, 50);
                    spec.metrics = vec![metric.clone()];
                    let (mut listed, mut alike) = (Hpa::new(spec.clone()), Hpa::new(spec));
                    for (s, current) in [(0, 6), (15, 9), (30, 4), (400, 12)] {
                        let one = [fetch(&pod_mib, &pod_rps)];
                        let once = [fetch(&mib, &rps)];
                        let a = listed.sync_metrics(t(s), current, &pods, &one);
                        let b = alike.sync_metrics(t(s), current, &runs, &once);
                        assert_eq!(a, b, "metric {m}, {levels:?} x {counts:?} at {s} s");
                        checked += 1;
                        rescaled += usize::from(a.rescale);
                    }
                }
            }
        }
        assert_eq!(checked, 4 * 4 * 5 * 4);
        // Not only holds: the pods scale both ways.
        assert!(rescaled > checked / 4, "{rescaled} of {checked}");
    }
}
