//! What a partition does to the estate's data: the sites cut off keep
//! serving from their local replicas while each class fares by its
//! replication (see `failure::FailureKind::Partition`):
//!
//! - **synchronous**: the second copy is across the cut, so the side's
//!   writes fail, and the requests that carried them fail with them
//!   (`Cause::WriteFailed`: errors in every tally and in availability);
//! - **stream**: the side's writes queue: each is accepted by the local
//!   copy and held for the other sites, so its request is served (at
//!   risk: lost if the site dies before the backlog drains); reads there
//!   go stale by the
//!   time since the cut (plus the class's mean lag); when the cut heals
//!   the backlog replays at the class's `catch_up` rate, new writes still
//!   arriving, in `backlog / (catch_up - write rate)`
//!   (`DataClass::drain_time`), staleness falling linearly meanwhile;
//! - **archive**: copies do not cross the cut; reads on the side see the
//!   last copy before it until the first copy after it heals.
//!
//! The side's write rate is read tick by tick from the requests that
//! reached its sites; staleness is weighted by those requests.

use cutover_models::data::{staleness_while_draining, DataClass, Replication};
use cutover_models::{SimDuration, SimTime};
use serde::Serialize;

use super::latency::LatencyHistogram;

/// One partition's effect on one data class.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartitionRow {
    /// The sites cut off, by tag, joined with `+`.
    pub sites: String,
    /// When the cut came, seconds.
    pub start_s: f64,
    /// When it healed, seconds; none if not within the run.
    pub end_s: Option<f64>,
    /// The data class.
    pub class: String,
    /// Its replication.
    pub replication: &'static str,
    /// Writes on the side that failed (a synchronous class).
    pub writes_failed: f64,
    /// Writes on the side queued for the other sites when the cut healed
    /// (or the run ended): a stream's backlog.
    pub writes_queued: f64,
    /// Seconds from the heal until the other sites have every write of
    /// the side again: the backlog's drain, or the next archive copy;
    /// none if it heals too late or the backlog never drains.
    pub consistent_after_s: Option<f64>,
    /// Median staleness of the reads served on the side, seconds.
    pub staleness_p50_s: Option<f64>,
    /// 99th percentile.
    pub staleness_p99_s: Option<f64>,
    /// Most stale read.
    pub staleness_max_s: Option<f64>,
}

/// A class's figures while its partition is watched.
struct ClassTally {
    writes: f64,
    /// At the heal: the backlog, the drain and when consistency returns.
    drain: Option<SimDuration>,
    consistent_at: Option<SimTime>,
    staleness: LatencyHistogram,
    most: f64,
}

/// A partition in progress or healed, watched until every class is
/// consistent again.
pub(super) struct PartitionWatch {
    pub(super) failure: usize,
    side: Vec<usize>,
    start: SimTime,
    end: Option<SimTime>,
    classes: Vec<ClassTally>,
}

impl PartitionWatch {
    /// Failure `failure` cuts `side` off at `start`, for `classes`.
    pub(super) fn new(failure: usize, side: Vec<usize>, start: SimTime, classes: usize) -> Self {
        PartitionWatch {
            failure,
            side,
            start,
            end: None,
            classes: (0..classes)
                .map(|_| ClassTally {
                    writes: 0.0,
                    drain: None,
                    consistent_at: None,
                    staleness: LatencyHistogram::new(),
                    most: 0.0,
                })
                .collect(),
        }
    }

    /// The cut heals at `now`, the side's sites writing at `site_rate`
    /// requests per second: each stream's backlog starts to drain.
    pub(super) fn heal(&mut self, now: SimTime, classes: &[DataClass], site_rate: &[f64]) {
        self.end = Some(now);
        let requests: f64 = self.side.iter().map(|&k| site_rate[k]).sum();
        for (c, t) in classes.iter().zip(&mut self.classes) {
            t.consistent_at = match c.replication {
                Replication::Synchronous => Some(now),
                Replication::Stream { .. } => {
                    t.drain = c.drain_time(t.writes, c.writes.at(requests));
                    t.drain.map(|d| now + d)
                }
                Replication::Archive { interval, offset } => Some(next_copy(now, interval, offset)),
            };
        }
    }

