//! Runs a plan on the world: the [`PlanMachine`] asks for shares, waits
//! and windows; each share is the stage's resolved action (BGP knobs on
//! the two sites, or an L7 weight) applied to the world, whose BGP model
//! converges, whose sites autoscale and whose users' requests succeed or
//! fail; each window's figures come from the world; the cost layer prices
//! the dates the plan kept.

use std::collections::BTreeMap;

use cutover_models::bgp::network::NotSettled;
use cutover_models::plan::{
    FailurePolicy, Observation, PlanAction, PlanMachine, PlanSpec, Scope, StageRecord,
    WindowMetrics,
};
use cutover_models::{SimDuration, SimTime};

use super::cost::{self, PlanCostError};
use super::outcome::{
    availability, GateRow, PlanOutcome, RegionResult, Rollback, SloImpact, StageRow,
};
use super::resolve::{Action, Knobs};
use super::risk;
use super::{Move, Plan};
use crate::world::control::WindowFigures;
use crate::world::record::Watched;
use crate::world::{Outcome, World};

/// Why a plan run could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum PlanRunError {
    /// The estate's BGP has no steady state.
    #[error(transparent)]
    NotSettled(#[from] NotSettled),
    /// Pricing failed.
    #[error(transparent)]
    Cost(#[from] PlanCostError),
}

/// Something the plan has due at an instant.
#[derive(Debug, Clone, Copy)]
enum Due {
    Begin,
    Wake,
    /// The stage window with this index closes.
    Close(usize),
    /// Move `.0`'s old site is switched off.
    Decommission(usize),
    /// Move `.0` ends its old site's part: it withdraws and its proxy stops
    /// forwarding (make before break: after the new site's announcement
    /// has spread).
    Break(usize),
}

/// The plan's own agenda beside the world's queue: (time, order) -> item.
struct Agenda {
    items: BTreeMap<(SimTime, u64), Due>,
    seq: u64,
}

impl Agenda {
    fn at(&mut self, t: SimTime, due: Due) {
        self.items.insert((t, self.seq), due);
        self.seq += 1;
    }

    fn pop(&mut self) -> Option<(SimTime, Due)> {
        self.items.pop_first().map(|((t, _), d)| (t, d))
    }

    fn next_time(&self) -> Option<SimTime> {
        self.items.keys().next().map(|k| k.0)
    }
}

/// The plan's side of a run.
struct Driver<'p, 'w> {
    plan: &'p Plan,
    world: World<'w>,
    machine: PlanMachine,
    agenda: Agenda,
    /// Each move's BGP knobs now.
    knobs: Vec<Knobs>,
    moved: Vec<Option<SimTime>>,
    decommissioned: Vec<Option<SimTime>>,
    pending_decommissions: u32,
    machine_done: bool,
    /// Whether each drill has struck.
    drilled: Vec<bool>,
    /// Each stage's windows, by index (`None` once closed).
    windows: Vec<Option<StageWindows>>,
    /// Population labels.
    labels: Vec<String>,
}

/// The world's windows a stage observes: each of its move's two sites and
/// each of its users.
struct StageWindows {
    region: usize,
    new: usize,
    old: usize,
    users: Vec<usize>,
}

/// Runs `plan` with `seed` as stated: each risk at no change and the
/// planned lead time (see [`risk::as_stated`]).
pub fn run(plan: &Plan, seed: u64) -> Result<PlanOutcome, PlanRunError> {
    let draws = risk::as_stated(&plan.risks, planned_lead(plan), orders(plan));
    run_with(plan, seed, &draws)
}

/// Runs one replication of `plan` with `seed`: its risks drawn from the
/// seed (see [`risk::draw`]).
pub fn run_replication(plan: &Plan, seed: u64) -> Result<PlanOutcome, PlanRunError> {
    let draws = risk::draw(&plan.risks, seed, planned_lead(plan), orders(plan));
    run_with(plan, seed, &draws)
}

/// The orders of servers `plan` can place: one per move, and one per
/// retry of each move when it re-orders for a retry.
pub fn orders(plan: &Plan) -> risk::Orders {
    let retries = match plan.spec.on_failure {
        FailurePolicy::Retry { max_retries, .. } if plan.reorder_on_retry => max_retries as usize,
        _ => 0,
    };
    risk::Orders {
        moves: plan.moves.len(),
        retries,
    }
}

/// The plan's spec with this run's deliveries: each move not before its
/// servers are there, each retry not before its re-order is.
pub fn spec_with(plan: &Plan, draws: &risk::Draws) -> PlanSpec {
    let mut spec = plan.spec.clone();
    let ready = risk::deliveries(
        draws,
        planned_lead(plan),
        SimTime::ZERO + plan.begin,
        spec.region_spacing,
    );
    for (m, region) in spec.regions.iter_mut().enumerate() {
        region.ready_at = ready.get(m).copied().unwrap_or(SimTime::ZERO);
        region.reorder_leads = draws.retry_leads.get(m).map_or(Vec::new(), |leads| {
            leads
                .iter()
                .map(|&s| SimDuration::from_secs_f64(s))
                .collect()
        });
    }
    spec
}

/// The cost scenario's lead between renting a new site and moving to it.
fn planned_lead(plan: &Plan) -> SimDuration {
    plan.cost
        .as_ref()
        .and_then(|(_, c)| c.model.migration.as_ref())
        .map_or(SimDuration::ZERO, |m| {
            SimDuration::from_secs(u64::from(m.lead_days) * 86_400)
        })
}

fn run_with(plan: &Plan, seed: u64, draws: &risk::Draws) -> Result<PlanOutcome, PlanRunError> {
    let n = plan.moves.len();
    let mut d = Driver {
        plan,
        world: World::new(&plan.experiment, seed)?,
        machine: PlanMachine::new(spec_with(plan, draws)),
        agenda: Agenda {
            items: BTreeMap::new(),
            seq: 0,
        },
        knobs: vec![Knobs::BEFORE; n],
        moved: vec![None; n],
        decommissioned: vec![None; n],
        pending_decommissions: 0,
        machine_done: false,
        drilled: vec![false; plan.drills.len()],
        windows: Vec::new(),
        labels: crate::world::summary::population_labels(&plan.experiment),
    };
    d.agenda.at(SimTime::ZERO + plan.begin, Due::Begin);
    let limit = SimTime::ZERO + plan.experiment.duration;
    let mut now = SimTime::ZERO;
    let mut within_limit = true;
    while !(d.machine_done && d.pending_decommissions == 0) {
        let Some(t) = d.agenda.next_time().filter(|&t| t <= limit) else {
            now = limit;
            within_limit = false;
            break;
        };
        d.world.run_until(t);
        now = t;
        while d.agenda.next_time() == Some(t) {
            let (_, due) = d.agenda.pop().expect("an item is due");
            d.handle(due, t);
        }
    }
    d.world.end_at(now);
    d.finish(now, draws, within_limit)
}

impl Driver<'_, '_> {
    fn handle(&mut self, due: Due, now: SimTime) {
        let actions = match due {
            Due::Begin => self.machine.start(now),
            Due::Wake => self.machine.wake(now),
            Due::Close(i) => match self.windows[i].take() {
                Some(w) => {
                    let observed = self.observed(&w);
                    self.machine.window_closed(now, observed)
                }
                None => Vec::new(),
            },
            Due::Break(m) => {
                let knobs = self.knobs[m];
                self.break_old(m, knobs);
                Vec::new()
            }
            Due::Decommission(m) => {
                self.world.decommission(self.plan.moves[m].old);
                self.decommissioned[m] = Some(now);
                self.pending_decommissions -= 1;
                Vec::new()
            }
        };
        self.apply(actions, now);
    }

    fn apply(&mut self, actions: Vec<PlanAction>, now: SimTime) {
        for a in actions {
            match a {
                PlanAction::SetShare { region, share, .. } => self.set_share(region, share, now),
                PlanAction::WakeAt(t) => self.agenda.at(t, Due::Wake),
                PlanAction::Observe { region, until, .. } => {
                    let m = &self.plan.moves[region];
                    let w = StageWindows {
                        region,
                        new: self.world.open_window(Watched::Site(m.new)),
                        old: self.world.open_window(Watched::Site(m.old)),
                        users: m
                            .users
                            .iter()
                            .map(|&p| self.world.open_window(Watched::Population(p)))
                            .collect(),
                    };
                    self.windows.push(Some(w));
                    self.agenda.at(until, Due::Close(self.windows.len() - 1));
                }
                PlanAction::Decommission { region } => {
                    self.agenda.at(
                        now + self.plan.decommission_after,
                        Due::Decommission(region),
                    );
                    self.pending_decommissions += 1;
                }
                PlanAction::Finished { .. } => self.machine_done = true,
            }
        }
    }

    /// Closes a stage's windows and returns what each scope saw: the move
    /// (what reached the new site plus the users' requests lost on the
    /// way; up while the new site and every user were), each of its two
    /// sites, each of its users.
    fn observed(&mut self, w: &StageWindows) -> Vec<Observation> {
        let mv = &self.plan.moves[w.region];
        let sites = &self.plan.experiment.estate.sites;
        let mut close = |id: usize| self.world.close_window(id).unwrap_or_default();
        let new = close(w.new);
        let old = close(w.old);
        let users: Vec<WindowFigures> = w.users.iter().map(|&id| close(id)).collect();
        let lost: f64 = users.iter().map(|u| u.blackholed).sum();
        let whole = WindowFigures {
            requests: new.requests + lost,
            failed: new.failed + lost,
            availability: users
                .iter()
                .map(|u| u.availability)
                .fold(new.availability, f64::min),
            ..new
        };
        let seen = |scope, name: &str, f: &WindowFigures, needs_minimum| Observation {
            scope,
            name: name.to_string(),
            metrics: f.gate_metrics(),
            needs_minimum,
        };
        let mut out = vec![
            seen(Scope::Move, &mv.name, &whole, true),
            seen(Scope::Site, &sites[mv.new].network.tag, &new, true),
            seen(Scope::Site, &sites[mv.old].network.tag, &old, false),
        ];
        for (&p, f) in mv.users.iter().zip(&users) {
            out.push(seen(Scope::Population, &self.labels[p], f, true));
        }
        out
    }

    /// Applies the action of move `m`'s stage asking for `share`; zero is
    /// a rollback to how the estate was.
    fn set_share(&mut self, m: usize, share: f64, now: SimTime) {
        let mv = &self.plan.moves[m];
        let action = if share <= 0.0 {
            Action::Bgp(Knobs::BEFORE)
        } else {
            mv.stages
                .iter()
                .find(|s| s.asked == share)
                .map_or(Action::Bgp(Knobs::BEFORE), |s| s.action)
        };
        if share > 0.0 && self.moved[m].is_none() {
            self.moved[m] = Some(now);
        }
        self.strike_drills(m, share);
        let (knobs, weight) = match action {
            Action::Bgp(k) => (k, 0.0),
            Action::L7 { weight } => (Knobs::BEFORE, weight),
        };
        if knobs.old.is_none() && self.knobs[m].old.is_some() {
            // Make before break: announce the new site now, withdraw the
            // old one (and stop its proxy) half the stage's wait later.
            self.set_knobs(
                m,
                Knobs {
                    old: self.knobs[m].old,
                    ..knobs
                },
            );
            let stage = &self.plan.spec.regions[m].stages;
            let wait = stage
                .iter()
                .find(|s| s.share == share)
                .map_or(SimDuration::ZERO, |s| {
                    SimDuration::from_nanos(s.wait.as_nanos() / 2)
                });
            self.agenda.at(now + wait, Due::Break(m));
            return;
        }
        self.set_l7(m, weight);
        self.set_knobs(m, knobs);
    }

    /// The drills of move `m`'s stage `share`, the first time it is applied.
    fn strike_drills(&mut self, m: usize, share: f64) {
        for (i, d) in self.plan.drills.iter().enumerate() {
            if d.move_index == m && d.share == share && !self.drilled[i] {
                self.drilled[i] = true;
                self.world.inject(d.failure.clone());
            }
        }
    }

    /// Move `m`'s old site withdraws and its proxy stops forwarding.
    fn break_old(&mut self, m: usize, knobs: Knobs) {
        self.set_l7(m, 0.0);
        self.set_knobs(m, Knobs { old: None, ..knobs });
    }

    fn set_l7(&mut self, m: usize, weight: f64) {
        let mv = &self.plan.moves[m];
        self.world
            .set_l7_weight(mv.old, mv.new, weight, self.plan.l7_extra_hop.as_secs_f64());
    }

    /// Announces, prepends or withdraws what changed on move `m`'s sites.
    fn set_knobs(&mut self, m: usize, knobs: Knobs) {
        let mv: &Move = &self.plan.moves[m];
        let was = self.knobs[m];
        for (site, before, after) in [(mv.new, was.new, knobs.new), (mv.old, was.old, knobs.old)] {
            if before == after {
                continue;
            }
            match after {
                Some(n) => self.world.announce_prepended(site, n),
                None => self.world.stop_announcing(site),
            }
        }
        self.knobs[m] = knobs;
    }

    /// The outcome at `now`; `within_limit`: the plan, decommissions
    /// included, ended before the experiment's duration.
    fn finish(
        self,
        now: SimTime,
        draws: &risk::Draws,
        within_limit: bool,
    ) -> Result<PlanOutcome, PlanRunError> {
        let plan = self.plan;
        let records = self.machine.records().to_vec();
        let outcome = self.machine.outcome();
        let world = self.world.run();
        let (stages, rollbacks) = stage_rows(plan, &records);
        let gates = gate_rows(plan, &records);
        let servers_at: Vec<f64> = self
            .machine
            .spec()
            .regions
            .iter()
            .map(|r| r.ready_at.as_secs_f64())
            .collect();
        let regions = region_results(
            plan,
            &records,
            &world,
            (&self.moved, &self.decommissioned),
            &servers_at,
        );
        let total = &world.summary.tally;
        let cost = match &plan.cost {
            Some((_, c)) => {
                let mut c = c.clone();
                c.model.base = risk::adjusted(&c.model.base, &plan.risks, draws);
                Some(cost::price(
                    plan,
                    &c,
                    &self.moved,
                    &self.decommissioned,
                    now,
                )?)
            }
            None => None,
        };
        let risks = plan
            .risks
            .iter()
            .zip(&draws.values)
            .map(|(r, &v)| {
                let shown = if r.target == risk::Target::LeadTime {
                    v / 86_400.0
                } else {
                    v
                };
                (r.name.clone(), shown)
            })
            .collect();
        Ok(PlanOutcome {
            gates_passed: outcome == Some(true),
            finished: outcome.is_some() && within_limit,
            duration_s: now.as_secs_f64(),
            stages,
            gates,
            rollbacks,
            regions,
            slo: SloImpact::of(plan.slo, total.requests, total.failed()),
            cost,
            risks,
            world,
        })
    }
}

/// The stage table and the rollbacks.
fn stage_rows(plan: &Plan, records: &[StageRecord]) -> (Vec<StageRow>, Vec<Rollback>) {
    let mut stages = Vec::new();
    let mut rollbacks = Vec::new();
    for rec in records {
        let mv = &plan.moves[rec.region];
        let sites = &plan.experiment.estate.sites;
        let resolved = mv.stages.iter().find(|s| s.asked == rec.share);
        let reasons = rec.verdict.reasons.join("; ");
        let whole = rec.of(Scope::Move).map_or(
            WindowMetrics {
                requests: 0,
                failed: 0,
                p99_ms: f64::NAN,
                availability: 1.0,
            },
            |o| o.metrics,
        );
        if !rec.verdict.passed {
            rollbacks.push(Rollback {
                region: mv.name.clone(),
                attempt: rec.attempt,
                stage: rec.stage + 1,
                at_s: rec.window.1.as_secs_f64(),
                reasons: reasons.clone(),
            });
        }
        stages.push(StageRow {
            region: mv.name.clone(),
            attempt: rec.attempt,
            stage: rec.stage + 1,
            share_requested: rec.share,
            action: resolved.map_or(String::new(), |s| {
                s.action
                    .describe(&sites[mv.old].network.tag, &sites[mv.new].network.tag)
            }),
            share_reached: resolved.map_or(0.0, |s| s.reached),
            applied_s: rec.applied_at.as_secs_f64(),
            window_from_s: rec.window.0.as_secs_f64(),
            window_until_s: rec.window.1.as_secs_f64(),
            requests: whole.requests,
            failed: whole.failed,
            error_rate: whole.error_rate(),
            p99_ms: whole.p99_ms,
            passed: rec.verdict.passed,
            breached: rec.verdict.breached.join("; "),
            reasons,
        });
    }
    (stages, rollbacks)
}

/// Every scope's figures of every stage, and whether its gate held.
fn gate_rows(plan: &Plan, records: &[StageRecord]) -> Vec<GateRow> {
    let mut rows = Vec::new();
    for rec in records {
        let gates = &plan.spec.regions[rec.region].gates;
        for o in &rec.observed {
            let label = o.label();
            let lead = format!("{label}: ");
            let reasons: Vec<&str> = rec
                .verdict
                .reasons
                .iter()
                .filter_map(|r| r.strip_prefix(&lead))
                .collect();
            rows.push(GateRow {
                region: plan.moves[rec.region].name.clone(),
                attempt: rec.attempt,
                stage: rec.stage + 1,
                share_requested: rec.share,
                scope: o.scope.name(),
                name: o.name.clone(),
                requests: o.metrics.requests,
                failed: o.metrics.failed,
                error_rate: o.metrics.error_rate(),
                p99_ms: o.metrics.p99_ms,
                availability: o.metrics.availability,
                judged: gates.of(o.scope).is_some(),
                passed: !rec.verdict.breached.contains(&label),
                reasons: reasons.join("; "),
            });
        }
    }
    rows
}

/// Each move's users over the whole run.
fn region_results(
    plan: &Plan,
    records: &[StageRecord],
    world: &Outcome,
    (moved, decommissioned): (&[Option<SimTime>], &[Option<SimTime>]),
    servers_at: &[f64],
) -> Vec<RegionResult> {
    let secs = |t: Option<SimTime>| t.map(|t| t.as_secs_f64());
    plan.moves
        .iter()
        .enumerate()
        .map(|(i, mv)| {
            let pops = &world.summary.populations;
            let requests: f64 = mv.users.iter().map(|&p| pops[p].tally.requests).sum();
            let failed: f64 = mv.users.iter().map(|&p| pops[p].tally.failed()).sum();
            let mine = records.iter().filter(|r| r.region == i);
            let availability = availability(requests, failed);
            RegionResult {
                region: mv.name.clone(),
                new_site: plan.experiment.estate.sites[mv.new].network.tag.clone(),
                users: mv
                    .users
                    .iter()
                    .map(|&p| pops[p].population.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                requests,
                failed,
                availability,
                within_slo: availability >= plan.slo,
                worst_window_p99_ms: mine
                    .clone()
                    .filter_map(|r| r.of(Scope::Move).map(|o| o.metrics.p99_ms))
                    .reduce(f64::max),
                servers_at_s: servers_at[i],
                moved_s: secs(moved[i]),
                decommissioned_s: secs(decommissioned[i]),
                attempts: mine.map(|r| r.attempt).max().unwrap_or(0),
            }
        })
        .collect()
}
