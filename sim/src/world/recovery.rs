//! What each site failure cost in data and how long its users took to
//! recover, against the estate's recovery objectives (`[[data]]`,
//! `[[services]]`).
//!
//! When a failure takes a site down, each data class loses the writes the
//! other sites do not have yet (`cutover_models::data`): the site's write
//! rate, from the requests that reached it over the last tick, times the
//! span not replicated (a stream's lag drawn from the `data.lag` stream,
//! less a clean shutdown's drain; the time since an archive's last copy).
//!
//! The users the site served at that instant are then watched tick by
//! tick: they count as failing in a tick whose failed requests are above
//! the share the SLO allows. Their time to recover is from the failure to
//! the end of the last failing tick while the site is down, and after it
//! comes back until the first tick they do not fail (the tick is its
//! resolution); none if they were still failing when the run ended. Every
//! service is run by every site, so each service's RTO judges that time.
//!
//! Partitions are watched here too (`partition`), with the same write
//! rates, and so is the traffic the classes' replication sends
//! (`replication`).

use cutover_models::data::{DataClass, DataLoss, Replication};
use cutover_models::{SimDuration, SimTime};
use rand::RngExt;
use serde::Serialize;

use super::partition::{PartitionRow, PartitionWatch};
use super::record::Recorder;
use super::replication::{ReplicationMeter, ReplicationRow};
use crate::engine::rng::StreamRng;
use crate::estate::Estate;

/// One site failure's cost to one data class.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DataLossRow {
    /// The site that failed.
    pub site: String,
    /// The failure's kind.
    pub failure: &'static str,
    /// When it struck, seconds.
    pub start_s: f64,
    /// The data class.
    pub class: String,
    /// Its replication mode.
    pub replication: &'static str,
    /// The site's write rate when it failed, writes per second.
    pub write_rate_per_s: f64,
    /// The recovery point reached: seconds of writes not replicated.
    pub window_s: f64,
    /// Writes lost.
    pub lost_writes: f64,
    /// The class's RPO, seconds.
    pub rpo_s: f64,
    /// Whether the window is within the RPO.
    pub met: bool,
}

/// One site failure's recovery judged by one service's RTO.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceRecoveryRow {
    /// The site that failed.
    pub site: String,
    /// The failure's kind.
    pub failure: &'static str,
    /// When it struck, seconds.
    pub start_s: f64,
    /// The service.
    pub service: String,
    /// Its tier.
    pub tier: String,
    /// Seconds until its users stopped failing; none if they still were
    /// at the end of the run.
    pub recovered_s: Option<f64>,
    /// The service's RTO, seconds.
    pub rto_s: f64,
    /// Whether the recovery came within the RTO.
    pub met: bool,
}

/// Every site failure's data losses and recoveries, and every
/// partition's effect on the data.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RecoverySummary {
    /// Per failure and data class.
    pub data: Vec<DataLossRow>,
    /// Per failure and service.
    pub services: Vec<ServiceRecoveryRow>,
    /// Per partition and data class.
    pub partitions: Vec<PartitionRow>,
    /// Per site and data class that declares its traffic: the bytes its
    /// replication sent.
    pub replication: Vec<ReplicationRow>,
}

impl RecoverySummary {
    /// Why the objectives were missed, one line per miss.
    pub fn misses(&self) -> Vec<String> {
        let data = self.data.iter().filter(|r| !r.met).map(|r| {
            format!(
                "{} {} at {:.0} s lost {:.0} {} writes ({:.1} s not replicated), beyond its RPO of {:.0} s",
                r.site, r.failure, r.start_s, r.lost_writes, r.class, r.window_s, r.rpo_s
            )
        });
        let services = self.services.iter().filter(|r| !r.met).map(|r| {
            let took = r
                .recovered_s
                .map_or("did not recover within the run".to_string(), |s| {
                    format!("recovered in {s:.0} s")
                });
            format!(
                "{} ({}) after {} {} at {:.0} s {took}, beyond its RTO of {:.0} s",
                r.service, r.tier, r.site, r.failure, r.start_s, r.rto_s
            )
        });
        data.chain(services).collect()
    }
}

/// A site failure whose users are watched.
struct Watch {
    failure: usize,
    site: usize,
    kind: &'static str,
    start: SimTime,
    populations: Vec<usize>,
    last_failing: Option<SimTime>,
    /// The failure still holds the site down.
    down: bool,
    /// Still watched (closed at the first good tick after the end).
    open: bool,
    losses: Vec<DataLoss>,
}

/// The watches and what they read from each tick.
pub(super) struct Recovery {
    watches: Vec<Watch>,
    /// Requests that had reached each site, then its rate over the last tick.
    site_requests: Vec<f64>,
    site_rate: Vec<f64>,
    /// Requests of each population so far.
    population_requests: Vec<f64>,
    /// The failed share of a tick above which users count as failing.
    allowed: f64,
    lag_rng: StreamRng,
    /// When the last tick served ended.
    last_tick: Option<SimTime>,
    /// The estate declares data classes or services.
    enabled: bool,
    /// Partitions, watched until their data is consistent again.
    partitions: Vec<PartitionWatch>,
    /// The bytes each site's replication sent.
    replication: ReplicationMeter,
}

