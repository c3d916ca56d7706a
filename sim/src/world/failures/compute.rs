//! Failures of a site's compute: nodes crashing or shut down, and
//! repaired; pods crash-looping; random hardware failures of nodes.

use cutover_models::SimDuration;
use rand::RngExt;

use super::super::record::Cause;
use super::super::{Event, World};
use crate::experiment::{Failure, FailureKind};

impl World<'_> {
    /// `count` of site `k`'s nodes fail (failure `i`): their pods' requests
    /// are reset (`crash`) or drained, and the ReplicaSet recreates the
    /// pods on the nodes left (or pending, for the autoscaler).
    pub(super) fn nodes_fail(&mut self, i: usize, k: usize, count: u32, crash: bool) {
        let (nodes, removed) = self.sites[k].pods.fail_nodes(count as usize);
        self.finish_removed(k, removed, crash);
        let site = &mut self.sites[k];
        if site.alive {
            let replicas = site.replicas.max(0) as usize;
            let none = site.pods.resize(self.now, replicas);
            debug_assert!(none.is_empty(), "pods were only removed");
            site.pods.schedule(self.now);
        }
        self.active.failed_nodes.push((i, k, nodes));
        self.schedule_node_fault(k);
    }

    /// Failure `i`'s nodes at site `k` are repaired and join again.
    pub(super) fn nodes_repaired(&mut self, i: usize, k: usize) {
        let (down, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.active.failed_nodes)
            .into_iter()
            .partition(|f| f.0 == i);
        self.active.failed_nodes = rest;
        for (_, _, nodes) in down {
            self.sites[k].pods.repair_nodes(&nodes, self.now);
        }
        self.schedule_node_fault(k);
    }
}

impl World<'_> {
    /// Failure `i` sets site `k`'s pods crash-looping.
    pub(super) fn crash_loop_starts(&mut self, i: usize, k: usize) {
        self.active.crash_loops.push((i, k, 0));
        self.crash_loop_crash(i);
    }

    /// Failure `i`'s pods crash (again): what they held is reset, the
    /// kubelet restarts them after its back-off, and they crash again
    /// `uptime` after running (unless the loop ends first).
    pub(in crate::world) fn crash_loop_crash(&mut self, i: usize) {
        let FailureKind::CrashLoop { uptime, backoff } = self.failures[i].kind else {
            return;
        };
        let Some(l) = self.active.crash_loops.iter_mut().find(|l| l.0 == i) else {
            return;
        };
        let (k, restarts) = (l.1, l.2);
        l.2 = backoff.after_run(restarts, uptime);
        self.reset_in_flight(k);
        let restart = self.now + backoff.delay(restarts);
        for r in self.sites[k].pods.crash_all(restart) {
            self.rec.fail(k, r.stream, Cause::Reset, 1.0);
        }
        let running = restart + self.exp.estate.deployment.startup.container_start;
        self.failure_timer(i, running + uptime, Event::CrashLoop(i));
    }
}

impl World<'_> {
    /// (Re)draws when the next of site `k`'s nodes fails at random, from
    /// the nodes up now (exact for exponential lifetimes: a memoryless
    /// clock may be drawn again whenever the count changes).
    pub(in crate::world) fn schedule_node_fault(&mut self, k: usize) {
        let Some(r) = self.exp.reliability else {
            return;
        };
        if let Some(t) = self.fault_timers[k].take() {
            self.queue.cancel(t);
        }
        let up = self.sites[k].pods.nodes_up();
        if up == 0 {
            return;
        }
        let mean = SimDuration::from_nanos(r.node_mtbf.as_nanos() / up as u64);
        let at = self.now + self.exponential(k, mean);
        self.fault_timers[k] = Some(self.queue.set_timer_at(at, Event::NodeFault(k)));
    }

    /// One of site `k`'s nodes fails at random: a node crash, repaired
    /// after a random time.
    pub(in crate::world) fn node_fault(&mut self, k: usize) {
        self.fault_timers[k] = None;
        let Some(r) = self.exp.reliability else {
            return;
        };
        let repair = self.exponential(k, r.node_mttr);
        self.inject(Failure {
            site: Some(k),
            at: SimDuration::ZERO,
            duration: Some(repair),
            kind: FailureKind::NodeCrash { nodes: 1 },
        });
    }

    /// An exponential draw of mean `mean` from site `k`'s reliability
    /// stream.
    fn exponential(&mut self, k: usize, mean: SimDuration) -> SimDuration {
        let u: f64 = self.reliability_rng[k].random();
        SimDuration::from_secs_f64(-mean.as_secs_f64() * (1.0 - u).ln())
    }
}
