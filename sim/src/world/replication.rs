//! Replication traffic: the bytes each site's data classes send to the
//! other sites as it serves, what the cost meter prices at the profile's
//! `replication` item.
//!
//! Each class that declares its traffic (`change_size`, `copies`:
//! `cutover_models::data::ChangeTraffic`) sends, for the writes of the
//! requests that reached a site in a tick, writes x change size x copies
//! (`copies = "all"`: every other site in service, that is one that has
//! served requests and is not decommissioned: a site built for a later
//! move receives copies from its first users on, not while it stands
//! idle):
//!
//! - **synchronous**: as it writes; nothing while the site is cut off by
//!   a partition (the double write failed);
//! - **stream**: as it writes; while cut off the bytes are held (the
//!   backlog), and after the heal they replay at the class's spare
//!   catch-up rate, `catch_up - write rate` writes per second (none
//!   without a declared `catch_up`: the backlog never drains, as
//!   `DataClass::drain_time` says);
//! - **archive**: the bytes since the last copy are held and sent when
//!   the next copy runs, unless the site is cut off then (the first copy
//!   after the heal sends them).
//!
//! Bytes still held at the end of the run were not sent and are not billed.

use cutover_models::data::{DataClass, Replication};
use cutover_models::{SimDuration, SimTime};
use serde::Serialize;

use super::partition::next_copy;

/// What one site's replication of one data class sent over the run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplicationRow {
    /// The writing site.
    pub site: String,
    /// The data class.
    pub class: String,
    /// Its replication.
    pub replication: &'static str,
    /// Bytes sent to the other sites, every copy counted.
    pub bytes_sent: f64,
    /// Bytes written but not sent by the end of the run (an archive's
    /// since its last copy, a stream's backlog still replaying).
    pub bytes_held_at_end: f64,
}

/// Every site's replication traffic, per data class.
pub(super) struct ReplicationMeter {
    /// Per site, per class: bytes sent so far.
    sent: Vec<Vec<f64>>,
    /// Per site, per class: bytes written and not yet sent.
    held: Vec<Vec<f64>>,
    /// Sites switched off for good: they write nothing and receive no copy.
    gone: Vec<bool>,
    /// Sites that have served requests: they receive copies from then on.
    joined: Vec<bool>,
}

impl ReplicationMeter {
    /// A meter for `sites` sites writing `classes` classes.
    pub(super) fn new(sites: usize, classes: usize) -> Self {
        ReplicationMeter {
            sent: vec![vec![0.0; classes]; sites],
            held: vec![vec![0.0; classes]; sites],
            gone: vec![false; sites],
            joined: vec![false; sites],
        }
    }

    /// Site `k` is decommissioned.
    pub(super) fn decommission(&mut self, k: usize) {
        self.gone[k] = true;
    }

    /// Meters the tick `[end - tick, end)`, site `k` having received
    /// `served[k]` requests in it and being cut off when `cut(k)`.
    pub(super) fn tick(
        &mut self,
        classes: &[DataClass],
        (end, tick): (SimTime, SimDuration),
        served: &[f64],
        cut: impl Fn(usize) -> bool,
    ) {
        let secs = tick.as_secs_f64();
        let start = SimTime::from_nanos(end.as_nanos().saturating_sub(tick.as_nanos()));
        for (joined, served) in self.joined.iter_mut().zip(served) {
            *joined |= *served > 0.0;
        }
        let in_service = (0..self.joined.len()).filter(|&k| self.joined[k] && !self.gone[k]);
        let others = in_service.count().saturating_sub(1);
        for k in (0..self.sent.len()).filter(|&k| !self.gone[k]) {
            let rate = served[k] / secs;
            for (i, c) in classes.iter().enumerate() {
                let Some(traffic) = c.traffic else { continue };
                let write_rate = c.writes.at(rate);
                let bytes = traffic.bytes(write_rate * secs, others);
                let (sent, held) = (&mut self.sent[k][i], &mut self.held[k][i]);
                match c.replication {
                    Replication::Synchronous if cut(k) => {}
                    Replication::Synchronous => *sent += bytes,
                    Replication::Stream { .. } if cut(k) => *held += bytes,
                    Replication::Stream { .. } => {
                        *sent += bytes;
                        let spare = c.catch_up.map_or(0.0, |r| (r - write_rate).max(0.0));
                        let replay = held.min(traffic.bytes(spare * secs, others));
                        *sent += replay;
                        *held -= replay;
                    }
                    Replication::Archive { interval, offset } => {
                        *held += bytes;
                        let copy = next_copy(start + SimDuration::from_nanos(1), interval, offset);
                        if copy <= end && !cut(k) {
                            *sent += *held;
                            *held = 0.0;
                        }
                    }
                }
            }
        }
    }

    /// Bytes every site sent of each class so far.
    pub(super) fn sent(&self) -> &[Vec<f64>] {
        &self.sent
    }

    /// Adds the bytes sent since `was`, `times` times over (the world
    /// skips days that repeat the day since `was`).
    pub(super) fn repeat_since(&mut self, was: &[Vec<f64>], times: f64) {
        for (now, then) in self.sent.iter_mut().zip(was) {
            for (n, t) in now.iter_mut().zip(then) {
                *n += (*n - t) * times;
            }
        }
    }

