//! Route flap damping (RFC 2439): each flap of a route adds a penalty that
//! decays exponentially; above the suppress limit the route is not used
//! until the penalty has decayed below the reuse limit.
//!
//! The penalty never exceeds the ceiling `reuse * 2^(max_suppress /
//! half_life)` (RFC 2439 section 4.2), so no route stays suppressed longer
//! than `max_suppress` after its last flap.

use crate::time::{SimDuration, SimTime};

/// The parameters of RFC 2439 damping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DampingParams {
    /// Penalty added by one flap (a withdrawal).
    pub penalty: f64,
    /// Penalty added when a route is replaced by one with other attributes
    /// (e.g. a longer AS path during path exploration).
    pub attribute_change_penalty: f64,
    /// Above this penalty the route is suppressed.
    pub suppress: f64,
    /// Below this penalty a suppressed route is used again.
    pub reuse: f64,
    /// Time for the penalty to halve.
    pub half_life: SimDuration,
    /// Longest a route stays suppressed after its last flap.
    pub max_suppress: SimDuration,
}

impl DampingParams {
    /// Cisco IOS's defaults for `bgp dampening`: penalty 1000 per flap,
    /// half-life 15 min, reuse 750, suppress 2000, max suppress 60 min
    /// (Cisco IOS IP Configuration Guide, "Configuring BGP", route
    /// dampening; the algorithm of RFC 2439); 500 for an attribute change,
    /// hard-coded in IOS (AfNOG 2003 "BGP scaling" workshop slides,
    /// "Change in attribute gets penalty of 500").
    pub const CISCO: DampingParams = DampingParams {
        penalty: 1000.0,
        attribute_change_penalty: 500.0,
        suppress: 2000.0,
        reuse: 750.0,
        half_life: SimDuration::from_secs(15 * 60),
        max_suppress: SimDuration::from_secs(60 * 60),
    };

    /// The highest penalty a route can carry: `reuse * 2^(max_suppress /
    /// half_life)` (RFC 2439 section 4.2); 12 000 with Cisco's defaults.
    pub fn ceiling(&self) -> f64 {
        self.reuse * (self.max_suppress.as_secs_f64() / self.half_life.as_secs_f64()).exp2()
    }

    /// `penalty` after decaying for `elapsed`.
    pub fn decay(&self, penalty: f64, elapsed: SimDuration) -> f64 {
        penalty * (-elapsed.as_secs_f64() / self.half_life.as_secs_f64()).exp2()
    }

    /// Time for `penalty` to decay to the reuse limit: `half_life *
    /// log2(penalty / reuse)`, zero when already below it.
    pub fn time_to_reuse(&self, penalty: f64) -> SimDuration {
        if penalty <= self.reuse {
            return SimDuration::ZERO;
        }
        SimDuration::from_secs_f64(self.half_life.as_secs_f64() * (penalty / self.reuse).log2())
    }
}

impl Default for DampingParams {
    fn default() -> Self {
        DampingParams::CISCO
    }
}

/// The damping state of one route (or one session's routes), sans-IO: the
/// caller reports flaps with the current time and asks whether the route
/// may be used.
#[derive(Debug, Clone, PartialEq)]
pub struct Damping {
    params: DampingParams,
    /// Penalty as of `updated`.
    penalty: f64,
    updated: SimTime,
    suppressed_until: Option<SimTime>,
}

impl Damping {
    /// A route that never flapped.
    pub fn new(params: DampingParams) -> Self {
        Damping {
            params,
            penalty: 0.0,
            updated: SimTime::ZERO,
            suppressed_until: None,
        }
    }

    /// The parameters.
    pub fn params(&self) -> &DampingParams {
        &self.params
    }

    /// The penalty at `now` (decayed since the last flap).
    pub fn penalty_at(&self, now: SimTime) -> f64 {
        self.params
            .decay(self.penalty, now.saturating_since(self.updated))
    }

    /// Records one flap at `now`; returns the end of suppression if the
    /// route is (still) suppressed. A suppressed route stays suppressed
    /// until its penalty falls below the reuse limit even when a flap
    /// leaves it under the suppress limit.
    pub fn flap(&mut self, now: SimTime) -> Option<SimTime> {
        self.penalise(now, self.params.penalty)
    }

    /// Records a change of the route's attributes at `now`, as
    /// [`Self::flap`] does a withdrawal.
    pub fn attribute_change(&mut self, now: SimTime) -> Option<SimTime> {
        self.penalise(now, self.params.attribute_change_penalty)
    }

