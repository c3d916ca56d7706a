//! The probability that the tenants sharing a host ask, together, for more
//! CPU than the host has in a peak hour.
//!
//! Each tenant's demand is its peak-hour utilisation (a [`Usage`]) times
//! the cores it asked for; tenants are taken as independent (their peaks
//! are not correlated: an assumption that understates the risk of tenants
//! that peak together). The demand of each is put on a grid of `1 / b`
//! cores and the distributions are convolved exactly, keeping the bins up
//! to the host's capacity and the mass beyond it apart. Rounding each
//! demand up to the grid gives an upper bound of the true probability,
//! rounding down a lower bound; both are exact when every value lies on
//! the grid (points at multiples of `1 / b` cores).

use super::usage::Usage;
use serde::Serialize;

/// Which way a demand goes to the grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// To the grid point at or above: the sum is never below the true one.
    Up,
    /// To the grid point at or below.
    Down,
}

/// A host's contention: the probability that its tenants' demand exceeds
/// its cores in a peak hour, bracketed by the two roundings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Contention {
    /// With demands rounded up: the figure reported (never below the truth).
    pub probability: f64,
    /// With demands rounded down: a lower bound.
    pub lower_bound: f64,
    /// The tenants' expected demand, in cores.
    pub mean_demand_cores: f64,
}

/// A tenant's demand in bins of `1 / bins_per_core` cores: entry `k` is
/// the probability that the demand, rounded as `rounding` says, is `k`
/// bins.
pub fn demand_pmf(usage: &Usage, cores: f64, bins_per_core: u32, rounding: Rounding) -> Vec<f64> {
    let per_tenant = f64::from(bins_per_core) * cores;
    // The utilisation at grid point k: k bins over the tenant's bins.
    let at = |k: usize| k as f64 / per_tenant;
    match rounding {
        Rounding::Up => {
            let n = (per_tenant - 1e-9).ceil().max(0.0) as usize;
            let mut pmf = Vec::with_capacity(n + 1);
            pmf.push(usage.cdf(0.0));
            for k in 1..=n {
                pmf.push((usage.cdf(at(k)) - usage.cdf(at(k - 1))).max(0.0));
            }
            pmf
        }
        Rounding::Down => {
            let n = (per_tenant + 1e-9).floor() as usize;
            (0..=n)
                .map(|k| (usage.cdf_below(at(k + 1)) - usage.cdf_below(at(k))).max(0.0))
                .collect()
        }
    }
}

/// The probability that the sum of independent demands (each a pmf on the
/// same grid) is above `capacity_bins`: the distribution is convolved one
/// tenant at a time up to the capacity, and the mass that passes it is
/// added up apart, so that small probabilities keep their precision.
pub fn exceed_probability<'a>(
    pmfs: impl IntoIterator<Item = &'a [f64]>,
    capacity_bins: usize,
) -> f64 {
    let mut dist = vec![0.0; capacity_bins + 1];
    dist[0] = 1.0;
    let mut over = 0.0;
    let mut next = vec![0.0; capacity_bins + 1];
    for pmf in pmfs {
        // tail[k]: the probability of k bins or more.
        let mut tail = vec![0.0; pmf.len() + 1];
        for k in (0..pmf.len()).rev() {
            tail[k] = tail[k + 1] + pmf[k];
        }
        next.iter_mut().for_each(|x| *x = 0.0);
        for (i, &d) in dist.iter().enumerate() {
            if d == 0.0 {
                continue;
            }
            let room = capacity_bins - i;
            for (k, &p) in pmf.iter().enumerate().take(room + 1) {
                next[i + k] += d * p;
            }
            if room + 1 < pmf.len() {
                over += d * tail[room + 1];
            }
        }
        std::mem::swap(&mut dist, &mut next);
    }
    over.min(1.0)
}

