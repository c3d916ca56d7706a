//! Capacity of one pod as a fluid: requests arrive, wait for the pod's CPU,
//! and leave served, or are rejected when the pod is full, or time out when
//! they would wait too long.
//!
//! The pod's CPU is `cores` and a request needs `cpu_per_request` of it.
//! The pod serves first come, first served on max(1, round(cores)) CPU
//! servers, so within a tick of length dt it finishes at most mu dt
//! requests, mu = cores / (CPU per request). Requests it cannot finish stay
//! in the pod up to its room (`concurrency + queue_limit`); beyond that,
//! arrivals are rejected. A backlog drains at mu (Little's law); below
//! saturation the fluid has no backlog, and the random queueing the
//! request-level run shows is given by the Erlang C waiting-time tail of an
//! M/M/c queue with the same servers and load (see [`crate::queueing`]).

use crate::queueing::ErlangC;
use crate::time::SimDuration;

/// How a deployment serves requests.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ServiceProfile {
    /// CPU one request needs on a warm pod, in core-seconds.
    pub cpu_per_request: SimDuration,
    /// Requests a pod accepts into its workers at once (worker threads,
    /// event-loop slots); they share the pod's CPU.
    pub concurrency: u32,
    /// Requests a pod holds waiting beyond those; more are rejected (503).
    /// Together with `concurrency` this is the pod's room.
    pub queue_limit: u32,
    /// A request that waits longer than this in the queue is dropped (504).
    pub timeout: SimDuration,
}

/// What a pod has this tick.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PodTickInput {
    /// Tick length, seconds.
    pub dt_s: f64,
    /// Requests sent to the pod during the tick.
    pub arrivals: f64,
    /// CPU cores the pod can use (its limit, or less when the node is full).
    pub cores: f64,
    /// CPU per request as a multiple of the warm figure (warm-up).
    pub cpu_factor: f64,
    /// Latency added to each request (warm-up), seconds.
    pub added_latency_s: f64,
}

/// What happened at the pod during the tick.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct PodTick {
    /// Arrivals let in.
    pub admitted: f64,
    /// Arrivals turned away because the queue was full.
    pub rejected: f64,
    /// Requests that finished.
    pub served: f64,
    /// Requests dropped after waiting longer than the timeout.
    pub timed_out: f64,
    /// Latency of the served requests without the random part (backlog
    /// drain, warm-up, and the mean service unless `wait_tail` covers it),
    /// seconds.
    pub latency_s: f64,
    /// The random part below saturation, if any: with probability `.0` a
    /// request spends an extra exponential time at rate `.1` per second
    /// (M/M/1 time in system on one server, Erlang C wait on several).
    pub wait_tail: Option<(f64, f64)>,
    /// CPU used, core-seconds.
    pub cpu_core_s: f64,
}

/// One pod's requests in flight (in service and waiting).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct FluidPod {
    in_flight: f64,
}

impl FluidPod {
    /// Requests in the pod now.
    pub fn in_flight(&self) -> f64 {
        self.in_flight
    }

