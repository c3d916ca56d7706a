//! Per-session timers, IGP metrics, export policies, NO_EXPORT, several
//! origin ASes and MED, driven through time on a small event loop.

mod support;

use std::collections::BTreeMap;

use cutover_models::bgp::network::{BgpNetwork, Input, NetworkConfig, Output};
use cutover_models::bgp::policy::{ExportPolicy, SessionConfig, TopologyOptions};
use cutover_models::bgp::topology::Topology;
use cutover_models::bgp::{Asn, Relationship, RouterId};
use cutover_models::SimDuration;
use support::*;

const SEC: u64 = 1_000_000_000;

/// A clique of `n` ASes: the origin (AS 1, one site) peers with the `n - 1`
/// others, which all peer with each other and export everything.
fn clique(n: u32) -> Topology {
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
    let options = TopologyOptions {
        export: others
            .iter()
            .map(|&a| (Asn(a), ExportPolicy::All))
            .collect(),
        ..TopologyOptions::default()
    };
    topo.with_options(&options).unwrap()
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