/// The contention of a host of `capacity_cores` whose tenants are
/// `tenants` (each its usage and the cores it asked for), on a grid of
/// `bins_per_core` bins per core.
pub fn contention(
    tenants: &[(&Usage, f64)],
    capacity_cores: f64,
    bins_per_core: u32,
) -> Contention {
    let capacity_bins = (capacity_cores * f64::from(bins_per_core) + 1e-9).floor() as usize;
    let bound = |rounding| {
        let pmfs: Vec<Vec<f64>> = tenants
            .iter()
            .map(|&(u, c)| demand_pmf(u, c, bins_per_core, rounding))
            .collect();
        exceed_probability(pmfs.iter().map(Vec::as_slice), capacity_bins)
    };
    let asked: f64 = tenants.iter().map(|&(_, c)| c).sum();
    let (probability, lower_bound) = if asked <= capacity_cores {
        // Demand never exceeds what was asked.
        (0.0, 0.0)
    } else {
        (bound(Rounding::Up), bound(Rounding::Down))
    };
    Contention {
        probability,
        lower_bound,
        mean_demand_cores: tenants.iter().map(|&(u, c)| u.mean() * c).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(p: &[(f64, f64)]) -> Usage {
        Usage::points(p).unwrap()
    }

    /// Three tenants on a host of 2.5 cores: A asks 2 cores and uses 25 %
    /// or 75 % (0.5 or 1.5 cores, even odds); B asks 1 core, idle (0.8) or
    /// flat out (0.2); C asks 1 core and uses half (0.6) or all of it
    /// (0.4). The host is exceeded (strictly) only when A uses 1.5 and B
    /// 1: 3.0 or 3.5 cores, 0.5 x 0.2 = 0.10. A at 1.5 with C at 1 (2.5)
    /// and A at 0.5 with B and C at 1 (2.5) are exactly the capacity, not
    /// above it.
    #[test]
    fn three_two_point_tenants_match_the_hand_count() {
        let a = points(&[(0.25, 0.5), (0.75, 0.5)]);
        let b = points(&[(0.0, 0.8), (1.0, 0.2)]);
        let c = points(&[(0.5, 0.6), (1.0, 0.4)]);
        let tenants = [(&a, 2.0), (&b, 1.0), (&c, 1.0)];
        for bins in [2, 4, 32] {
            let got = contention(&tenants, 2.5, bins);
            assert!((got.probability - 0.10).abs() < 1e-12, "{bins}: {got:?}");
            assert!((got.lower_bound - 0.10).abs() < 1e-12, "{bins}: {got:?}");
        }
        let got = contention(&tenants, 2.5, 32);
        // 2 x 0.5 + 1 x 0.2 + 1 x 0.7
        assert!((got.mean_demand_cores - 1.9).abs() < 1e-12);
        // With 3.5 cores only 3.5 itself reaches it: nothing is above.
        assert_eq!(contention(&tenants, 3.5, 32).probability, 0.0);
        // With 2.0 cores: above unless A at 0.5 and B at 0 (0.4), A at 0.5,
        // B at 1 and C at 0.5 (2.0: 0.06), or A at 1.5, B at 0 and C at
        // 0.5 (2.0: 0.24): 1 - 0.70 = 0.30.
        assert!((contention(&tenants, 2.0, 32).probability - 0.30).abs() < 1e-12);
    }

    #[test]
    fn the_two_roundings_bracket_a_continuous_case() {
        // Two uniform(0, 1) tenants of 1 core on a host of 1.5 cores: the
        // sum exceeds 1.5 with probability 0.5 x 0.5^2 = 0.125.
        let u = Usage::uniform(0.0, 1.0).unwrap();
        let got = contention(&[(&u, 1.0), (&u, 1.0)], 1.5, 64);
        assert!(
            got.lower_bound <= 0.125 && 0.125 <= got.probability,
            "{got:?}"
        );
        assert!(got.probability - got.lower_bound < 0.05, "{got:?}");
    }

    #[test]
    fn a_pmf_sums_to_one_and_rounds_up_no_lower_than_down() {
        let u = Usage::lognormal_from_mean_p95(0.1, 0.3).unwrap();
        for rounding in [Rounding::Up, Rounding::Down] {
            let pmf = demand_pmf(&u, 1.5, 32, rounding);
            let total: f64 = pmf.iter().sum();
            assert!((total - 1.0).abs() < 1e-9, "{rounding:?}: {total}");
        }
        let up = demand_pmf(&u, 1.5, 32, Rounding::Up);
        let down = demand_pmf(&u, 1.5, 32, Rounding::Down);
        let mean = |p: &[f64]| p.iter().enumerate().map(|(k, x)| k as f64 * x).sum::<f64>();
        assert!(mean(&up) >= mean(&down));
    }
}