    /// Advances the pod by one tick.
    pub fn step(&mut self, profile: &ServiceProfile, input: &PodTickInput) -> PodTick {
        let c = profile.cpu_per_request.as_secs_f64() * input.cpu_factor.max(1.0);
        let cores = input.cores.max(0.0);
        let mu = if c > 0.0 { cores / c } else { f64::INFINITY };
        let dt = input.dt_s.max(0.0);
        let arrivals = input.arrivals.max(0.0);
        let k = f64::from(profile.concurrency.max(1));
        let room = k + f64::from(profile.queue_limit);

        let n0 = self.in_flight;
        let work = n0 + arrivals;
        let served = work.min(mu * dt);
        let mut n1 = work - served;
        // Only this tick's arrivals can be turned away.
        let rejected = (n1 - room).max(0.0).min(arrivals);
        n1 -= rejected;
        // Waiting requests beyond what drains within the timeout give up.
        let drain = mu * profile.timeout.as_secs_f64();
        let servers = cores.round().max(1.0);
        let queued = (n1 - servers).max(0.0);
        let timed_out = (queued - drain).max(0.0);
        n1 -= timed_out;
        self.in_flight = n1;

        // Latency of the requests served: service on one CPU server, plus
        // the drain time of the mean backlog beyond the servers.
        let service_s = if cores > 0.0 {
            c * servers / cores
        } else {
            0.0
        };
        let backlog = (0.5 * (n0 + n1) - servers).max(0.0);
        let wait_s = if mu.is_finite() && mu > 0.0 {
            backlog / mu
        } else {
            0.0
        };
        // Below saturation (nothing carried over), random queueing. On one
        // server the time in the pod of M/M/1 is exponential at mu - lambda
        // (service included); on several, the Erlang C wait is added to the
        // mean service.
        let lambda = if dt > 0.0 { served / dt } else { 0.0 };
        let mut base_s = service_s + wait_s;
        let wait_tail = if n1 <= 1e-9 && service_s > 0.0 && lambda > 0.0 {
            let q = ErlangC::new(servers as u32, lambda, 1.0 / service_s).ok();
            match q {
                Some(_) if servers <= 1.0 => {
                    base_s = wait_s;
                    Some((1.0, 1.0 / service_s - lambda))
                }
                Some(q) => Some((q.prob_wait, servers / service_s - lambda)),
                None => None,
            }
        } else {
            None
        };
        PodTick {
            admitted: arrivals - rejected,
            rejected,
            served,
            timed_out,
            latency_s: base_s + input.added_latency_s.max(0.0),
            wait_tail,
            cpu_core_s: served * c,
        }
    }
}

