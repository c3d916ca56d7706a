//! One region's compute through a traffic spike, as a fluid: each tick the
//! demand is spread over the ready pods, each pod serves as a
//! [`FluidPod`], metrics-server samples the pods' CPU, the [`Hpa`] syncs on
//! those samples, new pods wait for room on a node, start up and warm up,
//! and the cluster autoscaler (or nothing, on bare metal) adds nodes.
//!
//! Discrete control events (metric scrapes, HPA syncs, autoscaler scans)
//! run on the event queue; traffic advances in fixed ticks between them.
//!
//! Two fidelities share everything but the serving: the fluid moves
//! expected numbers of requests per tick through each [`FluidPod`]; the
//! request-level run draws every request (Poisson arrivals, exponential CPU
//! demand), sends it to a random ready pod and queues it there first come,
//! first served on the pod's CPU ([`MmcQueue`]), with the same room,
//! timeout and warm-up.

use std::collections::{HashMap, VecDeque};

use cutover_models::capacity::{two_choice_sojourn, FluidPod, PodTickInput};
use cutover_models::hpa::{CpuMetric, Hpa, PodPhase, PodSnapshot, ReadyCondition};
use cutover_models::nodes::{NodePool, Provisioning};
use cutover_models::pods::PodTimeline;
use cutover_models::queueing::{MmcQueue, Started};
use cutover_models::traffic::{Catchment, FixedShares};
use cutover_models::{SimDuration, SimTime};
use rand::Rng;
use rand_distr::{Distribution, Exp, Poisson};
use serde::Serialize;

use crate::engine::rng::StreamRng;
use crate::engine::stats::{Aggregation, TimeSeries};
use crate::engine::{EventQueue, RngStreams};
use crate::scenario::compute::{
    Balancing, ComputeSpec, OverflowMechanism, OverflowSpec, ServerSearch, SiteSpec,
};

#[derive(Clone, Copy, Debug)]
enum Event {
    Scrape,
    HpaSync,
    AutoscalerScan,
}

/// Columns of the compute timeline.
pub const TIMELINE_COLUMNS: [(&str, Aggregation); 15] = [
    ("users", Aggregation::Mean),
    ("demand_rps", Aggregation::Mean),
    ("arrivals", Aggregation::Sum),
    ("served", Aggregation::Sum),
    ("rejected", Aggregation::Sum),
    ("timed_out", Aggregation::Sum),
    ("slow", Aggregation::Sum),
    ("replicas", Aggregation::TimeAverage),
    ("ready_pods", Aggregation::TimeAverage),
    ("starting_pods", Aggregation::TimeAverage),
    ("nodes", Aggregation::TimeAverage),
    ("cpu_utilisation", Aggregation::TimeAverage),
    ("hpa_utilisation", Aggregation::Max),
    ("mean_latency_s", Aggregation::Max),
    ("p99_latency_s", Aggregation::Max),
];
const COL_USERS: usize = 0;
const COL_DEMAND: usize = 1;
const COL_ARRIVALS: usize = 2;
const COL_SERVED: usize = 3;
const COL_REJECTED: usize = 4;
const COL_TIMED_OUT: usize = 5;
const COL_SLOW: usize = 6;
const COL_REPLICAS: usize = 7;
const COL_READY: usize = 8;
const COL_STARTING: usize = 9;
const COL_NODES: usize = 10;
const COL_CPU: usize = 11;
const COL_HPA: usize = 12;
const COL_MEAN_LATENCY: usize = 13;
const COL_P99: usize = 14;

/// The story's health gate on errors: under 1 % of requests fail.
pub const GATE_FAILED_FRACTION: f64 = 0.01;

/// What a compute run measured.
#[derive(Clone, Debug, Serialize)]
pub struct ComputeSummary {
    /// "pass" if the run kept failed requests at or under 1 % and the p99
    /// latency under the slow threshold (the story's health gate), else
    /// "fail".
    pub verdict: &'static str,
    /// Simulated seconds.
    pub simulated_s: f64,
    /// Fluid tick, seconds.
    pub tick_s: f64,
    /// When the spike starts, seconds (none without a spike).
    pub spike_start_s: Option<f64>,
    /// Highest demand, requests per second.
    pub peak_demand_rps: f64,
    /// Highest number of concurrent users.
    pub peak_users: f64,
    /// Pods needed to serve the peak at the HPA's target utilisation:
    /// ceil(peak rate x CPU per request / (request x target)).
    pub pods_needed_at_target: u64,
    /// Replicas at the start.
    pub initial_replicas: u32,
    /// From the spike start to the first pod beyond the initial ones
    /// serving, seconds.
    pub first_new_pod_serving_after_spike_s: Option<f64>,
    /// First time ready pods reached `pods_needed_at_target` (capped at the
    /// HPA's maximum), seconds; none if never.
    pub capacity_caught_up_s: Option<f64>,
    /// `capacity_caught_up_s` less `spike_start_s`.
    pub catch_up_after_spike_s: Option<f64>,
    /// End of the last tick with a rejected or timed-out request, seconds.
    pub last_failure_s: Option<f64>,
    /// Requests that arrived.
    pub arrivals: f64,
    /// Requests served.
    pub served: f64,
    /// Requests turned away (queue full or no ready pod).
    pub rejected: f64,
    /// Requests dropped after waiting past the timeout.
    pub timed_out: f64,
    /// Served requests slower than the slow threshold.
    pub slow: f64,
    /// Requests still in pods at the end.
    pub in_flight_at_end: f64,
    /// (rejected + timed out) / arrivals.
    pub failed_fraction: f64,
    /// slow / served.
    pub slow_fraction: f64,
    /// The slow threshold, seconds.
    pub slow_threshold_s: f64,
    /// Median latency of served requests, seconds (network + server).
    pub latency_p50_s: f64,
    /// 99th percentile latency, seconds.
    pub latency_p99_s: f64,
    /// 99.9th percentile latency, seconds.
    pub latency_p999_s: f64,
    /// Highest per-interval p99, seconds.
    pub worst_interval_p99_s: f64,
    /// Most ready pods at any time.
    pub max_ready_pods: u64,
    /// Most replicas the HPA asked for.
    pub max_replicas: i32,
    /// Most ready nodes.
    pub max_nodes: u64,
    /// HPA syncs run.
    pub hpa_syncs: u64,
    /// HPA syncs that changed the replica count (all sites).
    pub hpa_rescales: u64,
    /// Per-site figures.
    pub sites: Vec<SiteSummary>,
}

/// Everything a compute run produces.
#[derive(Clone, Debug)]
pub struct ComputeOutcome {
    /// The figures for `summary.json`.
    pub summary: ComputeSummary,
    /// Fixed-interval series for `timeline.csv`.
    pub timeline: TimeSeries,
}

#[derive(Clone, Debug)]
struct SimPod {
    id: u64,
    /// The request-level queue, created when the pod becomes ready.
    queue: Option<MmcQueue>,
    /// Arrival time and added latency of the requests waiting in `queue`,
    /// in queue order.
    waiting: VecDeque<(SimTime, f64)>,
    node: Option<usize>,
    timeline: Option<PodTimeline>,
    fluid: FluidPod,
    cpu_core_s: f64,
    prev_scrape: Option<f64>,
    metric: Option<CpuMetric>,
}

