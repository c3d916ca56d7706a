//! `cutover plan` on the world: one fluid run of the reference migration
//! (nine sites, one a week, over nine weeks), and Monte Carlo replications
//! of the game day (one move and a crash, one day) on one and on two
//! threads so the parallel speed-up can be read off.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use cutover::montecarlo::replicate;
use cutover::plan::{run, run_replication, Plan, PlanOutcome};

/// Replications timed in the scaling group.
const REPLICATIONS: u64 = 4;

/// Seed of the single run and of the replications.
const SEED: u64 = 1;

fn bundled(name: &str) -> Plan {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/story")
        .join(name);
    Plan::load(&file).expect("bundled plan")
}

/// What a replication is compared on: success, duration (s) and failed
/// requests, the floats by bit pattern.
fn key(outcome: &PlanOutcome) -> (bool, u64, u64) {
    (
        outcome.success(),
        outcome.duration_s.to_bits(),
        outcome.slo.failed.to_bits(),
    )
}

/// `REPLICATIONS` runs of `scenario` on `threads` threads.
fn replications(scenario: &Plan, threads: usize) -> Vec<PlanOutcome> {
    replicate(SEED, REPLICATIONS, Some(threads), |_, seed| {
        run_replication(scenario, seed).expect("plan run")
    })
    .expect("thread pool")
}

/// One full run of the plan; the scenario is loaded outside the timing.
fn single_run(c: &mut Criterion) {
    let scenario = bundled("plan-migration.toml");
    let mut group = c.benchmark_group("plan");
    group.sample_size(10);
    group.bench_function("plan_migration_9_regions_fluid", |b| {
        b.iter(|| run(&scenario, SEED).expect("plan run"))
    });
    group.finish();
}

/// Replications of the game day on one thread and on two; results are
/// checked equal first.
fn replication_scaling(c: &mut Criterion) {
    let scenario = bundled("plan-gameday.toml");
    let one: Vec<_> = replications(&scenario, 1).iter().map(key).collect();
    let two: Vec<_> = replications(&scenario, 2).iter().map(key).collect();
    assert_eq!(one, two, "replications differ between 1 and 2 threads");
    let mut group = c.benchmark_group("plan_gameday_replications_4");
    group.sample_size(10);
    for threads in [1, 2] {
        group.bench_function(format!("threads_{threads}"), |b| {
            b.iter(|| replications(&scenario, threads))
        });
    }
    group.finish();
}

criterion_group!(benches, single_run, replication_scaling);
criterion_main!(benches);
