//! Runs a migration plan: the [`PlanMachine`] asks for shares, waits and
//! windows; the fluid [`world`] answers with each window's requests,
//! failures and p99; failures are injected at fixed times, at stages or at
//! random; and the cost layer prices the dates the plan actually kept.

mod cost;
mod world;

use cutover_models::failure::CrashLoopBackoff;
use cutover_models::plan::{Mechanism, PlanAction, PlanMachine, WindowMetrics};
use cutover_models::{SimDuration, SimTime};
use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal};
use serde::Serialize;

use crate::engine::rng::{RngStreams, StreamRng};
use crate::engine::EventQueue;
use crate::scenario::plan::{FailureKind, PlanScenario, Trigger, Which};

pub use cost::{PlanCostError, PlanCostSummary};
use world::{SiteId, World};

const DAY: SimDuration = SimDuration::from_secs(86_400);
/// Back-off between restarts of a crash-looping pod: the kubelet's.
const BACKOFF: CrashLoopBackoff = CrashLoopBackoff::KUBERNETES;
/// How long a crash-looping pod serves before it crashes again. Assumption.
const LOOP_UP: SimDuration = SimDuration::from_secs(30);
/// Steps in which a BGP change's convergence is followed.
const RAMP_STEPS: u64 = 6;
/// Steps in which a cold start's warm-up is followed.
const WARM_STEPS: u64 = 8;

#[derive(Debug, Clone, Copy)]
enum Ev {
    Begin,
    Tick,
    Wake,
    Close(usize),
    Split,
    Start(usize),
    End(usize),
    Detect(SiteId, u32),
    DeadKnown(SiteId),
    Flap(usize, bool),
    Loop(usize, bool, u32),
    Random(SiteId, bool),
    Repair(SiteId, u32),
    Decommission(usize),
}

/// One stage as judged.
#[derive(Debug, Clone, Serialize)]
pub struct StageRow {
    /// Region name.
    pub region: String,
    /// Attempt, from 1.
    pub attempt: u32,
    /// Stage, from 1.
    pub stage: usize,
    /// Share the plan asked for.
    pub share_requested: f64,
    /// Share the mechanism reached (whole networks for BGP).
    pub share_reached: f64,
    /// When it was applied, seconds from the start.
    pub applied_s: f64,
    /// Window start, seconds.
    pub window_from_s: f64,
    /// Window end, seconds.
    pub window_until_s: f64,
    /// Requests in the window.
    pub requests: u64,
    /// Of which failed.
    pub failed: u64,
    /// Error rate.
    pub error_rate: f64,
    /// p99 latency, milliseconds.
    pub p99_ms: f64,
    /// Whether the gate passed.
    pub passed: bool,
    /// Why not.
    pub reasons: String,
}

/// A rollback and its cause.
#[derive(Debug, Clone, Serialize)]
pub struct Rollback {
    /// Region name.
    pub region: String,
    /// Attempt that failed.
    pub attempt: u32,
    /// Stage that failed, from 1.
    pub stage: usize,
    /// When, seconds.
    pub at_s: f64,
    /// The gate's reasons.
    pub reasons: String,
}

/// What a region's users saw over the whole run.
#[derive(Debug, Clone, Serialize)]
pub struct RegionResult {
    /// Region name.
    pub region: String,
    /// Requests.
    pub requests: f64,
    /// Failed.
    pub failed: f64,
    /// 1 - failed / requests.
    pub availability: f64,
    /// p99 latency over the run, milliseconds.
    pub p99_ms: f64,
    /// Worst window p99 the gates saw, milliseconds (migrating regions).
    pub worst_window_p99_ms: Option<f64>,
    /// When its move started (first attempt), seconds.
    pub moved_s: Option<f64>,
    /// When its old site was decommissioned, seconds.
    pub decommissioned_s: Option<f64>,
    /// Attempts made.
    pub attempts: u32,
}

