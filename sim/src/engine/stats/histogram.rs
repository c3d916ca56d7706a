//! A log-linear histogram of non-negative values (HdrHistogram-style).
//!
//! A value's bucket is its binary exponent and the top `SUB_BITS` bits of its
//! mantissa, read straight from the IEEE-754 bits: no logarithm on the hot
//! path. Each power of two is split into 2^SUB_BITS equal buckets, so a
//! bucket spans at most 1/2^SUB_BITS of its lower bound and the midpoint
//! reported for a quantile is within 2^-(SUB_BITS+1) (0.39 %) of every value
//! in the bucket. Values below `MIN_VALUE` count as zero; values above
//! `MAX_VALUE` are clamped into the top bucket (and still counted exactly in
//! `max`). Two histograms merge by adding their buckets.

/// Mantissa bits per bucket: 2^7 = 128 buckets per power of two.
const SUB_BITS: u32 = 7;
const SUB_BUCKETS: usize = 1 << SUB_BITS;
/// Smallest binary exponent kept: 2^-30 is about 0.93 ns when values are seconds.
const MIN_EXP: i32 = -30;
/// Largest binary exponent kept: 2^40 is about 35,000 years in seconds.
const MAX_EXP: i32 = 40;
/// 2^MIN_EXP: smaller values count as zero.
const MIN_VALUE: f64 = 1.0 / (1u64 << -MIN_EXP) as f64;
/// Just below 2^(MAX_EXP + 1): larger values are clamped to it.
const MAX_VALUE: f64 = (1u64 << (MAX_EXP + 1)) as f64 * (1.0 - 1e-12);
const N_BUCKETS: usize = ((MAX_EXP - MIN_EXP + 1) as usize) * SUB_BUCKETS;

/// Bound on the relative error of any quantile this histogram reports.
pub const RELATIVE_ERROR: f64 = 1.0 / (2 * SUB_BUCKETS) as f64;

/// A mergeable histogram with bounded relative error.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    /// Counts for buckets `base .. base + counts.len()`.
    counts: Vec<u64>,
    base: usize,
    zeros: u64,
    total: u64,
    sum: f64,
    min: f64,
    max: f64,
}

fn bucket_of(value: f64) -> Option<usize> {
    if value.is_nan() || value < MIN_VALUE {
        return None;
    }
    let bits = value.min(MAX_VALUE).to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32 - 1023;
    let sub = ((bits >> (52 - SUB_BITS)) as usize) & (SUB_BUCKETS - 1);
    Some((exp - MIN_EXP) as usize * SUB_BUCKETS + sub)
}

