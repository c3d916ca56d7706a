//! Queueing: the M/M/c queue as a state machine, and its closed forms.
//!
//! The closed forms are the Erlang C results for c identical servers with
//! Poisson arrivals at rate lambda, exponential service at rate mu per
//! server and a FIFO queue of unlimited length (Kleinrock, *Queueing
//! Systems* vol. 1, 1975, section 3.5; Gross & Harris, *Fundamentals of
//! Queueing Theory*, section 2.3).

use std::collections::VecDeque;

use crate::time::{SimDuration, SimTime};

/// Why a set of M/M/c parameters has no steady state or makes no sense.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueueParamError {
    /// There must be at least one server.
    #[error("servers must be at least 1")]
    NoServers,
    /// Rates must be finite and positive.
    #[error("{name} must be a finite rate above zero, got {value}")]
    BadRate {
        /// Which rate.
        name: &'static str,
        /// The offending value.
        value: f64,
    },
    /// Offered load at or above the number of servers: the queue grows without bound.
    #[error("utilisation {utilisation} is not below 1: the queue grows without bound")]
    Unstable {
        /// lambda / (c mu).
        utilisation: f64,
    },
}

/// Steady-state figures of an M/M/c queue, from the Erlang C formula.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErlangC {
    /// Number of servers c.
    pub servers: u32,
    /// Arrival rate lambda, per second.
    pub arrival_rate_per_s: f64,
    /// Service rate mu of one server, per second.
    pub service_rate_per_s: f64,
    /// Probability that an arrival has to wait, C(c, a).
    pub prob_wait: f64,
}

impl ErlangC {
    /// Checks the parameters and computes C(c, a) with the numerically
    /// stable Erlang B recursion: B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)),
    /// then C = c B / (c - a (1 - B)).
    pub fn new(
        servers: u32,
        arrival_rate_per_s: f64,
        service_rate_per_s: f64,
    ) -> Result<Self, QueueParamError> {
        if servers == 0 {
            return Err(QueueParamError::NoServers);
        }
        for (name, value) in [
            ("arrival rate", arrival_rate_per_s),
            ("service rate", service_rate_per_s),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(QueueParamError::BadRate { name, value });
            }
        }
        let a = arrival_rate_per_s / service_rate_per_s;
        let c = f64::from(servers);
        if a >= c {
            return Err(QueueParamError::Unstable { utilisation: a / c });
        }
        let mut b = 1.0;
        for k in 1..=servers {
            b = a * b / (f64::from(k) + a * b);
        }
        let prob_wait = c * b / (c - a * (1.0 - b));
        Ok(ErlangC {
            servers,
            arrival_rate_per_s,
            service_rate_per_s,
            prob_wait,
        })
    }

    /// Server utilisation rho = lambda / (c mu).
    pub fn utilisation(&self) -> f64 {
        self.arrival_rate_per_s / (f64::from(self.servers) * self.service_rate_per_s)
    }

    /// The rate c mu - lambda at which the waiting-time tail decays.
    fn drain_rate(&self) -> f64 {
        f64::from(self.servers) * self.service_rate_per_s - self.arrival_rate_per_s
    }

    /// Mean time in queue, Wq = C / (c mu - lambda), in seconds.
    pub fn mean_wait_s(&self) -> f64 {
        self.prob_wait / self.drain_rate()
    }

    /// Mean time in system, W = Wq + 1/mu, in seconds.
    pub fn mean_system_s(&self) -> f64 {
        self.mean_wait_s() + 1.0 / self.service_rate_per_s
    }

    /// Mean number waiting, Lq = lambda Wq (Little's law).
    pub fn mean_queue_len(&self) -> f64 {
        self.arrival_rate_per_s * self.mean_wait_s()
    }

    /// P(Wq > t) = C e^{-(c mu - lambda) t}, for `t_s` in seconds.
    pub fn prob_wait_longer_than(&self, t_s: f64) -> f64 {
        if t_s < 0.0 {
            1.0
        } else {
            self.prob_wait * (-self.drain_rate() * t_s).exp()
        }
    }

    /// The p-quantile of the waiting time, in seconds. P(Wq > t) = C e^{-(c mu - lambda) t},
    /// so the quantile is zero for p <= 1 - C and -ln((1 - p) / C) / (c mu - lambda) above.
    pub fn wait_quantile_s(&self, p: f64) -> f64 {
        let p = p.clamp(0.0, 1.0);
        if p <= 1.0 - self.prob_wait {
            0.0
        } else {
            -((1.0 - p) / self.prob_wait).ln() / self.drain_rate()
        }
    }

    /// P(T > t) for the time in system T = Wq + S, in seconds. With
    /// theta = c mu - lambda, Wq is 0 with probability 1 - C and Exp(theta)
    /// otherwise, and S is Exp(mu) independent of it, so
    /// P(T > t) = (1 - C) e^{-mu t} + C (theta e^{-mu t} - mu e^{-theta t}) / (theta - mu),
    /// and C (1 + mu t) e^{-mu t} in its place when theta = mu
    /// (Gross and Harris, *Fundamentals of Queueing Theory*, section 2.3).
    pub fn prob_response_longer_than(&self, t_s: f64) -> f64 {
        if t_s <= 0.0 {
            return 1.0;
        }
        let mu = self.service_rate_per_s;
        let theta = self.drain_rate();
        let c = self.prob_wait;
        let service = (-mu * t_s).exp();
        let queued = if ((theta - mu) / mu).abs() < 1e-9 {
            (1.0 + mu * t_s) * service
        } else {
            (theta * service - mu * (-theta * t_s).exp()) / (theta - mu)
        };
        ((1.0 - c) * service + c * queued).clamp(0.0, 1.0)
    }
}

