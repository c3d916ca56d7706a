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
/// A day, nanoseconds.
const DAY_NS: u64 = 86_400 * NANOS_PER_SEC;

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
    /// Requests per second at `t`: a function of the time of day only
    /// (the time since the peak taken modulo a day in whole nanoseconds),
    /// so that every day's rates are the same to the bit.
    pub fn rate_at(&self, t: SimTime) -> f64 {
        let since_peak = (i128::from(t.as_nanos()) - i128::from(self.peak_at.as_nanos()))
            .rem_euclid(i128::from(DAY_NS));
        let phase = since_peak as f64 / DAY_NS as f64;
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

/// How a trace's rate runs between two rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Interpolation {
    /// Each row's rate holds until the next row.
    #[default]
    Step,
    /// The rate runs in a straight line from each row to the next.
    Linear,
}

/// A recorded rate replayed between its rows as a step function or in
/// straight lines: zero before the first row, the last row's rate
/// afterwards.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Trace {
    points: Vec<TracePoint>,
    interpolation: Interpolation,
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
        Ok(Trace {
            points,
            interpolation: Interpolation::Step,
        })
    }

    /// The same rows replayed with `interpolation`.
    pub fn with_interpolation(mut self, interpolation: Interpolation) -> Self {
        self.interpolation = interpolation;
        self
    }

    /// The same trace with every rate multiplied by `factor` (>= 0).
    pub fn scaled(&self, factor: f64) -> Self {
        let points = self
            .points
            .iter()
            .map(|p| TracePoint {
                at: p.at,
                rate_per_s: p.rate_per_s * factor.max(0.0),
            })
            .collect();
        Trace {
            points,
            interpolation: self.interpolation,
        }
    }

    /// The rows, in time order.
    pub fn points(&self) -> &[TracePoint] {
        &self.points
    }

    /// Requests per second at `t`.
    pub fn rate_at(&self, t: SimTime) -> f64 {
        let i = self.points.partition_point(|p| p.at <= t);
        if i == 0 {
            return 0.0;
        }
        let a = self.points[i - 1];
        match (self.interpolation, self.points.get(i)) {
            (Interpolation::Linear, Some(b)) => {
                let span = (b.at.as_nanos() - a.at.as_nanos()) as f64;
                let x = (t.as_nanos() - a.at.as_nanos()) as f64 / span;
                a.rate_per_s + (b.rate_per_s - a.rate_per_s) * x
            }
            _ => a.rate_per_s,
        }
    }
}

/// A counter's samples `(seconds, requests so far)` turned into the mean
/// rate of each interval between two samples, `(interval start, requests
/// per second)`, with the indices of the samples where the counter reset.
/// A decrease is read as a reset to zero, as Prometheus's `rate()` reads
/// it: the interval's increase is then the new value alone.
pub fn counter_rates(samples: &[(f64, f64)]) -> (Vec<(f64, f64)>, Vec<usize>) {
    let mut rates = Vec::with_capacity(samples.len().saturating_sub(1));
    let mut resets = Vec::new();
    for (i, w) in samples.windows(2).enumerate() {
        let ((t0, v0), (t1, v1)) = (w[0], w[1]);
        let increase = if v1 < v0 {
            resets.push(i + 1);
            v1
        } else {
            v1 - v0
        };
        let span = t1 - t0;
        rates.push((t0, if span > 0.0 { increase / span } else { 0.0 }));
    }
    (rates, resets)
}

/// The sampling step of series: the shortest interval between two
/// consecutive samples of any of them (a range query's `step`), if any
/// series has two samples.
pub fn sampling_step(series: &[&[(f64, f64)]]) -> Option<f64> {
    series
        .iter()
        .flat_map(|s| s.windows(2).map(|w| w[1].0 - w[0].0))
        .filter(|&d| d > 0.0)
        .reduce(f64::min)
}

