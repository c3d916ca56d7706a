//! Failures striking the world and ending: each kind's start and end, one
//! module per family (`site`: a whole site crashing, shutting down or
//! losing its service, and coming back; `network`: sessions going down and
//! up, over one link or flapping; `compute`: nodes failing, pods
//! crash-looping, random hardware failures; `traffic`: latency added,
//! demand multiplied), and the record of every failure with its start and
//! end for the outputs.

mod compute;
mod network;
mod site;
mod traffic;

use cutover_models::SimTime;
use serde::Serialize;

use super::{Event, World};
use crate::experiment::{Failure, FailureKind};

/// One failure as it happened, for `failures.csv` and the summary.
#[derive(Clone, Debug, Serialize)]
pub struct FailureRecord {
    /// The site it struck (empty for a failure of the traffic).
    pub site: String,
    /// Its kind, as written in a file.
    pub kind: &'static str,
    /// In words.
    pub what: String,
    /// When it struck, seconds.
    pub start_s: f64,
    /// When what failed came back, seconds; none if it never did within
    /// the run.
    pub end_s: Option<f64>,
}

impl FailureRecord {
    /// "ny1 from 1 min to 1 h 1 min: crash detected by ...".
    pub fn line(&self) -> String {
        let when = |s: f64| cutover_models::SimDuration::from_secs_f64(s).to_string();
        let span = match self.end_s {
            Some(end) => format!("from {} to {}", when(self.start_s), when(end)),
            None => format!("at {}", when(self.start_s)),
        };
        let site = if self.site.is_empty() {
            String::new()
        } else {
            format!("{} ", self.site)
        };
        format!("{site}{span}: {}", self.what)
    }
}

/// Failures in force that change how the world serves.
#[derive(Debug, Default)]
pub(super) struct Active {
    /// Added latency: (failure, site, seconds).
    delays: Vec<(usize, usize, f64)>,
    /// Demand multiplied.
    spikes: Vec<traffic::Spike>,
    /// Nodes down: (failure, site, node indexes).
    failed_nodes: Vec<(usize, usize, Vec<usize>)>,
    /// Crash loops: (failure, site, restarts since the back-off's reset).
    crash_loops: Vec<(usize, usize, u32)>,
    /// Flapping sites: (failure, site, whether the sessions are down).
    flaps: Vec<(usize, usize, bool)>,
    /// Sites down (crash, shutdown, service down): (failure, site); a
    /// site comes back when the last failure holding it down ends.
    sites_down: Vec<(usize, usize)>,
    /// Partitions: (failure, the sites cut off together).
    partitions: Vec<(usize, Vec<usize>)>,
    /// Links down: (failure, site, upstream); a link comes back when the
    /// last failure holding it down ends.
    links_down: Vec<(usize, usize, cutover_models::bgp::Asn)>,
}

impl super::repeat::DayState for Active {
    /// A failure in force is not repeated: a mark with one refuses.
    fn encode(&self, w: &mut super::repeat::Words) {
        let Active {
            delays,
            spikes,
            failed_nodes,
            crash_loops,
            flaps,
            sites_down,
            partitions,
            links_down,
        } = self;
        let quiet = delays.is_empty()
            && spikes.is_empty()
            && failed_nodes.is_empty()
            && crash_loops.is_empty()
            && flaps.is_empty()
            && sites_down.is_empty()
            && partitions.is_empty()
            && links_down.is_empty();
        if !quiet {
            w.refuse("a failure in force");
        }
    }

    fn shift(&mut self, _: &super::repeat::Shift) {}
}

