//! One site's pods and nodes: the ReplicaSet's pods bound to nodes, their
//! start-up and warm-up, and the node pool that grows under the cluster
//! autoscaler (or stays fixed on bare metal).

use std::collections::VecDeque;

use cutover_models::capacity::FluidPod;
use cutover_models::hpa::{
    CpuMetric, Fetched, MetricSpec, PodPhase, PodSnapshot, ReadyCondition, ResourceName,
};
use cutover_models::nodes::NodePool;
use cutover_models::pods::PodTimeline;
use cutover_models::queueing::MmcQueue;
use cutover_models::SimTime;

use crate::estate::Deployment;

/// A request waiting in a pod's queue at request level.
#[derive(Clone, Copy, Debug)]
pub struct Waiting {
    /// When it arrived.
    pub arrived: SimTime,
    /// Latency the user sees outside the site (TTFB, overflow hop).
    pub network_s: f64,
    /// Latency the site adds outside the queue (warm-up).
    pub warm_s: f64,
    /// The stream it belongs to (population and route).
    pub stream: u32,
}

/// One pod.
#[derive(Clone, Debug)]
pub struct SimPod {
    /// Unique within the site.
    pub id: u64,
    /// The request-level queue, created when the pod becomes ready.
    pub queue: Option<MmcQueue>,
    /// The requests waiting in `queue`, in queue order.
    pub waiting: VecDeque<Waiting>,
    /// The node it is bound to.
    pub node: Option<usize>,
    /// Its start-up, once bound.
    pub timeline: Option<PodTimeline>,
    /// The fluid's state.
    pub fluid: FluidPod,
    /// CPU used since the last scrape (or since it started),
    /// core-seconds: what metrics-server reads. Kept since the last scrape,
    /// not since the start, so that a pod that lives for weeks returns to
    /// the same state every day (see the world's `repeat` module).
    pub cpu_core_s: f64,
    /// Whether the last scrape found it running (the next one then has a
    /// window to read).
    scraped: bool,
    metric: Option<CpuMetric>,
}

/// One node.
#[derive(Clone, Debug)]
pub struct SimNode {
    /// Pods bound to it.
    pub pods: u32,
    /// When the image is on the node (after its first pull).
    pub image_at: Option<SimTime>,
    /// False while it is down (failed, not yet repaired).
    pub up: bool,
}

/// A site's pods and nodes.
pub struct Pods<'e> {
    /// The deployment the pods run.
    pub deployment: &'e Deployment,
    /// The pods, oldest first.
    pub pods: Vec<SimPod>,
    /// The nodes.
    pub nodes: Vec<SimNode>,
    /// The pool that adds nodes.
    pub pool: NodePool,
    per_node: u32,
    /// CPU a node offers, cores.
    alloc_cores: f64,
    /// CPU a pod requests and its limit, cores.
    request_cores: f64,
    limit_cores: f64,
    next_id: u64,
}

impl<'e> Pods<'e> {
    /// The deployment's initial replicas on the pool's ready nodes, serving
    /// and warm at time zero.
    pub fn new(deployment: &'e Deployment, pool: &NodePool) -> Self {
        let request = deployment.cpu_request_millicores;
        let mut pods = Pods {
            deployment,
            pods: Vec::new(),
            nodes: pool
                .ready_nodes()
                .iter()
                .map(|_| SimNode {
                    pods: 0,
                    image_at: Some(SimTime::ZERO),
                    up: true,
                })
                .collect(),
            pool: pool.clone(),
            per_node: pool.pods_per_node(request),
            alloc_cores: pool.allocatable_millicores as f64 / 1000.0,
            request_cores: request as f64 / 1000.0,
            limit_cores: deployment.cpu_limit_millicores as f64 / 1000.0,
            next_id: 0,
        };
        pods.resize(SimTime::ZERO, deployment.initial_replicas as usize);
        pods.schedule(SimTime::ZERO);
        for pod in &mut pods.pods {
            if pod.timeline.is_some() {
                pod.timeline = Some(PodTimeline {
                    started: SimTime::ZERO,
                    running: SimTime::ZERO,
                    ready: SimTime::ZERO,
                    warm: SimTime::ZERO,
                });
            }
        }
        pods
    }

    /// Whether pod `i` is running at `now`.
    pub fn running(&self, i: usize, now: SimTime) -> bool {
        self.pods[i].timeline.is_some_and(|t| t.running <= now)
    }

    /// Whether pod `i` is ready at `now`.
    pub fn ready(&self, i: usize, now: SimTime) -> bool {
        self.pods[i].timeline.is_some_and(|t| t.ready <= now)
    }

