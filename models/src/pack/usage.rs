//! A tenant's CPU utilisation in a peak hour: the hour's mean use of the
//! cores it asked for, as a fraction from 0 to 1, with its distribution
//! over days. A VM cannot use more than the cores it has, so every
//! distribution here lives on [0, 1].

use serde::Serialize;

/// The standard normal's 95th percentile.
const Z95: f64 = 1.644_853_626_951_472_2;

/// A distribution of peak-hour utilisation on [0, 1].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Usage {
    /// A lognormal `exp(N(mu, sigma^2))` capped at 1 (the mass above 1 is
    /// at 1: a VM busy on all its cores).
    LogNormal {
        /// Mean of the underlying normal.
        mu: f64,
        /// Standard deviation of the underlying normal.
        sigma: f64,
    },
    /// Uniform between `low` and `high`.
    Uniform {
        /// Lower end.
        low: f64,
        /// Upper end (above `low`).
        high: f64,
    },
    /// Values with their probabilities, in increasing order of value (a
    /// two-point distribution, or an empirical one from a trace).
    Points {
        /// (value, probability), values increasing, probabilities summing to 1.
        points: Vec<(f64, f64)>,
    },
}

/// Why a distribution cannot be built.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn fraction(what: &str, v: f64) -> Result<f64, UsageError> {
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(UsageError(format!(
            "{what} is {v}; allowed: a fraction from 0 to 1"
        )))
    }
}

impl Usage {
    /// The lognormal with this mean and 95th percentile, before the cap at
    /// 1: `sigma` is the smaller root of `sigma^2 / 2 - z95 sigma +
    /// ln(p95 / mean) = 0` and `mu = ln(mean) - sigma^2 / 2`. A lognormal
    /// exists only for `mean < p95 <= mean x exp(z95^2 / 2)` (3.87 x the mean).
    pub fn lognormal_from_mean_p95(mean: f64, p95: f64) -> Result<Usage, UsageError> {
        let mean = fraction("the mean", mean)?;
        let p95 = fraction("the p95", p95)?;
        if mean <= 0.0 || p95 <= mean {
            return Err(UsageError(format!(
                "mean {mean} and p95 {p95}: allowed: 0 < mean < p95 <= 1"
            )));
        }
        let log_ratio = (p95 / mean).ln();
        let disc = Z95 * Z95 - 2.0 * log_ratio;
        if disc < 0.0 {
            return Err(UsageError(format!(
                "no lognormal has mean {mean} and p95 {p95}: allowed: p95 at most {:.3} x the mean; \
                 write the distribution as points(...) or a trace",
                (Z95 * Z95 / 2.0).exp()
            )));
        }
        let sigma = Z95 - disc.sqrt();
        Ok(Usage::LogNormal {
            mu: mean.ln() - sigma * sigma / 2.0,
            sigma,
        })
    }

    /// Uniform between `low` and `high`, both fractions, `low < high`.
    pub fn uniform(low: f64, high: f64) -> Result<Usage, UsageError> {
        let low = fraction("the low end", low)?;
        let high = fraction("the high end", high)?;
        if low >= high {
            return Err(UsageError(format!(
                "uniform({low}, {high}): allowed: low < high"
            )));
        }
        Ok(Usage::Uniform { low, high })
    }

    /// Values with weights (each value a fraction, each weight above 0);
    /// the weights are normalised to probabilities and equal values merged.
    pub fn points(pairs: &[(f64, f64)]) -> Result<Usage, UsageError> {
        if pairs.is_empty() {
            return Err(UsageError("no points; allowed: at least one value".into()));
        }
        let mut total = 0.0;
        for &(v, w) in pairs {
            fraction("a value", v)?;
            if !(w.is_finite() && w > 0.0) {
                return Err(UsageError(format!("weight {w}; allowed: a number above 0")));
            }
            total += w;
        }
        let mut sorted: Vec<(f64, f64)> = pairs.iter().map(|&(v, w)| (v, w / total)).collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut points: Vec<(f64, f64)> = Vec::with_capacity(sorted.len());
        for (v, p) in sorted {
            match points.last_mut() {
                Some(last) if last.0 == v => last.1 += p,
                _ => points.push((v, p)),
            }
        }
        Ok(Usage::Points { points })
    }

