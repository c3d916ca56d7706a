//! A network of BGP routers as one sans-IO state machine.
//!
//! The caller feeds [`Input`]s (an UPDATE arrived, an MRAI timer fired, a
//! site starts or stops announcing, a session was detected down, a router
//! lost power) and gets back [`Output`]s (UPDATEs to deliver after the link
//! delay, timers to set, best routes that changed). The model never reads a
//! clock or draws random numbers itself: the MRAI jitter comes from a draw
//! the caller supplies.
//!
//! Rules modelled:
//! - one prefix (the anycast prefix); each router keeps an Adj-RIB-In per
//!   neighbour and runs [`decision::select`](super::decision::select);
//! - eBGP export by the Gao-Rexford rules, with the AS prepended (and the
//!   site's prepends at the origin), MED reset beyond the next AS;
//! - full-mesh iBGP: a router passes only routes it learned over eBGP to its
//!   iBGP peers;
//! - loop prevention: a router drops a route whose AS_PATH holds its AS;
//! - MRAI per session (RFC 4271 section 9.2.1.1): after an advertisement to
//!   a neighbour, further advertisements to it wait until the timer fires;
//!   withdrawals go at once, as most implementations send them, unless the
//!   session rate-limits them too; busy timers (a full table's sessions)
//!   run for ever, and the model asks the caller for a timer only when a
//!   route waits for one (see [`NetworkConfig::mrai_busy`]);
//! - what [`TopologyOptions`](super::policy::TopologyOptions) configures:
//!   several origin ASes, export policies and NO_EXPORT, per-session MRAI,
//!   sender-side loop detection and detection, IGP metrics;
//! - optionally, MEDs compared in order of arrival (no deterministic-med)
//!   and RFC 2439 damping of routes learned over eBGP (a withdrawal is a
//!   flap, an attribute change half of one, as Cisco IOS counts them).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::decision::{select, select_in_order, Candidate, DecisionConfig, Selection};
use super::policy::ExportPolicy;
use super::topology::Topology;
use super::{Asn, Learned, Origin, Relationship, Route, RouterId};
use crate::failure::{Damping, DampingParams, Detection};
use crate::{SimDuration, SimTime};

/// Default eBGP MinRouteAdvertisementInterval: 30 s (RFC 4271 section 10).
pub const DEFAULT_EBGP_MRAI: SimDuration = SimDuration::from_secs(30);
/// Default iBGP MinRouteAdvertisementInterval: 0. RFC 4271 section 10
/// suggests 5 s, but common implementations default iBGP to 0 (Cisco IOS
/// `advertisement-interval` defaults: 30 s eBGP, 0 s iBGP).
pub const DEFAULT_IBGP_MRAI: SimDuration = SimDuration::ZERO;
/// MRAI jitter range: each timer is the interval times a factor drawn
/// uniformly in 0.75..1.0 (RFC 4271 section 10, "jitter").
pub const MRAI_JITTER: (f64, f64) = (0.75, 1.0);

/// Inputs per router after which [`BgpNetwork::converge_static`] gives up:
/// a Gao-Rexford network settles after a few per router and session, so
/// 10,000 leaves a wide margin and still stops in seconds.
pub const STATIC_INPUTS_PER_ROUTER: u64 = 10_000;

/// BGP found no steady state: the policies make routes oscillate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("BGP did not settle after {processed} updates: the routing policies oscillate (MED with iBGP can, RFC 3345); try always_compare_med = true")]
pub struct NotSettled {
    /// Inputs processed before giving up.
    pub processed: u64,
}

/// Settings of the BGP network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetworkConfig {
    /// Options of the decision process.
    pub decision: DecisionConfig,
    /// MRAI on eBGP sessions; zero turns it off.
    pub ebgp_mrai: SimDuration,
    /// MRAI on iBGP sessions; zero turns it off.
    pub ibgp_mrai: SimDuration,
    /// Sessions always have other prefixes' updates to send, so an MRAI
    /// timer restarts whenever it fires (see [`BgpNetwork::start_mrai_timers`]).
    ///
    /// The model keeps each busy timer's next expiry itself and restarts it
    /// without the caller: it asks for [`Output::SetMraiTimer`] only when a
    /// route waits for the timer, with the time left in the current
    /// interval, having drawn the jitter of every interval that passed
    /// since it last looked. The timer runs exactly as one restarted at
    /// every expiry (the same intervals, each jittered by one draw), but
    /// the draws are taken when needed, not at each expiry; feed inputs
    /// with [`BgpNetwork::handle_at`] so the model knows the time.
    pub mrai_busy: bool,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            decision: DecisionConfig::default(),
            ebgp_mrai: DEFAULT_EBGP_MRAI,
            ibgp_mrai: DEFAULT_IBGP_MRAI,
            mrai_busy: false,
        }
    }
}

/// A route as carried in an UPDATE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advert {
    /// AS_PATH as sent (the sender's AS first over eBGP).
    pub as_path: Vec<Asn>,
    /// ORIGIN.
    pub origin: Origin,
    /// MED.
    pub med: u32,
    /// LOCAL_PREF (iBGP only; ignored over eBGP).
    pub local_pref: u32,
    /// LOCAL_PREF the receiving upstream should set (a community).
    pub requested_local_pref: Option<u32>,
    /// The originating site.
    pub site: usize,
    /// Over iBGP: the kind of link where the route entered the AS.
    pub entered_over: Option<Relationship>,
    /// Carries the NO_EXPORT community (RFC 1997).
    pub no_export: bool,
}

/// What happens to the network.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Site `site` starts (or changes) announcing with these attributes.
    Announce {
        /// The site.
        site: usize,
        /// AS_PATH prepends (extra copies of the origin AS).
        prepends: u8,
        /// MED sent to the upstreams.
        med: u32,
        /// LOCAL_PREF the upstreams should set (community), if any.
        requested_local_pref: Option<u32>,
    },
    /// Site `site` withdraws its announcement (clean shutdown, health check).
    StopAnnouncing {
        /// The site.
        site: usize,
    },
    /// An UPDATE from `from` reaches `to`: a route, or `None` for a withdrawal.
    Update {
        /// The receiver.
        to: RouterId,
        /// The sender.
        from: RouterId,
        /// The route, or `None` to withdraw.
        advert: Option<Advert>,
    },
    /// The MRAI timer of `router` towards `neighbour` fired.
    MraiExpired {
        /// The router.
        router: RouterId,
        /// The neighbour.
        neighbour: RouterId,
    },
    /// `router` concludes its session to `neighbour` is down (hold timer,
    /// BFD, or a close message) and flushes the neighbour's routes.
    SessionDown {
        /// The router that noticed.
        router: RouterId,
        /// The neighbour.
        neighbour: RouterId,
    },
    /// `router` stops at once (power loss): it sends nothing more and its
    /// neighbours learn of it only by their own detection.
    RouterDown {
        /// The router.
        router: RouterId,
    },
    /// `router` starts again after [`Input::RouterDown`], with no route and
    /// every session down: give [`Input::SessionUp`] to both ends of each
    /// session, then announce its site again.
    RouterUp {
        /// The router.
        router: RouterId,
    },
    /// `router`'s session to `neighbour` is established again (after a
    /// [`Input::SessionDown`]): it sends the neighbour its best route. Give
    /// it to both ends.
    SessionUp {
        /// The router.
        router: RouterId,
        /// The neighbour.
        neighbour: RouterId,
    },
    /// Time for suppressed routes to be reconsidered: feed it back at
    /// [`BgpNetwork::next_reuse`] (with [`BgpNetwork::handle_at`]).
    Reuse,
}

