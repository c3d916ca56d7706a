//! Latency distributions with fractional weights: the fluid records
//! expected numbers of requests, each tick's as a shifted exponential
//! (a base plus an Erlang C or M/M/1 tail), and the request level records
//! single requests.

use std::collections::VecDeque;
use std::sync::OnceLock;

/// Latencies with weights, in log-spaced buckets 1 % wide from 0.1 ms to
/// 1000 s (a weighted cousin of the engine's histogram: the fluid records
/// fractional request counts).
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    weights: Vec<f64>,
    total: f64,
    sum: f64,
    /// Recent latency distributions not yet spread into buckets: pods and
    /// ticks in the same state add to their weight.
    held: VecDeque<(f64, Option<WaitTail>, f64)>,
}

/// Distributions a [`LatencyHistogram`] holds before spreading the oldest.
const HELD: usize = 64;

const LAT_MIN_S: f64 = 1e-4;
const LAT_BUCKETS: usize = 1621;

/// An exponential tail is recorded as strata of its survival function,
/// from 1 down to 10^-4 in steps of 10^-1/32 (so a quantile in the tail is
/// within 0.8 % of the exponential's), each at its geometric-mean
/// survival, and a last stratum below 10^-4.
const TAIL_STRATA: i32 = 128;
/// Strata per decade of survival.
const STRATA_PER_DECADE: f64 = 32.0;

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> Self {
        LatencyHistogram {
            weights: vec![0.0; LAT_BUCKETS],
            total: 0.0,
            sum: 0.0,
            held: VecDeque::with_capacity(HELD),
        }
    }

    /// The bucket of `value` as defined: floor(log_1.01(value / 0.1 ms)),
    /// within the buckets. [`BucketIndex`] finds the same without a
    /// logarithm.
    fn bucket_by_log(value: f64) -> usize {
        if value <= LAT_MIN_S {
            return 0;
        }
        ((value / LAT_MIN_S).ln() / 1.01f64.ln())
            .floor()
            .min((LAT_BUCKETS - 1) as f64) as usize
    }

    /// Adds `weight` requests of latency `value` seconds.
    pub fn add(&mut self, value: f64, weight: f64) {
        if weight <= 0.0 || !value.is_finite() {
            return;
        }
        self.add_to(BucketIndex::get().bucket(value), value, weight);
    }

    /// Adds `weight` requests of latency `value` seconds to bucket `i`.
    fn add_to(&mut self, i: usize, value: f64, weight: f64) {
        self.weights[i] += weight;
        self.total += weight;
        self.sum += value * weight;
    }

    /// `weight` requests at `base` plus an Erlang C wait: with probability
    /// `p` an exponential wait at `rate` per second.
    pub fn add_with_tail(&mut self, base: f64, weight: f64, tail: Option<WaitTail>) {
        if let Some(h) = self.held.iter_mut().find(|h| h.0 == base && h.1 == tail) {
            h.2 += weight;
            return;
        }
        if self.held.len() >= HELD {
            if let Some((b, t, w)) = self.held.pop_front() {
                self.spread(b, w, t);
            }
        }
        self.held.push_back((base, tail, weight));
    }

    /// Spreads the held distributions into the buckets.
    fn release(&mut self) {
        for (b, t, w) in std::mem::take(&mut self.held) {
            self.spread(b, w, t);
        }
    }

    /// Spreads one distribution into the buckets.
    fn spread(&mut self, base: f64, weight: f64, tail: Option<WaitTail>) {
        match tail {
            Some((p, rate)) if p > 0.0 && rate > 0.0 => {
                self.add(base, weight * (1.0 - p));
                let index = BucketIndex::get();
                for &(x, mass) in strata() {
                    let (value, w) = (base + x / rate, weight * p * mass);
                    if w <= 0.0 || !value.is_finite() {
                        continue;
                    }
                    self.add_to(index.bucket(value), value, w);
                }
            }
            _ => self.add(base, weight),
        }
    }

    /// The mean latency, if any request was recorded.
    pub fn mean(&mut self) -> Option<f64> {
        self.release();
        (self.total > 0.0).then(|| self.sum / self.total)
    }

    /// Requests recorded (fractional in the fluid).
    pub fn total(&mut self) -> f64 {
        self.release();
        self.total
    }

    /// The q-quantile, if any request was recorded.
    pub fn quantile_opt(&mut self, q: f64) -> Option<f64> {
        (self.total() > 0.0).then(|| self.quantile(q))
    }

    /// The bucket midpoint holding the q-quantile (within 0.5 %); zero when
    /// nothing was recorded.
    pub fn quantile(&mut self, q: f64) -> f64 {
        self.release();
        if self.total <= 0.0 {
            return 0.0;
        }
        let goal = q.clamp(0.0, 1.0) * self.total;
        let mut acc = 0.0;
        for (i, w) in self.weights.iter().enumerate() {
            acc += w;
            if acc >= goal && *w > 0.0 {
                return LAT_MIN_S * 1.01f64.powf(i as f64 + 0.5);
            }
        }
        LAT_MIN_S * 1.01f64.powf(LAT_BUCKETS as f64 - 0.5)
    }

    /// Adds `other`'s weights to this histogram.
    pub fn merge(&mut self, other: &mut LatencyHistogram) {
        other.release();
        self.release();
        for (a, b) in self.weights.iter_mut().zip(&other.weights) {
            *a += b;
        }
        self.total += other.total;
        self.sum += other.sum;
    }

    /// Forgets everything recorded.
    pub fn clear(&mut self) {
        self.held.clear();
        self.weights.iter_mut().for_each(|w| *w = 0.0);
        self.total = 0.0;
        self.sum = 0.0;
    }
}

