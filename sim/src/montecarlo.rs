//! Monte Carlo: independent replications in parallel, and the statistics
//! that summarise them.
//!
//! Replication `i` of a run with seed `s` gets the seed
//! [`replication_seed`]`(s, i)` and nothing else from the outside; results
//! are collected in replication order. So the summary is the same whatever
//! the number of threads.

use std::ops::Range;

use rayon::prelude::*;
use serde::Serialize;

use crate::engine::rng::replication_seed;

/// Why replications could not be run.
#[derive(Debug, thiserror::Error)]
pub enum MonteCarloError {
    /// The thread pool could not be built.
    #[error("cannot start {threads} worker threads: {reason}")]
    Threads {
        /// Threads asked for.
        threads: usize,
        /// The reason.
        reason: String,
    },
}

/// Runs `replications` replications of `run`, each given its index and its
/// own seed derived from `seed`, on `threads` threads (`None`: one per core).
/// Results come back in replication order.
pub fn replicate<T, F>(
    seed: u64,
    replications: u64,
    threads: Option<usize>,
    run: F,
) -> Result<Vec<T>, MonteCarloError>
where
    T: Send,
    F: Fn(u64, u64) -> T + Sync,
{
    replicate_range(seed, 0..replications, threads, run)
}

/// Runs the replications whose indices are in `indices` (a shard's part of
/// a run): replication `i` gets the seed [`replication_seed`]`(seed, i)`
/// whatever the range, so the replications of any split of `0..n` are
/// those of the whole run. Results come back in index order.
pub fn replicate_range<T, F>(
    seed: u64,
    indices: Range<u64>,
    threads: Option<usize>,
    run: F,
) -> Result<Vec<T>, MonteCarloError>
where
    T: Send,
    F: Fn(u64, u64) -> T + Sync,
{
    map_indices(indices, threads, |i| run(i, replication_seed(seed, i)))
}

/// Maps `work` over `indices` on `threads` threads (`None`: one per core),
/// results in index order.
pub fn map_indices<T, F>(
    indices: Range<u64>,
    threads: Option<usize>,
    work: F,
) -> Result<Vec<T>, MonteCarloError>
where
    T: Send,
    F: Fn(u64) -> T + Sync,
{
    let all = || -> Vec<T> { indices.clone().into_par_iter().map(&work).collect() };
    match threads {
        None => Ok(all()),
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| MonteCarloError::Threads {
                    threads: n,
                    reason: e.to_string(),
                })?;
            Ok(pool.install(all))
        }
    }
}

/// The normal quantile for a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// A proportion with its 95 % Wilson score interval (Wilson, "Probable
/// inference, the law of succession, and statistical inference", JASA 1927),
/// which stays inside [0, 1] and behaves at 0 and n successes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Proportion {
    /// Successes over trials.
    pub estimate: f64,
    /// Lower end of the 95 % interval.
    pub ci95_low: f64,
    /// Upper end of the 95 % interval.
    pub ci95_high: f64,
    /// Trials.
    pub trials: u64,
}

/// The Wilson interval for `successes` out of `trials` (all zero for no trials).
pub fn proportion(successes: u64, trials: u64) -> Proportion {
    if trials == 0 {
        return Proportion {
            estimate: 0.0,
            ci95_low: 0.0,
            ci95_high: 0.0,
            trials,
        };
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    Proportion {
        estimate: p,
        ci95_low: (centre - half).max(0.0),
        ci95_high: (centre + half).min(1.0),
        trials,
    }
}

/// A sample quantile with a distribution-free 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quantile {
    /// Which quantile, 0 to 1.
    pub p: f64,
    /// The sample quantile (nearest rank).
    pub value: f64,
    /// Lower end of the 95 % interval.
    pub ci95_low: f64,
    /// Upper end of the 95 % interval.
    pub ci95_high: f64,
}

/// The `p`-quantile of `values` with an order-statistic confidence interval:
/// the number of values below the true quantile is Binomial(n, p), so ranks
/// n p -+ 1.96 sqrt(n p (1 - p)) bracket it with about 95 % confidence
/// (normal approximation; Conover, *Practical Nonparametric Statistics*,
/// 3rd ed., section 3.2). `None` when `values` is empty; NaNs are ignored.
pub fn quantile(values: &[f64], p: f64) -> Option<Quantile> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let p = p.clamp(0.0, 1.0);
    let at = |rank: f64| sorted[(rank.max(1.0) as usize).min(n) - 1];
    let centre = n as f64 * p;
    let spread = Z95 * (n as f64 * p * (1.0 - p)).sqrt();
    Some(Quantile {
        p,
        value: at(centre.ceil()),
        ci95_low: at((centre - spread).floor()),
        ci95_high: at((centre + spread).ceil() + 1.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let run = |i: u64, seed: u64| seed.wrapping_mul(31).wrapping_add(i);
        let one = replicate(9, 500, Some(1), run).unwrap();
        let two = replicate(9, 500, Some(2), run).unwrap();
        let all = replicate(9, 500, None, run).unwrap();
        assert_eq!(one, two);
        assert_eq!(one, all);
        assert_eq!(one.len(), 500);
        assert_ne!(one, replicate(10, 500, Some(2), run).unwrap());
    }

    #[test]
    fn a_range_of_replications_is_that_part_of_the_whole_run() {
        let run = |i: u64, seed: u64| (i, seed);
        let whole = replicate(4, 10, Some(2), run).unwrap();
        let mut parts = replicate_range(4, 0..3, Some(1), run).unwrap();
        parts.extend(replicate_range(4, 3..3, None, run).unwrap());
        parts.extend(replicate_range(4, 3..10, Some(2), run).unwrap());
        assert_eq!(parts, whole);
        assert_eq!(parts[5], (5, replication_seed(4, 5)));
    }

    #[test]
    fn wilson_interval_matches_a_published_example() {
        // 81 successes of 263 trials: Wilson 95 % interval (0.2553, 0.3662)
        // (Newcombe, Statistics in Medicine 17, 1998, table I).
        let p = proportion(81, 263);
        assert!((p.ci95_low - 0.2553).abs() < 5e-4, "{p:?}");
        assert!((p.ci95_high - 0.3662).abs() < 5e-4, "{p:?}");
        let all = proportion(10, 10);
        assert!((all.ci95_high - 1.0).abs() < 1e-12);
        assert!(all.ci95_low > 0.69 && all.ci95_low < 0.73, "{all:?}");
        assert_eq!(proportion(0, 0).trials, 0);
    }

    #[test]
    fn quantile_interval_brackets_the_median() {
        let values: Vec<f64> = (1..=1000).map(f64::from).collect();
        let q = quantile(&values, 0.5).unwrap();
        assert_eq!(q.value, 500.0);
        // sqrt(1000 * 0.25) * 1.96 = 31: ranks 469 and 532.
        assert_eq!((q.ci95_low, q.ci95_high), (469.0, 532.0));
        let p90 = quantile(&values, 0.9).unwrap();
        assert_eq!(p90.value, 900.0);
        assert!(p90.ci95_low < 900.0 && p90.ci95_high > 900.0);
        assert!(quantile(&[], 0.5).is_none());
        assert_eq!(quantile(&[f64::NAN, 3.0], 0.5).unwrap().value, 3.0);
    }
}
