//! One site of the world: its pods and nodes, its HPA and the metrics it
//! reads, the cluster autoscaler, what it serves and what it sheds to the
//! next site.

use cutover_models::hpa::{Fetched, Hpa, PodSnapshot};
use cutover_models::nodes::Provisioning;
use cutover_models::SimTime;
use serde::Serialize;

use super::pods::{Pods, SimPod};
use super::serve::{RequestLevel, TwoChoiceMemo};
use crate::engine::TimerId;
use crate::estate::{Deployment, Site as EstateSite};

/// Per-site figures that are not request counts.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SiteStats {
    /// Requests it sent to other sites.
    pub overflowed_out: f64,
    /// Requests it took from other sites.
    pub overflowed_in: f64,
    /// Highest load (CPU used over CPU available) in any tick.
    pub peak_load: f64,
    /// Highest offered load (CPU its arrivals need over CPU available);
    /// above 1 the site was overrun.
    pub peak_offered_load: f64,
    /// Highest mean CPU utilisation of its ready pods against their request.
    pub peak_utilisation: f64,
    /// Most ready pods.
    pub max_ready_pods: u64,
    /// HPA syncs run.
    pub hpa_syncs: u64,
    /// HPA syncs that changed the replica count.
    pub hpa_rescales: u64,
}

/// A site's running state.
pub struct Site<'e> {
    /// Tag, e.g. `ams1`.
    pub tag: String,
    /// Pods and nodes.
    pub pods: Pods<'e>,
    /// Its autoscaler.
    pub hpa: Hpa,
    /// Replicas the deployment asks for.
    pub replicas: i32,
    /// Whether the site can serve (false once it crashed or its service died).
    pub alive: bool,
    /// Switched off for good by its operator
    /// ([`World::decommission`](super::World::decommission)): its control
    /// loops stop rather than keep their clocks, and the end of a failure
    /// does not bring it back.
    pub decommissioned: bool,
    /// Whether it announces the prefix (false when the estate says so, or
    /// once it withdrew): only announcing sites take overflow.
    pub announcing: bool,
    /// What its operator has it announce: `Some(prepends)` (the estate's
    /// announcement until an operator changes it), `None` once withdrawn or
    /// decommissioned. A failure withdraws without changing it; a site
    /// that recovers announces only what this says.
    pub operator: Option<u8>,
    /// Time it has spent down, for observation windows.
    pub downtime: super::control::Downtime,
    /// Request-level state, at request level.
    pub request: Option<RequestLevel>,
    /// Fluid requests in flight by stream (population and route).
    pub mix: Vec<f64>,
    /// The last power-of-two-choices sojourn computed.
    pub memo: TwoChoiceMemo,
    /// Share of its own traffic it sends away now, and where.
    pub out_share: f64,
    /// Where it sends it.
    pub target: Option<usize>,
    /// Last tick: CPU used over CPU available.
    pub load: f64,
    /// Last tick: CPU its arrivals would need over CPU available.
    pub offered_load: f64,
    /// Last tick: the same for its own demand only.
    pub own_load: f64,
    /// Last tick: CPU its ready pods offered, cores.
    pub capacity_cores: f64,
    /// The ready pods' indexes this tick.
    pub ready: Vec<usize>,
    /// Figures for the summary.
    pub stats: SiteStats,
    /// The announcement a recovering site makes once healthy.
    pub announce_timer: Option<TimerId>,
    /// What the HPA saw of the pods at its last sync (a buffer): one
    /// snapshot per run of alike pods, and each run's first pod.
    snaps: Vec<PodSnapshot>,
    snapped: Vec<usize>,
    /// What the metrics APIs returned at its last sync (a buffer).
    fetched: Vec<Fetched>,
}

