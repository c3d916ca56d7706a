//! "Why not the nearest site": the explanation names the AS and the reason
//! that actually keep the users from the nearest site.

mod support;

use std::collections::BTreeSet;

use cutover_models::bgp::catchment::{compute, Announcement};
use cutover_models::bgp::decision::DecisionConfig;
use cutover_models::bgp::policy::TopologyOptions;
use cutover_models::bgp::topology::Topology;
use cutover_models::bgp::{Asn, Relationship};
use cutover_models::geo::LatencyModel;
use support::*;

fn why(topo: &Topology, anns: &[Announcement]) -> (Option<usize>, String) {
    let c = compute(
        topo,
        anns,
        &LatencyModel::default(),
        DecisionConfig::default(),
    )
    .unwrap();
    (c.rows[0].site, c.rows[0].why_not_nearest.clone())
}

#[test]
fn a_route_that_lost_where_it_could_not_have_been_passed_on_is_not_the_reason() {
    // Users of AS30 buy from AS10, which serves site far directly. The
    // near site sits behind AS50, a peer of AS65030; AS65030 also peers
    // with AS10 and prefers far (from its customer AS60). Even if AS65030
    // preferred near, a route from a peer goes to no other peer: that is
    // why AS10 never hears of near, not AS65030's preference.
    let ases = vec![
        as_spec(10, &[("a", 0.5)]),
        as_spec(30, &[("u", 1.0)]),
        as_spec(50, &[("n", 1.0)]),
        as_spec(60, &[("f", 60.0)]),
        as_spec(65030, &[("m", 2.0)]),
    ];
    let links = vec![
        link(10, 30, true),
        link(10, 65030, false),
        link(65030, 50, false),
        link(65030, 60, true),
    ];
    let sites = vec![
        site("near", 1.0, &[(50, Relationship::Provider)]),
        site(
            "far",
            60.0,
            &[(10, Relationship::Provider), (60, Relationship::Provider)],
        ),
    ];
    let topo = Topology::build(&spec(
        ases,
        links,
        sites,
        vec![population("users", 1.0, 30)],
    ))
    .unwrap();
    let (site, text) = why(&topo, &[Announcement::plain(0), Announcement::plain(1)]);
    assert_eq!(site, Some(1));
    assert_eq!(
        text,
        "AS65030 at m knows near but does not pass it to AS10 at a: it learned it from a peer, \
         and routes from peers and providers go only to customers, not to a peer"
    );
}

#[test]
fn a_more_specific_kept_inside_an_upstream_is_found() {
    // Site near announces a /25 tagged NO_EXPORT to its upstream AS50;
    // site far announces the /24 through AS10. AS50 holds the /25 but
    // passes it to nobody, so the users (AS30, a customer of AS10) land
    // far. The text must name AS50 and NO_EXPORT, not claim that no router
    // holds a route.
    let ases = vec![
        as_spec(10, &[("a", 0.5)]),
        as_spec(30, &[("u", 1.0)]),
        as_spec(50, &[("n", 1.0)]),
    ];
    let links = vec![link(10, 30, true), link(10, 50, true)];
    let sites = vec![
        site("near", 1.0, &[(50, Relationship::Provider)]),
        site("far", 60.0, &[(10, Relationship::Provider)]),
    ];
    let options = TopologyOptions {
        no_export: BTreeSet::from([(Asn(1), Asn(50))]),
        ..TopologyOptions::default()
    };
    let topo = Topology::build(&spec(
        ases,
        links,
        sites,
        vec![population("users", 1.0, 30)],
    ))
    .unwrap()
    .with_options(&options)
    .unwrap();
    let near = Announcement {
        prefix_len: 25,
        ..Announcement::plain(0)
    };
    let (site, text) = why(&topo, &[near, Announcement::plain(1)]);
    assert_eq!(site, Some(1));
    assert_eq!(
        text,
        "AS50 at n uses near but does not pass it to AS10 at a: the route carries NO_EXPORT"
    );
}
