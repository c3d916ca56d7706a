//! A synthetic AS topology shaped like the Internet's hierarchy, for users
//! who have no topology of their own.
//!
//! Three tiers (the shape of Subramanian et al., "Characterizing the
//! Internet hierarchy from multiple vantage points", INFOCOM 2002):
//! global tier-1 transit networks in a full peering mesh; regional tier-2
//! networks buying transit from two tier-1s and peering with some of their
//! regional neighbours; access ISPs in each city buying from one or two
//! tier-2s of their region. Randomness comes only from the caller's `draw`
//! (uniform in [0, 1)), so the same draws give the same topology.

use std::collections::BTreeMap;

use super::topology::{AsSpec, LinkKind, LinkSpec, PopSpec, UpstreamSpec};
use super::{Asn, Relationship};
use crate::geo::LatLon;

/// Sizes of a synthetic topology.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeneratorParams {
    /// Global transit networks.
    pub tier1: usize,
    /// Regional transit networks per region (three regions: Americas,
    /// Europe-Middle East-Africa, Asia-Pacific).
    pub tier2_per_region: usize,
    /// Access ISPs per city.
    pub access_per_city: usize,
    /// Chance that a tier-1 has a PoP in a given city.
    pub tier1_presence: f64,
    /// Chance that two tier-2s of a region peer.
    pub tier2_peering: f64,
}

impl Default for GeneratorParams {
    /// About 20 tier-1 networks exist worldwide and a few hundred regional
    /// transits; the defaults keep the tiers' proportions at a size that
    /// runs in milliseconds: 6 tier-1, 6 tier-2 per region, 2 access ISPs
    /// per city.
    fn default() -> Self {
        GeneratorParams {
            tier1: 6,
            tier2_per_region: 6,
            access_per_city: 2,
            tier1_presence: 0.6,
            tier2_peering: 0.3,
        }
    }
}

/// A generated topology.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// The ASes.
    pub ases: Vec<AsSpec>,
    /// Their links.
    pub links: Vec<LinkSpec>,
    /// Access ISPs of each city, by city name.
    pub access: BTreeMap<String, Vec<Asn>>,
    /// Tier-1 ASes.
    pub tier1: Vec<Asn>,
    /// Tier-2 ASes with their region (0 Americas, 1 EMEA, 2 Asia-Pacific).
    pub tier2: Vec<(Asn, usize)>,
}

/// The region of a place: 0 Americas, 1 Europe-Middle East-Africa,
/// 2 Asia-Pacific (split at 30 W and 60 E).
pub fn region(p: LatLon) -> usize {
    if p.lon_deg() < -30.0 {
        0
    } else if p.lon_deg() < 60.0 {
        1
    } else {
        2
    }
}

/// Access ISPs within this distance of a site peer with it at the local
/// exchange: 50 km keeps them in the same metropolitan area.
pub const LOCAL_IX_KM: f64 = 50.0;

fn pick(n: usize, draw: &mut dyn FnMut() -> f64) -> usize {
    ((draw().clamp(0.0, 1.0) * n as f64) as usize).min(n.saturating_sub(1))
}

