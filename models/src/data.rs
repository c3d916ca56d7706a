//! Replicated data and recovery objectives: what a failure costs in data,
//! not only in requests.
//!
//! A data class is replicated from the site that takes its writes to the
//! others in one of three ways, each with its window of writes that the
//! other sites do not have yet when the site dies:
//!
//! - **synchronous** (a double write acknowledged by both copies): none;
//! - **stream** (asynchronous, e.g. Kafka or streaming replication, with a
//!   lag): the writes of the last `lag`, the lag drawn by the caller from
//!   the class's range;
//! - **archive** (periodic copies, e.g. WAL archiving or a batch copy,
//!   every `interval` from `offset`): the writes since the last copy.
//!
//! The writes lost are the site's write rate times that window, and the
//! window is the recovery point reached, which the class's RPO target
//! judges. Services carry a tier and an RTO target, which the world's time
//! to recover (detection, failover and warm-up) judges.
//!
//! A class may declare what its replication sends over the network
//! ([`ChangeTraffic`]): each write's change is `change_bytes` on the wire
//! and leaves in `copies` copies (every other site in service, or a
//! number), so a site writing `w` per second sends `w x size x copies`
//! bytes per second: a stream as it writes, a synchronous double write as
//! it writes, an archive as each copy runs.
//!
//! Closed forms: with writes at a constant rate `w`, a stream with lag `L`
//! loses `w L` (on average `w (L_lo + L_hi) / 2` for a lag uniform over
//! its range); an archive every `I` loses `w (t - last copy)`, on average
//! `w I / 2` over failure times uniform over a whole number of intervals.

use crate::time::{SimDuration, SimTime};

/// How a data class reaches the other sites.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replication {
    /// Every write is acknowledged by two copies before it completes.
    Synchronous,
    /// Writes stream to the other sites with a lag, uniform between the
    /// two bounds.
    Stream {
        /// Shortest lag.
        lag_low: SimDuration,
        /// Longest lag.
        lag_high: SimDuration,
    },
    /// Writes are copied to the other sites every `interval`, the first
    /// copy at `offset` after the start of the run.
    Archive {
        /// Time between copies, above zero.
        interval: SimDuration,
        /// When the first copy runs.
        offset: SimDuration,
    },
}

impl Replication {
    /// The span of writes the other sites do not have when the writing
    /// site dies at `at`: none when synchronous; the lag at `u` (0 to 1)
    /// along its range for a stream; the time since the last copy for an
    /// archive (everything since the start before the first copy).
    pub fn unreplicated(&self, at: SimTime, u: f64) -> SimDuration {
        match *self {
            Replication::Synchronous => SimDuration::ZERO,
            Replication::Stream { lag_low, lag_high } => {
                let span = lag_high.as_nanos().saturating_sub(lag_low.as_nanos());
                let extra = (span as f64 * u.clamp(0.0, 1.0)).round() as u64;
                SimDuration::from_nanos(lag_low.as_nanos() + extra.min(span))
            }
            Replication::Archive { interval, offset } => {
                let t = at.as_nanos();
                let (i, o) = (interval.as_nanos().max(1), offset.as_nanos());
                if t < o {
                    return SimDuration::from_nanos(t);
                }
                SimDuration::from_nanos((t - o) % i)
            }
        }
    }

    /// The mean unreplicated span over the lag's range (a stream) or over
    /// failure times uniform across whole intervals (an archive).
    pub fn mean_unreplicated(&self) -> SimDuration {
        match *self {
            Replication::Synchronous => SimDuration::ZERO,
            Replication::Stream { lag_low, lag_high } => {
                SimDuration::from_nanos((lag_low.as_nanos() + lag_high.as_nanos()) / 2)
            }
            Replication::Archive { interval, .. } => {
                SimDuration::from_nanos(interval.as_nanos() / 2)
            }
        }
    }

    /// The mode's name as scenario files write it.
    pub fn name(&self) -> &'static str {
        match self {
            Replication::Synchronous => "synchronous",
            Replication::Stream { .. } => "stream",
            Replication::Archive { .. } => "archive",
        }
    }
}

