//! The one world: every experiment runs here. The network layer (BGP
//! speakers, convergence, failure detection), the compute layer of every
//! site (pods, HPA, metrics pipeline, nodes and autoscaler, queues,
//! timeouts, overflow to the nearest healthy site), the traffic of every
//! population and the failures advance together on one event queue.
//!
//! Traffic moves in fixed ticks: the tick ending at `T` serves `[T - tick,
//! T)` after every event before `T` has run and before any event at `T`,
//! so a population's requests are split by the exact share of the tick its
//! route spent at each site (or nowhere). Two fidelities share everything but the serving (see
//! [`serve`]).

pub mod control;
pub mod cost;
mod events;
pub mod failures;
pub mod latency;
pub mod load_test;
pub mod network;
pub mod partition;
pub mod pods;
pub mod record;
pub mod recovery;
mod repeat;
pub mod replication;
pub mod serve;
pub mod site;
pub mod summary;
mod tick;

use cutover_models::bgp::network::{Input, NotSettled, Output};
use cutover_models::{SimDuration, SimTime};

use crate::engine::rng::StreamRng;
use crate::engine::stats::TimeSeries;
use crate::engine::{EventQueue, RngStreams};
use crate::experiment::{Experiment, Fidelity};
use network::NetworkLayer;
use record::Recorder;
use serve::RequestLevel;
use site::Site;
pub use summary::{Outcome, RouteChange, Summary};

/// Something due at an instant.
#[derive(Clone, Debug)]
enum Event {
    /// A BGP input: an UPDATE arriving, an MRAI timer, a session found down
    /// (boxed: events are moved in the queue's heap, and the control loops'
    /// far more frequent ones are small).
    Bgp(Box<Input>),
    /// Failure `i` (of the experiment, then those injected) strikes.
    Failure(usize),
    /// Failure `i` ends: what failed comes back.
    FailureEnds(usize),
    /// Failure `i`'s crash-looping pods crash again.
    CrashLoop(usize),
    /// Failure `i`'s flapping sessions go down or come back up.
    Flap(usize),
    /// One of a site's nodes fails at random (`[reliability]`).
    NodeFault(usize),
    /// A recovered site's health check passes: it announces again.
    Announce(usize),
    /// The node of a site shut down by failure `i` goes dark after the
    /// drain.
    PowerOff(usize),
    /// The health check gives up on a site and withdraws it.
    Withdraw(usize),
    /// metrics-server scrapes every site's pods (one event for all sites:
    /// their scrapes fall at the same instants, see [`World::scrapes`]).
    Scrapes,
    /// Every site's HPA syncs (one event for all sites, see
    /// [`World::hpa_syncs`]).
    HpaSyncs,
    /// A site's cluster autoscaler scans.
    AutoscalerScan(usize),
    /// Sites decide what to shed to the next site.
    OverflowCheck,
}

impl Event {
    /// Whether handling the event can change a site's billed nodes (ready
    /// or asked for), which the cost meter must then see. The control
    /// loops that run most (scrapes, HPA syncs), BGP and the overflow
    /// check never touch a node pool, nor does a tick (it only moves
    /// provisioned nodes to ready), so the meter skips them; debug builds
    /// check after every event and tick that the meter agrees. An
    /// autoscaler's scan changes only its own site's pool.
    fn nodes_touched(&self) -> Touched {
        match self {
            Event::Scrapes | Event::HpaSyncs | Event::Bgp(_) | Event::OverflowCheck => {
                Touched::None
            }
            Event::AutoscalerScan(k) => Touched::Site(*k),
            _ => Touched::All,
        }
    }
}

/// The node pools an event can change.
#[derive(Clone, Copy)]
enum Touched {
    None,
    Site(usize),
    All,
}

/// A population's route over time: `None` while its requests are lost.
struct PopulationRoute {
    /// Changes in time order: (from, site or none).
    history: Vec<(SimTime, Option<usize>)>,
    /// Index of the entry in force at the start of the current tick.
    cursor: usize,
}