/// The indices `i` of the samples after which more than `max_steps`
/// steps pass before the next one: the gaps of a series.
pub fn gaps(samples: &[(f64, f64)], step: f64, max_steps: f64) -> Vec<usize> {
    // A thousandth of a step absorbs timestamps rounded to milliseconds.
    let limit = step * (max_steps + 1e-3);
    samples
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[1].0 - w[0].0 > limit)
        .map(|(i, _)| i)
        .collect()
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
    /// Recorded rates of single populations, by population index (empty:
    /// none). Unlike the parts above, which all users share by their
    /// weights, each enters where its population is.
    pub by_population: Vec<Option<Trace>>,
}

impl Demand {
    /// Concurrent spike users at `t`.
    pub fn users_at(&self, t: SimTime) -> f64 {
        self.spikes.iter().map(|s| s.users_at(t)).sum()
    }

    /// Requests per second at `t` that all users share by their weights,
    /// with spike users' response time taken as negligible against their
    /// think time (open-loop demand).
    pub fn shared_rate_at(&self, t: SimTime) -> f64 {
        let base = self.diurnal.map_or(0.0, |d| d.rate_at(t));
        let users = users_to_rate(self.users_at(t), self.think_time, SimDuration::ZERO);
        let trace = self.trace.as_ref().map_or(0.0, |tr| tr.rate_at(t));
        base + users + trace
    }

    /// Requests per second at `t` of population `p`'s own recorded rate.
    pub fn population_rate_at(&self, p: usize, t: SimTime) -> f64 {
        match self.by_population.get(p) {
            Some(Some(trace)) => trace.rate_at(t),
            _ => 0.0,
        }
    }

    /// Requests per second at `t` of all users together.
    pub fn rate_at(&self, t: SimTime) -> f64 {
        let own: f64 = (0..self.by_population.len())
            .map(|p| self.population_rate_at(p, t))
            .sum();
        self.shared_rate_at(t) + own
    }

    /// Until when, from `from` on, the demand is a function of the time of
    /// day only (the diurnal base; spikes before they start or after they
    /// end; traces before their first row or after their last): `None` if
    /// it is not at `from`, [`SimTime::MAX`] if it stays so.
    pub fn time_of_day_only_until(&self, from: SimTime) -> Option<SimTime> {
        let mut until = SimTime::MAX;
        for s in &self.spikes {
            let end = s.start + s.ramp + s.hold + s.decay;
            if from >= s.start && from < end {
                return None;
            }
            if s.start >= from {
                until = until.min(s.start);
            }
        }
        let traces = self.trace.iter().chain(self.by_population.iter().flatten());
        for trace in traces {
            let (Some(first), Some(last)) = (trace.points().first(), trace.points().last()) else {
                continue;
            };
            if from < first.at {
                until = until.min(first.at);
            } else if from < last.at {
                return None;
            }
        }
        Some(until)
    }

    /// Expected shared requests in `[from, from + dt)`, by the midpoint rule.
    pub fn shared_requests_in(&self, from: SimTime, dt: SimDuration) -> f64 {
        over(self.shared_rate_at(midpoint(from, dt)), dt)
    }

    /// Expected requests of population `p`'s own rate in `[from, from +
    /// dt)`, by the midpoint rule.
    pub fn population_requests_in(&self, p: usize, from: SimTime, dt: SimDuration) -> f64 {
        over(self.population_rate_at(p, midpoint(from, dt)), dt)
    }

    /// Expected requests of all users in `[from, from + dt)`, by the
    /// midpoint rule.
    pub fn requests_in(&self, from: SimTime, dt: SimDuration) -> f64 {
        over(self.rate_at(midpoint(from, dt)), dt)
    }
}

fn midpoint(from: SimTime, dt: SimDuration) -> SimTime {
    from + SimDuration::from_nanos(dt.as_nanos() / 2)
}