/// How fast a site writes a class.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WriteRate {
    /// A fixed rate per site, writes per second.
    PerSecond(f64),
    /// A share of the requests the site serves (0 to 1).
    ShareOfRequests(f64),
}

impl WriteRate {
    /// Writes per second at a site serving `requests_per_s`.
    pub fn at(&self, requests_per_s: f64) -> f64 {
        match *self {
            WriteRate::PerSecond(w) => w,
            WriteRate::ShareOfRequests(s) => s * requests_per_s.max(0.0),
        }
    }

    /// Writes per request at a site serving `requests_per_s`: the share,
    /// or the fixed rate over the request rate (none while it serves none).
    pub fn per_request(&self, requests_per_s: f64) -> f64 {
        match *self {
            WriteRate::PerSecond(w) if requests_per_s > 0.0 => w / requests_per_s,
            WriteRate::PerSecond(_) => 0.0,
            WriteRate::ShareOfRequests(s) => s,
        }
    }
}

/// A class of data, its replication and its recovery point objective.
#[derive(Clone, Debug, PartialEq)]
pub struct DataClass {
    /// Its name in reports.
    pub name: String,
    /// How it reaches the other sites.
    pub replication: Replication,
    /// How fast each site writes it.
    pub writes: WriteRate,
    /// The most data, as a span of writes, a failure may lose.
    pub rpo: SimDuration,
    /// How fast a stream replays its backlog after a partition heals,
    /// writes per second; none: not declared.
    pub catch_up: Option<f64>,
    /// What its replication sends over the network; none: not declared
    /// (its traffic is not measured).
    pub traffic: Option<ChangeTraffic>,
}

/// How many copies of each change leave the writing site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Copies {
    /// One to every other site in service (a fan-out to the other regions).
    AllOthers,
    /// A fixed number (a synchronous double write: 1).
    Count(u32),
}

impl Copies {
    /// Copies of each change when `other_sites` other sites are in service.
    pub fn at(&self, other_sites: usize) -> f64 {
        match *self {
            Copies::AllOthers => other_sites as f64,
            Copies::Count(n) => f64::from(n),
        }
    }
}

/// The network traffic of a class's replication: each write sends a
/// change of `change_bytes` to `copies` other sites.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChangeTraffic {
    /// Bytes of one write's change (payload and framing) on the wire.
    pub change_bytes: f64,
    /// How many copies leave.
    pub copies: Copies,
}

impl ChangeTraffic {
    /// Bytes that leave the site for `writes` writes with `other_sites`
    /// other sites in service: writes x change size x copies.
    pub fn bytes(&self, writes: f64, other_sites: usize) -> f64 {
        writes * self.change_bytes * self.copies.at(other_sites)
    }
}

/// What a site's death cost one data class.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DataLoss {
    /// The site's write rate at the failure, writes per second.
    pub write_rate: f64,
    /// The recovery point reached: the span of writes not replicated.
    pub window: SimDuration,
    /// Writes lost: the rate times the window.
    pub lost_writes: f64,
    /// Whether the window is within the RPO.
    pub rpo_met: bool,
}

impl DataClass {
    /// The loss when a site serving `requests_per_s` dies at `at`, the
    /// lag (if any) at `u` along its range, after draining for `drain` (a
    /// clean shutdown: the stream catches up for that long; an archive
    /// copies on its own schedule).
    pub fn loss(&self, at: SimTime, requests_per_s: f64, u: f64, drain: SimDuration) -> DataLoss {
        let mut window = self.replication.unreplicated(at, u);
        if let Replication::Stream { .. } = self.replication {
            window = SimDuration::from_nanos(window.as_nanos().saturating_sub(drain.as_nanos()));
        }
        let write_rate = self.writes.at(requests_per_s);
        DataLoss {
            write_rate,
            window,
            lost_writes: write_rate * window.as_secs_f64(),
            rpo_met: window <= self.rpo,
        }
    }
}

