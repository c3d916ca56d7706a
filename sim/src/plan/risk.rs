//! What a plan's replications draw: every risk of the plan
//! (`[[plan.risks]]`) and of its cost scenario (`[[risks]]`), declared
//! with its range and distribution (see [`crate::scenario::risk`]). The
//! single run takes the plan as stated (no price change, the planned lead
//! time); each replication draws anew: a price change once, a lead time
//! once per order of servers. Each move's servers are ordered to arrive
//! at its planned start (the cost scenario's planned lead before it): a
//! longer lead delays that move (and the moves paced after it) by the
//! excess. A plan that re-orders servers for a retry (`[plan]
//! reorder_on_retry = true`) orders them at the rollback, and the retry
//! waits for them.

use cutover_models::cost::bill::Adjustments;
use cutover_models::{SimDuration, SimTime};
use rand::RngExt;

use crate::engine::RngStreams;
pub use crate::scenario::risk::{Risk, Shape, Target, MAX_RISKS};

/// One replication's draw of every risk.
#[derive(Debug, Clone, PartialEq)]
pub struct Draws {
    /// One value per risk, in declaration order: a price risk's relative
    /// change; a lead-time risk's mean lead over the moves' orders,
    /// seconds (what the replications table and the tornado show).
    pub values: Vec<f64>,
    /// The lead of each move's order of servers, seconds: the longest of
    /// the lead-time risks' draws for it (the planned lead without one).
    pub move_leads: Vec<f64>,
    /// The lead of each retry's re-order, per move and retry, seconds
    /// (empty when the plan does not re-order for a retry).
    pub retry_leads: Vec<Vec<f64>>,
}

/// How many orders of servers a plan can place: one per move, and, when
/// it re-orders for a retry, one per retry of each move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Orders {
    /// Moves.
    pub moves: usize,
    /// Re-orders per move (its retries, or zero).
    pub retries: usize,
}

/// Every risk as the plan states it: no price change and the planned
/// lead time for every order, each clamped to its range (the single
/// run's point estimate; replications draw them).
pub fn as_stated(risks: &[Risk], planned_lead: SimDuration, orders: Orders) -> Draws {
    let planned = planned_lead.as_secs_f64();
    let values: Vec<f64> = risks
        .iter()
        .map(|r| match r.target {
            Target::LeadTime => planned.clamp(r.low, r.high),
            _ => 0.0_f64.clamp(r.low, r.high),
        })
        .collect();
    let lead = longest_lead(risks, &values, planned);
    Draws {
        move_leads: vec![lead; orders.moves],
        retry_leads: vec![vec![lead; orders.retries]; orders.moves],
        values,
    }
}

/// Every risk drawn for the replication with `seed`, from the seed's own
/// stream so that runs stay reproducible: in declaration order, a price
/// risk once, a lead-time risk once per order (the moves' first, then
/// each move's re-orders).
pub fn draw(risks: &[Risk], seed: u64, planned_lead: SimDuration, orders: Orders) -> Draws {
    let mut rng = RngStreams::new(seed).stream("plan.risks");
    let planned = planned_lead.as_secs_f64();
    let mut values = Vec::with_capacity(risks.len());
    let mut move_leads = vec![planned; orders.moves];
    let mut retry_leads = vec![vec![planned; orders.retries]; orders.moves];
    let mut first_lead = true;
    for r in risks {
        if r.target != Target::LeadTime {
            values.push(r.quantile(rng.random::<f64>()));
            continue;
        }
        // Several lead-time risks: each order waits for the longest.
        let take = |lead: &mut f64, u: f64| {
            let x = r.quantile(u);
            *lead = if first_lead { x } else { lead.max(x) };
            x
        };
        let mut sum = 0.0;
        for lead in &mut move_leads {
            sum += take(lead, rng.random::<f64>());
        }
        for lead in retry_leads.iter_mut().flatten() {
            take(lead, rng.random::<f64>());
        }
        first_lead = false;
        values.push(if orders.moves == 0 {
            r.quantile(0.5)
        } else {
            sum / orders.moves as f64
        });
    }
    Draws {
        values,
        move_leads,
        retry_leads,
    }
}

/// The longest lead of the lead-time risks' `values`, or `planned`
/// without one.
fn longest_lead(risks: &[Risk], values: &[f64], planned: f64) -> f64 {
    risks
        .iter()
        .zip(values)
        .filter(|(r, _)| r.target == Target::LeadTime)
        .map(|(_, &v)| v)
        .reduce(f64::max)
        .unwrap_or(planned)
}

/// The cost adjustments of the price risks' draws on top of `base`.
pub fn adjusted(base: &Adjustments, risks: &[Risk], draws: &Draws) -> Adjustments {
    let mut a = base.clone();
    for (r, &x) in risks.iter().zip(&draws.values) {
        let factor = 1.0 + x;
        match &r.target {
            Target::Line(line) => *a.line_price_factor.entry(line.clone()).or_insert(1.0) *= factor,
            Target::Estate(e) => *a.estate_price_factor.entry(e.clone()).or_insert(1.0) *= factor,
            Target::Fx => a.fx_factor *= factor,
            Target::LeadTime => {}
        }
    }
    a
}