    /// Records the tick ending at `end` (`tick` long), the side's sites
    /// having served `requests` in it (per site, indexed as the estate's).
    pub(super) fn tick(
        &mut self,
        classes: &[DataClass],
        (end, tick): (SimTime, SimDuration),
        requests: &[f64],
    ) {
        let served: f64 = self.side.iter().map(|&k| requests[k]).sum();
        let mid = SimTime::from_nanos(end.as_nanos() - tick.as_nanos() / 2);
        for (c, t) in classes.iter().zip(&mut self.classes) {
            if self.end.is_none() {
                t.writes += c.writes.at(served / tick.as_secs_f64()) * tick.as_secs_f64();
            }
            if let Some(stale) = staleness(c, t, (self.start, self.end), mid) {
                let s = stale.as_secs_f64();
                t.staleness.add(s, served);
                t.most = t.most.max(s);
            }
        }
    }

    /// Whether the cut is in force and site `k` is on its side.
    pub(super) fn cuts_off(&self, k: usize) -> bool {
        self.end.is_none() && self.side.contains(&k)
    }

    /// Whether every class is consistent again by `now`.
    pub(super) fn settled(&self, now: SimTime) -> bool {
        self.end.is_some()
            && self
                .classes
                .iter()
                .all(|t| t.consistent_at.is_some_and(|at| at <= now))
    }

    /// One row per class; `tags` names the sites.
    pub(super) fn rows(&mut self, classes: &[DataClass], tags: &[&str]) -> Vec<PartitionRow> {
        let sites: Vec<&str> = self.side.iter().map(|&k| tags[k]).collect();
        let (start, end) = (self.start, self.end);
        classes
            .iter()
            .zip(&mut self.classes)
            .map(|(c, t)| {
                let sync = c.replication == Replication::Synchronous;
                PartitionRow {
                    sites: sites.join("+"),
                    start_s: start.as_secs_f64(),
                    end_s: end.map(SimTime::as_secs_f64),
                    class: c.name.clone(),
                    replication: c.replication.name(),
                    writes_failed: if sync { t.writes } else { 0.0 },
                    writes_queued: if sync { 0.0 } else { t.writes },
                    consistent_after_s: match (end, t.consistent_at) {
                        (Some(e), Some(at)) => Some(at.saturating_since(e).as_secs_f64()),
                        _ => None,
                    },
                    staleness_p50_s: t.staleness.quantile_opt(0.5),
                    staleness_p99_s: t.staleness.quantile_opt(0.99),
                    staleness_max_s: (t.staleness.total() > 0.0).then_some(t.most),
                }
            })
            .collect()
    }
}

/// How stale a read of `c` on the side is at `t`, the cut lasting
/// `(start, end)`; none once the class is consistent again (or for a
/// synchronous class, whose reads are local and whose writes failed).
fn staleness(
    c: &DataClass,
    t: &ClassTally,
    (start, end): (SimTime, Option<SimTime>),
    at: SimTime,
) -> Option<SimDuration> {
    if t.consistent_at.is_some_and(|c| at >= c) {
        return None;
    }
    match c.replication {
        Replication::Synchronous => None,
        Replication::Stream { .. } => {
            let lag = c.replication.mean_unreplicated();
            let cut = match end {
                None => return Some(at.saturating_since(start) + lag),
                Some(e) if at < e => return Some(at.saturating_since(start) + lag),
                Some(e) => e.saturating_since(start),
            };
            let drain = t.drain?;
            let since = at.saturating_since(end.unwrap_or(at));
            Some(staleness_while_draining(cut, since, drain) + lag)
        }
        Replication::Archive { .. } => {
            let last = SimTime::from_nanos(
                start.as_nanos() - c.replication.unreplicated(start, 0.0).as_nanos(),
            );
            Some(at.saturating_since(last))
        }
    }
}

/// The first archive copy at or after `now`.
pub(super) fn next_copy(now: SimTime, interval: SimDuration, offset: SimDuration) -> SimTime {
    let (t, i, o) = (
        now.as_nanos(),
        interval.as_nanos().max(1),
        offset.as_nanos(),
    );
    if t <= o {
        return SimTime::from_nanos(o);
    }
    let k = (t - o).div_ceil(i);
    SimTime::from_nanos(o + k * i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_copy_is_on_the_archive_schedule() {
        let s = SimDuration::from_secs;
        let at = |x| SimTime::ZERO + s(x);
        assert_eq!(next_copy(at(100), s(900), s(0)), at(900));
        assert_eq!(next_copy(at(900), s(900), s(0)), at(900));
        assert_eq!(next_copy(at(50), s(900), s(100)), at(100));
        assert_eq!(next_copy(at(1001), s(900), s(100)), at(1900));
    }
}