/// Requests at `rate_per_s` over `dt` (the product before the division,
/// so that every run's figures stay those of earlier versions to the bit).
fn over(rate_per_s: f64, dt: SimDuration) -> f64 {
    rate_per_s * dt.as_nanos() as f64 / NANOS_PER_SEC as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    /// Each day's rate is the same to the bit, whatever the day.
    #[test]
    fn a_diurnal_day_repeats_exactly() {
        let d = Diurnal {
            mean_rate_per_s: 3600.0,
            amplitude: 0.4,
            peak_at: SimDuration::from_secs(20 * 3600),
        };
        let day = SimDuration::from_secs(86_400);
        for s in [0, 1, 3 * 3600, 20 * 3600, 86_399] {
            let first = d.rate_at(t(s));
            for k in 1..60u64 {
                assert_eq!(
                    d.rate_at(t(s) + day.saturating_mul(k)).to_bits(),
                    first.to_bits()
                );
            }
        }
        assert!((d.rate_at(t(20 * 3600)) - 3600.0 * 1.4).abs() < 1e-9);
        assert!((d.rate_at(t(8 * 3600)) - 3600.0 * 0.6).abs() < 1e-9);
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
    fn linear_trace_interpolates_and_holds_the_last_rate() {
        let tr = Trace::new(vec![
            TracePoint {
                at: t(10),
                rate_per_s: 10.0,
            },
            TracePoint {
                at: t(20),
                rate_per_s: 30.0,
            },
        ])
        .unwrap()
        .with_interpolation(Interpolation::Linear);
        assert_eq!(tr.rate_at(t(5)), 0.0);
        assert_eq!(tr.rate_at(t(15)), 20.0);
        assert_eq!(tr.rate_at(t(40)), 30.0);
        assert_eq!(tr.scaled(0.5).rate_at(t(15)), 10.0);
    }

    #[test]
    fn counter_decrease_is_a_reset_as_prometheus_rate_reads_it() {
        // 0 -> 600 -> 1200 in two minutes, then the process restarts and
        // counts 300 in the third: the third minute's rate is 300 / 60.
        let (rates, resets) =
            counter_rates(&[(0.0, 0.0), (60.0, 600.0), (120.0, 1200.0), (180.0, 300.0)]);
        assert_eq!(rates, vec![(0.0, 10.0), (60.0, 10.0), (120.0, 5.0)]);
        assert_eq!(resets, vec![3]);
    }

    #[test]
    fn gaps_are_intervals_longer_than_the_allowed_steps() {
        let a = [(0.0, 1.0), (60.0, 1.0), (300.0, 1.0), (360.0, 1.0)];
        let b = [(0.0, 1.0), (120.0, 1.0)];
        let step = sampling_step(&[&a, &b]).unwrap();
        assert_eq!(step, 60.0);
        assert_eq!(gaps(&a, step, 1.0), vec![1]);
        assert_eq!(gaps(&b, step, 1.0), vec![0]);
        assert!(gaps(&b, step, 2.0).is_empty());
        assert_eq!(sampling_step(&[&[(0.0, 1.0)]]), None);
    }

    #[test]
    fn population_rates_add_to_the_shared_demand() {
        let own = Trace::new(vec![TracePoint {
            at: t(0),
            rate_per_s: 7.0,
        }])
        .unwrap();
        let d = Demand {
            diurnal: Some(Diurnal {
                mean_rate_per_s: 100.0,
                amplitude: 0.0,
                peak_at: SimDuration::ZERO,
            }),
            by_population: vec![None, Some(own)],
            ..Demand::default()
        };
        assert_eq!(d.shared_rate_at(t(5)), 100.0);
        assert_eq!(d.population_rate_at(0, t(5)), 0.0);
        assert_eq!(d.population_rate_at(1, t(5)), 7.0);
        assert_eq!(d.rate_at(t(5)), 107.0);
        let two = SimDuration::from_secs(2);
        assert_eq!(d.population_requests_in(1, t(0), two), 14.0);
        assert_eq!(d.shared_requests_in(t(0), two), 200.0);
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