/// Generates a topology over `cities` (name, location).
pub fn generate(
    params: &GeneratorParams,
    cities: &[(String, LatLon)],
    draw: &mut dyn FnMut() -> f64,
) -> Generated {
    let mut g = Generated {
        ases: Vec::new(),
        links: Vec::new(),
        access: BTreeMap::new(),
        tier1: Vec::new(),
        tier2: Vec::new(),
    };
    let pop = |(name, loc): &(String, LatLon)| PopSpec {
        name: name.clone(),
        location: *loc,
    };
    let by_region: Vec<Vec<&(String, LatLon)>> = (0..3)
        .map(|r| cities.iter().filter(|c| region(c.1) == r).collect())
        .collect();

    for i in 0..params.tier1 {
        let asn = Asn(100 + i as u32);
        let mut pops: Vec<PopSpec> = Vec::new();
        for in_region in by_region.iter().filter(|c| !c.is_empty()) {
            let mut chosen: Vec<PopSpec> = in_region
                .iter()
                .filter(|_| draw() < params.tier1_presence)
                .map(|c| pop(c))
                .collect();
            if chosen.is_empty() {
                chosen.push(pop(in_region[pick(in_region.len(), draw)]));
            }
            pops.extend(chosen);
        }
        g.ases.push(AsSpec {
            asn,
            name: format!("tier1-{i}"),
            pops,
        });
        for &other in &g.tier1 {
            g.links.push(LinkSpec {
                a: other,
                b: asn,
                kind: LinkKind::Peer,
                at: Vec::new(),
            });
        }
        g.tier1.push(asn);
    }

    let mut next = 1000u32;
    for (r, in_region) in by_region.iter().enumerate() {
        if in_region.is_empty() {
            continue;
        }
        let mut regional: Vec<Asn> = Vec::new();
        for i in 0..params.tier2_per_region {
            let asn = Asn(next);
            next += 1;
            let mut pops: Vec<PopSpec> = in_region
                .iter()
                .filter(|_| draw() < 0.5)
                .map(|c| pop(c))
                .collect();
            if pops.is_empty() {
                pops.push(pop(in_region[pick(in_region.len(), draw)]));
            }
            g.ases.push(AsSpec {
                asn,
                name: format!("tier2-r{r}-{i}"),
                pops,
            });
            if !g.tier1.is_empty() {
                let first = pick(g.tier1.len(), draw);
                let mut providers = vec![g.tier1[first]];
                if g.tier1.len() > 1 {
                    let second = (first + 1 + pick(g.tier1.len() - 1, draw)) % g.tier1.len();
                    providers.push(g.tier1[second]);
                }
                for p in providers {
                    g.links.push(LinkSpec {
                        a: p,
                        b: asn,
                        kind: LinkKind::ProviderToCustomer,
                        at: Vec::new(),
                    });
                }
            }
            for &other in &regional {
                if draw() < params.tier2_peering {
                    g.links.push(LinkSpec {
                        a: other,
                        b: asn,
                        kind: LinkKind::Peer,
                        at: Vec::new(),
                    });
                }
            }
            regional.push(asn);
            g.tier2.push((asn, r));
        }
        for city in in_region {
            for i in 0..params.access_per_city {
                let asn = Asn(next);
                next += 1;
                g.ases.push(AsSpec {
                    asn,
                    name: format!("access-{}-{i}", city.0),
                    pops: vec![pop(city)],
                });
                let upstreams: &[Asn] = if regional.is_empty() {
                    &g.tier1
                } else {
                    &regional
                };
                if !upstreams.is_empty() {
                    let first = pick(upstreams.len(), draw);
                    let mut providers = vec![upstreams[first]];
                    if upstreams.len() > 1 && draw() < 0.5 {
                        providers.push(upstreams[(first + 1) % upstreams.len()]);
                    }
                    for p in providers {
                        g.links.push(LinkSpec {
                            a: p,
                            b: asn,
                            kind: LinkKind::ProviderToCustomer,
                            at: Vec::new(),
                        });
                    }
                }
                g.access.entry(city.0.clone()).or_default().push(asn);
            }
        }
    }
    g
}