    /// `P(U <= x)`.
    pub fn cdf(&self, x: f64) -> f64 {
        if x >= 1.0 {
            return 1.0;
        }
        match self {
            Usage::LogNormal { mu, sigma } => {
                if x <= 0.0 {
                    0.0
                } else {
                    normal_cdf((x.ln() - mu) / sigma)
                }
            }
            Usage::Uniform { low, high } => ((x - low) / (high - low)).clamp(0.0, 1.0),
            Usage::Points { points } => points.iter().filter(|p| p.0 <= x).map(|p| p.1).sum(),
        }
    }

    /// `P(U < x)`: the same as [`Usage::cdf`] except at an atom (a point's
    /// value, or 1 for the capped lognormal).
    pub fn cdf_below(&self, x: f64) -> f64 {
        match self {
            _ if x > 1.0 => 1.0,
            Usage::LogNormal { mu, sigma } if x > 0.0 => normal_cdf((x.ln() - mu) / sigma),
            Usage::LogNormal { .. } => 0.0,
            Usage::Uniform { .. } => self.cdf(x),
            Usage::Points { points } => points.iter().filter(|p| p.0 < x).map(|p| p.1).sum(),
        }
    }

    /// The mean utilisation. For the capped lognormal, `E[min(X, 1)] =
    /// exp(mu + sigma^2 / 2) Phi(-(mu + sigma^2) / sigma) + P(X > 1)`.
    pub fn mean(&self) -> f64 {
        match self {
            Usage::LogNormal { mu, sigma } => {
                let below =
                    (mu + sigma * sigma / 2.0).exp() * normal_cdf(-(mu + sigma * sigma) / sigma);
                below + normal_cdf(mu / sigma)
            }
            Usage::Uniform { low, high } => (low + high) / 2.0,
            Usage::Points { points } => points.iter().map(|(v, p)| v * p).sum(),
        }
    }
}

/// The standard normal distribution function, `Phi(x) = erfc(-x / sqrt 2) / 2`.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// The complementary error function by the Chebyshev fit of Press et al.,
/// "Numerical Recipes in C", 2nd ed., section 6.2 (`erfcc`): fractional
/// error below 1.2e-7 everywhere.
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_matches_tables() {
        // Abramowitz and Stegun, table 26.1.
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.0) - 0.841_344_746).abs() < 1e-7);
        assert!((normal_cdf(-1.959_963_985) - 0.025).abs() < 1e-7);
        assert!((normal_cdf(Z95) - 0.95).abs() < 1e-7);
    }

    #[test]
    fn the_lognormal_fit_has_the_mean_and_p95_asked() {
        let u = Usage::lognormal_from_mean_p95(0.05, 0.15).unwrap();
        let Usage::LogNormal { mu, sigma } = u else {
            panic!("{u:?}")
        };
        assert!(((mu + sigma * sigma / 2.0).exp() - 0.05).abs() < 1e-12);
        assert!((u.cdf(0.15) - 0.95).abs() < 1e-6);
        // The cap at 1 takes a little off the mean (X above 1 counts as 1):
        // P(X > 1) is 1.2e-4 here, and the mean loses 3.3e-5.
        assert!(u.mean() < 0.05 && u.mean() > 0.05 - 1e-4, "{}", u.mean());
        assert!(Usage::lognormal_from_mean_p95(0.02, 0.2).is_err());
        assert!(Usage::lognormal_from_mean_p95(0.2, 0.1).is_err());
    }

    #[test]
    fn points_and_their_atoms() {
        let u = Usage::points(&[(0.8, 1.0), (0.1, 9.0)]).unwrap();
        assert_eq!(
            u,
            Usage::Points {
                points: vec![(0.1, 0.9), (0.8, 0.1)]
            }
        );
        assert!((u.cdf(0.1) - 0.9).abs() < 1e-15);
        assert_eq!(u.cdf_below(0.1), 0.0);
        assert!((u.mean() - 0.17).abs() < 1e-15);
        assert!(Usage::points(&[(1.5, 1.0)]).is_err());
        assert!(Usage::points(&[(0.5, 0.0)]).is_err());
    }

    #[test]
    fn the_capped_lognormal_has_an_atom_at_one() {
        let u = Usage::LogNormal {
            mu: 0.0,
            sigma: 1.0,
        };
        // Half the mass of exp(N(0, 1)) is above 1: it sits at 1.
        assert!((u.cdf_below(1.0) - 0.5).abs() < 1e-6);
        assert_eq!(u.cdf(1.0), 1.0);
        let uniform = Usage::uniform(0.2, 0.6).unwrap();
        assert!((uniform.cdf(0.3) - 0.25).abs() < 1e-12);
        assert!((uniform.mean() - 0.4).abs() < 1e-12);
    }
}
