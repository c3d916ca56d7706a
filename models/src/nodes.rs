//! Nodes: where pods get room.
//!
//! A cloud pool grows through the cluster autoscaler: at each scan it adds
//! enough nodes for the pods that cannot be scheduled, up to a maximum, and
//! each new node joins after a provisioning delay. A bare-metal pool has a
//! fixed set of servers (adding one takes days), so pods beyond its room
//! stay pending.

use crate::time::{SimDuration, SimTime};

/// Kubernetes' default `maxPods` per node: 110 (kubelet reference).
pub const DEFAULT_MAX_PODS_PER_NODE: u32 = 110;
/// Cluster autoscaler `--scan-interval` default: 10 s (cluster-autoscaler
/// FAQ; AKS autoscaler profile `scan-interval` default 10).
pub const DEFAULT_SCAN_INTERVAL: SimDuration = SimDuration::from_secs(10);
/// Node provisioning: assumption, 90 s from the autoscaler's request to a
/// Ready node (VM boot and kubelet registration); measure your provider.
pub const DEFAULT_PROVISIONING_DELAY: SimDuration = SimDuration::from_secs(90);

/// How a pool gets more nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provisioning {
    /// The cluster autoscaler adds nodes.
    Cloud {
        /// Most nodes the pool may have.
        max_nodes: u32,
        /// From request to Ready.
        delay: SimDuration,
        /// How often the autoscaler looks for unschedulable pods.
        scan_interval: SimDuration,
    },
    /// A fixed set of servers.
    BareMetal,
}

/// One node pool of identical nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct NodePool {
    /// CPU a node offers to pods (allocatable), millicores.
    pub allocatable_millicores: i64,
    /// Pods per node at most.
    pub max_pods_per_node: u32,
    /// Growth.
    pub provisioning: Provisioning,
    ready_at: Vec<SimTime>,
    provisioning_until: Vec<SimTime>,
}

impl NodePool {
    /// A pool with `nodes` nodes ready from time zero.
    pub fn new(
        nodes: u32,
        allocatable_millicores: i64,
        max_pods_per_node: u32,
        provisioning: Provisioning,
    ) -> Self {
        NodePool {
            allocatable_millicores,
            max_pods_per_node,
            provisioning,
            ready_at: vec![SimTime::ZERO; nodes as usize],
            provisioning_until: Vec::new(),
        }
    }

    /// The pool's nodes as numbers, each instant through `time` (for a
    /// caller comparing two states).
    pub fn state_words(&self, time: &dyn Fn(SimTime) -> u64, out: &mut Vec<u64>) {
        for times in [&self.ready_at, &self.provisioning_until] {
            out.push(times.len() as u64);
            out.extend(times.iter().map(|&t| time(t)));
        }
    }

    /// Moves every instant of the pool through `shift`.
    pub fn shift_times(&mut self, shift: &dyn Fn(SimTime) -> SimTime) {
        for t in self
            .ready_at
            .iter_mut()
            .chain(self.provisioning_until.iter_mut())
        {
            *t = shift(*t);
        }
    }

    /// Pods with `request_millicores` that fit on one node.
    pub fn pods_per_node(&self, request_millicores: i64) -> u32 {
        if request_millicores <= 0 {
            return self.max_pods_per_node;
        }
        let by_cpu = (self.allocatable_millicores / request_millicores).max(0);
        (by_cpu.min(i64::from(self.max_pods_per_node))) as u32
    }

    /// Ready nodes, in the order they joined; the value is when each joined.
    pub fn ready_nodes(&self) -> &[SimTime] {
        &self.ready_at
    }

    /// Nodes requested and not yet ready.
    pub fn provisioning_nodes(&self) -> usize {
        self.provisioning_until.len()
    }

    /// The next instant a provisioning node becomes ready.
    pub fn next_ready(&self) -> Option<SimTime> {
        self.provisioning_until.iter().min().copied()
    }

    /// Moves nodes whose provisioning ended by `now` to ready; returns how many.
    pub fn advance(&mut self, now: SimTime) -> usize {
        let before = self.ready_at.len();
        let mut still = Vec::new();
        let mut done: Vec<SimTime> = Vec::new();
        for &t in &self.provisioning_until {
            if t <= now {
                done.push(t);
            } else {
                still.push(t);
            }
        }
        done.sort();
        self.ready_at.extend(done);
        self.provisioning_until = still;
        self.ready_at.len() - before
    }