impl<'e> Site<'e> {
    /// A site of the estate at time zero, serving with its initial replicas.
    pub fn new(
        site: &EstateSite,
        deployment: &'e Deployment,
        streams: usize,
        request: Option<RequestLevel>,
    ) -> Self {
        Site {
            tag: site.network.tag.clone(),
            pods: Pods::new(deployment, &site.nodes),
            hpa: Hpa::new(deployment.hpa.clone()),
            replicas: deployment.initial_replicas as i32,
            alive: true,
            decommissioned: false,
            announcing: site.network.announcement.announce,
            operator: site
                .network
                .announcement
                .announce
                .then_some(site.network.announcement.prepends),
            downtime: Default::default(),
            request,
            mix: vec![0.0; streams],
            memo: None,
            out_share: 0.0,
            target: None,
            load: 0.0,
            offered_load: 0.0,
            own_load: 0.0,
            capacity_cores: 0.0,
            ready: Vec::new(),
            stats: SiteStats::default(),
            announce_timer: None,
            snaps: Vec::new(),
            snapped: Vec::new(),
            fetched: Vec::new(),
        }
    }

    /// The cluster autoscaler's scan interval, on a cloud pool.
    pub fn scan_interval(&self) -> Option<cutover_models::SimDuration> {
        match self.pods.pool.provisioning {
            Provisioning::Cloud { scan_interval, .. } => Some(scan_interval),
            Provisioning::BareMetal => None,
        }
    }

    /// The HPA syncs at `at`; returns when it syncs next and the pods a
    /// scale-down removed (whose requests the caller drains).
    pub fn hpa_sync(&mut self, at: SimTime) -> (SimTime, Vec<SimPod>) {
        self.pods
            .snapshot_into(at, &mut self.snaps, &mut self.snapped);
        self.fetched.clear();
        let metrics = &self.hpa.spec().metrics;
        let snapped = &self.snapped;
        self.fetched
            .extend(metrics.iter().map(|m| self.pods.fetch(m, at, snapped)));
        let out = self
            .hpa
            .sync_metrics(at, self.replicas, &self.snaps, &self.fetched);
        self.stats.hpa_syncs += 1;
        let mut removed = Vec::new();
        if out.rescale {
            self.stats.hpa_rescales += 1;
            self.replicas = out.desired_replicas;
            removed = self.pods.resize(at, self.replicas.max(0) as usize);
        }
        self.pods.schedule(at);
        (out.next_sync, removed)
    }

    /// The cluster autoscaler scans at `at` for pods that do not fit.
    pub fn autoscaler_scan(&mut self, at: SimTime) {
        let unbound = self.pods.unbound() as u32;
        let request = self.pods.deployment.cpu_request_millicores;
        self.pods.pool.scale_up(at, unbound, request);
    }
}

impl super::repeat::DayState for Site<'_> {
    fn encode(&self, w: &mut super::repeat::Words) {
        let Site {
            tag: _,
            pods,
            hpa,
            replicas,
            alive,
            decommissioned,
            announcing,
            operator,
            downtime,
            request,
            mix,
            memo,
            out_share,
            target,
            load,
            offered_load,
            own_load,
            capacity_cores,
            ready,
            // Sums and peaks: the day's contributions are added, not compared.
            stats: _,
            announce_timer,
            // Buffers each sync overwrites.
            snaps: _,
            snapped: _,
            fetched: _,
        } = self;
        let relative = w.relative();
        pods.state_words(&relative, w.words());
        hpa.memory_words(&relative, w.words());
        w.push(*replicas as u64);
        w.flags(&[
            *alive,
            *decommissioned,
            *announcing,
            announce_timer.is_some(),
        ]);
        w.push(operator.map_or(u64::MAX, u64::from));
        downtime.encode(w);
        if request.is_some() {
            w.refuse("request level");
        }
        w.floats(mix);
        match memo {
            Some((r, m, v)) => {
                let (a, b) = v.unwrap_or((-1.0, -1.0));
                w.floats(&[*r, *m, a, b]);
            }
            None => w.push(u64::MAX),
        }
        w.floats(&[*out_share, *load, *offered_load, *own_load, *capacity_cores]);
        w.push(target.map_or(u64::MAX, |t| t as u64));
        w.push(ready.len() as u64);
        w.words().extend(ready.iter().map(|&r| r as u64));
    }

    fn shift(&mut self, s: &super::repeat::Shift) {
        self.pods.shift_times(&|t| s.at(t));
        self.hpa.shift_times(&|t| s.at(t));
        self.downtime.shift(s);
    }
}
