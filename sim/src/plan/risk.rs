//! What is uncertain in a plan, declared with its range, and drawn anew in
//! every replication (the single run takes the plan as stated: no price
//! change, the planned lead time): a price change of a price-book line or of a whole
//! estate (a rent rise), the exchange rate, and the supplier's delivery
//! lead time for the new sites' hardware (one draw a replication; beyond
//! the cost scenario's planned lead it delays the first move, and with it
//! every move paced after it). Each is uniform over its range: a
//! planner's "somewhere between" with no mode claimed.
//!
//! ```toml
//! [[plan.risks]]
//! name = "bare-metal rent rise"
//! estate = "bare metal"         # every line of a cost estate
//! change = ["0%", "20%"]
//!
//! [[plan.risks]]
//! name = "labour overrun"
//! line = "migration labour"     # one line item, as finance sees it
//! change = ["0%", "50%"]
//!
//! [[plan.risks]]
//! name = "EUR/USD"
//! fx = true                     # every stated exchange rate
//! change = ["-10%", "10%"]
//!
//! [[plan.risks]]
//! name = "server delivery"
//! lead_time = ["10d", "28d"]    # against the cost scenario's planned lead
//! ```

use cutover_models::cost::bill::Adjustments;
use cutover_models::SimDuration;
use rand::RngExt;
use serde::Deserialize;

use crate::engine::RngStreams;
use crate::scenario::cost::{parse_percent, CostScenario};
use crate::scenario::units::Duration;
use crate::scenario::{InputError, Source};

/// `[[plan.risks]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRisk {
    name: String,
    line: Option<String>,
    estate: Option<String>,
    fx: Option<bool>,
    change: Option<[String; 2]>,
    lead_time: Option<[Duration; 2]>,
}

/// What a risk varies.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// The unit prices of one line item (as a price book names it).
    Line(String),
    /// The unit prices of every line of a cost estate.
    Estate(String),
    /// Every stated exchange rate.
    Fx,
    /// Each new site's hardware delivery: a move cannot start before its
    /// hardware is there.
    LeadTime,
}

/// An uncertainty and its range.
#[derive(Debug, Clone, PartialEq)]
pub struct Risk {
    /// Its name in reports.
    pub name: String,
    /// What it varies.
    pub target: Target,
    /// Lowest value: a relative change (0.2 = +20 %), or a lead time in
    /// seconds.
    pub low: f64,
    /// Highest value.
    pub high: f64,
}

/// One replication's draw of every risk, in declaration order.
#[derive(Debug, Clone, PartialEq)]
pub struct Draws {
    /// Values, one per risk.
    pub values: Vec<f64>,
}

/// Most risks a plan may declare.
pub const MAX_RISKS: usize = 64;

/// The risks of `[[plan.risks]]`, validated against the cost scenario
/// (price risks need one; their lines and estates must be in it).
pub(crate) fn validate(
    source: &Source,
    raw: &[RawRisk],
    cost: Option<&CostScenario>,
) -> Result<Vec<Risk>, InputError> {
    if raw.len() > MAX_RISKS {
        return Err(source.field_error(
            "plan.risks",
            format!("{} risks; allowed: at most {MAX_RISKS}", raw.len()),
        ));
    }
    raw.iter()
        .enumerate()
        .map(|(i, r)| one(source, &format!("plan.risks[{i}]"), r, cost))
        .collect()
}

fn one(
    source: &Source,
    at: &str,
    r: &RawRisk,
    cost: Option<&CostScenario>,
) -> Result<Risk, InputError> {
    if r.name.trim().is_empty() {
        return Err(source.field_error(&format!("{at}.name"), "must not be empty"));
    }
    let targets = [
        r.line.is_some(),
        r.estate.is_some(),
        r.fx == Some(true),
        r.lead_time.is_some(),
    ];
    if targets.iter().filter(|&&t| t).count() != 1 {
        return Err(source.field_error(
            at,
            "allowed: exactly one of `line`, `estate`, `fx = true` or `lead_time`",
        ));
    }
    if let Some([lo, hi]) = &r.lead_time {
        if r.change.is_some() {
            return Err(source.field_error(
                &format!("{at}.change"),
                "a lead time is its own range; allowed: `change` with `line`, `estate` or `fx` only",
            ));
        }
        return range(
            source,
            &format!("{at}.lead_time"),
            lo.0.as_secs_f64(),
            hi.0.as_secs_f64(),
        )
        .map(|(low, high)| Risk {
            name: r.name.clone(),
            target: Target::LeadTime,
            low,
            high,
        });
    }
    let Some([lo, hi]) = &r.change else {
        return Err(source.field_error(
            &format!("{at}.change"),
            "missing; allowed: a range of relative changes, e.g. [\"0%\", \"20%\"]",
        ));
    };
    let percent = |text: &str| {
        parse_percent(text).map_err(|m| source.field_error(&format!("{at}.change"), m))
    };
    let (low, high) = range(source, &format!("{at}.change"), percent(lo)?, percent(hi)?)?;
    if low <= -1.0 {
        return Err(source.field_error(
            &format!("{at}.change"),
            format!("`{lo}` takes the price to zero or below; allowed: above -100%"),
        ));
    }
    let Some(cost) = cost else {
        return Err(source.field_error(
            at,
            "a price risk needs a cost scenario; allowed: with plan.cost set",
        ));
    };
    let target = if let Some(line) = &r.line {
        known(source, &format!("{at}.line"), line, &line_names(cost))?;
        Target::Line(line.clone())
    } else if let Some(estate) = &r.estate {
        let names: Vec<String> = cost.model.estates.iter().map(|e| e.name.clone()).collect();
        known(source, &format!("{at}.estate"), estate, &names)?;
        Target::Estate(estate.clone())
    } else {
        Target::Fx
    };
    Ok(Risk {
        name: r.name.clone(),
        target,
        low,
        high,
    })
}

