//! Consolidation: packing the story's 7,000 VMs (`scenarios/pack/
//! platform.toml`) by first-fit and best-fit decreasing, and the whole
//! run (packing, every shared host's exact convolution and its drawn peak
//! hours) on one thread.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use cutover::pack::tenants::Class;
use cutover::pack::{run, PackScenario};
use cutover::scenario::Source;
use cutover_models::pack::{pack, Heuristic, Resources};

fn scenario() -> PackScenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/pack/platform.toml");
    let source = Source::read(&path).expect("the bundled sample");
    PackScenario::from_source(&source).expect("it validates")
}

/// Each class's VMs as packed items, with its hosts' capacity.
fn classes(s: &PackScenario) -> Vec<(Vec<Resources>, Resources)> {
    [Class::Shared, Class::Dedicated]
        .into_iter()
        .filter_map(|class| {
            let hosts = s.hosts(class)?;
            let items = s
                .tenants
                .iter()
                .filter(|t| t.class == class)
                .map(|t| Resources {
                    millicores: (t.cores * 1000.0).round() as u64,
                    memory_mib: t.memory_mib,
                })
                .collect();
            Some((items, hosts.capacity()))
        })
        .collect()
}

fn packing(c: &mut Criterion) {
    let s = scenario();
    let classes = classes(&s);
    let tenants: usize = classes.iter().map(|(items, _)| items.len()).sum();
    assert_eq!(tenants, 7_000);
    let mut group = c.benchmark_group("pack");
    for h in [Heuristic::FirstFitDecreasing, Heuristic::BestFitDecreasing] {
        group.bench_function(format!("{}_7000_tenants", h.name()), |b| {
            b.iter(|| {
                classes
                    .iter()
                    .map(|(items, cap)| pack(items, *cap, h).expect("every VM fits").len())
                    .sum::<usize>()
            })
        });
    }
    group.finish();
    let mut whole = c.benchmark_group("pack_run");
    whole.sample_size(10);
    whole.bench_function("platform_7000_tenants_1_thread", |b| {
        b.iter(|| {
            run::run(&s, s.seed, Some(1))
                .expect("a pool of one thread")
                .hosts
                .len()
        })
    });
    whole.finish();
}

criterion_group!(benches, packing);
criterion_main!(benches);