#[derive(Clone, Debug)]
struct SimNode {
    pods: u32,
    /// When the image is on the node (after its first pull).
    image_at: Option<SimTime>,
}

/// How the run serves requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fidelity {
    /// Expected flows per tick.
    Fluid,
    /// Every request an event, drawn from streams of this seed.
    Request {
        /// The run seed.
        seed: u64,
    },
}

impl Fidelity {
    /// The fidelity the scenario asks for: request level (drawn from `seed`)
    /// when `request_level` is set, the fluid otherwise.
    pub fn of(spec: &ComputeSpec, seed: u64) -> Self {
        if spec.request_level {
            Fidelity::Request { seed }
        } else {
            Fidelity::Fluid
        }
    }
}

/// Latencies with weights, in log-spaced buckets 1 % wide from 0.1 ms to
/// 1000 s (a weighted cousin of the engine's histogram: the fluid records
/// fractional request counts).
#[derive(Clone, Debug)]
struct LatencyHistogram {
    weights: Vec<f64>,
    total: f64,
    sum: f64,
    /// The tail strata: (-ln of the stratum's survival point, its mass).
    strata: Vec<(f64, f64)>,
    /// Recent latency distributions not yet spread into buckets: pods and
    /// ticks in the same state add to their weight.
    held: Vec<(f64, Option<WaitTail>, f64)>,
}

/// Distributions a [`LatencyHistogram`] holds before spreading the oldest.
const HELD: usize = 64;

const LAT_MIN_S: f64 = 1e-4;
const LAT_BUCKETS: usize = 1621;

/// An exponential tail is recorded as strata of its survival function,
/// from 1 down to 10^-4 in steps of 10^-1/8, each at its geometric-mean
/// survival, and a last stratum below 10^-4.
const TAIL_STRATA: i32 = 32;

impl LatencyHistogram {
    fn new() -> Self {
        let survival = |j: i32| 10f64.powf(-f64::from(j) / 8.0);
        let strata = (0..=TAIL_STRATA)
            .map(|j| {
                let hi = survival(j);
                let lo = if j == TAIL_STRATA {
                    0.0
                } else {
                    survival(j + 1)
                };
                let point = if j == TAIL_STRATA {
                    hi * 0.5
                } else {
                    (hi * lo).sqrt()
                };
                (-point.ln(), hi - lo)
            })
            .collect();
        LatencyHistogram {
            weights: vec![0.0; LAT_BUCKETS],
            total: 0.0,
            sum: 0.0,
            strata,
            held: Vec::with_capacity(HELD),
        }
    }

    fn bucket(value: f64) -> usize {
        if value <= LAT_MIN_S {
            return 0;
        }
        ((value / LAT_MIN_S).ln() / 1.01f64.ln())
            .floor()
            .min((LAT_BUCKETS - 1) as f64) as usize
    }

    fn add(&mut self, value: f64, weight: f64) {
        if weight <= 0.0 || !value.is_finite() {
            return;
        }
        self.weights[Self::bucket(value)] += weight;
        self.total += weight;
        self.sum += value * weight;
    }

    /// `weight` requests at `base` plus an Erlang C wait: with probability
    /// `p` an exponential wait at `rate` per second.
    fn add_with_tail(&mut self, base: f64, weight: f64, tail: Option<WaitTail>) {
        if let Some(h) = self.held.iter_mut().find(|h| h.0 == base && h.1 == tail) {
            h.2 += weight;
            return;
        }
        if self.held.len() >= HELD {
            let (b, t, w) = self.held.remove(0);
            self.spread(b, w, t);
        }
        self.held.push((base, tail, weight));
    }

    /// Spreads the held distributions into the buckets.
    fn release(&mut self) {
        for (b, t, w) in std::mem::take(&mut self.held) {
            self.spread(b, w, t);
        }
    }

    /// Spreads one distribution into the buckets.
    fn spread(&mut self, base: f64, weight: f64, tail: Option<WaitTail>) {
        match tail {
            Some((p, rate)) if p > 0.0 && rate > 0.0 => {
                self.add(base, weight * (1.0 - p));
                for k in 0..self.strata.len() {
                    let (x, mass) = self.strata[k];
                    self.add(base + x / rate, weight * p * mass);
                }
            }
            _ => self.add(base, weight),
        }
    }

    fn mean(&mut self) -> Option<f64> {
        self.release();
        (self.total > 0.0).then(|| self.sum / self.total)
    }

    /// The bucket midpoint holding the q-quantile (within 0.5 %).
    fn quantile(&mut self, q: f64) -> f64 {
        self.release();
        if self.total <= 0.0 {
            return 0.0;
        }
        let goal = q.clamp(0.0, 1.0) * self.total;
        let mut acc = 0.0;
        for (i, w) in self.weights.iter().enumerate() {
            acc += w;
            if acc >= goal && *w > 0.0 {
                return LAT_MIN_S * 1.01f64.powf(i as f64 + 0.5);
            }
        }
        LAT_MIN_S * 1.01f64.powf(LAT_BUCKETS as f64 - 0.5)
    }

    /// Adds `other`'s weights to this histogram.
    fn merge(&mut self, other: &mut LatencyHistogram) {
        other.release();
        self.release();
        for (a, b) in self.weights.iter_mut().zip(&other.weights) {
            *a += b;
        }
        self.total += other.total;
        self.sum += other.sum;
    }

    fn clear(&mut self) {
        self.held.clear();
        self.weights.iter_mut().for_each(|w| *w = 0.0);
        self.total = 0.0;
        self.sum = 0.0;
    }
}

/// Probability of waiting and rate of the exponential wait.
type WaitTail = (f64, f64);

/// A shifted exponential time in system: shift (s) and rate (per s).
type Sojourn = (f64, f64);

/// A request finishing (or giving up) at a pod's server.
#[derive(Clone, Copy, Debug)]
struct Departure {
    pod: u64,
    server: u32,
    added_latency_s: f64,
    timed_out: bool,
}

struct World<'a> {
    spec: &'a ComputeSpec,
    pods: Vec<SimPod>,
    nodes: Vec<SimNode>,
    pool: NodePool,
    per_node: u32,
    /// CPU a node offers, cores.
    alloc_cores: f64,
    /// The last power-of-two-choices sojourn computed: (rho, mu, result).
    two_choice_memo: Option<(f64, f64, Option<Sojourn>)>,
    next_id: u64,
}