impl DataClass {
    /// How long a stream takes to replay `backlog` writes after a
    /// partition heals, new writes arriving at `write_rate`: the backlog
    /// over the spare rate, `backlog / (catch_up - write_rate)`; none when
    /// the class declares no catch-up rate or it is not above the write
    /// rate (the backlog never drains).
    pub fn drain_time(&self, backlog: f64, write_rate: f64) -> Option<SimDuration> {
        let spare = self.catch_up? - write_rate;
        (spare > 0.0).then(|| SimDuration::from_secs_f64(backlog.max(0.0) / spare))
    }
}

/// How stale a stream's replica is `since_heal` after a partition of
/// length `cut` healed, its backlog draining in `drain`: the replay runs
/// in write order, so staleness falls linearly from `cut` at the heal to
/// none when the backlog is gone (the class's own lag aside).
pub fn staleness_while_draining(
    cut: SimDuration,
    since_heal: SimDuration,
    drain: SimDuration,
) -> SimDuration {
    if drain == SimDuration::ZERO || since_heal >= drain {
        return SimDuration::ZERO;
    }
    let left = 1.0 - since_heal.as_secs_f64() / drain.as_secs_f64();
    SimDuration::from_secs_f64(cut.as_secs_f64() * left)
}

/// A service, its tier and its recovery time objective.
#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    /// Its name in reports.
    pub name: String,
    /// Its tier, e.g. "P0".
    pub tier: String,
    /// The longest its users may be without it after a failure.
    pub rto: SimDuration,
}

