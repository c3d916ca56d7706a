//! `cutover plan` on the world: one fluid run of the reference migration
//! (nine sites, one a week, over nine weeks), two of its replications on
//! two threads (1,000 take 500 times as long), and Monte Carlo
//! replications of the game day (one move and a crash, one day) on one
//! and on two threads so the parallel speed-up can be read off.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use cutover::montecarlo::replicate;
use cutover::plan::{run, run_replication, Plan, PlanOutcome};

/// Replications timed in the scaling group.
const REPLICATIONS: u64 = 4;

/// Replications of the reference migration timed on two threads.
const MIGRATION_REPLICATIONS: u64 = 2;

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

/// `count` replications of `scenario` on `threads` threads.
fn replications(scenario: &Plan, count: u64, threads: usize) -> Vec<PlanOutcome> {
    replicate(SEED, count, Some(threads), |_, seed| {
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

/// Replications of the reference migration on two threads, each drawing
/// its rent rise, exchange rate, labour and servers' lead times.
fn migration_replications(c: &mut Criterion) {
    let scenario = bundled("plan-migration.toml");
    let mut group = c.benchmark_group("plan_migration_replications_2");
    group.sample_size(10);
    group.bench_function("threads_2", |b| {
        b.iter(|| replications(&scenario, MIGRATION_REPLICATIONS, 2))
    });
    group.finish();
}

/// Replications of the game day on one thread and on two; results are
/// checked equal first.
fn replication_scaling(c: &mut Criterion) {
    let scenario = bundled("plan-gameday.toml");
    let one: Vec<_> = replications(&scenario, REPLICATIONS, 1)
        .iter()
        .map(key)
        .collect();
    let two: Vec<_> = replications(&scenario, REPLICATIONS, 2)
        .iter()
        .map(key)
        .collect();
    assert_eq!(one, two, "replications differ between 1 and 2 threads");
    let mut group = c.benchmark_group("plan_gameday_replications_4");
    group.sample_size(10);
    for threads in [1, 2] {
        group.bench_function(format!("threads_{threads}"), |b| {
            b.iter(|| replications(&scenario, REPLICATIONS, threads))
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    single_run,
    migration_replications,
    replication_scaling
);
criterion_main!(benches);
