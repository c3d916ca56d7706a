//! The plan state machine.

use super::gate::{GateVerdict, Gates, Observation, Scope};
use crate::time::{SimDuration, SimTime};

/// How a stage moves traffic; the world decides what each costs in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// A BGP knob (announce, prepend, withdraw): takes effect as routes converge.
    Bgp,
    /// A weighted split at an L7 proxy (e.g. nginx upstream weights): at once.
    L7Weight,
}

/// One stage of a region's shift.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StageSpec {
    /// Share of the region's traffic sent to the new site, 0 to 1.
    pub share: f64,
    /// Wait after the change before observing (e.g. BGP convergence, 120 s).
    pub wait: SimDuration,
    /// Length of the observation window the gate judges (e.g. 30 min).
    pub observe: SimDuration,
}

/// The staged shift of one region from its old site to its new one.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionPlan {
    /// The region's name, for reports.
    pub name: String,
    /// How traffic is moved.
    pub mechanism: Mechanism,
    /// The stages, in order; the last normally has share 1.
    pub stages: Vec<StageSpec>,
    /// The gates every stage's window must pass.
    pub gates: Gates,
    /// The earliest its first attempt may start (its servers delivered).
    pub ready_at: SimTime,
    /// The lead of the servers re-ordered for each retry, counted from the
    /// rollback (the retry waits for them too); empty: no re-order.
    pub reorder_leads: Vec<SimDuration>,
}

/// What happens after a gate fails and the region is rolled back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FailurePolicy {
    /// Stop the plan: it has failed.
    Abort,
    /// Start the region again from its first stage after `delay` (time to fix
    /// what failed), at most `max_retries` times; then stop.
    Retry {
        /// Time between the rollback and the new attempt.
        delay: SimDuration,
        /// Attempts after the first.
        max_retries: u32,
    },
}

/// A whole plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanSpec {
    /// Regions in the order they move.
    pub regions: Vec<RegionPlan>,
    /// Minimum time between the starts of two consecutive regions (pacing,
    /// e.g. one region a week); zero starts the next region at once.
    pub region_spacing: SimDuration,
    /// What a failed gate leads to.
    pub on_failure: FailurePolicy,
}

/// What the machine asks of the world.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanAction {
    /// Send `share` of `region`'s traffic to its new site now.
    SetShare {
        /// Region index in the plan.
        region: usize,
        /// Share for the new site, 0 to 1 (0 is a rollback).
        share: f64,
        /// How to move it.
        mechanism: Mechanism,
    },
    /// Call [`PlanMachine::wake`] at this instant.
    WakeAt(SimTime),
    /// Measure `region` from `from` until `until`, then call
    /// [`PlanMachine::window_closed`] at `until` with the figures of
    /// every scope.
    Observe {
        /// Region index.
        region: usize,
        /// Start of the window.
        from: SimTime,
        /// End of the window.
        until: SimTime,
    },
    /// The old site of `region` carries no more traffic: stop paying for it.
    Decommission {
        /// Region index.
        region: usize,
    },
    /// The plan is over.
    Finished {
        /// Whether every region reached its last stage.
        success: bool,
    },
}

/// The record of one stage's attempt, for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct StageRecord {
    /// Region index.
    pub region: usize,
    /// Attempt of this region, from 1.
    pub attempt: u32,
    /// Stage index, from 0.
    pub stage: usize,
    /// Share sent to the new site.
    pub share: f64,
    /// When the share was applied.
    pub applied_at: SimTime,
    /// The window the gate judged.
    pub window: (SimTime, SimTime),
    /// What was observed, in every scope.
    pub observed: Vec<Observation>,
    /// The gates' verdict.
    pub verdict: GateVerdict,
}

