//! A tiny event loop driving a `BgpNetwork` through time, for the tests of
//! timers, policies and path exploration. Every message takes `delay`; MRAI
//! jitter comes from a fixed xorshift sequence.

// Each test file compiles this module on its own and uses a part of it.
#![allow(dead_code)]

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use cutover_models::bgp::network::{BgpNetwork, Input, Output};
use cutover_models::bgp::timeline::RouteTimeline;
use cutover_models::bgp::topology::{
    AsSpec, LinkKind, LinkSpec, PopSpec, PopulationSpec, SiteSpec, TopologySpec, UpstreamSpec,
};
use cutover_models::bgp::{Asn, Relationship};
use cutover_models::geo::LatLon;
use cutover_models::{SimDuration, SimTime};

/// A point at longitude `lon` on the equator.
pub fn at(lon: f64) -> LatLon {
    LatLon::new(0.0, lon).unwrap()
}

/// An AS with PoPs `(name, longitude)`.
pub fn as_spec(asn: u32, pops: &[(&str, f64)]) -> AsSpec {
    AsSpec {
        asn: Asn(asn),
        name: format!("as{asn}"),
        pops: pops
            .iter()
            .map(|&(n, lon)| PopSpec {
                name: n.to_string(),
                location: at(lon),
            })
            .collect(),
    }
}

/// A link; `provider` true makes `a` the provider of `b`.
pub fn link(a: u32, b: u32, provider: bool) -> LinkSpec {
    LinkSpec {
        a: Asn(a),
        b: Asn(b),
        kind: if provider {
            LinkKind::ProviderToCustomer
        } else {
            LinkKind::Peer
        },
        at: Vec::new(),
    }
}

/// A site at `lon` with upstreams `(asn, rel)`.
pub fn site(name: &str, lon: f64, ups: &[(u32, Relationship)]) -> SiteSpec {
    SiteSpec {
        name: name.into(),
        location: at(lon),
        upstreams: ups
            .iter()
            .map(|&(a, rel)| UpstreamSpec { asn: Asn(a), rel })
            .collect(),
    }
}

/// A population of weight 1 at `lon` behind `isp`.
pub fn population(name: &str, lon: f64, isp: u32) -> PopulationSpec {
    PopulationSpec {
        name: name.into(),
        location: at(lon),
        weight: 1.0,
        isp: Some(Asn(isp)),
    }
}

/// A spec with origin AS 1.
pub fn spec(
    ases: Vec<AsSpec>,
    links: Vec<LinkSpec>,
    sites: Vec<SiteSpec>,
    populations: Vec<PopulationSpec>,
) -> TopologySpec {
    TopologySpec {
        ases,
        links,
        origin: Asn(1),
        sites,
        populations,
    }
}

/// Announcing site `site` with a MED.
pub fn announce(site: usize, med: u32) -> Input {
    Input::Announce {
        site,
        prepends: 0,
        med,
        requested_local_pref: None,
    }
}

/// The event loop.
pub struct Driver<'t> {
    /// The network driven.
    pub net: BgpNetwork<'t>,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    inputs: Vec<Option<Input>>,
    /// Current time, ns.
    pub now: u64,
    delay: u64,
    rng: u64,
    /// When a best route last changed, ns.
    pub last_change: u64,
    /// Messages (UPDATEs) sent.
    pub sends: u64,
    /// Every best-route change.
    pub timeline: RouteTimeline,
    reuse_scheduled: BTreeSet<SimTime>,
}

impl<'t> Driver<'t> {
    /// A driver whose messages take `delay`.
    pub fn new(net: BgpNetwork<'t>, delay: SimDuration, seed: u64) -> Self {
        Driver {
            net,
            queue: BinaryHeap::new(),
            inputs: Vec::new(),
            now: 0,
            delay: delay.as_nanos(),
            rng: seed.max(1),
            last_change: 0,
            sends: 0,
            timeline: RouteTimeline::new(),
            reuse_scheduled: BTreeSet::new(),
        }
    }

    /// Schedules `input` after `after` ns.
    pub fn schedule(&mut self, after: u64, input: Input) {
        let seq = self.inputs.len() as u64;
        self.inputs.push(Some(input));
        self.queue.push(Reverse((self.now + after, seq)));
    }

    /// Runs until nothing is left; returns the time of the last event, ns.
    pub fn run(&mut self) -> u64 {
        while let Some(Reverse((t, seq))) = self.queue.pop() {
            self.now = t;
            let input = self.inputs[seq as usize].take().expect("each input once");
            let mut rng = self.rng;
            let mut jitter = || {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                (rng >> 11) as f64 / (1u64 << 53) as f64
            };
            let now = SimTime::from_nanos(t);
            let outs = self.net.handle_at(now, input, &mut jitter);
            self.rng = rng;
            self.timeline.observe(now, &self.net, &outs);
            if let Some(reuse) = self.net.next_reuse() {
                if self.reuse_scheduled.insert(reuse) {
                    let after = reuse.saturating_since(now).as_nanos();
                    self.schedule(after, Input::Reuse);
                }
            }
            for o in outs {
                match o {
                    Output::Send { from, to, advert } => {
                        self.sends += 1;
                        self.schedule(self.delay, Input::Update { to, from, advert });
                    }
                    Output::SetMraiTimer {
                        router,
                        neighbour,
                        after,
                    } => self.schedule(after.as_nanos(), Input::MraiExpired { router, neighbour }),
                    Output::BestChanged { .. } => self.last_change = self.now,
                }
            }
        }
        self.now
    }
}
