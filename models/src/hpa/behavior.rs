//! The `behavior` field of an `autoscaling/v2` HorizontalPodAutoscaler:
//! scaling policies, policy selection and stabilisation windows, ported from
//! `stabilizeRecommendationWithBehaviors`, `convertDesiredReplicasWithBehaviorRate`,
//! `calculateScaleUpLimitWithScalingRules`, `calculateScaleDownLimitWithBehaviors`
//! and `getReplicasChangePerPeriod` in kubernetes/kubernetes
//! `pkg/controller/podautoscaler/horizontal.go` (v1.33), with the defaults of
//! `pkg/apis/autoscaling/v2/defaults.go`.

use crate::time::{SimDuration, SimTime};

/// How a policy limits the change in one period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    /// At most `value` pods added or removed per period.
    Pods,
    /// At most `value` percent of the replicas at the period's start.
    Percent,
}

/// One `HPAScalingPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScalingPolicy {
    /// Pods or percent.
    pub kind: PolicyKind,
    /// The amount; above zero.
    pub value: i32,
    /// The period the amount applies to (`periodSeconds`, 1 s to 30 min).
    pub period: SimDuration,
}

/// `selectPolicy`: which policy wins when several apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectPolicy {
    /// The policy allowing the largest change (the default).
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// One direction's `HPAScalingRules`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalingRules {
    /// Recommendations from this far back bound the new one.
    pub stabilization_window: SimDuration,
    /// How the policies combine.
    pub select: SelectPolicy,
    /// The rate limits.
    pub policies: Vec<ScalingPolicy>,
}

/// Default scale-up period and amounts: 4 pods or 100 % per 15 s, whichever
/// is more, no stabilisation (Kubernetes docs, "Horizontal Pod Autoscaling",
/// default behavior; `GenerateHPAScaleUpRules`).
pub const DEFAULT_SCALE_UP_PERIOD: SimDuration = SimDuration::from_secs(15);
/// Default scale-up pods per period (see [`DEFAULT_SCALE_UP_PERIOD`]).
pub const DEFAULT_SCALE_UP_PODS: i32 = 4;
/// Default scale-up percent per period (see [`DEFAULT_SCALE_UP_PERIOD`]).
pub const DEFAULT_SCALE_UP_PERCENT: i32 = 100;
/// Default scale-down: 100 % per 15 s (`GenerateHPAScaleDownRules`).
pub const DEFAULT_SCALE_DOWN_PERIOD: SimDuration = SimDuration::from_secs(15);
/// Default scale-down stabilisation: the controller's
/// `--horizontal-pod-autoscaler-downscale-stabilization`, 5 min.
pub const DEFAULT_DOWNSCALE_STABILIZATION: SimDuration = SimDuration::from_secs(300);

impl ScalingRules {
    /// The default scale-up rules.
    pub fn default_scale_up() -> Self {
        ScalingRules {
            stabilization_window: SimDuration::ZERO,
            select: SelectPolicy::Max,
            policies: vec![
                ScalingPolicy {
                    kind: PolicyKind::Pods,
                    value: DEFAULT_SCALE_UP_PODS,
                    period: DEFAULT_SCALE_UP_PERIOD,
                },
                ScalingPolicy {
                    kind: PolicyKind::Percent,
                    value: DEFAULT_SCALE_UP_PERCENT,
                    period: DEFAULT_SCALE_UP_PERIOD,
                },
            ],
        }
    }

    /// The default scale-down rules.
    pub fn default_scale_down() -> Self {
        ScalingRules {
            stabilization_window: DEFAULT_DOWNSCALE_STABILIZATION,
            select: SelectPolicy::Max,
            policies: vec![ScalingPolicy {
                kind: PolicyKind::Percent,
                value: 100,
                period: DEFAULT_SCALE_DOWN_PERIOD,
            }],
        }
    }

    fn longest_period(&self) -> SimDuration {
        self.policies
            .iter()
            .map(|p| p.period)
            .max()
            .unwrap_or(SimDuration::ZERO)
    }
}

/// Both directions' rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Behavior {
    /// Rules for growing.
    pub scale_up: ScalingRules,
    /// Rules for shrinking.
    pub scale_down: ScalingRules,
}

impl Default for Behavior {
    /// What the API server fills in for an empty `behavior: {}`.
    fn default() -> Self {
        Behavior {
            scale_up: ScalingRules::default_scale_up(),
            scale_down: ScalingRules::default_scale_down(),
        }
    }
}

