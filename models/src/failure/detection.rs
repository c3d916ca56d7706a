//! How the rest of the network notices that a site has failed.
//!
//! Each detector sends something periodically (a keepalive, a BFD packet, a
//! health probe) or watches the carrier of a link. A failure falls at a
//! uniformly random point between two periodic events, so the caller
//! supplies `u`, a uniform draw in [0, 1): the fraction of an interval that
//! elapsed between the last successful packet or probe and the failure.
//! `u = 0` (the packet arrived just as the failure struck) gives the longest
//! delay, `u -> 1` the shortest.

use std::fmt;

use crate::time::SimDuration;

/// How the rest of the network notices that a site has failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    /// BGP hold timer: the last keepalive arrived a uniform fraction of a
    /// keepalive interval before the failure.
    HoldTimer {
        /// Hold time: the session is declared down when no message arrived
        /// for this long.
        hold: SimDuration,
        /// Keepalive interval.
        keepalive: SimDuration,
    },
    /// BFD: detection after `multiplier` missed packets; the last packet
    /// arrived a uniform fraction of an interval before the failure, so
    /// delay = interval*multiplier - interval*u.
    Bfd {
        /// Transmit (and receive) interval.
        interval: SimDuration,
        /// Detect multiplier.
        multiplier: u32,
    },
    /// Interface/link down noticed by the neighbour's line card after a
    /// fixed delay (see [`Detection::DEFAULT_LINK_DOWN_DELAY`]). Only when
    /// the failed router is directly attached: behind a switch the
    /// neighbour's carrier stays up and only the hold timer or BFD help.
    LinkDown {
        /// Time from loss of carrier to the routing protocols hearing of it.
        delay: SimDuration,
    },
    /// A health checker (ExaBGP/keepalived style) probing every `interval`,
    /// each probe of the dead service failing after `timeout` (or at once
    /// if `refused`), withdrawing after `fall` consecutive failures; after
    /// the first failure it re-checks every `fast_interval` if given.
    /// (`rise` is how many successes bring the route back.)
    HealthCheck {
        /// Pause between probes while the state is steady.
        interval: SimDuration,
        /// How long a probe of a dead (hanging) service takes to fail.
        timeout: SimDuration,
        /// A probe of the dead service fails at once (its process is gone,
        /// the connection is refused) instead of hanging until `timeout`.
        refused: bool,
        /// Consecutive failed probes before the route is withdrawn.
        fall: u32,
        /// Consecutive successful probes before the route is announced again.
        rise: u32,
        /// Pause between probes while the state is changing (after a first
        /// failure or a first success); `None` keeps `interval`.
        fast_interval: Option<SimDuration>,
    },
}

impl Detection {
    /// BGP hold time 90 s: RFC 4271 section 10 suggests 90 s for the hold
    /// time and one third of it for the keepalive.
    pub const DEFAULT_HOLD: SimDuration = SimDuration::from_secs(90);
    /// BGP keepalive 30 s: RFC 4271 section 10 (a third of the hold time).
    pub const DEFAULT_KEEPALIVE: SimDuration = SimDuration::from_secs(30);
    /// BFD interval 300 ms: the usual operator default (Juniper's BFD
    /// guidance for BGP recommends a 300 ms minimum interval with
    /// multiplier 3 on routing-engine based sessions; RFC 5880 section 6.8.1
    /// leaves the value to the operator).
    pub const DEFAULT_BFD_INTERVAL: SimDuration = SimDuration::from_millis(300);
    /// BFD detect multiplier 3: RFC 5880 section 6.8.1 (Detect Mult), the
    /// default of Cisco, Juniper and Huawei configurations.
    pub const DEFAULT_BFD_MULTIPLIER: u32 = 3;
    /// Link-down notification 10 ms. Cisco IOS XR (Cisco 8000 Interface and
    /// Hardware Component Command Reference, `carrier-delay`) sets no
    /// carrier-delay down by default, notifying upper layers "as quickly as
    /// possible", and never processes a notification faster than 10 ms;
    /// we take that floor as the time a line card needs.
    pub const DEFAULT_LINK_DOWN_DELAY: SimDuration = SimDuration::from_millis(10);
    /// Health-check interval 5 s: ExaBGP `healthcheck.py`, `--interval`
    /// default (Exa-Networks/exabgp, src/exabgp/application/healthcheck.py).
    pub const DEFAULT_HEALTH_INTERVAL: SimDuration = SimDuration::from_secs(5);
    /// Health-check fast interval 1 s: ExaBGP `healthcheck.py`,
    /// `--fast-interval` default (used while RISING or FALLING).
    pub const DEFAULT_HEALTH_FAST_INTERVAL: SimDuration = SimDuration::from_secs(1);
    /// Health-check probe timeout 5 s: ExaBGP `healthcheck.py`, `--timeout`.
    pub const DEFAULT_HEALTH_TIMEOUT: SimDuration = SimDuration::from_secs(5);
    /// Health-check rise 3: ExaBGP `healthcheck.py`, `--rise`.
    pub const DEFAULT_HEALTH_RISE: u32 = 3;
    /// Health-check fall 3: ExaBGP `healthcheck.py`, `--fall`.
    pub const DEFAULT_HEALTH_FALL: u32 = 3;

