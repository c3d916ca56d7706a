//! How a site serves one tick, in two fidelities that share everything but
//! the serving: the fluid moves expected numbers of requests through each
//! pod's [`FluidPod`](cutover_models::capacity::FluidPod); the request
//! level draws every request (Poisson arrivals, exponential CPU demand),
//! sends it to a ready pod and queues it there first come, first served on
//! the pod's CPU ([`MmcQueue`]), with the same room, timeout and warm-up.

use std::collections::HashMap;

use cutover_models::capacity::{two_choice_sojourn, PodTickInput};
use cutover_models::queueing::{MmcQueue, Started};
use cutover_models::{SimDuration, SimTime};
use rand::RngExt;
use rand_distr::{Distribution, Exp, Poisson};

use super::latency::WaitTail;
use super::pods::{Pods, Waiting};
use super::record::{Cause, Recorder, Stream};
use crate::engine::rng::StreamRng;
use crate::engine::{EventQueue, RngStreams};
use crate::estate::Balancing;

/// One tick's requests at a site.
#[derive(Clone, Copy, Debug, Default)]
pub struct TickTotals {
    /// Arrived.
    pub arrivals: f64,
    /// Served.
    pub served: f64,
    /// Turned away.
    pub rejected: f64,
    /// Timed out.
    pub timed_out: f64,
    /// CPU used, core-seconds.
    pub cpu_used: f64,
}

/// Served requests of a tick that share a latency distribution at the
/// server: `base` seconds plus an optional exponential tail.
#[derive(Clone, Copy, Debug)]
pub struct Group {
    /// Latency at the server without the tail, seconds.
    pub base: f64,
    /// Requests served.
    pub served: f64,
    /// The random part, if any.
    pub tail: Option<WaitTail>,
}

/// A power-of-two-choices sojourn remembered between pods: (rho, mu,
/// result).
pub type TwoChoiceMemo = Option<(f64, f64, Option<(f64, f64)>)>;

/// What the fluid tick keeps between ticks so that it allocates nothing:
/// the pods' inputs, and the served requests by latency.
#[derive(Debug, Default)]
pub struct FluidScratch {
    inputs: Vec<PodTickInput>,
    /// Served requests of the last tick by server-side latency.
    pub groups: Vec<Group>,
}

