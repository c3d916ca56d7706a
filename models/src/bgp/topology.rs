//! The AS graph as routers and eBGP sessions, built from a checked
//! description.
//!
//! Every AS has one router per point of presence (PoP). Routers of an AS
//! form a full iBGP mesh whose IGP cost is the great-circle distance between
//! them. A link between two ASes becomes one eBGP session per shared PoP.
//! The anycast origin AS has one router per site and no backbone between
//! them (each site is an island, as in the reference story), so a site only
//! ever announces its own route. [`Topology::with_options`] adds further
//! origin ASes, policies, session settings and IGP metrics.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::policy::{
    ExportPolicy, IgpLink, OptionsError, SessionConfig, SiteSession, TopologyOptions,
};
use super::{Asn, Relationship, RouterId};
use crate::geo::LatLon;

/// A point of presence of an AS.
#[derive(Debug, Clone, PartialEq)]
pub struct PopSpec {
    /// Name, usually a city code such as `"nyc"`; links name PoPs by it.
    pub name: String,
    /// Where it is.
    pub location: LatLon,
}

/// An AS of the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct AsSpec {
    /// Its number.
    pub asn: Asn,
    /// A display name.
    pub name: String,
    /// Its points of presence; at least one.
    pub pops: Vec<PopSpec>,
}

/// The business relationship of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// `a` sells transit to `b`.
    ProviderToCustomer,
    /// `a` and `b` peer.
    Peer,
}

/// A link between two ASes.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkSpec {
    /// One end (the provider of a provider-customer link).
    pub a: Asn,
    /// The other end (the customer of a provider-customer link).
    pub b: Asn,
    /// The relationship.
    pub kind: LinkKind,
    /// PoP names where the ASes interconnect. Empty: at every PoP name they
    /// share, or, if they share none, between their two nearest PoPs.
    pub at: Vec<String>,
}

/// An upstream of an anycast site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpstreamSpec {
    /// The upstream AS; the session lands on its PoP nearest the site.
    pub asn: Asn,
    /// What the upstream is to the origin AS: `Provider` (transit) or `Peer`.
    pub rel: Relationship,
}

/// An anycast site of the origin AS.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteSpec {
    /// Site tag, e.g. `"ny1"`.
    pub name: String,
    /// Where it is.
    pub location: LatLon,
    /// Its transit providers and peers; at least one.
    pub upstreams: Vec<UpstreamSpec>,
}

/// A population of users.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationSpec {
    /// Name, e.g. the city.
    pub name: String,
    /// Where the users are.
    pub location: LatLon,
    /// Share of users (any non-negative scale; normalised by the user).
    pub weight: f64,
    /// Their access ISP; they enter it at its PoP nearest them.
    pub isp: Option<Asn>,
}

/// Everything needed to build a [`Topology`].
#[derive(Debug, Clone, PartialEq)]
pub struct TopologySpec {
    /// The ASes other than the origin.
    pub ases: Vec<AsSpec>,
    /// Links between them.
    pub links: Vec<LinkSpec>,
    /// The AS that announces the anycast prefix.
    pub origin: Asn,
    /// The sites of the origin AS.
    pub sites: Vec<SiteSpec>,
    /// The users.
    pub populations: Vec<PopulationSpec>,
}

/// Where in the description an unknown AS was named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsReference {
    /// End `a` of link `.0`.
    LinkA(usize),
    /// End `b` of link `.0`.
    LinkB(usize),
    /// Upstream `upstream` of site `site`.
    SiteUpstream {
        /// Index of the site.
        site: usize,
        /// Index of the upstream in the site's list.
        upstream: usize,
    },
    /// The ISP of population `.0`.
    PopulationIsp(usize),
}

impl fmt::Display for AsReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AsReference::LinkA(i) => write!(f, "links[{i}].a"),
            AsReference::LinkB(i) => write!(f, "links[{i}].b"),
            AsReference::SiteUpstream { site, upstream } => {
                write!(f, "sites[{site}].upstreams[{upstream}]")
            }
            AsReference::PopulationIsp(i) => write!(f, "populations[{i}].isp"),
        }
    }
}

