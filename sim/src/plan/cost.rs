//! Prices a plan as it ran: the days each region's move started and its
//! old site was decommissioned become the cost layer's region dates.

use std::collections::BTreeMap;

use cutover_models::cost::bill::BillError;
use cutover_models::cost::project::RegionDates;
use cutover_models::cost::{Date, Money, Month};
use cutover_models::SimTime;
use serde::Serialize;

use super::Plan;
use crate::scenario::cost::CostScenario;

/// Why a plan could not be priced.
#[derive(Debug, thiserror::Error)]
pub enum PlanCostError {
    /// The cost layer refused.
    #[error("pricing the plan: {0}")]
    Bill(#[from] BillError),
}

/// One region's dual running.
#[derive(Debug, Clone, Serialize)]
pub struct SiteDualRunning {
    /// Region (site tag).
    pub site: String,
    /// First day both sites were paid for.
    pub from: Date,
    /// First day only one was.
    pub until: Date,
    /// The old site's cost over those days.
    pub cost: Money,
}

/// What the plan costs, and whether it kept its budgets.
#[derive(Debug, Clone, Serialize)]
pub struct PlanCostSummary {
    /// Currency of every amount.
    pub currency: String,
    /// The cost scenario's file, as the plan names it.
    pub scenario: String,
    /// Old sites' cost while their new sites were also paid for.
    pub dual_running: Money,
    /// The same on the cost scenario's own fixed pacing, for comparison.
    pub dual_running_as_scheduled: Money,
    /// `dual_running - dual_running_as_scheduled`: what delays (retries) added.
    pub dual_running_extra: Money,
    /// Per region.
    pub dual_running_by_site: Vec<SiteDualRunning>,
    /// The first whole month after the plan ended.
    pub final_month: Month,
    /// Spend in that month.
    pub final_monthly: Money,
    /// That spend by estate.
    pub final_by_estate: BTreeMap<String, Money>,
    /// Spend over the cost scenario's horizon with the plan's dates.
    pub horizon_total: Money,
    /// Monthly spend with the plan's dates: (month, spend).
    pub months: Vec<(Month, Money)>,
    /// The plan's budgets missed (dual running, monthly after the plan), in words.
    pub overruns: Vec<String>,
    /// No budget missed: neither the plan's nor the cost scenario's.
    pub within_budget: bool,
    /// The cost scenario's own budgets (monthly, per line, horizon) missed
    /// with the plan's dates, in words; each fails the plan like its own.
    pub cost_scenario_overruns: Vec<String>,
}

fn day_of(start: Date, t: SimTime) -> Date {
    start.plus_days((t.as_secs_f64() / 86_400.0).floor() as i64)
}

/// Prices plan `s` whose moves started at `moved` and whose old sites
/// were decommissioned at `decommissioned` (plan order), ending at `end`.
pub fn price(
    s: &Plan,
    c: &CostScenario,
    moved: &[Option<SimTime>],
    decommissioned: &[Option<SimTime>],
    end: SimTime,
) -> Result<PlanCostSummary, PlanCostError> {
    let model = &c.model;
    let migration = model
        .migration
        .as_ref()
        .expect("plan scenarios only accept cost scenarios with a migration");
    let mut dates = Vec::new();
    for (i, r) in s.moves.iter().enumerate() {
        let Some(m) = moved[i] else { continue };
        let moves = day_of(s.start, m);
        dates.push(RegionDates {
            site: r.name.clone(),
            moves,
            new_from: moves.plus_days(-i64::from(migration.lead_days)),
            old_until: decommissioned[i].map(|t| day_of(s.start, t).plus_days(1)),
        });
    }
    let plan_end = day_of(s.start, end);
    let cost = model.plan_cost(&dates, plan_end)?;
    let scheduled = model.plan_cost(
        &migration.paced_dates(migration.days_per_region),
        migration.end(migration.days_per_region).plus_days(-1),
    )?;
    let cost_scenario_overruns: Vec<String> = cost
        .overruns
        .iter()
        .map(|o| {
            format!(
                "{} {}: {} spent against a budget of {} ({} over)",
                o.month.map_or("horizon".to_string(), |m| m.to_string()),
                o.line,
                o.spend,
                o.budget,
                o.excess
            )
        })
        .collect();
    let mut overruns = Vec::new();
    if let Some((limit, _)) = s.dual_running_budget {
        if cost.dual_running > limit {
            overruns.push(format!(
                "dual running: {} against a budget of {}",
                cost.dual_running, limit
            ));
        }
    }
    if let Some((limit, _)) = s.final_monthly_budget {
        if cost.final_monthly > limit {
            overruns.push(format!(
                "monthly cost after the plan ({}): {} against a budget of {}",
                cost.final_month, cost.final_monthly, limit
            ));
        }
    }
    Ok(PlanCostSummary {
        currency: cost.currency.code().to_string(),
        scenario: s
            .cost
            .as_ref()
            .map(|(p, _)| p.display().to_string())
            .unwrap_or_default(),
        dual_running: cost.dual_running,
        dual_running_as_scheduled: scheduled.dual_running,
        dual_running_extra: cost.dual_running - scheduled.dual_running,
        dual_running_by_site: cost
            .dual_running_by_site
            .iter()
            .map(|d| SiteDualRunning {
                site: d.site.clone(),
                from: d.from,
                until: d.until,
                cost: d.cost,
            })
            .collect(),
        final_month: cost.final_month,
        final_monthly: cost.final_monthly,
        final_by_estate: cost.final_by_estate.clone(),
        horizon_total: cost.projection.months.iter().map(|m| m.plan).sum(),
        months: cost
            .projection
            .months
            .iter()
            .map(|m| (m.month, m.plan))
            .collect(),
        within_budget: overruns.is_empty() && cost_scenario_overruns.is_empty(),
        overruns,
        cost_scenario_overruns,
    })
}
