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
    /// ticks in alike states add to one (see [`Held`]).
    held: VecDeque<Held>,
}

/// Distributions a [`LatencyHistogram`] holds before spreading the oldest.
const HELD: usize = 64;

/// Bits of the mantissa that, with the exponent, name the cell of a held
/// distribution's figure: 1,024 cells per octave, so figures in one cell
/// are within 0.1 % of each other (a tenth of a bucket).
const HELD_CELL_BITS: u32 = 10;

/// A distribution held before it is spread: `weight` requests at `base`
/// plus `tail`. Distributions whose figures fall in the same cells are
/// held as one: the same one adds its weight; an alike one moves the
/// figures to the weighted means (base, waiting probability, and rate by
/// the mean wait), which keeps the mean latency and moves each latency of
/// either by less than 0.1 %: the base and the first tail stratum, the
/// tail's rate and the waiting probability are each in one cell, so every
/// stratum's latency (the first plus a multiple of 1 / rate) is too.
#[derive(Clone, Copy, Debug)]
struct Held {
    /// The figures' cells.
    key: [u64; 4],
    base: f64,
    tail: Option<WaitTail>,
    weight: f64,
    /// Sums over what was added of weight times base, times waiting
    /// probability, and times the mean wait (probability over rate).
    base_sum: f64,
    wait_sum: f64,
    scale_sum: f64,
}

impl Held {
    /// `weight` requests at `base` plus `tail` (a tail of no weight or
    /// rate is none: it spreads as none).
    fn new(base: f64, weight: f64, tail: Option<WaitTail>) -> Held {
        let tail = tail.filter(|&(p, rate)| p > 0.0 && rate > 0.0);
        let (p, rate) = tail.unwrap_or((0.0, 1.0));
        Held {
            key: Held::key(base, tail),
            base,
            tail,
            weight,
            base_sum: weight * base,
            wait_sum: weight * p,
            scale_sum: weight * p / rate,
        }
    }

    /// The cells of the figures that set the latencies: the base where
    /// some requests do not wait, the first tail stratum, the tail's rate
    /// and the waiting probability.
    fn key(base: f64, tail: Option<WaitTail>) -> [u64; 4] {
        let cell = |v: f64| v.to_bits() >> (52 - HELD_CELL_BITS);
        const NONE: u64 = u64::MAX;
        match tail {
            None => [cell(base), NONE, NONE, NONE],
            Some((p, rate)) => [
                if p < 1.0 { cell(base) } else { NONE },
                cell(base + strata()[0].0 / rate),
                cell(rate),
                cell(p),
            ],
        }
    }