/// The tail strata: (-ln of the stratum's survival point, its mass).
fn strata() -> &'static [(f64, f64)] {
    static STRATA: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
    STRATA.get_or_init(|| {
        let survival = |j: i32| 10f64.powf(-f64::from(j) / STRATA_PER_DECADE);
        (0..=TAIL_STRATA)
            .map(|j| {
                let hi = survival(j);
                let lo = if j == TAIL_STRATA {
                    0.0
                } else {
                    survival(j + 1)
                };
                let point = if j == TAIL_STRATA {
                    hi * 0.5
                } else {
                    (hi * lo).sqrt()
                };
                (-point.ln(), hi - lo)
            })
            .collect()
    })
}

/// Bits of the mantissa that, with the exponent, name a cell: 128 cells
/// per octave, each less than 0.8 % wide, so that at most one bucket (1 %
/// wide) starts inside a cell.
const CELL_BITS: u32 = 7;
const CELL_SHIFT: u32 = 52 - CELL_BITS;

/// Finds a value's bucket without a logarithm, exactly as
/// [`LatencyHistogram::bucket_by_log`] does: a positive number's bits
/// increase with it, so its top bits name a cell of values whose buckets
/// are the bucket of the cell's lowest value or the next one, which a
/// comparison with that bucket's lowest value settles.
struct BucketIndex {
    /// The lowest value each bucket holds (the first's is minus infinity):
    /// the bucket of a value never decreases as the value grows, so each
    /// bucket holds one interval. Each is found from the bucket's nominal
    /// edge, 0.1 ms times 1.01^i, one floating-point number at a time, so
    /// the table agrees with the logarithm to the last bit.
    bounds: Vec<f64>,
    /// The cell of 0.1 ms.
    first_cell: u64,
    /// The bucket of each cell's lowest value, from `first_cell` up to the
    /// last bucket's cell; values in higher cells are in the last bucket.
    cells: Vec<u16>,
}

impl BucketIndex {
    /// The index, built once.
    fn get() -> &'static BucketIndex {
        static INDEX: OnceLock<BucketIndex> = OnceLock::new();
        INDEX.get_or_init(BucketIndex::build)
    }

    fn build() -> BucketIndex {
        let by_log = LatencyHistogram::bucket_by_log;
        let step = |v: f64, up: bool| {
            let bits = v.to_bits();
            f64::from_bits(if up { bits + 1 } else { bits - 1 })
        };
        let bounds: Vec<f64> = (0..LAT_BUCKETS)
            .map(|i| {
                if i == 0 {
                    return f64::NEG_INFINITY;
                }
                let mut v = LAT_MIN_S * 1.01f64.powi(i as i32);
                while by_log(v) >= i {
                    v = step(v, false);
                }
                while by_log(v) < i {
                    v = step(v, true);
                }
                v
            })
            .collect();
        let first_cell = LAT_MIN_S.to_bits() >> CELL_SHIFT;
        let last_cell = bounds[LAT_BUCKETS - 1].to_bits() >> CELL_SHIFT;
        let cells = (first_cell..=last_cell)
            .map(|c| by_log(f64::from_bits(c << CELL_SHIFT)) as u16)
            .collect();
        BucketIndex {
            bounds,
            first_cell,
            cells,
        }
    }

    /// The bucket of `value`.
    fn bucket(&self, value: f64) -> usize {
        if value <= LAT_MIN_S {
            return 0;
        }
        // Positive here, or NaN, whose bits lie above every cell's (the
        // logarithm puts NaN in the last bucket too).
        let cell = (value.to_bits() >> CELL_SHIFT) - self.first_cell;
        let Some(&b) = usize::try_from(cell).ok().and_then(|c| self.cells.get(c)) else {
            return LAT_BUCKETS - 1;
        };
        let b = usize::from(b);
        if b + 1 < LAT_BUCKETS && self.bounds[b + 1] <= value {
            b + 1
        } else {
            b
        }
    }
}