/// Time in system when each arrival joins the shorter of two randomly
/// chosen single-server FCFS queues (power of two choices, as Envoy's
/// least-request balancer does), each at utilisation `rho` < 1 with service
/// rate `mu` per second, in the many-queue limit.
///
/// A fraction rho^(2^i - 1) of the queues hold at least i requests
/// (Vvedenskaya, Dobrushin & Karpelevich, *Problems of Information
/// Transmission* 32(1), 1996; Mitzenmacher, *IEEE TPDS* 12(10), 2001), so an
/// arrival finds k ahead with probability s_k^2 - s_(k+1)^2 and stays for an
/// Erlang(k + 1, mu) time. Returned as the shifted exponential with the same
/// mean and variance: (shift in seconds, rate per second).
pub fn two_choice_sojourn(rho: f64, mu: f64) -> Option<(f64, f64)> {
    if !(rho.is_finite() && mu.is_finite() && mu > 0.0 && (0.0..1.0).contains(&rho)) {
        return None;
    }
    // P(K >= i) = rho^(2^(i+1) - 2); moments of K + 1 and (K + 1)(K + 2).
    let (mut m1, mut m2) = (0.0, 0.0);
    let mut at_least = 1.0;
    let rho2 = rho * rho;
    for i in 0..64 {
        // rho^(2^(i+2) - 2) = (rho^(2^(i+1) - 2))^2 rho^2.
        let next = at_least * at_least * rho2;
        let p = at_least - next;
        let k = f64::from(i);
        m1 += p * (k + 1.0);
        m2 += p * (k + 1.0) * (k + 2.0);
        at_least = next;
        if at_least < 1e-15 {
            break;
        }
    }
    let mean = m1 / mu;
    let sd = (m2 - m1 * m1).max(0.0).sqrt() / mu;
    if sd <= 0.0 {
        return None;
    }
    Some(((mean - sd).max(0.0), 1.0 / sd))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> ServiceProfile {
        ServiceProfile {
            cpu_per_request: SimDuration::from_millis(10),
            concurrency: 8,
            queue_limit: 100,
            timeout: SimDuration::from_secs(1),
        }
    }

    fn input(arrivals: f64, cores: f64) -> PodTickInput {
        PodTickInput {
            dt_s: 1.0,
            arrivals,
            cores,
            cpu_factor: 1.0,
            added_latency_s: 0.0,
        }
    }

    #[test]
    fn light_load_is_served_at_cpu_speed() {
        let mut pod = FluidPod::default();
        let out = pod.step(&profile(), &input(50.0, 1.0));
        assert_eq!(out.served, 50.0);
        assert_eq!(out.rejected + out.timed_out, 0.0);
        // M/M/1 at utilisation 0.5: time in the pod exponential at
        // mu - lambda = 50/s (mean 20 ms), nothing deterministic.
        assert_eq!(out.latency_s, 0.0);
        let (p, r) = out.wait_tail.unwrap();
        assert!((p - 1.0).abs() < 1e-12 && (r - 50.0).abs() < 1e-9);
        assert!((out.cpu_core_s - 0.5).abs() < 1e-12, "50 requests x 10 ms");
        // Two cores, two servers of 10 ms each: the Erlang C wait of M/M/2
        // (100/s on 2 x 100/s) on top of the mean service.
        let mut pod = FluidPod::default();
        let out = pod.step(&profile(), &input(100.0, 2.0));
        assert!((out.latency_s - 0.010).abs() < 1e-12);
        let q = ErlangC::new(2, 100.0, 100.0).unwrap();
        assert_eq!(out.wait_tail, Some((q.prob_wait, 100.0)));
    }

    #[test]
    fn overload_fills_the_queue_then_rejects_and_times_out() {
        // 1 core serves 100/s; 300/s arrive.
        let mut pod = FluidPod::default();
        let p = profile();
        let mut total = PodTick::default();
        let mut arrived = 0.0;
        for _ in 0..10 {
            let out = pod.step(&p, &input(300.0, 1.0));
            arrived += 300.0;
            total.served += out.served;
            total.rejected += out.rejected;
            total.timed_out += out.timed_out;
            total.latency_s = out.latency_s;
            total.wait_tail = out.wait_tail;
            total.cpu_core_s += out.cpu_core_s;
        }
        assert_eq!(total.served, 1000.0, "CPU-bound at 100/s");
        assert!(
            (total.cpu_core_s - 10.0).abs() < 1e-9,
            "the core is saturated"
        );
        // The queue holds at most what drains within the 1 s timeout.
        assert!(pod.in_flight() <= 8.0 + 100.0 + 1e-9);
        // Conservation: every arrival is served, failed or still in flight.
        let accounted = total.served + total.rejected + total.timed_out + pod.in_flight();
        assert!(
            (accounted - arrived).abs() < 1e-6,
            "{accounted} vs {arrived}"
        );
        // Latency: service stretched by sharing (8 x 10 ms on 1 core) plus
        // the drain of the backlog (about 100 waiting at 100/s).
        assert!(
            total.latency_s > 0.9 && total.latency_s < 1.2,
            "{}",
            total.latency_s
        );
    }

    #[test]
    fn a_cold_pod_needs_more_cpu_per_request() {
        let mut pod = FluidPod::default();
        let mut cold = input(150.0, 1.0);
        cold.cpu_factor = 2.0;
        let out = pod.step(&profile(), &cold);
        assert_eq!(out.served, 50.0, "20 ms per request on one core");
        let mut warm = FluidPod::default();
        assert_eq!(warm.step(&profile(), &input(150.0, 1.0)).served, 100.0);
    }

    #[test]
    fn two_choices_mean_matches_the_mean_field_formula() {
        // Mean time in system: (1/mu) sum_i rho^(2^i - 1)... with the
        // arrival's view s_i^2: sum_(i>=0) rho^(2^(i+1) - 2). At rho = 0.84:
        // 1 + 0.7056 + 0.3513 + 0.0871 + 0.0054 + ... = 2.1494.
        let (shift, rate) = two_choice_sojourn(0.84, 1.0).unwrap();
        assert!(
            (shift + 1.0 / rate - 2.1494).abs() < 1e-3,
            "{}",
            shift + 1.0 / rate
        );
        // Light load: one service time, exponential (shift 0, rate mu).
        let (shift, rate) = two_choice_sojourn(1e-9, 50.0).unwrap();
        assert!(shift.abs() < 1e-6 && (rate - 50.0).abs() < 1e-3);
        assert!(two_choice_sojourn(1.0, 1.0).is_none());
        // Far lighter than one M/M/1 queue at the same load (mean 1/(mu - lambda) = 6.25).
        let (shift, rate) = two_choice_sojourn(0.84, 1.0).unwrap();
        assert!(shift + 1.0 / rate < 6.25 / 2.0);
    }

    #[test]
    fn no_cores_serves_nothing() {
        let mut pod = FluidPod::default();
        let out = pod.step(&profile(), &input(10.0, 0.0));
        assert_eq!(out.served, 0.0);
        assert_eq!(out.admitted, 10.0);
    }
}
