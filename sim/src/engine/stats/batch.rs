//! Confidence intervals for the mean of a correlated sequence by
//! non-overlapping batch means (Law, *Simulation Modeling and Analysis*,
//! 5th ed., section 9.5.3).
//!
//! Successive waits in a busy queue are strongly correlated, so the naive
//! interval s / sqrt(n) is far too narrow. Splitting the sequence into k
//! long batches makes the batch means nearly independent; the interval is
//! then mean +- t(0.975, k-1) * sd(batch means) / sqrt(k). The lag-1
//! autocorrelation of the batch means is reported so that a reader can see
//! whether the batches were long enough (near zero is good).

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Accumulates a sequence in fixed-size batches.
#[derive(Clone, Debug)]
pub struct BatchMeans {
    batch_size: u64,
    in_batch: u64,
    batch_sum: f64,
    batch_means: Vec<f64>,
    total: u64,
    sum: f64,
}

/// A mean with its 95 % confidence interval.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MeanEstimate {
    /// Mean of every value pushed.
    pub mean: f64,
    /// Lower end of the 95 % confidence interval (`None` with fewer than two batches).
    pub ci95_low: Option<f64>,
    /// Upper end of the 95 % confidence interval.
    pub ci95_high: Option<f64>,
    /// Complete batches used for the interval.
    pub batches: usize,
    /// Values per batch.
    pub batch_size: u64,
    /// Lag-1 autocorrelation of the batch means (near zero: batches long enough).
    pub lag1_autocorrelation: Option<f64>,
}

impl BatchMeans {
    /// Batches of `batch_size` values (at least 1). Memory grows with the
    /// number of batches, n / batch_size, which the caller fixes.
    pub fn new(batch_size: u64) -> Self {
        BatchMeans {
            batch_size: batch_size.max(1),
            in_batch: 0,
            batch_sum: 0.0,
            batch_means: Vec::new(),
            total: 0,
            sum: 0.0,
        }
    }

    /// Adds the next value of the sequence.
    pub fn push(&mut self, value: f64) {
        self.total += 1;
        self.sum += value;
        self.batch_sum += value;
        self.in_batch += 1;
        if self.in_batch == self.batch_size {
            self.batch_means
                .push(self.batch_sum / self.batch_size as f64);
            self.batch_sum = 0.0;
            self.in_batch = 0;
        }
    }

    /// The mean and its interval, or `None` if nothing was pushed.
    pub fn estimate(&self) -> Option<MeanEstimate> {
        if self.total == 0 {
            return None;
        }
        let mean = self.sum / self.total as f64;
        let k = self.batch_means.len();
        let (mut low, mut high, mut lag1) = (None, None, None);
        if k >= 2 {
            let m = self.batch_means.iter().sum::<f64>() / k as f64;
            let dev: Vec<f64> = self.batch_means.iter().map(|x| x - m).collect();
            let var = dev.iter().map(|d| d * d).sum::<f64>() / (k - 1) as f64;
            let t = StudentsT::new(0.0, 1.0, (k - 1) as f64)
                .map(|d| d.inverse_cdf(0.975))
                .unwrap_or(f64::NAN);
            let half = t * (var / k as f64).sqrt();
            low = Some(mean - half);
            high = Some(mean + half);
            let denom: f64 = dev.iter().map(|d| d * d).sum();
            if denom > 0.0 {
                let num: f64 = dev.windows(2).map(|w| w[0] * w[1]).sum();
                lag1 = Some(num / denom);
            }
        }
        Some(MeanEstimate {
            mean,
            ci95_low: low,
            ci95_high: high,
            batches: k,
            batch_size: self.batch_size,
            lag1_autocorrelation: lag1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_matches_a_hand_computation() {
        // Batches of 2: means 1, 2, 3, 4 -> mean 2.5, sd 1.29099, t(0.975, 3) = 3.18245.
        let mut b = BatchMeans::new(2);
        for x in [0.5, 1.5, 2.0, 2.0, 3.0, 3.0, 4.5, 3.5] {
            b.push(x);
        }
        let e = b.estimate().unwrap();
        assert_eq!(e.batches, 4);
        assert!((e.mean - 2.5).abs() < 1e-12);
        let half = 3.182_446 * 1.290_994 / 2.0;
        assert!((e.ci95_high.unwrap() - (2.5 + half)).abs() < 1e-4);
        assert!((e.ci95_low.unwrap() - (2.5 - half)).abs() < 1e-4);
        // Deviations -1.5, -0.5, 0.5, 1.5: lag-1 = (0.75 - 0.25 + 0.75) / 5.
        assert!((e.lag1_autocorrelation.unwrap() - 0.25).abs() < 1e-12);
    }

    #[test]
    fn one_batch_gives_no_interval() {
        let mut b = BatchMeans::new(10);
        for _ in 0..15 {
            b.push(1.0);
        }
        let e = b.estimate().unwrap();
        assert_eq!(e.batches, 1);
        assert_eq!(e.ci95_low, None);
        assert!(BatchMeans::new(3).estimate().is_none());
    }
}
