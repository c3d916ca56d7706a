//! What is uncertain, declared with its distribution: a `[[risks]]` entry
//! of a cost scenario or a `[[plan.risks]]` entry of a plan, read by one
//! parser. Each varies a price change of a price-book line or of a whole
//! cost estate (a rent rise), the exchange rate, or the supplier's
//! delivery lead time for servers ordered; each is drawn anew in every
//! replication of a plan (`plan::risk` draws and applies them).
//!
//! ```toml
//! [[risks]]                     # [[plan.risks]] in a plan file
//! name = "bare-metal rent rise"
//! estate = "bare metal"         # every line of a cost estate
//! change = ["0%", "20%"]        # the range every draw stays in
//! distribution = "triangular"   # default "uniform"
//! mode = "5%"                   # triangular: the most likely value
//!
//! [[risks]]
//! name = "labour overrun"
//! line = "migration labour"     # one line item, as finance sees it
//! change = ["0%", "50%"]
//!
//! [[risks]]
//! name = "EUR/USD"
//! fx = true                     # every stated exchange rate
//! change = ["-10%", "10%"]
//! distribution = "normal"       # truncated to the range
//! mean = "0%"
//! sd = "4%"
//!
//! [[risks]]
//! name = "server delivery"
//! lead_time = ["10d", "28d"]    # per order, against the planned lead
//! distribution = "triangular"
//! mode = "14d"
//! ```
//!
//! Why these three: "uniform" is a planner's "somewhere between" with no
//! value more likely; "triangular" is the three-point estimate (lowest,
//! most likely, highest) that project risk analysis asks experts for
//! (PMI, PMBOK Guide, 6th ed., 2017, §6.4.2.4 "Three-point estimating";
//! Vose, "Risk Analysis", 3rd ed., 2008, §9.1.4); "normal" truncated to
//! the range is a figure with a known spread around a central value, as
//! an exchange rate's change over months is usually described (its
//! standard deviation, the volatility), kept within the range so that no
//! draw is absurd.

use serde::Deserialize;
use statrs::distribution::{ContinuousCDF, Normal};

use super::cost::{parse_percent, CostScenario};
use super::units::{parse_duration, Duration};
use super::{InputError, Source};

/// A risk as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRisk {
    name: String,
    line: Option<String>,
    estate: Option<String>,
    fx: Option<bool>,
    change: Option<[String; 2]>,
    lead_time: Option<[Duration; 2]>,
    distribution: Option<String>,
    mode: Option<String>,
    mean: Option<String>,
    sd: Option<String>,
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
    /// The delivery of servers ordered: a move cannot start before its
    /// servers are there (drawn once per order).
    LeadTime,
}

/// How a risk's draws spread over its range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// Every value of the range as likely.
    Uniform,
    /// Rising from the low end to `mode`, then falling to the high end.
    Triangular {
        /// The most likely value.
        mode: f64,
    },
    /// A normal distribution truncated to the range.
    Normal {
        /// Its mean before truncation.
        mean: f64,
        /// Its standard deviation before truncation, above zero.
        sd: f64,
    },
}

/// An uncertainty, its range and its distribution.
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
    /// How draws spread between them.
    pub shape: Shape,
}

impl Risk {
    /// The value below which a share `u` (0 to 1) of the draws fall: the
    /// inverse of the distribution function, so that a uniform `u` gives
    /// a draw of the risk.
    pub fn quantile(&self, u: f64) -> f64 {
        let (low, high) = (self.low, self.high);
        let u = u.clamp(0.0, 1.0);
        let x = match self.shape {
            _ if high <= low => low,
            Shape::Uniform => low + (high - low) * u,
            Shape::Triangular { mode } => {
                let cut = (mode - low) / (high - low);
                if u < cut {
                    low + (u * (high - low) * (mode - low)).sqrt()
                } else {
                    high - ((1.0 - u) * (high - low) * (high - mode)).sqrt()
                }
            }
            Shape::Normal { mean, sd } => {
                let n = Normal::standard();
                let (a, b) = (n.cdf((low - mean) / sd), n.cdf((high - mean) / sd));
                if b - a < 1e-12 {
                    mean
                } else {
                    mean + sd * n.inverse_cdf(a + u * (b - a))
                }
            }
        };
        x.clamp(low, high)
    }
}