fn range(source: &Source, field: &str, low: f64, high: f64) -> Result<(f64, f64), InputError> {
    if !(low.is_finite() && high.is_finite()) || low > high {
        return Err(source.field_error(field, "allowed: [low, high] with low at most high"));
    }
    Ok((low, high))
}

fn known(source: &Source, field: &str, name: &str, names: &[String]) -> Result<(), InputError> {
    if names.iter().any(|n| n == name) {
        return Ok(());
    }
    Err(source.field_error(
        field,
        format!(
            "`{name}` is not in the cost scenario; allowed: {}",
            names.join(", ")
        ),
    ))
}

/// The line items a price factor can name: the books' lines and the
/// one-offs the cost layer adds itself.
fn line_names(cost: &CostScenario) -> Vec<String> {
    let mut names: Vec<String> = cost
        .model
        .books
        .values()
        .flat_map(|b| b.skus.values().map(|s| s.line.clone()))
        .chain(["migration labour".to_string(), "setup fees".to_string()])
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Every risk as the plan states it: no price change and the planned
/// lead time, each clamped to its range (the single run's point
/// estimate; replications draw them).
pub fn as_stated(risks: &[Risk], planned_lead: SimDuration) -> Draws {
    Draws {
        values: risks
            .iter()
            .map(|r| {
                let nominal = match r.target {
                    Target::LeadTime => planned_lead.as_secs_f64(),
                    _ => 0.0,
                };
                nominal.clamp(r.low, r.high)
            })
            .collect(),
    }
}

/// Every risk drawn for the replication with `seed` (uniform over its
/// range, from the seed's own stream, so runs stay reproducible).
pub fn draw(risks: &[Risk], seed: u64) -> Draws {
    let mut rng = RngStreams::new(seed).stream("plan.risks");
    Draws {
        values: risks
            .iter()
            .map(|r| r.low + (r.high - r.low) * rng.random::<f64>())
            .collect(),
    }
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

/// How late the hardware arrives beyond `planned` (the cost scenario's
/// lead): the longest drawn lead time's excess, or zero.
pub fn delivery_delay(risks: &[Risk], draws: &Draws, planned: SimDuration) -> SimDuration {
    risks
        .iter()
        .zip(&draws.values)
        .filter(|(r, _)| r.target == Target::LeadTime)
        .map(|(_, &secs)| {
            let drawn = SimDuration::from_secs_f64(secs);
            SimDuration::from_nanos(drawn.as_nanos().saturating_sub(planned.as_nanos()))
        })
        .max()
        .unwrap_or(SimDuration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn risk(target: Target, low: f64, high: f64) -> Risk {
        Risk {
            name: "r".into(),
            target,
            low,
            high,
        }
    }

    #[test]
    fn draws_stay_in_their_range_and_follow_the_seed() {
        let risks = [
            risk(Target::Fx, -0.1, 0.1),
            risk(Target::LeadTime, 10.0, 20.0),
        ];
        for seed in 0..200 {
            let d = draw(&risks, seed);
            assert!((-0.1..=0.1).contains(&d.values[0]));
            assert!((10.0..=20.0).contains(&d.values[1]));
            assert_eq!(d, draw(&risks, seed));
        }
        assert_ne!(draw(&risks, 1), draw(&risks, 2));
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
        };
        let mut base = Adjustments::default();
        base.estate_price_factor.insert("bare metal".into(), 2.0);
        let a = adjusted(&base, &risks, &draws);
        assert!((a.estate_price_factor["bare metal"] - 2.4).abs() < 1e-12);
        assert!((a.line_price_factor["migration labour"] - 1.5).abs() < 1e-12);
        assert!((a.fx_factor - 0.9).abs() < 1e-12);
    }

    #[test]
    fn only_a_lead_time_beyond_the_plan_delays_a_move() {
        let risks = [risk(Target::LeadTime, 0.0, 0.0)];
        let day = 86_400.0;
        let planned = SimDuration::from_secs(14 * 86_400);
        let late = Draws {
            values: vec![20.0 * day],
        };
        assert_eq!(
            delivery_delay(&risks, &late, planned),
            SimDuration::from_secs(6 * 86_400)
        );
        let early = Draws {
            values: vec![7.0 * day],
        };
        assert_eq!(delivery_delay(&risks, &early, planned), SimDuration::ZERO);
    }
}