    /// What the HPA sees of the pods at `now`, into `out` (whose buffer
    /// is reused from sync to sync): one snapshot for each run of
    /// consecutive pods in the same state (timeline and CPU sample), which
    /// the HPA sees alike, standing for the run's pods; each run's first
    /// pod into `firsts` (what [`Pods::fetch`] reads for the run).
    pub fn snapshot_into(&self, now: SimTime, out: &mut Vec<PodSnapshot>, firsts: &mut Vec<usize>) {
        out.clear();
        firsts.clear();
        let mut last: Option<&SimPod> = None;
        for (i, p) in self.pods.iter().enumerate() {
            if let (Some(q), Some(run)) = (last, out.last_mut()) {
                if q.metric == p.metric && q.timeline == p.timeline {
                    run.count += 1;
                    continue;
                }
            }
            last = Some(p);
            firsts.push(i);
            out.push(self.snapshot(p, now));
        }
    }

    /// What the HPA sees of pod `p` at `now`.
    fn snapshot(&self, p: &SimPod, now: SimTime) -> PodSnapshot {
        let tl = p.timeline;
        let started = tl.filter(|t| t.started <= now);
        let running = tl.is_some_and(|t| t.running <= now);
        PodSnapshot {
            count: 1,
            phase: if running {
                PodPhase::Running
            } else {
                PodPhase::Pending
            },
            deleting: false,
            start_time: started.map(|t| t.started),
            ready: started.map(|t| {
                let ready = t.ready <= now;
                ReadyCondition {
                    ready,
                    last_transition: if ready { t.ready } else { t.started },
                }
            }),
            request_millicores: self.deployment.cpu_request_millicores,
            request_memory_bytes: self.deployment.memory_request_bytes,
            metric: if running { p.metric } else { None },
        }
    }

    /// What the metrics APIs return for `metric` at a sync at `now`, from
    /// each pod's last CPU sample: the requests a pod served per second are
    /// its busy cores over its CPU per request (the warm figure times its
    /// warm-up factor at `now`), and its memory is the deployment's base
    /// plus the per-request figure times the requests in service, which by
    /// Little's law are that rate times the CPU per request, i.e. its busy
    /// cores. A per-pod metric is read for the pods `firsts` (one for each
    /// snapshot, see [`Pods::snapshot_into`]); an object or external
    /// `requests_per_second` is the site's: the sum over all its pods.
    /// Values are milli-units, as the APIs give them.
    pub fn fetch(&self, metric: &MetricSpec, now: SimTime, firsts: &[usize]) -> Fetched {
        let dep = self.deployment;
        let per_request_s = dep.service.cpu_per_request.as_secs_f64();
        let cores = |p: &SimPod| p.metric.map(|m| m.usage_millicores as f64 / 1000.0);
        let rps_milli = |p: &SimPod| {
            let factor = p
                .timeline
                .map_or(1.0, |t| dep.startup.cpu_factor(t.ready, now));
            cores(p).map(|c| round_to_i64(c / (per_request_s * factor) * 1000.0))
        };
        match metric {
            MetricSpec::Resource {
                name: ResourceName::Memory,
                ..
            } => {
                let base = self.deployment.memory_base_bytes as f64;
                let per = self.deployment.memory_per_request_bytes as f64;
                Fetched::PerPod(
                    firsts
                        .iter()
                        .map(|&i| cores(&self.pods[i]))
                        .map(|c| c.map(|c| round_to_i64((base + per * c) * 1000.0)))
                        .collect(),
                )
            }
            MetricSpec::Resource { .. } => Fetched::PerPod(Vec::new()),
            MetricSpec::Pods { .. } => {
                Fetched::PerPod(firsts.iter().map(|&i| rps_milli(&self.pods[i])).collect())
            }
            MetricSpec::Object { .. } | MetricSpec::External { .. } => {
                Fetched::Total(self.pods.iter().filter_map(rps_milli).sum())
            }
        }
    }

    /// metrics-server scrapes every running pod at `at`: its mean CPU over
    /// the last `window`.
    pub fn scrape(&mut self, at: SimTime, window: cutover_models::SimDuration) {
        for p in 0..self.pods.len() {
            let running = self.running(p, at);
            let pod = &mut self.pods[p];
            if running {
                pod.metric = pod.scraped.then(|| CpuMetric {
                    usage_millicores: round_to_i64(pod.cpu_core_s / window.as_secs_f64() * 1000.0),
                    timestamp: at,
                    window,
                });
                pod.scraped = true;
                pod.cpu_core_s = 0.0;
            } else {
                pod.metric = None;
                pod.scraped = false;
            }
        }
    }