/// Most risks one file may declare.
pub const MAX_RISKS: usize = 64;

/// The distributions a risk may name.
pub const DISTRIBUTIONS: &str = "\"uniform\", \"triangular\" (with `mode`) or \"normal\" (with `mean` and `sd`, truncated to the range)";

/// The risks at `field` (`risks` or `plan.risks`), validated against
/// `cost` (price risks need one; their lines and estates must be in it).
pub fn validate(
    source: &Source,
    field: &str,
    raw: &[RawRisk],
    cost: Option<&CostScenario>,
) -> Result<Vec<Risk>, InputError> {
    if raw.len() > MAX_RISKS {
        return Err(source.field_error(
            field,
            format!("{} risks; allowed: at most {MAX_RISKS}", raw.len()),
        ));
    }
    let mut out: Vec<Risk> = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let risk = one(source, &format!("{field}[{i}]"), r, cost)?;
        if out.iter().any(|o| o.name == risk.name) {
            return Err(source.field_error(
                &format!("{field}[{i}].name"),
                format!("`{}` twice; allowed: each risk its own name", risk.name),
            ));
        }
        out.push(risk);
    }
    Ok(out)
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
    let (target, low, high) = match &r.lead_time {
        Some([lo, hi]) => lead_time(source, at, r, lo, hi)?,
        None => price(source, at, r, cost)?,
    };
    let shape = shape(source, at, r, low, high)?;
    Ok(Risk {
        name: r.name.clone(),
        target,
        low,
        high,
        shape,
    })
}

fn lead_time(
    source: &Source,
    at: &str,
    r: &RawRisk,
    lo: &Duration,
    hi: &Duration,
) -> Result<(Target, f64, f64), InputError> {
    if r.change.is_some() {
        return Err(source.field_error(
            &format!("{at}.change"),
            "a lead time is its own range; allowed: `change` with `line`, `estate` or `fx` only",
        ));
    }
    let field = format!("{at}.lead_time");
    let (low, high) = range(source, &field, lo.0.as_secs_f64(), hi.0.as_secs_f64())?;
    Ok((Target::LeadTime, low, high))
}