    /// The hold timer with RFC 4271's suggested 90 s / 30 s.
    pub const fn hold_timer() -> Detection {
        Detection::HoldTimer {
            hold: Detection::DEFAULT_HOLD,
            keepalive: Detection::DEFAULT_KEEPALIVE,
        }
    }

    /// BFD at 300 ms x 3.
    pub const fn bfd() -> Detection {
        Detection::Bfd {
            interval: Detection::DEFAULT_BFD_INTERVAL,
            multiplier: Detection::DEFAULT_BFD_MULTIPLIER,
        }
    }

    /// Link down noticed after [`Detection::DEFAULT_LINK_DOWN_DELAY`].
    pub const fn link_down() -> Detection {
        Detection::LinkDown {
            delay: Detection::DEFAULT_LINK_DOWN_DELAY,
        }
    }

    /// ExaBGP `healthcheck.py` with its defaults: every 5 s, 5 s timeout,
    /// fall 3, rise 3, fast re-check every 1 s; a dead service's probes
    /// hang until the timeout.
    pub const fn health_check() -> Detection {
        Detection::HealthCheck {
            interval: Detection::DEFAULT_HEALTH_INTERVAL,
            timeout: Detection::DEFAULT_HEALTH_TIMEOUT,
            refused: false,
            fall: Detection::DEFAULT_HEALTH_FALL,
            rise: Detection::DEFAULT_HEALTH_RISE,
            fast_interval: Some(Detection::DEFAULT_HEALTH_FAST_INTERVAL),
        }
    }

    /// Time from the failure until it is detected, given `u`, a uniform
    /// draw in [0, 1) supplied by the caller (the phase of the last packet
    /// / probe). `u` is clamped into [0, 1].
    ///
    /// For a health check, the last successful probe started `u` of an
    /// interval before the service died; the next starts `(1 - u)` of an
    /// interval after, hangs for `timeout` (none if refused), and each of
    /// the `fall - 1` further probes follows after the fast interval and
    /// fails as slowly. ExaBGP's `healthcheck.py` loop: a failed probe in
    /// UP moves to FALLING, which sleeps `--fast`; DOWN after `--fall`
    /// failures (at once when `fall` is 1).
    pub fn delay(&self, u: f64) -> SimDuration {
        let u = clamp_unit(u);
        match *self {
            Detection::HoldTimer { hold, keepalive } => sub(hold, scale(keepalive, u)),
            Detection::Bfd {
                interval,
                multiplier,
            } => sub(
                interval.saturating_mul(u64::from(multiplier)),
                scale(interval, u),
            ),
            Detection::LinkDown { delay } => delay,
            Detection::HealthCheck { interval, fall, .. } => {
                let repeats = u64::from(fall.max(1) - 1);
                let (gap, failing) = (self.recheck_gap(), self.failing_probe());
                scale(interval, 1.0 - u) + failing + (gap + failing).saturating_mul(repeats)
            }
        }
    }

    /// Smallest and largest possible delay (u = 1 and u = 0 ends).
    pub fn bounds(&self) -> (SimDuration, SimDuration) {
        (self.delay(1.0), self.delay(0.0))
    }

    /// Expected delay (closed form): every delay is linear in `u`, so the
    /// mean is the midpoint of the bounds.
    pub fn mean(&self) -> SimDuration {
        let (lo, hi) = self.bounds();
        SimDuration::from_nanos(lo.as_nanos() + (hi.as_nanos() - lo.as_nanos()) / 2)
    }

    /// True when detection ends the BGP session (hold timer, BFD, link
    /// down): the neighbours drop every route learned over it. False for a
    /// health check, which makes the site stop announcing (a withdrawal)
    /// while its router lives.
    pub fn drops_session(&self) -> bool {
        !matches!(self, Detection::HealthCheck { .. })
    }

