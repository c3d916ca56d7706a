//! What one run of a plan found: the stages as judged, the rollbacks, each
//! move's users over the whole plan, the toll on the availability
//! objective, the cost, and the world's own outcome.

use serde::Serialize;

use super::cost::PlanCostSummary;
use crate::world::Outcome;

/// One stage as judged.
#[derive(Debug, Clone, Serialize)]
pub struct StageRow {
    /// The move (its old site's tag).
    pub region: String,
    /// Attempt, from 1.
    pub attempt: u32,
    /// Stage, from 1.
    pub stage: usize,
    /// Share the plan asked for.
    pub share_requested: f64,
    /// What was done, in an operator's words.
    pub action: String,
    /// Share of the old site's users the action sends to the new site
    /// (the BGP model's catchment, or the L7 weight).
    pub share_reached: f64,
    /// When it was applied, seconds from the start.
    pub applied_s: f64,
    /// Window start, seconds.
    pub window_from_s: f64,
    /// Window end, seconds.
    pub window_until_s: f64,
    /// Requests the move's gate counted: what reached the new site plus
    /// the users' requests lost on the way.
    pub requests: u64,
    /// Of which failed.
    pub failed: u64,
    /// Error rate.
    pub error_rate: f64,
    /// p99 latency at the new site, milliseconds.
    pub p99_ms: f64,
    /// Whether every gate passed.
    pub passed: bool,
    /// The scopes that breached, e.g. "population ams; site ams1-bm".
    pub breached: String,
    /// Why not, each reason led by its scope.
    pub reasons: String,
}

/// One scope's figures over one stage's window (a row of `gates.csv`).
#[derive(Debug, Clone, Serialize)]
pub struct GateRow {
    /// The move (its old site's tag).
    pub region: String,
    /// Attempt, from 1.
    pub attempt: u32,
    /// Stage, from 1.
    pub stage: usize,
    /// Share the plan asked for.
    pub share_requested: f64,
    /// "move", "site" or "population".
    pub scope: &'static str,
    /// The move, the site's tag or the population's label.
    pub name: String,
    /// Requests in the window (a site's: those that reached it; a
    /// population's: all of its users').
    pub requests: u64,
    /// Of which failed.
    pub failed: u64,
    /// Error rate.
    pub error_rate: f64,
    /// p99 latency, milliseconds: at the site (move, site), or as the
    /// users saw it (population).
    pub p99_ms: f64,
    /// Share of the window's time it was up.
    pub availability: f64,
    /// Whether the plan gates on this scope.
    pub judged: bool,
    /// Whether its gate held (true when not judged).
    pub passed: bool,
    /// Why not.
    pub reasons: String,
}

