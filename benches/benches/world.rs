//! The one world: one hour of the nine-site TV spike (peak about 8,000
//! requests/s) with Amsterdam crashing at the peak, as a fluid and at
//! request level.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use cutover::experiment::{Experiment, Fidelity};
use cutover::world::World;
use cutover_models::SimDuration;

fn spike_with_crash_one_hour() -> Experiment {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/story/spike-ams-crash-hold.toml");
    let mut exp = Experiment::load(&file).expect("bundled experiment");
    exp.duration = SimDuration::from_secs(3600);
    exp
}

fn nine_site_spike_with_crash(c: &mut Criterion) {
    let fluid = spike_with_crash_one_hour();
    let mut request = fluid.clone();
    request.fidelity = Fidelity::Request;
    let mut group = c.benchmark_group("world_nine_site_spike_crash_1h");
    group.sample_size(10);
    group.bench_function("fluid", |b| {
        b.iter(|| World::new(&fluid, 1).expect("settles").run())
    });
    group.bench_function("request_level", |b| {
        b.iter(|| World::new(&request, 1).expect("settles").run())
    });
    group.finish();
}

criterion_group!(benches, nine_site_spike_with_crash);
criterion_main!(benches);