    /// Time until a recovered service is announced again (health check:
    /// rise probes; others: zero extra), given `u` in [0, 1), the phase of
    /// the last failed probe.
    ///
    /// While the service is down each probe cycle lasts the failing probe
    /// (`timeout`, or nothing if refused) plus `interval`; the first probe after the recovery
    /// starts `(1 - u)` of a cycle later and succeeds at once, and the
    /// `rise - 1` further successes follow the fast interval apart. A probe
    /// already in flight when the service returns counts as failed.
    pub fn recovery_delay(&self, u: f64) -> SimDuration {
        let u = clamp_unit(u);
        match *self {
            Detection::HealthCheck { interval, rise, .. } => {
                let repeats = u64::from(rise.max(1) - 1);
                scale(interval + self.failing_probe(), 1.0 - u)
                    + self.recheck_gap().saturating_mul(repeats)
            }
            _ => SimDuration::ZERO,
        }
    }

    /// How long a health check's probe of the dead service takes to fail.
    fn failing_probe(&self) -> SimDuration {
        match *self {
            Detection::HealthCheck {
                timeout, refused, ..
            } if !refused => timeout,
            _ => SimDuration::ZERO,
        }
    }

    /// Pause between probes while a health check's state is changing.
    fn recheck_gap(&self) -> SimDuration {
        match *self {
            Detection::HealthCheck {
                interval,
                fast_interval,
                ..
            } => fast_interval.unwrap_or(interval),
            _ => SimDuration::ZERO,
        }
    }
}

impl fmt::Display for Detection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Detection::HoldTimer { hold, keepalive } => {
                write!(f, "hold timer ({} hold, {} keepalive)", hold, keepalive)
            }
            Detection::Bfd {
                interval,
                multiplier,
            } => write!(f, "BFD ({} x {multiplier})", interval),
            Detection::LinkDown { delay } => {
                write!(f, "link down (noticed after {})", delay)
            }
            Detection::HealthCheck {
                interval,
                timeout,
                refused,
                fall,
                rise,
                fast_interval,
            } => {
                write!(f, "health check (every {}, ", interval)?;
                if refused {
                    write!(f, "probes refused")?;
                } else {
                    write!(f, "{} timeout", timeout)?;
                }
                write!(f, ", fall {fall}, rise {rise}")?;
                match fast_interval {
                    Some(fast) => write!(f, ", fast re-check {})", fast),
                    None => write!(f, ")"),
                }
            }
        }
    }
}

/// `u` clamped into [0, 1]; NaN counts as 0 (the longest delay).
fn clamp_unit(u: f64) -> f64 {
    if u.is_nan() {
        0.0
    } else {
        u.clamp(0.0, 1.0)
    }
}

/// `d * factor`, rounded to the nanosecond.
fn scale(d: SimDuration, factor: f64) -> SimDuration {
    SimDuration::from_secs_f64(d.as_secs_f64() * factor)
}