impl World<'_> {
    fn running(&self, i: usize, now: SimTime) -> bool {
        self.pods[i].timeline.is_some_and(|t| t.running <= now)
    }

    fn snapshot(&self, now: SimTime) -> Vec<PodSnapshot> {
        self.pods
            .iter()
            .map(|p| {
                let tl = p.timeline;
                let started = tl.filter(|t| t.started <= now);
                let running = tl.is_some_and(|t| t.running <= now);
                PodSnapshot {
                    phase: if running {
                        PodPhase::Running
                    } else {
                        PodPhase::Pending
                    },
                    deleting: false,
                    start_time: started.map(|t| t.started),
                    ready: started.map(|t| {
                        let ready = t.ready <= now;
                        ReadyCondition {
                            ready,
                            last_transition: if ready { t.ready } else { t.started },
                        }
                    }),
                    request_millicores: self.spec.cpu_request_millicores,
                    metric: if running { p.metric } else { None },
                }
            })
            .collect()
    }

    /// Sets the deployment to `replicas` pods: new pods start unbound; on a
    /// scale-down the ReplicaSet removes unbound pods first, then pods not
    /// yet ready, then the newest. A removed pod drains what it holds.
    fn resize(&mut self, now: SimTime, replicas: usize) -> f64 {
        let mut drained = 0.0;
        while self.pods.len() < replicas {
            self.next_id += 1;
            self.pods.push(SimPod {
                id: self.next_id,
                queue: None,
                waiting: VecDeque::new(),
                node: None,
                timeline: None,
                fluid: FluidPod::default(),
                cpu_core_s: 0.0,
                prev_scrape: None,
                metric: None,
            });
        }
        while self.pods.len() > replicas {
            let rank = |p: &SimPod| match p.timeline {
                None => 0,
                Some(t) if t.ready > now => 1,
                Some(_) => 2,
            };
            let victim = (0..self.pods.len())
                .rev()
                .min_by_key(|&i| rank(&self.pods[i]))
                .unwrap_or(self.pods.len() - 1);
            let pod = self.pods.remove(victim);
            drained += pod.fluid.in_flight();
            if let Some(q) = &pod.queue {
                drained += f64::from(q.busy()) + q.queued() as f64;
            }
            if let Some(n) = pod.node {
                self.nodes[n].pods -= 1;
            }
        }
        drained
    }

    /// Binds unbound pods to the least-loaded nodes with room.
    fn schedule(&mut self, now: SimTime) {
        let startup = &self.spec.startup;
        for i in 0..self.pods.len() {
            if self.pods[i].node.is_some() {
                continue;
            }
            let Some(n) = (0..self.nodes.len())
                .filter(|&n| self.nodes[n].pods < self.per_node)
                .min_by_key(|&n| self.nodes[n].pods)
            else {
                return;
            };
            let node = &mut self.nodes[n];
            node.pods += 1;
            let cached = node.image_at.is_some_and(|t| t <= now);
            let tl = startup.timeline(now, cached);
            if node.image_at.is_none() {
                // The pull ends when the container can start.
                let pulled = tl.started
                    + if cached {
                        startup.image_pull_cached
                    } else {
                        startup.image_pull_uncached
                    };
                node.image_at = Some(pulled);
            }
            self.pods[i].node = Some(n);
            self.pods[i].timeline = Some(tl);
        }
    }
}

/// Runs the region for `spec.duration` as a fluid.
pub fn run(spec: &ComputeSpec, timeline_interval: SimDuration) -> ComputeOutcome {
    run_with(spec, timeline_interval, Fidelity::Fluid)
}

/// Per-site figures of a run.
#[derive(Clone, Debug, Serialize)]
pub struct SiteSummary {
    /// Site tag.
    pub name: String,
    /// Share of the demand that reaches it.
    pub share: f64,
    /// Requests that arrived (its own and overflowed in).
    pub arrivals: f64,
    /// Requests served.
    pub served: f64,
    /// Requests rejected.
    pub rejected: f64,
    /// Requests timed out.
    pub timed_out: f64,
    /// Requests it sent to other sites.
    pub overflowed_out: f64,
    /// Requests it took from other sites.
    pub overflowed_in: f64,
    /// Highest load (CPU used over CPU available) in any tick.
    pub peak_load: f64,
    /// Highest offered load (CPU its arrivals need over CPU available); above
    /// 1 the site was overrun.
    pub peak_offered_load: f64,
    /// Highest mean CPU utilisation of its ready pods against their
    /// request, per tick.
    pub peak_utilisation: f64,
    /// Most ready pods.
    pub max_ready_pods: u64,
}

/// One site's running state.
struct Site<'a> {
    spec: &'a SiteSpec,
    world: World<'a>,
    hpa: Hpa,
    replicas: i32,
    events: EventQueue<Event>,
    requests: Option<RequestLevel>,
    /// Share of its own traffic it sends away now, and where.
    out_share: f64,
    target: Option<usize>,
    /// Share and target it has asked for (BGP: in effect after convergence).
    asked_share: f64,
    asked_target: Option<usize>,
    changes: Vec<(SimTime, f64, Option<usize>)>,
    /// The ready pods' indexes this tick (a buffer kept between ticks).
    ready: Vec<usize>,
    /// Last tick: CPU used over CPU available.
    load: f64,
    /// Last tick: CPU its arrivals (own and moved in) would need over CPU
    /// available; above 1 the site is overrun.
    offered_load: f64,
    /// Last tick: the same for its own demand only.
    own_load: f64,
    summary: SiteSummary,
}

impl<'a> Site<'a> {
    fn new(spec: &'a ComputeSpec, site: &'a SiteSpec, fidelity: Fidelity, index: u64) -> Self {
        let request = spec.cpu_request_millicores;
        let mut world = World {
            spec,
            pods: Vec::new(),
            nodes: site
                .nodes
                .ready_nodes()
                .iter()
                .map(|_| SimNode {
                    pods: 0,
                    image_at: Some(SimTime::ZERO),
                })
                .collect(),
            pool: site.nodes.clone(),
            per_node: site.nodes.pods_per_node(request),
            alloc_cores: site.nodes.allocatable_millicores as f64 / 1000.0,
            two_choice_memo: None,
            next_id: 0,
        };
        // The initial replicas are serving and warm at time zero.
        world.resize(SimTime::ZERO, spec.initial_replicas as usize);
        world.schedule(SimTime::ZERO);
        for pod in &mut world.pods {
            if pod.timeline.is_some() {
                pod.timeline = Some(PodTimeline {
                    started: SimTime::ZERO,
                    running: SimTime::ZERO,
                    ready: SimTime::ZERO,
                    warm: SimTime::ZERO,
                });
            }
        }
        let mut events: EventQueue<Event> = EventQueue::new();
        events.schedule_at(SimTime::ZERO + spec.metric_resolution, Event::Scrape);
        // The HPA's syncs are not aligned with metrics-server's scrapes: the
        // first sync comes half a period after the first scrape.
        let half = SimDuration::from_nanos(spec.hpa.sync_period.as_nanos() / 2);
        events.schedule_at(
            SimTime::ZERO + spec.metric_resolution + half,
            Event::HpaSync,
        );
        if let Provisioning::Cloud { scan_interval, .. } = site.nodes.provisioning {
            events.schedule_at(SimTime::ZERO + scan_interval, Event::AutoscalerScan);
        }
        Site {
            spec: site,
            world,
            hpa: Hpa::new(spec.hpa.clone()),
            replicas: spec.initial_replicas as i32,
            events,
            requests: match fidelity {
                Fidelity::Request { seed } => Some(RequestLevel::new(
                    crate::engine::rng::replication_seed(seed, index),
                )),
                Fidelity::Fluid => None,
            },
            out_share: 0.0,
            target: None,
            asked_share: 0.0,
            asked_target: None,
            changes: Vec::new(),
            ready: Vec::new(),
            load: 0.0,
            offered_load: 0.0,
            own_load: 0.0,
            summary: SiteSummary {
                name: site.name.clone(),
                share: site.share,
                arrivals: 0.0,
                served: 0.0,
                rejected: 0.0,
                timed_out: 0.0,
                overflowed_out: 0.0,
                overflowed_in: 0.0,
                peak_load: 0.0,
                peak_offered_load: 0.0,
                peak_utilisation: 0.0,
                max_ready_pods: 0,
            },
        }
    }