/// An experiment in progress.
pub struct World<'e> {
    exp: &'e Experiment,
    network: NetworkLayer<'e>,
    queue: EventQueue<Event>,
    sites: Vec<Site<'e>>,
    routes: Vec<PopulationRoute>,
    /// Sites nearest first, per site (where overflow goes).
    nearest: Vec<Vec<usize>>,
    /// TTFB of each population at each site, seconds.
    ttfb_s: Vec<Vec<f64>>,
    /// Population weights, normalised to sum to 1.
    shares: Vec<f64>,
    rec: Recorder,
    /// The experiment's failures, then those injected.
    failures: Vec<crate::experiment::Failure>,
    /// Failures that struck, by index into `failures`, with their record.
    failure_log: Vec<(usize, failures::FailureRecord)>,
    /// Failures in force that change how the world serves.
    active: failures::Active,
    /// Per site, whether its metrics scrapes and its HPA's syncs still run
    /// (they stop for good once it is decommissioned and dead).
    scraping: Vec<bool>,
    syncing: Vec<bool>,
    /// Sites' scrapes and syncs beyond the first of each shared event:
    /// what the summary's event count adds to the queue's (see
    /// [`World::scrapes`]).
    folded_events: u64,
    /// Per site, the next random node failure, if one is due.
    fault_timers: Vec<Option<crate::engine::TimerId>>,
    /// Per site, the random stream of its node failures and repairs.
    reliability_rng: Vec<StreamRng>,
    /// Instants at which damped routes are reconsidered, scheduled.
    /// Pending timers of each failure, which its end cancels.
    failure_timers: std::collections::BTreeMap<usize, Vec<crate::engine::TimerId>>,
    detect_rng: StreamRng,
    timeline: TimeSeries,
    tracker: summary::Tracker,
    now: SimTime,
    /// When the next traffic tick ends.
    next_tick: SimTime,
    /// Ticks served.
    ticks: u64,
    end: SimTime,
    /// Buffers the ticks reuse.
    scratch: tick::TickScratch,
    /// L7 proxies forwarding part of a site's arrivals to another site.
    l7: Vec<control::L7Split>,
    /// Observation windows, by handle (`None` once closed).
    windows: Vec<Option<control::Window>>,
    /// Every site's billed nodes over time.
    meter: cost::Meter,
    /// What site failures cost in data and how long their users took to
    /// recover.
    recovery: recovery::Recovery,
    /// The marks of repeated days, and the days skipped.
    days: repeat::Days,
}