/// Why a topology description cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TopologyError {
    /// Two ASes with the same number.
    #[error("ases[{index}]: {asn} is listed twice")]
    DuplicateAs {
        /// Index of the second.
        index: usize,
        /// The number.
        asn: Asn,
    },
    /// An AS without points of presence.
    #[error("ases[{index}]: {asn} has no PoPs; allowed: at least one")]
    NoPops {
        /// Index of the AS.
        index: usize,
        /// The number.
        asn: Asn,
    },
    /// The origin AS is also listed among the other ASes.
    #[error("{asn} is the origin AS; its sites are given under sites, not as an AS")]
    OriginListed {
        /// The origin AS.
        asn: Asn,
    },
    /// A link, site or population names an AS that is not listed.
    #[error("{place}: unknown {asn}; allowed: an AS listed under ases")]
    UnknownAs {
        /// The unknown AS.
        asn: Asn,
        /// Where it was named.
        place: AsReference,
    },
    /// A link from an AS to itself.
    #[error("links[{index}]: {asn} cannot link to itself")]
    SelfLink {
        /// Index of the link.
        index: usize,
        /// The AS.
        asn: Asn,
    },
    /// A link names an interconnection PoP one of its ends does not have.
    #[error("links[{index}].at: {asn} has no PoP named `{pop}`")]
    UnknownPop {
        /// Index of the link.
        index: usize,
        /// The AS lacking it.
        asn: Asn,
        /// The PoP name.
        pop: String,
    },
    /// Providers form a cycle: each AS is a provider of the next and the
    /// last of the first, so no AS is at the top.
    #[error("a cycle of providers: {}", cycle_text(.cycle))]
    ProviderCycle {
        /// The ASes of the cycle, each the provider of the next.
        cycle: Vec<Asn>,
    },
    /// No sites at all.
    #[error("sites: there are no anycast sites; allowed: at least one")]
    NoSites,
    /// A site without any upstream cannot announce anything.
    #[error("sites[{index}] ({name}): the site has no upstream; allowed: at least one transit provider or peer")]
    SiteWithoutUpstream {
        /// Index of the site.
        index: usize,
        /// Its tag.
        name: String,
    },
    /// A site upstream given as a customer of the origin.
    #[error("sites[{site}].upstreams[{upstream}]: an upstream is a provider or a peer of the origin, not a customer")]
    CustomerUpstream {
        /// Index of the site.
        site: usize,
        /// Index of the upstream.
        upstream: usize,
    },
    /// A population with no access ISP.
    #[error("populations[{index}] ({name}): the population has no ISP; allowed: the AS number of an access ISP")]
    PopulationWithoutIsp {
        /// Index of the population.
        index: usize,
        /// Its name.
        name: String,
    },
    /// A weight that is negative or not finite.
    #[error("populations[{index}].weight: {weight} is not a finite number, zero or more")]
    BadWeight {
        /// Index of the population.
        index: usize,
        /// The weight.
        weight: f64,
    },
}

fn cycle_text(cycle: &[Asn]) -> String {
    let mut parts: Vec<String> = cycle.iter().map(|a| a.to_string()).collect();
    if let Some(first) = cycle.first() {
        parts.push(first.to_string());
    }
    parts.join(" -> ")
}

/// A router of the built topology.
#[derive(Debug, Clone, PartialEq)]
pub struct RouterInfo {
    /// Its AS.
    pub asn: Asn,
    /// Where it is.
    pub location: LatLon,
    /// PoP or site name.
    pub name: String,
    /// The site it serves, for routers of the origin AS.
    pub site: Option<usize>,
}

/// An eBGP neighbour of a router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Neighbour {
    /// The neighbour router.
    pub router: RouterId,
    /// What the neighbour is to us.
    pub rel: Relationship,
}

/// A population placed on its access router.
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    /// Name.
    pub name: String,
    /// Where the users are.
    pub location: LatLon,
    /// Share of users.
    pub weight: f64,
    /// The access ISP.
    pub isp: Asn,
    /// The ISP's router the users enter at.
    pub router: RouterId,
}

/// An anycast site placed on its router.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// Tag.
    pub name: String,
    /// Where it is.
    pub location: LatLon,
    /// Its router in the origin AS.
    pub router: RouterId,
}

/// A checked AS graph with sites and populations attached.
#[derive(Debug, Clone, PartialEq)]
pub struct Topology {
    routers: Vec<RouterInfo>,
    ebgp: Vec<Vec<Neighbour>>,
    members: BTreeMap<Asn, Vec<RouterId>>,
    as_names: BTreeMap<Asn, String>,
    origin: Asn,
    origins: BTreeSet<Asn>,
    sites: Vec<Site>,
    populations: Vec<Population>,
    igp: BTreeMap<Asn, IgpTable>,
    export: BTreeMap<Asn, ExportPolicy>,
    link_export: BTreeMap<(Asn, Asn), ExportPolicy>,
    no_export: BTreeSet<(Asn, Asn)>,
    sessions: BTreeMap<(Asn, Asn), SessionConfig>,
    /// Per-site overrides, by (site router, upstream router), ordered.
    router_sessions: BTreeMap<(RouterId, RouterId), SessionConfig>,
    /// Per-site export policies, (site router, upstream router).
    router_export: BTreeMap<(RouterId, RouterId), ExportPolicy>,
    /// Per-site NO_EXPORT tags, (site router, upstream router).
    router_no_export: BTreeSet<(RouterId, RouterId)>,
}

