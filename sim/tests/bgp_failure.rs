//! A site crash on the engine: each upstream notices by its own session's
//! detection (BFD on one, the hold timer on the other), the draws come
//! from named streams, and the route timeline is the same for the same
//! seed.

use std::collections::BTreeMap;

use cutover::engine::{EventQueue, RngStreams};
use cutover_models::bgp::network::{BgpNetwork, Input, NetworkConfig, Output};
use cutover_models::bgp::policy::{SessionConfig, TopologyOptions};
use cutover_models::bgp::timeline::RouteTimeline;
use cutover_models::bgp::topology::{
    AsSpec, LinkKind, LinkSpec, PopSpec, SiteSpec, Topology, TopologySpec, UpstreamSpec,
};
use cutover_models::bgp::{Asn, Relationship, RouterId};
use cutover_models::failure::Detection;
use cutover_models::geo::LatLon;
use cutover_models::{SimDuration, SimTime};
use rand::RngExt;

fn at(lon: f64) -> LatLon {
    LatLon::new(0.0, lon).unwrap()
}

fn asn(n: u32, lon: f64) -> AsSpec {
    AsSpec {
        asn: Asn(n),
        name: format!("as{n}"),
        pops: vec![PopSpec {
            name: "x".into(),
            location: at(lon),
        }],
    }
}

/// Sites a (lon 0) and b (lon 30) both buy from AS10 and AS20; AS30 is a
/// customer of AS20, AS40 of AS10. The site a - AS10 session runs BFD.
fn estate() -> Topology {
    let customer = |a, b| LinkSpec {
        a: Asn(a),
        b: Asn(b),
        kind: LinkKind::ProviderToCustomer,
        at: Vec::new(),
    };
    let ups = vec![
        UpstreamSpec {
            asn: Asn(10),
            rel: Relationship::Provider,
        },
        UpstreamSpec {
            asn: Asn(20),
            rel: Relationship::Provider,
        },
    ];
    let site = |name: &str, lon| SiteSpec {
        name: name.into(),
        location: at(lon),
        upstreams: ups.clone(),
    };
    let spec = TopologySpec {
        ases: vec![asn(10, 0.0), asn(20, 0.0), asn(30, 0.0), asn(40, 0.0)],
        links: vec![customer(20, 30), customer(10, 40)],
        origin: Asn(1),
        sites: vec![site("a", 0.0), site("b", 30.0)],
        populations: vec![],
    };
    let options = TopologyOptions {
        sessions: BTreeMap::from([(
            (Asn(1), Asn(10)),
            SessionConfig {
                detection: Some(Detection::bfd()),
                ..SessionConfig::default()
            },
        )]),
        ..TopologyOptions::default()
    };
    Topology::build(&spec)
        .unwrap()
        .with_options(&options)
        .unwrap()
}

/// Crashes site a at t = 0 and runs to quiescence; returns the timeline.
fn crash(topo: &Topology, seed: u64) -> RouteTimeline {
    let streams = RngStreams::new(seed);
    let mut mrai_rng = streams.stream("bgp.mrai");
    let mut detect_rng = streams.stream("bgp.detection");
    let mut jitter = move || mrai_rng.random::<f64>();
    let mut net = BgpNetwork::new(topo, NetworkConfig::default());
    net.converge_static([0, 1].map(|site| Input::Announce {
        site,
        prepends: 0,
        med: 0,
        requested_local_pref: None,
    }));
    let mut timeline = RouteTimeline::new();
    timeline.snapshot(SimTime::ZERO, &net);
    let site_a = topo.sites()[0].router;
    let mut events: EventQueue<Input> = EventQueue::new();
    events.schedule_in(SimDuration::ZERO, Input::RouterDown { router: site_a });
    let mut draw = || detect_rng.random::<f64>();
    for (delay, input) in net.detections(site_a, Detection::hold_timer(), &mut draw) {
        events.schedule_in(delay, input);
    }
    while let Some((now, input)) = events.pop() {
        let outs = net.handle_at(now, input, &mut jitter);
        timeline.observe(now, &net, &outs);
        for o in outs {
            match o {
                Output::Send { from, to, advert } => events.schedule_in(
                    SimDuration::from_millis(10),
                    Input::Update { to, from, advert },
                ),
                Output::SetMraiTimer {
                    router,
                    neighbour,
                    after,
                } => {
                    events.set_timer_in(after, Input::MraiExpired { router, neighbour });
                }
                Output::BestChanged { .. } => {}
            }
        }
    }
    timeline
}

/// When `asn`'s router last changed its route, and to which site.
fn moved(topo: &Topology, timeline: &RouteTimeline, asn: u32) -> (f64, Option<usize>) {
    let r = topo
        .routers()
        .iter()
        .position(|x| x.asn == Asn(asn))
        .unwrap();
    let row = timeline.latest(RouterId(r as u32)).unwrap();
    (row.at.as_secs_f64(), row.site)
}

#[test]
fn each_upstream_notices_by_its_own_session_detection() {
    let topo = estate();
    for seed in 1..=5 {
        let timeline = crash(&topo, seed);
        // AS10 (BFD 300 ms x 3) moves to b within 0.6..0.9 s.
        let (t10, s10) = moved(&topo, &timeline, 10);
        assert_eq!(s10, Some(1));
        assert!((0.6..=0.9).contains(&t10), "seed {seed}: AS10 at {t10} s");
        // AS20 keeps the hold timer (90 s hold, 30 s keepalive): 60..90 s.
        let (t20, s20) = moved(&topo, &timeline, 20);
        assert_eq!(s20, Some(1));
        assert!((60.0..=90.0).contains(&t20), "seed {seed}: AS20 at {t20} s");
        // Their customers follow one message later.
        let (t40, _) = moved(&topo, &timeline, 40);
        let (t30, _) = moved(&topo, &timeline, 30);
        assert!((t40 - t10 - 0.01).abs() < 1e-9 && (t30 - t20 - 0.01).abs() < 1e-9);
    }
}

#[test]
fn the_route_timeline_depends_only_on_the_seed() {
    let topo = estate();
    let first = crash(&topo, 42).to_csv(&topo);
    assert_eq!(first, crash(&topo, 42).to_csv(&topo));
    assert_ne!(first, crash(&topo, 43).to_csv(&topo));
}
