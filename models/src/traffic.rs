//! Traffic: demand as a rate of requests over time (the world splits it
//! over the populations and routes each by BGP).
//!
//! Demand is the sum of a diurnal base load, flash spikes of concurrent
//! users and a replayed trace. Users become requests through the
//! interactive response-time law X = N / (Z + R) (Jain, *The Art of
//! Computer Systems Performance Analysis*, 1991, section 33.2): N users who
//! each think for Z between responses taking R issue X requests per second.

use crate::time::{SimDuration, SimTime, NANOS_PER_SEC};

/// Seconds in a day.
const DAY_S: f64 = 86_400.0;

/// Request rate that follows the time of day: a cosine around a mean,
/// highest at `peak_at` after midnight (simulated time zero is midnight).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Diurnal {
    /// Mean rate over a day, requests per second.
    pub mean_rate_per_s: f64,
    /// Relative swing, 0 (flat) to 1 (zero at the trough).
    pub amplitude: f64,
    /// Time of day of the peak.
    pub peak_at: SimDuration,
}

impl Diurnal {
    /// Requests per second at `t`.
    pub fn rate_at(&self, t: SimTime) -> f64 {
        let phase = (t.as_secs_f64() - self.peak_at.as_secs_f64()) / DAY_S;
        let a = self.amplitude.clamp(0.0, 1.0);
        (self.mean_rate_per_s * (1.0 + a * (2.0 * std::f64::consts::PI * phase).cos())).max(0.0)
    }
}

/// A flash crowd: concurrent users rise linearly from `base_users` to
/// `peak_users` over `ramp` from `start`, stay for `hold`, and fall back
/// linearly over `decay`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlashSpike {
    /// When the rise begins.
    pub start: SimTime,
    /// Concurrent users before and after.
    pub base_users: f64,
    /// Concurrent users at the top.
    pub peak_users: f64,
    /// Length of the rise.
    pub ramp: SimDuration,
    /// Time at the top.
    pub hold: SimDuration,
    /// Length of the fall.
    pub decay: SimDuration,
}

impl FlashSpike {
    /// Concurrent users at `t`.
    pub fn users_at(&self, t: SimTime) -> f64 {
        let since = |s: SimTime| t.as_secs_f64() - s.as_secs_f64();
        let x = since(self.start);
        let ramp = self.ramp.as_secs_f64();
        let hold = self.hold.as_secs_f64();
        let decay = self.decay.as_secs_f64();
        let (lo, hi) = (self.base_users, self.peak_users);
        if x <= 0.0 {
            lo
        } else if x < ramp {
            lo + (hi - lo) * x / ramp
        } else if x <= ramp + hold {
            hi
        } else if x < ramp + hold + decay {
            hi - (hi - lo) * (x - ramp - hold) / decay
        } else {
            lo
        }
    }
}

/// Requests per second from `users` concurrent users who think `think` between
/// responses that take `response` (X = N / (Z + R)).
pub fn users_to_rate(users: f64, think: SimDuration, response: SimDuration) -> f64 {
    let cycle = think.as_secs_f64() + response.as_secs_f64();
    if cycle <= 0.0 {
        0.0
    } else {
        users.max(0.0) / cycle
    }
}

/// One row of a recorded trace: from `at` on, requests arrive at `rate_per_s`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TracePoint {
    /// When the rate starts to apply.
    pub at: SimTime,
    /// Requests per second.
    pub rate_per_s: f64,
}

/// Why a trace cannot be replayed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TraceError {
    /// Rows must be in time order without repeats.
    #[error("row {row}: time {at} is not after the previous row")]
    OutOfOrder {
        /// 0-based row.
        row: usize,
        /// Its time.
        at: SimTime,
    },
    /// Rates must be finite and not negative.
    #[error("row {row}: rate {rate} is not a finite number of zero or more")]
    BadRate {
        /// 0-based row.
        row: usize,
        /// The value.
        rate: f64,
    },
}

/// A recorded rate replayed as a step function: zero before the first row,
/// each row's rate until the next row, the last row's rate afterwards.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Trace {
    points: Vec<TracePoint>,
}

impl Trace {
    /// Checks the rows: strictly increasing times, finite rates >= 0.
    pub fn new(points: Vec<TracePoint>) -> Result<Self, TraceError> {
        for (row, p) in points.iter().enumerate() {
            if !(p.rate_per_s.is_finite() && p.rate_per_s >= 0.0) {
                return Err(TraceError::BadRate {
                    row,
                    rate: p.rate_per_s,
                });
            }
            if row > 0 && p.at <= points[row - 1].at {
                return Err(TraceError::OutOfOrder { row, at: p.at });
            }
        }
        Ok(Trace { points })
    }