impl StageRecord {
    /// The first observation of `scope`.
    pub fn of(&self, scope: Scope) -> Option<&Observation> {
        self.observed.iter().find(|o| o.scope == scope)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    NotStarted,
    /// Waiting to start region `region` (pacing or retry delay).
    BeforeRegion,
    /// The share is applied; waiting for it to take effect.
    Settling {
        applied_at: SimTime,
    },
    /// Observing until the window closes.
    Observing {
        applied_at: SimTime,
        from: SimTime,
    },
    Done {
        success: bool,
    },
}

/// Runs a [`PlanSpec`] as a sans-IO state machine. Inputs the machine does
/// not expect in its current phase are ignored and return no actions.
#[derive(Debug, Clone)]
pub struct PlanMachine {
    spec: PlanSpec,
    phase: Phase,
    region: usize,
    stage: usize,
    attempt: u32,
    last_region_start: Option<SimTime>,
    records: Vec<StageRecord>,
}

impl PlanMachine {
    /// A machine for `spec`, not yet started.
    pub fn new(spec: PlanSpec) -> Self {
        PlanMachine {
            spec,
            phase: Phase::NotStarted,
            region: 0,
            stage: 0,
            attempt: 1,
            last_region_start: None,
            records: Vec::new(),
        }
    }

    /// Starts the plan at `now`.
    pub fn start(&mut self, now: SimTime) -> Vec<PlanAction> {
        if self.phase != Phase::NotStarted {
            return Vec::new();
        }
        if self.spec.regions.is_empty() {
            self.phase = Phase::Done { success: true };
            return vec![PlanAction::Finished { success: true }];
        }
        self.begin_region(now)
    }

    /// A wake-up the machine asked for has come.
    pub fn wake(&mut self, now: SimTime) -> Vec<PlanAction> {
        match self.phase {
            Phase::BeforeRegion => self.begin_region(now),
            Phase::Settling { applied_at } => {
                let until = now + self.current_stage().observe;
                self.phase = Phase::Observing {
                    applied_at,
                    from: now,
                };
                vec![PlanAction::Observe {
                    region: self.region,
                    from: now,
                    until,
                }]
            }
            _ => Vec::new(),
        }
    }

    /// The window the machine asked for has closed with the figures
    /// `observed` in every scope.
    pub fn window_closed(&mut self, now: SimTime, observed: Vec<Observation>) -> Vec<PlanAction> {
        let Phase::Observing { applied_at, from } = self.phase else {
            return Vec::new();
        };
        let region = &self.spec.regions[self.region];
        let verdict = region.gates.evaluate(&observed);
        let passed = verdict.passed;
        self.records.push(StageRecord {
            region: self.region,
            attempt: self.attempt,
            stage: self.stage,
            share: self.current_stage().share,
            applied_at,
            window: (from, now),
            observed,
            verdict,
        });
        if passed {
            self.stage_passed(now)
        } else {
            self.stage_failed(now)
        }
    }

    /// Every stage judged so far, in order.
    pub fn records(&self) -> &[StageRecord] {
        &self.records
    }

    /// `Some(success)` once the plan is over.
    pub fn outcome(&self) -> Option<bool> {
        match self.phase {
            Phase::Done { success } => Some(success),
            _ => None,
        }
    }

    /// The plan being run.
    pub fn spec(&self) -> &PlanSpec {
        &self.spec
    }

    fn current_stage(&self) -> StageSpec {
        self.spec.regions[self.region].stages[self.stage]
    }

    /// Starts the current region's first stage, or waits for its pacing slot.
    fn begin_region(&mut self, now: SimTime) -> Vec<PlanAction> {
        let earliest = match self.last_region_start {
            Some(prev) if self.attempt == 1 => prev + self.spec.region_spacing,
            _ => now,
        };
        let earliest = if self.attempt == 1 {
            earliest.max(self.spec.regions[self.region].ready_at)
        } else {
            earliest
        };
        if earliest > now {
            self.phase = Phase::BeforeRegion;
            return vec![PlanAction::WakeAt(earliest)];
        }
        if self.attempt == 1 {
            self.last_region_start = Some(now);
        }
        self.stage = 0;
        if self.spec.regions[self.region].stages.is_empty() {
            return self.region_done(now);
        }
        self.apply_stage(now)
    }