impl Service {
    /// Whether a recovery taking `recovered` (none: not within the run)
    /// meets the RTO.
    pub fn rto_met(&self, recovered: Option<SimDuration>) -> bool {
        recovered.is_some_and(|r| r <= self.rto)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> SimDuration {
        SimDuration::from_secs(secs)
    }

    fn at(secs: u64) -> SimTime {
        SimTime::ZERO + s(secs)
    }

    #[test]
    fn synchronous_loses_nothing() {
        let c = DataClass {
            name: "orders".into(),
            replication: Replication::Synchronous,
            writes: WriteRate::PerSecond(50.0),
            rpo: SimDuration::ZERO,
            catch_up: None,
            traffic: None,
        };
        let l = c.loss(at(1234), 1000.0, 0.7, SimDuration::ZERO);
        assert_eq!(l.lost_writes, 0.0);
        assert!(l.rpo_met);
    }

    #[test]
    fn stream_loses_rate_times_lag() {
        let c = DataClass {
            name: "users".into(),
            replication: Replication::Stream {
                lag_low: s(1),
                lag_high: s(2),
            },
            writes: WriteRate::ShareOfRequests(0.05),
            rpo: s(300),
            catch_up: Some(500.0),
            traffic: None,
        };
        // 2,000 requests/s, 5 % writes = 100 writes/s; lag 1.25 s at u = 0.25.
        let l = c.loss(at(60), 2000.0, 0.25, SimDuration::ZERO);
        assert_eq!(l.window, SimDuration::from_millis(1250));
        assert!((l.lost_writes - 125.0).abs() < 1e-9);
        assert!(l.rpo_met);
        // A clean shutdown draining for 1 s leaves 0.25 s; for 2 s, none.
        let drained = c.loss(at(60), 2000.0, 0.25, s(1));
        assert!((drained.lost_writes - 25.0).abs() < 1e-9);
        assert_eq!(c.loss(at(60), 2000.0, 0.25, s(2)).lost_writes, 0.0);
        // The mean over the lag's range: 1.5 s.
        assert_eq!(
            c.replication.mean_unreplicated(),
            SimDuration::from_millis(1500)
        );
    }

    #[test]
    fn archive_loses_the_writes_since_the_last_copy() {
        let r = Replication::Archive {
            interval: s(900),
            offset: s(0),
        };
        // 60 s into the run, 20 min 5 s into it: 60 s and 305 s since a copy.
        assert_eq!(r.unreplicated(at(60), 0.0), s(60));
        assert_eq!(r.unreplicated(at(1205), 0.0), s(305));
        let late = Replication::Archive {
            interval: s(900),
            offset: s(100),
        };
        assert_eq!(late.unreplicated(at(60), 0.0), s(60));
        assert_eq!(late.unreplicated(at(1005), 0.0), s(5));
        let c = DataClass {
            name: "catalogue".into(),
            replication: r,
            writes: WriteRate::PerSecond(2.0),
            rpo: s(300),
            catch_up: None,
            traffic: None,
        };
        let l = c.loss(at(1205), 0.0, 0.0, s(30));
        assert!((l.lost_writes - 610.0).abs() < 1e-9);
        assert!(!l.rpo_met, "305 s is beyond a 300 s RPO");
    }

    /// The mean over failure times uniform across whole intervals is half
    /// the interval (a sum over every second of four intervals).
    #[test]
    fn archive_mean_over_failure_times_is_half_the_interval() {
        let r = Replication::Archive {
            interval: s(3600),
            offset: s(0),
        };
        let n = 4 * 3600;
        let total: f64 = (0..n)
            .map(|t| r.unreplicated(at(t), 0.0).as_secs_f64())
            .sum();
        // Seconds 0..3599 of each interval average 1799.5 s.
        assert!((total / n as f64 - 1799.5).abs() < 1e-9);
        assert_eq!(r.mean_unreplicated(), s(1800));
    }

    #[test]
    fn stream_mean_over_uniform_lags() {
        let r = Replication::Stream {
            lag_low: s(1),
            lag_high: s(3),
        };
        let n = 10_000;
        let mean: f64 = (0..n)
            .map(|i| {
                r.unreplicated(at(0), (i as f64 + 0.5) / n as f64)
                    .as_secs_f64()
            })
            .sum::<f64>()
            / n as f64;
        assert!((mean - 2.0).abs() < 1e-6, "{mean}");
    }

    /// Ten minutes cut off at 100 writes/s queue 60,000 writes; replayed
    /// at 500/s with 100/s still arriving, they drain in 150 s, the
    /// replica's staleness falling from 600 s to none meanwhile.
    #[test]
    fn a_backlog_drains_at_the_spare_rate() {
        let c = DataClass {
            name: "users".into(),
            replication: Replication::Stream {
                lag_low: s(1),
                lag_high: s(2),
            },
            writes: WriteRate::PerSecond(100.0),
            rpo: s(300),
            catch_up: Some(500.0),
            traffic: None,
        };
        let drain = c.drain_time(100.0 * 600.0, 100.0).unwrap();
        assert_eq!(drain, s(150));
        assert_eq!(staleness_while_draining(s(600), s(0), drain), s(600));
        assert_eq!(staleness_while_draining(s(600), s(75), drain), s(300));
        assert_eq!(
            staleness_while_draining(s(600), s(150), drain),
            SimDuration::ZERO
        );
        assert_eq!(c.drain_time(1000.0, 500.0), None, "no spare rate");
        let undeclared = DataClass {
            catch_up: None,
            ..c
        };
        assert_eq!(undeclared.drain_time(1000.0, 100.0), None);
    }

    /// 400 requests/s, 1 % of them writes of 2 kB to all 8 other sites:
    /// 4 writes/s x 2,000 B x 8 = 64 kB/s; a double write sends one copy.
    #[test]
    fn replication_traffic_is_writes_times_size_times_copies() {
        let fan_out = ChangeTraffic {
            change_bytes: 2000.0,
            copies: Copies::AllOthers,
        };
        let writes = WriteRate::ShareOfRequests(0.01).at(400.0);
        assert_eq!(fan_out.bytes(writes, 8), 64_000.0);
        let double = ChangeTraffic {
            copies: Copies::Count(1),
            ..fan_out
        };
        assert_eq!(double.bytes(writes, 8), 8_000.0);
        assert_eq!(WriteRate::PerSecond(4.0).per_request(400.0), 0.01);
        assert_eq!(WriteRate::PerSecond(4.0).per_request(0.0), 0.0);
    }

    #[test]
    fn rto_needs_a_recovery_within_it() {
        let svc = Service {
            name: "checkout".into(),
            tier: "P0".into(),
            rto: s(300),
        };
        assert!(svc.rto_met(Some(s(300))));
        assert!(!svc.rto_met(Some(s(301))));
        assert!(!svc.rto_met(None));
    }
}