    /// Requests per second at `t`.
    pub fn rate_at(&self, t: SimTime) -> f64 {
        let i = self.points.partition_point(|p| p.at <= t);
        if i == 0 {
            0.0
        } else {
            self.points[i - 1].rate_per_s
        }
    }
}

/// A population's demand: the sum of its parts.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Demand {
    /// Time-of-day base load.
    pub diurnal: Option<Diurnal>,
    /// Flash crowds, turned into requests with `think_time`.
    pub spikes: Vec<FlashSpike>,
    /// Think time Z of the spike users.
    pub think_time: SimDuration,
    /// A recorded rate added on top.
    pub trace: Option<Trace>,
}

impl Demand {
    /// Concurrent spike users at `t`.
    pub fn users_at(&self, t: SimTime) -> f64 {
        self.spikes.iter().map(|s| s.users_at(t)).sum()
    }

    /// Requests per second at `t`, with spike users' response time taken
    /// as negligible against their think time (open-loop demand).
    pub fn rate_at(&self, t: SimTime) -> f64 {
        let base = self.diurnal.map_or(0.0, |d| d.rate_at(t));
        let users = users_to_rate(self.users_at(t), self.think_time, SimDuration::ZERO);
        let trace = self.trace.as_ref().map_or(0.0, |tr| tr.rate_at(t));
        base + users + trace
    }

    /// Expected requests in `[from, from + dt)`, by the midpoint rule.
    pub fn requests_in(&self, from: SimTime, dt: SimDuration) -> f64 {
        let mid = from + SimDuration::from_nanos(dt.as_nanos() / 2);
        self.rate_at(mid) * dt.as_nanos() as f64 / NANOS_PER_SEC as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn story_spike_is_eight_thousand_requests_per_second() {
        // A few hundred to 80,000 users in under a minute; with a 10 s think
        // time the peak is 8,000 requests/s (the request-level figure).
        let spike = FlashSpike {
            start: t(60),
            base_users: 300.0,
            peak_users: 80_000.0,
            ramp: SimDuration::from_secs(50),
            hold: SimDuration::from_secs(600),
            decay: SimDuration::from_secs(300),
        };
        let d = Demand {
            spikes: vec![spike],
            think_time: SimDuration::from_secs(10),
            ..Demand::default()
        };
        assert_eq!(d.rate_at(t(0)), 30.0);
        assert!((d.users_at(t(85)) - 40_150.0).abs() < 1e-9);
        assert_eq!(d.rate_at(t(110)), 8_000.0);
        assert_eq!(d.rate_at(t(710)), 8_000.0);
        assert!((d.users_at(t(860)) - 40_150.0).abs() < 1e-9);
        assert_eq!(d.rate_at(t(2000)), 30.0);
        assert!((d.requests_in(t(110), SimDuration::from_secs(2)) - 16_000.0).abs() < 1e-9);
    }

    #[test]
    fn diurnal_peaks_and_troughs() {
        let d = Diurnal {
            mean_rate_per_s: 100.0,
            amplitude: 0.5,
            peak_at: SimDuration::from_secs(20 * 3600),
        };
        assert!((d.rate_at(t(20 * 3600)) - 150.0).abs() < 1e-9);
        assert!((d.rate_at(t(8 * 3600)) - 50.0).abs() < 1e-9);
    }

    #[test]
    fn trace_is_a_step_function_and_rejects_bad_rows() {
        let tr = Trace::new(vec![
            TracePoint {
                at: t(10),
                rate_per_s: 5.0,
            },
            TracePoint {
                at: t(20),
                rate_per_s: 7.0,
            },
        ])
        .unwrap();
        assert_eq!(tr.rate_at(t(0)), 0.0);
        assert_eq!(tr.rate_at(t(10)), 5.0);
        assert_eq!(tr.rate_at(t(19)), 5.0);
        assert_eq!(tr.rate_at(t(99)), 7.0);
        assert!(matches!(
            Trace::new(vec![
                TracePoint {
                    at: t(10),
                    rate_per_s: 5.0
                },
                TracePoint {
                    at: t(10),
                    rate_per_s: 5.0
                },
            ]),
            Err(TraceError::OutOfOrder { row: 1, .. })
        ));
        assert!(matches!(
            Trace::new(vec![TracePoint {
                at: t(1),
                rate_per_s: f64::NAN
            }]),
            Err(TraceError::BadRate { row: 0, .. })
        ));
    }

    #[test]
    fn response_time_slows_a_closed_population() {
        let r = users_to_rate(1000.0, SimDuration::from_secs(9), SimDuration::from_secs(1));
        assert_eq!(r, 100.0);
        assert_eq!(
            users_to_rate(10.0, SimDuration::ZERO, SimDuration::ZERO),
            0.0
        );
    }
}
