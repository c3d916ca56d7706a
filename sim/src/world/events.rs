//! Pods removed by a scale-down, and the overflow policy's check.

use cutover_models::SimDuration;

use super::pods::SimPod;
use super::record::{Cause, Stream};
use super::{Event, World};

impl World<'_> {
    /// Pods removed by a scale-down finish what they hold.
    pub(super) fn drain_removed(&mut self, k: usize, removed: Vec<SimPod>) {
        self.finish_removed(k, removed, false);
    }

    /// Pods removed from site `k` finish what they hold (a drain), or, when
    /// `reset` (they crashed), lose it.
    pub(super) fn finish_removed(&mut self, k: usize, removed: Vec<SimPod>, reset: bool) {
        let outcome = |rec: &mut super::record::Recorder, s: Stream, n: f64| {
            if reset {
                rec.fail(k, s, Cause::Reset, n);
            } else {
                rec.drained(k, s, n);
            }
        };
        let fluid: f64 = removed.iter().map(|p| p.fluid.in_flight()).sum();
        if fluid > 0.0 {
            let site = &mut self.sites[k];
            let pool: f64 = site.mix.iter().sum();
            let share = if pool > 0.0 {
                (fluid / pool).min(1.0)
            } else {
                0.0
            };
            for s in 0..site.mix.len() {
                let n = site.mix[s] * share;
                if n > 0.0 {
                    site.mix[s] -= n;
                    outcome(&mut self.rec, s as Stream, n);
                }
            }
        }
        if reset {
            let ids: Vec<u64> = removed.iter().map(|p| p.id).collect();
            if let Some(rl) = self.sites[k].request.as_mut() {
                for r in rl.take_in_service_of(&ids) {
                    outcome(&mut self.rec, r.stream, 1.0);
                }
            }
        }
        for pod in removed {
            for r in pod.waiting {
                outcome(&mut self.rec, r.stream, 1.0);
            }
        }
    }

    /// The overflow policy's check. A site whose own demand would load it
    /// above the threshold sends away the share that brings it back to the
    /// threshold, 1 - threshold / own load, to its nearest live site that is
    /// below the release level and not shedding itself; as its HPA adds
    /// pods the share falls and traffic moves back, by at most one step per
    /// check. An L7 proxy moves traffic at once.
    pub(super) fn overflow_check(&mut self) {
        let Some(policy) = self.exp.estate.overflow else {
            return;
        };
        let mut offered: Vec<f64> = self.sites.iter().map(|s| s.offered_load).collect();
        let shedding: Vec<bool> = self.sites.iter().map(|s| s.out_share > 0.0).collect();
        // Only a live site that announces the prefix takes overflow.
        let alive: Vec<bool> = self.sites.iter().map(|s| s.alive && s.announcing).collect();
        for k in 0..self.sites.len() {
            // Overflow never crosses a partition.
            let healthy = |t: usize| {
                alive[t] && offered[t] < policy.release && !shedding[t] && self.reachable(k, t)
            };
            let site = &self.sites[k];
            let current = site
                .target
                .filter(|&t| alive[t] && offered[t] < policy.threshold && self.reachable(k, t));
            let target = current.or_else(|| self.nearest[k].iter().copied().find(|&t| healthy(t)));
            let wanted = if site.own_load > policy.threshold {
                1.0 - policy.threshold / site.own_load
            } else {
                0.0
            };
            let (share, target) = match target {
                Some(t) => {
                    let share = if wanted >= site.out_share {
                        wanted
                    } else {
                        (site.out_share - policy.step).max(wanted)
                    };
                    (share, (share > 0.0).then_some(t))
                }
                None => {
                    let share = (site.out_share - policy.step).max(0.0);
                    (share, site.target.filter(|_| share > 0.0))
                }
            };
            if let Some(t) = target {
                // What this site sends loads the target before the next
                // site chooses: two sites do not both fill the same one.
                let moved = (share - self.sites[k].out_share).max(0.0);
                let cores = |j: usize| self.sites[j].capacity_cores;
                if cores(t) > 0.0 {
                    offered[t] += moved * self.sites[k].own_load * cores(k) / cores(t);
                }
            }
            let site = &mut self.sites[k];
            site.out_share = if target.is_some() { share } else { 0.0 };
            site.target = target;
        }
        self.queue.schedule_in(
            SimDuration::max(policy.check_interval, SimDuration::from_millis(1)),
            Event::OverflowCheck,
        );
    }
}