    /// Runs the control events due by `now`; returns requests drained from
    /// removed pods, HPA syncs and rescales, and the utilisation the HPA saw.
    fn control(&mut self, now: SimTime) -> (f64, u64, u64, Option<f64>) {
        let spec = self.world.spec;
        let (mut drained, mut syncs, mut rescales, mut seen) = (0.0, 0, 0, None);
        while self.events.peek_time().is_some_and(|t| t <= now) {
            let Some((at, event)) = self.events.pop() else {
                break;
            };
            match event {
                Event::Scrape => {
                    let res = spec.metric_resolution;
                    for p in 0..self.world.pods.len() {
                        let running = self.world.running(p, at);
                        let pod = &mut self.world.pods[p];
                        if running {
                            pod.metric = pod.prev_scrape.map(|prev| CpuMetric {
                                usage_millicores: ((pod.cpu_core_s - prev) / res.as_secs_f64()
                                    * 1000.0)
                                    .round()
                                    as i64,
                                timestamp: at,
                                window: res,
                            });
                            pod.prev_scrape = Some(pod.cpu_core_s);
                        } else {
                            pod.metric = None;
                            pod.prev_scrape = None;
                        }
                    }
                    self.events.schedule_at(at + res, Event::Scrape);
                }
                Event::HpaSync => {
                    let snaps = self.world.snapshot(at);
                    let out = self.hpa.sync(at, self.replicas, &snaps);
                    syncs += 1;
                    if let Ok(m) = &out.metric {
                        seen = Some(m.utilization_percent as f64);
                    }
                    if out.rescale {
                        rescales += 1;
                        self.replicas = out.desired_replicas;
                        drained += self.world.resize(at, self.replicas.max(0) as usize);
                    }
                    self.events.schedule_at(out.next_sync, Event::HpaSync);
                }
                Event::AutoscalerScan => {
                    let unbound = self.world.pods.iter().filter(|p| p.node.is_none()).count();
                    self.world
                        .pool
                        .scale_up(at, unbound as u32, spec.cpu_request_millicores);
                    if let Provisioning::Cloud { scan_interval, .. } = self.spec.nodes.provisioning
                    {
                        self.events
                            .schedule_at(at + scan_interval, Event::AutoscalerScan);
                    }
                }
            }
        }
        for _ in 0..self.world.pool.advance(now) {
            self.world.nodes.push(SimNode {
                pods: 0,
                image_at: None,
            });
        }
        self.world.schedule(now);
        (drained, syncs, rescales, seen)
    }

    fn in_flight(&self) -> f64 {
        self.world
            .pods
            .iter()
            .map(|p| {
                p.fluid.in_flight()
                    + p.queue
                        .as_ref()
                        .map_or(0.0, |q| f64::from(q.busy()) + q.queued() as f64)
            })
            .sum()
    }
}

/// The overflow policy's check. A site whose own demand would load it
/// above the threshold asks to send away the share that brings it back to
/// the threshold, 1 - threshold / own load, to its first next site that is
/// below the release level and not shedding itself; as its HPA adds pods
/// the share falls and traffic moves back, by at most one step per check.
/// Without a healthy next site it returns a step. An L7 change applies at
/// once, a BGP change after the convergence delay.
fn overflow_check(sites: &mut [Site], policy: &OverflowSpec, now: SimTime) {
    let offered: Vec<f64> = sites.iter().map(|s| s.offered_load).collect();
    let shedding: Vec<bool> = sites.iter().map(|s| s.asked_share > 0.0).collect();
    for site in sites.iter_mut() {
        let healthy = |t: usize| offered[t] < policy.release && !shedding[t];
        let current = site.asked_target.filter(|&t| offered[t] < policy.threshold);
        let target = current.or_else(|| site.spec.next.iter().copied().find(|&t| healthy(t)));
        let wanted = if site.own_load > policy.threshold {
            1.0 - policy.threshold / site.own_load
        } else {
            0.0
        };
        let (asked, target) = match target {
            Some(t) => {
                let asked = if wanted >= site.asked_share {
                    wanted
                } else {
                    (site.asked_share - policy.step).max(wanted)
                };
                (asked, if asked > 0.0 { Some(t) } else { None })
            }
            None => {
                let asked = (site.asked_share - policy.step).max(0.0);
                (asked, site.asked_target.filter(|_| asked > 0.0))
            }
        };
        if (asked - site.asked_share).abs() > 1e-12 || target != site.asked_target {
            site.asked_share = asked;
            site.asked_target = target;
            let effective = match policy.mechanism {
                OverflowMechanism::L7 => now,
                OverflowMechanism::Bgp { convergence } => now + convergence,
            };
            site.changes.push((effective, asked, target));
        }
        while site.changes.first().is_some_and(|c| c.0 <= now) {
            let (_, share, target) = site.changes.remove(0);
            site.out_share = share;
            site.target = target;
        }
    }
}

/// Runs the sites for `spec.duration` at the given fidelity, the demand
/// split by the sites' fixed shares.
pub fn run_with(
    spec: &ComputeSpec,
    timeline_interval: SimDuration,
    fidelity: Fidelity,
) -> ComputeOutcome {
    let shares: Vec<f64> = spec.sites.iter().map(|s| s.share).collect();
    // Validated shares sum to 1; equal shares are the fallback.
    let catchment = FixedShares::new(&shares).unwrap_or_else(|| FixedShares::equal(shares.len()));
    run_with_catchment(spec, timeline_interval, fidelity, &catchment)
}