    /// Sets the deployment to `replicas` pods: new pods start unbound; on a
    /// scale-down the ReplicaSet removes unbound pods first, then pods not
    /// yet ready, then the newest. Returns the pods removed, whose requests
    /// the caller drains.
    pub fn resize(&mut self, now: SimTime, replicas: usize) -> Vec<SimPod> {
        while self.pods.len() < replicas {
            self.next_id += 1;
            self.pods.push(SimPod {
                id: self.next_id,
                queue: None,
                waiting: VecDeque::new(),
                node: None,
                timeline: None,
                fluid: FluidPod::default(),
                cpu_core_s: 0.0,
                scraped: false,
                metric: None,
            });
        }
        let mut removed = Vec::new();
        while self.pods.len() > replicas {
            let rank = |p: &SimPod| match p.timeline {
                None => 0,
                Some(t) if t.ready > now => 1,
                Some(_) => 2,
            };
            let victim = (0..self.pods.len())
                .rev()
                .min_by_key(|&i| rank(&self.pods[i]))
                .unwrap_or(self.pods.len() - 1);
            let pod = self.pods.remove(victim);
            if let Some(n) = pod.node {
                self.nodes[n].pods -= 1;
            }
            removed.push(pod);
        }
        removed
    }

    /// Binds unbound pods to the least-loaded nodes with room.
    pub fn schedule(&mut self, now: SimTime) {
        let startup = &self.deployment.startup;
        for i in 0..self.pods.len() {
            if self.pods[i].node.is_some() {
                continue;
            }
            let Some(n) = (0..self.nodes.len())
                .filter(|&n| self.nodes[n].up && self.nodes[n].pods < self.per_node)
                .min_by_key(|&n| self.nodes[n].pods)
            else {
                return;
            };
            let node = &mut self.nodes[n];
            node.pods += 1;
            let cached = node.image_at.is_some_and(|t| t <= now);
            let tl = startup.timeline(now, cached);
            if node.image_at.is_none() {
                // The pull ends when the container can start.
                let pulled = tl.started
                    + if cached {
                        startup.image_pull_cached
                    } else {
                        startup.image_pull_uncached
                    };
                node.image_at = Some(pulled);
            }
            self.pods[i].node = Some(n);
            self.pods[i].timeline = Some(tl);
        }
    }

    /// The first `count` nodes that are up fail: they leave the pool and
    /// their pods are removed (the caller finishes what they held, and the
    /// ReplicaSet replaces them). Returns the nodes and the pods.
    pub fn fail_nodes(&mut self, count: usize) -> (Vec<usize>, Vec<SimPod>) {
        let failed: Vec<usize> = (0..self.nodes.len())
            .filter(|&n| self.nodes[n].up)
            .take(count)
            .collect();
        for &n in &failed {
            self.nodes[n].up = false;
            self.nodes[n].pods = 0;
        }
        self.pool.remove_ready(failed.len());
        let (gone, kept): (Vec<SimPod>, Vec<SimPod>) = std::mem::take(&mut self.pods)
            .into_iter()
            .partition(|p| p.node.is_some_and(|n| failed.contains(&n)));
        self.pods = kept;
        (failed, gone)
    }

    /// Failed nodes `nodes` are repaired at `now`: they join the pool again
    /// (their image still on disk) and take pending pods.
    pub fn repair_nodes(&mut self, nodes: &[usize], now: SimTime) {
        for &n in nodes {
            if !self.nodes[n].up {
                self.nodes[n].up = true;
                self.pool.add_ready(now);
            }
        }
        self.schedule(now);
    }

    /// Every pod's container crashes at once (a crash loop): what they
    /// held is returned (the caller resets it), and each bound pod's
    /// container starts again at `restart`, on its node, with no
    /// scheduling or image pull. Returns the requests that were waiting.
    pub fn crash_all(&mut self, restart: SimTime) -> Vec<Waiting> {
        let startup = &self.deployment.startup;
        let tl = startup.timeline(restart, true);
        let skipped = startup.scheduling + startup.image_pull_cached;
        let back = |t: SimTime| SimTime::from_nanos(t.as_nanos() - skipped.as_nanos());
        let again = PodTimeline {
            started: restart,
            running: back(tl.running),
            ready: back(tl.ready),
            warm: back(tl.warm),
        };
        let mut waiting = Vec::new();
        for pod in &mut self.pods {
            waiting.extend(pod.waiting.drain(..));
            pod.queue = None;
            pod.fluid = FluidPod::default();
            pod.metric = None;
            pod.scraped = false;
            if pod.timeline.is_some() {
                pod.timeline = Some(again);
            }
        }
        waiting
    }