/// The midpoint of bucket `index`.
fn bucket_mid(index: usize) -> f64 {
    let exp = (index / SUB_BUCKETS) as i32 + MIN_EXP;
    let sub = (index % SUB_BUCKETS) as f64;
    let scale = f64::powi(2.0, exp);
    scale * (1.0 + (sub + 0.5) / SUB_BUCKETS as f64)
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Histogram {
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            ..Default::default()
        }
    }

    /// Records one value. Negative and NaN values are recorded as zero.
    pub fn record(&mut self, value: f64) {
        let value = if value.is_nan() { 0.0 } else { value.max(0.0) };
        self.total += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        match bucket_of(value) {
            None => self.zeros += 1,
            Some(index) => self.bump(index, 1),
        }
    }

    fn bump(&mut self, index: usize, by: u64) {
        debug_assert!(index < N_BUCKETS);
        if self.counts.is_empty() {
            self.base = index;
            self.counts.push(0);
        } else if index < self.base {
            let grow = self.base - index;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.base = index;
        } else if index >= self.base + self.counts.len() {
            self.counts.resize(index - self.base + 1, 0);
        }
        self.counts[index - self.base] += by;
    }

    /// Adds every value recorded in `other` to this histogram.
    pub fn merge(&mut self, other: &Histogram) {
        for (offset, &count) in other.counts.iter().enumerate() {
            if count > 0 {
                self.bump(other.base + offset, count);
            }
        }
        self.zeros += other.zeros;
        self.total += other.total;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Number of values recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Exact mean of the values recorded, or `None` if empty.
    pub fn mean(&self) -> Option<f64> {
        (self.total > 0).then(|| self.sum / self.total as f64)
    }

    /// Exact smallest value recorded.
    pub fn min(&self) -> Option<f64> {
        (self.total > 0).then_some(self.min)
    }

    /// Exact largest value recorded.
    pub fn max(&self) -> Option<f64> {
        (self.total > 0).then_some(self.max)
    }

    /// The `q`-quantile (nearest rank), within [`RELATIVE_ERROR`] of the
    /// exact sample quantile; `None` if empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        if rank <= self.zeros {
            return Some(self.min.clamp(0.0, MIN_VALUE));
        }
        let mut seen = self.zeros;
        for (offset, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(bucket_mid(self.base + offset).clamp(self.min, self.max));
            }
        }
        Some(self.max)
    }

    /// The fraction of recorded values above `threshold` (counted by bucket,
    /// so exact except inside the bucket that holds `threshold`).
    pub fn fraction_above(&self, threshold: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let above: u64 = match bucket_of(threshold) {
            None => self.total - self.zeros,
            Some(index) => self
                .counts
                .iter()
                .enumerate()
                .filter(|(offset, _)| self.base + offset > index)
                .map(|(_, c)| c)
                .sum(),
        };
        above as f64 / self.total as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn exact_quantile(sorted: &[f64], q: f64) -> f64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
        sorted[rank - 1]
    }

    #[test]
    fn empty_histogram_has_no_quantiles() {
        let h = Histogram::new();
        assert_eq!(h.quantile(0.5), None);
        assert_eq!(h.mean(), None);
    }

    #[test]
    fn zeros_are_counted_and_reported_as_zero() {
        let mut h = Histogram::new();
        for _ in 0..60 {
            h.record(0.0);
        }
        for _ in 0..40 {
            h.record(2.0);
        }
        assert_eq!(h.quantile(0.5), Some(0.0));
        assert_eq!(h.quantile(0.6), Some(0.0));
        let p61 = h.quantile(0.61).unwrap();
        assert!((p61 - 2.0).abs() <= 2.0 * RELATIVE_ERROR);
        assert!((h.fraction_above(1.0) - 0.4).abs() < 1e-12);
    }

    proptest! {
        #[test]
        fn quantiles_are_within_the_relative_error_bound(
            values in proptest::collection::vec(1e-6f64..1e6, 1..2000),
            q in 0.0f64..1.0,
        ) {
            let mut h = Histogram::new();
            for &v in &values { h.record(v); }
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let exact = exact_quantile(&sorted, q);
            let got = h.quantile(q).unwrap();
            prop_assert!((got - exact).abs() <= exact * RELATIVE_ERROR * 1.000001,
                "q={q} exact={exact} got={got}");
        }

        #[test]
        fn merging_equals_recording_everything_in_one(
            a in proptest::collection::vec(0.0f64..1e4, 0..500),
            b in proptest::collection::vec(0.0f64..1e-2, 0..500),
        ) {
            let mut ha = Histogram::new();
            let mut hb = Histogram::new();
            let mut all = Histogram::new();
            for &v in &a { ha.record(v); all.record(v); }
            for &v in &b { hb.record(v); all.record(v); }
            ha.merge(&hb);
            prop_assert_eq!(ha.count(), all.count());
            for q in [0.0, 0.5, 0.9, 0.99, 0.999, 1.0] {
                prop_assert_eq!(ha.quantile(q), all.quantile(q));
            }
        }
    }

    #[test]
    fn memory_is_bounded_whatever_the_number_of_samples() {
        let mut h = Histogram::new();
        let mut x = 1e-9;
        while x < 1e12 {
            h.record(x);
            x *= 1.01;
        }
        assert!(h.counts.len() <= N_BUCKETS);
        let before = h.counts.len();
        for i in 0..1_000_000 {
            h.record(1.0 + (i % 1000) as f64);
        }
        assert_eq!(h.counts.len(), before);
    }
}