/// What the caller must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Deliver this UPDATE to `to` after the link's delay.
    Send {
        /// The sender.
        from: RouterId,
        /// The receiver.
        to: RouterId,
        /// The route, or `None` to withdraw.
        advert: Option<Advert>,
    },
    /// Feed `MraiExpired { router, neighbour }` back after `after`.
    SetMraiTimer {
        /// The router.
        router: RouterId,
        /// The neighbour.
        neighbour: RouterId,
        /// The jittered interval.
        after: SimDuration,
    },
    /// The best route of `router` changed.
    BestChanged {
        /// The router.
        router: RouterId,
    },
}

/// Where traffic entering at a router ends up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// It reaches site `site` through `hops` (the entry router first, the
    /// site's router last).
    Site {
        /// The site.
        site: usize,
        /// Routers crossed.
        hops: Vec<RouterId>,
    },
    /// It reaches a router that is down and is lost.
    Blackhole {
        /// The dead router.
        at: RouterId,
    },
    /// A router on the way has no route.
    NoRoute {
        /// That router.
        at: RouterId,
    },
    /// Forwarding loops (transient, during convergence).
    Loop,
}

impl Delivery {
    /// The site reached, if any.
    pub fn site(&self) -> Option<usize> {
        match self {
            Delivery::Site { site, .. } => Some(*site),
            _ => None,
        }
    }
}

/// Whether `a` and `b` carry the same BGP attributes (everything but the
/// site they lead to, which BGP does not carry).
fn same_attributes(a: &Route, b: &Route) -> bool {
    a.as_path == b.as_path
        && a.origin == b.origin
        && a.med == b.med
        && a.local_pref == b.local_pref
        && a.requested_local_pref == b.requested_local_pref
        && a.learned == b.learned
        && a.prepends == b.prepends
        && a.no_export == b.no_export
}

/// What damping penalises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flap {
    /// The route was withdrawn (or its session went down).
    Withdrawal,
    /// The route was replaced by one with other attributes.
    AttributeChange,
}

#[derive(Debug, Clone, Default)]
struct RouterState {
    local: Option<Route>,
    adj_in: BTreeMap<RouterId, Route>,
    best: Option<Route>,
    sent: BTreeMap<RouterId, Advert>,
    mrai_running: BTreeSet<RouterId>,
    /// Busy timers ([`NetworkConfig::mrai_busy`]): when each one fires
    /// next, as far as the model has drawn its intervals.
    busy_next: BTreeMap<RouterId, SimTime>,
    /// Busy timers the caller has on its queue (a route waits for them).
    armed: BTreeSet<RouterId>,
    pending: BTreeSet<RouterId>,
    down_sessions: BTreeSet<RouterId>,
    dead: bool,
    /// When each Adj-RIB-In route arrived (a counter), kept only without
    /// deterministic MED.
    arrival: BTreeMap<RouterId, u64>,
}

/// The routers of a [`Topology`] and their BGP state for the anycast prefix.
#[derive(Debug, Clone)]
pub struct BgpNetwork<'t> {
    topo: &'t Topology,
    config: NetworkConfig,
    state: Vec<RouterState>,
    updates_sent: u64,
    unsettled: bool,
    /// The time of the input being handled (for damping).
    now: SimTime,
    damping: Option<DampingParams>,
    /// Damping state per (router, eBGP neighbour) that ever flapped.
    damped: BTreeMap<(RouterId, RouterId), Damping>,
    /// Reuse instants still to process, with the router concerned.
    reuse_at: BTreeSet<(SimTime, RouterId)>,
    /// Group routes by neighbour AS before comparing MEDs (RFC 4271's
    /// elimination, as `bgp deterministic-med` does); off: compare in
    /// order of arrival, newest first, as Cisco IOS does by default
    /// ([`select_in_order`]). From [`DecisionConfig::deterministic_med`].
    deterministic_med: bool,
    /// Routes received so far, numbering arrivals.
    arrivals: u64,
}

impl<'t> BgpNetwork<'t> {
    /// A network with no routes yet.
    pub fn new(topo: &'t Topology, config: NetworkConfig) -> Self {
        BgpNetwork {
            topo,
            config,
            state: vec![RouterState::default(); topo.routers().len()],
            updates_sent: 0,
            unsettled: false,
            now: SimTime::ZERO,
            damping: None,
            damped: BTreeMap::new(),
            reuse_at: BTreeSet::new(),
            deterministic_med: config.decision.deterministic_med,
            arrivals: 0,
        }
    }

    /// Turns on RFC 2439 route flap damping at every router, for routes
    /// learned over eBGP: each withdrawal (an UPDATE or a session going
    /// down) adds a penalty to the route from that neighbour, and a
    /// suppressed route takes no part in the decision until it may be
    /// reused. Damping needs the time: feed inputs with [`Self::handle_at`].
    pub fn with_damping(mut self, params: DampingParams) -> Self {
        self.damping = Some(params);
        self
    }

    /// [`Self::handle`] at simulated time `now` (non-decreasing).
    pub fn handle_at(
        &mut self,
        now: SimTime,
        input: Input,
        jitter: &mut dyn FnMut() -> f64,
    ) -> Vec<Output> {
        self.now = now;
        self.handle(input, jitter)
    }

    /// When the next suppressed route may be reused: feed
    /// [`Input::Reuse`] then.
    pub fn next_reuse(&self) -> Option<SimTime> {
        self.reuse_at.first().map(|&(t, _)| t)
    }

    /// The damping state of the routes `router` learns from `neighbour`,
    /// if they ever flapped.
    pub fn damping(&self, router: RouterId, neighbour: RouterId) -> Option<&Damping> {
        self.damped.get(&(router, neighbour))
    }

    /// Whether the route `router` learned from `from` is suppressed now.
    fn suppressed(&self, router: RouterId, from: RouterId) -> bool {
        !self.damped.is_empty()
            && self
                .damped
                .get(&(router, from))
                .is_some_and(|d| d.is_suppressed(self.now))
    }

    /// Records a withdrawal or change of the route `router` learned from
    /// eBGP neighbour `from`, if damping is on.
    fn flap(&mut self, router: RouterId, from: RouterId, kind: Flap) {
        let Some(params) = self.damping else {
            return;
        };
        if self.topo.router(router).asn == self.topo.router(from).asn {
            return;
        }
        let d = self
            .damped
            .entry((router, from))
            .or_insert_with(|| Damping::new(params));
        let suppressed = match kind {
            Flap::Withdrawal => d.flap(self.now),
            Flap::AttributeChange => d.attribute_change(self.now),
        };
        if let Some(until) = suppressed {
            self.reuse_at.insert((until, router));
        }
    }

    /// The network's settings.
    pub fn config(&self) -> &NetworkConfig {
        &self.config
    }