/// IGP costs between the routers of one AS: shortest paths over its links.
#[derive(Debug, Clone, PartialEq)]
struct IgpTable {
    /// Position of each router in `cost`.
    index: BTreeMap<RouterId, usize>,
    /// `cost[i][j]`: shortest-path metric from router i to router j.
    cost: Vec<Vec<u64>>,
}

impl IgpTable {
    /// Floyd-Warshall over `links` between `members` (named in `names`).
    fn build(
        asn: Asn,
        members: &[RouterId],
        names: &BTreeMap<&str, RouterId>,
        links: &[IgpLink],
    ) -> Result<IgpTable, OptionsError> {
        let index: BTreeMap<RouterId, usize> =
            members.iter().enumerate().map(|(i, &r)| (r, i)).collect();
        let n = members.len();
        let mut cost = vec![vec![u64::MAX; n]; n];
        for (i, row) in cost.iter_mut().enumerate() {
            row[i] = 0;
        }
        let find = |pop: &str| {
            names
                .get(pop)
                .map(|r| index[r])
                .ok_or_else(|| OptionsError::UnknownPop {
                    asn,
                    pop: pop.to_string(),
                })
        };
        for l in links {
            let (a, b) = (find(&l.a)?, find(&l.b)?);
            cost[a][b] = cost[a][b].min(l.metric);
            cost[b][a] = cost[b][a].min(l.metric);
        }
        for k in 0..n {
            for i in 0..n {
                for j in 0..n {
                    let via = cost[i][k].saturating_add(cost[k][j]);
                    if via < cost[i][j] {
                        cost[i][j] = via;
                    }
                }
            }
        }
        Ok(IgpTable { index, cost })
    }
}

impl Topology {
    /// Checks `spec` and builds the router graph.
    pub fn build(spec: &TopologySpec) -> Result<Topology, TopologyError> {
        let mut t = Topology {
            routers: Vec::new(),
            ebgp: Vec::new(),
            members: BTreeMap::new(),
            as_names: BTreeMap::new(),
            origin: spec.origin,
            origins: BTreeSet::from([spec.origin]),
            sites: Vec::new(),
            populations: Vec::new(),
            igp: BTreeMap::new(),
            export: BTreeMap::new(),
            link_export: BTreeMap::new(),
            no_export: BTreeSet::new(),
            sessions: BTreeMap::new(),
            router_sessions: BTreeMap::new(),
            router_export: BTreeMap::new(),
            router_no_export: BTreeSet::new(),
        };
        let pops_by_as = t.add_ases(spec)?;
        t.add_links(spec, &pops_by_as)?;
        t.add_sites(spec)?;
        t.add_populations(spec)?;
        Ok(t)
    }

    /// The transit and access ASes with their PoPs; returns each AS's PoPs
    /// by name.
    fn add_ases(
        &mut self,
        spec: &TopologySpec,
    ) -> Result<BTreeMap<Asn, BTreeMap<String, RouterId>>, TopologyError> {
        let mut pops_by_as: BTreeMap<Asn, BTreeMap<String, RouterId>> = BTreeMap::new();
        for (index, a) in spec.ases.iter().enumerate() {
            if a.asn == spec.origin {
                return Err(TopologyError::OriginListed { asn: a.asn });
            }
            if self.members.contains_key(&a.asn) {
                return Err(TopologyError::DuplicateAs { index, asn: a.asn });
            }
            if a.pops.is_empty() {
                return Err(TopologyError::NoPops { index, asn: a.asn });
            }
            self.as_names.insert(a.asn, a.name.clone());
            let mut by_name = BTreeMap::new();
            let mut ids = Vec::new();
            for p in &a.pops {
                let id = self.add_router(a.asn, p.location, p.name.clone(), None);
                by_name.entry(p.name.clone()).or_insert(id);
                ids.push(id);
            }
            self.members.insert(a.asn, ids);
            pops_by_as.insert(a.asn, by_name);
        }

        Ok(pops_by_as)
    }

