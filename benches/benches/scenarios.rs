//! Whole scenarios through the library's drivers, output files included:
//! what the command line runs, short of printing.

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::PathBuf;

use cutover::drive;
use cutover::report::OutputDir;
use cutover::scenario::Scenario;

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name)
}

/// `cutover run scenarios/mmc.toml --out DIR --force`, through
/// [`cutover::drive::mmc::run`].
fn run_mmc(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join("mmc");
    let file = scenario("mmc.toml");
    let mut group = c.benchmark_group("scenarios");
    group.sample_size(10);
    group.bench_function("cutover_run_mmc", |b| {
        b.iter(|| {
            let scenario = Scenario::load(&file).expect("the bundled scenario loads");
            let dir = OutputDir::create(&out, true).expect("the output directory");
            let run = drive::mmc::run(&file, &scenario, scenario.seed, dir, &mut |_| {})
                .expect("the run writes its directory");
            assert!(run.outcome.summary.customers > 0);
        })
    });
    group.finish();
}

criterion_group!(benches, run_mmc);
criterion_main!(benches);