/// The fluid tick: the demand split over the ready pods (evenly, or in
/// proportion to speed under least-request balancing). Served requests go
/// to `scratch.groups` by server-side latency.
pub fn serve_fluid(
    pods: &mut Pods,
    ready: &[usize],
    now: SimTime,
    arrivals: f64,
    dt_s: f64,
    memo: &mut TwoChoiceMemo,
    scratch: &mut FluidScratch,
) -> TickTotals {
    scratch.groups.clear();
    let mut t = TickTotals {
        arrivals,
        ..TickTotals::default()
    };
    if ready.is_empty() {
        t.rejected = arrivals;
        return t;
    }
    pod_inputs(pods, ready, now, arrivals, dt_s, &mut scratch.inputs);
    let inputs = &scratch.inputs;
    let least_request = pods.deployment.balancing == Balancing::LeastRequest;
    let service = pods.deployment.service;
    let mut k = 0;
    while k < ready.len() {
        // Pods in the same state with the same input give the same output:
        // step the first and copy it to the run of identical ones after it.
        let first = inputs[k];
        let before = pods.pods[ready[k]].fluid;
        let mut out = pods.pods[ready[k]].fluid.step(&service, &first);
        let after = pods.pods[ready[k]].fluid;
        pods.pods[ready[k]].cpu_core_s += out.cpu_core_s;
        let mut n = 1;
        while k + n < ready.len()
            && pods.pods[ready[k + n]].fluid == before
            && inputs[k + n] == first
        {
            let pod = &mut pods.pods[ready[k + n]];
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
        if least_request && out.wait_tail.is_some() {
            two_choice_tail(&mut out, &first, service.cpu_per_request, dt_s, memo);
        }
        if out.served > 0.0 {
            scratch.groups.push(Group {
                base: out.latency_s,
                served: n * out.served,
                tail: out.wait_tail,
            });
        }
    }
    t
}

/// Each ready pod's input for the tick into `inputs`: its share of the
/// arrivals (by speed under least-request balancing: cores over the
/// warm-up's CPU factor), its cores and its warm-up.
fn pod_inputs(
    pods: &Pods,
    ready: &[usize],
    now: SimTime,
    arrivals: f64,
    dt_s: f64,
    inputs: &mut Vec<PodTickInput>,
) {
    let least_request = pods.deployment.balancing == Balancing::LeastRequest;
    inputs.clear();
    let mut total_speed = 0.0;
    for &p in ready {
        let (factor, added) = pods.warmth(p, now);
        let cores = pods.cores(p);
        // The speed is kept in `arrivals` until the total is known.
        let speed = if least_request { cores / factor } else { 1.0 };
        total_speed += speed;
        inputs.push(PodTickInput {
            dt_s,
            arrivals: speed,
            cores,
            cpu_factor: factor,
            added_latency_s: added,
        });
    }
    for input in inputs.iter_mut() {
        input.arrivals = if total_speed > 0.0 {
            arrivals * input.arrivals / total_speed
        } else {
            arrivals / ready.len() as f64
        };
    }
}

/// Below saturation, least-request balancing queues like the power of two
/// choices rather than like one M/M/1 per pod.
fn two_choice_tail(
    out: &mut cutover_models::capacity::PodTick,
    input: &PodTickInput,
    cpu_per_request: SimDuration,
    dt_s: f64,
    memo: &mut TwoChoiceMemo,
) {
    let pod_rate = input.cores / (cpu_per_request.as_secs_f64() * input.cpu_factor.max(1.0));
    let rho = out.served / dt_s / pod_rate;
    let sojourn = match *memo {
        Some((r, m, v)) if r == rho && m == pod_rate => v,
        _ => {
            let v = two_choice_sojourn(rho, pod_rate);
            *memo = Some((rho, pod_rate, v));
            v
        }
    };
    if let Some((shift, rate)) = sojourn {
        out.latency_s = shift + input.added_latency_s;
        out.wait_tail = Some((1.0, rate));
    }
}

/// A request finishing (or giving up) at a pod's server.
#[derive(Clone, Copy, Debug)]
struct Departure {
    pod: u64,
    server: u32,
    request: Waiting,
    timed_out: bool,
}

/// Arrivals of one stream in a tick at request level.
#[derive(Clone, Copy, Debug)]
pub struct StreamArrivals {
    /// The stream.
    pub stream: Stream,
    /// Expected requests in the tick.
    pub expected: f64,
    /// Latency the user sees outside the site (TTFB, overflow hop),
    /// seconds.
    pub network_s: f64,
}

/// A site's request-level serving state: random streams and in-flight
/// departures.
pub struct RequestLevel {
    arrivals: StreamRng,
    service: StreamRng,
    balance: StreamRng,
    departures: EventQueue<Departure>,
    index: HashMap<u64, usize>,
    times: Vec<(u64, Stream, f64)>,
}

impl RequestLevel {
    /// Request-level serving for site `site`, drawing from `streams`.
    pub fn new(streams: &RngStreams, site: &str) -> Self {
        RequestLevel {
            arrivals: streams.stream(&format!("site.{site}.arrivals")),
            service: streams.stream(&format!("site.{site}.service")),
            balance: streams.stream(&format!("site.{site}.balance")),
            departures: EventQueue::new(),
            index: HashMap::new(),
            times: Vec::new(),
        }
    }

    /// Every request in service, removed; the caller fails or drains them.
    pub fn take_in_service(&mut self) -> Vec<Waiting> {
        let mut out = Vec::new();
        while let Some((_, d)) = self.departures.pop() {
            out.push(d.request);
        }
        out
    }

    /// The requests in service at the pods `ids`, removed (their pods
    /// crashed); the others keep their departures.
    pub fn take_in_service_of(&mut self, ids: &[u64]) -> Vec<Waiting> {
        let mut kept = EventQueue::new();
        let mut out = Vec::new();
        while let Some((at, d)) = self.departures.pop() {
            if ids.contains(&d.pod) {
                out.push(d.request);
            } else {
                kept.schedule_at(at, d);
            }
        }
        self.departures = kept;
        out
    }

    /// A request that arrived at `request.arrived` starts service at pod
    /// `p` at `now`: it gives up if it waited past the timeout (freeing the
    /// server at once), else it uses the CPU and departs when done.
    fn start(
        &mut self,
        pods: &mut Pods,
        p: usize,
        started: Started,
        request: Waiting,
        now: SimTime,
    ) {
        let timeout = pods.deployment.service.timeout;
        let cores = pods.cores(p);
        let pod = &mut pods.pods[p];
        let servers = pod.queue.as_ref().map_or(1.0, |q| f64::from(q.servers()));
        let timed_out = now - request.arrived > timeout;
        let at = if timed_out {
            now
        } else {
            pod.cpu_core_s += (started.departs_at - now).as_secs_f64() * cores / servers;
            started.departs_at
        };
        self.departures.schedule_at(
            at,
            Departure {
                pod: pod.id,
                server: started.server,
                request,
                timed_out,
            },
        );
    }

    /// Runs departures up to `until` (inclusive if `inclusive`).
    fn depart_until(
        &mut self,
        pods: &mut Pods,
        until: SimTime,
        inclusive: bool,
        site: usize,
        rec: &mut Recorder,
    ) {
        while let Some(at) = self.departures.peek_time() {
            if at > until || (!inclusive && at == until) {
                break;
            }
            let Some((at, d)) = self.departures.pop() else {
                break;
            };
            let r = d.request;
            let at_site = (at - r.arrived).as_secs_f64() + r.warm_s;
            if d.timed_out {
                rec.fail(site, r.stream, Cause::TimedOut, 1.0);
            } else {
                rec.served(site, r.stream, r.network_s, at_site, 1.0, None);
            }
            // A removed pod finishes what it was serving and takes no more.
            let Some(&p) = self.index.get(&d.pod) else {
                continue;
            };
            let Some(queue) = pods.pods[p].queue.as_mut() else {
                continue;
            };
            let Some(done) = queue.depart(at, d.server) else {
                continue;
            };
            if let Some(next) = done.next {
                let request = pods.pods[p].waiting.pop_front().unwrap_or(Waiting {
                    arrived: at,
                    network_s: 0.0,
                    warm_s: 0.0,
                    stream: d.request.stream,
                });
                self.start(pods, p, next, request, at);
            }
        }
    }

    /// Draws the tick's arrivals: Poisson per stream, uniform in the tick.
    fn draw_arrivals(&mut self, tick: SimDuration, streams: &[StreamArrivals]) {
        self.times.clear();
        for s in streams {
            let n = if s.expected > 0.0 {
                Poisson::new(s.expected).map_or(0.0, |d| d.sample(&mut self.arrivals))
            } else {
                0.0
            } as u64;
            for _ in 0..n {
                let offset = self.arrivals.random_range(0..tick.as_nanos().max(1));
                self.times.push((offset, s.stream, s.network_s));
            }
        }
        self.times
            .sort_unstable_by_key(|&(offset, stream, _)| (offset, stream));
    }

    /// The pod a request goes to: a random ready pod, or under
    /// least-request balancing the less busy of two.
    fn pick(&mut self, pods: &Pods, ready: &[usize]) -> usize {
        let mut p = ready[self.balance.random_range(0..ready.len())];
        if pods.deployment.balancing == Balancing::LeastRequest && ready.len() > 1 {
            let other = ready[self.balance.random_range(0..ready.len())];
            let busy = |i: usize| {
                pods.pods[i].queue.as_ref().map_or(0.0, |q| {
                    (f64::from(q.busy()) + q.queued() as f64) / f64::from(q.servers())
                })
            };
            if busy(other) < busy(p) {
                p = other;
            }
        }
        p
    }

    /// The request-level tick `[now, now + tick)` (`window`): every request
    /// of every stream drawn, queued at a pod and recorded as it departs.
    pub fn serve(
        &mut self,
        pods: &mut Pods,
        ready: &[usize],
        (now, tick): (SimTime, SimDuration),
        streams: &[StreamArrivals],
        site: usize,
        rec: &mut Recorder,
    ) -> TickTotals {
        let cpu_before: f64 = ready.iter().map(|&p| pods.pods[p].cpu_core_s).sum();
        self.index = pods
            .pods
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id, i))
            .collect();
        for &p in ready {
            if pods.pods[p].queue.is_none() {
                let servers = pods.cores(p).round().max(1.0) as u32;
                pods.pods[p].queue = Some(MmcQueue::new(servers));
            }
        }
        self.draw_arrivals(tick, streams);
        let room = pods.deployment.service.concurrency + pods.deployment.service.queue_limit;
        let unit = Exp::new(1.0).ok();
        let mut t = TickTotals::default();
        let times = std::mem::take(&mut self.times);
        for &(offset, stream, network_s) in &times {
            let at = now + SimDuration::from_nanos(offset);
            self.depart_until(pods, at, true, site, rec);
            t.arrivals += 1.0;
            rec.arrive(super::record::population_of(stream), 1.0);
            if ready.is_empty() {
                t.rejected += 1.0;
                rec.fail(site, stream, Cause::Rejected, 1.0);
                continue;
            }
            let p = self.pick(pods, ready);
            let cores = pods.cores(p);
            let (factor, warm_added) = pods.warmth(p, at);
            let request = Waiting {
                arrived: at,
                network_s,
                warm_s: warm_added,
                stream,
            };
            let Some(q) = pods.pods[p].queue.as_mut() else {
                continue;
            };
            if q.busy() as usize + q.queued() >= room as usize {
                t.rejected += 1.0;
                rec.fail(site, stream, Cause::Rejected, 1.0);
                continue;
            }
            let servers = f64::from(q.servers());
            let mean_s =
                pods.deployment.service.cpu_per_request.as_secs_f64() * factor * servers / cores;
            let draw = unit.map_or(1.0, |e| e.sample(&mut self.service));
            match q.arrive(at, SimDuration::from_secs_f64(draw * mean_s)) {
                Some(started) => self.start(pods, p, started, request, at),
                None => pods.pods[p].waiting.push_back(request),
            }
        }
        self.times = times;
        self.depart_until(pods, now + tick, false, site, rec);
        t.cpu_used = ready.iter().map(|&p| pods.pods[p].cpu_core_s).sum::<f64>() - cpu_before;
        t
    }
}