/// A replica change the controller made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ScaleEvent {
    pub at: SimTime,
    pub change: i32,
}

/// Why the final count differs from the stabilised recommendation, as in
/// the HPA's `ScalingLimited` condition reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// Not limited.
    DesiredWithinRange,
    /// Growing faster than the policies allow.
    ScaleUpLimit,
    /// Shrinking faster than the policies allow.
    ScaleDownLimit,
    /// Above `maxReplicas`.
    TooManyReplicas,
    /// Below `minReplicas`.
    TooFewReplicas,
}

/// `getReplicasChangePerPeriod`: the sum of changes strictly after `now - period`.
fn change_in_period(now: SimTime, period: SimDuration, events: &[ScaleEvent]) -> i32 {
    let cutoff = SimTime::from_nanos(now.as_nanos().saturating_sub(period.as_nanos()));
    events
        .iter()
        .filter(|e| e.at > cutoff)
        .map(|e| e.change)
        .sum()
}

/// `calculateScaleUpLimitWithScalingRules`.
pub(crate) fn scale_up_limit(
    now: SimTime,
    current: i32,
    up: &[ScaleEvent],
    down: &[ScaleEvent],
    rules: &ScalingRules,
) -> i32 {
    let (mut result, pick): (i32, fn(i32, i32) -> i32) = match rules.select {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => (i32::MAX, i32::min),
        SelectPolicy::Max => (i32::MIN, i32::max),
    };
    for policy in &rules.policies {
        let start = current - change_in_period(now, policy.period, up)
            + change_in_period(now, policy.period, down);
        let proposed = match policy.kind {
            PolicyKind::Pods => start.saturating_add(policy.value),
            // Rounded up so that a small percentage still adds a pod.
            PolicyKind::Percent => {
                let p = (f64::from(start) * (1.0 + f64::from(policy.value) / 100.0)).ceil();
                p.min(f64::from(i32::MAX)) as i32
            }
        };
        result = pick(result, proposed);
    }
    result
}

/// `calculateScaleDownLimitWithBehaviors`.
pub(crate) fn scale_down_limit(
    now: SimTime,
    current: i32,
    up: &[ScaleEvent],
    down: &[ScaleEvent],
    rules: &ScalingRules,
) -> i32 {
    let (mut result, pick): (i32, fn(i32, i32) -> i32) = match rules.select {
        SelectPolicy::Disabled => return current,
        // For scaling down, the smallest change is the largest count.
        SelectPolicy::Min => (i32::MIN, i32::max),
        SelectPolicy::Max => (i32::MAX, i32::min),
    };
    for policy in &rules.policies {
        let start = current - change_in_period(now, policy.period, up)
            + change_in_period(now, policy.period, down);
        let proposed = match policy.kind {
            PolicyKind::Pods => start - policy.value,
            // Truncated, as Go's int32() conversion does.
            PolicyKind::Percent => {
                (f64::from(start) * (1.0 - f64::from(policy.value) / 100.0)) as i32
            }
        };
        result = pick(result, proposed);
    }
    result
}

/// `convertDesiredReplicasWithBehaviorRate`: bounds by the policies and by
/// min/max replicas.
pub(crate) fn apply_rate(
    now: SimTime,
    behavior: &Behavior,
    up: &[ScaleEvent],
    down: &[ScaleEvent],
    current: i32,
    desired: i32,
    (min_replicas, max_replicas): (i32, i32),
) -> (i32, Limit) {
    if desired > current {
        let limit = scale_up_limit(now, current, up, down, &behavior.scale_up).max(current);
        let (allowed, reason) = if max_replicas > limit {
            (limit, Limit::ScaleUpLimit)
        } else {
            (max_replicas, Limit::TooManyReplicas)
        };
        if desired > allowed {
            return (allowed, reason);
        }
    } else if desired < current {
        let limit = scale_down_limit(now, current, up, down, &behavior.scale_down).min(current);
        let (allowed, reason) = if min_replicas < limit {
            (limit, Limit::ScaleDownLimit)
        } else {
            (min_replicas, Limit::TooFewReplicas)
        };
        if desired < allowed {
            return (allowed, reason);
        }
    }
    (desired, Limit::DesiredWithinRange)
}