impl Generated {
    /// Upstreams for a site at `location`: the first two tier-1s (the same
    /// for every site, as an edge network buys transit from the same global
    /// carriers everywhere so that their hot-potato routing spreads users
    /// over its sites) and the tier-2 of the site's region with the PoP
    /// nearest the site, as transit providers; and the access ISPs of the site's city as peers (the
    /// local Internet exchange, where an edge network peers with the
    /// eyeball networks around it).
    pub fn site_upstreams(&self, location: LatLon) -> Vec<UpstreamSpec> {
        let mut ups: Vec<UpstreamSpec> = self
            .tier1
            .iter()
            .take(2)
            .map(|&asn| UpstreamSpec {
                asn,
                rel: Relationship::Provider,
            })
            .collect();
        let r = region(location);
        let nearest = self
            .tier2
            .iter()
            .filter(|(_, reg)| *reg == r)
            .filter_map(|(asn, _)| {
                let spec = self.ases.iter().find(|a| a.asn == *asn)?;
                let d = spec
                    .pops
                    .iter()
                    .map(|p| p.location.distance_km(location))
                    .fold(f64::INFINITY, f64::min);
                Some((d, *asn))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        if let Some((_, asn)) = nearest {
            ups.push(UpstreamSpec {
                asn,
                rel: Relationship::Provider,
            });
        }
        let access: std::collections::BTreeSet<Asn> =
            self.access.values().flatten().copied().collect();
        for a in self.ases.iter().filter(|a| access.contains(&a.asn)) {
            if a.pops
                .iter()
                .any(|p| p.location.distance_km(location) <= LOCAL_IX_KM)
            {
                ups.push(UpstreamSpec {
                    asn: a.asn,
                    rel: Relationship::Peer,
                });
            }
        }
        ups
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::topology::{PopulationSpec, SiteSpec, Topology, TopologySpec};
    use crate::geo::catalog::CITIES;

    /// A small linear congruential generator, only for tests.
    fn lcg(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed;
        move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    fn cities() -> Vec<(String, LatLon)> {
        CITIES
            .iter()
            .map(|c| (c.code.to_string(), c.location()))
            .collect()
    }

    #[test]
    fn same_draws_same_topology_and_it_builds() {
        let p = GeneratorParams::default();
        let a = generate(&p, &cities(), &mut lcg(7));
        let b = generate(&p, &cities(), &mut lcg(7));
        assert_eq!(a, b);
        let c = generate(&p, &cities(), &mut lcg(8));
        assert_ne!(a, c);
        assert_eq!(a.ases.len(), 6 + 18 + 2 * CITIES.len());
        let nyc = CITIES[0].location();
        let spec = TopologySpec {
            ases: a.ases.clone(),
            links: a.links.clone(),
            origin: Asn(64500),
            sites: vec![SiteSpec {
                name: "ny1".into(),
                location: nyc,
                upstreams: a.site_upstreams(nyc),
            }],
            populations: vec![PopulationSpec {
                name: "nyc".into(),
                location: nyc,
                weight: 1.0,
                isp: Some(a.access["nyc"][0]),
            }],
        };
        let t = Topology::build(&spec).unwrap();
        assert_eq!(t.sites().len(), 1);
        // Two tier-1s, a tier-2 and the two access ISPs of New York as peers.
        assert_eq!(spec.sites[0].upstreams.len(), 5);
        assert_eq!(spec.sites[0].upstreams[3].rel, Relationship::Peer);
    }

    #[test]
    fn every_access_isp_reaches_a_single_site() {
        use crate::bgp::catchment::{compute, Announcement};
        use crate::bgp::decision::DecisionConfig;
        use crate::geo::LatencyModel;
        let g = generate(&GeneratorParams::default(), &cities(), &mut lcg(3));
        let syd = CITIES.iter().find(|c| c.code == "syd").unwrap().location();
        let populations = g
            .access
            .iter()
            .flat_map(|(city, isps)| {
                let loc = CITIES.iter().find(|c| c.code == city).unwrap().location();
                isps.iter().map(move |&isp| PopulationSpec {
                    name: city.clone(),
                    location: loc,
                    weight: 1.0,
                    isp: Some(isp),
                })
            })
            .collect();
        let t = Topology::build(&TopologySpec {
            ases: g.ases.clone(),
            links: g.links.clone(),
            origin: Asn(64500),
            sites: vec![SiteSpec {
                name: "syd1".into(),
                location: syd,
                upstreams: g.site_upstreams(syd),
            }],
            populations,
        })
        .unwrap();
        let c = compute(
            &t,
            &[Announcement::plain(0)],
            &LatencyModel::default(),
            DecisionConfig::default(),
        )
        .unwrap();
        // Valley-free export from a site buying transit reaches everyone.
        assert!(c.rows.iter().all(|r| r.site == Some(0)));
    }
}
