//! Per-session timers, IGP metrics, export policies, NO_EXPORT, several
//! origin ASes and MED, driven through time on a small event loop.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use cutover_models::bgp::decision::{DecisionConfig, Step};
use cutover_models::bgp::network::{BgpNetwork, Input, NetworkConfig, Output};
use cutover_models::bgp::policy::{
    ExportPolicy, IgpLink, SessionConfig, SiteSession, TopologyOptions,
};
use cutover_models::bgp::topology::Topology;
use cutover_models::bgp::{Asn, Relationship, RouterId};
use cutover_models::failure::Detection;
use cutover_models::SimDuration;
use support::*;

const SEC: u64 = 1_000_000_000;

/// A clique of `n` ASes: the origin (AS 1, one site) peers with the `n - 1`
/// others, which all peer with each other and export everything.
fn clique(n: u32) -> Topology {
    let options = TopologyOptions {
        export: (10..10 + n - 1)
            .map(|a| (Asn(a), ExportPolicy::All))
            .collect(),
        ..TopologyOptions::default()
    };
    clique_with(n, &options)
}

/// The clique of [`clique`] with `options`.
fn clique_with(n: u32, options: &TopologyOptions) -> Topology {
    let others: Vec<u32> = (10..10 + n - 1).collect();
    let ases = others.iter().map(|&a| as_spec(a, &[("x", 0.0)])).collect();
    let mut links = Vec::new();
    for (i, &a) in others.iter().enumerate() {
        for &b in &others[i + 1..] {
            links.push(link(a, b, false));
        }
    }
    let ups: Vec<(u32, Relationship)> = others.iter().map(|&a| (a, Relationship::Peer)).collect();
    let topo = Topology::build(&spec(ases, links, vec![site("s", 0.0, &ups)], vec![])).unwrap();
    topo.with_options(options).unwrap()
}

/// Seconds from the origin's withdrawal until the last best route changed.
fn withdrawal_convergence(topo: &Topology, mrai: SimDuration, seed: u64) -> f64 {
    let config = NetworkConfig {
        ebgp_mrai: mrai,
        ..NetworkConfig::default()
    };
    let mut net = BgpNetwork::new(topo, config);
    net.converge_static([announce(0, 0)]);
    let mut d = Driver::new(net, SimDuration::from_millis(10), seed);
    d.schedule(0, Input::StopAnnouncing { site: 0 });
    d.run();
    d.last_change as f64 / SEC as f64
}

/// Mean over seeds of [`withdrawal_convergence`].
fn mean_convergence(n: u32, mrai: SimDuration) -> f64 {
    let topo = clique(n);
    let seeds = 1..=16u64;
    let total: f64 = seeds
        .clone()
        .map(|seed| withdrawal_convergence(&topo, mrai, seed))
        .sum();
    total / seeds.count() as f64
}

#[test]
fn full_mesh_path_exploration_takes_about_n_minus_3_mrai() {
    // Labovitz, Ahuja, Bose, Jahanian, "Delayed Internet Routing
    // Convergence", SIGCOMM 2000: in a clique of n ASes a withdrawal
    // explores ever longer paths, one MRAI round each, and converges after
    // about (n - 3) x MRAI. Here the first round is free (no timer runs
    // when the withdrawal arrives) and each round lasts MRAI x U(0.75, 1),
    // so the time lies between (n - 4) x 0.75 MRAI and (n - 3) MRAI and
    // grows by about 0.875 MRAI per AS.
    let m = 30.0;
    let mrai = SimDuration::from_secs(30);
    let points: Vec<(f64, f64)> = (4..=9u32)
        .map(|n| (f64::from(n), mean_convergence(n, mrai)))
        .collect();
    for &(n, t) in &points {
        assert!(
            t >= (n - 4.0) * 0.75 * m && t <= (n - 3.0) * m,
            "n={n}: {t:.1} s outside [(n-4) x 0.75 MRAI, (n-3) x MRAI]"
        );
    }
    let slope = least_squares_slope(&points);
    assert!(
        (0.65 * m..=1.0 * m).contains(&slope),
        "{slope:.1} s per AS; points {points:?}"
    );
}

