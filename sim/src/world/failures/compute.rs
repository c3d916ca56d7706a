//! Failures of a site's compute: nodes crashing or shut down, and
//! repaired; pods crash-looping.

use super::super::record::Cause;
use super::super::{Event, World};
use crate::experiment::FailureKind;

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