/// When each move may start: its servers, ordered to arrive at the
/// move's planned start (`begin`, then one `spacing` after the other)
/// given the `planned` lead, come late by their drawn lead's excess over
/// it, and a late move starts at the plan's time of day (`begin`'s) on
/// the first day they are there, as an on-time move does: its stages'
/// windows see the hours the plan chose.
pub fn deliveries(
    draws: &Draws,
    planned: SimDuration,
    begin: SimTime,
    spacing: SimDuration,
) -> Vec<SimTime> {
    draws
        .move_leads
        .iter()
        .enumerate()
        .map(|(m, &secs)| {
            let drawn = SimDuration::from_secs_f64(secs);
            let late = drawn.as_nanos().saturating_sub(planned.as_nanos());
            let on_time = begin + spacing.saturating_mul(m as u64);
            on_time + SimDuration::from_nanos(late.div_ceil(DAY_NS) * DAY_NS)
        })
        .collect()
}

/// A day, nanoseconds.
const DAY_NS: u64 = 86_400_000_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    fn risk(target: Target, low: f64, high: f64) -> Risk {
        Risk {
            name: "r".into(),
            target,
            low,
            high,
            shape: Shape::Uniform,
        }
    }

    const DAY: f64 = 86_400.0;
    const TWO: Orders = Orders {
        moves: 2,
        retries: 1,
    };

    #[test]
    fn draws_stay_in_their_range_and_follow_the_seed() {
        let risks = [
            risk(Target::Fx, -0.1, 0.1),
            risk(Target::LeadTime, 10.0, 20.0),
        ];
        for seed in 0..200 {
            let d = draw(&risks, seed, SimDuration::ZERO, TWO);
            assert!((-0.1..=0.1).contains(&d.values[0]));
            for lead in d.move_leads.iter().chain(d.retry_leads.iter().flatten()) {
                assert!((10.0..=20.0).contains(lead));
            }
            assert_eq!(d.retry_leads.len(), 2);
            assert_eq!(d.values[1], (d.move_leads[0] + d.move_leads[1]) / 2.0);
            assert_eq!(d, draw(&risks, seed, SimDuration::ZERO, TWO));
        }
        let d = draw(&risks, 1, SimDuration::ZERO, TWO);
        assert_ne!(d.move_leads[0], d.move_leads[1], "one draw per order");
        assert_ne!(d, draw(&risks, 2, SimDuration::ZERO, TWO));
    }

    #[test]
    fn each_order_waits_for_the_longest_lead_risk_and_none_for_the_planned_lead() {
        let planned = SimDuration::from_secs(14 * 86_400);
        let none = draw(&[risk(Target::Fx, 0.0, 0.1)], 3, planned, TWO);
        assert_eq!(none.move_leads, vec![14.0 * DAY; 2]);
        let both = [
            risk(Target::LeadTime, 20.0 * DAY, 20.0 * DAY),
            risk(Target::LeadTime, 10.0 * DAY, 30.0 * DAY),
        ];
        let d = draw(&both, 3, planned, TWO);
        for (i, &lead) in d.move_leads.iter().enumerate() {
            assert!(lead >= 20.0 * DAY, "{i}: {lead}");
        }
        let stated = as_stated(&both, planned, TWO);
        assert_eq!(stated.values, vec![20.0 * DAY, 14.0 * DAY]);
        assert_eq!(stated.move_leads, vec![20.0 * DAY; 2]);
        assert_eq!(stated.retry_leads, vec![vec![20.0 * DAY]; 2]);
    }

    #[test]
    fn price_draws_multiply_the_adjustments() {
        let risks = [
            risk(Target::Estate("bare metal".into()), 0.0, 0.2),
            risk(Target::Line("migration labour".into()), 0.0, 0.5),
            risk(Target::Fx, -0.1, 0.1),
        ];
        let draws = Draws {
            values: vec![0.2, 0.5, -0.1],
            move_leads: Vec::new(),
            retry_leads: Vec::new(),
        };
        let mut base = Adjustments::default();
        base.estate_price_factor.insert("bare metal".into(), 2.0);
        let a = adjusted(&base, &risks, &draws);
        assert!((a.estate_price_factor["bare metal"] - 2.4).abs() < 1e-12);
        assert!((a.line_price_factor["migration labour"] - 1.5).abs() < 1e-12);
        assert!((a.fx_factor - 0.9).abs() < 1e-12);
    }

    #[test]
    fn only_a_lead_beyond_the_plan_delays_a_move_each_by_its_own() {
        let planned = SimDuration::from_secs(14 * 86_400);
        let week = SimDuration::from_secs(7 * 86_400);
        let begin = SimTime::ZERO + SimDuration::from_secs(3600);
        let draws = Draws {
            values: Vec::new(),
            move_leads: vec![20.0 * DAY, 7.0 * DAY],
            retry_leads: Vec::new(),
        };
        assert_eq!(
            deliveries(&draws, planned, begin, week),
            vec![begin + SimDuration::from_secs(6 * 86_400), begin + week,]
        );
    }

    /// Servers 3.2 days late: the move starts four days late, at the
    /// plan's time of day; a whole number of days late, that many.
    #[test]
    fn a_late_move_starts_at_the_plans_time_of_day() {
        let planned = SimDuration::from_secs(14 * 86_400);
        let week = SimDuration::from_secs(7 * 86_400);
        let begin = SimTime::ZERO + SimDuration::from_secs(18 * 3600);
        let draws = Draws {
            values: Vec::new(),
            move_leads: vec![17.2 * DAY, 16.0 * DAY],
            retry_leads: Vec::new(),
        };
        let days = |d: u64| SimDuration::from_secs(d * 86_400);
        assert_eq!(
            deliveries(&draws, planned, begin, week),
            vec![begin + days(4), begin + week + days(2)]
        );
    }
}