#[test]
fn path_exploration_scales_with_mrai() {
    let n = 7;
    let slow = mean_convergence(n, SimDuration::from_secs(30));
    let fast = mean_convergence(n, SimDuration::from_secs(15));
    let ratio = slow / fast;
    assert!((1.7..=2.3).contains(&ratio), "{slow:.1} s vs {fast:.1} s");
    // Without MRAI the exploration runs at message speed: well under a second.
    assert!(mean_convergence(n, SimDuration::ZERO) < 1.0);
}

fn least_squares_slope(points: &[(f64, f64)]) -> f64 {
    let k = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / k;
    let my = points.iter().map(|p| p.1).sum::<f64>() / k;
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    sxy / sxx
}

#[test]
fn gao_rexford_peers_do_not_explore_paths() {
    // The same clique under Gao-Rexford: routes from peers go to no peer,
    // so the withdrawal ends at message speed.
    let others: Vec<u32> = (10..16).collect();
    let ases = others.iter().map(|&a| as_spec(a, &[("x", 0.0)])).collect();
    let mut links = Vec::new();
    for (i, &a) in others.iter().enumerate() {
        for &b in &others[i + 1..] {
            links.push(link(a, b, false));
        }
    }
    let ups: Vec<_> = others.iter().map(|&a| (a, Relationship::Peer)).collect();
    let topo = Topology::build(&spec(ases, links, vec![site("s", 0.0, &ups)], vec![])).unwrap();
    let t = withdrawal_convergence(&topo, SimDuration::from_secs(30), 1);
    assert!(t < 0.1, "{t} s");
}

/// origin site -> AS10 -> AS20 (each the provider of the previous).
fn chain(options: &TopologyOptions) -> Topology {
    let ases = vec![as_spec(10, &[("x", 0.0)]), as_spec(20, &[("x", 0.0)])];
    let sites = vec![site("s", 0.0, &[(10, Relationship::Provider)])];
    Topology::build(&spec(ases, vec![link(20, 10, true)], sites, vec![]))
        .unwrap()
        .with_options(options)
        .unwrap()
}

fn sessions(a: u32, b: u32, s: SessionConfig) -> TopologyOptions {
    TopologyOptions {
        sessions: BTreeMap::from([((Asn(a), Asn(b)), s)]),
        ..TopologyOptions::default()
    }
}