/// A rollback and its cause.
#[derive(Debug, Clone, Serialize)]
pub struct Rollback {
    /// The move.
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

/// What one move's users (the old site's catchment before the plan) saw
/// over the whole run.
#[derive(Debug, Clone, Serialize)]
pub struct RegionResult {
    /// The move (its old site's tag).
    pub region: String,
    /// Its new site.
    pub new_site: String,
    /// The populations it concerns.
    pub users: String,
    /// Their requests.
    pub requests: f64,
    /// Failed.
    pub failed: f64,
    /// 1 - failed / requests.
    pub availability: f64,
    /// Whether that meets the plan's SLO.
    pub within_slo: bool,
    /// Worst window p99 the gates saw, milliseconds.
    pub worst_window_p99_ms: Option<f64>,
    /// When its servers were delivered, the earliest its first attempt
    /// could start (its planned start, or later by a long lead time),
    /// seconds.
    pub servers_at_s: f64,
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

impl SloImpact {
    /// The toll of `failed` of `requests` against `target`.
    pub fn of(target: f64, requests: f64, failed: f64) -> Self {
        let budget_requests = (1.0 - target) * requests;
        SloImpact {
            target,
            requests,
            failed,
            availability: availability(requests, failed),
            budget_requests,
            budget_consumed: if budget_requests > 0.0 {
                failed / budget_requests
            } else {
                0.0
            },
        }
    }
}

/// 1 - failed / requests; 1 with no requests.
pub fn availability(requests: f64, failed: f64) -> f64 {
    if requests > 0.0 {
        1.0 - failed / requests
    } else {
        1.0
    }
}

/// Everything one run of a plan found.
#[derive(Serialize)]
pub struct PlanOutcome {
    /// Every move passed every stage.
    pub gates_passed: bool,
    /// The plan ran to its end, its last old site decommissioned, within
    /// the experiment's duration.
    pub finished: bool,
    /// Time to the end of the plan (or the limit), seconds.
    pub duration_s: f64,
    /// Stages, in order.
    pub stages: Vec<StageRow>,
    /// Every scope's figures of every stage (`gates.csv`).
    #[serde(skip)]
    pub gates: Vec<GateRow>,
    /// Rollbacks, in order.
    pub rollbacks: Vec<Rollback>,
    /// Per move.
    pub regions: Vec<RegionResult>,
    /// Availability and error budget over every user.
    pub slo: SloImpact,
    /// Costs, when the plan names a cost scenario.
    pub cost: Option<PlanCostSummary>,
    /// This run's draw of each declared risk: (name, value: a relative
    /// change, or a lead time in days, the mean over the moves' orders).
    pub risks: Vec<(String, f64)>,
    /// The world's own outcome: populations, sites, timeline, routes.
    #[serde(skip)]
    pub world: Outcome,
}

impl PlanOutcome {
    /// Whether the plan passed: gates, finish, the SLO over every user and
    /// over each move's, the budgets, and the estate's recovery objectives
    /// when a failure struck.
    pub fn success(&self) -> bool {
        self.gates_passed
            && self.finished
            && self.within_slo()
            && self.within_budget()
            && self.recovery_misses().is_empty()
    }

    /// The recovery objectives the run's failures (drills, failures of the
    /// plan's experiment) missed: a data class's RPO, a service's RTO.
    pub fn recovery_misses(&self) -> Vec<String> {
        self.world
            .summary
            .recovery
            .as_ref()
            .map_or(Vec::new(), |r| r.misses())
    }

    /// Availability met the SLO over every user and over each move's users.
    pub fn within_slo(&self) -> bool {
        self.slo.availability >= self.slo.target && self.regions.iter().all(|r| r.within_slo)
    }

    /// No budget was overrun (true without a cost scenario).
    pub fn within_budget(&self) -> bool {
        self.cost.as_ref().is_none_or(|c| c.within_budget)
    }

    /// Why the plan failed, in words; empty when it passed.
    pub fn failure_reasons(&self) -> Vec<String> {
        let mut reasons = Vec::new();
        for r in &self.rollbacks {
            reasons.push(format!(
                "{} attempt {} stage {} rolled back at day {:.2}: {}",
                r.region,
                r.attempt,
                r.stage,
                r.at_s / 86_400.0,
                r.reasons
            ));
        }
        if !self.gates_passed && self.finished {
            reasons.push("the plan stopped before every move finished".to_string());
        }
        if !self.finished {
            reasons.push("the plan did not finish within experiment.duration".to_string());
        }
        let slo = &self.slo;
        if slo.availability < slo.target {
            reasons.push(format!(
                "availability {:.4} % over every user, below the SLO of {:.4} %",
                100.0 * slo.availability,
                100.0 * slo.target
            ));
        }
        for r in self.regions.iter().filter(|r| !r.within_slo) {
            reasons.push(format!(
                "availability {:.4} % for {}'s users ({}), below the SLO of {:.4} %",
                100.0 * r.availability,
                r.region,
                r.users,
                100.0 * slo.target
            ));
        }
        reasons.extend(self.recovery_misses());
        if let Some(c) = &self.cost {
            reasons.extend(c.overruns.iter().map(|x| format!("over budget: {x}")));
            reasons.extend(
                c.cost_scenario_overruns
                    .iter()
                    .map(|x| format!("over the cost scenario's budget ({}): {x}", c.scenario)),
            );
        }
        reasons
    }
}