    /// Adds `amount` to the penalty at `now`; returns the end of
    /// suppression if the route is (still) suppressed.
    fn penalise(&mut self, now: SimTime, amount: f64) -> Option<SimTime> {
        let p = (self.penalty_at(now) + amount).min(self.params.ceiling());
        self.penalty = p;
        self.updated = now;
        if p > self.params.suppress || self.is_suppressed(now) {
            let until = now + self.params.time_to_reuse(p);
            self.suppressed_until = Some(until);
            Some(until)
        } else {
            None
        }
    }

    /// Whether the route is suppressed at `now`.
    pub fn is_suppressed(&self, now: SimTime) -> bool {
        self.suppressed_until.is_some_and(|t| now < t)
    }

    /// When the latest suppression ends (or ended), if the route was ever
    /// suppressed.
    pub fn suppressed_until(&self) -> Option<SimTime> {
        self.suppressed_until
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SimTime {
        SimTime::from_nanos(secs * 1_000_000_000)
    }

    #[test]
    fn cisco_ceiling_is_twelve_thousand() {
        // 750 x 2^(60 / 15).
        assert!((DampingParams::CISCO.ceiling() - 12_000.0).abs() < 1e-9);
    }

    #[test]
    fn penalty_halves_every_half_life() {
        let p = DampingParams::CISCO;
        assert!((p.decay(2000.0, SimDuration::from_secs(900)) - 1000.0).abs() < 1e-9);
        assert!((p.decay(2000.0, SimDuration::from_secs(1800)) - 500.0).abs() < 1e-9);
    }

    #[test]
    fn two_flaps_do_not_suppress_three_do() {
        let mut d = Damping::new(DampingParams::CISCO);
        assert_eq!(d.flap(at(0)), None);
        // 1000 + 1000 = 2000 is not above the suppress limit.
        assert_eq!(d.flap(at(0)), None);
        let until = d.flap(at(0)).expect("3000 > 2000 suppresses");
        // Reuse after half_life * log2(3000 / 750) = 15 min * 2 = 30 min.
        assert_eq!(until, at(1800));
        assert!(d.is_suppressed(at(1799)));
        assert!(!d.is_suppressed(at(1800)));
    }

    #[test]
    fn time_to_reuse_after_k_back_to_back_flaps() {
        // k flaps at once: penalty 1000 k, reuse after 900 s * log2(1000 k / 750).
        for k in 3..=8u32 {
            let mut d = Damping::new(DampingParams::CISCO);
            let mut until = None;
            for _ in 0..k {
                until = d.flap(at(100));
            }
            let expected = 900.0 * (1000.0 * f64::from(k) / 750.0).log2();
            let got = until.expect("suppressed").saturating_since(at(100));
            assert!((got.as_secs_f64() - expected).abs() < 1e-6, "k={k}");
        }
    }

    #[test]
    fn flaps_spaced_by_a_half_life_accumulate_to_a_limit() {
        // Flapping every half-life: p_n = 1000 + p_{n-1} / 2 tends to 2000
        // and never exceeds it, so the route is never suppressed.
        let mut d = Damping::new(DampingParams::CISCO);
        for n in 0..20 {
            assert_eq!(d.flap(at(900 * n)), None, "flap {n}");
        }
        assert!(d.penalty_at(at(900 * 19)) < 2000.0);
    }

    #[test]
    fn attribute_changes_count_half_a_flap() {
        // Three path changes and a withdrawal at once: 3 x 500 + 1000.
        let mut d = Damping::new(DampingParams::CISCO);
        for _ in 0..3 {
            assert_eq!(d.attribute_change(at(0)), None);
        }
        assert!((d.penalty_at(at(0)) - 1500.0).abs() < 1e-9);
        let until = d.flap(at(0)).expect("2500 > 2000");
        let expected = 900.0 * (2500.0f64 / 750.0).log2();
        assert!((until.as_secs_f64() - expected).abs() < 1e-6);
    }

    #[test]
    fn max_suppress_caps_the_penalty() {
        let mut d = Damping::new(DampingParams::CISCO);
        let mut until = None;
        for _ in 0..50 {
            until = d.flap(at(10));
        }
        assert!((d.penalty_at(at(10)) - 12_000.0).abs() < 1e-6);
        assert_eq!(until, Some(at(10 + 3600)));
    }

    #[test]
    fn a_suppressed_route_stays_suppressed_below_the_suppress_limit() {
        let mut d = Damping::new(DampingParams::CISCO);
        for _ in 0..3 {
            d.flap(at(0));
        }
        // After 25 min the penalty is 3000 x 2^(-5/3) = 945; one more flap
        // gives 1945 < 2000, but the route was still suppressed.
        let until = d.flap(at(1500)).expect("still suppressed");
        let p: f64 = 3000.0 * (-1500.0f64 / 900.0).exp2() + 1000.0;
        let expected = 1500.0 + 900.0 * (p / 750.0).log2();
        assert!((until.as_secs_f64() - expected).abs() < 1e-6);
    }
}