    fn apply_stage(&mut self, now: SimTime) -> Vec<PlanAction> {
        let stage = self.current_stage();
        self.phase = Phase::Settling { applied_at: now };
        vec![
            PlanAction::SetShare {
                region: self.region,
                share: stage.share,
                mechanism: self.spec.regions[self.region].mechanism,
            },
            PlanAction::WakeAt(now + stage.wait),
        ]
    }

    fn stage_passed(&mut self, now: SimTime) -> Vec<PlanAction> {
        self.stage += 1;
        if self.stage < self.spec.regions[self.region].stages.len() {
            return self.apply_stage(now);
        }
        self.region_done(now)
    }

    fn region_done(&mut self, now: SimTime) -> Vec<PlanAction> {
        let mut actions = vec![PlanAction::Decommission {
            region: self.region,
        }];
        self.region += 1;
        self.attempt = 1;
        if self.region == self.spec.regions.len() {
            self.phase = Phase::Done { success: true };
            actions.push(PlanAction::Finished { success: true });
        } else {
            actions.extend(self.begin_region(now));
        }
        actions
    }

    fn stage_failed(&mut self, now: SimTime) -> Vec<PlanAction> {
        let mut actions = vec![PlanAction::SetShare {
            region: self.region,
            share: 0.0,
            mechanism: self.spec.regions[self.region].mechanism,
        }];
        match self.spec.on_failure {
            FailurePolicy::Retry { delay, max_retries } if self.attempt <= max_retries => {
                let reorder = self.spec.regions[self.region]
                    .reorder_leads
                    .get(self.attempt as usize - 1)
                    .copied()
                    .unwrap_or(SimDuration::ZERO);
                self.attempt += 1;
                self.phase = Phase::BeforeRegion;
                actions.push(PlanAction::WakeAt(now + SimDuration::max(delay, reorder)));
            }
            _ => {
                self.phase = Phase::Done { success: false };
                actions.push(PlanAction::Finished { success: false });
            }
        }
        actions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::gate::{Gate, WindowMetrics};

    fn secs(s: u64) -> SimDuration {
        SimDuration::from_secs(s)
    }

    fn at(s: u64) -> SimTime {
        SimTime::ZERO + secs(s)
    }

    const GATE: Gate = Gate {
        max_error_rate: 0.01,
        max_p99_ms: 200.0,
        min_requests: 1,
        min_availability: 0.0,
    };

    fn region(name: &str, shares: &[f64]) -> RegionPlan {
        RegionPlan {
            name: name.to_string(),
            mechanism: Mechanism::Bgp,
            stages: shares
                .iter()
                .map(|&share| StageSpec {
                    share,
                    wait: secs(120),
                    observe: secs(1800),
                })
                .collect(),
            gates: Gates::on_move(GATE),
            ready_at: SimTime::ZERO,
            reorder_leads: Vec::new(),
        }
    }

    fn on_move(requests: u64, failed: u64, p99_ms: f64) -> Vec<Observation> {
        vec![Observation {
            scope: Scope::Move,
            name: "a".into(),
            metrics: WindowMetrics {
                requests,
                failed,
                p99_ms,
                availability: 1.0,
            },
            needs_minimum: true,
        }]
    }

    fn healthy() -> Vec<Observation> {
        on_move(1000, 0, 80.0)
    }

    fn sick() -> Vec<Observation> {
        on_move(1000, 50, 900.0)
    }

    /// Drives the machine, answering every window with `judge(region, stage)`,
    /// and returns the actions in order with the instant each was issued.
    fn drive(
        m: &mut PlanMachine,
        mut judge: impl FnMut(usize, usize) -> Vec<Observation>,
    ) -> Vec<(SimTime, PlanAction)> {
        let mut log = Vec::new();
        let mut pending: Vec<(SimTime, PlanAction)> = m
            .start(SimTime::ZERO)
            .into_iter()
            .map(|a| (SimTime::ZERO, a))
            .collect();
        let mut stage_of_window = 0;
        while let Some((now, action)) = (!pending.is_empty()).then(|| pending.remove(0)) {
            log.push((now, action.clone()));
            let next = match action {
                PlanAction::WakeAt(t) => m.wake(t).into_iter().map(|a| (t, a)).collect(),
                PlanAction::Observe { region, until, .. } => {
                    let metrics = judge(region, stage_of_window);
                    m.window_closed(until, metrics)
                        .into_iter()
                        .map(|a| (until, a))
                        .collect()
                }
                PlanAction::SetShare { .. } => {
                    stage_of_window = m.records().len();
                    Vec::new()
                }
                _ => Vec::new(),
            };
            pending.extend(next);
        }
        log
    }

    #[test]
    fn a_healthy_plan_walks_every_stage_with_its_waits() {
        let spec = PlanSpec {
            regions: vec![region("eu", &[0.01, 0.5, 1.0])],
            region_spacing: SimDuration::ZERO,
            on_failure: FailurePolicy::Abort,
        };
        let mut m = PlanMachine::new(spec);
        let log = drive(&mut m, |_, _| healthy());
        assert_eq!(m.outcome(), Some(true));
        assert_eq!(m.records().len(), 3);
        // Each stage: 120 s settle + 1800 s window.
        let shares: Vec<(SimTime, f64)> = log
            .iter()
            .filter_map(|(t, a)| match a {
                PlanAction::SetShare { share, .. } => Some((*t, *share)),
                _ => None,
            })
            .collect();
        assert_eq!(
            shares,
            vec![(at(0), 0.01), (at(1920), 0.5), (at(3840), 1.0)]
        );
        assert_eq!(m.records()[2].window, (at(3960), at(5760)));
        assert!(log.contains(&(at(5760), PlanAction::Decommission { region: 0 })));
        assert_eq!(
            log.last().unwrap(),
            &(at(5760), PlanAction::Finished { success: true })
        );
    }

    #[test]
    fn regions_are_paced() {
        let week = secs(7 * 86_400);
        let spec = PlanSpec {
            regions: vec![region("a", &[1.0]), region("b", &[1.0])],
            region_spacing: week,
            on_failure: FailurePolicy::Abort,
        };
        let mut m = PlanMachine::new(spec);
        let log = drive(&mut m, |_, _| healthy());
        let starts: Vec<SimTime> = log
            .iter()
            .filter_map(|(t, a)| matches!(a, PlanAction::SetShare { .. }).then_some(*t))
            .collect();
        assert_eq!(starts, vec![at(0), SimTime::ZERO + week]);
        assert_eq!(m.outcome(), Some(true));
    }

    #[test]
    fn a_failed_gate_rolls_back_and_aborts() {
        let spec = PlanSpec {
            regions: vec![region("a", &[0.1, 0.5, 1.0]), region("b", &[1.0])],
            region_spacing: SimDuration::ZERO,
            on_failure: FailurePolicy::Abort,
        };
        let mut m = PlanMachine::new(spec);
        let log = drive(
            &mut m,
            |_, stage| if stage == 1 { sick() } else { healthy() },
        );
        assert_eq!(m.outcome(), Some(false));
        let failed = &m.records()[1];
        assert_eq!((failed.region, failed.stage, failed.share), (0, 1, 0.5));
        assert!(!failed.verdict.passed);
        assert_eq!(failed.verdict.reasons.len(), 2);
        let rollback = log
            .iter()
            .find(|(_, a)| matches!(a, PlanAction::SetShare { share, .. } if *share == 0.0))
            .expect("a rollback");
        assert_eq!(rollback.0, failed.window.1);
        assert!(!log
            .iter()
            .any(|(_, a)| matches!(a, PlanAction::Decommission { .. })));
    }

    #[test]
    fn a_retry_starts_the_region_again_after_the_delay() {
        let spec = PlanSpec {
            regions: vec![region("a", &[0.5, 1.0])],
            region_spacing: SimDuration::ZERO,
            on_failure: FailurePolicy::Retry {
                delay: secs(86_400),
                max_retries: 1,
            },
        };
        let mut m = PlanMachine::new(spec);
        let mut windows = 0;
        drive(&mut m, |_, _| {
            windows += 1;
            if windows == 2 {
                sick()
            } else {
                healthy()
            }
        });
        assert_eq!(m.outcome(), Some(true));
        let attempts: Vec<(u32, usize, bool)> = m
            .records()
            .iter()
            .map(|r| (r.attempt, r.stage, r.verdict.passed))
            .collect();
        assert_eq!(
            attempts,
            vec![(1, 0, true), (1, 1, false), (2, 0, true), (2, 1, true)]
        );
        // The second attempt starts a day after the failed window closed.
        assert_eq!(
            m.records()[2].applied_at,
            m.records()[1].window.1 + secs(86_400)
        );
    }

    #[test]
    fn retries_run_out() {
        let spec = PlanSpec {
            regions: vec![region("a", &[1.0])],
            region_spacing: SimDuration::ZERO,
            on_failure: FailurePolicy::Retry {
                delay: secs(60),
                max_retries: 2,
            },
        };
        let mut m = PlanMachine::new(spec);
        drive(&mut m, |_, _| sick());
        assert_eq!(m.outcome(), Some(false));
        assert_eq!(m.records().len(), 3, "the first attempt and two retries");
    }

    #[test]
    fn unexpected_inputs_change_nothing() {
        let mut m = PlanMachine::new(PlanSpec {
            regions: vec![region("a", &[1.0])],
            region_spacing: SimDuration::ZERO,
            on_failure: FailurePolicy::Abort,
        });
        assert!(m.wake(at(5)).is_empty(), "not started yet");
        assert!(m.window_closed(at(5), healthy()).is_empty());
        assert_eq!(m.start(at(0)).len(), 2);
        assert!(m.start(at(0)).is_empty(), "started once only");
        assert!(
            m.window_closed(at(1), healthy()).is_empty(),
            "no window open"
        );
        assert!(m.records().is_empty());
    }

    #[test]
    fn a_move_waits_for_its_servers_and_a_retry_for_its_reorder() {
        let day = secs(86_400);
        let mut a = region("a", &[1.0]);
        a.ready_at = SimTime::ZERO + day;
        a.reorder_leads = vec![secs(3 * 86_400)];
        let mut b = region("b", &[1.0]);
        // Delivered before its paced start: the pacing decides.
        b.ready_at = SimTime::ZERO + secs(2 * 86_400);
        let spec = PlanSpec {
            regions: vec![a, b],
            region_spacing: secs(7 * 86_400),
            on_failure: FailurePolicy::Retry {
                delay: day,
                max_retries: 1,
            },
        };
        let mut m = PlanMachine::new(spec);
        let mut windows = 0;
        drive(&mut m, |_, _| {
            windows += 1;
            if windows == 1 {
                sick()
            } else {
                healthy()
            }
        });
        let applied: Vec<(usize, u32, SimTime)> = m
            .records()
            .iter()
            .map(|r| (r.region, r.attempt, r.applied_at))
            .collect();
        let failed_at = m.records()[0].window.1;
        assert_eq!(
            applied,
            vec![
                (0, 1, SimTime::ZERO + day),
                // The re-order's three days outlast the one-day delay.
                (0, 2, failed_at + secs(3 * 86_400)),
                // Paced a week after a's first start.
                (1, 1, SimTime::ZERO + day + secs(7 * 86_400)),
            ]
        );
    }
}