    /// What a repeated day must find as it was: bytes held back, and
    /// which sites are in service.
    pub(super) fn encode(&self, w: &mut super::repeat::Words) {
        for held in &self.held {
            w.floats(held);
        }
        w.flags(&self.joined);
        w.flags(&self.gone);
    }

    /// Bytes site `k` sent of each class so far.
    pub(super) fn sent_by(&self, k: usize) -> &[f64] {
        &self.sent[k]
    }

    /// One row per site and class that declares its traffic; `tags`
    /// names the sites.
    pub(super) fn rows(&self, classes: &[DataClass], tags: &[&str]) -> Vec<ReplicationRow> {
        let mut out = Vec::new();
        for (k, tag) in tags.iter().enumerate() {
            for (i, c) in classes.iter().enumerate() {
                if c.traffic.is_none() {
                    continue;
                }
                out.push(ReplicationRow {
                    site: tag.to_string(),
                    class: c.name.clone(),
                    replication: c.replication.name(),
                    bytes_sent: self.sent[k][i],
                    bytes_held_at_end: self.held[k][i],
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cutover_models::data::{ChangeTraffic, Copies, WriteRate};

    fn class(replication: Replication, copies: Copies) -> DataClass {
        DataClass {
            name: "c".into(),
            replication,
            writes: WriteRate::ShareOfRequests(0.01),
            rpo: SimDuration::ZERO,
            catch_up: Some(10.0),
            traffic: Some(ChangeTraffic {
                change_bytes: 1000.0,
                copies,
            }),
        }
    }

    /// Runs `ticks` one-second ticks of 400 requests at each of three
    /// sites, site 0 cut off while `cut` says so.
    fn run(c: &DataClass, ticks: u64, cut: impl Fn(u64) -> bool) -> ReplicationMeter {
        let mut m = ReplicationMeter::new(3, 1);
        let one = SimDuration::from_secs(1);
        for t in 1..=ticks {
            let end = SimTime::ZERO + SimDuration::from_secs(t);
            m.tick(std::slice::from_ref(c), (end, one), &[400.0; 3], |k| {
                k == 0 && cut(t)
            });
        }
        m
    }

    /// 4 writes/s of 1 kB to the 2 other sites: 8 kB/s a site; a double
    /// write (1 copy) 4 kB/s.
    #[test]
    fn a_stream_and_a_double_write_send_writes_times_size_times_copies() {
        let m = run(
            &class(Replication::Synchronous, Copies::Count(1)),
            100,
            |_| false,
        );
        assert_eq!(m.sent_by(0), &[400_000.0]);
        let stream = Replication::Stream {
            lag_low: SimDuration::ZERO,
            lag_high: SimDuration::ZERO,
        };
        let m = run(&class(stream, Copies::AllOthers), 100, |_| false);
        assert_eq!(m.sent_by(2), &[800_000.0]);
    }

    /// Cut off for ticks 11-20: a double write sends nothing then; a
    /// stream holds 10 s of 8 kB/s and replays it at the spare 6 writes/s
    /// (12 kB/s) after the heal, in 80/12 = 6.7 s, every byte sent by 30 s.
    #[test]
    fn a_partition_holds_a_stream_until_it_replays_and_drops_a_double_write() {
        let cut = |t: u64| (11..=20).contains(&t);
        let m = run(&class(Replication::Synchronous, Copies::Count(1)), 30, cut);
        assert_eq!(m.sent_by(0), &[80_000.0]);
        assert_eq!(m.sent_by(1), &[120_000.0]);
        let stream = Replication::Stream {
            lag_low: SimDuration::ZERO,
            lag_high: SimDuration::ZERO,
        };
        let c = class(stream, Copies::AllOthers);
        let at_heal = run(&c, 20, cut);
        assert_eq!(at_heal.sent_by(0), &[80_000.0]);
        assert_eq!(at_heal.held[0][0], 80_000.0);
        let partly = run(&c, 23, cut);
        assert_eq!(
            partly.sent_by(0),
            &[80_000.0 + 3.0 * 8000.0 + 3.0 * 12_000.0]
        );
        let m = run(&c, 30, cut);
        assert_eq!(m.sent_by(0), m.sent_by(1));
        assert_eq!(m.held[0][0], 0.0);
    }

    /// An archive every 10 s sends each interval's bytes at its copy; a
    /// cut over the copy at 20 s defers it to the copy at 30 s.
    #[test]
    fn an_archive_sends_at_each_copy_not_across_a_cut() {
        let archive = Replication::Archive {
            interval: SimDuration::from_secs(10),
            offset: SimDuration::ZERO,
        };
        let c = class(archive, Copies::AllOthers);
        let m = run(&c, 25, |_| false);
        assert_eq!(m.sent_by(0), &[160_000.0]);
        assert_eq!(m.held[0][0], 40_000.0);
        let m = run(&c, 25, |t| (15..=22).contains(&t));
        assert_eq!(m.sent_by(0), &[80_000.0]);
        let m = run(&c, 30, |t| (15..=22).contains(&t));
        assert_eq!(m.sent_by(0), &[240_000.0]);
    }
}