    /// The links between ASes, each at the PoPs both share (or the nearest
    /// pair, or those it names); refuses a provider cycle.
    fn add_links(
        &mut self,
        spec: &TopologySpec,
        pops_by_as: &BTreeMap<Asn, BTreeMap<String, RouterId>>,
    ) -> Result<(), TopologyError> {
        for (index, l) in spec.links.iter().enumerate() {
            for (asn, place) in [
                (l.a, AsReference::LinkA(index)),
                (l.b, AsReference::LinkB(index)),
            ] {
                if !self.members.contains_key(&asn) {
                    return Err(TopologyError::UnknownAs { asn, place });
                }
            }
            if l.a == l.b {
                return Err(TopologyError::SelfLink { index, asn: l.a });
            }
            let rel_b_to_a = match l.kind {
                LinkKind::ProviderToCustomer => Relationship::Customer,
                LinkKind::Peer => Relationship::Peer,
            };
            let (pa, pb) = (&pops_by_as[&l.a], &pops_by_as[&l.b]);
            let mut pairs = Vec::new();
            if l.at.is_empty() {
                for (name, &ra) in pa {
                    if let Some(&rb) = pb.get(name) {
                        pairs.push((ra, rb));
                    }
                }
                if pairs.is_empty() {
                    pairs.push(self.nearest_pair(l.a, l.b));
                }
            } else {
                for name in &l.at {
                    let find = |asn: Asn, pops: &BTreeMap<String, RouterId>| {
                        pops.get(name)
                            .copied()
                            .ok_or_else(|| TopologyError::UnknownPop {
                                index,
                                asn,
                                pop: name.clone(),
                            })
                    };
                    pairs.push((find(l.a, pa)?, find(l.b, pb)?));
                }
            }
            for (ra, rb) in pairs {
                self.connect(ra, rb, rel_b_to_a);
            }
        }
        if let Some(cycle) = provider_cycle(&spec.links) {
            return Err(TopologyError::ProviderCycle { cycle });
        }

        Ok(())
    }

    /// The origin's sites, each connected to its upstreams.
    fn add_sites(&mut self, spec: &TopologySpec) -> Result<(), TopologyError> {
        if spec.sites.is_empty() {
            return Err(TopologyError::NoSites);
        }
        let mut origin_routers = Vec::new();
        for (index, s) in spec.sites.iter().enumerate() {
            if s.upstreams.is_empty() {
                return Err(TopologyError::SiteWithoutUpstream {
                    index,
                    name: s.name.clone(),
                });
            }
            let router = self.add_router(spec.origin, s.location, s.name.clone(), Some(index));
            origin_routers.push(router);
            for (u, up) in s.upstreams.iter().enumerate() {
                if up.rel == Relationship::Customer {
                    return Err(TopologyError::CustomerUpstream {
                        site: index,
                        upstream: u,
                    });
                }
                let Some(upstream_router) = self.nearest_router(up.asn, s.location) else {
                    return Err(TopologyError::UnknownAs {
                        asn: up.asn,
                        place: AsReference::SiteUpstream {
                            site: index,
                            upstream: u,
                        },
                    });
                };
                // `up.rel` is what the upstream is to us.
                self.connect(router, upstream_router, up.rel);
            }
            self.sites.push(Site {
                name: s.name.clone(),
                location: s.location,
                router,
            });
        }
        self.members.insert(spec.origin, origin_routers);
        self.as_names.insert(spec.origin, "origin".to_string());

        Ok(())
    }

    /// The users, each at its ISP's nearest PoP.
    fn add_populations(&mut self, spec: &TopologySpec) -> Result<(), TopologyError> {
        for (index, p) in spec.populations.iter().enumerate() {
            if !(p.weight.is_finite() && p.weight >= 0.0) {
                return Err(TopologyError::BadWeight {
                    index,
                    weight: p.weight,
                });
            }
            let Some(isp) = p.isp else {
                return Err(TopologyError::PopulationWithoutIsp {
                    index,
                    name: p.name.clone(),
                });
            };
            let router = self
                .nearest_router(isp, p.location)
                .filter(|_| isp != spec.origin)
                .ok_or(TopologyError::UnknownAs {
                    asn: isp,
                    place: AsReference::PopulationIsp(index),
                })?;
            self.populations.push(Population {
                name: p.name.clone(),
                location: p.location,
                weight: p.weight,
                isp,
                router,
            });
        }
        Ok(())
    }

    fn add_router(
        &mut self,
        asn: Asn,
        location: LatLon,
        name: String,
        site: Option<usize>,
    ) -> RouterId {
        let id = RouterId(self.routers.len() as u32);
        self.routers.push(RouterInfo {
            asn,
            location,
            name,
            site,
        });
        self.ebgp.push(Vec::new());
        id
    }

    /// Adds an eBGP session; `rel_b_to_a` is what `b` is to `a`.
    fn connect(&mut self, a: RouterId, b: RouterId, rel_b_to_a: Relationship) {
        if self.ebgp[a.index()].iter().any(|n| n.router == b) {
            return;
        }
        self.ebgp[a.index()].push(Neighbour {
            router: b,
            rel: rel_b_to_a,
        });
        self.ebgp[b.index()].push(Neighbour {
            router: a,
            rel: rel_b_to_a.reversed(),
        });
    }

    fn nearest_router(&self, asn: Asn, to: LatLon) -> Option<RouterId> {
        let members = self.members.get(&asn)?;
        members.iter().copied().min_by(|&x, &y| {
            let dx = self.routers[x.index()].location.distance_km(to);
            let dy = self.routers[y.index()].location.distance_km(to);
            dx.total_cmp(&dy).then(x.cmp(&y))
        })
    }

