//! Static anycast catchments: which site each population reaches in the
//! steady state of a set of announcements, at what RTT and TTFB, and why
//! it is not the nearest site when it is not.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::decision::{select, Candidate, DecisionConfig, Step};
use super::network::{BgpNetwork, Delivery, Input, NetworkConfig, NotSettled};
use super::policy::ExportPolicy;
use super::topology::Topology;
use super::{Asn, Learned, Route, RouterId};
use crate::geo::LatencyModel;
use crate::SimDuration;

/// How one site announces the anycast prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announcement {
    /// The site.
    pub site: usize,
    /// Whether it announces at all.
    pub announce: bool,
    /// AS_PATH prepends.
    pub prepends: u8,
    /// MED sent to its upstreams.
    pub med: u32,
    /// LOCAL_PREF its upstreams should set (a community), if any.
    pub requested_local_pref: Option<u32>,
    /// Prefix length; a longer prefix (a more-specific) wins wherever it
    /// reaches, whatever the attributes of the shorter one.
    pub prefix_len: u8,
}

impl Announcement {
    /// Site `site` announcing the covering /24 with no knobs set.
    pub fn plain(site: usize) -> Self {
        Announcement {
            site,
            announce: true,
            prepends: 0,
            med: 0,
            requested_local_pref: None,
            prefix_len: 24,
        }
    }

    /// The input that starts this announcement.
    pub fn input(&self) -> Input {
        Input::Announce {
            site: self.site,
            prepends: self.prepends,
            med: self.med,
            requested_local_pref: self.requested_local_pref,
        }
    }
}

/// Where one population lands.
#[derive(Debug, Clone, PartialEq)]
pub struct CatchmentRow {
    /// Index of the population.
    pub population: usize,
    /// The site its traffic reaches; `None` if it has no route.
    pub site: Option<usize>,
    /// Length of the prefix used.
    pub prefix_len: Option<u8>,
    /// The AS path from the population's ISP to the origin.
    pub as_path: Vec<Asn>,
    /// Great-circle distance to the site, km.
    pub distance_km: Option<f64>,
    /// Round trip to the site, ms.
    pub rtt_ms: Option<f64>,
    /// Time to first byte at the site, ms.
    pub ttfb_ms: Option<f64>,
    /// The nearest announcing site.
    pub nearest_site: Option<usize>,
    /// TTFB at the nearest site, ms.
    pub nearest_ttfb_ms: Option<f64>,
    /// Why the population does not reach the nearest site (empty if it does).
    pub why_not_nearest: String,
}

/// The catchment of every population.
#[derive(Debug, Clone, PartialEq)]
pub struct Catchment {
    /// One row per population, in population order.
    pub rows: Vec<CatchmentRow>,
    /// UPDATE messages exchanged to reach the steady state.
    pub updates: u64,
}

impl Catchment {
    /// Share of the population weight that reaches each site (index = site);
    /// zeros if the total weight is zero.
    pub fn site_shares(&self, topo: &Topology) -> Vec<f64> {
        let pops = topo.populations();
        let total: f64 = pops.iter().map(|p| p.weight).sum();
        let mut shares = vec![0.0; topo.sites().len()];
        if total > 0.0 {
            for row in &self.rows {
                if let Some(s) = row.site {
                    shares[s] += pops[row.population].weight / total;
                }
            }
        }
        shares
    }
}

fn static_config(decision: DecisionConfig) -> NetworkConfig {
    NetworkConfig {
        decision,
        ebgp_mrai: SimDuration::ZERO,
        ibgp_mrai: SimDuration::ZERO,
        mrai_busy: false,
    }
}

/// Computes the steady-state catchment of `announcements` (at most one per
/// site; sites not listed do not announce); fails if BGP finds none.
pub fn compute(
    topo: &Topology,
    announcements: &[Announcement],
    latency: &LatencyModel,
    decision: DecisionConfig,
) -> Result<Catchment, NotSettled> {
    catchment(topo, announcements, latency, decision, true)
}

