//! RFC 2439 damping of a flapping session in the BGP network model, the
//! per-router route timeline, and a health-checked withdrawal end to end.

mod support;

use cutover_models::bgp::network::{BgpNetwork, Input, NetworkConfig};
use cutover_models::bgp::policy::{ExportPolicy, TopologyOptions};
use cutover_models::bgp::topology::Topology;
use cutover_models::bgp::{Asn, Relationship, RouterId};
use cutover_models::failure::{DampingParams, Detection};
use cutover_models::{SimDuration, SimTime};
use support::*;

const SEC: u64 = 1_000_000_000;

/// AS10 (router 0) with two sites behind it: a (router 1), which wins the
/// tie on router id, and b (router 2).
fn two_sites() -> Topology {
    let ases = vec![as_spec(10, &[("x", 0.0)])];
    let sites = vec![
        site("a", 0.0, &[(10, Relationship::Provider)]),
        site("b", 0.0, &[(10, Relationship::Provider)]),
    ];
    Topology::build(&spec(ases, vec![], sites, vec![])).unwrap()
}

const AS10: RouterId = RouterId(0);
const SITE_A: RouterId = RouterId(1);

/// Flaps the session between site a and AS10 `flaps` times, every 60 s
/// (down at 60 k, up 30 s later); returns the driver after quiescence.
fn flapping(topo: &Topology, damping: Option<DampingParams>, flaps: u64) -> Driver<'_> {
    let mut net = BgpNetwork::new(topo, NetworkConfig::default());
    if let Some(p) = damping {
        net = net.with_damping(p);
    }
    net.converge_static([announce(0, 0), announce(1, 0)]);
    let mut d = Driver::new(net, SimDuration::from_millis(10), 7);
    d.timeline.snapshot(SimTime::ZERO, &d.net);
    for k in 0..flaps {
        for (router, neighbour) in [(AS10, SITE_A), (SITE_A, AS10)] {
            d.schedule(60 * k * SEC, Input::SessionDown { router, neighbour });
            d.schedule((60 * k + 30) * SEC, Input::SessionUp { router, neighbour });
        }
    }
    d.run();
    d
}

fn site_at(d: &Driver<'_>, secs: f64) -> Option<usize> {
    let t = SimTime::from_nanos((secs * SEC as f64) as u64);
    d.timeline.at(AS10, t).and_then(|r| r.site)
}

#[test]
fn without_damping_every_flap_moves_the_traffic() {
    let topo = two_sites();
    let d = flapping(&topo, None, 3);
    assert_eq!(site_at(&d, 10.0), Some(1));
    assert_eq!(site_at(&d, 40.0), Some(0));
    assert_eq!(site_at(&d, 130.0), Some(1));
    assert_eq!(site_at(&d, 200.0), Some(0));
    // Six changes after the starting state.
    assert_eq!(d.timeline.of(AS10).count(), 7);
}

#[test]
fn damping_suppresses_the_flapping_route_until_its_penalty_decays() {
    let topo = two_sites();
    let d = flapping(&topo, Some(DampingParams::CISCO), 3);
    // Flaps at 0, 60 and 120 s: the third brings the penalty to
    // 1000 (1 + 2^(-60/900) + 2^(-120/900)) = 2866 > 2000, so site a stays
    // suppressed until 120 + 900 log2(2866 / 750) s, though its session is
    // up again at 150 s.
    let p: f64 = 1000.0 * (1.0 + (-60.0f64 / 900.0).exp2() + (-120.0f64 / 900.0).exp2());
    let reuse = 120.0 + 900.0 * (p / 750.0).log2();
    assert_eq!(site_at(&d, 100.0), Some(0), "two flaps do not suppress");
    assert_eq!(site_at(&d, 200.0), Some(1));
    assert_eq!(site_at(&d, reuse - 1.0), Some(1));
    assert_eq!(site_at(&d, reuse + 0.001), Some(0));
    let back = d.timeline.latest(AS10).unwrap();
    assert!(
        (back.at.as_secs_f64() - reuse).abs() < 1e-3,
        "{:?} vs {reuse}",
        back.at
    );
    let damping = d.net.damping(AS10, SITE_A).unwrap();
    assert!((damping.penalty_at(SimTime::from_nanos(120 * SEC)) - p).abs() < 1e-6);
}

#[test]
fn the_timeline_lists_each_routers_routes_as_csv() {
    let topo = two_sites();
    let d = flapping(&topo, None, 1);
    let csv = d.timeline.to_csv(&topo);
    let rows: Vec<&str> = csv.lines().filter(|l| l.contains(",10,x,")).collect();
    assert_eq!(
        rows,
        ["0,0,10,x,a,1", "0,0,10,x,b,1", "30.01,0,10,x,a,1"],
        "{csv}"
    );
    assert!(csv.starts_with("time_s,router,asn,pop,site,as_path\n"));
}

#[test]
fn a_health_checked_route_is_withdrawn_17_to_22_s_after_the_service_dies() {
    // ExaBGP healthcheck.py defaults (interval 5 s, timeout 5 s, fall 3,
    // fast interval 1 s): the site withdraws after 17..22 s, and AS10 moves
    // to site b one message delay later.
    let health = Detection::health_check();
    assert!(!health.drops_session());
    let topo = two_sites();
    for u in [0.0, 0.25, 0.5, 0.99] {
        let mut net = BgpNetwork::new(&topo, NetworkConfig::default());
        net.converge_static([announce(0, 0), announce(1, 0)]);
        let mut d = Driver::new(net, SimDuration::from_millis(10), 1);
        let withdraw = health.delay(u);
        d.schedule(withdraw.as_nanos(), Input::StopAnnouncing { site: 0 });
        d.run();
        let moved = d.timeline.latest(AS10).unwrap();
        assert_eq!(moved.site, Some(1));
        let secs = moved.at.as_secs_f64();
        assert!(
            (secs - (22.0 - 5.0 * u) - 0.01).abs() < 1e-6,
            "u={u}: {secs}"
        );
        assert_eq!(moved.as_path, vec![Asn(1)]);
    }
}