impl Recovery {
    /// Recovery watching for `estate`'s sites, lags drawn from `lag_rng`.
    pub(super) fn new(estate: &Estate, lag_rng: StreamRng) -> Self {
        Recovery {
            watches: Vec::new(),
            site_requests: vec![0.0; estate.sites.len()],
            site_rate: vec![0.0; estate.sites.len()],
            population_requests: vec![0.0; estate.populations.len()],
            allowed: 1.0 - estate.slo.availability,
            lag_rng,
            last_tick: None,
            enabled: !(estate.data.is_empty() && estate.services.is_empty()),
            partitions: Vec::new(),
            replication: ReplicationMeter::new(estate.sites.len(), estate.data.len()),
        }
    }

    /// Site `k` is decommissioned: it writes and receives no more copies.
    pub(super) fn decommission(&mut self, k: usize) {
        self.replication.decommission(k);
    }

    /// The bytes site `k`'s replication sent so far, per data class of
    /// the estate (none for a class that does not declare its traffic).
    pub(super) fn replicated_by(&self, k: usize) -> &[f64] {
        self.replication.sent_by(k)
    }

    /// Failure `failure` of `kind` takes site `site` down at `now`, the
    /// site serving `populations`; a clean shutdown drains for `drain`.
    pub(super) fn site_down(
        &mut self,
        estate: &Estate,
        (failure, kind): (usize, &'static str),
        site: usize,
        now: SimTime,
        populations: Vec<usize>,
        drain: SimDuration,
    ) {
        if !self.enabled {
            return;
        }
        let rate = self.site_rate.get(site).copied().unwrap_or(0.0);
        let losses = estate
            .data
            .iter()
            .map(|c| self.loss(c, now, rate, drain))
            .collect();
        self.watches.push(Watch {
            failure,
            site,
            kind,
            start: now,
            populations,
            last_failing: None,
            down: true,
            open: true,
            losses,
        });
    }

    fn loss(&mut self, class: &DataClass, now: SimTime, rate: f64, drain: SimDuration) -> DataLoss {
        let u = match class.replication {
            cutover_models::data::Replication::Stream { .. } => self.lag_rng.random::<f64>(),
            _ => 0.0,
        };
        class.loss(now, rate, u, drain)
    }

    /// Failure `failure` cuts the sites of `side` off at `now`.
    pub(super) fn partition_starts(
        &mut self,
        estate: &Estate,
        failure: usize,
        side: Vec<usize>,
        now: SimTime,
    ) {
        if self.enabled {
            let watch = PartitionWatch::new(failure, side, now, estate.data.len());
            self.partitions.push(watch);
        }
    }

    /// Failure `failure`'s partition heals at `now`.
    pub(super) fn partition_heals(&mut self, estate: &Estate, failure: usize, now: SimTime) {
        let rate = &self.site_rate;
        for w in self.partitions.iter_mut().filter(|w| w.failure == failure) {
            w.heal(now, &estate.data, rate);
        }
    }

    /// Sets in `rec` the share of each site's requests whose synchronous
    /// write fails: for a site cut off by a partition in force, each
    /// synchronous class's writes per request served there (its share, or
    /// its rate over the site's request rate of the last tick), summed (a
    /// request carries at most one class's write) and at most 1; none
    /// elsewhere.
    pub(super) fn set_write_failing(&self, estate: &Estate, rec: &mut Recorder) {
        for (k, share) in rec.site_write_failing.iter_mut().enumerate() {
            let cut = self.partitions.iter().any(|w| w.cuts_off(k));
            let rate = self.site_rate[k];
            *share = if cut {
                estate
                    .data
                    .iter()
                    .filter(|c| c.replication == Replication::Synchronous)
                    .map(|c| c.writes.per_request(rate))
                    .sum::<f64>()
                    .min(1.0)
            } else {
                0.0
            };
        }
    }

    /// Failure `failure` no longer holds its site down.
    pub(super) fn failure_ended(&mut self, failure: usize) {
        for w in self.watches.iter_mut().filter(|w| w.failure == failure) {
            w.down = false;
        }
    }

    /// Reads the tick `[end - tick, end)` from `rec` (before its failures
    /// of the tick are cleared).
    /// Sets the share of each site's requests whose synchronous write
    /// fails in the next tick in `rec` (see [`Recorder::site_write_failing`]).
    pub(super) fn tick(
        &mut self,
        estate: &Estate,
        (end, tick): (SimTime, SimDuration),
        rec: &mut Recorder,
    ) {
        if !self.enabled {
            return;
        }
        self.last_tick = Some(end);
        let secs = tick.as_secs_f64();
        let mut served = vec![0.0; rec.sites.len()];
        for (k, t) in rec.sites.iter().enumerate() {
            served[k] = t.requests - self.site_requests[k];
            self.site_rate[k] = served[k] / secs;
            self.site_requests[k] = t.requests;
        }
        let start = SimTime::from_nanos(end.as_nanos().saturating_sub(tick.as_nanos()));
        for w in self.partitions.iter_mut().filter(|w| !w.settled(start)) {
            w.tick(&estate.data, (end, tick), &served);
        }
        let partitions = &self.partitions;
        self.replication
            .tick(&estate.data, (end, tick), &served, |k| {
                partitions.iter().any(|w| w.cuts_off(k))
            });
        let mut arrived = vec![0.0; rec.populations.len()];
        for (p, t) in rec.populations.iter().enumerate() {
            arrived[p] = t.requests - self.population_requests[p];
            self.population_requests[p] = t.requests;
        }
        self.set_write_failing(estate, rec);
        for w in self.watches.iter_mut().filter(|w| w.open) {
            let failed: f64 = w.populations.iter().map(|&p| rec.tick_failed[p]).sum();
            let requests: f64 = w.populations.iter().map(|&p| arrived[p]).sum();
            let failing = failed > self.allowed * requests && failed > 0.0;
            if failing {
                w.last_failing = Some(end);
            } else if !w.down {
                w.open = false;
            }
        }
    }

    /// The losses and recoveries, judged against `estate`'s objectives;
    /// `tags` names the sites. A watch still failing at the end has not
    /// recovered.
    pub(super) fn summary(&mut self, estate: &Estate, tags: &[&str]) -> Option<RecoverySummary> {
        if !self.enabled {
            return None;
        }
        let mut out = RecoverySummary::default();
        for w in &mut self.partitions {
            out.partitions.extend(w.rows(&estate.data, tags));
        }
        out.replication = self.replication.rows(&estate.data, tags);
        for w in &self.watches {
            let start_s = w.start.as_secs_f64();
            for (c, l) in estate.data.iter().zip(&w.losses) {
                out.data.push(DataLossRow {
                    site: tags[w.site].to_string(),
                    failure: w.kind,
                    start_s,
                    class: c.name.clone(),
                    replication: c.replication.name(),
                    write_rate_per_s: l.write_rate,
                    window_s: l.window.as_secs_f64(),
                    lost_writes: l.lost_writes,
                    rpo_s: c.rpo.as_secs_f64(),
                    met: l.rpo_met,
                });
            }
            let recovered = self.recovered(w);
            for s in &estate.services {
                out.services.push(ServiceRecoveryRow {
                    site: tags[w.site].to_string(),
                    failure: w.kind,
                    start_s,
                    service: s.name.clone(),
                    tier: s.tier.clone(),
                    recovered_s: recovered.map(SimDuration::as_secs_f64),
                    rto_s: s.rto.as_secs_f64(),
                    met: s.rto_met(recovered),
                });
            }
        }
        Some(out)
    }

    /// How long `w`'s users took to recover; none while still failing
    /// in the last tick of the run.
    fn recovered(&self, w: &Watch) -> Option<SimDuration> {
        match w.last_failing {
            None => Some(SimDuration::ZERO),
            Some(t) if w.open && Some(t) == self.last_tick => None,
            Some(t) => Some(t.saturating_since(w.start)),
        }
    }
}

impl super::repeat::DayState for Recovery {
    /// Open watches and unsettled partitions are not repeated: a mark with
    /// one refuses. The last tick's rates at each site are differences of
    /// running totals (they differ from day to day in their last bits) and
    /// are read only when a site fails: left out.
    fn encode(&self, w: &mut super::repeat::Words) {
        w.flags(&[self.enabled]);
        w.push(self.watches.len() as u64);
        if self.watches.iter().any(|x| x.open) {
            w.refuse("a failure's users watched");
        }
        let now = w.now();
        if self.partitions.iter().any(|p| !p.settled(now)) {
            w.refuse("a partition not yet consistent");
        }
        w.push(self.partitions.len() as u64);
        w.time_opt(self.last_tick);
        w.rng(&self.lag_rng);
        self.replication.encode(w);
    }

    fn shift(&mut self, s: &super::repeat::Shift) {
        self.last_tick = self.last_tick.map(|t| s.at(t));
    }
}

impl Recovery {
    /// Bytes each site's replication has sent so far, per data class.
    pub(super) fn replicated(&self) -> Vec<Vec<f64>> {
        self.replication.sent().to_vec()
    }

    /// The world skips days that repeat the day since `was` (bytes sent
    /// then): each adds the day's bytes again, `days` times.
    pub(super) fn repeat_replication_since(&mut self, was: &[Vec<f64>], days: f64) {
        self.replication.repeat_since(was, days);
    }

    /// The world jumped ahead: the running totals it differences are
    /// `rec`'s.
    pub(super) fn jumped(&mut self, rec: &Recorder) {
        for (mine, t) in self.site_requests.iter_mut().zip(&rec.sites) {
            *mine = t.requests;
        }
        for (mine, t) in self.population_requests.iter_mut().zip(&rec.populations) {
            *mine = t.requests;
        }
    }
}