/// Runs the sites for `spec.duration` at the given fidelity, the demand
/// split over the sites (in `spec.sites` order) by `catchment` at each tick:
/// the seam where the network layer's anycast catchments plug in.
pub fn run_with_catchment(
    spec: &ComputeSpec,
    timeline_interval: SimDuration,
    fidelity: Fidelity,
    catchment: &dyn Catchment,
) -> ComputeOutcome {
    let tick = spec.tick;
    let dt_s = tick.as_secs_f64();
    let request_cores = spec.cpu_request_millicores as f64 / 1000.0;
    let limit_cores = spec.cpu_limit_millicores as f64 / 1000.0;
    let mut sites: Vec<Site> = spec
        .sites
        .iter()
        .enumerate()
        .map(|(i, site)| Site::new(spec, site, fidelity, i as u64))
        .collect();

    let mut columns: Vec<(String, Aggregation)> = TIMELINE_COLUMNS
        .iter()
        .map(|(n, a)| (n.to_string(), *a))
        .collect();
    let multi = sites.len() > 1;
    if multi {
        for site in &spec.sites {
            for (suffix, agg) in [
                ("load", Aggregation::Max),
                ("ready_pods", Aggregation::TimeAverage),
                ("overflow_share", Aggregation::TimeAverage),
                ("rejected", Aggregation::Sum),
            ] {
                columns.push((format!("{}_{suffix}", site.name), agg));
            }
        }
    }
    let column_refs: Vec<(&str, Aggregation)> =
        columns.iter().map(|(n, a)| (n.as_str(), *a)).collect();
    let mut timeline = TimeSeries::new(timeline_interval, &column_refs);
    let site_col = |i: usize, k: usize| TIMELINE_COLUMNS.len() + 4 * i + k;

    let spike_start = spec.demand.spikes.first().map(|s| s.start);
    let peak_rate = peak_demand(spec);
    let c = spec.service.cpu_per_request.as_secs_f64();
    let target = f64::from(spec.hpa.target_cpu_percent) / 100.0;
    let needed = (peak_rate * c / (request_cores * target)).ceil().max(0.0) as u64;
    let needed_capped = needed.min(spec.hpa.max_replicas.max(0) as u64 * sites.len() as u64);
    let initial_total = spec.initial_replicas as usize * sites.len();

    let mut s = ComputeSummary {
        verdict: "fail",
        simulated_s: spec.duration.as_secs_f64(),
        tick_s: dt_s,
        spike_start_s: spike_start.map(|t| t.as_secs_f64()),
        peak_demand_rps: peak_rate,
        peak_users: 0.0,
        pods_needed_at_target: needed,
        initial_replicas: spec.initial_replicas,
        first_new_pod_serving_after_spike_s: None,
        capacity_caught_up_s: None,
        catch_up_after_spike_s: None,
        last_failure_s: None,
        arrivals: 0.0,
        served: 0.0,
        rejected: 0.0,
        timed_out: 0.0,
        slow: 0.0,
        in_flight_at_end: 0.0,
        failed_fraction: 0.0,
        slow_fraction: 0.0,
        slow_threshold_s: spec.slow_threshold.as_secs_f64(),
        latency_p50_s: 0.0,
        latency_p99_s: 0.0,
        latency_p999_s: 0.0,
        worst_interval_p99_s: 0.0,
        max_ready_pods: 0,
        max_replicas: spec.initial_replicas as i32 * sites.len() as i32,
        max_nodes: sites.iter().map(|x| x.world.nodes.len() as u64).sum(),
        hpa_syncs: 0,
        hpa_rescales: 0,
        sites: Vec::new(),
    };
    let mut lat_all = LatencyHistogram::new();
    let mut lat_interval = LatencyHistogram::new();
    let interval_ns = timeline_interval.as_nanos().max(1);
    let mut interval_row = 0u64;
    let consts = Consts {
        dt_s,
        request_cores,
        limit_cores,
        slow_s: spec.slow_threshold.as_secs_f64(),
    };
    let ticks = spec.duration.as_nanos() / tick.as_nanos();
    let mut shares = vec![0.0; sites.len()];
    let check_every = spec
        .overflow
        .map(|o| (o.check_interval.as_nanos() / tick.as_nanos()).max(1));

    let flush = |timeline: &mut TimeSeries,
                 row: u64,
                 lat: &mut LatencyHistogram,
                 all: &mut LatencyHistogram,
                 worst: &mut f64| {
        all.merge(lat);
        if let Some(mean) = lat.mean() {
            let at = SimTime::from_nanos(row * interval_ns);
            let p99 = lat.quantile(0.99);
            *worst = worst.max(p99);
            timeline.add_all(at, &[(COL_MEAN_LATENCY, mean), (COL_P99, p99)]);
        }
        lat.clear();
    };

    for i in 0..ticks {
        let now = SimTime::from_nanos(i * tick.as_nanos());
        let mut max_seen: Option<f64> = None;
        for site in sites.iter_mut() {
            let (drained, syncs, rescales, seen) = site.control(now);
            s.served += drained;
            site.summary.served += drained;
            s.hpa_syncs += syncs;
            s.hpa_rescales += rescales;
            if let Some(v) = seen {
                max_seen = Some(max_seen.map_or(v, |m: f64| m.max(v)));
            }
        }
        if let (Some(policy), Some(every)) = (&spec.overflow, check_every) {
            if i % every == 0 {
                overflow_check(&mut sites, policy, now);
            }
        }

        // Demand for this tick, split by the fixed shares, then overflow.
        let users = spec.demand.users_at(now);
        let rate = spec.demand.rate_at(now);
        let total = spec.demand.requests_in(now, tick);
        s.peak_users = s.peak_users.max(users);
        catchment.shares(now, &mut shares);
        let mut own: Vec<f64> = shares.iter().map(|share| total * share).collect();
        let mut moved_in = vec![0.0; sites.len()];
        for (k, site) in sites.iter_mut().enumerate() {
            if let (Some(t), true) = (site.target, site.out_share > 0.0) {
                let moved = own[k] * site.out_share;
                own[k] -= moved;
                moved_in[t] += moved;
                site.summary.overflowed_out += moved;
            }
        }
        let extra_s = spec.overflow.map_or(0.0, |o| o.extra_latency.as_secs_f64());

        let mut tick_totals = TickTotals::default();
        let mut ready_total = 0usize;
        let mut pods_total = 0usize;
        let mut nodes_total = 0usize;
        let mut replicas_total = 0i64;
        let mut requested_total = 0.0;
        for (k, site) in sites.iter_mut().enumerate() {
            let arrivals = own[k] + moved_in[k];
            site.summary.overflowed_in += moved_in[k];
            let route = Route {
                network_s: site.spec.network_latency.as_secs_f64(),
                moved_fraction: if arrivals > 0.0 {
                    moved_in[k] / arrivals
                } else {
                    0.0
                },
                extra_s,
            };
            let mut ready = std::mem::take(&mut site.ready);
            ready.clear();
            ready.extend(
                (0..site.world.pods.len())
                    .filter(|&p| site.world.pods[p].timeline.is_some_and(|t| t.ready <= now)),
            );
            let t = match &mut site.requests {
                Some(rs) => rs.serve(
                    &mut site.world,
                    &ready,
                    now,
                    arrivals,
                    tick,
                    &consts,
                    &route,
                    &mut lat_interval,
                ),
                None => serve_fluid(
                    &mut site.world,
                    &ready,
                    now,
                    arrivals,
                    &consts,
                    &route,
                    &mut lat_interval,
                ),
            };
            let capacity: f64 = ready
                .iter()
                .map(|&p| site.world.cores(p, &consts))
                .sum::<f64>()
                * dt_s;
            let ratio = |x: f64| {
                if capacity > 0.0 {
                    x / capacity
                } else if x > 0.0 {
                    f64::INFINITY
                } else {
                    0.0
                }
            };
            site.load = ratio(t.cpu_used).min(1.0);
            site.offered_load = ratio(arrivals * c);
            site.own_load = ratio(total * shares[k] * c);
            let requested = ready.len() as f64 * request_cores * dt_s;
            let utilisation = if requested > 0.0 {
                t.cpu_used / requested
            } else {
                0.0
            };
            let sm = &mut site.summary;
            sm.arrivals += t.arrivals;
            sm.served += t.served;
            sm.rejected += t.rejected;
            sm.timed_out += t.timed_out;
            sm.peak_load = sm.peak_load.max(site.load);
            if site.offered_load.is_finite() {
                sm.peak_offered_load = sm.peak_offered_load.max(site.offered_load);
            }
            sm.peak_utilisation = sm.peak_utilisation.max(utilisation);
            sm.max_ready_pods = sm.max_ready_pods.max(ready.len() as u64);
            if multi {
                timeline.add_all(
                    now,
                    &[(site_col(k, 0), site.load), (site_col(k, 3), t.rejected)],
                );
                timeline.set(now, site_col(k, 1), ready.len() as f64);
                timeline.set(now, site_col(k, 2), site.out_share);
            }
            tick_totals.arrivals += t.arrivals;
            tick_totals.served += t.served;
            tick_totals.rejected += t.rejected;
            tick_totals.timed_out += t.timed_out;
            tick_totals.slow += t.slow;
            tick_totals.cpu_used += t.cpu_used;
            ready_total += ready.len();
            pods_total += site.world.pods.len();
            nodes_total += site.world.nodes.len();
            replicas_total += i64::from(site.replicas);
            requested_total += requested;
            site.ready = ready;
        }
        let TickTotals {
            arrivals,
            served,
            rejected,
            timed_out,
            slow,
            cpu_used,
        } = tick_totals;
        s.arrivals += arrivals;
        s.served += served;
        s.rejected += rejected;
        s.timed_out += timed_out;
        s.slow += slow;
        if rejected + timed_out > 1e-9 {
            s.last_failure_s = Some((now + tick).as_secs_f64());
        }
        s.max_ready_pods = s.max_ready_pods.max(ready_total as u64);
        s.max_nodes = s.max_nodes.max(nodes_total as u64);
        s.max_replicas = s
            .max_replicas
            .max(replicas_total.min(i64::from(i32::MAX)) as i32);
        if let Some(start) = spike_start.filter(|&t| now >= t) {
            if s.first_new_pod_serving_after_spike_s.is_none() && ready_total > initial_total {
                s.first_new_pod_serving_after_spike_s = Some((now - start).as_secs_f64());
            }
            if s.capacity_caught_up_s.is_none() && ready_total as u64 >= needed_capped {
                s.capacity_caught_up_s = Some(now.as_secs_f64());
            }
        }

        let row = i * tick.as_nanos() / interval_ns;
        if row != interval_row {
            flush(
                &mut timeline,
                interval_row,
                &mut lat_interval,
                &mut lat_all,
                &mut s.worst_interval_p99_s,
            );
            interval_row = row;
        }
        if let Some(v) = max_seen {
            timeline.add(now, COL_HPA, v);
        }
        timeline.add_all(
            now,
            &[
                (COL_USERS, users),
                (COL_DEMAND, rate),
                (COL_ARRIVALS, arrivals),
                (COL_SERVED, served),
                (COL_REJECTED, rejected),
                (COL_TIMED_OUT, timed_out),
                (COL_SLOW, slow),
            ],
        );
        timeline.set(now, COL_REPLICAS, replicas_total as f64);
        timeline.set(now, COL_READY, ready_total as f64);
        timeline.set(now, COL_STARTING, (pods_total - ready_total) as f64);
        timeline.set(now, COL_NODES, nodes_total as f64);
        timeline.set(
            now,
            COL_CPU,
            if requested_total > 0.0 {
                cpu_used / requested_total
            } else {
                0.0
            },
        );
    }
    flush(
        &mut timeline,
        interval_row,
        &mut lat_interval,
        &mut lat_all,
        &mut s.worst_interval_p99_s,
    );
    let end = SimTime::from_nanos(ticks * tick.as_nanos());
    timeline.finish(end);

    s.in_flight_at_end = sites.iter().map(Site::in_flight).sum();
    if s.arrivals > 0.0 {
        s.failed_fraction = (s.rejected + s.timed_out) / s.arrivals;
    }
    if s.served > 0.0 {
        s.slow_fraction = s.slow / s.served;
    }
    s.latency_p50_s = lat_all.quantile(0.5);
    s.latency_p99_s = lat_all.quantile(0.99);
    s.latency_p999_s = lat_all.quantile(0.999);
    s.catch_up_after_spike_s = match (s.capacity_caught_up_s, s.spike_start_s) {
        (Some(c), Some(start)) => Some(c - start),
        _ => None,
    };
    if s.failed_fraction <= GATE_FAILED_FRACTION && s.latency_p99_s < s.slow_threshold_s {
        s.verdict = "pass";
    }
    s.sites = sites.into_iter().map(|x| x.summary).collect();
    ComputeOutcome {
        summary: s,
        timeline,
    }
}

