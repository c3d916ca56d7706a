//! The simulator against closed forms: Erlang C for the M/M/c queue, and
//! Little's law, which holds for any stable queue.

use cutover::runs::mmc::{self, MmcSummary};
use cutover::scenario::MmcSpec;
use cutover_models::queueing::ErlangC;
use cutover_models::SimDuration;

fn spec(servers: u32, lambda: f64, customers: u64) -> MmcSpec {
    MmcSpec {
        servers,
        arrival_rate_per_s: lambda,
        service_rate_per_s: 1.0,
        customers,
        confidence_batches: 20,
    }
}

fn run(spec: &MmcSpec, seed: u64) -> MmcSummary {
    mmc::run(spec, seed, SimDuration::from_secs(60), &mut |_| {}).summary
}

/// The reference queue's shape (c = 16, utilisation 0.9) at a tenth of the
/// size: averaged over ten seeds, the mean wait lies within 4 % of Erlang C,
/// and the batch-means intervals cover the true value for most seeds (at
/// 95 % nominal coverage, fewer than 7 of 10 would happen with probability
/// about 0.1 %).
#[test]
fn mean_wait_matches_erlang_c_over_seeds() {
    let s = spec(16, 14.4, 100_000);
    let truth = ErlangC::new(16, 14.4, 1.0).unwrap().mean_wait_s();
    let runs: Vec<MmcSummary> = (1..=10).map(|seed| run(&s, seed)).collect();
    let mean = runs.iter().map(|r| r.mean_wait_s).sum::<f64>() / runs.len() as f64;
    assert!(
        (mean - truth).abs() / truth < 0.04,
        "mean over seeds {mean} vs Erlang C {truth}"
    );
    let covered = runs
        .iter()
        .filter(|r| r.mean_wait_s_ci95[0] <= truth && truth <= r.mean_wait_s_ci95[1])
        .count();
    assert!(covered >= 7, "only {covered} of 10 intervals cover {truth}");
    for r in &runs {
        assert_eq!(r.customers, 100_000);
        assert!(
            (r.utilisation - 0.9).abs() < 0.02,
            "utilisation {}",
            r.utilisation
        );
    }
}

/// A lighter queue converges fast, so one run is held tightly: mean wait
/// within 5 %, probability of waiting and the p95 wait within 3 % of the
/// closed forms.
#[test]
fn light_queue_matches_erlang_c_in_one_run() {
    let s = spec(4, 2.8, 200_000);
    let q = ErlangC::new(4, 2.8, 1.0).unwrap();
    let r = run(&s, 11);
    let rel = |a: f64, b: f64| (a - b).abs() / b;
    assert!(
        rel(r.mean_wait_s, q.mean_wait_s()) < 0.05,
        "{} vs {}",
        r.mean_wait_s,
        q.mean_wait_s()
    );
    assert!(
        rel(r.prob_wait, q.prob_wait) < 0.03,
        "{} vs {}",
        r.prob_wait,
        q.prob_wait
    );
    assert!(
        rel(r.wait_p95_s, q.wait_quantile_s(0.95)) < 0.03,
        "{} vs {}",
        r.wait_p95_s,
        q.wait_quantile_s(0.95)
    );
    assert!(rel(r.mean_system_s, q.mean_system_s()) < 0.02);
}

/// Little's law: the time-average number in the system equals the arrival
/// rate times the mean time in system, L = lambda W, for every seed and load.
#[test]
fn littles_law_holds() {
    for (servers, lambda, seed) in [(1, 0.5, 1), (4, 3.0, 2), (16, 14.4, 3)] {
        let r = run(&spec(servers, lambda, 50_000), seed);
        assert!(
            (r.littles_law_ratio - 1.0).abs() < 0.01,
            "c={servers} lambda={lambda}: L / (lambda W) = {}",
            r.littles_law_ratio
        );
        let l_from_parts = r.observed_arrival_rate_per_s * r.mean_system_s;
        assert!((r.mean_in_system - l_from_parts).abs() / l_from_parts < 0.01);
    }
}
