//! The network layer of the world: the BGP speakers of the estate's AS
//! graph, converged to their steady state at time zero, then driven by
//! UPDATEs, MRAI timers, session failures and withdrawals on the world's
//! event queue.

use cutover_models::bgp::network::{BgpNetwork, Delivery, Input, NotSettled, Output};
use cutover_models::bgp::timeline::RouteTimeline;
use cutover_models::bgp::topology::Topology;
use cutover_models::bgp::RouterId;
use cutover_models::geo::FIBER_KM_PER_S;
use cutover_models::{SimDuration, SimTime};
use rand::RngExt;

use crate::engine::rng::StreamRng;
use crate::engine::RngStreams;
use crate::experiment::Experiment;

/// The BGP network of an experiment.
pub struct NetworkLayer<'t> {
    topo: &'t Topology,
    net: BgpNetwork<'t>,
    processing_delay: SimDuration,
    path_inflation: f64,
    mrai_rng: StreamRng,
    updates_at_start: u64,
    /// The damping reuse instant already on the caller's queue, if any.
    reuse_scheduled: Option<SimTime>,
    /// Which route every router holds over time.
    timeline: RouteTimeline,
    /// Inputs handled since the start.
    handled: u64,
}

impl<'t> NetworkLayer<'t> {
    /// The network in its steady state with every announcing site, and the
    /// MRAI timers to start (busy timers run from a random phase).
    pub fn new(
        exp: &'t Experiment,
        streams: &RngStreams,
    ) -> Result<(Self, Vec<Output>), NotSettled> {
        let topo = &exp.topology;
        let mut net = BgpNetwork::new(topo, exp.estate.network.bgp);
        let processed = net.converge_static(
            exp.estate
                .announcements()
                .iter()
                .filter(|a| a.announce)
                .map(|a| a.input()),
        );
        if !net.settled() {
            return Err(NotSettled { processed });
        }
        let mut timeline = RouteTimeline::new();
        timeline.snapshot(SimTime::ZERO, &net);
        // Damping starts with the run: the steady state is not a flap.
        if let Some(params) = exp.estate.bgp_policy.damping {
            net = net.with_damping(params);
        }
        let mut timers = Vec::new();
        if exp.estate.network.bgp.mrai_busy {
            let mut phase = streams.stream("network.mrai-phase");
            timers = net.start_mrai_timers(&mut || phase.random::<f64>());
        }
        let updates_at_start = net.updates_sent();
        Ok((
            NetworkLayer {
                topo,
                net,
                processing_delay: exp.estate.network.processing_delay,
                path_inflation: exp.estate.network.latency.path_inflation(),
                mrai_rng: streams.stream("network.mrai"),
                updates_at_start,
                reuse_scheduled: None,
                timeline,
                handled: 0,
            },
            timers,
        ))
    }

    /// Feeds `input` to the speakers at `now`; returns what the caller
    /// must deliver.
    pub fn handle(&mut self, now: SimTime, input: Input) -> Vec<Output> {
        self.handled += 1;
        if input == Input::Reuse {
            self.reuse_scheduled = None;
        }
        let rng = &mut self.mrai_rng;
        let outputs = self.net.handle_at(now, input, &mut || rng.random::<f64>());
        self.timeline.observe(now, &self.net, &outputs);
        outputs
    }

    /// Every router's best route over time as CSV (`routers.csv`): the
    /// steady state at time zero, then each change.
    pub fn routers_csv(&self) -> String {
        self.timeline.to_csv(self.topo)
    }

    /// When to feed [`Input::Reuse`] next, if damping suppressed a route
    /// whose reuse instant is not on the caller's queue yet.
    pub fn reuse_to_schedule(&mut self) -> Option<SimTime> {
        let next = self.net.next_reuse()?;
        if self.reuse_scheduled.is_some_and(|t| t <= next) {
            return None;
        }
        self.reuse_scheduled = Some(next);
        Some(next)
    }

    /// Time an UPDATE takes from `a` to `b`: processing plus propagation.
    pub fn link_delay(&self, a: RouterId, b: RouterId) -> SimDuration {
        let km = self
            .topo
            .router(a)
            .location
            .distance_km(self.topo.router(b).location);
        self.processing_delay
            + SimDuration::from_secs_f64(km * self.path_inflation / FIBER_KM_PER_S)
    }

    /// Time an UPDATE from `a` takes to reach `b`: the session's out-delay
    /// (how long `a` holds it back), then the link's delay.
    pub fn update_delay(&self, a: RouterId, b: RouterId) -> SimDuration {
        self.topo.session(a, b).out_delay + self.link_delay(a, b)
    }

    /// The site that traffic entering at `router` reaches, if any.
    pub fn site_reached(&self, router: RouterId) -> Option<usize> {
        match self.net.forward(router) {
            Delivery::Site { site, .. } => Some(site),
            _ => None,
        }
    }

    /// The eBGP neighbours of site `site`'s router.
    pub fn site_neighbours(&self, site: usize) -> (RouterId, Vec<RouterId>) {
        let router = self.topo.sites()[site].router;
        let neighbours = self
            .topo
            .ebgp_neighbours(router)
            .iter()
            .map(|n| n.router)
            .collect();
        (router, neighbours)
    }

    /// When each neighbour of `router` notices it died: by its session's
    /// own detection (`[[network.sessions]]`), else `default`; see
    /// [`BgpNetwork::detections`].
    pub fn detections(
        &self,
        router: RouterId,
        default: cutover_models::failure::Detection,
        draw: &mut dyn FnMut() -> f64,
    ) -> Vec<(SimDuration, Input)> {
        self.net.detections(router, default, draw)
    }

    /// The routers of AS `asn` that site `site`'s router has a session
    /// with.
    pub fn site_upstream(&self, site: usize, asn: cutover_models::bgp::Asn) -> Vec<RouterId> {
        self.site_neighbours(site)
            .1
            .into_iter()
            .filter(|&n| self.topo.router(n).asn == asn)
            .collect()
    }

    /// Whether `router` is down.
    pub fn is_dead(&self, router: RouterId) -> bool {
        self.net.is_dead(router)
    }

    /// UPDATE messages sent since the steady state.
    pub fn updates(&self) -> u64 {
        self.net.updates_sent() - self.updates_at_start
    }
}

impl super::repeat::DayState for NetworkLayer<'_> {
    /// The network's state changes only when it handles an input (its
    /// routes, timers and damping): the count of inputs handled stands for
    /// it, so two marks agree only if none came between them; and its
    /// random stream's position.
    fn encode(&self, w: &mut super::repeat::Words) {
        w.push(self.handled);
        w.push(self.updates());
        w.time_opt(self.reuse_scheduled);
        w.rng(&self.mrai_rng);
    }

    fn shift(&mut self, s: &super::repeat::Shift) {
        self.reuse_scheduled = self.reuse_scheduled.map(|t| s.at(t));
    }
}
