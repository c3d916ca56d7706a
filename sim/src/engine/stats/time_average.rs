//! The time-weighted average of a piecewise-constant signal, such as the
//! number of busy servers or of customers in the system.

use cutover_models::SimTime;

/// Accumulates the integral of a signal over time.
#[derive(Clone, Debug)]
pub struct TimeAverage {
    start: SimTime,
    last_change: SimTime,
    value: f64,
    /// Integral of the signal in value x nanoseconds (no division per change).
    area_ns: f64,
}

impl TimeAverage {
    /// A signal that holds `value` from `start`.
    pub fn new(start: SimTime, value: f64) -> Self {
        TimeAverage {
            start,
            last_change: start,
            value,
            area_ns: 0.0,
        }
    }

    /// The signal changes to `value` at `now`.
    pub fn set(&mut self, now: SimTime, value: f64) {
        if value == self.value {
            return;
        }
        self.area_ns += self.value * (now - self.last_change).as_nanos() as f64;
        self.last_change = now;
        self.value = value;
    }

    /// The current value of the signal.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// The time-weighted mean from the start until `now` (the current value
    /// if no time has passed).
    pub fn mean_until(&self, now: SimTime) -> f64 {
        let span_ns = (now - self.start).as_nanos() as f64;
        if span_ns <= 0.0 {
            return self.value;
        }
        (self.area_ns + self.value * (now - self.last_change).as_nanos() as f64) / span_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cutover_models::SimDuration;

    #[test]
    fn weights_each_value_by_how_long_it_held() {
        let t = |s| SimTime::ZERO + SimDuration::from_secs(s);
        let mut a = TimeAverage::new(t(0), 0.0);
        a.set(t(1), 4.0); // 0 for 1 s
        a.set(t(4), 1.0); // 4 for 3 s
                          // then 1 for 6 s: (0 + 12 + 6) / 10
        assert!((a.mean_until(t(10)) - 1.8).abs() < 1e-12);
        assert_eq!(a.value(), 1.0);
    }
}