/// `a - b`, zero when `b` is longer.
fn sub(a: SimDuration, b: SimDuration) -> SimDuration {
    SimDuration::from_nanos(a.as_nanos().saturating_sub(b.as_nanos()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> SimDuration {
        SimDuration::from_secs(secs)
    }

    fn ms(millis: u64) -> SimDuration {
        SimDuration::from_millis(millis)
    }

    #[test]
    fn hold_timer_closed_forms() {
        let d = Detection::hold_timer();
        assert_eq!(d.bounds(), (s(60), s(90)));
        assert_eq!(d.mean(), s(75));
        // Last keepalive 0.25 x 30 s = 7.5 s before the crash: 82.5 s left.
        assert_eq!(d.delay(0.25), ms(82_500));
        assert!(d.drops_session());
        assert_eq!(d.recovery_delay(0.3), SimDuration::ZERO);
    }

    #[test]
    fn bfd_depends_on_the_last_packet() {
        let d = Detection::bfd();
        assert_eq!(d.bounds(), (ms(600), ms(900)));
        assert_eq!(d.mean(), ms(750));
        // 900 ms - 0.5 x 300 ms.
        assert_eq!(d.delay(0.5), ms(750));
        assert_eq!(d.delay(0.9), ms(630));
        let custom = Detection::Bfd {
            interval: ms(50),
            multiplier: 5,
        };
        assert_eq!(custom.bounds(), (ms(200), ms(250)));
    }

    #[test]
    fn link_down_is_fixed() {
        let d = Detection::link_down();
        assert_eq!(d.bounds(), (ms(10), ms(10)));
        assert_eq!(d.delay(0.7), ms(10));
        assert_eq!(d.mean(), ms(10));
        assert!(d.drops_session());
    }

    #[test]
    fn exabgp_health_check_withdrawal_time() {
        // Default healthcheck.py: next probe after (1 - u) x 5 s, hangs 5 s;
        // two more probes 1 s apart, each hanging 5 s: 17 s to 22 s.
        let d = Detection::health_check();
        assert_eq!(d.bounds(), (s(17), s(22)));
        assert_eq!(d.mean(), ms(19_500));
        assert_eq!(d.delay(0.2), s(21));
        assert!(!d.drops_session());
    }

    #[test]
    fn health_check_without_fast_interval_keeps_interval() {
        let d = Detection::HealthCheck {
            interval: s(10),
            timeout: s(2),
            refused: false,
            fall: 3,
            rise: 2,
            fast_interval: None,
        };
        // (1 - u) x 10 + 2 + 2 x (10 + 2) = 36 - 10u.
        assert_eq!(d.bounds(), (s(26), s(36)));
        assert_eq!(d.delay(0.5), s(31));
        // Down cycle 12 s: (1 - u) x 12 + 1 x 10.
        assert_eq!(d.recovery_delay(0.0), s(22));
        assert_eq!(d.recovery_delay(0.5), s(16));
    }

    #[test]
    fn fall_one_withdraws_on_the_first_failure() {
        let d = Detection::HealthCheck {
            interval: s(5),
            timeout: s(1),
            refused: false,
            fall: 1,
            rise: 1,
            fast_interval: Some(s(1)),
        };
        assert_eq!(d.bounds(), (s(1), s(6)));
        // One success brings it back: only the wait for the next probe.
        assert_eq!(d.recovery_delay(0.5), s(3));
    }

    #[test]
    fn default_health_check_recovery_takes_rise_probes() {
        // Down cycle 5 s + 5 s; then 2 more successes 1 s apart.
        let d = Detection::health_check();
        assert_eq!(d.recovery_delay(0.0), s(12));
        assert_eq!(d.recovery_delay(1.0), s(2));
    }

    #[test]
    fn a_refused_probe_fails_at_once() {
        // The process is gone: each probe fails without waiting. Next probe
        // after (1 - u) x 5 s, then two more 1 s apart: 2 s to 7 s.
        let refused = |fall| Detection::HealthCheck {
            interval: Detection::DEFAULT_HEALTH_INTERVAL,
            timeout: Detection::DEFAULT_HEALTH_TIMEOUT,
            refused: true,
            fall,
            rise: Detection::DEFAULT_HEALTH_RISE,
            fast_interval: Some(Detection::DEFAULT_HEALTH_FAST_INTERVAL),
        };
        let d = refused(3);
        assert_eq!(d.bounds(), (s(2), s(7)));
        assert_eq!(d.mean(), ms(4_500));
        assert_eq!(d.delay(0.2), s(6));
        // Down cycle 5 s (no hanging probe); then two successes 1 s apart.
        assert_eq!(d.recovery_delay(0.0), s(7));
        assert_eq!(d.recovery_delay(0.5), ms(4_500));
        assert_eq!(
            d.to_string(),
            "health check (every 5 s, probes refused, fall 3, rise 3, fast re-check 1 s)"
        );
        // fall 1 (ExaBGP goes DOWN on the first failure): only the wait.
        assert_eq!(refused(1).bounds(), (SimDuration::ZERO, s(5)));
    }

    #[test]
    fn out_of_range_draws_are_clamped() {
        let d = Detection::hold_timer();
        assert_eq!(d.delay(-1.0), s(90));
        assert_eq!(d.delay(2.0), s(60));
        assert_eq!(d.delay(f64::NAN), s(90));
    }

    #[test]
    fn display_is_short_and_human() {
        assert_eq!(
            Detection::hold_timer().to_string(),
            "hold timer (1 min 30 s hold, 30 s keepalive)"
        );
        assert_eq!(Detection::bfd().to_string(), "BFD (300 ms x 3)");
        assert_eq!(
            Detection::link_down().to_string(),
            "link down (noticed after 10 ms)"
        );
        assert_eq!(
            Detection::health_check().to_string(),
            "health check (every 5 s, 5 s timeout, fall 3, rise 3, fast re-check 1 s)"
        );
    }
}