    /// `count` ready nodes fail (the oldest first) and leave the pool;
    /// returns how many left.
    pub fn remove_ready(&mut self, count: usize) -> usize {
        let n = count.min(self.ready_at.len());
        self.ready_at.drain(..n);
        n
    }

    /// A repaired node joins the pool, ready at `now`.
    pub fn add_ready(&mut self, now: SimTime) {
        self.ready_at.push(now);
    }

    /// One cluster-autoscaler scan at `now` with `unschedulable` pending pods
    /// of `request_millicores` each: requests the nodes they need beyond
    /// those already coming, within the maximum. Returns the nodes requested.
    pub fn scale_up(&mut self, now: SimTime, unschedulable: u32, request_millicores: i64) -> u32 {
        let Provisioning::Cloud {
            max_nodes, delay, ..
        } = self.provisioning
        else {
            return 0;
        };
        let per_node = self.pods_per_node(request_millicores);
        if per_node == 0 || unschedulable == 0 {
            return 0;
        }
        let needed = unschedulable.div_ceil(per_node) as usize;
        let coming = self.provisioning_until.len();
        let room = (max_nodes as usize).saturating_sub(self.ready_at.len() + coming);
        let add = needed.saturating_sub(coming).min(room);
        for _ in 0..add {
            self.provisioning_until.push(now + delay);
        }
        add as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_nodes_leave_room_for_the_autoscaler_and_repaired_ones_return() {
        let cloud = Provisioning::Cloud {
            max_nodes: 3,
            delay: SimDuration::from_secs(90),
            scan_interval: DEFAULT_SCAN_INTERVAL,
        };
        let mut pool = NodePool::new(3, 8000, 110, cloud);
        // Full: no room for more.
        assert_eq!(pool.scale_up(t(0), 8, 1000), 0);
        assert_eq!(pool.remove_ready(2), 2);
        assert_eq!(pool.remove_ready(5), 1, "only what is there");
        // Two nodes' worth of pods: two nodes come.
        assert_eq!(pool.scale_up(t(10), 16, 1000), 2);
        pool.add_ready(t(20));
        assert_eq!(pool.ready_nodes(), &[t(20)]);
        assert_eq!(pool.advance(t(100)), 2);
        assert_eq!(pool.ready_nodes().len(), 3);
    }

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    fn cloud(max_nodes: u32) -> Provisioning {
        Provisioning::Cloud {
            max_nodes,
            delay: SimDuration::from_secs(90),
            scan_interval: DEFAULT_SCAN_INTERVAL,
        }
    }

    #[test]
    fn pods_per_node_by_cpu_and_max_pods() {
        let p = NodePool::new(2, 7_800, 110, Provisioning::BareMetal);
        assert_eq!(p.pods_per_node(1000), 7);
        assert_eq!(p.pods_per_node(10), 110);
    }

    #[test]
    fn autoscaler_adds_what_is_missing_up_to_the_maximum() {
        let mut p = NodePool::new(2, 8_000, 110, cloud(10));
        // 20 pending pods of 1 core: 3 nodes.
        assert_eq!(p.scale_up(t(0), 20, 1000), 3);
        // Same pods at the next scan: already coming.
        assert_eq!(p.scale_up(t(10), 20, 1000), 0);
        // More pods: 60 need 8 nodes, 3 coming, room for 5 more.
        assert_eq!(p.scale_up(t(20), 60, 1000), 5);
        assert_eq!(p.scale_up(t(30), 200, 1000), 0, "at the maximum");
        assert_eq!(p.next_ready(), Some(t(90)));
        assert_eq!(p.advance(t(89)), 0);
        assert_eq!(p.advance(t(90)), 3);
        assert_eq!(p.ready_nodes().len(), 5);
        assert_eq!(p.advance(t(110)), 5);
        assert_eq!(p.provisioning_nodes(), 0);
    }

    #[test]
    fn bare_metal_never_grows() {
        let mut p = NodePool::new(4, 32_000, 110, Provisioning::BareMetal);
        assert_eq!(p.scale_up(t(0), 1000, 1000), 0);
        assert_eq!(p.ready_nodes().len(), 4);
    }
}