/// The MRAI timers `outs` asks for, as (router, neighbour, seconds).
fn timers(outs: &[Output]) -> Vec<(u32, u32, f64)> {
    outs.iter()
        .filter_map(|o| match o {
            Output::SetMraiTimer {
                router,
                neighbour,
                after,
            } => Some((router.0, neighbour.0, after.as_secs_f64())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_session_sets_its_own_mrai() {
    // Routers: 0 = AS10, 1 = AS20, 2 = the site.
    let topo = chain(&sessions(
        20,
        10,
        SessionConfig {
            mrai: Some(SimDuration::from_secs(5)),
            ..SessionConfig::default()
        },
    ));
    let mut net = BgpNetwork::new(&topo, NetworkConfig::default());
    let mut half = || 0.5;
    let outs = net.handle(announce(0, 0), &mut half);
    // The site's session to AS10 keeps the network's 30 s: 30 x 0.875.
    assert_eq!(timers(&outs), vec![(2, 0, 26.25)]);
    let update = Input::Update {
        to: RouterId(0),
        from: RouterId(2),
        advert: outs
            .iter()
            .find_map(|o| match o {
                Output::Send { advert, .. } => Some(advert.clone()),
                _ => None,
            })
            .expect("the site sends its route"),
    };
    let outs = net.handle(update, &mut half);
    // AS10 -> AS20 uses the session's 5 s: 5 x 0.875; AS10 -> the site
    // (the route goes back too: no sender-side loop detection) keeps 30 s.
    assert_eq!(timers(&outs), vec![(0, 1, 4.375), (0, 2, 26.25)]);
}

#[test]
fn withdrawals_wait_for_mrai_only_when_rate_limited() {
    for rate_limit in [false, true] {
        let topo = chain(&sessions(
            10,
            20,
            SessionConfig {
                rate_limit_withdrawals: rate_limit,
                ..SessionConfig::default()
            },
        ));
        let mut net = BgpNetwork::new(&topo, NetworkConfig::default());
        let mut d = Driver::new(net.clone(), SimDuration::from_millis(10), 3);
        d.schedule(0, announce(0, 0));
        // Withdraw 1 s later, while AS10's 30 s timer towards AS20 runs.
        d.schedule(SEC, Input::StopAnnouncing { site: 0 });
        d.run();
        net = d.net;
        assert!(net.best(RouterId(1)).is_none());
        let at = d.last_change as f64 / SEC as f64;
        if rate_limit {
            // Sent when the timer (22.5..30 s after the advert) fires.
            assert!((22.5..=30.1).contains(&at), "{at} s");
        } else {
            assert!((1.0..1.1).contains(&at), "{at} s");
        }
    }
}

/// AS10 with PoPs west (-10), mid (0) and east (12); site w behind west,
/// site e behind east; the users enter at mid.
fn hot_potato(options: &TopologyOptions) -> Topology {
    let ases = vec![as_spec(
        10,
        &[("west", -10.0), ("mid", 0.0), ("east", 12.0)],
    )];
    let sites = vec![
        site("w", -10.0, &[(10, Relationship::Provider)]),
        site("e", 12.0, &[(10, Relationship::Provider)]),
    ];
    Topology::build(&spec(ases, vec![], sites, vec![population("u", 0.0, 10)]))
        .unwrap()
        .with_options(options)
        .unwrap()
}

fn static_best_site(topo: &Topology, router: RouterId, inputs: Vec<Input>) -> Option<usize> {
    let mut net = BgpNetwork::new(topo, NetworkConfig::default());
    net.converge_static(inputs);
    assert!(net.settled());
    net.forward(router).site()
}

fn igp(links: &[(&str, &str, u64)]) -> TopologyOptions {
    TopologyOptions {
        igp: BTreeMap::from([(
            Asn(10),
            links
                .iter()
                .map(|&(a, b, metric)| IgpLink {
                    a: a.into(),
                    b: b.into(),
                    metric,
                })
                .collect(),
        )]),
        ..TopologyOptions::default()
    }
}

#[test]
fn igp_metrics_override_distance_in_hot_potato_routing() {
    let plain = hot_potato(&TopologyOptions::default());
    let entry = plain.populations()[0].router;
    let both = vec![announce(0, 0), announce(1, 0)];
    // Great circle: west is 10 degrees away, east 12, so west wins.
    assert_eq!(static_best_site(&plain, entry, both.clone()), Some(0));
    // The IGP makes the way west dear: east wins.
    let topo = hot_potato(&igp(&[("mid", "west", 100), ("mid", "east", 10)]));
    assert_eq!(static_best_site(&topo, entry, both), Some(1));
    // Costs are shortest paths over the links: west-east via mid is 110.
    let r =
        |name: &str| RouterId(topo.routers().iter().position(|x| x.name == name).unwrap() as u32);
    assert_eq!(topo.igp_cost(r("west"), r("east")), 110);
    assert_eq!(topo.igp_cost(r("east"), r("mid")), 10);
}

#[test]
fn igp_links_must_name_pops_and_connect_them() {
    let ases = vec![as_spec(10, &[("a", 0.0), ("b", 1.0), ("c", 2.0)])];
    let sites = vec![site("s", 0.0, &[(10, Relationship::Provider)])];
    let topo = Topology::build(&spec(ases, vec![], sites, vec![])).unwrap();
    let err = topo
        .clone()
        .with_options(&igp(&[("a", "b", 1), ("b", "zz", 1)]))
        .unwrap_err();
    assert_eq!(err.to_string(), "igp[AS10]: no PoP named `zz`");
    let err = topo.with_options(&igp(&[("a", "b", 1)])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "igp[AS10]: the links do not connect PoP `c` to the others"
    );
}

/// One site with upstreams AS10 and AS20 (both providers), which peer;
/// AS30 is a customer of AS20.
fn two_upstreams(options: &TopologyOptions) -> Topology {
    let ases = vec![
        as_spec(10, &[("x", 0.0)]),
        as_spec(20, &[("x", 0.0)]),
        as_spec(30, &[("x", 0.0)]),
    ];
    let links = vec![link(10, 20, false), link(20, 30, true)];
    let sites = vec![site(
        "s",
        0.0,
        &[(10, Relationship::Provider), (20, Relationship::Provider)],
    )];
    Topology::build(&spec(ases, links, sites, vec![]))
        .unwrap()
        .with_options(options)
        .unwrap()
}

fn best_path(topo: &Topology, asn: u32) -> Option<Vec<u32>> {
    let mut net = BgpNetwork::new(topo, NetworkConfig::default());
    net.converge_static([announce(0, 0)]);
    let r = topo.routers().iter().position(|x| x.asn == Asn(asn))?;
    net.best(RouterId(r as u32))
        .map(|b| b.as_path.iter().map(|a| a.0).collect())
}

#[test]
fn a_selective_announcement_reaches_one_upstream() {
    let plain = two_upstreams(&TopologyOptions::default());
    assert_eq!(best_path(&plain, 20), Some(vec![1]));
    // Announce to AS10 only: AS20 hears it from its peer AS10, and, as a
    // peer route, passes it to its customer AS30 but to nobody else.
    let only_10 = TopologyOptions {
        export: BTreeMap::from([(Asn(1), ExportPolicy::ToSet(BTreeSet::from([Asn(10)])))]),
        ..TopologyOptions::default()
    };
    let topo = two_upstreams(&only_10);
    assert_eq!(best_path(&topo, 20), Some(vec![10, 1]));
    assert_eq!(best_path(&topo, 30), Some(vec![20, 10, 1]));
}

#[test]
fn no_export_keeps_a_route_inside_the_upstream() {
    // Tagged NO_EXPORT towards AS20: AS20 uses the direct route but passes
    // it to nobody, so its customer AS30 has no route at all, and AS10
    // keeps its own direct route.
    let options = TopologyOptions {
        no_export: BTreeSet::from([(Asn(1), Asn(20))]),
        ..TopologyOptions::default()
    };
    let topo = two_upstreams(&options);
    assert_eq!(best_path(&topo, 20), Some(vec![1]));
    assert_eq!(best_path(&topo, 10), Some(vec![1]));
    assert_eq!(best_path(&topo, 30), None);
    let plain = two_upstreams(&TopologyOptions::default());
    assert_eq!(best_path(&plain, 30), Some(vec![20, 1]));
}

#[test]
fn an_export_policy_per_link_overrides_the_as_policy() {
    // The origin exports everything everywhere, except to AS20, where an
    // empty set stops it: AS20 hears the route only from its peer AS10.
    let options = TopologyOptions {
        export: BTreeMap::from([(Asn(1), ExportPolicy::All)]),
        link_export: BTreeMap::from([((Asn(1), Asn(20)), ExportPolicy::ToSet(BTreeSet::new()))]),
        ..TopologyOptions::default()
    };
    let topo = two_upstreams(&options);
    assert_eq!(best_path(&topo, 20), Some(vec![10, 1]));
    assert_eq!(best_path(&topo, 10), Some(vec![1]));
    assert_eq!(topo.export_policy(Asn(1)), &ExportPolicy::All);
    assert_eq!(topo.export_policy(Asn(20)), &ExportPolicy::GaoRexford);
}

/// Two sites behind AS10 (one PoP); `second_origin` puts site 1 in AS2.
fn two_origins(second_origin: bool) -> Topology {
    let ases = vec![as_spec(10, &[("x", 0.0)])];
    let sites = vec![
        site("a", 0.0, &[(10, Relationship::Provider)]),
        site("b", 0.0, &[(10, Relationship::Provider)]),
    ];
    let topo = Topology::build(&spec(ases, vec![], sites, vec![])).unwrap();
    let mut options = TopologyOptions::default();
    if second_origin {
        options.site_origins.insert(1, Asn(2));
    }
    topo.with_options(&options).unwrap()
}

fn med_winner(topo: &Topology, always_compare_med: bool) -> (usize, Option<Step>) {
    let config = NetworkConfig {
        decision: DecisionConfig {
            always_compare_med,
            ..DecisionConfig::default()
        },
        ..NetworkConfig::default()
    };
    let mut net = BgpNetwork::new(topo, config);
    // Site a sends MED 50, site b MED 10.
    net.converge_static([announce(0, 50), announce(1, 10)]);
    let (cands, sel) = net.decision(RouterId(0)).unwrap();
    (cands[sel.best].route.site, sel.decided_by)
}

#[test]
fn med_is_compared_only_between_routes_from_the_same_as() {
    // RFC 4271 section 9.1.2.2 (c): one origin AS, the lower MED wins.
    let one = two_origins(false);
    assert_eq!(med_winner(&one, false), (1, Some(Step::Med)));
    // Two origin ASes: MEDs from different neighbour ASes are not
    // compared, and the lower router id (site a) decides...
    let two = two_origins(true);
    assert_eq!(two.origins().collect::<Vec<_>>(), vec![Asn(1), Asn(2)]);
    assert_eq!(med_winner(&two, false), (0, Some(Step::RouterId)));
    // ...unless always-compare-med is on.
    assert_eq!(med_winner(&two, true), (1, Some(Step::Med)));
}

#[test]
fn a_second_origin_announces_with_its_own_as() {
    let topo = two_origins(true);
    let mut net = BgpNetwork::new(&topo, NetworkConfig::default());
    net.converge_static([announce(1, 0)]);
    let best = net.best(RouterId(0)).unwrap();
    assert_eq!(best.as_path, vec![Asn(2)]);
    assert_eq!(net.forward(RouterId(0)).site(), Some(1));
    // Each origin's sites are islands without iBGP.
    assert_eq!(topo.ibgp_peers(topo.sites()[1].router).count(), 0);
}

#[test]
fn bad_options_are_reported() {
    let topo = two_origins(false);
    let with = |o: TopologyOptions| topo.clone().with_options(&o).unwrap_err().to_string();
    let mut o = TopologyOptions::default();
    o.site_origins.insert(5, Asn(2));
    assert_eq!(with(o), "site_origins: there is no site 5; allowed: 0 to 1");
    let mut o = TopologyOptions::default();
    o.site_origins.insert(0, Asn(10));
    assert_eq!(
        with(o),
        "site_origins[0]: AS10 is listed under ases; an origin AS has only sites"
    );
    let mut o = TopologyOptions::default();
    o.export.insert(Asn(77), ExportPolicy::All);
    assert_eq!(
        with(o),
        "export: unknown AS77; allowed: an AS of the topology"
    );
}

#[test]
fn each_session_detects_a_dead_router_by_its_own_timers() {
    // The site's session to AS10 runs BFD 300 ms x 3; the one to AS20
    // keeps the default hold timer, here 9 s hold / 3 s keepalive.
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
    let topo = two_upstreams(&options);
    let site = topo.sites()[0].router;
    let mut net = BgpNetwork::new(&topo, NetworkConfig::default());
    net.converge_static([announce(0, 0)]);
    let fast_hold = Detection::HoldTimer {
        hold: SimDuration::from_secs(9),
        keepalive: SimDuration::from_secs(3),
    };
    let mut half = || 0.5;
    let got: Vec<(f64, u32)> = net
        .detections(site, fast_hold, &mut half)
        .into_iter()
        .map(|(d, input)| match input {
            Input::SessionDown { router, .. } => (d.as_secs_f64(), topo.router(router).asn.0),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    // BFD: 900 ms - 0.5 x 300 ms; hold timer: 9 s - 0.5 x 3 s.
    assert_eq!(got, vec![(0.75, 10), (7.5, 20)]);
}

/// AS10 (router 0) with three sites behind it: site 0 (AS1, MED 20),
/// site 1 (AS2, MED 30), site 2 (AS1, MED 10), announced in `order`, one
/// second apart; returns the site AS10 uses.
fn med_by_arrival(deterministic: bool, order: [usize; 3]) -> usize {
    let ases = vec![as_spec(10, &[("x", 0.0)])];
    let up = [(10, Relationship::Provider)];
    let sites = vec![
        site("a", 0.0, &up),
        site("b", 0.0, &up),
        site("c", 0.0, &up),
    ];
    let options = TopologyOptions {
        site_origins: BTreeMap::from([(1, Asn(2))]),
        ..TopologyOptions::default()
    };
    let topo = Topology::build(&spec(ases, vec![], sites, vec![]))
        .unwrap()
        .with_options(&options)
        .unwrap();
    let config = NetworkConfig {
        decision: DecisionConfig {
            deterministic_med: deterministic,
            ..DecisionConfig::default()
        },
        ..NetworkConfig::default()
    };
    let net = BgpNetwork::new(&topo, config);
    let mut d = Driver::new(net, SimDuration::from_millis(10), 5);
    let meds = [20, 30, 10];
    for (k, &s) in order.iter().enumerate() {
        d.schedule(k as u64 * SEC, announce(s, meds[s]));
    }
    d.run();
    d.net.best(RouterId(0)).unwrap().site
}

#[test]
fn without_deterministic_med_the_arrival_order_picks_the_route() {
    // Cisco, "How the bgp deterministic-med Command Differs from the bgp
    // always-compare-med Command" (document 16046): compared newest first,
    // MED only within one neighbour AS. Deterministic MED: site 2 beats
    // site 0 on MED, then site 1 wins on router id, whatever the order.
    for order in [[0, 1, 2], [2, 1, 0]] {
        assert_eq!(med_by_arrival(true, order), 1);
    }
    // Newest first 2, 1, 0: 1 beats 2 and 0 beats 1 on router id, so
    // site 0 wins despite site 2's lower MED from the same AS.
    assert_eq!(med_by_arrival(false, [0, 1, 2]), 0);
    // Newest first 0, 1, 2: 0 beats 1, then 2 beats 0 on MED.
    assert_eq!(med_by_arrival(false, [2, 1, 0]), 2);
}

/// An IXP: members AS10, AS20, AS30 peer with AS64999 only; the site buys
/// transit from AS10; AS40 is a customer of AS20.
fn ixp(rs: Option<ExportPolicy>) -> Topology {
    let ases = vec![
        as_spec(10, &[("x", 0.0)]),
        as_spec(20, &[("x", 0.0)]),
        as_spec(30, &[("x", 0.0)]),
        as_spec(40, &[("x", 0.0)]),
        as_spec(64999, &[("x", 0.0)]),
    ];
    let links = vec![
        link(10, 64999, false),
        link(20, 64999, false),
        link(30, 64999, false),
        link(20, 40, true),
    ];
    let sites = vec![site("s", 0.0, &[(10, Relationship::Provider)])];
    let mut options = TopologyOptions::default();
    if let Some(p) = rs {
        options.export.insert(Asn(64999), p);
    }
    Topology::build(&spec(ases, links, sites, vec![]))
        .unwrap()
        .with_options(&options)
        .unwrap()
}

#[test]
fn a_route_server_passes_routes_on_without_its_own_as() {
    // Under Gao-Rexford the server, a peer, passes a peer's route to no one.
    assert_eq!(best_path(&ixp(None), 20), None);
    // Exporting everything, it would appear in the path...
    assert_eq!(
        best_path(&ixp(Some(ExportPolicy::All)), 20),
        Some(vec![64999, 10, 1])
    );
    // ...but a route server is transparent (RFC 7947 section 2.2.2).
    let topo = ixp(Some(ExportPolicy::RouteServer));
    assert_eq!(best_path(&topo, 20), Some(vec![10, 1]));
    assert_eq!(best_path(&topo, 30), Some(vec![10, 1]));
    // A member passes what it learned at the IXP to its customers only.
    assert_eq!(best_path(&topo, 40), Some(vec![20, 10, 1]));
}

#[test]
fn sender_side_loop_detection_saves_updates_in_a_full_mesh() {
    // Griffin and Premore (ICNP 2001): with SSLD a clique sends fewer
    // updates and converges no later, since no route goes to an AS that
    // would drop it.
    let n = 7;
    let plain = clique(n);
    let mut options = TopologyOptions {
        export: (10..10 + n - 1)
            .map(|a| (Asn(a), ExportPolicy::All))
            .collect(),
        ..TopologyOptions::default()
    };
    for a in 10..10 + n - 1 {
        for b in a + 1..10 + n - 1 {
            options.sessions.insert(
                (Asn(a), Asn(b)),
                SessionConfig {
                    sender_side_loop_detection: true,
                    ..SessionConfig::default()
                },
            );
        }
    }
    let ssld = clique_with(n, &options);
    let run = |topo: &Topology| {
        let config = NetworkConfig {
            ebgp_mrai: SimDuration::from_secs(30),
            ..NetworkConfig::default()
        };
        let mut net = BgpNetwork::new(topo, config);
        net.converge_static([announce(0, 0)]);
        let mut d = Driver::new(net, SimDuration::from_millis(10), 11);
        d.schedule(0, Input::StopAnnouncing { site: 0 });
        d.run();
        (d.sends, d.last_change)
    };
    let (sends_plain, t_plain) = run(&plain);
    let (sends_ssld, t_ssld) = run(&ssld);
    assert!(
        sends_ssld < sends_plain,
        "{sends_ssld} vs {sends_plain} updates"
    );
    assert!(t_ssld <= t_plain, "{t_ssld} vs {t_plain} ns");
}

#[test]
fn an_as_paired_with_itself_sets_its_ibgp_sessions() {
    // AS10 has two PoPs; the site buys from the west one. The iBGP mesh of
    // AS10 gets a 2 s MRAI (the network's iBGP default is 0).
    let ases = vec![as_spec(10, &[("w", 0.0), ("e", 10.0)])];
    let sites = vec![site("s", 0.0, &[(10, Relationship::Provider)])];
    let topo = Topology::build(&spec(ases, vec![], sites, vec![]))
        .unwrap()
        .with_options(&sessions(
            10,
            10,
            SessionConfig {
                mrai: Some(SimDuration::from_secs(2)),
                ..SessionConfig::default()
            },
        ))
        .unwrap();
    let mut net = BgpNetwork::new(&topo, NetworkConfig::default());
    let mut half = || 0.5;
    let outs = net.handle(announce(0, 0), &mut half);
    let advert = outs.iter().find_map(|o| match o {
        Output::Send { advert, .. } => Some(advert.clone()),
        _ => None,
    });
    let outs = net.handle(
        Input::Update {
            to: RouterId(0),
            from: RouterId(2),
            advert: advert.expect("the site sends its route"),
        },
        &mut half,
    );
    // West -> the site (eBGP) keeps 30 s; west -> east (iBGP) 2 s x 0.875.
    assert_eq!(timers(&outs), vec![(0, 2, 26.25), (0, 1, 1.75)]);
}

/// Sites 0 (upstreams AS10 and AS20) and 1 (AS20) of AS1; AS10 and AS20
/// peer. Returns, for AS20, the (site, AS path) of every route it holds.
fn site_sessions_at_as20(options: &TopologyOptions) -> Vec<(usize, Vec<u32>)> {
    let ases = vec![as_spec(10, &[("x", 0.0)]), as_spec(20, &[("x", 0.0)])];
    let sites = vec![
        site(
            "a",
            0.0,
            &[(10, Relationship::Provider), (20, Relationship::Provider)],
        ),
        site("b", 0.0, &[(20, Relationship::Provider)]),
    ];
    let topo = Topology::build(&spec(ases, vec![link(10, 20, false)], sites, vec![]))
        .unwrap()
        .with_options(options)
        .unwrap();
    let mut net = BgpNetwork::new(&topo, NetworkConfig::default());
    net.converge_static([announce(0, 0), announce(1, 0)]);
    let as20 = topo
        .routers()
        .iter()
        .position(|r| r.asn == Asn(20))
        .unwrap();
    let mut held: Vec<(usize, Vec<u32>)> = net
        .candidates(RouterId(as20 as u32))
        .iter()
        .map(|c| (c.route.site, c.route.as_path.iter().map(|a| a.0).collect()))
        .collect();
    held.sort();
    held
}

fn one_site_session(site: usize, asn: u32, s: SiteSession) -> TopologyOptions {
    TopologyOptions {
        site_sessions: BTreeMap::from([((site, Asn(asn)), s)]),
        ..TopologyOptions::default()
    }
}

#[test]
fn one_site_announces_to_one_upstream_while_the_others_keep_the_as_policy() {
    // AS20 hears site a directly and from its peer AS10 (a customer route
    // of AS10's goes to peers).
    let plain = site_sessions_at_as20(&TopologyOptions::default());
    assert_eq!(plain, vec![(0, vec![1]), (0, vec![10, 1]), (1, vec![1])]);
    // Site a keeps its route from AS20: AS20 hears it only from its peer
    // AS10; site b still announces to AS20 directly.
    let none = SiteSession {
        export: Some(ExportPolicy::ToSet(BTreeSet::new())),
        ..SiteSession::default()
    };
    let held = site_sessions_at_as20(&one_site_session(0, 20, none));
    assert_eq!(held, vec![(0, vec![10, 1]), (1, vec![1])]);
    // Site a tags its route to AS10 NO_EXPORT: AS10 keeps it to itself.
    assert_eq!(
        site_sessions_at_as20(&one_site_session(0, 10, tagged_session())),
        vec![(0, vec![1]), (1, vec![1])]
    );
    let both = TopologyOptions {
        site_sessions: BTreeMap::from([
            ((0, Asn(10)), tagged_session()),
            (
                (0, Asn(20)),
                SiteSession {
                    export: Some(ExportPolicy::ToSet(BTreeSet::new())),
                    ..SiteSession::default()
                },
            ),
        ]),
        ..TopologyOptions::default()
    };
    // Neither way reaches AS20 now.
    assert_eq!(site_sessions_at_as20(&both), vec![(1, vec![1])]);
}

fn tagged_session() -> SiteSession {
    SiteSession {
        no_export: true,
        ..SiteSession::default()
    }
}

#[test]
fn a_site_session_overrides_the_timers_of_its_as_on_that_upstream_only() {
    let bfd = SessionConfig {
        detection: Some(Detection::bfd()),
        mrai: Some(SimDuration::from_secs(5)),
        ..SessionConfig::default()
    };
    let hold = SessionConfig {
        detection: Some(Detection::hold_timer()),
        ..SessionConfig::default()
    };
    let options = TopologyOptions {
        sessions: BTreeMap::from([((Asn(1), Asn(10)), hold)]),
        site_sessions: BTreeMap::from([(
            (0, Asn(10)),
            SiteSession {
                session: bfd,
                ..SiteSession::default()
            },
        )]),
        ..TopologyOptions::default()
    };
    let topo = two_upstreams(&options);
    let s = topo.sites()[0].router;
    let of = |asn: u32| {
        let r = topo
            .routers()
            .iter()
            .position(|r| r.asn == Asn(asn))
            .unwrap();
        topo.session(s, RouterId(r as u32))
    };
    assert_eq!(of(10), bfd);
    assert_eq!(of(20), SessionConfig::default());
    let mut wrong = TopologyOptions::default();
    wrong
        .site_sessions
        .insert((0, Asn(30)), SiteSession::default());
    assert_eq!(
        Topology::build(&spec(
            vec![as_spec(10, &[("x", 0.0)]), as_spec(30, &[("x", 0.0)])],
            vec![],
            vec![site("s", 0.0, &[(10, Relationship::Provider)])],
            vec![],
        ))
        .unwrap()
        .with_options(&wrong)
        .unwrap_err()
        .to_string(),
        "site_sessions[0]: AS30 is not an upstream or peer of the site"
    );
}