impl<'e> World<'e> {
    /// The experiment's world at time zero, in its steady state, drawing
    /// from streams of `seed`; fails if BGP has no steady state.
    pub fn new(exp: &'e Experiment, seed: u64) -> Result<World<'e>, NotSettled> {
        let streams = RngStreams::new(seed);
        let (network, timers) = NetworkLayer::new(exp, &streams)?;
        let pops = exp.estate.populations.len();
        let deployment = &exp.estate.deployment;
        let sites: Vec<Site> = exp
            .estate
            .sites
            .iter()
            .map(|s| {
                let request = (exp.fidelity == Fidelity::Request)
                    .then(|| RequestLevel::new(&streams, &s.network.tag));
                Site::new(s, deployment, 2 * pops, request)
            })
            .collect();
        let mut world = World {
            exp,
            network,
            queue: EventQueue::new(),
            routes: Vec::new(),
            nearest: nearest_sites(exp),
            ttfb_s: ttfb_table(exp),
            shares: weight_shares(exp),
            rec: Recorder::new(
                pops,
                sites.len(),
                exp.estate.slo.slow_threshold.as_secs_f64(),
            ),
            sites,
            failures: exp.failures.clone(),
            failure_log: Vec::new(),
            failure_timers: std::collections::BTreeMap::new(),
            active: failures::Active::default(),
            fault_timers: vec![None; exp.estate.sites.len()],
            scraping: vec![true; exp.estate.sites.len()],
            syncing: vec![true; exp.estate.sites.len()],
            folded_events: 0,
            reliability_rng: exp
                .estate
                .sites
                .iter()
                .map(|s| streams.stream(&format!("reliability.{}", s.network.tag)))
                .collect(),
            detect_rng: streams.stream("network.detection"),
            timeline: summary::new_timeline(exp),
            tracker: summary::Tracker::new(exp),
            now: SimTime::ZERO,
            next_tick: SimTime::ZERO + exp.tick,
            ticks: 0,
            end: SimTime::ZERO + exp.duration,
            scratch: tick::TickScratch::default(),
            l7: Vec::new(),
            windows: Vec::new(),
            meter: cost::Meter::new(exp.estate.sites.len()),
            recovery: recovery::Recovery::new(&exp.estate, streams.stream("data.lag")),
            days: repeat::Days::new(exp),
        };
        world.routes = (0..pops)
            .map(|p| PopulationRoute {
                history: vec![(SimTime::ZERO, world.route_of(p))],
                cursor: 0,
            })
            .collect();
        world.deliver(timers);
        world.schedule_start();
        world.meter_nodes();
        Ok(world)
    }

    /// Schedules the control loops and the failures.
    fn schedule_start(&mut self) {
        let dep = &self.exp.estate.deployment;
        // The HPA's syncs are not aligned with metrics-server's scrapes: the
        // first sync comes half a period after the first scrape.
        let half = SimDuration::from_nanos(dep.hpa.sync_period.as_nanos() / 2);
        if !self.sites.is_empty() {
            let first = SimTime::ZERO + dep.metric_resolution;
            self.queue.schedule_at(first, Event::Scrapes);
            self.queue.schedule_at(first + half, Event::HpaSyncs);
        }
        for k in 0..self.sites.len() {
            if let Some(scan) = self.sites[k].scan_interval() {
                self.queue
                    .schedule_at(SimTime::ZERO + scan, Event::AutoscalerScan(k));
            }
        }
        if self.exp.estate.overflow.is_some() {
            self.queue.schedule_at(SimTime::ZERO, Event::OverflowCheck);
        }
        for (i, f) in self.failures.iter().enumerate() {
            self.queue
                .schedule_at(SimTime::ZERO + f.at, Event::Failure(i));
        }
        for k in 0..self.sites.len() {
            self.schedule_node_fault(k);
        }
    }

    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// When the next thing happens: a tick ends or an event is due; none
    /// once the run has reached its end.
    fn next_time(&mut self) -> Option<SimTime> {
        let event = self.queue.peek_time().filter(|&t| t <= self.end);
        let tick = Some(self.next_tick).filter(|&t| t <= self.end);
        match (event, tick) {
            (Some(e), Some(t)) => Some(e.min(t)),
            (e, t) => e.or(t),
        }
    }

    /// Serves the next tick or runs the next event, whichever comes first
    /// (a tick ending at an event's instant first: it covers the time
    /// before the event); false once the run has reached its end.
    pub fn step(&mut self) -> bool {
        let Some(next) = self.next_time() else {
            return false;
        };
        if next == self.next_tick {
            self.now = next;
            self.tick();
            self.next_tick += self.exp.tick;
            debug_assert!(self.meter_agrees(), "a tick changed a node pool");
            return true;
        }
        let Some((now, event)) = self.queue.pop() else {
            return false;
        };
        self.now = now;
        let touched = event.nodes_touched();
        self.handle(event);
        match touched {
            Touched::None => {}
            Touched::Site(k) => self.meter_site(k),
            Touched::All => self.meter_nodes(),
        }
        debug_assert!(
            self.meter_agrees(),
            "an unmetered event changed a node pool"
        );
        true
    }

    /// Runs every tick and event up to and including `t`, jumping the
    /// days that repeat the day before (see the `repeat` module) as far as `t`.
    pub fn run_until(&mut self, t: SimTime) {
        while let Some(at) = self.next_time().filter(|&at| at <= t) {
            if self.mark_due(at) {
                self.mark(t);
            } else if !self.step() {
                break;
            }
        }
    }

    /// Runs to the end and returns what the run measured.
    pub fn run(mut self) -> Outcome {
        self.run_until(self.end);
        self.finish()
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Bgp(input) => self.bgp(*input),
            Event::Failure(i) => self.strike(i),
            Event::FailureEnds(i) => self.end_failure(i),
            Event::Announce(k) => self.announce(k),
            Event::CrashLoop(i) => self.crash_loop_crash(i),
            Event::Flap(i) => self.flap(i),
            Event::NodeFault(k) => self.node_fault(k),
            Event::PowerOff(i) => self.power_off(i),
            Event::Withdraw(k) => self.withdraw(k),
            Event::Scrapes => self.scrapes(),
            Event::HpaSyncs => self.hpa_syncs(),
            Event::AutoscalerScan(k) => self.autoscaler_scan(k),
            Event::OverflowCheck => self.overflow_check(),
        }
    }

