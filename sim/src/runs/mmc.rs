//! The M/M/c queue run: Poisson arrivals and exponential service times drawn
//! from named streams, the [`MmcQueue`] state machine, and the statistics the
//! summary reports.

use cutover_models::queueing::{ErlangC, MmcQueue};
use cutover_models::{SimDuration, SimTime};
use rand_distr::{Distribution, Exp};
use serde::Serialize;

use crate::engine::stats::{
    Aggregation, BatchMeans, Histogram, MeanEstimate, TimeSeries, HISTOGRAM_RELATIVE_ERROR,
};
use crate::engine::{EventQueue, RngStreams};
use crate::scenario::MmcSpec;

#[derive(Clone, Copy, Debug)]
enum Event {
    Arrival,
    /// The named server finishes its customer.
    Departure(u32),
}

/// Columns of the M/M/c timeline.
pub const TIMELINE_COLUMNS: [(&str, Aggregation); 6] = [
    ("arrivals", Aggregation::Sum),
    ("departures", Aggregation::Sum),
    ("mean_wait_s", Aggregation::Mean),
    ("max_wait_s", Aggregation::Max),
    ("mean_queue_len", Aggregation::TimeAverage),
    ("utilisation", Aggregation::TimeAverage),
];
const COL_ARRIVALS: usize = 0;
const COL_DEPARTURES: usize = 1;
const COL_MEAN_WAIT: usize = 2;
const COL_MAX_WAIT: usize = 3;
const COL_QUEUE: usize = 4;
const COL_UTILISATION: usize = 5;

/// What an M/M/c run measured, beside the Erlang C values.
#[derive(Clone, Debug, Serialize)]
pub struct MmcSummary {
    /// Customers who departed (the run's stopping point).
    pub customers: u64,
    /// Events processed by the engine.
    pub events: u64,
    /// Simulated time at the last departure, seconds.
    pub simulated_s: f64,
    /// Mean time in queue, seconds.
    pub mean_wait_s: f64,
    /// 95 % confidence interval of the mean wait (batch means).
    pub mean_wait_s_ci95: [f64; 2],
    /// Mean time in system, seconds.
    pub mean_system_s: f64,
    /// 95 % confidence interval of the mean time in system (batch means).
    pub mean_system_s_ci95: [f64; 2],
    /// Time-average fraction of servers busy.
    pub utilisation: f64,
    /// Median wait, seconds (histogram, relative error below `quantile_relative_error`).
    pub wait_p50_s: f64,
    /// 95th percentile wait, seconds.
    pub wait_p95_s: f64,
    /// 99th percentile wait, seconds.
    pub wait_p99_s: f64,
    /// 99.9th percentile wait, seconds.
    pub wait_p999_s: f64,
    /// Fraction of customers who waited at all.
    pub prob_wait: f64,
    /// Time-average number of customers in the system (L).
    pub mean_in_system: f64,
    /// Arrivals per second over the run.
    pub observed_arrival_rate_per_s: f64,
    /// L / (lambda W): Little's law says 1.
    pub littles_law_ratio: f64,
    /// Bound on the relative error of the quantiles above.
    pub quantile_relative_error: f64,
    /// How the confidence intervals were computed.
    pub batch_means: BatchInfo,
    /// The closed-form values for the same queue.
    pub erlang_c: ErlangCValues,
}

/// How the batch-means intervals were formed.
#[derive(Clone, Debug, Serialize)]
pub struct BatchInfo {
    /// Number of complete batches.
    pub batches: usize,
    /// Customers per batch.
    pub batch_size: u64,
    /// Lag-1 autocorrelation of the batch means of the wait.
    pub wait_lag1_autocorrelation: Option<f64>,
}

/// Erlang C values for the scenario's queue.
#[derive(Clone, Debug, Serialize)]
pub struct ErlangCValues {
    /// Probability of waiting, C(c, a).
    pub prob_wait: f64,
    /// Mean time in queue, seconds.
    pub mean_wait_s: f64,
    /// Mean time in system, seconds.
    pub mean_system_s: f64,
    /// Utilisation lambda / (c mu).
    pub utilisation: f64,
    /// Median wait, seconds.
    pub wait_p50_s: f64,
    /// 95th percentile wait, seconds.
    pub wait_p95_s: f64,
    /// 99th percentile wait, seconds.
    pub wait_p99_s: f64,
    /// 99.9th percentile wait, seconds.
    pub wait_p999_s: f64,
}

impl ErlangCValues {
    fn from_formula(q: &ErlangC) -> Self {
        ErlangCValues {
            prob_wait: q.prob_wait,
            mean_wait_s: q.mean_wait_s(),
            mean_system_s: q.mean_system_s(),
            utilisation: q.utilisation(),
            wait_p50_s: q.wait_quantile_s(0.5),
            wait_p95_s: q.wait_quantile_s(0.95),
            wait_p99_s: q.wait_quantile_s(0.99),
            wait_p999_s: q.wait_quantile_s(0.999),
        }
    }
}

/// Everything an M/M/c run produces.
#[derive(Clone, Debug)]
pub struct MmcOutcome {
    /// The figures for `summary.json`.
    pub summary: MmcSummary,
    /// Fixed-interval series for `timeline.csv`.
    pub timeline: TimeSeries,
    /// Distribution of waits.
    pub waits: Histogram,
}