/// Figures every tick needs.
struct Consts {
    dt_s: f64,
    request_cores: f64,
    limit_cores: f64,
    slow_s: f64,
}

/// How a site's requests reach it: its network time, and the share that
/// was overflowed from another site with its extra latency.
struct Route {
    network_s: f64,
    moved_fraction: f64,
    extra_s: f64,
}

/// One tick's requests.
#[derive(Default)]
struct TickTotals {
    arrivals: f64,
    served: f64,
    rejected: f64,
    timed_out: f64,
    slow: f64,
    cpu_used: f64,
}

impl World<'_> {
    /// CPU pod `p` can use: its limit, or its share of a full node, never
    /// less than its request.
    fn cores(&self, p: usize, c: &Consts) -> f64 {
        let node_pods = self.pods[p].node.map_or(1, |n| self.nodes[n].pods.max(1));
        c.limit_cores
            .min(c.request_cores.max(self.alloc_cores / f64::from(node_pods)))
    }

    /// CPU factor and added latency of pod `p` at `now` (warm-up).
    fn warmth(&self, p: usize, now: SimTime) -> (f64, f64) {
        match self.pods[p].timeline {
            Some(tl) if tl.warm > now => (
                self.spec.startup.cpu_factor(tl.ready, now),
                self.spec.startup.added_latency_s(tl.ready, now),
            ),
            _ => (1.0, 0.0),
        }
    }
}