    /// Site `k` stops announcing the prefix.
    fn withdraw(&mut self, k: usize) {
        self.sites[k].announcing = false;
        self.bgp(Input::StopAnnouncing { site: k });
    }

    /// Feeds `input` to BGP and delivers what follows; a route suppressed
    /// by damping is reconsidered when it may be reused.
    fn bgp(&mut self, input: Input) {
        let outputs = self.network.handle(self.now, input);
        self.deliver(outputs);
        if let Some(t) = self.network.reuse_to_schedule() {
            self.queue
                .schedule_at(t, Event::Bgp(Box::new(Input::Reuse)));
        }
    }

    /// Schedules UPDATEs and timers; re-routes populations when a best
    /// route changed.
    fn deliver(&mut self, outputs: Vec<Output>) {
        let mut changed = false;
        for out in outputs {
            match out {
                Output::Send { from, to, advert } => self.queue.schedule_in(
                    self.network.update_delay(from, to),
                    Event::Bgp(Box::new(Input::Update { to, from, advert })),
                ),
                Output::SetMraiTimer {
                    router,
                    neighbour,
                    after,
                } => {
                    // Nothing cancels an MRAI timer, so it is an ordinary
                    // event: it runs in the same order and skips the
                    // queue's bookkeeping of cancellable timers.
                    let expired = Input::MraiExpired { router, neighbour };
                    self.queue.schedule_in(after, Event::Bgp(Box::new(expired)));
                }
                Output::BestChanged { .. } => changed = true,
            }
        }
        if changed {
            self.reroute();
        }
    }

    /// Where population `p`'s requests go now: a live site, or nowhere.
    fn route_of(&self, p: usize) -> Option<usize> {
        let router = self.exp.topology.populations()[p].router;
        self.network
            .site_reached(router)
            .filter(|&k| self.sites[k].alive)
    }

    /// Records every population whose route changed.
    fn reroute(&mut self) {
        for p in 0..self.routes.len() {
            let route = self.route_of(p);
            let last = self.routes[p].history.last().map(|h| h.1);
            if last != Some(route) {
                self.routes[p].history.push((self.now, route));
                self.tracker
                    .route_changed(self.exp, p, self.now, last.flatten(), route);
            }
        }
    }

    // A dead site's control loops keep their clocks but do nothing, so
    // that they run again from the same phase when it comes back; a
    // decommissioned site's stop (it does not come back).

    /// Whether site `k`'s control loops have stopped for good.
    fn loops_stopped(&self, k: usize) -> bool {
        self.sites[k].decommissioned && !self.sites[k].alive
    }

    // Every site scrapes every `metric_resolution` from the same first
    // instant, and every site's HPA syncs every `sync_period` (the
    // deployment's, which each site's HPA has) from the same first
    // instant, so one event per instant serves them all, in site order:
    // the order their own events had at that instant (scheduled one after
    // the other, each by the last, and never with another event between
    // them), and a scrape or sync touches only its own site, so it
    // commutes with another site's event at the same instant. The
    // summary still counts one event per site's scrape or sync (as when
    // each had its own), so its event count is unchanged.