/// A customer who has just started service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    /// The server that took the customer; its departure names this server.
    pub server: u32,
    /// When the customer's service ends; the engine delivers a departure then.
    pub departs_at: SimTime,
}

/// A customer who has just finished service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Departed {
    /// When the customer arrived.
    pub arrived: SimTime,
    /// How long the customer waited in the queue.
    pub wait: SimDuration,
    /// The next waiting customer, who took the freed server, if any.
    pub next: Option<Started>,
}

#[derive(Debug, Clone, Copy)]
struct Waiting {
    arrived: SimTime,
    service: SimDuration,
}

#[derive(Debug, Clone, Copy)]
struct InService {
    arrived: SimTime,
    wait: SimDuration,
}

/// An M/M/c (in fact G/G/c) FIFO queue as a sans-IO state machine.
///
/// The caller draws each customer's service time and passes it with the
/// arrival; the queue answers with the server that took the customer (if
/// one was free) and the instant its departure is due. The departure names
/// the server; the queue answers with the customer who left and the next
/// waiting customer's start, if any. Keeping the customers in the model
/// leaves the engine's events small: a departure is just a server number.
#[derive(Debug, Clone)]
pub struct MmcQueue {
    in_service: Vec<Option<InService>>,
    free: Vec<u32>,
    waiting: VecDeque<Waiting>,
}

impl MmcQueue {
    /// An empty queue with `servers` servers (at least one).
    pub fn new(servers: u32) -> Self {
        let servers = servers.max(1);
        MmcQueue {
            in_service: vec![None; servers as usize],
            // Popped from the end: server 0 is taken first.
            free: (0..servers).rev().collect(),
            waiting: VecDeque::new(),
        }
    }

    /// A customer arrives at `now` needing `service` of server time.
    /// Returns its start if a server is free, or `None` if it queues.
    pub fn arrive(&mut self, now: SimTime, service: SimDuration) -> Option<Started> {
        match self.free.pop() {
            Some(server) => {
                self.in_service[server as usize] = Some(InService {
                    arrived: now,
                    wait: SimDuration::ZERO,
                });
                Some(Started {
                    server,
                    departs_at: now + service,
                })
            }
            None => {
                self.waiting.push_back(Waiting {
                    arrived: now,
                    service,
                });
                None
            }
        }
    }

    /// Server `server` finishes its customer at `now`. The head of the queue,
    /// if any, takes the server at once. Returns `None` (and changes nothing)
    /// if that server was idle or does not exist.
    pub fn depart(&mut self, now: SimTime, server: u32) -> Option<Departed> {
        let slot = self.in_service.get_mut(server as usize)?;
        let done = slot.take()?;
        let next = match self.waiting.pop_front() {
            Some(head) => {
                *slot = Some(InService {
                    arrived: head.arrived,
                    wait: now - head.arrived,
                });
                Some(Started {
                    server,
                    departs_at: now + head.service,
                })
            }
            None => {
                self.free.push(server);
                None
            }
        };
        Some(Departed {
            arrived: done.arrived,
            wait: done.wait,
            next,
        })
    }

    /// Servers currently serving a customer.
    pub fn busy(&self) -> u32 {
        (self.in_service.len() - self.free.len()) as u32
    }

    /// Customers waiting for a server.
    pub fn queued(&self) -> usize {
        self.waiting.len()
    }