/// The plan's toll on the availability objective.
#[derive(Debug, Clone, Serialize)]
pub struct SloImpact {
    /// The objective, e.g. 0.9995.
    pub target: f64,
    /// Requests over the run.
    pub requests: f64,
    /// Failed requests.
    pub failed: f64,
    /// 1 - failed / requests.
    pub availability: f64,
    /// Failures the objective allows over the run: (1 - target) x requests.
    pub budget_requests: f64,
    /// Fraction of that allowance spent.
    pub budget_consumed: f64,
}

/// A failure as it happened.
#[derive(Debug, Clone, Serialize)]
pub struct FailureRow {
    /// What.
    pub kind: String,
    /// Region.
    pub region: String,
    /// old or new.
    pub site: String,
    /// Start, seconds.
    pub at_s: f64,
    /// Repair, seconds, if within the run.
    pub until_s: Option<f64>,
}

/// One row of `timeline.csv`: a region over one interval.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineRow {
    /// Interval end, seconds.
    pub t_s: f64,
    /// Region.
    pub region: String,
    /// Mean demand, requests per second.
    pub demand_rps: f64,
    /// Mean share on the new site.
    pub share_new: f64,
    /// Requests.
    pub requests: f64,
    /// Failed.
    pub failed: f64,
    /// p99 latency, milliseconds (empty when nothing succeeded).
    pub p99_ms: Option<f64>,
    /// Mean utilisation of the old site.
    pub old_utilisation: f64,
    /// Mean utilisation of the new site.
    pub new_utilisation: f64,
}

/// Everything one run of a plan found.
#[derive(Debug, Clone, Serialize)]
pub struct PlanOutcome {
    /// Every region passed every stage.
    pub gates_passed: bool,
    /// The plan ran to its end within the time allowed.
    pub finished: bool,
    /// Time to the end of the plan (or the limit), seconds.
    pub duration_s: f64,
    /// Stages, in order.
    pub stages: Vec<StageRow>,
    /// Rollbacks, in order.
    pub rollbacks: Vec<Rollback>,
    /// Per region.
    pub regions: Vec<RegionResult>,
    /// Availability and error budget.
    pub slo: SloImpact,
    /// Failures injected.
    pub failures: Vec<FailureRow>,
    /// Costs, when the scenario names a cost model.
    pub cost: Option<PlanCostSummary>,
    /// Rows of `timeline.csv`.
    #[serde(skip)]
    pub timeline: Vec<TimelineRow>,
}

impl PlanOutcome {
    /// Whether the plan passed: gates, finished, and within budget.
    pub fn success(&self) -> bool {
        self.gates_passed && self.finished && self.cost.as_ref().is_none_or(|c| c.within_budget)
    }
}

/// Why a plan run could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum PlanRunError {
    /// Pricing failed.
    #[error(transparent)]
    Cost(#[from] PlanCostError),
}

struct Runner<'a> {
    s: &'a PlanScenario,
    world: World,
    queue: EventQueue<Ev>,
    machine: PlanMachine,
    rng_reliability: StreamRng,
    rng_demand: Vec<StreamRng>,
    reached: Vec<f64>,
    moved: Vec<Option<SimTime>>,
    decommissioned: Vec<Option<SimTime>>,
    stage_triggered: Vec<bool>,
    failures: Vec<FailureRow>,
    failure_rows: Vec<Option<usize>>,
    timeline: Vec<TimelineRow>,
    last_row: SimTime,
    pending_decommissions: u32,
    machine_done: bool,
    done: bool,
}