    /// The pods and nodes as numbers, each instant through `time`. Pod ids
    /// are left out: they only name pods to the request level, which never
    /// skips a day.
    pub fn state_words(&self, time: &dyn Fn(SimTime) -> u64, out: &mut Vec<u64>) {
        let opt = |t: Option<SimTime>| t.map_or(u64::MAX - 1, time);
        out.push(self.pods.len() as u64);
        for p in &self.pods {
            let tl = p.timeline;
            out.extend([
                u64::from(p.queue.is_some()),
                p.waiting.len() as u64,
                p.node.map_or(u64::MAX, |n| n as u64),
                opt(tl.map(|t| t.started)),
                opt(tl.map(|t| t.running)),
                opt(tl.map(|t| t.ready)),
                opt(tl.map(|t| t.warm)),
                p.fluid.in_flight().to_bits(),
                p.cpu_core_s.to_bits(),
                u64::from(p.scraped),
            ]);
            match p.metric {
                Some(m) => out.extend([
                    m.usage_millicores as u64,
                    time(m.timestamp),
                    m.window.as_nanos(),
                ]),
                None => out.push(u64::MAX),
            }
        }
        out.push(self.nodes.len() as u64);
        for n in &self.nodes {
            out.extend([u64::from(n.pods), opt(n.image_at), u64::from(n.up)]);
        }
        self.pool.state_words(time, out);
    }

    /// Moves every instant of the pods and nodes through `shift`.
    pub fn shift_times(&mut self, shift: &dyn Fn(SimTime) -> SimTime) {
        for p in &mut self.pods {
            if let Some(t) = p.timeline.as_mut() {
                t.started = shift(t.started);
                t.running = shift(t.running);
                t.ready = shift(t.ready);
                t.warm = shift(t.warm);
            }
            if let Some(m) = p.metric.as_mut() {
                m.timestamp = shift(m.timestamp);
            }
        }
        for n in &mut self.nodes {
            n.image_at = n.image_at.map(shift);
        }
        self.pool.shift_times(shift);
    }

    /// Nodes up.
    pub fn nodes_up(&self) -> usize {
        self.nodes.iter().filter(|n| n.up).count()
    }

    /// Pods waiting for a node.
    pub fn unbound(&self) -> usize {
        self.pods.iter().filter(|p| p.node.is_none()).count()
    }

    /// Adds the nodes the pool made ready by `now`, then binds pods.
    pub fn grow_nodes(&mut self, now: SimTime) {
        for _ in 0..self.pool.advance(now) {
            self.nodes.push(SimNode {
                pods: 0,
                image_at: None,
                up: true,
            });
        }
        self.schedule(now);
    }

    /// CPU pod `p` can use: its limit, or its share of a full node, never
    /// less than its request.
    pub fn cores(&self, p: usize) -> f64 {
        let node_pods = self.pods[p].node.map_or(1, |n| self.nodes[n].pods.max(1));
        self.limit_cores.min(
            self.request_cores
                .max(self.alloc_cores / f64::from(node_pods)),
        )
    }

    /// CPU factor and added latency of pod `p` at `now` (warm-up).
    pub fn warmth(&self, p: usize, now: SimTime) -> (f64, f64) {
        let startup = &self.deployment.startup;
        match self.pods[p].timeline {
            Some(tl) if tl.warm > now => (
                startup.cpu_factor(tl.ready, now),
                startup.added_latency_s(tl.ready, now),
            ),
            _ => (1.0, 0.0),
        }
    }
}

/// `x.round() as i64` (half away from zero, saturating, NaN to 0) without
/// the library call `f64::round` makes on a baseline x86-64 target: the
/// truncation is a single instruction and `x` minus it is exact.
fn round_to_i64(x: f64) -> i64 {
    let t = x as i64;
    let frac = x - t as f64;
    if frac >= 0.5 {
        t.saturating_add(1)
    } else if frac <= -0.5 {
        t.saturating_sub(1)
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::round_to_i64;

    #[test]
    fn rounding_matches_the_library_everywhere_it_is_tested() {
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            0.49999999999999994,
            -0.49999999999999994,
            4503599627370495.5,
            4503599627370497.0,
            9.3e18,
            -9.3e18,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
        ];
        // A sweep through the CPU figures a scrape sees, and their
        // neighbours one bit either side.
        for i in 0..200_000 {
            let v = i as f64 * 0.0137 - 500.0;
            values.extend([
                v,
                f64::from_bits(v.to_bits() + 1),
                f64::from_bits(v.to_bits() - 1),
            ]);
        }
        for v in values {
            assert_eq!(round_to_i64(v), v.round() as i64, "{v:e}");
        }
    }
}