    fn nearest_pair(&self, a: Asn, b: Asn) -> (RouterId, RouterId) {
        let mut best = (RouterId(0), RouterId(0));
        let mut best_d = f64::INFINITY;
        for &ra in &self.members[&a] {
            for &rb in &self.members[&b] {
                let d = self.routers[ra.index()]
                    .location
                    .distance_km(self.routers[rb.index()].location);
                if d < best_d {
                    best_d = d;
                    best = (ra, rb);
                }
            }
        }
        best
    }

    /// Every router, indexed by [`RouterId`].
    pub fn routers(&self) -> &[RouterInfo] {
        &self.routers
    }

    /// The router `id`.
    pub fn router(&self, id: RouterId) -> &RouterInfo {
        &self.routers[id.index()]
    }

    /// The eBGP neighbours of `id`.
    pub fn ebgp_neighbours(&self, id: RouterId) -> &[Neighbour] {
        &self.ebgp[id.index()]
    }

    /// The iBGP peers of `id`: the other routers of its AS (none for an
    /// origin AS, whose sites are islands).
    pub fn ibgp_peers(&self, id: RouterId) -> impl Iterator<Item = RouterId> + '_ {
        let asn = self.routers[id.index()].asn;
        let members: &[RouterId] = if self.origins.contains(&asn) {
            &[]
        } else {
            self.members.get(&asn).map_or(&[], |m| m.as_slice())
        };
        members.iter().copied().filter(move |&r| r != id)
    }

    /// IGP cost between two routers of one AS: the shortest path over the
    /// AS's IGP links when they were given, else whole km of great circle.
    pub fn igp_cost(&self, a: RouterId, b: RouterId) -> u64 {
        if let Some(table) = self.igp.get(&self.routers[a.index()].asn) {
            if let (Some(&i), Some(&j)) = (table.index.get(&a), table.index.get(&b)) {
                return table.cost[i][j];
            }
        }
        self.routers[a.index()]
            .location
            .distance_km(self.routers[b.index()].location)
            .round() as u64
    }

    /// Whether the IGP of `asn` has metrics from its links (else its costs
    /// are great-circle km).
    pub fn has_igp_metrics(&self, asn: Asn) -> bool {
        self.igp.contains_key(&asn)
    }

    /// The origin AS (the first, when several announce the prefix).
    pub fn origin(&self) -> Asn {
        self.origin
    }

    /// Every AS that originates the prefix, in AS order.
    pub fn origins(&self) -> impl Iterator<Item = Asn> + '_ {
        self.origins.iter().copied()
    }

    /// Whether `asn` originates the prefix.
    pub fn is_origin(&self, asn: Asn) -> bool {
        self.origins.contains(&asn)
    }

    /// Whether `router` may export a route that entered its AS over
    /// `entered` (`None`: originated there) to its eBGP neighbour `to`.
    pub fn may_export(
        &self,
        router: RouterId,
        to: &Neighbour,
        entered: Option<Relationship>,
    ) -> bool {
        let (from_as, to_as) = (
            self.routers[router.index()].asn,
            self.routers[to.router.index()].asn,
        );
        let policy = self
            .router_export
            .get(&(router, to.router))
            .or_else(|| self.link_export.get(&(from_as, to_as)))
            .or_else(|| self.export.get(&from_as));
        match policy {
            Some(p) => p.allows(entered, to.rel, to_as),
            None => super::may_export(entered, to.rel),
        }
    }

    /// The export policy of `asn` (towards neighbours without their own).
    pub fn export_policy(&self, asn: Asn) -> &ExportPolicy {
        const GAO_REXFORD: ExportPolicy = ExportPolicy::GaoRexford;
        self.export.get(&asn).unwrap_or(&GAO_REXFORD)
    }

    /// The export policy of `from` towards its neighbour AS `to`: the
    /// link's own, else the AS's.
    pub fn export_policy_towards(&self, from: Asn, to: Asn) -> &ExportPolicy {
        self.link_export
            .get(&(from, to))
            .unwrap_or_else(|| self.export_policy(from))
    }

    /// The export policy of router `from` towards its eBGP neighbour
    /// `to`: a site's own towards that upstream, else the link's, else the
    /// AS's.
    pub fn export_policy_between(&self, from: RouterId, to: RouterId) -> &ExportPolicy {
        self.router_export.get(&(from, to)).unwrap_or_else(|| {
            self.export_policy_towards(self.routers[from.index()].asn, self.routers[to.index()].asn)
        })
    }

    /// Whether every AS exports by Gao-Rexford (no policy was given).
    pub fn export_policies_are_default(&self) -> bool {
        self.export.is_empty() && self.link_export.is_empty() && self.router_export.is_empty()
    }

    /// Whether routes `from` sends to `to` carry NO_EXPORT.
    pub fn tags_no_export(&self, from: Asn, to: Asn) -> bool {
        self.no_export.contains(&(from, to))
    }

    /// Whether routes router `from` sends to router `to` carry NO_EXPORT
    /// (set by a site on that upstream, or on the link between their ASes).
    pub fn tags_no_export_between(&self, from: RouterId, to: RouterId) -> bool {
        self.router_no_export.contains(&(from, to))
            || self.tags_no_export(self.routers[from.index()].asn, self.routers[to.index()].asn)
    }

    /// The settings of the session between routers `a` and `b`: a site's
    /// own with that upstream, else those of the two ASes.
    pub fn session(&self, a: RouterId, b: RouterId) -> SessionConfig {
        if let Some(s) = self.router_sessions.get(&(a.min(b), a.max(b))) {
            return *s;
        }
        let (x, y) = (self.routers[a.index()].asn, self.routers[b.index()].asn);
        self.sessions
            .get(&(x.min(y), x.max(y)))
            .copied()
            .unwrap_or_default()
    }

    /// Whether any session sets its own MRAI or withdrawal rate limiting.
    pub fn has_session_settings(&self) -> bool {
        !self.sessions.is_empty() || !self.router_sessions.is_empty()
    }

    /// Applies `options`: moves sites to their own origin ASes, installs
    /// IGP metrics, export policies, NO_EXPORT tags and session settings.
    /// Applied again, the new policies, tags and sessions replace the old
    /// ones; moved sites and installed IGPs stay.
    pub fn with_options(mut self, options: &TopologyOptions) -> Result<Topology, OptionsError> {
        for (&site, &asn) in &options.site_origins {
            self.move_site(site, asn)?;
        }
        for (&asn, links) in &options.igp {
            self.install_igp(asn, links)?;
        }
        let known = |asn: Asn, place: &'static str| {
            if self.members.contains_key(&asn) {
                Ok(())
            } else {
                Err(OptionsError::UnknownAs { asn, place })
            }
        };
        for &asn in options.export.keys() {
            known(asn, "export")?;
        }
        for &(a, b) in options.link_export.keys() {
            known(a, "link_export")?;
            known(b, "link_export")?;
        }
        for &(a, b) in &options.no_export {
            known(a, "no_export")?;
            known(b, "no_export")?;
        }
        for &(a, b) in options.sessions.keys() {
            known(a, "sessions")?;
            known(b, "sessions")?;
        }
        self.install_site_sessions(&options.site_sessions)?;
        self.export = options.export.clone();
        self.link_export = options.link_export.clone();
        self.no_export = options.no_export.clone();
        self.sessions = options
            .sessions
            .iter()
            .map(|(&(a, b), &s)| ((a.min(b), a.max(b)), s))
            .collect();
        Ok(self)
    }

    /// Installs each site's settings on its sessions with the upstream AS
    /// named, replacing those installed before.
    fn install_site_sessions(
        &mut self,
        site_sessions: &BTreeMap<(usize, Asn), SiteSession>,
    ) -> Result<(), OptionsError> {
        self.router_sessions.clear();
        self.router_export.clear();
        self.router_no_export.clear();
        for (&(site, asn), s) in site_sessions {
            let sites = self.sites.len();
            let router = self
                .sites
                .get(site)
                .ok_or(OptionsError::UnknownSite { site, sites })?
                .router;
            let upstreams: Vec<RouterId> = self.ebgp[router.index()]
                .iter()
                .map(|n| n.router)
                .filter(|n| self.routers[n.index()].asn == asn)
                .collect();
            if upstreams.is_empty() {
                return Err(OptionsError::NotAnUpstream { site, asn });
            }
            for up in upstreams {
                self.router_sessions
                    .insert((router.min(up), router.max(up)), s.session);
                if let Some(p) = &s.export {
                    self.router_export.insert((router, up), p.clone());
                }
                if s.no_export {
                    self.router_no_export.insert((router, up));
                }
            }
        }
        Ok(())
    }

    /// Makes `asn` the origin AS of site `site`.
    fn move_site(&mut self, site: usize, asn: Asn) -> Result<(), OptionsError> {
        let sites = self.sites.len();
        let router = self
            .sites
            .get(site)
            .ok_or(OptionsError::UnknownSite { site, sites })?
            .router;
        let old = self.routers[router.index()].asn;
        if asn == old {
            return Ok(());
        }
        if self.members.contains_key(&asn) && !self.origins.contains(&asn) {
            return Err(OptionsError::OriginIsTransit { site, asn });
        }
        if self.ebgp[router.index()]
            .iter()
            .any(|n| self.routers[n.router.index()].asn == asn)
        {
            return Err(OptionsError::OriginIsUpstream { site, asn });
        }
        self.routers[router.index()].asn = asn;
        if let Some(m) = self.members.get_mut(&old) {
            m.retain(|&r| r != router);
            if m.is_empty() {
                self.members.remove(&old);
                self.as_names.remove(&old);
            }
        }
        self.members.entry(asn).or_default().push(router);
        self.as_names
            .entry(asn)
            .or_insert_with(|| "origin".to_string());
        self.origins.insert(asn);
        Ok(())
    }

    /// Replaces the great-circle IGP of `asn` by shortest paths over `links`.
    fn install_igp(&mut self, asn: Asn, links: &[IgpLink]) -> Result<(), OptionsError> {
        let members = self
            .members
            .get(&asn)
            .ok_or(OptionsError::UnknownAs { asn, place: "igp" })?;
        let names: BTreeMap<&str, RouterId> = members
            .iter()
            .rev()
            .map(|&r| (self.routers[r.index()].name.as_str(), r))
            .collect();
        let table = IgpTable::build(asn, members, &names, links)?;
        if let Some(i) = table.cost[0].iter().position(|&c| c == u64::MAX) {
            return Err(OptionsError::Disconnected {
                asn,
                pop: self.routers[members[i].index()].name.clone(),
            });
        }
        self.igp.insert(asn, table);
        Ok(())
    }

    /// The anycast sites.
    pub fn sites(&self) -> &[Site] {
        &self.sites
    }

    /// The populations.
    pub fn populations(&self) -> &[Population] {
        &self.populations
    }

    /// The display name of `asn`.
    pub fn as_name(&self, asn: Asn) -> Option<&str> {
        self.as_names.get(&asn).map(String::as_str)
    }

    /// Number of ASes, the origin included.
    pub fn as_count(&self) -> usize {
        self.members.len()
    }

    /// Number of eBGP sessions.
    pub fn ebgp_session_count(&self) -> usize {
        self.ebgp.iter().map(Vec::len).sum::<usize>() / 2
    }
}