/// Runs the plan of `s` with `seed` (random failures, demand noise).
pub fn run(s: &PlanScenario, seed: u64) -> Result<PlanOutcome, PlanRunError> {
    let streams = RngStreams::new(seed);
    let mut r = Runner {
        s,
        world: World::new(s),
        queue: EventQueue::new(),
        machine: PlanMachine::new(s.plan.clone()),
        rng_reliability: streams.stream("reliability"),
        rng_demand: s
            .regions
            .iter()
            .map(|g| streams.stream(&format!("demand/{}", g.name)))
            .collect(),
        reached: vec![0.0; s.regions.len()],
        moved: vec![None; s.plan.regions.len()],
        decommissioned: vec![None; s.plan.regions.len()],
        stage_triggered: vec![false; s.failures.len()],
        failures: Vec::new(),
        failure_rows: vec![None; s.failures.len()],
        timeline: Vec::new(),
        last_row: SimTime::ZERO,
        pending_decommissions: 0,
        machine_done: false,
        done: false,
    };
    let mut rng_failures = streams.stream("failures");
    for (i, f) in s.failures.iter().enumerate() {
        match f.trigger {
            Trigger::At(at) => r.queue.schedule_at(SimTime::ZERO + at, Ev::Start(i)),
            Trigger::Within(a, b) => {
                let secs = rng_failures.random_range(a.as_secs_f64()..b.as_secs_f64());
                r.queue.schedule_at(
                    SimTime::ZERO + SimDuration::from_secs_f64(secs),
                    Ev::Start(i),
                );
            }
            Trigger::Stage { .. } => {}
        }
    }
    if s.reliability.is_some() {
        for g in 0..s.regions.len() {
            for i in 0..r.world.regions[g].sites.len() {
                r.schedule_random((g, i), false, SimTime::ZERO);
                r.schedule_random((g, i), true, SimTime::ZERO);
            }
        }
    }
    r.new_day();
    r.queue.schedule_at(SimTime::ZERO + s.tick, Ev::Tick);
    r.queue.schedule_at(SimTime::ZERO + s.begin, Ev::Begin);
    let limit = SimTime::ZERO + s.max_duration;
    let mut now = SimTime::ZERO;
    while !r.done {
        let Some((t, ev)) = r.queue.pop() else { break };
        if t > limit {
            r.world.advance(now, limit);
            now = limit;
            break;
        }
        r.world.advance(now, t);
        now = t;
        r.handle(ev, now);
    }
    r.row(now);
    r.finish(now)
}