fn interval(e: &MeanEstimate) -> [f64; 2] {
    [
        e.ci95_low.unwrap_or(f64::NAN),
        e.ci95_high.unwrap_or(f64::NAN),
    ]
}

/// Runs the queue until `spec.customers` customers have departed.
/// `progress` is called now and then with the number departed so far.
pub fn run(
    spec: &MmcSpec,
    seed: u64,
    timeline_interval: SimDuration,
    progress: &mut dyn FnMut(u64),
) -> MmcOutcome {
    let formula = ErlangC::new(
        spec.servers,
        spec.arrival_rate_per_s,
        spec.service_rate_per_s,
    )
    .expect("validated scenario has a stable queue");
    let streams = RngStreams::new(seed);
    let mut arrival_rng = streams.stream("mmc.arrivals");
    let mut service_rng = streams.stream("mmc.service");
    let interarrival = Exp::new(spec.arrival_rate_per_s).expect("validated rate");
    let service = Exp::new(spec.service_rate_per_s).expect("validated rate");

    let mut queue = MmcQueue::new(spec.servers);
    let mut events: EventQueue<Event> = EventQueue::new();
    let batch_size = (spec.customers / u64::from(spec.confidence_batches)).max(1);
    let mut wait_batches = BatchMeans::new(batch_size);
    let mut system_batches = BatchMeans::new(batch_size);
    let mut waits = Histogram::new();
    let mut timeline = TimeSeries::new(timeline_interval, &TIMELINE_COLUMNS);
    let servers = f64::from(spec.servers);

    let draw = |rng: &mut _, d: &Exp<f64>| SimDuration::from_secs_f64(d.sample(rng));
    events.schedule_at(
        SimTime::ZERO + draw(&mut arrival_rng, &interarrival),
        Event::Arrival,
    );
    let (mut arrived, mut departed, mut waited) = (0u64, 0u64, 0u64);
    const PROGRESS_EVERY: u64 = 1 << 16;

    while departed < spec.customers {
        let Some((now, event)) = events.pop() else {
            break;
        };
        match event {
            Event::Arrival => {
                arrived += 1;
                timeline.add(now, COL_ARRIVALS, 1.0);
                let need = draw(&mut service_rng, &service);
                if let Some(start) = queue.arrive(now, need) {
                    events.schedule_at(start.departs_at, Event::Departure(start.server));
                }
                events.schedule_in(draw(&mut arrival_rng, &interarrival), Event::Arrival);
            }
            Event::Departure(server) => {
                let Some(left) = queue.depart(now, server) else {
                    continue;
                };
                if let Some(next) = left.next {
                    events.schedule_at(next.departs_at, Event::Departure(next.server));
                }
                let (at, wait) = (left.arrived, left.wait);
                departed += 1;
                let wait_s = wait.as_secs_f64();
                let system_s = (now - at).as_secs_f64();
                if wait > SimDuration::ZERO {
                    waited += 1;
                }
                waits.record(wait_s);
                wait_batches.push(wait_s);
                system_batches.push(system_s);
                timeline.add_all(
                    now,
                    &[
                        (COL_DEPARTURES, 1.0),
                        (COL_MEAN_WAIT, wait_s),
                        (COL_MAX_WAIT, wait_s),
                    ],
                );
                if departed % PROGRESS_EVERY == 0 {
                    progress(departed);
                }
            }
        }
        timeline.set(now, COL_QUEUE, queue.queued() as f64);
        timeline.set(now, COL_UTILISATION, f64::from(queue.busy()) / servers);
    }
    progress(departed);
    let end = events.now();
    timeline.finish(end);

    let wait_est = wait_batches.estimate().expect("at least one customer");
    let system_est = system_batches.estimate().expect("at least one customer");
    let simulated_s = end.as_secs_f64();
    let observed_rate = arrived as f64 / simulated_s;
    let utilisation = timeline
        .overall_time_average(COL_UTILISATION)
        .unwrap_or(0.0);
    let mean_queue = timeline.overall_time_average(COL_QUEUE).unwrap_or(0.0);
    let mean_in_system = mean_queue + utilisation * servers;
    let q = |p| waits.quantile(p).unwrap_or(0.0);
    MmcOutcome {
        summary: MmcSummary {
            customers: departed,
            events: events.processed(),
            simulated_s,
            mean_wait_s: wait_est.mean,
            mean_wait_s_ci95: interval(&wait_est),
            mean_system_s: system_est.mean,
            mean_system_s_ci95: interval(&system_est),
            utilisation,
            wait_p50_s: q(0.5),
            wait_p95_s: q(0.95),
            wait_p99_s: q(0.99),
            wait_p999_s: q(0.999),
            prob_wait: waited as f64 / departed as f64,
            mean_in_system,
            observed_arrival_rate_per_s: observed_rate,
            littles_law_ratio: mean_in_system / (observed_rate * system_est.mean),
            quantile_relative_error: HISTOGRAM_RELATIVE_ERROR,
            batch_means: BatchInfo {
                batches: wait_est.batches,
                batch_size,
                wait_lag1_autocorrelation: wait_est.lag1_autocorrelation,
            },
            erlang_c: ErlangCValues::from_formula(&formula),
        },
        timeline,
        waits,
    }
}