/// A clique of `n` ASes exporting everything (the origin, AS1, peers with
/// the others), and AS99 watching, a customer of the clique AS with the
/// highest router ids: every tie-break ranks its routes last, so it
/// explores longest.
fn clique_with_observer(n: u32) -> Topology {
    let others: Vec<u32> = (10..10 + n - 1).collect();
    let mut ases: Vec<_> = others.iter().map(|&a| as_spec(a, &[("x", 0.0)])).collect();
    ases.push(as_spec(99, &[("x", 0.0)]));
    let mut links = vec![link(10 + n - 2, 99, true)];
    for (i, &a) in others.iter().enumerate() {
        for &b in &others[i + 1..] {
            links.push(link(a, b, false));
        }
    }
    let ups: Vec<_> = others.iter().map(|&a| (a, Relationship::Peer)).collect();
    let options = TopologyOptions {
        export: others
            .iter()
            .map(|&a| (Asn(a), ExportPolicy::All))
            .collect(),
        ..TopologyOptions::default()
    };
    Topology::build(&spec(ases, links, vec![site("s", 0.0, &ups)], vec![]))
        .unwrap()
        .with_options(&options)
        .unwrap()
}

/// Withdraws the prefix at 0 and announces it again at 300 s; returns
/// the seconds from the new announcement until AS99 has a route again.
fn reannouncement_reaches_observer(topo: &Topology, damping: bool, seed: u64) -> f64 {
    let config = NetworkConfig {
        ebgp_mrai: SimDuration::from_secs(30),
        ..NetworkConfig::default()
    };
    let mut net = BgpNetwork::new(topo, config);
    if damping {
        net = net.with_damping(DampingParams::CISCO);
    }
    net.converge_static([announce(0, 0)]);
    let mut d = Driver::new(net, SimDuration::from_millis(10), seed);
    d.schedule(0, Input::StopAnnouncing { site: 0 });
    d.schedule(300 * SEC, announce(0, 0));
    d.run();
    let observer = RouterId(
        topo.routers()
            .iter()
            .position(|r| r.asn == Asn(99))
            .unwrap() as u32,
    );
    let back = d.timeline.latest(observer).unwrap();
    assert!(back.site.is_some(), "the observer ends with a route");
    back.at.as_secs_f64() - 300.0
}

#[test]
fn damping_turns_one_withdrawal_into_a_long_outage_after_path_exploration() {
    // Mao, Govindan, Varghese, Katz, "Route Flap Damping Exacerbates
    // Internet Routing Convergence", SIGCOMM 2002: the path exploration
    // after a single withdrawal looks like flapping (each longer path an
    // attribute change, then the withdrawal), so a router downstream
    // suppresses the route and the prefix, announced again, stays
    // unreachable there for tens of minutes instead of seconds.
    let topo = clique_with_observer(8);
    for seed in 1..=6 {
        let plain = reannouncement_reaches_observer(&topo, false, seed);
        let damped = reannouncement_reaches_observer(&topo, true, seed);
        assert!(plain < 1.0, "seed {seed}, without damping: {plain} s");
        assert!(
            damped > 600.0 && damped < 3600.0,
            "seed {seed}, with damping: {damped} s"
        );
    }
}

#[test]
fn a_route_to_another_site_with_the_same_attributes_is_no_flap() {
    // AS20 buys from AS10, which hears sites a and b of AS1 at one PoP.
    // When a stops, AS10 sends AS20 the route to b: the same AS path
    // (10 1), MED and communities. BGP carries no site, so AS20 sees an
    // UPDATE that changes nothing it could penalise (RFC 2439 section 4.4.3
    // penalises a change of attributes).
    let ases = vec![as_spec(10, &[("x", 0.0)]), as_spec(20, &[("x", 0.0)])];
    let sites = vec![
        site("a", 0.0, &[(10, Relationship::Provider)]),
        site("b", 0.0, &[(10, Relationship::Provider)]),
    ];
    let topo = Topology::build(&spec(ases, vec![link(10, 20, true)], sites, vec![])).unwrap();
    let mut net = BgpNetwork::new(&topo, NetworkConfig::default());
    net.converge_static([announce(0, 0), announce(1, 0)]);
    let net = net.with_damping(DampingParams::CISCO);
    let mut d = Driver::new(net, SimDuration::from_millis(10), 3);
    d.schedule(SEC, Input::StopAnnouncing { site: 0 });
    d.run();
    let as20 = RouterId(1);
    assert_eq!(topo.router(as20).asn, Asn(20));
    assert_eq!(d.net.best(as20).map(|r| r.site), Some(1));
    assert!(d.net.damping(as20, AS10).is_none());
    // A longer path is a change of attributes: b prepends once.
    d.schedule(SEC, announce_with_prepends(1, 1));
    d.run();
    let now = SimTime::from_nanos(d.now);
    let penalty = d.net.damping(as20, AS10).map(|x| x.penalty_at(now));
    assert!(penalty.is_some_and(|p| p > 0.0), "{penalty:?}");
}

fn announce_with_prepends(site: usize, prepends: u8) -> Input {
    Input::Announce {
        site,
        prepends,
        med: 0,
        requested_local_pref: None,
    }
}
