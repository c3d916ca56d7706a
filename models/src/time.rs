//! Simulated time as integer nanoseconds.
//!
//! Time never drifts: every instant and every span is a whole number of
//! nanoseconds. A `u64` of nanoseconds covers about 584 years, far beyond any
//! plan cutover simulates.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Nanoseconds in one second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// An instant of simulated time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// The last representable instant.
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// An instant `nanos` nanoseconds after the start.
    pub const fn from_nanos(nanos: u64) -> Self {
        SimTime(nanos)
    }

    /// Nanoseconds since the start.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds since the start, as a float (for reporting only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// The span from `earlier` to `self`; zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// The empty span.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A span of `nanos` nanoseconds.
    pub const fn from_nanos(nanos: u64) -> Self {
        SimDuration(nanos)
    }

    /// A span of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * 1_000_000)
    }

    /// A span of `secs` whole seconds.
    pub const fn from_secs(secs: u64) -> Self {
        SimDuration(secs * NANOS_PER_SEC)
    }

    /// A span of `secs` seconds, rounded to the nearest nanosecond.
    /// Negative and NaN inputs give zero; huge inputs saturate.
    pub fn from_secs_f64(secs: f64) -> Self {
        if secs.is_nan() || secs <= 0.0 {
            return SimDuration::ZERO;
        }
        // Adding one half and truncating rounds to nearest for positive
        // values without a call into libm's `round` (hot in every run); the
        // cast saturates at u64::MAX.
        SimDuration((secs * NANOS_PER_SEC as f64 + 0.5) as u64)
    }

    /// Nanoseconds in the span.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds in the span, as a float (for formulas and reporting).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// The span multiplied by a whole number, saturating.
    pub fn saturating_mul(self, factor: u64) -> SimDuration {
        SimDuration(self.0.saturating_mul(factor))
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    /// Saturates at [`SimTime::MAX`] rather than wrapping.
    fn add(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, rhs: SimDuration) {
        *self = *self + rhs;
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    /// Saturates at zero when `rhs` is later than `self`.
    fn sub(self, rhs: SimTime) -> SimDuration {
        self.saturating_since(rhs)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, rhs: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(rhs.0))
    }
}

impl fmt::Display for SimDuration {
    /// Formats for a reader, the one duration format of every report:
    /// below a minute in the largest unit that fits, with at most three
    /// decimals (`250 ms`, `1.5 s`, `15 s`); from a minute on, whole units
    /// from days down to seconds, zero ones left out (`4 min 10 s`, `2 h`,
    /// `1 d 3 h`), rounded to the second.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        if n == 0 {
            return write!(f, "0 s");
        }
        if n < 60 * NANOS_PER_SEC {
            let (size, name) = [(NANOS_PER_SEC, "s"), (1_000_000, "ms"), (1_000, "us")]
                .into_iter()
                .find(|(size, _)| n >= *size)
                .unwrap_or((1, "ns"));
            let v = format!("{:.3}", n as f64 / size as f64);
            let v = v.trim_end_matches('0').trim_end_matches('.');
            return write!(f, "{v} {name}");
        }
        // Rounded to the nearest second without overflowing near u64::MAX.
        let mut secs = n / NANOS_PER_SEC + u64::from(n % NANOS_PER_SEC >= NANOS_PER_SEC / 2);
        let mut parts = Vec::new();
        for (size, name) in [(86_400, "d"), (3_600, "h"), (60, "min"), (1, "s")] {
            if secs >= size {
                parts.push(format!("{} {name}", secs / size));
                secs %= size;
            }
        }
        write!(f, "{}", parts.join(" "))
    }
}

impl fmt::Display for SimTime {
    /// Formats as seconds since the start, e.g. `t=60.5s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}s", self.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_is_exact_and_saturating() {
        let t = SimTime::ZERO + SimDuration::from_millis(250) + SimDuration::from_millis(750);
        assert_eq!(t.as_nanos(), NANOS_PER_SEC);
        assert_eq!(SimTime::MAX + SimDuration::from_secs(1), SimTime::MAX);
        assert_eq!(SimTime::ZERO - t, SimDuration::ZERO);
        assert_eq!(t - SimTime::ZERO, SimDuration::from_secs(1));
    }

    #[test]
    fn from_secs_f64_rounds_and_clamps() {
        assert_eq!(SimDuration::from_secs_f64(1.5).as_nanos(), 1_500_000_000);
        assert_eq!(SimDuration::from_secs_f64(-3.0), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(f64::NAN), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(1e30).as_nanos(), u64::MAX);
    }

    #[test]
    fn the_longest_duration_displays_without_overflow() {
        // u64::MAX ns is 213,503 days, 23 h, 34 min and 33.7 s.
        assert_eq!(
            SimDuration::from_nanos(u64::MAX).to_string(),
            "213503 d 23 h 34 min 34 s"
        );
    }

    #[test]
    fn display_picks_a_readable_unit() {
        assert_eq!(SimDuration::from_millis(250).to_string(), "250 ms");
        assert_eq!(SimDuration::from_secs(15).to_string(), "15 s");
        assert_eq!(SimDuration::from_millis(1500).to_string(), "1.5 s");
        assert_eq!(SimDuration::from_secs(7200).to_string(), "2 h");
        assert_eq!(SimDuration::ZERO.to_string(), "0 s");
        // A 250 s drain, once printed "4.166666666666667m".
        assert_eq!(SimDuration::from_secs(250).to_string(), "4 min 10 s");
        assert_eq!(
            SimDuration::from_secs(86_400 + 3_600).to_string(),
            "1 d 1 h"
        );
        assert_eq!(SimDuration::from_nanos(1_234).to_string(), "1.234 us");
        assert_eq!(SimDuration::from_millis(59_999).to_string(), "59.999 s");
    }
}