/// Probability of waiting and rate of the exponential wait.
pub type WaitTail = (f64, f64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_histogram_quantiles_respect_weights() {
        let mut h = LatencyHistogram::new();
        h.add(0.010, 98.0);
        h.add(0.500, 1.0);
        h.add(2.000, 1.0);
        let near = |a: f64, b: f64| (a / b - 1.0).abs() < 0.01;
        assert!(near(h.quantile(0.5), 0.010), "{}", h.quantile(0.5));
        assert!(near(h.quantile(0.99), 0.500));
        assert!(near(h.quantile(1.0), 2.000));
        assert!((h.mean().unwrap() - (0.98 + 0.5 + 2.0) / 100.0).abs() < 1e-12);
        h.clear();
        assert_eq!(h.quantile(0.5), 0.0);
        assert!(h.mean().is_none());
    }

    #[test]
    fn bucket_index_agrees_with_the_logarithm() {
        let index = BucketIndex::get();
        let by_log = LatencyHistogram::bucket_by_log;
        for i in 1..LAT_BUCKETS {
            let at = index.bounds[i];
            for v in [at, f64::from_bits(at.to_bits() - 1)] {
                assert_eq!(index.bucket(v), by_log(v), "{v}");
            }
            assert_eq!(index.bucket(at), i);
        }
        // Every cell's edges, values off the grid, and the edge cases.
        let cells = index.first_cell..index.first_cell + index.cells.len() as u64 + 2;
        for c in cells {
            let v = f64::from_bits(c << CELL_SHIFT);
            for v in [v, f64::from_bits(v.to_bits() - 1), v * 1.003] {
                assert_eq!(index.bucket(v), by_log(v), "{v}");
            }
        }
        for v in [-1.0, 0.0, 1e-9, LAT_MIN_S, 5e3, f64::INFINITY, f64::NAN] {
            assert_eq!(index.bucket(v), by_log(v), "{v}");
        }
    }

    #[test]
    fn a_spread_tail_fills_the_buckets_of_its_strata() {
        let tails = [
            (0.0, 1.0, 10.0),
            (0.013, 1.0, 77.0),
            (0.05, 0.2, 10.0),
            (0.0341, 0.37, 1234.5),
            (2e-5, 1.0, 1e6),
            (900.0, 0.9, 1e-3),
        ];
        for (base, p, rate) in tails {
            let mut walked = LatencyHistogram::new();
            walked.spread(base, 3.0, Some((p, rate)));
            // Each stratum's bucket from the logarithm.
            let mut direct = LatencyHistogram::new();
            let mut add = |v: f64, w: f64| {
                direct.weights[LatencyHistogram::bucket_by_log(v)] += w;
                direct.total += w;
                direct.sum += v * w;
            };
            add(base, 3.0 * (1.0 - p));
            for &(x, mass) in strata() {
                add(base + x / rate, 3.0 * p * mass);
            }
            assert_eq!(walked.weights, direct.weights, "{base} {p} {rate}");
            assert_eq!(walked.total.to_bits(), direct.total.to_bits());
            assert_eq!(walked.sum.to_bits(), direct.sum.to_bits());
        }
    }

    #[test]
    fn exponential_tail_quantiles_match_the_formula() {
        // M/M/1 time in system, rate 10/s: the q-quantile is -ln(1-q)/10.
        let mut h = LatencyHistogram::new();
        h.add_with_tail(0.0, 1000.0, Some((1.0, 10.0)));
        for q in [0.5, 0.9, 0.99, 0.999] {
            let want = -(1.0f64 - q).ln() / 10.0;
            let got = h.quantile(q);
            assert!((got / want - 1.0).abs() < 0.15, "q {q}: {got} vs {want}");
        }
        // Erlang C: waits with probability 0.2; the median is no wait.
        let mut h = LatencyHistogram::new();
        h.add_with_tail(0.05, 1.0, Some((0.2, 10.0)));
        assert!((h.quantile(0.5) / 0.05 - 1.0).abs() < 0.01);
        let want = 0.05 - (0.01f64 / 0.2).ln() / 10.0;
        assert!((h.quantile(0.99) / want - 1.0).abs() < 0.1);
    }
}