/// The fluid tick: the demand split evenly over the ready pods.
fn serve_fluid(
    world: &mut World,
    ready: &[usize],
    now: SimTime,
    arrivals: f64,
    c: &Consts,
    route: &Route,
    latencies: &mut LatencyHistogram,
) -> TickTotals {
    let mut t = TickTotals {
        arrivals,
        ..TickTotals::default()
    };
    if ready.is_empty() {
        t.rejected = arrivals;
        return t;
    }
    // Random balancing gives every ready pod the same share; least-request
    // gives each a share in proportion to its speed.
    let least_request = world.spec.balancing == Balancing::LeastRequest;
    let total_speed: f64 = if least_request {
        ready
            .iter()
            .map(|&p| world.cores(p, c) / world.warmth(p, now).0)
            .sum()
    } else {
        ready.len() as f64
    };
    let input = |world: &World, k: usize| {
        let p = ready[k];
        let (factor, added) = world.warmth(p, now);
        let cores = world.cores(p, c);
        let speed = if least_request { cores / factor } else { 1.0 };
        PodTickInput {
            dt_s: c.dt_s,
            arrivals: if total_speed > 0.0 {
                arrivals * speed / total_speed
            } else {
                arrivals / ready.len() as f64
            },
            cores,
            cpu_factor: factor,
            added_latency_s: added,
        }
    };
    let service = world.spec.service;
    let mut k = 0;
    while k < ready.len() {
        // Pods in the same state with the same input give the same output:
        // step the first and copy it to the run of identical ones after it.
        let first = input(world, k);
        let before = world.pods[ready[k]].fluid;
        let out = world.pods[ready[k]].fluid.step(&service, &first);
        let after = world.pods[ready[k]].fluid;
        world.pods[ready[k]].cpu_core_s += out.cpu_core_s;
        let mut n = 1;
        while k + n < ready.len()
            && world.pods[ready[k + n]].fluid == before
            && input(world, k + n) == first
        {
            let pod = &mut world.pods[ready[k + n]];
            pod.fluid = after;
            pod.cpu_core_s += out.cpu_core_s;
            n += 1;
        }
        k += n;
        let n = n as f64;
        t.cpu_used += n * out.cpu_core_s;
        t.served += n * out.served;
        t.rejected += n * out.rejected;
        t.timed_out += n * out.timed_out;
        let mut out = out;
        if let (Balancing::LeastRequest, Some(_)) = (world.spec.balancing, out.wait_tail) {
            // Below saturation, least-request balancing queues like the
            // power of two choices rather than like one M/M/1 per pod.
            let pod_rate =
                first.cores / (service.cpu_per_request.as_secs_f64() * first.cpu_factor.max(1.0));
            let rho = out.served / c.dt_s / pod_rate;
            let sojourn = match world.two_choice_memo {
                Some((r, m, v)) if r == rho && m == pod_rate => v,
                _ => {
                    let v = two_choice_sojourn(rho, pod_rate);
                    world.two_choice_memo = Some((rho, pod_rate, v));
                    v
                }
            };
            if let Some((shift, rate)) = sojourn {
                out.latency_s = shift + first.added_latency_s;
                out.wait_tail = Some((1.0, rate));
            }
        }
        if out.served > 0.0 {
            let served = n * out.served;
            let base = out.latency_s + route.network_s;
            let slow_share = |base: f64| match out.wait_tail {
                _ if base > c.slow_s => 1.0,
                Some((p, rate)) => p * (-rate * (c.slow_s - base)).exp(),
                None => 0.0,
            };
            let f = route.moved_fraction;
            t.slow +=
                served * ((1.0 - f) * slow_share(base) + f * slow_share(base + route.extra_s));
            latencies.add_with_tail(base, served * (1.0 - f), out.wait_tail);
            if f > 0.0 {
                latencies.add_with_tail(base + route.extra_s, served * f, out.wait_tail);
            }
        }
    }
    t
}

/// The request-level serving state: random streams and in-flight departures.
struct RequestLevel {
    arrivals: StreamRng,
    service: StreamRng,
    balance: StreamRng,
    departures: EventQueue<Departure>,
    index: HashMap<u64, usize>,
}

impl RequestLevel {
    fn new(seed: u64) -> Self {
        let streams = RngStreams::new(seed);
        RequestLevel {
            arrivals: streams.stream("compute.arrivals"),
            service: streams.stream("compute.service"),
            balance: streams.stream("compute.balance"),
            departures: EventQueue::new(),
            index: HashMap::new(),
        }
    }

    /// A request that arrived at `arrived` starts service at pod `p` at
    /// `now`: it gives up if it waited past the timeout (freeing the server
    /// at once), else it uses the CPU and departs when done.
    #[allow(clippy::too_many_arguments)]
    fn start(
        &mut self,
        world: &mut World,
        p: usize,
        started: Started,
        arrived: SimTime,
        now: SimTime,
        added_latency_s: f64,
        cpu_per_service_s: f64,
    ) {
        let timeout = world.spec.service.timeout;
        let pod = &mut world.pods[p];
        let timed_out = now - arrived > timeout;
        let at = if timed_out {
            now
        } else {
            pod.cpu_core_s += (started.departs_at - now).as_secs_f64() * cpu_per_service_s;
            started.departs_at
        };
        self.departures.schedule_at(
            at,
            Departure {
                pod: pod.id,
                server: started.server,
                added_latency_s,
                timed_out,
            },
        );
    }

    /// Runs departures up to `until` (inclusive if `inclusive`).
    fn depart_until(
        &mut self,
        world: &mut World,
        until: SimTime,
        inclusive: bool,
        c: &Consts,
        t: &mut TickTotals,
        latencies: &mut LatencyHistogram,
    ) {
        while let Some(at) = self.departures.peek_time() {
            if at > until || (!inclusive && at == until) {
                break;
            }
            let Some((at, d)) = self.departures.pop() else {
                break;
            };
            let Some(&p) = self.index.get(&d.pod) else {
                // The pod was removed; its requests were counted as drained.
                continue;
            };
            let cores = world.cores(p, c);
            let Some(queue) = world.pods[p].queue.as_mut() else {
                continue;
            };
            let servers = f64::from(queue.servers());
            let Some(done) = queue.depart(at, d.server) else {
                continue;
            };
            if d.timed_out {
                t.timed_out += 1.0;
            } else {
                t.served += 1.0;
                let latency = (at - done.arrived).as_secs_f64() + d.added_latency_s;
                if latency > c.slow_s {
                    t.slow += 1.0;
                }
                latencies.add(latency, 1.0);
            }
            if let Some(next) = done.next {
                let (arrived, added) = world.pods[p].waiting.pop_front().unwrap_or((at, 0.0));
                self.start(world, p, next, arrived, at, added, cores / servers);
            }
        }
    }