fn price(
    source: &Source,
    at: &str,
    r: &RawRisk,
    cost: Option<&CostScenario>,
) -> Result<(Target, f64, f64), InputError> {
    let field = format!("{at}.change");
    let Some([lo, hi]) = &r.change else {
        return Err(source.field_error(
            &field,
            "missing; allowed: a range of relative changes, e.g. [\"0%\", \"20%\"]",
        ));
    };
    let percent = |text: &str| parse_percent(text).map_err(|m| source.field_error(&field, m));
    let (low, high) = range(source, &field, percent(lo)?, percent(hi)?)?;
    if low <= -1.0 {
        return Err(source.field_error(
            &field,
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
    Ok((target, low, high))
}

/// The distribution as written, its values in the range's unit.
fn shape(source: &Source, at: &str, r: &RawRisk, low: f64, high: f64) -> Result<Shape, InputError> {
    let value = |name: &str, text: &Option<String>| -> Result<Option<f64>, InputError> {
        let Some(text) = text else { return Ok(None) };
        let field = format!("{at}.{name}");
        let v = if r.lead_time.is_some() {
            parse_duration(text).map(|d| d.as_secs_f64())
        } else {
            parse_percent(text)
        };
        v.map(Some).map_err(|m| source.field_error(&field, m))
    };
    let (mode, mean, sd) = (
        value("mode", &r.mode)?,
        value("mean", &r.mean)?,
        value("sd", &r.sd)?,
    );
    let name = r.distribution.as_deref().unwrap_or("uniform");
    let stray = |field: &str, wants: &str| {
        Err(source.field_error(
            &format!("{at}.{field}"),
            format!("not used by a {name} distribution; allowed: `{field}` with distribution = \"{wants}\""),
        ))
    };
    match name {
        "uniform" if mode.is_some() => stray("mode", "triangular"),
        "uniform" | "triangular" if mean.is_some() => stray("mean", "normal"),
        "uniform" | "triangular" if sd.is_some() => stray("sd", "normal"),
        "normal" if mode.is_some() => stray("mode", "triangular"),
        "uniform" => Ok(Shape::Uniform),
        "triangular" => {
            let mode = mode.unwrap_or((low + high) / 2.0);
            if !(low..=high).contains(&mode) {
                return Err(source.field_error(
                    &format!("{at}.mode"),
                    "outside the range; allowed: a value from its low to its high end",
                ));
            }
            Ok(Shape::Triangular { mode })
        }
        "normal" => {
            let (Some(mean), Some(sd)) = (mean, sd) else {
                return Err(source.field_error(
                    at,
                    "a normal distribution needs `mean` and `sd`; allowed: both, in the range's unit",
                ));
            };
            if !(sd > 0.0 && sd.is_finite()) {
                return Err(source.field_error(&format!("{at}.sd"), "allowed: above zero"));
            }
            Ok(Shape::Normal { mean, sd })
        }
        other => Err(source.field_error(
            &format!("{at}.distribution"),
            format!("`{other}`; allowed: {DISTRIBUTIONS}"),
        )),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn risk(low: f64, high: f64, shape: Shape) -> Risk {
        Risk {
            name: "r".into(),
            target: Target::Fx,
            low,
            high,
            shape,
        }
    }

    #[test]
    fn a_uniform_draw_is_linear_in_its_share() {
        let r = risk(10.0, 30.0, Shape::Uniform);
        assert_eq!(r.quantile(0.0), 10.0);
        assert_eq!(r.quantile(0.25), 15.0);
        assert_eq!(r.quantile(1.0), 30.0);
    }

    #[test]
    fn a_triangular_draw_follows_its_distribution_function() {
        // Low 0, mode 5, high 20: F(5) = 5 / 20 = 0.25; below the mode
        // F(x) = x^2 / (20 x 5), so F(x) = 0.1 at x = sqrt(10); above it
        // F(x) = 1 - (20 - x)^2 / (20 x 15), so F(x) = 0.7 at x = 20 - sqrt(90).
        let r = risk(0.0, 20.0, Shape::Triangular { mode: 5.0 });
        assert!((r.quantile(0.25) - 5.0).abs() < 1e-12);
        assert!((r.quantile(0.1) - 10f64.sqrt()).abs() < 1e-12);
        assert!((r.quantile(0.7) - (20.0 - 90f64.sqrt())).abs() < 1e-12);
        // Its mean is (low + mode + high) / 3 = 25 / 3.
        let n = 100_000;
        let mean: f64 = (0..n)
            .map(|i| r.quantile((i as f64 + 0.5) / n as f64))
            .sum::<f64>()
            / n as f64;
        assert!((mean - 25.0 / 3.0).abs() < 1e-3, "{mean}");
    }

    #[test]
    fn a_truncated_normal_stays_in_its_range_around_its_mean() {
        let r = risk(
            -0.1,
            0.1,
            Shape::Normal {
                mean: 0.0,
                sd: 0.04,
            },
        );
        assert!(
            r.quantile(0.5).abs() < 1e-12,
            "symmetric: the median is the mean"
        );
        assert_eq!(r.quantile(0.0), -0.1);
        assert_eq!(r.quantile(1.0), 0.1);
        // Untruncated, the 84.13th percentile is one sd above the mean;
        // truncated at 2.5 sd on each side, F(x) = (Phi(x) - Phi(-2.5)) /
        // (1 - 2 Phi(-2.5)): at x = 1 sd, (0.841345 - 0.006210) / 0.987581.
        let u = (0.841_344_746 - 0.006_209_665) / (1.0 - 2.0 * 0.006_209_665);
        assert!((r.quantile(u) - 0.04).abs() < 1e-6, "{}", r.quantile(u));
        // A mean far outside the range piles the draws at the near end.
        let far = risk(
            0.0,
            1.0,
            Shape::Normal {
                mean: 50.0,
                sd: 0.1,
            },
        );
        assert_eq!(far.quantile(0.3), 1.0);
    }
}