impl Runner<'_> {
    fn region_of(&self, plan_region: usize) -> usize {
        self.s
            .regions
            .iter()
            .position(|g| g.plan_index == Some(plan_region))
            .expect("every plan region is a world region")
    }

    fn new_day(&mut self) {
        for (g, spec) in self.s.regions.iter().enumerate() {
            if spec.noise > 0.0 {
                let sigma = (1.0 + spec.noise * spec.noise).ln().sqrt();
                let d = LogNormal::new(-sigma * sigma / 2.0, sigma).expect("finite sigma");
                self.world.regions[g].day_factor = d.sample(&mut self.rng_demand[g]);
            }
        }
    }

    fn schedule_random(&mut self, id: SiteId, disk: bool, now: SimTime) {
        let Some(rel) = self.s.reliability else {
            return;
        };
        let servers = f64::from(self.world.regions[id.0].sites[id.1].spec.servers);
        let rate = if disk {
            match rel.disk {
                Some((mtbf, _)) => servers * f64::from(rel.disks_per_server) / mtbf.as_secs_f64(),
                None => return,
            }
        } else {
            servers / rel.server_mtbf.as_secs_f64()
        };
        if rate <= 0.0 {
            return;
        }
        let wait = Exp::new(rate)
            .expect("positive rate")
            .sample(&mut self.rng_reliability);
        self.queue
            .schedule_at(now + SimDuration::from_secs_f64(wait), Ev::Random(id, disk));
    }

    fn site(&mut self, id: SiteId) -> &mut world::Site {
        &mut self.world.regions[id.0].sites[id.1]
    }

    fn detection(&self, region: usize) -> SimDuration {
        match self.world.regions[region].mechanism {
            Mechanism::Bgp => self.s.bgp_detection,
            Mechanism::L7Weight => self.s.l7_detection,
        }
    }

    fn crash(&mut self, id: SiteId, servers: u32, now: SimTime) {
        let n = servers.min(self.world.regions[id.0].sites[id.1].working());
        if n == 0 {
            return;
        }
        self.world.crash_loss(id, n, now);
        self.site(id).undetected += n;
        self.queue
            .schedule_at(now + self.s.health_check, Ev::Detect(id, n));
    }

    fn record(&mut self, kind: &str, id: SiteId, now: SimTime) -> usize {
        self.failures.push(FailureRow {
            kind: kind.to_string(),
            region: self.s.regions[id.0].name.clone(),
            site: if id.1 == 0 { "old" } else { "new" }.to_string(),
            at_s: now.as_secs_f64(),
            until_s: None,
        });
        self.failures.len() - 1
    }

    fn handle(&mut self, ev: Ev, now: SimTime) {
        match ev {
            Ev::Begin => {
                let actions = self.machine.start(now);
                self.apply(actions, now);
            }
            Ev::Tick => {
                if (now.as_nanos() - SimTime::ZERO.as_nanos()) % DAY.as_nanos() == 0 {
                    self.new_day();
                }
                if now.saturating_since(self.last_row) >= self.s.timeline_interval {
                    self.row(now);
                }
                self.queue.schedule_at(now + self.s.tick, Ev::Tick);
            }
            Ev::Wake => {
                let actions = self.machine.wake(now);
                self.apply(actions, now);
            }
            Ev::Close(plan_region) => {
                let g = self.region_of(plan_region);
                let tally = self.world.regions[g].window.take().unwrap_or_default();
                let metrics = WindowMetrics {
                    requests: tally.requests.round() as u64,
                    failed: tally.failed.round() as u64,
                    p99_ms: tally.latency.quantile_s(0.99).map_or(f64::NAN, |s| s * 1e3),
                };
                let actions = self.machine.window_closed(now, metrics);
                self.apply(actions, now);
            }
            Ev::Split => {}
            Ev::Start(i) => self.start_failure(i, now),
            Ev::End(i) => self.end_failure(i, now),
            Ev::Detect(id, n) => {
                let s = self.site(id);
                let n = n.min(s.undetected);
                s.undetected -= n;
                s.down += n;
            }
            Ev::DeadKnown(id) => {
                if self.site(id).dead {
                    self.site(id).dead_known = true;
                }
            }
            Ev::Flap(i, down) => {
                let f = &self.s.failures[i];
                let id = (f.region, usize::from(f.site == Which::New));
                let FailureKind::BgpFlap { period } = f.kind else {
                    return;
                };
                let end = self.failures[self.failure_rows[i].expect("started")].until_s;
                if end.is_some_and(|e| now.as_secs_f64() >= e) {
                    self.site(id).withdrawn = false;
                    return;
                }
                if down {
                    self.site(id).withdrawn = true;
                    if let Some(until) = self.site(id).flap(now) {
                        self.queue.schedule_at(until, Ev::Split);
                    }
                } else {
                    self.site(id).withdrawn = false;
                }
                let half = SimDuration::from_nanos(period.as_nanos() / 2);
                self.queue.schedule_at(now + half, Ev::Flap(i, !down));
            }
            Ev::Loop(i, crash, k) => {
                let f = &self.s.failures[i];
                let id = (f.region, usize::from(f.site == Which::New));
                let FailureKind::CrashLoop { servers } = f.kind else {
                    return;
                };
                let over = self.failures[self.failure_rows[i].expect("started")]
                    .until_s
                    .is_some_and(|e| now.as_secs_f64() >= e);
                if crash {
                    if over {
                        return;
                    }
                    self.crash(id, servers, now);
                    self.queue.schedule_at(
                        now + self.s.health_check + BACKOFF.delay(k),
                        Ev::Loop(i, false, k),
                    );
                } else {
                    let s = self.site(id);
                    s.down = s.down.saturating_sub(servers);
                    if !over {
                        // The pod runs LOOP_UP before it crashes again.
                        let k = BACKOFF.after_run(k, LOOP_UP);
                        self.queue.schedule_at(now + LOOP_UP, Ev::Loop(i, true, k));
                    }
                }
            }
            Ev::Random(id, disk) => {
                if self.site(id).decommissioned {
                    return;
                }
                let rel = self
                    .s
                    .reliability
                    .expect("random failures need reliability");
                let mttr = if disk {
                    rel.disk.expect("disk failures need disk figures").1
                } else {
                    rel.server_mttr
                };
                if self.site(id).working() > 0 {
                    let row = self.record(
                        if disk {
                            "disk-failure"
                        } else {
                            "server-failure"
                        },
                        id,
                        now,
                    );
                    self.crash(id, 1, now);
                    let repair = Exp::new(1.0 / mttr.as_secs_f64())
                        .expect("positive repair time")
                        .sample(&mut self.rng_reliability);
                    let at = now + self.s.health_check + SimDuration::from_secs_f64(repair);
                    self.failures[row].until_s = Some(at.as_secs_f64());
                    self.queue.schedule_at(at, Ev::Repair(id, 1));
                }
                self.schedule_random(id, disk, now);
            }
            Ev::Decommission(plan_region) => {
                let g = self.region_of(plan_region);
                self.world.regions[g].sites[0].decommissioned = true;
                self.decommissioned[plan_region] = Some(now);
                self.pending_decommissions -= 1;
                self.done = self.machine_done && self.pending_decommissions == 0;
            }
            Ev::Repair(id, n) => {
                let s = self.site(id);
                s.down = s.down.saturating_sub(n);
            }
        }
    }

    fn start_failure(&mut self, i: usize, now: SimTime) {
        let f = self.s.failures[i].clone();
        let id = (f.region, usize::from(f.site == Which::New));
        let name = match f.kind {
            FailureKind::NodeShutdown { .. } => "node-shutdown",
            FailureKind::NodeCrash { .. } => "node-crash",
            FailureKind::SiteLoss => "site-loss",
            FailureKind::BgpFlap { .. } => "bgp-flap",
            FailureKind::Delay { .. } => "delay",
            FailureKind::CrashLoop { .. } => "crash-loop",
            FailureKind::Spike { .. } => "spike",
        };
        let row = self.record(name, id, now);
        self.failure_rows[i] = Some(row);
        if let Some(d) = f.duration {
            self.failures[row].until_s = Some((now + d).as_secs_f64());
            self.queue.schedule_at(now + d, Ev::End(i));
        }
        match f.kind {
            FailureKind::NodeShutdown { servers } => {
                let s = self.site(id);
                s.down += servers.min(s.working());
            }
            FailureKind::NodeCrash { servers } => self.crash(id, servers, now),
            FailureKind::SiteLoss => {
                self.site(id).dead = true;
                let d = self.detection(id.0);
                self.queue.schedule_at(now + d, Ev::DeadKnown(id));
            }
            FailureKind::BgpFlap { .. } => self.handle(Ev::Flap(i, true), now),
            FailureKind::Delay { extra } => self.site(id).extra_delay_s += extra.as_secs_f64(),
            FailureKind::CrashLoop { .. } => self.handle(Ev::Loop(i, true, 0), now),
            FailureKind::Spike { factor } => self.world.regions[id.0].spike *= factor,
        }
    }

    fn end_failure(&mut self, i: usize, _now: SimTime) {
        let f = self.s.failures[i].clone();
        let id = (f.region, usize::from(f.site == Which::New));
        match f.kind {
            FailureKind::NodeShutdown { servers } | FailureKind::NodeCrash { servers } => {
                let s = self.site(id);
                s.down = s.down.saturating_sub(servers);
            }
            FailureKind::SiteLoss => {
                let s = self.site(id);
                s.dead = false;
                s.dead_known = false;
            }
            FailureKind::BgpFlap { .. } => self.site(id).withdrawn = false,
            FailureKind::Delay { extra } => {
                let s = self.site(id);
                s.extra_delay_s = (s.extra_delay_s - extra.as_secs_f64()).max(0.0);
            }
            // The loop itself brings its pods back at their next restart.
            FailureKind::CrashLoop { .. } => {}
            FailureKind::Spike { factor } => self.world.regions[id.0].spike /= factor,
        }
    }

    fn apply(&mut self, actions: Vec<PlanAction>, now: SimTime) {
        for a in actions {
            match a {
                PlanAction::SetShare {
                    region,
                    share,
                    mechanism,
                } => {
                    let g = self.region_of(region);
                    if share == 0.0 {
                        // A rollback: the retry delay buys the servers ordered now.
                        if let Some(new) = self.world.regions[g].sites.get_mut(1) {
                            if let Some(n) = new.spec.retry_servers {
                                new.spec.servers = n;
                            }
                        }
                    }
                    if share > 0.0 && self.moved[region].is_none() {
                        self.moved[region] = Some(now);
                    }
                    let reached =
                        self.world
                            .set_share(g, share, mechanism, now, self.s.convergence);
                    self.reached[g] = reached;
                    if mechanism == Mechanism::Bgp && self.s.convergence > SimDuration::ZERO {
                        for k in 1..=RAMP_STEPS {
                            let at = now
                                + SimDuration::from_nanos(
                                    self.s.convergence.as_nanos() * k / RAMP_STEPS,
                                );
                            self.queue.schedule_at(at, Ev::Split);
                        }
                    }
                    let warmup = self.world.regions[g].sites.get(1).map(|s| s.spec.warmup);
                    if let Some(w) = warmup.filter(|w| *w > SimDuration::ZERO) {
                        for k in 1..=WARM_STEPS {
                            let at = now + SimDuration::from_nanos(w.as_nanos() * k / WARM_STEPS);
                            self.queue.schedule_at(at, Ev::Split);
                        }
                    }
                    for (i, f) in self.s.failures.iter().enumerate() {
                        if let Trigger::Stage {
                            region: fr,
                            share: fs,
                            after,
                        } = f.trigger
                        {
                            if fr == region && (fs - share).abs() < 1e-9 && !self.stage_triggered[i]
                            {
                                self.stage_triggered[i] = true;
                                self.queue.schedule_at(now + after, Ev::Start(i));
                            }
                        }
                    }
                }
                PlanAction::WakeAt(t) => self.queue.schedule_at(t, Ev::Wake),
                PlanAction::Observe { region, until, .. } => {
                    let g = self.region_of(region);
                    self.world.regions[g].window = Some(Default::default());
                    self.queue.schedule_at(until, Ev::Close(region));
                }
                PlanAction::Decommission { region } => {
                    let at = now + self.s.decommission_after;
                    self.queue.schedule_at(at, Ev::Decommission(region));
                    self.pending_decommissions += 1;
                }
                PlanAction::Finished { .. } => {
                    self.machine_done = true;
                    self.done = self.pending_decommissions == 0;
                }
            }
        }
    }

    fn row(&mut self, now: SimTime) {
        let dt = now.saturating_since(self.last_row).as_secs_f64();
        if dt <= 0.0 {
            return;
        }
        for g in &mut self.world.regions {
            let t = std::mem::take(&mut g.interval);
            let sums = std::mem::take(&mut g.interval_sums);
            self.timeline.push(TimelineRow {
                t_s: now.as_secs_f64(),
                region: g.name.clone(),
                demand_rps: sums[1] / dt,
                share_new: sums[0] / dt,
                requests: t.requests,
                failed: t.failed,
                p99_ms: t.latency.quantile_s(0.99).map(|s| s * 1e3),
                old_utilisation: sums[2] / dt,
                new_utilisation: sums[3] / dt,
            });
            g.total.merge(&t);
        }
        self.last_row = now;
    }

    fn finish(self, now: SimTime) -> Result<PlanOutcome, PlanRunError> {
        let s = self.s;
        let records = self.machine.records();
        let mut stages = Vec::new();
        let mut rollbacks = Vec::new();
        for rec in records {
            let name = s.plan.regions[rec.region].name.clone();
            let g = self.region_of(rec.region);
            let reached = match s.plan.regions[rec.region].mechanism {
                Mechanism::Bgp => self.world.regions[g].networks.reachable(rec.share),
                Mechanism::L7Weight => rec.share,
            };
            let reasons = rec.verdict.reasons.join("; ");
            if !rec.verdict.passed {
                rollbacks.push(Rollback {
                    region: name.clone(),
                    attempt: rec.attempt,
                    stage: rec.stage + 1,
                    at_s: rec.window.1.as_secs_f64(),
                    reasons: reasons.clone(),
                });
            }
            stages.push(StageRow {
                region: name,
                attempt: rec.attempt,
                stage: rec.stage + 1,
                share_requested: rec.share,
                share_reached: reached,
                applied_s: rec.applied_at.as_secs_f64(),
                window_from_s: rec.window.0.as_secs_f64(),
                window_until_s: rec.window.1.as_secs_f64(),
                requests: rec.metrics.requests,
                failed: rec.metrics.failed,
                error_rate: rec.metrics.error_rate(),
                p99_ms: rec.metrics.p99_ms,
                passed: rec.verdict.passed,
                reasons,
            });
        }
        let mut regions = Vec::new();
        let (mut requests, mut failed) = (0.0, 0.0);
        for (g, region) in self.world.regions.iter().enumerate() {
            let spec = &s.regions[g];
            let t = &region.total;
            requests += t.requests;
            failed += t.failed;
            let p = spec.plan_index;
            regions.push(RegionResult {
                region: region.name.clone(),
                requests: t.requests,
                failed: t.failed,
                availability: if t.requests > 0.0 {
                    1.0 - t.failed / t.requests
                } else {
                    1.0
                },
                p99_ms: t.latency.quantile_s(0.99).map_or(f64::NAN, |x| x * 1e3),
                worst_window_p99_ms: p.and_then(|p| {
                    records
                        .iter()
                        .filter(|r| r.region == p)
                        .map(|r| r.metrics.p99_ms)
                        .reduce(f64::max)
                }),
                moved_s: p.and_then(|p| self.moved[p]).map(|t| t.as_secs_f64()),
                decommissioned_s: p
                    .and_then(|p| self.decommissioned[p])
                    .map(|t| t.as_secs_f64()),
                attempts: p.map_or(0, |p| {
                    records
                        .iter()
                        .filter(|r| r.region == p)
                        .map(|r| r.attempt)
                        .max()
                        .unwrap_or(0)
                }),
            });
        }
        let budget_requests = (1.0 - s.slo) * requests;
        let outcome = self.machine.outcome();
        let cost = match &s.cost {
            Some((_, c)) => Some(cost::price(s, c, &self.moved, &self.decommissioned, now)?),
            None => None,
        };
        Ok(PlanOutcome {
            gates_passed: outcome == Some(true),
            finished: outcome.is_some(),
            duration_s: now.as_secs_f64(),
            stages,
            rollbacks,
            regions,
            slo: SloImpact {
                target: s.slo,
                requests,
                failed,
                availability: if requests > 0.0 {
                    1.0 - failed / requests
                } else {
                    1.0
                },
                budget_requests,
                budget_consumed: if budget_requests > 0.0 {
                    failed / budget_requests
                } else {
                    0.0
                },
            },
            failures: self.failures,
            cost,
            timeline: self.timeline,
        })
    }
}