    /// The request-level tick: Poisson arrivals at the tick's rate, each to
    /// a random ready pod.
    #[allow(clippy::too_many_arguments)]
    fn serve(
        &mut self,
        world: &mut World,
        ready: &[usize],
        now: SimTime,
        expected: f64,
        tick: SimDuration,
        c: &Consts,
        route: &Route,
        latencies: &mut LatencyHistogram,
    ) -> TickTotals {
        let mut t = TickTotals::default();
        let cpu_before: f64 = ready.iter().map(|&p| world.pods[p].cpu_core_s).sum();
        self.index = world
            .pods
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id, i))
            .collect();
        for &p in ready {
            if world.pods[p].queue.is_none() {
                let servers = world.cores(p, c).round().max(1.0) as u32;
                world.pods[p].queue = Some(MmcQueue::new(servers));
            }
        }
        let n = if expected > 0.0 {
            Poisson::new(expected).map_or(0.0, |d| d.sample(&mut self.arrivals))
        } else {
            0.0
        } as u64;
        let mut times: Vec<u64> = (0..n)
            .map(|_| self.arrivals.random_range(0..tick.as_nanos().max(1)))
            .collect();
        times.sort_unstable();
        let room = world.spec.service.concurrency + world.spec.service.queue_limit;
        let unit = Exp::new(1.0).ok();
        for offset in times {
            let at = now + SimDuration::from_nanos(offset);
            self.depart_until(world, at, true, c, &mut t, latencies);
            t.arrivals += 1.0;
            if ready.is_empty() {
                t.rejected += 1.0;
                continue;
            }
            let mut p = ready[self.balance.random_range(0..ready.len())];
            if world.spec.balancing == Balancing::LeastRequest && ready.len() > 1 {
                let other = ready[self.balance.random_range(0..ready.len())];
                let busy = |i: usize| {
                    world.pods[i].queue.as_ref().map_or(0.0, |q| {
                        (f64::from(q.busy()) + q.queued() as f64) / f64::from(q.servers())
                    })
                };
                if busy(other) < busy(p) {
                    p = other;
                }
            }
            let cores = world.cores(p, c);
            let (factor, warm_added) = world.warmth(p, at);
            let moved =
                route.moved_fraction > 0.0 && self.balance.random::<f64>() < route.moved_fraction;
            let added = warm_added + route.network_s + if moved { route.extra_s } else { 0.0 };
            let Some(q) = world.pods[p].queue.as_mut() else {
                t.rejected += 1.0;
                continue;
            };
            if q.busy() as usize + q.queued() >= room as usize {
                t.rejected += 1.0;
                continue;
            }
            let servers = f64::from(q.servers());
            let mean_s =
                world.spec.service.cpu_per_request.as_secs_f64() * factor * servers / cores;
            let draw = unit.map_or(1.0, |e| e.sample(&mut self.service));
            let service = SimDuration::from_secs_f64(draw * mean_s);
            match q.arrive(at, service) {
                Some(started) => self.start(world, p, started, at, at, added, cores / servers),
                None => world.pods[p].waiting.push_back((at, added)),
            }
        }
        self.depart_until(world, now + tick, false, c, &mut t, latencies);
        t.cpu_used = ready.iter().map(|&p| world.pods[p].cpu_core_s).sum::<f64>() - cpu_before;
        t
    }
}

/// One server count tried by [`search_servers`].
#[derive(Clone, Debug, Serialize)]
pub struct Trial {
    /// Servers in the pool.
    pub servers: u32,
    /// Replicas at the start (and HPA minimum, when filling the servers).
    pub replicas: u32,
    /// (rejected + timed out) / arrivals.
    pub failed_fraction: f64,
    /// p99 latency of served requests, seconds.
    pub latency_p99_s: f64,
    /// Whether the run stayed within the SLO.
    pub passed: bool,
}

/// The answer to the planner's question.
#[derive(Clone, Debug)]
pub struct SearchOutcome {
    /// Every count tried, in the order tried.
    pub trials: Vec<Trial>,
    /// The smallest count that passed, with its run.
    pub smallest: Option<(u32, ComputeOutcome)>,
}

/// The scenario with `servers` fixed servers.
fn with_servers(spec: &ComputeSpec, search: &ServerSearch, servers: u32) -> ComputeSpec {
    let mut s = spec.clone();
    let pool = &spec.sites[0].nodes;
    s.sites[0].nodes = NodePool::new(
        servers,
        pool.allocatable_millicores,
        pool.max_pods_per_node,
        pool.provisioning,
    );
    if search.fill_servers {
        let pods = servers.saturating_mul(pool.pods_per_node(spec.cpu_request_millicores));
        let pods = pods.max(1);
        s.initial_replicas = pods;
        s.hpa.min_replicas = pods as i32;
        s.hpa.max_replicas = s.hpa.max_replicas.max(pods as i32);
    }
    s.search = None;
    s
}

/// Finds the fewest servers from 1 to `search.max_servers` whose run keeps
/// the failed share and the p99 latency within `search`, by bisection
/// (more servers never serve worse when the pods fill them).
pub fn search_servers(
    spec: &ComputeSpec,
    search: &ServerSearch,
    timeline_interval: SimDuration,
) -> SearchOutcome {
    let mut trials = Vec::new();
    let mut try_count = |servers: u32| {
        let trial_spec = with_servers(spec, search, servers);
        let outcome = run(&trial_spec, timeline_interval);
        let s = &outcome.summary;
        let passed = s.failed_fraction <= search.max_failed_fraction
            && s.latency_p99_s < search.p99.as_secs_f64();
        trials.push(Trial {
            servers,
            replicas: trial_spec.initial_replicas,
            failed_fraction: s.failed_fraction,
            latency_p99_s: s.latency_p99_s,
            passed,
        });
        (passed, outcome)
    };
    let (mut lo, mut hi) = (1u32, search.max_servers);
    let (ok, outcome) = try_count(hi);
    if !ok {
        return SearchOutcome {
            trials,
            smallest: None,
        };
    }
    let mut best = (hi, outcome);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let (ok, outcome) = try_count(mid);
        if ok {
            hi = mid;
            best = (mid, outcome);
        } else {
            lo = mid + 1;
        }
    }
    SearchOutcome {
        trials,
        smallest: Some(best),
    }
}

/// The highest demand over the run, sampled at every tick.
fn peak_demand(spec: &ComputeSpec) -> f64 {
    let ticks = spec.duration.as_nanos() / spec.tick.as_nanos();
    (0..ticks)
        .map(|i| {
            spec.demand
                .rate_at(SimTime::from_nanos(i * spec.tick.as_nanos()))
        })
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_histogram_quantiles_respect_weights() {
        let mut h = LatencyHistogram::new();
        h.add(0.010, 98.0);
        h.add(0.500, 1.0);
        h.add(2.000, 1.0);
        let near = |a: f64, b: f64| (a / b - 1.0).abs() < 0.01;
        assert!(near(h.quantile(0.5), 0.010), "{}", h.quantile(0.5));
        assert!(near(h.quantile(0.99), 0.500));
        assert!(near(h.quantile(1.0), 2.000));
        assert!((h.mean().unwrap() - (0.98 + 0.5 + 2.0) / 100.0).abs() < 1e-12);
        h.clear();
        assert_eq!(h.quantile(0.5), 0.0);
        assert!(h.mean().is_none());
    }

    #[test]
    fn exponential_tail_quantiles_match_the_formula() {
        // M/M/1 time in system, rate 10/s: the q-quantile is -ln(1-q)/10.
        let mut h = LatencyHistogram::new();
        h.add_with_tail(0.0, 1000.0, Some((1.0, 10.0)));
        for q in [0.5, 0.9, 0.99, 0.999] {
            let want = -(1.0f64 - q).ln() / 10.0;
            let got = h.quantile(q);
            assert!((got / want - 1.0).abs() < 0.15, "q {q}: {got} vs {want}");
        }
        // Erlang C: waits with probability 0.2; the median is no wait.
        let mut h = LatencyHistogram::new();
        h.add_with_tail(0.05, 1.0, Some((0.2, 10.0)));
        assert!((h.quantile(0.5) / 0.05 - 1.0).abs() < 0.01);
        let want = 0.05 - (0.01f64 / 0.2).ln() / 10.0;
        assert!((h.quantile(0.99) / want - 1.0).abs() < 0.1);
    }
}