/// A cycle in the provider -> customer graph, if any (depth-first search,
/// deterministic in AS order).
fn provider_cycle(links: &[LinkSpec]) -> Option<Vec<Asn>> {
    let mut customers: BTreeMap<Asn, BTreeSet<Asn>> = BTreeMap::new();
    for l in links
        .iter()
        .filter(|l| l.kind == LinkKind::ProviderToCustomer)
    {
        customers.entry(l.a).or_default().insert(l.b);
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    let mut marks: BTreeMap<Asn, Mark> = BTreeMap::new();
    let starts: Vec<Asn> = customers.keys().copied().collect();
    for start in starts {
        if marks.contains_key(&start) {
            continue;
        }
        // Iterative DFS: stack of (node, its customers, next index).
        let mut path: Vec<Asn> = vec![start];
        let mut stack: Vec<(Asn, Vec<Asn>, usize)> = vec![(
            start,
            customers
                .get(&start)
                .map(|c| c.iter().copied().collect())
                .unwrap_or_default(),
            0,
        )];
        marks.insert(start, Mark::Open);
        while let Some((node, next, i)) = stack.last_mut() {
            if *i < next.len() {
                let child = next[*i];
                *i += 1;
                match marks.get(&child) {
                    Some(Mark::Open) => {
                        let from = path.iter().position(|&a| a == child).unwrap_or(0);
                        return Some(path[from..].to_vec());
                    }
                    Some(Mark::Done) => {}
                    None => {
                        marks.insert(child, Mark::Open);
                        path.push(child);
                        let grand = customers
                            .get(&child)
                            .map(|c| c.iter().copied().collect())
                            .unwrap_or_default();
                        stack.push((child, grand, 0));
                    }
                }
            } else {
                marks.insert(*node, Mark::Done);
                path.pop();
                stack.pop();
            }
        }
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn ll(lat: f64, lon: f64) -> LatLon {
        LatLon::new(lat, lon).unwrap()
    }

    pub(crate) fn as_spec(asn: u32, pops: &[(&str, f64, f64)]) -> AsSpec {
        AsSpec {
            asn: Asn(asn),
            name: format!("as{asn}"),
            pops: pops
                .iter()
                .map(|&(n, lat, lon)| PopSpec {
                    name: n.to_string(),
                    location: ll(lat, lon),
                })
                .collect(),
        }
    }

    pub(crate) fn link(a: u32, b: u32, kind: LinkKind) -> LinkSpec {
        LinkSpec {
            a: Asn(a),
            b: Asn(b),
            kind,
            at: Vec::new(),
        }
    }

    fn small() -> TopologySpec {
        TopologySpec {
            ases: vec![
                as_spec(10, &[("x", 0.0, 0.0)]),
                as_spec(20, &[("x", 0.0, 0.0)]),
            ],
            links: vec![link(10, 20, LinkKind::ProviderToCustomer)],
            origin: Asn(1),
            sites: vec![SiteSpec {
                name: "s".into(),
                location: ll(0.0, 0.0),
                upstreams: vec![UpstreamSpec {
                    asn: Asn(10),
                    rel: Relationship::Provider,
                }],
            }],
            populations: vec![PopulationSpec {
                name: "p".into(),
                location: ll(0.0, 0.0),
                weight: 1.0,
                isp: Some(Asn(20)),
            }],
        }
    }

    #[test]
    fn a_small_topology_builds() {
        let t = Topology::build(&small()).unwrap();
        assert_eq!(t.routers().len(), 3);
        assert_eq!(t.as_count(), 3);
        assert_eq!(t.ebgp_session_count(), 2);
        let site = t.sites()[0].router;
        assert_eq!(
            t.ebgp_neighbours(site),
            &[Neighbour {
                router: RouterId(0),
                rel: Relationship::Provider
            }]
        );
        assert_eq!(t.populations()[0].router, RouterId(1));
    }

    #[test]
    fn unknown_as_in_a_link_is_reported() {
        let mut s = small();
        s.links.push(link(10, 99, LinkKind::Peer));
        let err = Topology::build(&s).unwrap_err();
        assert_eq!(
            err,
            TopologyError::UnknownAs {
                asn: Asn(99),
                place: AsReference::LinkB(1)
            }
        );
        assert_eq!(
            err.to_string(),
            "links[1].b: unknown AS99; allowed: an AS listed under ases"
        );
    }

    #[test]
    fn a_cycle_of_providers_is_reported() {
        let mut s = small();
        s.ases.push(as_spec(30, &[("x", 0.0, 0.0)]));
        s.links.push(link(20, 30, LinkKind::ProviderToCustomer));
        s.links.push(link(30, 10, LinkKind::ProviderToCustomer));
        let err = Topology::build(&s).unwrap_err();
        assert_eq!(
            err,
            TopologyError::ProviderCycle {
                cycle: vec![Asn(10), Asn(20), Asn(30)]
            }
        );
        assert_eq!(
            err.to_string(),
            "a cycle of providers: AS10 -> AS20 -> AS30 -> AS10"
        );
    }

    #[test]
    fn a_site_with_no_upstream_is_reported() {
        let mut s = small();
        s.sites[0].upstreams.clear();
        assert_eq!(
            Topology::build(&s).unwrap_err(),
            TopologyError::SiteWithoutUpstream {
                index: 0,
                name: "s".into()
            }
        );
    }

    #[test]
    fn a_population_with_no_isp_is_reported() {
        let mut s = small();
        s.populations[0].isp = None;
        assert!(matches!(
            Topology::build(&s).unwrap_err(),
            TopologyError::PopulationWithoutIsp { index: 0, .. }
        ));
        s.populations[0].isp = Some(Asn(77));
        assert_eq!(
            Topology::build(&s).unwrap_err(),
            TopologyError::UnknownAs {
                asn: Asn(77),
                place: AsReference::PopulationIsp(0)
            }
        );
    }

    #[test]
    fn other_mistakes_are_reported() {
        let mut s = small();
        s.ases.push(as_spec(10, &[("y", 1.0, 1.0)]));
        assert!(matches!(
            Topology::build(&s),
            Err(TopologyError::DuplicateAs { index: 2, .. })
        ));
        let mut s = small();
        s.links[0].at = vec!["nowhere".into()];
        assert!(matches!(
            Topology::build(&s),
            Err(TopologyError::UnknownPop { index: 0, .. })
        ));
        let mut s = small();
        s.links.push(link(20, 20, LinkKind::Peer));
        assert!(matches!(
            Topology::build(&s),
            Err(TopologyError::SelfLink { index: 1, .. })
        ));
        let mut s = small();
        s.populations[0].weight = -1.0;
        assert!(matches!(
            Topology::build(&s),
            Err(TopologyError::BadWeight { .. })
        ));
        let mut s = small();
        s.sites.clear();
        assert_eq!(Topology::build(&s).unwrap_err(), TopologyError::NoSites);
    }

    #[test]
    fn ases_without_a_shared_pop_meet_at_their_nearest_pops() {
        let mut s = small();
        s.ases[1] = as_spec(20, &[("far", 50.0, 50.0), ("near", 1.0, 1.0)]);
        s.ases[0] = as_spec(10, &[("a", 0.0, 0.0), ("b", -40.0, 100.0)]);
        let t = Topology::build(&s).unwrap();
        // Router 0 is AS10 "a", router 3 is AS20 "near".
        assert!(t
            .ebgp_neighbours(RouterId(0))
            .iter()
            .any(|n| n.router == RouterId(3)));
        assert_eq!(t.ebgp_neighbours(RouterId(1)).len(), 0);
    }
}
