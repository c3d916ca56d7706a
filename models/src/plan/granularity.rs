//! How finely a BGP knob can split a region's traffic.
//!
//! A BGP change (announcing from a new site, prepending) moves whole
//! networks: every user behind an eyeball network follows that network's
//! best path. So the share a stage asks for is reached only as closely as
//! the networks' own shares allow; an L7 weight, by contrast, is exact.

/// The shares of a region's traffic held by its eyeball networks.
#[derive(Debug, Clone, PartialEq)]
pub struct Networks {
    /// Shares, largest first, summing to 1.
    shares: Vec<f64>,
}

impl Networks {
    /// `count` networks whose shares fall as `1 / rank^exponent` (Zipf);
    /// `None` when `count` is zero or the exponent is negative or not finite.
    pub fn zipf(count: usize, exponent: f64) -> Option<Self> {
        if count == 0 || !exponent.is_finite() || exponent < 0.0 {
            return None;
        }
        let raw: Vec<f64> = (1..=count).map(|k| (k as f64).powf(-exponent)).collect();
        let total: f64 = raw.iter().sum();
        Some(Networks {
            shares: raw.into_iter().map(|w| w / total).collect(),
        })
    }

    /// The smallest share one network holds.
    pub fn smallest(&self) -> f64 {
        self.shares.last().copied().unwrap_or(0.0)
    }

    /// The share, nearest to `target`, that moving some set of whole
    /// networks reaches, to within 0.01 % (shares are counted in steps of
    /// 1/10,000; the nearer of two equally near sums is the smaller).
    pub fn reachable(&self, target: f64) -> f64 {
        const STEPS: usize = 10_000;
        let target = target.clamp(0.0, 1.0);
        let mut reached = vec![false; STEPS + 1];
        reached[0] = true;
        for &w in &self.shares {
            let units = ((w * STEPS as f64).round() as usize).max(1);
            for sum in (units..=STEPS).rev() {
                if reached[sum - units] {
                    reached[sum] = true;
                }
            }
        }
        // Rounding may leave the full set a step short of 1: all networks is 1.
        if let Some(top) = reached.iter().rposition(|&r| r) {
            reached[top] = false;
            reached[STEPS] = true;
        }
        let want = target * STEPS as f64;
        let best = (0..=STEPS)
            .filter(|&s| reached[s])
            .min_by(|&a, &b| {
                let da = (a as f64 - want).abs();
                let db = (b as f64 - want).abs();
                da.total_cmp(&db).then(a.cmp(&b))
            })
            .unwrap_or(0);
        best as f64 / STEPS as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_shares_sum_to_one_and_fall_with_rank() {
        let n = Networks::zipf(40, 1.0).unwrap();
        assert!((n.shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(n.shares.windows(2).all(|w| w[0] > w[1]));
        // 1 / (40 H_40) with H_40 = 4.2785: 0.584 %.
        assert!((n.smallest() - 1.0 / (40.0 * 4.278_543)).abs() < 1e-6);
        assert!(Networks::zipf(0, 1.0).is_none());
        assert!(Networks::zipf(3, f64::NAN).is_none());
    }

    #[test]
    fn whole_networks_bound_what_a_stage_reaches() {
        // Two networks of 2/3 and 1/3: 1 % can only be 0 (nearer than 1/3).
        let n = Networks::zipf(2, 1.0).unwrap();
        assert_eq!(n.reachable(0.01), 0.0);
        assert!((n.reachable(0.30) - 1.0 / 3.0).abs() < 1e-4);
        assert!((n.reachable(0.60) - 2.0 / 3.0).abs() < 1e-4);
        assert_eq!(n.reachable(1.0), 1.0);
        // Equal networks: steps of 1/10.
        let n = Networks::zipf(10, 0.0).unwrap();
        assert!((n.reachable(0.26) - 0.3).abs() < 1e-12);
        assert!((n.reachable(0.24) - 0.2).abs() < 1e-12);
    }

    #[test]
    fn many_small_networks_track_the_target() {
        let n = Networks::zipf(200, 1.0).unwrap();
        for t in [0.01, 0.05, 0.1, 0.25, 0.5, 0.75] {
            assert!((n.reachable(t) - t).abs() <= 1e-4, "target {t}");
        }
    }
}
