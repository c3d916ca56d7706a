//! Failures of a site's compute: nodes crashing or shut down, and
//! repaired.

use super::super::World;

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
