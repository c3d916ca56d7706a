//! The compute layer: one hour of the nine-site TV spike (peak about
//! 8,000 requests/s), at request level and as a fluid.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use cutover::runs::compute::{run_with, Fidelity};
use cutover::scenario::{ModelSpec, Scenario};
use cutover_models::SimDuration;

fn edge_spike_one_hour() -> (cutover::scenario::compute::ComputeSpec, SimDuration) {
    let file =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/spike-edge-overflow.toml");
    let scenario = Scenario::load(&file).expect("bundled scenario");
    let ModelSpec::Compute(spec) = scenario.model else {
        panic!("a compute scenario");
    };
    let mut spec = *spec;
    spec.duration = SimDuration::from_secs(3600);
    (spec, scenario.timeline_interval)
}

fn nine_site_spike(c: &mut Criterion) {
    let (spec, interval) = edge_spike_one_hour();
    let mut group = c.benchmark_group("compute_nine_site_spike_1h");
    group.sample_size(10);
    group.bench_function("request_level", |b| {
        b.iter(|| run_with(&spec, interval, Fidelity::Request { seed: 1 }))
    });
    group.bench_function("fluid", |b| {
        b.iter(|| run_with(&spec, interval, Fidelity::Fluid))
    });
    group.finish();
}

criterion_group!(benches, nine_site_spike);
criterion_main!(benches);