/// `stabilizeRecommendationWithBehaviors`: the lowest of `desired` and the
/// recommendations strictly inside the scale-up window, and the highest of
/// `desired` and those strictly inside the scale-down window, bound the
/// current count.
pub(crate) fn stabilize(
    now: SimTime,
    behavior: &Behavior,
    recommendations: &[(SimTime, i32)],
    current: i32,
    desired: i32,
) -> i32 {
    let cut = |w: SimDuration| SimTime::from_nanos(now.as_nanos().saturating_sub(w.as_nanos()));
    let up_cut = cut(behavior.scale_up.stabilization_window);
    let down_cut = cut(behavior.scale_down.stabilization_window);
    let mut up_rec = desired;
    let mut down_rec = desired;
    for &(at, rec) in recommendations {
        if at > up_cut {
            up_rec = up_rec.min(rec);
        }
        if at > down_cut {
            down_rec = down_rec.max(rec);
        }
    }
    current.max(up_rec).min(down_rec)
}

/// Drops events no policy of either direction can see any more.
pub(crate) fn prune_events(now: SimTime, behavior: &Behavior, events: &mut Vec<ScaleEvent>) {
    let keep = behavior
        .scale_up
        .longest_period()
        .max(behavior.scale_down.longest_period());
    let cutoff = SimTime::from_nanos(now.as_nanos().saturating_sub(keep.as_nanos()));
    events.retain(|e| e.at > cutoff);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    fn rules(select: SelectPolicy, policies: &[(PolicyKind, i32, u64)]) -> ScalingRules {
        ScalingRules {
            stabilization_window: SimDuration::ZERO,
            select,
            policies: policies
                .iter()
                .map(|&(kind, value, secs)| ScalingPolicy {
                    kind,
                    value,
                    period: SimDuration::from_secs(secs),
                })
                .collect(),
        }
    }

    #[test]
    fn default_scale_up_is_max_of_four_pods_and_doubling() {
        let r = ScalingRules::default_scale_up();
        // 1 replica: 1 + 4 = 5 beats 2.
        assert_eq!(scale_up_limit(t(100), 1, &[], &[], &r), 5);
        // 10 replicas: 20 beats 14.
        assert_eq!(scale_up_limit(t(100), 10, &[], &[], &r), 20);
    }

    #[test]
    fn events_inside_the_period_reduce_the_allowance() {
        let r = ScalingRules::default_scale_up();
        // Grew 10 -> 20 at t=100; at t=110 the period start is still 10.
        let up = [ScaleEvent {
            at: t(100),
            change: 10,
        }];
        assert_eq!(scale_up_limit(t(110), 20, &up, &[], &r), 20);
        // Exactly one period later the event is out (strictly after cutoff).
        assert_eq!(scale_up_limit(t(115), 20, &up, &[], &r), 40);
    }

    #[test]
    fn min_select_picks_the_smaller_change() {
        let r = rules(
            SelectPolicy::Min,
            &[(PolicyKind::Pods, 4, 60), (PolicyKind::Percent, 100, 60)],
        );
        assert_eq!(scale_up_limit(t(0), 10, &[], &[], &r), 14);
        let r = ScalingRules {
            select: SelectPolicy::Disabled,
            ..r
        };
        assert_eq!(scale_up_limit(t(0), 10, &[], &[], &r), 10);
    }

    #[test]
    fn docs_scale_down_example_removes_ten_percent_rounded_up() {
        // Kubernetes docs, "Scaling Policies": Pods 4 / 60 s and Percent 10 /
        // 60 s, default Max select. At 80 replicas 8 go; at 72, 10 % is 7.2,
        // rounded up to 8 removed.
        let r = rules(
            SelectPolicy::Max,
            &[(PolicyKind::Pods, 4, 60), (PolicyKind::Percent, 10, 60)],
        );
        assert_eq!(scale_down_limit(t(0), 80, &[], &[], &r), 72);
        assert_eq!(scale_down_limit(t(0), 72, &[], &[], &r), 64);
        // Below 40 replicas the Pods policy allows the larger change.
        assert_eq!(scale_down_limit(t(0), 30, &[], &[], &r), 26);
        // Within the same minute, the earlier removal counts.
        let down = [ScaleEvent {
            at: t(10),
            change: 8,
        }];
        assert_eq!(scale_down_limit(t(20), 72, &[], &down, &r), 72);
    }

    #[test]
    fn scale_down_min_select_and_disabled() {
        let r = rules(
            SelectPolicy::Min,
            &[(PolicyKind::Pods, 4, 60), (PolicyKind::Percent, 10, 60)],
        );
        // Min change: 80 - 4 = 76 rather than 72.
        assert_eq!(scale_down_limit(t(0), 80, &[], &[], &r), 76);
        let r = ScalingRules {
            select: SelectPolicy::Disabled,
            ..r
        };
        assert_eq!(scale_down_limit(t(0), 80, &[], &[], &r), 80);
    }

    #[test]
    fn rate_then_bounds() {
        let b = Behavior::default();
        assert_eq!(
            apply_rate(t(0), &b, &[], &[], 10, 150, (1, 100)),
            (20, Limit::ScaleUpLimit)
        );
        assert_eq!(
            apply_rate(t(0), &b, &[], &[], 10, 150, (1, 15)),
            (15, Limit::TooManyReplicas)
        );
        assert_eq!(
            apply_rate(t(0), &b, &[], &[], 10, 1, (3, 100)),
            (3, Limit::TooFewReplicas)
        );
        assert_eq!(
            apply_rate(t(0), &b, &[], &[], 10, 12, (1, 100)),
            (12, Limit::DesiredWithinRange)
        );
    }

    /// `generateScalingRules(pods, podsPeriod, percent, percentPeriod,
    /// window)` of horizontal_test.go: Max select, a policy for each non-zero
    /// amount.
    fn gen(
        pods: i32,
        pods_period: u64,
        percent: i32,
        percent_period: u64,
        window: u64,
    ) -> ScalingRules {
        let mut policies = Vec::new();
        if pods != 0 {
            policies.push(ScalingPolicy {
                kind: PolicyKind::Pods,
                value: pods,
                period: SimDuration::from_secs(pods_period),
            });
        }
        if percent != 0 {
            policies.push(ScalingPolicy {
                kind: PolicyKind::Percent,
                value: percent,
                period: SimDuration::from_secs(percent_period),
            });
        }
        ScalingRules {
            stabilization_window: SimDuration::from_secs(window),
            select: SelectPolicy::Max,
            policies,
        }
    }

    /// `generateEventsUniformDistribution(raw, period)`: event i at the
    /// middle of the i-th of equal segments of the last `period` seconds
    /// (whole seconds, as the Go conversion truncates).
    fn spread(now: SimTime, raw: &[i32], period: u64) -> Vec<ScaleEvent> {
        let seg = period as f64 / raw.len() as f64;
        raw.iter()
            .enumerate()
            .map(|(i, &change)| {
                let ago = (period as f64 - seg * (i as f64 + 1.0) + seg / 2.0) as u64;
                ScaleEvent {
                    at: SimTime::from_nanos(now.as_nanos() - ago * 1_000_000_000),
                    change,
                }
            })
            .collect()
    }

    /// One row of TestScalingWithRules: name, up events, down events, min,
    /// max, up rules, down rules, current, prenormalized desired, expected
    /// replicas and condition.
    type RuleCase = (
        &'static str,
        &'static [i32],
        &'static [i32],
        i32,
        i32,
        Option<ScalingRules>,
        Option<ScalingRules>,
        i32,
        i32,
        i32,
        Limit,
    );

    #[test]
    fn scaling_with_rules_ported_from_the_controller_tests() {
        // TestScalingWithRules in kubernetes/kubernetes
        // pkg/controller/podautoscaler/horizontal_test.go (v1.33); events
        // spread over the last 120 s as generateEventsUniformDistribution does.
        use Limit::*;
        let now = t(10_000);
        #[rustfmt::skip]
        let cases: Vec<RuleCase> = vec![
            ("within range", &[], &[], 3, 8, None, None, 5, 7, 7, DesiredWithinRange),
            ("below min", &[], &[], 2, 8, None, None, 3, 1, 2, TooFewReplicas),
            ("min 0", &[], &[], 0, 10, None, None, 1, 0, 0, DesiredWithinRange),
            ("max < scale-up limit", &[], &[], 1, 10, None, None, 20, 1000, 10, TooManyReplicas),
            ("above max", &[], &[], 100, 150, None, None, 100, 1000, 150, TooManyReplicas),
            ("user percent policy", &[], &[], 1, 2000, Some(gen(0, 0, 1, 60, 0)), None, 3, 1000, 4, ScaleUpLimit),
            ("default behavior", &[], &[], 1, 1000, None, None, 10, 50, 20, ScaleUpLimit),
            ("pods > percent", &[], &[], 1, 1000, Some(gen(100, 60, 100, 60, 0)), None, 10, 500, 110, ScaleUpLimit),
            ("percent > pods", &[], &[], 1, 1000, Some(gen(2, 60, 100, 60, 0)), None, 10, 500, 20, ScaleUpLimit),
            ("large pod policy", &[], &[], 1, 1000, Some(gen(100, 60, 0, 0, 0)), None, 10, 50, 50, DesiredWithinRange),
            ("large percent policy", &[], &[], 1, 1000, Some(gen(10000, 60, 0, 0, 0)), None, 10, 50, 50, DesiredWithinRange),
            ("pod policy limit", &[], &[], 1, 1000, Some(gen(30, 60, 0, 0, 0)), None, 10, 50, 40, ScaleUpLimit),
            ("percent policy limit", &[], &[], 1, 1000, Some(gen(0, 0, 200, 60, 0)), None, 10, 50, 30, ScaleUpLimit),
            ("down: percent > pods", &[], &[], 1, 1000, None, Some(gen(20, 60, 1, 60, 300)), 100, 2, 80, ScaleDownLimit),
            ("down: pods > percent", &[], &[], 1, 1000, None, Some(gen(2, 60, 1, 60, 300)), 100, 2, 98, ScaleDownLimit),
            ("down: min with large pods", &[], &[], 1, 1000, None, Some(gen(100, 60, 0, 0, 300)), 10, 0, 1, TooFewReplicas),
            ("down: min with large percent", &[], &[], 5, 1000, None, Some(gen(0, 0, 100, 60, 300)), 10, 2, 5, TooFewReplicas),
            ("down: pod policy limit", &[], &[], 1, 1000, None, Some(gen(5, 60, 0, 0, 300)), 10, 2, 5, ScaleDownLimit),
            ("down: percent policy", &[], &[], 1, 1000, None, Some(gen(0, 0, 50, 60, 300)), 10, 5, 5, DesiredWithinRange),
            ("up: max with pods and events", &[1, 5, 9], &[], 1, 200, Some(gen(300, 60, 0, 0, 0)), None, 100, 500, 200, TooManyReplicas),
            ("up: max with percent and events", &[1, 5, 9], &[], 1, 200, Some(gen(0, 0, 10000, 60, 0)), None, 100, 500, 200, TooManyReplicas),
            ("up: events exhaust the period", &[1, 5, 9], &[], 1, 1000, Some(gen(5, 120, 0, 0, 0)), None, 100, 500, 100, ScaleUpLimit),
            ("up: pods after events", &[1, 5, 9], &[], 1, 1000, Some(gen(150, 120, 0, 0, 0)), None, 100, 500, 235, ScaleUpLimit),
            ("up: percent after events", &[1, 5, 9], &[], 1, 1000, Some(gen(0, 0, 200, 120, 0)), None, 100, 500, 255, ScaleUpLimit),
            ("up: percent after up and down", &[4], &[2], 1, 1000, Some(gen(0, 0, 300, 300, 0)), None, 6, 24, 16, ScaleUpLimit),
            ("down: default after events", &[], &[1, 5, 9], 1, 1000, None, None, 10, 5, 5, DesiredWithinRange),
            ("down: min with pods and events", &[], &[1, 5, 9], 1, 1000, None, Some(gen(115, 120, 0, 0, 300)), 100, 0, 1, TooFewReplicas),
            ("down: min 5 with pods and events", &[], &[1, 5, 9], 5, 1000, None, Some(gen(130, 120, 0, 0, 300)), 100, 0, 5, TooFewReplicas),
            ("down: min 5 with percent and events", &[], &[1, 5, 9], 5, 1000, None, Some(gen(0, 0, 100, 120, 300)), 100, 2, 5, TooFewReplicas),
            ("down: pods after events", &[], &[1, 5, 9], 1, 1000, None, Some(gen(5, 120, 0, 0, 300)), 100, 2, 100, ScaleDownLimit),
            ("down: percent after events", &[], &[2, 4, 6], 1, 1000, None, Some(gen(0, 0, 50, 120, 300)), 100, 0, 56, ScaleDownLimit),
            ("down: percent after up and down", &[2], &[4], 1, 1000, None, Some(gen(0, 0, 50, 180, 0)), 10, 1, 6, ScaleDownLimit),
            ("down: events prevent more", &[], &[10, 10, 10], 1, 1000, None, Some(gen(0, 0, 10, 120, 300)), 100, 0, 100, ScaleDownLimit),
            ("down: events still allow more", &[], &[10, 10, 10], 1, 1000, None, Some(gen(0, 0, 1000, 120, 300)), 10, 5, 5, DesiredWithinRange),
            ("up: one behavior, events", &[8, 12, 9, 11], &[], 1, 1000, Some(gen(1000, 60, 0, 0, 0)), None, 100, 200, 200, DesiredWithinRange),
            ("up: two periods 120/60", &[8, 12, 9, 11], &[], 1, 1000, Some(gen(1000, 120, 100, 60, 0)), None, 100, 200, 200, DesiredWithinRange),
            ("up: two periods 30/60", &[8, 12, 9, 11], &[], 1, 1000, Some(gen(1000, 30, 100, 60, 0)), None, 100, 200, 200, DesiredWithinRange),
            ("down: one behavior, events", &[], &[8, 12, 9, 11], 1, 1000, None, Some(gen(1000, 60, 0, 0, 300)), 100, 5, 5, DesiredWithinRange),
            ("down: two periods 120/60", &[], &[8, 12, 9, 11], 1, 1000, None, Some(gen(1000, 120, 100, 60, 300)), 100, 5, 5, DesiredWithinRange),
            ("down: two periods 30/60", &[], &[8, 12, 9, 11], 1, 1000, None, Some(gen(1000, 30, 100, 60, 300)), 100, 5, 5, DesiredWithinRange),
        ];
        for (name, up, down, min, max, up_rules, down_rules, current, desired, want, why) in cases {
            let behavior = Behavior {
                scale_up: up_rules.unwrap_or_else(ScalingRules::default_scale_up),
                scale_down: down_rules.unwrap_or_else(ScalingRules::default_scale_down),
            };
            let up = spread(now, up, 120);
            let down = spread(now, down, 120);
            let got = apply_rate(now, &behavior, &up, &down, current, desired, (min, max));
            assert_eq!(got, (want, why), "{name}");
        }
    }

    /// One row of TestNormalizeDesiredReplicasWithBehavior: recommendations
    /// as (value, minutes ago), current, desired, scale-up window (s),
    /// scale-down window (s), expected.
    type StabilizeCase = (&'static [(i32, u64)], i32, i32, u64, u64, i32);

    #[test]
    fn stabilization_ported_from_the_controller_tests() {
        // TestNormalizeDesiredReplicasWithBehavior in horizontal_test.go.
        let now = t(100_000);
        let ago = |m: u64| SimTime::from_nanos(now.as_nanos() - m * 60_000_000_000);
        #[rustfmt::skip]
        let cases: [StabilizeCase; 11] = [
            (&[], 100, 5, 0, 0, 5),
            (&[(4, 2), (5, 1)], 100, 3, 0, 180, 5),
            (&[(4, 2), (5, 1)], 1, 7, 300, 0, 4),
            (&[(1, 2), (2, 1)], 100, 3, 300, 0, 3),
            (&[(4, 2), (5, 1)], 1, 3, 0, 300, 3),
            (&[(10, 10), (9, 9)], 100, 3, 0, 0, 3),
            (&[(10, 10), (9, 9)], 1, 100, 0, 0, 100),
            (&[(10, 10), (4, 1), (5, 2), (9, 9)], 100, 3, 0, 180, 5),
            (&[(10, 100), (6, 1), (5, 2), (9, 3)], 1, 100, 300, 0, 5),
            // Do not scale up when the recommendation goes down ...
            (&[(2, 100), (3, 3)], 2, 1, 300, 300, 2),
            // ... nor down when it goes up.
            (&[(2, 100), (1, 3)], 2, 3, 300, 300, 2),
        ];
        for (i, (recs, current, desired, up_w, down_w, want)) in cases.into_iter().enumerate() {
            let mut b = Behavior::default();
            b.scale_up.stabilization_window = SimDuration::from_secs(up_w);
            b.scale_down.stabilization_window = SimDuration::from_secs(down_w);
            let recs: Vec<(SimTime, i32)> = recs.iter().map(|&(r, m)| (ago(m), r)).collect();
            assert_eq!(
                stabilize(now, &b, &recs, current, desired),
                want,
                "case {i}"
            );
        }
    }
}
