//! Engine throughput: the bare event queue under the classic "hold" load,
//! the full M/M/c run (queue, random draws, model and statistics), and that
//! run against the same queue written by hand as one loop.

use std::collections::{BinaryHeap, VecDeque};
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use cutover::engine::{EventQueue, RngStreams};
use cutover::runs::mmc;
use cutover::scenario::MmcSpec;
use cutover_models::{SimDuration, SimTime};
use rand_distr::{Distribution, Exp};

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

/// The M/M/c workload of [`mmc_run`] written by hand, the way a minimal
/// event loop would: a `BinaryHeap` of (instant, sequence, event), a FIFO of
/// waiting customers, and one running sum. It draws from the same streams
/// in the same order and breaks ties the same way, so it sees the same
/// customers; it returns the mean wait in seconds, which must equal the
/// engine's. The yardstick the engine's overhead is measured against.
fn hand_written_mmc(spec: &MmcSpec, seed: u64) -> f64 {
    enum Kind {
        Arrival,
        /// A customer who arrived and started at the instants given leaves.
        Departure(SimTime, SimTime),
    }
    /// Ordered by instant, then scheduling order, earliest first.
    struct Event(SimTime, u64, Kind);
    impl PartialEq for Event {
        fn eq(&self, other: &Self) -> bool {
            (self.0, self.1) == (other.0, other.1)
        }
    }
    impl Eq for Event {}
    impl PartialOrd for Event {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Event {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            (other.0, other.1).cmp(&(self.0, self.1))
        }
    }
    let streams = RngStreams::new(seed);
    let (mut arrivals, mut services) = (
        streams.stream("mmc.arrivals"),
        streams.stream("mmc.service"),
    );
    let interarrival = Exp::new(spec.arrival_rate_per_s).expect("rate");
    let service = Exp::new(spec.service_rate_per_s).expect("rate");
    let draw = |rng: &mut _, d: &Exp<f64>| SimDuration::from_secs_f64(d.sample(rng));
    let mut heap = BinaryHeap::new();
    let mut seq = 0u64;
    let mut schedule = |heap: &mut BinaryHeap<_>, at: SimTime, kind: Kind| {
        heap.push(Event(at, seq, kind));
        seq += 1;
    };
    schedule(
        &mut heap,
        SimTime::ZERO + draw(&mut arrivals, &interarrival),
        Kind::Arrival,
    );
    let mut waiting: VecDeque<(SimTime, SimDuration)> = VecDeque::new();
    let (mut busy, mut departed, mut wait_sum) = (0u32, 0u64, 0.0);
    while departed < spec.customers {
        let Some(Event(now, _, kind)) = heap.pop() else {
            break;
        };
        match kind {
            Kind::Arrival => {
                let need = draw(&mut services, &service);
                if busy < spec.servers {
                    busy += 1;
                    schedule(&mut heap, now + need, Kind::Departure(now, now));
                } else {
                    waiting.push_back((now, need));
                }
                schedule(
                    &mut heap,
                    now + draw(&mut arrivals, &interarrival),
                    Kind::Arrival,
                );
            }
            Kind::Departure(arrived, started) => {
                departed += 1;
                wait_sum += (started - arrived).as_secs_f64();
                match waiting.pop_front() {
                    Some((at, need)) => schedule(&mut heap, now + need, Kind::Departure(at, now)),
                    None => busy -= 1,
                }
            }
        }
    }
    wait_sum / departed as f64
}

/// The engine's M/M/c run against [`hand_written_mmc`], alternating the two
/// so that a busy machine slows both alike; prints the median ratio of
/// their times (the engine's overhead: queue, timers, model, statistics).
fn engine_against_hand_written(c: &mut Criterion) {
    let spec = mmc_spec(1_000_000);
    let interval = SimDuration::from_secs(300);
    let engine_wait = mmc::run(&spec, 1, interval, &mut |_| {})
        .summary
        .mean_wait_s;
    let hand_wait = hand_written_mmc(&spec, 1);
    assert!(
        (engine_wait - hand_wait).abs() <= 1e-9 * hand_wait,
        "the two loops must see the same customers: {engine_wait} vs {hand_wait}"
    );
    let mut ratios = Vec::new();
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    group.bench_function("mmc_c16_1m_customers_against_hand_written", |b| {
        b.iter_custom(|iters| {
            let mut engine = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                black_box(hand_written_mmc(&spec, 1));
                let hand = start.elapsed();
                let start = Instant::now();
                black_box(mmc::run(&spec, 1, interval, &mut |_| {}).summary.events);
                let took = start.elapsed();
                ratios.push(took.as_secs_f64() / hand.as_secs_f64());
                engine += took;
            }
            engine
        })
    });
    group.finish();
    ratios.sort_by(f64::total_cmp);
    if let Some(median) = ratios.get(ratios.len() / 2) {
        println!(
            "engine/mmc_c16_1m_customers: {median:.3}x the hand-written loop (median of {} alternating pairs)",
            ratios.len()
        );
    }
}

criterion_group!(benches, hold, mmc_run, engine_against_hand_written);
criterion_main!(benches);