    /// Adds `other`, whose figures are in the same cells.
    fn absorb(&mut self, other: Held) {
        let same = other.base == self.base && other.tail == self.tail;
        self.weight += other.weight;
        self.base_sum += other.base_sum;
        self.wait_sum += other.wait_sum;
        self.scale_sum += other.scale_sum;
        if !same {
            self.base = self.base_sum / self.weight;
            self.tail = self
                .tail
                .map(|_| (self.wait_sum / self.weight, self.wait_sum / self.scale_sum));
        }
    }
}

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
        let tail = tail.filter(|&(p, rate)| p > 0.0 && rate > 0.0);
        if tail.is_none() {
            // One latency costs one bucket: nothing to gain by holding it.
            self.add(base, weight);
            return;
        }
        let new = Held::new(base, weight, tail);
        // The newest first: a stream's next tick is most often like its
        // last (keys are unique, so the order finds the same one).
        if let Some(h) = self.held.iter_mut().rev().find(|h| h.key == new.key) {
            h.absorb(new);
            return;
        }
        if self.held.len() >= HELD {
            if let Some(h) = self.held.pop_front() {
                self.spread(h.base, h.weight, h.tail);
            }
        }
        self.held.push_back(new);
    }

    /// Spreads the held distributions into the buckets.
    fn release(&mut self) {
        for h in std::mem::take(&mut self.held) {
            self.spread(h.base, h.weight, h.tail);
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

    /// Spreads what it holds into the buckets: from then on what it
    /// reports no longer depends on what it held (the world does this at
    /// each day's mark, see the world's `repeat` module).
    pub fn settle(&mut self) {
        self.release();
    }

    /// Adds `times` times what was recorded since `before`, an earlier
    /// settled copy of this settled histogram.
    pub fn repeat_since(&mut self, before: &LatencyHistogram, times: f64) {
        debug_assert!(self.held.is_empty() && before.held.is_empty());
        for (w, b) in self.weights.iter_mut().zip(&before.weights) {
            *w += (*w - b) * times;
        }
        self.total += (self.total - before.total) * times;
        self.sum += (self.sum - before.sum) * times;
    }

    /// Its state as numbers: the buckets, the sums and what it holds.
    pub fn state_words(&self, out: &mut Vec<u64>) {
        out.extend(self.weights.iter().map(|w| w.to_bits()));
        out.extend([
            self.total.to_bits(),
            self.sum.to_bits(),
            self.held.len() as u64,
        ]);
        for h in &self.held {
            out.extend(h.key);
            let (p, rate) = h.tail.unwrap_or((-1.0, -1.0));
            out.extend(
                [
                    h.base,
                    p,
                    rate,
                    h.weight,
                    h.base_sum,
                    h.wait_sum,
                    h.scale_sum,
                ]
                .map(f64::to_bits),
            );
        }
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
            // Strata below 0.1 ms, across it, and across the last bucket.
            (0.0, 1.0, 1e6),
            (5e-5, 0.5, 3e4),
            (400.0, 1.0, 0.01),
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
    fn alike_distributions_are_held_as_one_with_the_same_mean() {
        // Two ticks' tails 0.02 % apart merge; one 1 % away does not.
        let mut merged = LatencyHistogram::new();
        let mut apart = LatencyHistogram::new();
        let tails = [
            (0.0500, 2.0, Some((0.3, 80.0))),
            (0.05001, 1.0, Some((0.30002, 80.01))),
        ];
        for (base, weight, tail) in tails {
            merged.add_with_tail(base, weight, tail);
            apart.add_with_tail(base, weight, tail);
            apart.release();
        }
        assert_eq!(merged.held.len(), 1);
        merged.add_with_tail(0.0505, 1.0, Some((0.3, 80.0)));
        assert_eq!(merged.held.len(), 2);
        apart.add_with_tail(0.0505, 1.0, Some((0.3, 80.0)));
        let (m, a) = (merged.mean().unwrap(), apart.mean().unwrap());
        assert!((m / a - 1.0).abs() < 1e-12, "{m} vs {a}");
        for q in [0.5, 0.75, 0.95, 0.995] {
            let (m, a) = (merged.quantile(q), apart.quantile(q));
            assert!((m / a - 1.0).abs() < 0.011, "q {q}: {m} vs {a}");
        }
        assert!((merged.total() - apart.total()).abs() < 1e-12);
    }

    #[test]
    fn single_latencies_go_straight_to_their_buckets() {
        // Requests at request level: each is in its bucket at once.
        let mut h = LatencyHistogram::new();
        h.add_with_tail(0.1, 1.0, None);
        h.add_with_tail(0.102, 1.0, None);
        assert!(h.held.is_empty());
        let filled: Vec<usize> = (0..LAT_BUCKETS).filter(|&i| h.weights[i] > 0.0).collect();
        let by_log = LatencyHistogram::bucket_by_log;
        assert_eq!(filled, vec![by_log(0.1), by_log(0.102)]);
    }

    #[test]
    fn the_same_distribution_twice_is_held_exactly() {
        let mut twice = LatencyHistogram::new();
        twice.add_with_tail(0.02, 1.5, Some((1.0, 50.0)));
        twice.add_with_tail(0.02, 2.5, Some((1.0, 50.0)));
        let mut once = LatencyHistogram::new();
        once.add_with_tail(0.02, 4.0, Some((1.0, 50.0)));
        twice.release();
        once.release();
        assert_eq!(twice.weights, once.weights);
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