    /// The topology.
    pub fn topology(&self) -> &'t Topology {
        self.topo
    }

    /// UPDATE messages emitted so far.
    pub fn updates_sent(&self) -> u64 {
        self.updates_sent
    }

    /// The best route of `router`.
    pub fn best(&self, router: RouterId) -> Option<&Route> {
        self.state[router.index()].best.as_ref()
    }

    /// Whether `router` is down.
    pub fn is_dead(&self, router: RouterId) -> bool {
        self.state[router.index()].dead
    }

    /// Applies one input; `jitter` returns uniform draws in [0, 1) for MRAI
    /// jitter (called once per timer set).
    pub fn handle(&mut self, input: Input, jitter: &mut dyn FnMut() -> f64) -> Vec<Output> {
        let mut out = Vec::new();
        match input {
            Input::Announce {
                site,
                prepends,
                med,
                requested_local_pref,
            } => {
                let Some(s) = self.topo.sites().get(site) else {
                    return out;
                };
                let r = s.router;
                if self.state[r.index()].dead {
                    return out;
                }
                self.state[r.index()].local =
                    Some(Route::originate(site, prepends, med, requested_local_pref));
                self.after_change(r, &mut out, jitter);
            }
            Input::StopAnnouncing { site } => {
                let Some(s) = self.topo.sites().get(site) else {
                    return out;
                };
                let r = s.router;
                if self.state[r.index()].local.take().is_some() {
                    self.after_change(r, &mut out, jitter);
                }
            }
            Input::Update { to, from, advert } => self.receive(to, from, advert, &mut out, jitter),
            Input::MraiExpired { router, neighbour } => {
                let st = &mut self.state[router.index()];
                st.mrai_running.remove(&neighbour);
                st.armed.remove(&neighbour);
                if st.dead || st.down_sessions.contains(&neighbour) {
                    return out;
                }
                if st.pending.remove(&neighbour) {
                    self.sync_neighbour(router, neighbour, &mut out, jitter);
                }
                if self.config.mrai_busy
                    && !self.state[router.index()].mrai_running.contains(&neighbour)
                {
                    self.start_timer(router, neighbour, &mut out, jitter);
                }
            }
            Input::SessionDown { router, neighbour } => {
                let st = &mut self.state[router.index()];
                if st.dead || !st.down_sessions.insert(neighbour) {
                    return out;
                }
                // A busy timer runs on to its next expiry, then stops.
                if st.mrai_running.contains(&neighbour) {
                    self.busy_expiry(router, neighbour, jitter);
                }
                let st = &mut self.state[router.index()];
                st.sent.remove(&neighbour);
                st.pending.remove(&neighbour);
                if st.adj_in.remove(&neighbour).is_some() {
                    self.flap(router, neighbour, Flap::Withdrawal);
                    self.after_change(router, &mut out, jitter);
                }
            }
            Input::SessionUp { router, neighbour } => {
                let now = self.now;
                let st = &mut self.state[router.index()];
                if !st.dead && st.down_sessions.remove(&neighbour) {
                    if st.busy_next.get(&neighbour).is_some_and(|&t| t <= now)
                        && !st.armed.contains(&neighbour)
                    {
                        // The busy timer fired while the session was down
                        // and did not restart.
                        st.mrai_running.remove(&neighbour);
                    }
                    self.sync_neighbour(router, neighbour, &mut out, jitter);
                }
            }
            Input::Reuse => {
                while let Some(&(t, router)) = self.reuse_at.first() {
                    if t > self.now {
                        break;
                    }
                    self.reuse_at.pop_first();
                    self.after_change(router, &mut out, jitter);
                }
            }
            Input::RouterDown { router } => {
                self.state[router.index()] = RouterState {
                    dead: true,
                    ..RouterState::default()
                };
            }
            Input::RouterUp { router } => {
                if self.state[router.index()].dead {
                    self.state[router.index()] = RouterState {
                        down_sessions: self.session_peers(router).into_iter().collect(),
                        ..RouterState::default()
                    };
                }
            }
        }
        out
    }

    /// An UPDATE from `from` reaches `to`.
    fn receive(
        &mut self,
        to: RouterId,
        from: RouterId,
        advert: Option<Advert>,
        out: &mut Vec<Output>,
        jitter: &mut dyn FnMut() -> f64,
    ) {
        if self.state[to.index()].dead || self.state[to.index()].down_sessions.contains(&from) {
            return;
        }
        let route = advert.and_then(|a| self.accept(to, from, a));
        let st = &mut self.state[to.index()];
        let (changed, penalty) = match route {
            Some(r) => {
                let old = st.adj_in.insert(from, r.clone());
                let changed = old.as_ref() != Some(&r);
                if changed && !self.deterministic_med {
                    self.arrivals += 1;
                    st.arrival.insert(from, self.arrivals);
                }
                // BGP carries no site: a route to another site with the same
                // attributes is no change a router could penalise.
                let penalised = changed && old.is_some_and(|o| !same_attributes(&o, &r));
                (changed, penalised.then_some(Flap::AttributeChange))
            }
            None => {
                let gone = st.adj_in.remove(&from).is_some();
                (gone, gone.then_some(Flap::Withdrawal))
            }
        };
        if let Some(kind) = penalty {
            self.flap(to, from, kind);
        }
        if changed {
            self.after_change(to, out, jitter);
        }
    }

    /// Turns a received advert into a route, or `None` if it must be dropped
    /// (AS_PATH loop).
    fn accept(&self, to: RouterId, from: RouterId, a: Advert) -> Option<Route> {
        let my_as = self.topo.router(to).asn;
        if a.as_path.contains(&my_as) {
            return None;
        }
        let ibgp = self.topo.router(from).asn == my_as;
        let (local_pref, learned) = if ibgp {
            (
                a.local_pref,
                Learned::Ibgp {
                    from,
                    rel: a.entered_over.unwrap_or(Relationship::Customer),
                },
            )
        } else {
            let rel = self
                .topo
                .ebgp_neighbours(to)
                .iter()
                .find(|n| n.router == from)?
                .rel;
            (
                a.requested_local_pref.unwrap_or(rel.default_local_pref()),
                Learned::Ebgp { from, rel },
            )
        };
        Some(Route {
            as_path: a.as_path,
            origin: a.origin,
            med: a.med,
            local_pref,
            requested_local_pref: None,
            site: a.site,
            learned,
            prepends: 0,
            no_export: a.no_export,
        })
    }

    /// The candidates at `router`: its own route first, then the Adj-RIB-In
    /// in neighbour order.
    pub fn candidates(&self, router: RouterId) -> Vec<Candidate<'_>> {
        let st = &self.state[router.index()];
        let mut c = Vec::with_capacity(st.adj_in.len() + 1);
        if let Some(l) = &st.local {
            c.push(Candidate {
                route: l,
                igp_cost: 0,
                advertiser: router,
            });
        }
        for (&from, r) in &st.adj_in {
            if self.suppressed(router, from) {
                continue;
            }
            let igp_cost = match r.learned {
                Learned::Ibgp { from, .. } => self.topo.igp_cost(router, from),
                _ => 0,
            };
            c.push(Candidate {
                route: r,
                igp_cost,
                advertiser: from,
            });
        }
        c
    }

    /// The decision at `router` with every candidate's fate.
    /// Without deterministic MED the candidates come newest first (the
    /// router's own route counting as the newest).
    pub fn decision(&self, router: RouterId) -> Option<(Vec<Candidate<'_>>, Selection)> {
        let mut c = self.candidates(router);
        if self.deterministic_med {
            let s = select(&c, self.config.decision)?;
            return Some((c, s));
        }
        let arrival = &self.state[router.index()].arrival;
        c.sort_by_key(|cand| {
            std::cmp::Reverse(arrival.get(&cand.advertiser).copied().unwrap_or(u64::MAX))
        });
        let s = select_in_order(&c, self.config.decision)?;
        Some((c, s))
    }

    fn after_change(
        &mut self,
        router: RouterId,
        out: &mut Vec<Output>,
        jitter: &mut dyn FnMut() -> f64,
    ) {
        let new_best = self.decision(router).map(|(c, s)| c[s.best].route.clone());
        if new_best == self.state[router.index()].best {
            return;
        }
        self.state[router.index()].best = new_best;
        out.push(Output::BestChanged { router });
        let neighbours = self.session_peers(router);
        for n in neighbours {
            self.sync_neighbour(router, n, out, jitter);
        }
    }

    /// What `router` should currently advertise to `neighbour`.
    fn export(&self, router: RouterId, neighbour: RouterId) -> Option<Advert> {
        let best = self.state[router.index()].best.as_ref()?;
        let my_as = self.topo.router(router).asn;
        if self.topo.router(neighbour).asn == my_as {
            // iBGP: only routes learned from outside (full mesh).
            if !best.is_external() {
                return None;
            }
            return Some(Advert {
                as_path: best.as_path.clone(),
                origin: best.origin,
                med: best.med,
                local_pref: best.local_pref,
                requested_local_pref: None,
                site: best.site,
                entered_over: best.entered_over(),
                no_export: best.no_export,
            });
        }
        let n = self
            .topo
            .ebgp_neighbours(router)
            .iter()
            .find(|n| n.router == neighbour)?;
        if best.no_export || !self.topo.may_export(router, n, best.entered_over()) {
            return None;
        }
        let their_as = self.topo.router(neighbour).asn;
        if self.topo.has_session_settings()
            && self
                .topo
                .session(router, neighbour)
                .sender_side_loop_detection
            && best.as_path.contains(&their_as)
        {
            return None;
        }
        let transparent = !self.topo.export_policies_are_default()
            && *self.topo.export_policy(my_as) == ExportPolicy::RouteServer;
        let (as_path, med, requested_local_pref) = if best.learned == Learned::Local {
            (
                vec![my_as; 1 + usize::from(best.prepends)],
                best.med,
                best.requested_local_pref,
            )
        } else if transparent {
            (best.as_path.clone(), best.med, None)
        } else {
            let mut p = Vec::with_capacity(best.as_path.len() + 1);
            p.push(my_as);
            p.extend_from_slice(&best.as_path);
            (p, 0, None)
        };
        Some(Advert {
            as_path,
            origin: best.origin,
            med,
            local_pref: 0,
            requested_local_pref,
            site: best.site,
            entered_over: None,
            no_export: self.topo.tags_no_export_between(router, neighbour),
        })
    }

    fn sync_neighbour(
        &mut self,
        router: RouterId,
        neighbour: RouterId,
        out: &mut Vec<Output>,
        jitter: &mut dyn FnMut() -> f64,
    ) {
        if self.state[router.index()]
            .down_sessions
            .contains(&neighbour)
        {
            return;
        }
        let desired = self.export(router, neighbour);
        let st = &mut self.state[router.index()];
        if desired.as_ref() == st.sent.get(&neighbour) {
            st.pending.remove(&neighbour);
            return;
        }
        let rate_limited = desired.is_none()
            && st.mrai_running.contains(&neighbour)
            && self.topo.has_session_settings()
            && self.topo.session(router, neighbour).rate_limit_withdrawals;
        if rate_limited {
            st.pending.insert(neighbour);
            self.arm(router, neighbour, out, jitter);
            return;
        }
        match desired {
            None => {
                st.sent.remove(&neighbour);
                st.pending.remove(&neighbour);
                self.updates_sent += 1;
                out.push(Output::Send {
                    from: router,
                    to: neighbour,
                    advert: None,
                });
                if self.topo.has_session_settings()
                    && self.topo.session(router, neighbour).rate_limit_withdrawals
                {
                    self.start_timer(router, neighbour, out, jitter);
                }
            }
            Some(advert) => {
                if st.mrai_running.contains(&neighbour) {
                    st.pending.insert(neighbour);
                    self.arm(router, neighbour, out, jitter);
                    return;
                }
                st.sent.insert(neighbour, advert.clone());
                self.updates_sent += 1;
                out.push(Output::Send {
                    from: router,
                    to: neighbour,
                    advert: Some(advert),
                });
                self.start_timer(router, neighbour, out, jitter);
            }
        }
    }

    /// The MRAI interval of the session from `router` to `neighbour`: the
    /// session's own, else the network's eBGP or iBGP one.
    fn mrai_interval(&self, router: RouterId, neighbour: RouterId) -> SimDuration {
        if let Some(mrai) = self.session_mrai(router, neighbour) {
            return mrai;
        }
        if self.topo.router(neighbour).asn == self.topo.router(router).asn {
            self.config.ibgp_mrai
        } else {
            self.config.ebgp_mrai
        }
    }

    /// The MRAI the session between `router` and `neighbour` sets itself.
    fn session_mrai(&self, router: RouterId, neighbour: RouterId) -> Option<SimDuration> {
        if !self.topo.has_session_settings() {
            return None;
        }
        self.topo.session(router, neighbour).mrai
    }

    /// One jittered MRAI interval of the session from `router` to
    /// `neighbour` (one draw of `jitter`); `None` if MRAI is off there.
    fn jittered(
        &self,
        router: RouterId,
        neighbour: RouterId,
        jitter: &mut dyn FnMut() -> f64,
    ) -> Option<SimDuration> {
        let interval = self.mrai_interval(router, neighbour);
        if interval == SimDuration::ZERO {
            return None;
        }
        let (lo, hi) = MRAI_JITTER;
        let factor = lo + (hi - lo) * jitter().clamp(0.0, 1.0);
        Some(SimDuration::from_secs_f64(interval.as_secs_f64() * factor))
    }

    /// Starts the jittered MRAI timer towards `neighbour`, if MRAI is on; a
    /// busy timer is kept by the model until a route waits for it.
    fn start_timer(
        &mut self,
        router: RouterId,
        neighbour: RouterId,
        out: &mut Vec<Output>,
        jitter: &mut dyn FnMut() -> f64,
    ) {
        let Some(after) = self.jittered(router, neighbour, jitter) else {
            return;
        };
        let now = self.now;
        let st = &mut self.state[router.index()];
        st.mrai_running.insert(neighbour);
        if self.config.mrai_busy {
            st.busy_next.insert(neighbour, now + after);
            return;
        }
        out.push(Output::SetMraiTimer {
            router,
            neighbour,
            after,
        });
    }

    /// When the busy timer towards `neighbour` fires next after now: the
    /// intervals that ended since the model last looked are drawn, each
    /// restarting the timer as its expiry would have.
    fn busy_expiry(
        &mut self,
        router: RouterId,
        neighbour: RouterId,
        jitter: &mut dyn FnMut() -> f64,
    ) -> Option<SimTime> {
        let mut next = *self.state[router.index()].busy_next.get(&neighbour)?;
        while next <= self.now {
            next += self.jittered(router, neighbour, jitter)?;
        }
        self.state[router.index()].busy_next.insert(neighbour, next);
        Some(next)
    }

    /// Puts the busy timer towards `neighbour`, which a route now waits
    /// for, on the caller's queue (once).
    fn arm(
        &mut self,
        router: RouterId,
        neighbour: RouterId,
        out: &mut Vec<Output>,
        jitter: &mut dyn FnMut() -> f64,
    ) {
        if !self.config.mrai_busy || self.state[router.index()].armed.contains(&neighbour) {
            return;
        }
        let Some(next) = self.busy_expiry(router, neighbour, jitter) else {
            return;
        };
        self.state[router.index()].armed.insert(neighbour);
        out.push(Output::SetMraiTimer {
            router,
            neighbour,
            after: next - self.now,
        });
    }

    /// Starts the MRAI timer of every live session with `draw()` (uniform in
    /// [0, 1)) of its interval left, and returns the timers to set. With
    /// [`NetworkConfig::mrai_busy`] this is the state of a network carrying
    /// a full table: updates for other prefixes flow all the time, and
    /// implementations that rate-limit per peer (Cisco IOS batches each
    /// neighbour's updates on one timer) keep the timer running, so a change
    /// waits for the rest of the current interval, half of it on average.
    /// Busy timers are kept by the model (none is returned): the caller is
    /// asked for one when a route waits for it.
    pub fn start_mrai_timers(&mut self, draw: &mut dyn FnMut() -> f64) -> Vec<Output> {
        let mut out = Vec::new();
        for r in 0..self.state.len() {
            let router = RouterId(r as u32);
            if self.state[r].dead {
                continue;
            }
            let neighbours: Vec<RouterId> = self
                .topo
                .ebgp_neighbours(router)
                .iter()
                .map(|n| n.router)
                .chain(self.topo.ibgp_peers(router))
                .collect();
            for neighbour in neighbours {
                let interval = self.mrai_interval(router, neighbour);
                let st = &mut self.state[r];
                if interval == SimDuration::ZERO
                    || st.down_sessions.contains(&neighbour)
                    || !st.mrai_running.insert(neighbour)
                {
                    continue;
                }
                let after =
                    SimDuration::from_secs_f64(interval.as_secs_f64() * draw().clamp(0.0, 1.0));
                if self.config.mrai_busy {
                    st.busy_next.insert(neighbour, self.now + after);
                    continue;
                }
                out.push(Output::SetMraiTimer {
                    router,
                    neighbour,
                    after,
                });
            }
        }
        out
    }

    /// Applies `inputs` and everything they cause with no delays and no MRAI
    /// (timers fire at once, and busy timers do not restart), until nothing
    /// changes: the steady state, which the Gao-Rexford rules guarantee for
    /// LOCAL_PREF and AS_PATH. MED with iBGP can still oscillate for ever
    /// (Griffin & Wilfong, "Analysis of the MED oscillation problem in BGP",
    /// ICNP 2002; RFC 3345), so processing stops after
    /// [`STATIC_INPUTS_PER_ROUTER`] inputs per router and [`Self::settled`]
    /// turns false. Returns the number of inputs processed.
    pub fn converge_static(&mut self, inputs: impl IntoIterator<Item = Input>) -> u64 {
        let limit = STATIC_INPUTS_PER_ROUTER.saturating_mul(self.state.len() as u64 + 1);
        self.converge_static_within(inputs, limit)
    }

    /// Whether the last [`Self::converge_static`] reached a steady state.
    pub fn settled(&self) -> bool {
        !self.unsettled
    }

    /// [`Self::converge_static`] with an explicit cap on the inputs processed.
    pub fn converge_static_within(
        &mut self,
        inputs: impl IntoIterator<Item = Input>,
        limit: u64,
    ) -> u64 {
        // Busy timers would restart for ever; here every timer fires once.
        let busy = std::mem::replace(&mut self.config.mrai_busy, false);
        let mut queue: VecDeque<Input> = inputs.into_iter().collect();
        let mut processed = 0;
        let mut no_jitter = || 0.0;
        self.unsettled = false;
        while let Some(input) = queue.pop_front() {
            if processed >= limit {
                self.unsettled = true;
                break;
            }
            processed += 1;
            for o in self.handle(input, &mut no_jitter) {
                match o {
                    Output::Send { from, to, advert } => {
                        queue.push_back(Input::Update { to, from, advert })
                    }
                    Output::SetMraiTimer {
                        router, neighbour, ..
                    } => queue.push_back(Input::MraiExpired { router, neighbour }),
                    Output::BestChanged { .. } => {}
                }
            }
        }
        self.config.mrai_busy = busy;
        processed
    }

    /// Every router `router` has a session with: its eBGP neighbours, then
    /// its iBGP peers.
    fn session_peers(&self, router: RouterId) -> Vec<RouterId> {
        self.topo
            .ebgp_neighbours(router)
            .iter()
            .map(|n| n.router)
            .chain(self.topo.ibgp_peers(router))
            .collect()
    }

    /// What follows when `router` dies at once (power loss): each
    /// neighbour, eBGP and iBGP, notices by its session's detection
    /// (`default` when the session sets none) after `delay(u)`, with `u`
    /// drawn by `draw` per session; returns `(delay, SessionDown)` pairs in
    /// neighbour order. Feed [`Input::RouterDown`] first. Sessions whose
    /// detection does not end a session (a health check) are skipped.
    pub fn detections(
        &self,
        router: RouterId,
        default: Detection,
        draw: &mut dyn FnMut() -> f64,
    ) -> Vec<(SimDuration, Input)> {
        let neighbours = self.session_peers(router);
        neighbours
            .into_iter()
            .filter(|&n| !self.state[n.index()].dead)
            .filter_map(|n| {
                let detection = self.topo.session(router, n).detection.unwrap_or(default);
                detection.drops_session().then(|| {
                    (
                        detection.delay(draw()),
                        Input::SessionDown {
                            router: n,
                            neighbour: router,
                        },
                    )
                })
            })
            .collect()
    }

    /// Follows best routes from `entry` to where the traffic ends.
    pub fn forward(&self, entry: RouterId) -> Delivery {
        let mut hops = vec![entry];
        let mut at = entry;
        let limit = self.state.len() + 1;
        loop {
            let st = &self.state[at.index()];
            if st.dead {
                return Delivery::Blackhole { at };
            }
            // A site's router delivers to its own servers whatever it
            // announces: a withdrawn site still serves what reaches it.
            if let Some(site) = self.topo.router(at).site {
                return Delivery::Site { site, hops };
            }
            let Some(best) = &st.best else {
                return Delivery::NoRoute { at };
            };
            let next = match best.learned {
                Learned::Local => {
                    return Delivery::Site {
                        site: best.site,
                        hops,
                    }
                }
                Learned::Ebgp { from, .. } | Learned::Ibgp { from, .. } => from,
            };
            if hops.len() > limit || hops.contains(&next) {
                return Delivery::Loop;
            }
            hops.push(next);
            at = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::topology::tests::{as_spec, link, ll};
    use crate::bgp::topology::{LinkKind, SiteSpec, TopologySpec, UpstreamSpec};

    fn announce(site: usize) -> Input {
        Input::Announce {
            site,
            prepends: 0,
            med: 0,
            requested_local_pref: None,
        }
    }

    fn site(name: &str, lon: f64, ups: &[u32]) -> SiteSpec {
        SiteSpec {
            name: name.into(),
            location: ll(0.0, lon),
            upstreams: ups
                .iter()
                .map(|&a| UpstreamSpec {
                    asn: Asn(a),
                    rel: Relationship::Provider,
                })
                .collect(),
        }
    }

    /// A chain: origin site -> AS10 -> AS20 -> AS30 (each the provider of
    /// the one before).
    fn chain() -> Topology {
        Topology::build(&TopologySpec {
            ases: vec![
                as_spec(10, &[("x", 0.0, 0.0)]),
                as_spec(20, &[("x", 0.0, 0.0)]),
                as_spec(30, &[("x", 0.0, 0.0)]),
            ],
            links: vec![
                link(20, 10, LinkKind::ProviderToCustomer),
                link(30, 20, LinkKind::ProviderToCustomer),
            ],
            origin: Asn(1),
            sites: vec![site("s", 0.0, &[10])],
            populations: vec![],
        })
        .unwrap()
    }

    #[test]
    fn a_chain_learns_the_route_hop_by_hop() {
        let t = chain();
        let mut n = BgpNetwork::new(&t, NetworkConfig::default());
        n.converge_static([announce(0)]);
        let path = |r: u32| n.best(RouterId(r)).map(|b| b.as_path.clone());
        assert_eq!(path(0), Some(vec![Asn(1)]));
        assert_eq!(path(1), Some(vec![Asn(10), Asn(1)]));
        assert_eq!(path(2), Some(vec![Asn(20), Asn(10), Asn(1)]));
        assert_eq!(
            n.forward(RouterId(2)),
            Delivery::Site {
                site: 0,
                hops: vec![RouterId(2), RouterId(1), RouterId(0), RouterId(3)]
            }
        );
        // Withdrawing empties every table; the site itself still serves
        // what reaches it.
        n.converge_static([Input::StopAnnouncing { site: 0 }]);
        assert!((0..4).all(|r| n.best(RouterId(r)).is_none()));
        assert_eq!(n.forward(RouterId(3)).site(), Some(0));
        assert_eq!(
            n.forward(RouterId(2)),
            Delivery::NoRoute { at: RouterId(2) }
        );
    }

    #[test]
    fn peer_routes_are_not_exported_to_providers_or_peers() {
        // Site at AS10; AS10 peers with AS20; AS30 is AS20's provider and
        // AS40 another peer of AS20. Neither AS30 nor AS40 may learn it
        // through AS20.
        let t = Topology::build(&TopologySpec {
            ases: vec![
                as_spec(10, &[("x", 0.0, 0.0)]),
                as_spec(20, &[("x", 0.0, 0.0)]),
                as_spec(30, &[("x", 0.0, 0.0)]),
                as_spec(40, &[("x", 0.0, 0.0)]),
                as_spec(50, &[("x", 0.0, 0.0)]),
            ],
            links: vec![
                link(10, 20, LinkKind::Peer),
                link(30, 20, LinkKind::ProviderToCustomer),
                link(20, 40, LinkKind::Peer),
                link(20, 50, LinkKind::ProviderToCustomer),
            ],
            origin: Asn(1),
            sites: vec![site("s", 0.0, &[10])],
            populations: vec![],
        })
        .unwrap();
        let mut n = BgpNetwork::new(&t, NetworkConfig::default());
        n.converge_static([announce(0)]);
        assert!(n.best(RouterId(1)).is_some(), "AS20 learns from its peer");
        assert!(n.best(RouterId(2)).is_none(), "AS30 (provider of AS20)");
        assert!(n.best(RouterId(3)).is_none(), "AS40 (peer of AS20)");
        assert!(n.best(RouterId(4)).is_some(), "AS50 (customer of AS20)");
    }

    #[test]
    fn hot_potato_sends_each_pop_to_its_nearest_site() {
        // One transit AS with PoPs at longitude 0 and 90, a site at each.
        let t = Topology::build(&TopologySpec {
            ases: vec![as_spec(10, &[("w", 0.0, 0.0), ("e", 0.0, 90.0)])],
            links: vec![],
            origin: Asn(1),
            sites: vec![site("west", 0.0, &[10]), site("east", 90.0, &[10])],
            populations: vec![],
        })
        .unwrap();
        let mut n = BgpNetwork::new(&t, NetworkConfig::default());
        n.converge_static([announce(0), announce(1)]);
        assert_eq!(n.forward(RouterId(0)).site(), Some(0));
        assert_eq!(n.forward(RouterId(1)).site(), Some(1));
        // The west PoP also holds the east route over iBGP; it lost on eBGP
        // over iBGP, not on path length.
        let (c, s) = n.decision(RouterId(0)).unwrap();
        let east = c.iter().position(|c| c.route.site == 1).unwrap();
        assert_eq!(
            s.dropped_at[east],
            Some(crate::bgp::decision::Step::EbgpOverIbgp)
        );
        // West withdraws: its PoP's traffic crosses to the east site.
        n.converge_static([Input::StopAnnouncing { site: 0 }]);
        assert_eq!(n.forward(RouterId(0)).site(), Some(1));
    }

    #[test]
    fn a_dead_site_blackholes_until_the_session_is_declared_down() {
        let t = chain();
        let mut n = BgpNetwork::new(&t, NetworkConfig::default());
        n.converge_static([announce(0)]);
        let site_router = t.sites()[0].router;
        n.converge_static([Input::RouterDown {
            router: site_router,
        }]);
        assert_eq!(
            n.forward(RouterId(2)),
            Delivery::Blackhole { at: site_router }
        );
        n.converge_static([Input::SessionDown {
            router: RouterId(0),
            neighbour: site_router,
        }]);
        assert_eq!(
            n.forward(RouterId(2)),
            Delivery::NoRoute { at: RouterId(2) }
        );
    }

    #[test]
    fn a_router_that_comes_back_serves_again_once_its_sessions_are_up() {
        let t = chain();
        let mut n = BgpNetwork::new(&t, NetworkConfig::default());
        n.converge_static([announce(0)]);
        let site_router = t.sites()[0].router;
        n.converge_static([
            Input::RouterDown {
                router: site_router,
            },
            Input::SessionDown {
                router: RouterId(0),
                neighbour: site_router,
            },
        ]);
        assert_eq!(
            n.forward(RouterId(2)),
            Delivery::NoRoute { at: RouterId(2) }
        );
        // Back up, but its sessions are not: announcing reaches nobody.
        n.converge_static([Input::RouterUp {
            router: site_router,
        }]);
        assert!(!n.is_dead(site_router));
        n.converge_static([announce(0)]);
        assert_eq!(
            n.forward(RouterId(2)),
            Delivery::NoRoute { at: RouterId(2) }
        );
        n.converge_static([
            Input::SessionUp {
                router: site_router,
                neighbour: RouterId(0),
            },
            Input::SessionUp {
                router: RouterId(0),
                neighbour: site_router,
            },
        ]);
        assert_eq!(n.forward(RouterId(2)).site(), Some(0));
    }

    #[test]
    fn mrai_holds_back_a_second_advertisement_but_not_a_withdrawal() {
        let t = chain();
        let cfg = NetworkConfig::default();
        let mut n = BgpNetwork::new(&t, cfg);
        let mut half = || 0.5;
        let out = n.handle(announce(0), &mut half);
        // The site router sends to AS10 and starts its MRAI timer, jittered
        // to 30 s x (0.75 + 0.25 x 0.5).
        let site_router = t.sites()[0].router;
        assert!(out.contains(&Output::SetMraiTimer {
            router: site_router,
            neighbour: RouterId(0),
            after: SimDuration::from_millis(26_250),
        }));
        // A changed announcement (prepend) inside the MRAI is held...
        let out = n.handle(
            Input::Announce {
                site: 0,
                prepends: 2,
                med: 0,
                requested_local_pref: None,
            },
            &mut half,
        );
        assert!(!out.iter().any(|o| matches!(o, Output::Send { .. })));
        // ...and sent when the timer fires.
        let out = n.handle(
            Input::MraiExpired {
                router: site_router,
                neighbour: RouterId(0),
            },
            &mut half,
        );
        let sent = out.iter().find_map(|o| match o {
            Output::Send {
                advert: Some(a), ..
            } => Some(a.as_path.len()),
            _ => None,
        });
        assert_eq!(sent, Some(3));
        // A withdrawal goes at once even with the timer running.
        let out = n.handle(Input::StopAnnouncing { site: 0 }, &mut half);
        assert!(out.contains(&Output::Send {
            from: site_router,
            to: RouterId(0),
            advert: None
        }));
    }

    /// A minimal event loop for tests: (time in ns, sequence, input).
    fn drive(
        n: &mut BgpNetwork<'_>,
        start: Vec<(u64, Input)>,
        delay_ns: &dyn Fn(RouterId, RouterId) -> u64,
        watch: RouterId,
    ) -> Vec<(u64, Option<Vec<Asn>>)> {
        let mut queue: Vec<(u64, u64, Input)> = Vec::new();
        let mut seq = 0;
        for (t, i) in start {
            queue.push((t, seq, i));
            seq += 1;
        }
        let mut log = Vec::new();
        let mut jitter = || 1.0;
        while let Some(pos) = (0..queue.len()).min_by_key(|&k| (queue[k].0, queue[k].1)) {
            let (now, _, input) = queue.remove(pos);
            for o in n.handle(input, &mut jitter) {
                let (at, next) = match o {
                    Output::Send { from, to, advert } => {
                        (now + delay_ns(from, to), Input::Update { to, from, advert })
                    }
                    Output::SetMraiTimer {
                        router,
                        neighbour,
                        after,
                    } => (
                        now + after.as_nanos(),
                        Input::MraiExpired { router, neighbour },
                    ),
                    Output::BestChanged { router } => {
                        if router == watch {
                            log.push((now, n.best(router).map(|b| b.as_path.clone())));
                        }
                        continue;
                    }
                };
                queue.push((at, seq, next));
                seq += 1;
            }
        }
        log
    }

    #[test]
    fn path_exploration_after_a_withdrawal_and_mrai_on_the_way_back() {
        // P1 (10) is the site's transit and a customer of T1 (20) and T2
        // (30); X (40) buys from T1 and T2; Y (50) buys from X.
        let t = Topology::build(&TopologySpec {
            ases: vec![
                as_spec(10, &[("x", 0.0, 0.0)]),
                as_spec(20, &[("x", 0.0, 0.0)]),
                as_spec(30, &[("x", 0.0, 0.0)]),
                as_spec(40, &[("x", 0.0, 0.0)]),
                as_spec(50, &[("x", 0.0, 0.0)]),
            ],
            links: vec![
                link(20, 10, LinkKind::ProviderToCustomer),
                link(30, 10, LinkKind::ProviderToCustomer),
                link(20, 40, LinkKind::ProviderToCustomer),
                link(30, 40, LinkKind::ProviderToCustomer),
                link(40, 50, LinkKind::ProviderToCustomer),
            ],
            origin: Asn(1),
            sites: vec![site("s", 0.0, &[10])],
            populations: vec![],
        })
        .unwrap();
        let mut n = BgpNetwork::new(&t, NetworkConfig::default());
        n.converge_static([announce(0)]);
        let y = RouterId(4);
        let path = |v: &[u32]| Some(v.iter().map(|&a| Asn(a)).collect::<Vec<_>>());
        assert_eq!(n.best(y).map(|b| b.as_path.clone()), path(&[40, 20, 10, 1]));
        const MS: u64 = 1_000_000;
        // T2 -> X is slow (50 ms); every other hop takes 10 ms.
        let delay = |from: RouterId, to: RouterId| {
            if (from, to) == (RouterId(2), RouterId(3)) {
                50 * MS
            } else {
                10 * MS
            }
        };
        let log = drive(
            &mut n,
            vec![
                (0, Input::StopAnnouncing { site: 0 }),
                (1_000 * MS, announce(0)),
            ],
            &delay,
            y,
        );
        // The withdrawal reaches X through T1 first (t = 30 ms): X explores
        // the stale path through T2 and passes it on (Y at 40 ms), then T2's
        // withdrawal arrives (70 ms) and X withdraws at once (Y at 80 ms).
        // On the way back the route reaches X at 1.03 s, but X advertised to
        // Y at 30 ms, so its 30 s MRAI holds the advertisement until 30.03 s.
        assert_eq!(
            log,
            vec![
                (40 * MS, path(&[40, 30, 10, 1])),
                (80 * MS, None),
                (30_040 * MS, path(&[40, 20, 10, 1])),
            ]
        );
        // Without MRAI the route is back 40 ms after the re-announcement.
        let mut n = BgpNetwork::new(
            &t,
            NetworkConfig {
                ebgp_mrai: SimDuration::ZERO,
                ..NetworkConfig::default()
            },
        );
        n.converge_static([announce(0)]);
        let log = drive(
            &mut n,
            vec![
                (0, Input::StopAnnouncing { site: 0 }),
                (1_000 * MS, announce(0)),
            ],
            &delay,
            y,
        );
        assert_eq!(log.last(), Some(&(1_040 * MS, path(&[40, 20, 10, 1]))));
    }

    #[test]
    fn a_withdrawal_travels_a_chain_one_link_delay_per_hop() {
        let t = chain();
        let mut n = BgpNetwork::new(&t, NetworkConfig::default());
        n.converge_static([announce(0)]);
        const MS: u64 = 1_000_000;
        let delay = |_: RouterId, _: RouterId| 25 * MS;
        let log = drive(
            &mut n,
            vec![(0, Input::StopAnnouncing { site: 0 })],
            &delay,
            RouterId(2),
        );
        // site -> AS10 -> AS20 -> AS30: three hops.
        assert_eq!(log, vec![(75 * MS, None)]);
    }

    #[test]
    fn a_clique_of_peers_learns_in_three_hops_and_mrai_delays_a_change_once() {
        // Four tier-1s (10, 20, 30, 40) in a full peering mesh; the site buys
        // from 10; 21, 31 and 41 buy from 20, 30 and 40.
        let mut ases = Vec::new();
        let mut links = Vec::new();
        for a in [10, 20, 30, 40] {
            ases.push(as_spec(a, &[("x", 0.0, 0.0)]));
        }
        for (i, a) in [10, 20, 30, 40].iter().enumerate() {
            for b in [10, 20, 30, 40].iter().skip(i + 1) {
                links.push(link(*a, *b, LinkKind::Peer));
            }
        }
        for (p, c) in [(20, 21), (30, 31), (40, 41)] {
            ases.push(as_spec(c, &[("x", 0.0, 0.0)]));
            links.push(link(p, c, LinkKind::ProviderToCustomer));
        }
        let t = Topology::build(&TopologySpec {
            ases,
            links,
            origin: Asn(1),
            sites: vec![site("s", 0.0, &[10])],
            populations: vec![],
        })
        .unwrap();
        let stubs = [RouterId(4), RouterId(5), RouterId(6)];
        const MS: u64 = 1_000_000;
        let delay = |_: RouterId, _: RouterId| 10 * MS;
        let mut n = BgpNetwork::new(&t, NetworkConfig::default());
        let prepend = Input::Announce {
            site: 0,
            prepends: 1,
            med: 0,
            requested_local_pref: None,
        };
        for &stub in &stubs {
            let log = drive(
                &mut BgpNetwork::new(&t, NetworkConfig::default()),
                vec![(0, announce(0)), (1_000 * MS, prepend.clone())],
                &delay,
                stub,
            );
            // site -> 10 -> peer -> stub: 30 ms. The prepend at 1 s waits
            // for the site's MRAI (30 s, started at 0); every later hop's
            // timer has expired by then, so it costs one MRAI, not three.
            assert_eq!(log.len(), 2, "{log:?}");
            assert_eq!(log[0].0, 30 * MS);
            assert_eq!(log[1].0, 30_030 * MS);
            assert_eq!(log[1].1.as_ref().map(Vec::len), Some(4));
        }
        // Peers never pass a peer route on: 20 does not give 10's route to 30.
        n.converge_static([announce(0)]);
        for peer in 1..4 {
            let b = n.best(RouterId(peer)).unwrap();
            assert_eq!(b.as_path, vec![Asn(10), Asn(1)]);
        }
    }

    #[test]
    fn running_mrai_timers_hold_a_new_route_until_they_fire() {
        let t = chain();
        let mut n = BgpNetwork::new(&t, NetworkConfig::default());
        n.converge_static([announce(0)]);
        let timers = n.start_mrai_timers(&mut || 0.5);
        // Site -> AS10, AS10 <-> AS20, AS20 <-> AS30: 3 sessions, both ways.
        assert_eq!(timers.len(), 6);
        assert!(timers.iter().all(|o| matches!(
            o,
            Output::SetMraiTimer { after, .. } if *after == SimDuration::from_secs(15)
        )));
        // A prepend is an advertisement: held at the site until its timer fires.
        let out = n.handle(
            Input::Announce {
                site: 0,
                prepends: 1,
                med: 0,
                requested_local_pref: None,
            },
            &mut || 0.5,
        );
        assert!(!out.iter().any(|o| matches!(o, Output::Send { .. })));
        let site_router = t.sites()[0].router;
        let out = n.handle(
            Input::MraiExpired {
                router: site_router,
                neighbour: RouterId(0),
            },
            &mut || 0.5,
        );
        assert!(out.iter().any(|o| matches!(
            o,
            Output::Send {
                advert: Some(_),
                ..
            }
        )));
        // A withdrawal is never held.
        let out = n.handle(Input::StopAnnouncing { site: 0 }, &mut || 0.5);
        assert!(out
            .iter()
            .any(|o| matches!(o, Output::Send { advert: None, .. })));
    }

    fn busy_chain() -> (Topology, NetworkConfig) {
        let cfg = NetworkConfig {
            mrai_busy: true,
            ..NetworkConfig::default()
        };
        (chain(), cfg)
    }

    fn at_s(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    fn prepend(prepends: u8) -> Input {
        Input::Announce {
            site: 0,
            prepends,
            med: 0,
            requested_local_pref: None,
        }
    }

    #[test]
    fn busy_mrai_timers_restart_by_themselves_and_hold_a_route_for_the_rest_of_the_interval() {
        let (t, cfg) = busy_chain();
        let mut n = BgpNetwork::new(&t, cfg);
        n.converge_static([announce(0)]);
        // Busy timers are the model's own: none is handed to the caller.
        assert!(n.start_mrai_timers(&mut || 0.5).is_empty());
        let site = t.sites()[0].router;
        let timer = |after| Output::SetMraiTimer {
            router: site,
            neighbour: RouterId(0),
            after: SimDuration::from_secs(after),
        };
        // The site's timer fires at 15 s (half its 30 s), then every 30 s
        // (jitter at its top): 45, 75, 105. A prepend at 100 s waits 5 s.
        let timers = |out: Vec<Output>| -> Vec<Output> {
            assert!(!out.iter().any(|o| matches!(o, Output::Send { .. })));
            out.into_iter()
                .filter(|o| matches!(o, Output::SetMraiTimer { .. }))
                .collect()
        };
        assert_eq!(
            timers(n.handle_at(at_s(100), prepend(1), &mut || 1.0)),
            vec![timer(5)]
        );
        let expired = Input::MraiExpired {
            router: site,
            neighbour: RouterId(0),
        };
        // It fires: the route goes, and no timer is asked for.
        let out = n.handle_at(at_s(105), expired.clone(), &mut || 1.0);
        assert!(matches!(
            out.as_slice(),
            [Output::Send {
                advert: Some(_),
                ..
            }]
        ));
        // The timer restarted at 105 s: the next change waits until 135 s.
        assert_eq!(
            timers(n.handle_at(at_s(110), prepend(2), &mut || 1.0)),
            vec![timer(25)]
        );
        // Not busy: the timer stays off once it fired.
        let mut n = BgpNetwork::new(&t, NetworkConfig::default());
        n.converge_static([announce(0)]);
        assert!(n.handle(expired, &mut || 1.0).is_empty());
    }

    #[test]
    fn a_busy_timer_stops_at_its_first_expiry_after_the_session_goes_down() {
        let (t, cfg) = busy_chain();
        let site = t.sites()[0].router;
        let down = Input::SessionDown {
            router: site,
            neighbour: RouterId(0),
        };
        let up = Input::SessionUp {
            router: site,
            neighbour: RouterId(0),
        };
        // Expiries at 15 s, then 45 s; the session goes down at 20 s.
        for (up_at, sent_at_once) in [(50, true), (40, false)] {
            let mut n = BgpNetwork::new(&t, cfg);
            n.converge_static([announce(0)]);
            n.start_mrai_timers(&mut || 0.5);
            n.handle_at(at_s(20), down.clone(), &mut || 1.0);
            let out = n.handle_at(at_s(up_at), up.clone(), &mut || 1.0);
            let sent = out.iter().any(|o| matches!(o, Output::Send { .. }));
            assert_eq!(sent, sent_at_once, "session up at {up_at} s: {out:?}");
            if !sent_at_once {
                assert_eq!(
                    out,
                    vec![Output::SetMraiTimer {
                        router: site,
                        neighbour: RouterId(0),
                        after: SimDuration::from_secs(5),
                    }]
                );
            }
        }
    }

    #[test]
    fn static_convergence_stops_at_its_cap() {
        let t = chain();
        let mut n = BgpNetwork::new(&t, NetworkConfig::default());
        assert_eq!(n.converge_static_within([announce(0)], 2), 2);
        assert!(!n.settled());
        let processed = n.converge_static([announce(0)]);
        assert!(processed > 0 && n.settled());
    }
}
