//! The one world: one hour of the nine-site TV spike (peak about 8,000
//! requests/s) with Amsterdam crashing at the peak, as a fluid and at
//! request level; and one diurnal week of the story estate as a fluid, the
//! length a migration plan runs per region.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use cutover::experiment::{Experiment, Fidelity};
use cutover::world::World;
use cutover_models::SimDuration;

fn scenarios() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn spike_with_crash_one_hour() -> Experiment {
    let file = scenarios().join("story/spike-ams-crash-hold.toml");
    let mut exp = Experiment::load(&file).expect("bundled experiment");
    exp.duration = SimDuration::from_secs(3600);
    exp
}

/// The story estate for seven simulated days under a diurnal load (3,600
/// requests/s on average, 40 % swing, peak at 20:00), 10 s ticks.
fn story_week_diurnal() -> Experiment {
    let estate = scenarios().join("story/estate.toml");
    let text = format!(
        "[experiment]\n\
         name = \"a diurnal week\"\n\
         estate = {estate:?}\n\
         seed = 1\n\
         duration = \"7d\"\n\
         tick = \"10s\"\n\
         [traffic]\n\
         base_rate = \"3600/s\"\n\
         diurnal_amplitude = 0.4\n\
         diurnal_peak = \"20h\"\n\
         [output]\n\
         timeline_interval = \"1h\"\n"
    );
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("week.toml");
    std::fs::write(&file, text).expect("experiment file");
    Experiment::load(&file).expect("week experiment")
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

fn story_week(c: &mut Criterion) {
    let week = story_week_diurnal();
    let mut group = c.benchmark_group("world_story_week_diurnal");
    group.sample_size(10);
    group.bench_function("fluid_10s_tick", |b| {
        b.iter(|| World::new(&week, 1).expect("settles").run())
    });
    group.finish();
}

criterion_group!(benches, nine_site_spike_with_crash, story_week);
criterion_main!(benches);