    /// Number of servers.
    pub fn servers(&self) -> u32 {
        self.in_service.len() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_matches_published_value_for_the_reference_queue() {
        // c = 16, lambda = 14.4/s, mu = 1/s: Wq = 0.36959 s (value quoted by the
        // foundation issue; independently, Erlang C tables give C(16, 14.4) ~ 0.5914).
        let q = ErlangC::new(16, 14.4, 1.0).unwrap();
        assert!(
            (q.mean_wait_s() - 0.36959).abs() < 5e-5,
            "{}",
            q.mean_wait_s()
        );
        assert!((q.utilisation() - 0.9).abs() < 1e-12);
        assert!((q.mean_system_s() - 1.36959).abs() < 5e-5);
    }

    #[test]
    fn erlang_c_single_server_is_mm1() {
        // M/M/1: C = rho, Wq = rho / (mu - lambda).
        let q = ErlangC::new(1, 0.5, 1.0).unwrap();
        assert!((q.prob_wait - 0.5).abs() < 1e-12);
        assert!((q.mean_wait_s() - 1.0).abs() < 1e-12);
        // Median wait of M/M/1 at rho = 0.5 is zero; p90: -ln(0.1/0.5)/0.5.
        assert_eq!(q.wait_quantile_s(0.5), 0.0);
        assert!((q.wait_quantile_s(0.9) - (5.0f64).ln() / 0.5).abs() < 1e-12);
        // The tail at that quantile is 10 %.
        assert!((q.prob_wait_longer_than(q.wait_quantile_s(0.9)) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn erlang_c_two_servers_matches_hand_computation() {
        // c = 2, a = 1: C = (1/2 * 2/(2-1)) / (1 + 1 + 1) = 1/3; Wq = (1/3)/(2-1).
        let q = ErlangC::new(2, 1.0, 1.0).unwrap();
        assert!((q.prob_wait - 1.0 / 3.0).abs() < 1e-12);
        assert!((q.mean_wait_s() - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn mm1_time_in_system_is_exponential() {
        // M/M/1: T ~ Exp(mu - lambda), whatever t.
        let q = ErlangC::new(1, 0.6, 1.0).unwrap();
        for t in [0.1f64, 1.0, 2.5, 10.0] {
            let exact = (-0.4 * t).exp();
            assert!(
                (q.prob_response_longer_than(t) - exact).abs() < 1e-12,
                "t = {t}"
            );
        }
        // theta = mu: lambda = 1, mu = 1, c = 2 gives theta = 1.
        let q = ErlangC::new(2, 1.0, 1.0).unwrap();
        let c = q.prob_wait;
        let t: f64 = 1.5;
        let exact = (1.0 - c) * (-t).exp() + c * (1.0 + t) * (-t).exp();
        assert!((q.prob_response_longer_than(t) - exact).abs() < 1e-9);
    }

    #[test]
    fn erlang_c_rejects_bad_parameters() {
        assert_eq!(ErlangC::new(0, 1.0, 1.0), Err(QueueParamError::NoServers));
        assert!(matches!(
            ErlangC::new(2, -1.0, 1.0),
            Err(QueueParamError::BadRate { .. })
        ));
        assert!(matches!(
            ErlangC::new(2, 2.0, 1.0),
            Err(QueueParamError::Unstable { .. })
        ));
    }

    #[test]
    fn queue_is_fifo_and_reports_waits() {
        let mut q = MmcQueue::new(1);
        let s = SimDuration::from_secs;
        let t = |x| SimTime::ZERO + s(x);
        assert_eq!(
            q.arrive(t(0), s(5)),
            Some(Started {
                server: 0,
                departs_at: t(5)
            })
        );
        assert_eq!(q.arrive(t(1), s(2)), None);
        assert_eq!(q.arrive(t(2), s(3)), None);
        assert_eq!(q.queued(), 2);
        // First departure at 5: the customer who arrived at 1 starts, waited 4 s.
        assert_eq!(
            q.depart(t(5), 0),
            Some(Departed {
                arrived: t(0),
                wait: SimDuration::ZERO,
                next: Some(Started {
                    server: 0,
                    departs_at: t(7)
                }),
            })
        );
        let second = q.depart(t(7), 0).unwrap();
        assert_eq!((second.arrived, second.wait), (t(1), s(4)));
        let third = q.depart(t(10), 0).unwrap();
        assert_eq!((third.arrived, third.wait, third.next), (t(2), s(5), None));
        assert_eq!(q.busy(), 0);
        assert_eq!(q.depart(t(11), 0), None, "an idle server cannot depart");
        assert_eq!(q.depart(t(11), 7), None, "nor can one that does not exist");
    }

    #[test]
    fn servers_work_in_parallel() {
        let mut q = MmcQueue::new(2);
        let s = SimDuration::from_secs;
        let t = |x| SimTime::ZERO + s(x);
        let a = q.arrive(t(0), s(10)).unwrap();
        let b = q.arrive(t(1), s(1)).unwrap();
        assert_ne!(a.server, b.server);
        assert_eq!(q.arrive(t(1), s(1)), None);
        assert_eq!(q.busy(), 2);
        // The short job leaves first and its server takes the waiting customer.
        let left = q.depart(b.departs_at, b.server).unwrap();
        assert_eq!(left.arrived, t(1));
        assert_eq!(left.next.unwrap().server, b.server);
        assert_eq!(q.queued(), 0);
    }
}
