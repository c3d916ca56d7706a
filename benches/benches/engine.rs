//! Engine throughput: the bare event queue under the classic "hold" load,
//! and the full M/M/c run (queue, random draws, model and statistics).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use cutover::engine::EventQueue;
use cutover::runs::mmc;
use cutover::scenario::MmcSpec;
use cutover_models::{SimDuration, SimTime};

/// Hold model: keep `pending` events queued; each pop schedules one more at
/// a pseudo-random offset. Measures the queue alone.
fn hold(c: &mut Criterion) {
    const POPS: u64 = 1_000_000;
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(POPS));
    for pending in [16u64, 1024] {
        group.bench_function(format!("hold_{pending}_pending"), |b| {
            b.iter_batched(
                || {
                    let mut q: EventQueue<u64> = EventQueue::new();
                    for i in 0..pending {
                        q.schedule_at(SimTime::from_nanos(i * 7919 % 1000), i);
                    }
                    q
                },
                |mut q| {
                    let mut x: u64 = 0x9E37_79B9;
                    for _ in 0..POPS {
                        let (_, e) = q.pop().expect("queue never empties");
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        q.schedule_in(SimDuration::from_nanos(x % 1_000_000), e);
                    }
                    black_box(q.processed())
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

fn mmc_spec(customers: u64) -> MmcSpec {
    MmcSpec {
        servers: 16,
        arrival_rate_per_s: 14.4,
        service_rate_per_s: 1.0,
        customers,
        confidence_batches: 20,
    }
}

/// The M/M/c run of `scenarios/mmc.toml` without file output; throughput
/// is in engine events (arrivals plus departures).
fn mmc_run(c: &mut Criterion) {
    let spec = mmc_spec(1_000_000);
    let interval = SimDuration::from_secs(300);
    let events = mmc::run(&spec, 1, interval, &mut |_| {}).summary.events;
    let mut group = c.benchmark_group("engine");
    group.sample_size(20);
    group.throughput(Throughput::Elements(events));
    group.bench_function("mmc_c16_1m_customers", |b| {
        b.iter(|| black_box(mmc::run(&spec, 1, interval, &mut |_| {}).summary.events))
    });
    group.finish();
}

criterion_group!(benches, hold, mmc_run);
criterion_main!(benches);