/// [`compute`], with "why not the nearest site" only if `explain`.
fn catchment(
    topo: &Topology,
    announcements: &[Announcement],
    latency: &LatencyModel,
    decision: DecisionConfig,
    explain: bool,
) -> Result<Catchment, NotSettled> {
    let live: Vec<&Announcement> = announcements
        .iter()
        .filter(|a| a.announce && a.site < topo.sites().len())
        .collect();
    let lengths: BTreeSet<u8> = live.iter().map(|a| a.prefix_len).collect();
    // One network per prefix, longest first.
    let mut nets: Vec<(u8, BgpNetwork<'_>)> = Vec::new();
    let mut updates = 0;
    for &len in lengths.iter().rev() {
        let mut net = BgpNetwork::new(topo, static_config(decision));
        net.converge_static(
            live.iter()
                .filter(|a| a.prefix_len == len)
                .map(|a| a.input()),
        );
        updates += net.updates_sent();
        if !net.settled() {
            return Err(NotSettled { processed: updates });
        }
        nets.push((len, net));
    }
    let announcing: BTreeSet<usize> = live.iter().map(|a| a.site).collect();
    // Each nearest site's announcement on its own, converged when an
    // explanation first needs it: the route each router would hold if
    // that site were the only one.
    let mut solos: BTreeMap<usize, BgpNetwork<'_>> = BTreeMap::new();
    let mut rows = Vec::with_capacity(topo.populations().len());
    for (i, p) in topo.populations().iter().enumerate() {
        let nearest = announcing.iter().copied().min_by(|&a, &b| {
            let da = topo.sites()[a].location.distance_km(p.location);
            let db = topo.sites()[b].location.distance_km(p.location);
            da.total_cmp(&db).then(a.cmp(&b))
        });
        let ttfb_to = |s: usize| latency.ttfb_between_ms(p.location, topo.sites()[s].location);
        let mut row = CatchmentRow {
            population: i,
            site: None,
            prefix_len: None,
            as_path: Vec::new(),
            distance_km: None,
            rtt_ms: None,
            ttfb_ms: None,
            nearest_site: nearest,
            nearest_ttfb_ms: nearest.map(ttfb_to),
            why_not_nearest: String::new(),
        };
        // Longest-prefix match: the longest prefix the ISP has a route for.
        let Some((len, net)) = nets.iter().find(|(_, n)| n.best(p.router).is_some()) else {
            row.why_not_nearest = format!("{} has no route to the prefix", p.isp);
            rows.push(row);
            continue;
        };
        row.prefix_len = Some(*len);
        if let Some(best) = net.best(p.router) {
            row.as_path = std::iter::once(p.isp)
                .chain(best.as_path.iter().copied())
                .collect();
        }
        match net.forward(p.router) {
            Delivery::Site { site, hops } => {
                let d = topo.sites()[site].location.distance_km(p.location);
                let rtt = latency.rtt_ms(d);
                row.site = Some(site);
                row.distance_km = Some(d);
                row.rtt_ms = Some(rtt);
                row.ttfb_ms = Some(latency.ttfb_ms(rtt));
                if let Some(n) = nearest.filter(|&n| explain && n != site) {
                    let solo = solos.entry(n).or_insert_with(|| {
                        let mut solo = BgpNetwork::new(topo, static_config(decision));
                        let own = live.iter().find(|a| a.site == n).map(|a| a.input());
                        solo.converge_static(own);
                        solo
                    });
                    row.why_not_nearest = why_not(net, &hops, n, site, *len, &nets, solo);
                }
            }
            other => row.why_not_nearest = format!("traffic is lost: {other:?}"),
        }
        rows.push(row);
    }
    Ok(Catchment { rows, updates })
}

/// Why traffic following `hops` to `chosen` does not reach `nearest`.
///
/// `solo` holds the route each router would have if `nearest` announced
/// alone. Walking from the users' entry router towards `nearest`: a router
/// that knows a route to `nearest` and dropped it is where it lost; a
/// router whose route comes from the same neighbour as the route to
/// `nearest` would has no choice, so the walk moves to that neighbour;
/// elsewhere the route in use and the route to `nearest` (as it would
/// arrive) are compared: if the route in use wins, that router decided;
/// else the route to `nearest` stopped at the neighbour it would come from,
/// where the walk goes on. Where the route to `nearest` could not reach at
/// all, the export rules stopped it: outward from the entry, the first
/// router that knows such a route but does not pass it on, and why.
fn why_not(
    net: &BgpNetwork<'_>,
    hops: &[RouterId],
    nearest: usize,
    chosen: usize,
    len: u8,
    nets: &[(u8, BgpNetwork<'_>)],
    solo: &BgpNetwork<'_>,
) -> String {
    let topo = net.topology();
    let site_name = |s: usize| topo.sites()[s].name.as_str();
    let nearest_net = nets
        .iter()
        .find(|(_, n)| n.best(topo.sites()[nearest].router).is_some());
    if let Some((l, _)) = nearest_net.filter(|(l, _)| *l < len) {
        return format!(
            "a more-specific /{len} from {} wins over {}'s /{l}",
            site_name(chosen),
            site_name(nearest),
        );
    }
    // The nearest site's own prefix: the one the users took, or a
    // more-specific that did not reach them.
    let net = nearest_net.map_or(net, |(_, n)| n);
    if let Some(reason) = decided_at(net, solo, hops[0], nearest) {
        return reason;
    }
    held_back_outward(net, hops[0], nearest)
}

/// The walk of [`why_not`] from `entry` towards `nearest`; `None` when the
/// route to `nearest` could not reach the walk's routers at all.
fn decided_at(
    net: &BgpNetwork<'_>,
    solo: &BgpNetwork<'_>,
    entry: RouterId,
    nearest: usize,
) -> Option<String> {
    let topo = net.topology();
    let mut seen = BTreeSet::new();
    let mut at = entry;
    let mut toward = None;
    while seen.insert(at) {
        if let Some(reason) = lost_at(net, at, nearest) {
            return Some(reason);
        }
        if let Some(t) = toward {
            if let Some(reason) = held_back(net, at, t, nearest) {
                return Some(reason);
            }
        }
        let would = solo.best(at)?;
        let would_from = advertiser(would, at);
        let next = match net.best(at) {
            Some(used) if advertiser(used, at) != would_from => {
                let cands = [candidate(topo, at, used), candidate(topo, at, would)];
                let sel = select(&cands, net.config().decision)?;
                if sel.best == 0 {
                    let step = sel.dropped_at[1]?;
                    return Some(prefers(topo, at, step, &cands[1], &cands[0]));
                }
                would_from
            }
            _ => would_from,
        };
        if next == at {
            return None;
        }
        toward = Some(at);
        at = next;
    }
    None
}

/// The router `route` came from (`at` itself for its own).
fn advertiser(route: &Route, at: RouterId) -> RouterId {
    route.from_router().unwrap_or(at)
}

/// `route` as a candidate at `at`, with the IGP cost of an iBGP route.
fn candidate<'r>(topo: &Topology, at: RouterId, route: &'r Route) -> Candidate<'r> {
    let advertiser = advertiser(route, at);
    let igp_cost = match route.learned {
        Learned::Ibgp { from, .. } => topo.igp_cost(at, from),
        _ => 0,
    };
    Candidate {
        route,
        igp_cost,
        advertiser,
    }
}

/// Outward from the entry router, over the sessions a route would have
/// come in by, to the nearest router that knows a route to `nearest`:
/// there it either lost the decision or was not passed on.
fn held_back_outward(net: &BgpNetwork<'_>, entry: RouterId, nearest: usize) -> String {
    let topo = net.topology();
    let mut seen = vec![false; topo.routers().len()];
    seen[entry.index()] = true;
    let mut queue = VecDeque::from([(entry, entry)]);
    while let Some((r, toward)) = queue.pop_front() {
        let reason = if r == entry {
            lost_at(net, r, nearest)
        } else {
            held_back(net, r, toward, nearest)
        };
        if let Some(reason) = reason {
            return reason;
        }
        let next = topo
            .ebgp_neighbours(r)
            .iter()
            .map(|n| n.router)
            .chain(topo.ibgp_peers(r));
        for n in next {
            if !seen[n.index()] {
                seen[n.index()] = true;
                queue.push_back((n, r));
            }
        }
    }
    let name = &topo.sites()[nearest].name;
    let holders = (0..topo.routers().len())
        .map(|i| RouterId(i as u32))
        .filter(|&r| net.best(r).is_some_and(|b| b.site == nearest))
        .count();
    if holders > 0 {
        // The routers that hold it are cut off from the users' ISP.
        format!(
            "{holders} routers hold a route to {name}, but no chain of BGP sessions links \
             them to {}",
            topo.router(entry).asn
        )
    } else {
        format!("no router holds a route to {name}")
    }
}

/// Why `r`, which knows a route to `nearest`, does not give it to `toward`:
/// the export rules, or (when they would let it through) its decision.
fn held_back(
    net: &BgpNetwork<'_>,
    r: RouterId,
    toward: RouterId,
    nearest: usize,
) -> Option<String> {
    let topo = net.topology();
    let (cands, sel) = net.decision(r)?;
    // The route to the nearest site that went furthest in the decision.
    let i = (0..cands.len())
        .filter(|&i| cands[i].route.site == nearest)
        .max_by_key(|&i| sel.dropped_at[i].map_or((1, Step::RouterId), |s| (0, s)))?;
    let Some(block) = export_block(topo, r, toward, cands[i].route) else {
        return if sel.dropped_at[i].is_some() {
            lost_at(net, r, nearest)
        } else {
            None
        };
    };
    let (from, to) = (topo.router(r), topo.router(toward));
    let verb = if sel.dropped_at[i].is_none() {
        "uses"
    } else {
        "knows"
    };
    Some(format!(
        "{} at {} {verb} {} but does not pass it to {} at {}: {block}",
        from.asn,
        from.name,
        topo.sites()[nearest].name,
        to.asn,
        to.name
    ))
}

/// What stops `r` from passing `route` to `toward`, if anything.
fn export_block(topo: &Topology, r: RouterId, toward: RouterId, route: &Route) -> Option<String> {
    let (from, to) = (topo.router(r), topo.router(toward));
    if from.asn == to.asn {
        return (!route.is_external())
            .then(|| "a route learned over iBGP is not passed to other iBGP peers".to_string());
    }
    let n = topo
        .ebgp_neighbours(r)
        .iter()
        .find(|n| n.router == toward)?;
    if route.no_export {
        return Some("the route carries NO_EXPORT".to_string());
    }
    if route.as_path.contains(&to.asn) {
        return Some(format!("{} is on the route's AS path already", to.asn));
    }
    if topo.may_export(r, n, route.entered_over()) {
        return None;
    }
    if let ExportPolicy::ToSet(set) = topo.export_policy_between(r, toward) {
        let names: Vec<String> = set.iter().map(Asn::to_string).collect();
        return Some(format!(
            "its export policy announces only to {}",
            if names.is_empty() {
                "no one".to_string()
            } else {
                names.join(", ")
            }
        ));
    }
    let from_rel = route
        .entered_over()
        .map_or("itself".to_string(), |rel| format!("a {rel}"));
    Some(format!(
        "it learned it from {from_rel}, and routes from peers and providers go only to customers, not to a {}",
        n.rel
    ))
}

/// If `r` knows a route to `nearest` and it lost the decision there, why.
fn lost_at(net: &BgpNetwork<'_>, r: RouterId, nearest: usize) -> Option<String> {
    let topo = net.topology();
    let (cands, sel) = net.decision(r)?;
    // Skip routers where the nearest site's route wins; elsewhere report the
    // step at which its furthest-going route lost.
    let to_nearest: Vec<usize> = (0..cands.len())
        .filter(|&i| cands[i].route.site == nearest)
        .collect();
    if to_nearest.iter().any(|&i| sel.dropped_at[i].is_none()) {
        return None;
    }
    let (step, i) = to_nearest
        .iter()
        .filter_map(|&i| Some((sel.dropped_at[i]?, i)))
        .max()?;
    Some(prefers(topo, r, step, &cands[i], &cands[sel.best]))
}

/// "`r`'s AS at its PoP prefers `won`'s site: why `lost` lost at `step`".
fn prefers(
    topo: &Topology,
    r: RouterId,
    step: Step,
    lost: &Candidate<'_>,
    won: &Candidate<'_>,
) -> String {
    let router = topo.router(r);
    let name = topo.as_name(router.asn).unwrap_or("");
    format!(
        "{} ({name}) at {} prefers {}: {}",
        router.asn,
        router.name,
        topo.sites()[won.route.site].name,
        step_detail(step, lost, won, topo, router.asn)
    )
}

/// How `won` beat `lost` at `step`, at a router of `asn`.
fn step_detail(
    step: Step,
    lost: &Candidate<'_>,
    won: &Candidate<'_>,
    topo: &Topology,
    asn: Asn,
) -> String {
    let (n, c) = (
        &topo.sites()[lost.route.site].name,
        &topo.sites()[won.route.site].name,
    );
    match step {
        Step::LocalPref => format!(
            "local-pref {} for {c} vs {} for {n}",
            won.route.local_pref, lost.route.local_pref
        ),
        Step::AsPathLength => format!(
            "AS path {} for {c} vs {} for {n}",
            won.route.as_path.len(),
            lost.route.as_path.len()
        ),
        Step::Origin => format!("origin {:?} vs {:?}", won.route.origin, lost.route.origin),
        Step::Med => format!(
            "MED {} for {c} vs {} for {n}",
            won.route.med, lost.route.med
        ),
        Step::EbgpOverIbgp => format!("eBGP route to {c} over iBGP route to {n}"),
        Step::IgpCost => {
            let unit = if topo.has_igp_metrics(asn) { "" } else { " km" };
            format!(
                "IGP cost {}{unit} to the exit for {c} vs {}{unit} for {n} (hot potato)",
                won.igp_cost, lost.igp_cost
            )
        }
        Step::RouterId => format!("router-id tie-break, {c} vs {n}"),
    }
}

/// A BGP knob a site can turn to move traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Knob {
    /// Prepend the origin AS this many extra times.
    Prepends(u8),
    /// Ask the upstreams to set this LOCAL_PREF (a community).
    LocalPref(u32),
    /// Send this MED to the upstreams.
    Med(u32),
}