impl World<'_> {
    /// Schedules `failure` at `self.now() + failure.at` (what a migration
    /// plan uses to strike at one of its stages). Its `site` must be a
    /// site of the experiment.
    pub fn inject(&mut self, failure: Failure) {
        let at = self.now + failure.at;
        self.failures.push(failure);
        self.queue
            .schedule_at(at, Event::Failure(self.failures.len() - 1));
    }

    /// Failure `i` strikes now; its end is scheduled if it has one.
    pub(super) fn strike(&mut self, i: usize) {
        let f = self.failures[i].clone();
        self.tracker.failure(self.now);
        if let Some(d) = f.duration {
            self.queue.schedule_at(self.now + d, Event::FailureEnds(i));
        }
        let site = f.site.map_or(String::new(), |k| self.sites[k].tag.clone());
        self.failure_log.push((
            i,
            FailureRecord {
                site,
                kind: f.kind.name(),
                what: f.kind.to_string(),
                start_s: self.now.as_secs_f64(),
                end_s: None,
            },
        ));
        match (f.kind, f.site) {
            (
                FailureKind::Spike {
                    factor,
                    populations,
                },
                _,
            ) => self.spike_starts(i, factor, populations),
            (kind, Some(k)) => self.site_kind_strikes(i, k, kind),
            (_, None) => {}
        }
    }

    /// Failure `i` of a kind that strikes a site strikes site `k`.
    fn site_kind_strikes(&mut self, i: usize, k: usize, kind: FailureKind) {
        if takes_site_down(&kind) {
            self.active.sites_down.push((i, k));
            self.watch_recovery(i, k, &kind);
        }
        match kind {
            FailureKind::Shutdown { drain } => self.shutdown(i, k, drain),
            FailureKind::Crash(detection) => self.crash(i, k, detection),
            FailureKind::ServiceDown(detection) => self.service_down(i, k, detection),
            FailureKind::LinkDown {
                upstream,
                detection,
            } => self.link_fails(i, k, upstream, detection),
            FailureKind::Delay { extra } => self.delay_starts(i, k, extra),
            FailureKind::NodeCrash { nodes } => self.nodes_fail(i, k, nodes, true),
            FailureKind::NodeShutdown { nodes } => self.nodes_fail(i, k, nodes, false),
            FailureKind::CrashLoop { .. } => self.crash_loop_starts(i, k),
            FailureKind::BgpFlap { .. } => self.flap_starts(i, k),
            FailureKind::Partition { side } => self.partition_starts(i, side),
            FailureKind::Spike { .. } => {}
        }
    }

    /// Failure `i` of `kind` takes site `k` down: what it costs in data,
    /// and its users to watch until they recover.
    fn watch_recovery(&mut self, i: usize, k: usize, kind: &FailureKind) {
        let served: Vec<usize> = (0..self.routes.len())
            .filter(|&p| self.routes[p].history.last().and_then(|h| h.1) == Some(k))
            .collect();
        let drain = match kind {
            FailureKind::Shutdown { drain } => *drain,
            _ => cutover_models::SimDuration::ZERO,
        };
        self.recovery.site_down(
            &self.exp.estate,
            (i, kind.name()),
            k,
            self.now,
            served,
            drain,
        );
    }

    /// Sets a timer of failure `i` (a detection, a withdrawal, a power-off)
    /// that its end cancels if it is still pending.
    fn failure_timer(&mut self, i: usize, at: SimTime, event: Event) {
        let t = self.queue.set_timer_at(at, event);
        self.failure_timers.entry(i).or_default().push(t);
    }

    /// Cancels failure `i`'s pending timers; returns how many were still
    /// pending.
    fn cancel_timers(&mut self, i: usize) -> usize {
        let timers = self.failure_timers.remove(&i).unwrap_or_default();
        timers.into_iter().filter(|&t| self.queue.cancel(t)).count()
    }

    /// Failure `i` ends now: what failed comes back.
    pub(super) fn end_failure(&mut self, i: usize) {
        let now = self.now.as_secs_f64();
        if let Some((_, r)) = self.failure_log.iter_mut().rev().find(|(j, _)| *j == i) {
            r.end_s = Some(now);
        }
        let f = self.failures[i].clone();
        if let (true, Some(k)) = (takes_site_down(&f.kind), f.site) {
            self.recovery.failure_ended(i);
            return self.site_failure_ends(i, k);
        }
        self.cancel_timers(i);
        match (f.kind, f.site) {
            (FailureKind::Spike { .. }, _) => self.spike_ends(i),
            (FailureKind::LinkDown { upstream, .. }, Some(k)) => self.link_up(i, k, upstream),
            (FailureKind::Delay { .. }, Some(k)) => self.delay_ends(i, k),
            (FailureKind::NodeCrash { .. } | FailureKind::NodeShutdown { .. }, Some(k)) => {
                self.nodes_repaired(i, k)
            }
            (FailureKind::CrashLoop { .. }, Some(_)) => {
                self.active.crash_loops.retain(|l| l.0 != i)
            }
            (FailureKind::BgpFlap { upstream, .. }, Some(k)) => self.flap_ends(i, k, upstream),
            (FailureKind::Partition { .. }, Some(_)) => self.partition_ends(i),
            // Site-down kinds end above; validation gives every kind but a
            // spike its site.
            _ => {}
        }
    }

    /// Failure `i`, which took site `k` down, ends. While another failure
    /// still holds the site down, the site stays down and that failure
    /// takes over `i`'s pending timers (a detection or a power-off still
    /// happens: the site is still down); the last one to end cancels them
    /// and brings the site back, unless its operator decommissioned it.
    fn site_failure_ends(&mut self, i: usize, k: usize) {
        self.active.sites_down.retain(|d| d.0 != i);
        if let Some(&(holder, _)) = self.active.sites_down.iter().find(|d| d.1 == k) {
            let pending = self.failure_timers.remove(&i).unwrap_or_default();
            self.failure_timers
                .entry(holder)
                .or_default()
                .extend(pending);
            return;
        }
        self.cancel_timers(i);
        if !self.sites[k].decommissioned {
            self.recover_site(k);
        }
    }

    /// Every failure that struck, in the order they struck.
    pub(super) fn failure_records(&self) -> Vec<FailureRecord> {
        self.failure_log.iter().map(|(_, r)| r.clone()).collect()
    }
}

/// Whether a failure of `kind` takes its whole site down.
fn takes_site_down(kind: &FailureKind) -> bool {
    matches!(
        kind,
        FailureKind::Shutdown { .. } | FailureKind::Crash(_) | FailureKind::ServiceDown(_)
    )
}