    /// Whether site `k`'s scrapes (or, with `syncs`, HPA syncs) run now:
    /// `None` once its loop has stopped (an event no longer visits it),
    /// else whether it runs; the loop stops for good the first time it
    /// finds its site's loops stopped.
    fn loop_runs(&mut self, k: usize, syncs: bool) -> Option<bool> {
        let stopped = self.loops_stopped(k);
        let running = if syncs {
            &mut self.syncing[k]
        } else {
            &mut self.scraping[k]
        };
        if !*running {
            return None;
        }
        *running = !stopped;
        Some(*running)
    }

    /// Runs `visit` on every site whose scrapes (or, with `syncs`, HPA
    /// syncs) run now, in site order; whether any still runs. Counts each
    /// site visited beyond the first as an event of its own.
    fn each_running_loop(&mut self, syncs: bool, mut visit: impl FnMut(&mut Self, usize)) -> bool {
        let mut visited: u64 = 0;
        let mut any = false;
        for k in 0..self.sites.len() {
            let Some(runs) = self.loop_runs(k, syncs) else {
                continue;
            };
            visited += 1;
            if runs {
                any = true;
                visit(self, k);
            }
        }
        self.folded_events += visited.saturating_sub(1);
        any
    }

    /// metrics-server scrapes the pods of every live site.
    fn scrapes(&mut self) {
        let res = self.exp.estate.deployment.metric_resolution;
        let any = self.each_running_loop(false, |w, k| {
            if w.sites[k].alive {
                w.sites[k].pods.scrape(w.now, res);
            }
        });
        if any {
            self.queue.schedule_in(res, Event::Scrapes);
        }
    }

    /// The HPA of every live site syncs.
    fn hpa_syncs(&mut self) {
        let period = self.exp.estate.deployment.hpa.sync_period;
        let any = self.each_running_loop(true, |w, k| {
            if w.sites[k].alive {
                let (next, removed) = w.sites[k].hpa_sync(w.now);
                debug_assert_eq!(next, w.now + period, "an HPA off the deployment's period");
                w.drain_removed(k, removed);
            }
        });
        if any {
            self.queue.schedule_in(period, Event::HpaSyncs);
        }
    }

    fn autoscaler_scan(&mut self, k: usize) {
        if self.loops_stopped(k) {
            return;
        }
        if self.sites[k].alive {
            self.sites[k].autoscaler_scan(self.now);
        }
        if let Some(scan) = self.sites[k].scan_interval() {
            self.queue.schedule_in(scan, Event::AutoscalerScan(k));
        }
    }
}

/// Each site's other sites, nearest first by great-circle distance.
fn nearest_sites(exp: &Experiment) -> Vec<Vec<usize>> {
    let sites = &exp.estate.sites;
    (0..sites.len())
        .map(|k| {
            let here = sites[k].network.location;
            let mut others: Vec<(f64, usize)> = (0..sites.len())
                .filter(|&j| j != k)
                .map(|j| (here.distance_km(sites[j].network.location), j))
                .collect();
            others.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            others.into_iter().map(|(_, j)| j).collect()
        })
        .collect()
}

/// TTFB of each population at each site, seconds.
fn ttfb_table(exp: &Experiment) -> Vec<Vec<f64>> {
    let latency = &exp.estate.network.latency;
    exp.estate
        .populations
        .iter()
        .map(|p| {
            exp.estate
                .sites
                .iter()
                .map(|s| latency.ttfb_between_ms(p.location, s.network.location) / 1e3)
                .collect()
        })
        .collect()
}

/// The populations' weights as shares of the users.
fn weight_shares(exp: &Experiment) -> Vec<f64> {
    let total: f64 = exp.estate.populations.iter().map(|p| p.weight).sum();
    exp.estate
        .populations
        .iter()
        .map(|p| if total > 0.0 { p.weight / total } else { 0.0 })
        .collect()
}