impl std::fmt::Display for Knob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Knob::Prepends(n) => write!(f, "prepend {n}"),
            Knob::LocalPref(v) => write!(f, "local-pref {v}"),
            Knob::Med(v) => write!(f, "MED {v}"),
        }
    }
}

/// The share of users site `site` gets with each knob turned on its own,
/// everything else as in `announcements` (the site announcing, added if
/// missing).
pub fn knob_sweep(
    topo: &Topology,
    announcements: &[Announcement],
    site: usize,
    knobs: &[Knob],
    latency: &LatencyModel,
    decision: DecisionConfig,
) -> Result<Vec<f64>, NotSettled> {
    let base = announcements
        .iter()
        .copied()
        .find(|a| a.site == site)
        .unwrap_or(Announcement::plain(site));
    knobs
        .iter()
        .map(|&knob| {
            let mut anns: Vec<Announcement> = announcements
                .iter()
                .copied()
                .filter(|a| a.site != site)
                .collect();
            let mut a = Announcement {
                announce: true,
                ..base
            };
            match knob {
                Knob::Prepends(n) => a.prepends = n,
                Knob::LocalPref(v) => a.requested_local_pref = Some(v),
                Knob::Med(v) => a.med = v,
            }
            anns.push(a);
            let c = catchment(topo, &anns, latency, decision, false)?;
            Ok(c.site_shares(topo).get(site).copied().unwrap_or(0.0))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::topology::tests::{as_spec, link, ll};
    use crate::bgp::topology::{LinkKind, PopulationSpec, SiteSpec, TopologySpec, UpstreamSpec};
    use crate::bgp::Relationship;

    /// Two transit ASes (10 west, 20 east) that peer; a site on each; one
    /// access ISP (30) buying from both, with users in the west.
    fn two_transits() -> Topology {
        let up = |a| UpstreamSpec {
            asn: Asn(a),
            rel: Relationship::Provider,
        };
        Topology::build(&TopologySpec {
            ases: vec![
                as_spec(10, &[("w", 0.0, 0.0)]),
                as_spec(20, &[("e", 0.0, 60.0)]),
                as_spec(30, &[("w", 0.0, 1.0)]),
            ],
            links: vec![
                link(10, 20, LinkKind::Peer),
                link(10, 30, LinkKind::ProviderToCustomer),
                link(20, 30, LinkKind::ProviderToCustomer),
            ],
            origin: Asn(1),
            sites: vec![
                SiteSpec {
                    name: "west".into(),
                    location: ll(0.0, 0.0),
                    upstreams: vec![up(10)],
                },
                SiteSpec {
                    name: "east".into(),
                    location: ll(0.0, 60.0),
                    upstreams: vec![up(20)],
                },
            ],
            populations: vec![PopulationSpec {
                name: "users".into(),
                location: ll(0.0, 1.0),
                weight: 1.0,
                isp: Some(Asn(30)),
            }],
        })
        .unwrap()
    }

    fn site_of(t: &Topology, anns: &[Announcement]) -> (Option<usize>, String) {
        let c = compute(t, anns, &LatencyModel::default(), DecisionConfig::default()).unwrap();
        (c.rows[0].site, c.rows[0].why_not_nearest.clone())
    }

    #[test]
    fn the_tie_goes_to_the_lower_router_id_and_prepending_moves_it() {
        let t = two_transits();
        let anns = [Announcement::plain(0), Announcement::plain(1)];
        // Equal paths (30 10 1 / 30 20 1), equal local-pref: router id.
        assert_eq!(site_of(&t, &anns).0, Some(0));
        let mut anns2 = anns;
        anns2[0].prepends = 1;
        let (site, why) = site_of(&t, &anns2);
        assert_eq!(site, Some(1));
        assert!(why.contains("AS path 2 for east vs 3 for west"), "{why}");
    }

    #[test]
    fn a_local_pref_community_at_the_upstream_moves_traffic() {
        let t = two_transits();
        // West asks AS10 for local-pref 70 (below peers): AS10 now prefers the
        // east route it hears from its peer AS20, and exports nothing to 30
        // from the west site (a peer route goes to customers only, and it is
        // AS10's best), so the users land east.
        let mut west = Announcement::plain(0);
        west.requested_local_pref = Some(70);
        let (site, why) = site_of(&t, &[west, Announcement::plain(1)]);
        assert_eq!(site, Some(1));
        assert_eq!(
            why,
            "AS10 (as10) at w prefers east: local-pref 100 for east vs 70 for west"
        );
    }

    #[test]
    fn a_more_specific_wins_over_a_better_path() {
        let t = two_transits();
        let mut east = Announcement::plain(1);
        east.prefix_len = 25;
        east.prepends = 3;
        let (site, why) = site_of(&t, &[Announcement::plain(0), east]);
        assert_eq!(site, Some(1));
        assert!(why.contains("more-specific /25"), "{why}");
    }

    #[test]
    fn rtt_and_ttfb_follow_the_latency_model() {
        let t = two_transits();
        let c = compute(
            &t,
            &[Announcement::plain(0), Announcement::plain(1)],
            &LatencyModel::default(),
            DecisionConfig::default(),
        )
        .unwrap();
        let r = &c.rows[0];
        let d = ll(0.0, 1.0).distance_km(ll(0.0, 0.0));
        assert!((r.distance_km.unwrap() - d).abs() < 1e-9);
        let m = LatencyModel::default();
        assert!((r.ttfb_ms.unwrap() - m.ttfb_ms(m.rtt_ms(d))).abs() < 1e-9);
        assert_eq!(r.as_path, vec![Asn(30), Asn(10), Asn(1)]);
        assert_eq!(r.nearest_site, Some(0));
        assert_eq!(r.why_not_nearest, "");
    }

    #[test]
    fn knobs_move_a_single_population_all_or_nothing() {
        let t = two_transits();
        let anns = [Announcement::plain(0), Announcement::plain(1)];
        let shares = knob_sweep(
            &t,
            &anns,
            0,
            &[
                Knob::Prepends(0),
                Knob::Prepends(1),
                Knob::LocalPref(70),
                Knob::Med(50),
            ],
            &LatencyModel::default(),
            DecisionConfig::default(),
        )
        .unwrap();
        // A MED never reaches beyond the neighbour AS: no effect here.
        assert_eq!(shares, vec![1.0, 0.0, 0.0, 1.0]);
        assert_eq!(Knob::LocalPref(70).to_string(), "local-pref 70");
    }

    #[test]
    fn a_route_held_back_by_the_export_rules_is_explained() {
        // West peers with AS10 (no transit), east buys from AS20; the users'
        // ISP 40 peers with AS10 and buys from AS20. AS10 may not pass a
        // peer's route to another peer, so the users land east.
        let t = Topology::build(&TopologySpec {
            ases: vec![
                as_spec(10, &[("w", 0.0, 0.0)]),
                as_spec(20, &[("e", 0.0, 60.0)]),
                as_spec(40, &[("w", 0.0, 1.0)]),
            ],
            links: vec![
                link(10, 40, LinkKind::Peer),
                link(20, 40, LinkKind::ProviderToCustomer),
                link(10, 20, LinkKind::Peer),
            ],
            origin: Asn(1),
            sites: vec![
                SiteSpec {
                    name: "west".into(),
                    location: ll(0.0, 0.0),
                    upstreams: vec![UpstreamSpec {
                        asn: Asn(10),
                        rel: Relationship::Peer,
                    }],
                },
                SiteSpec {
                    name: "east".into(),
                    location: ll(0.0, 60.0),
                    upstreams: vec![UpstreamSpec {
                        asn: Asn(20),
                        rel: Relationship::Provider,
                    }],
                },
            ],
            populations: vec![PopulationSpec {
                name: "users".into(),
                location: ll(0.0, 1.0),
                weight: 1.0,
                isp: Some(Asn(40)),
            }],
        })
        .unwrap();
        let (site, why) = site_of(&t, &[Announcement::plain(0), Announcement::plain(1)]);
        assert_eq!(site, Some(1));
        assert_eq!(
            why,
            "AS10 at w uses west but does not pass it to AS40 at w: it learned it from a peer, \
             and routes from peers and providers go only to customers, not to a peer"
        );
    }

    /// Sites `w` (buying from AS10), `e1` and `e2` (buying from AS20);
    /// AS10 and AS20 peer (if `peering`) at AS20's PoP `p`, nearest `e2`;
    /// the users' ISP AS30 buys from AS10 and sits by `e1`.
    fn hot_potato_elsewhere(peering: bool) -> Topology {
        let up = |a| {
            vec![UpstreamSpec {
                asn: Asn(a),
                rel: Relationship::Provider,
            }]
        };
        let site = |name: &str, lon: f64, a: u32| SiteSpec {
            name: name.into(),
            location: ll(0.0, lon),
            upstreams: up(a),
        };
        let mut links = vec![link(10, 30, LinkKind::ProviderToCustomer)];
        if peering {
            links.push(link(10, 20, LinkKind::Peer));
        }
        Topology::build(&TopologySpec {
            ases: vec![
                as_spec(10, &[("w", 0.0, 0.0)]),
                as_spec(
                    20,
                    &[("p", 0.0, 30.0), ("e2", 0.0, 31.0), ("e1", 0.0, 50.0)],
                ),
                as_spec(30, &[("u", 0.0, 49.0)]),
            ],
            links,
            origin: Asn(1),
            sites: vec![
                site("w", 0.0, 10),
                site("e1", 50.0, 20),
                site("e2", 31.0, 20),
            ],
            populations: vec![PopulationSpec {
                name: "users".into(),
                location: ll(0.0, 49.0),
                weight: 1.0,
                isp: Some(Asn(30)),
            }],
        })
        .unwrap()
    }

    #[test]
    fn the_explanation_names_the_as_whose_decision_moved_the_users() {
        // AS20 keeps e1's route to itself (hot potato at p: e2 is nearer),
        // but that is not why the users miss e1: AS10, their only
        // provider, would prefer its customer w's route over any route
        // from its peer AS20. The old text blamed AS20's hot potato.
        let t = hot_potato_elsewhere(true);
        let anns = [0, 1, 2].map(Announcement::plain);
        let (site, why) = site_of(&t, &anns);
        assert_eq!(site, Some(0));
        assert_eq!(
            why,
            "AS10 (as10) at w prefers w: local-pref 130 for w vs 100 for e1"
        );
    }

    #[test]
    fn a_route_cut_off_from_the_users_is_not_called_missing() {
        // Without the peering, AS20 (at e1) and e1's own router hold e1's
        // route, but no session links them to AS10 and the users: the old
        // text said no router held a route to e1.
        let t = hot_potato_elsewhere(false);
        let anns = [0, 1, 2].map(Announcement::plain);
        let (site, why) = site_of(&t, &anns);
        assert_eq!(site, Some(0));
        assert_eq!(
            why,
            "2 routers hold a route to e1, but no chain of BGP sessions links them to AS30"
        );
    }
}
