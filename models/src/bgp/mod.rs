//! BGP at the level that decides anycast catchments: an AS graph of routers
//! with customer, provider and peer relationships (Gao-Rexford export
//! rules), the best-path decision process in the standard order, a sans-IO
//! router network that propagates announcements and withdrawals (with
//! MRAI timers requested from the caller), static catchments, and a
//! synthetic topology generator.
//!
//! Each AS is a set of routers (points of presence) in a full iBGP mesh
//! whose IGP cost is the great-circle distance between them, so that hot-
//! potato routing sends a global transit provider's users to the site
//! nearest to where they entered its network.

pub mod catchment;
pub mod decision;
pub mod generate;
pub mod network;
pub mod policy;
pub mod timeline;
pub mod topology;

use std::fmt;

/// An autonomous system number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Asn(pub u32);

impl fmt::Display for Asn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AS{}", self.0)
    }
}

/// A router, by its index in the [`topology::Topology`]. The index is also
/// its BGP router id for the final tie-break (lowest wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RouterId(pub u32);

impl RouterId {
    /// The index into the topology's routers.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What a neighbour is to us (Gao & Rexford, "Stable Internet routing
/// without global coordination", IEEE/ACM ToN 9(6), 2001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Relationship {
    /// The neighbour pays us for transit.
    Customer,
    /// The neighbour exchanges its and its customers' routes with us for free.
    Peer,
    /// We pay the neighbour for transit.
    Provider,
}

impl Relationship {
    /// The same link seen from the other side.
    pub fn reversed(self) -> Relationship {
        match self {
            Relationship::Customer => Relationship::Provider,
            Relationship::Peer => Relationship::Peer,
            Relationship::Provider => Relationship::Customer,
        }
    }

    /// LOCAL_PREF given to routes learned over a link of this kind. The
    /// order customer > peer > provider is the Gao-Rexford guideline; the
    /// values follow a large transit network's published policy: customer
    /// routes 130, a community to go "below peers" sets 70 (Cogent AS174
    /// customer guide, BGP communities), so peers sit at 100 and routes from
    /// one's own providers below them at 80.
    pub fn default_local_pref(self) -> u32 {
        match self {
            Relationship::Customer => 130,
            Relationship::Peer => 100,
            Relationship::Provider => 80,
        }
    }
}

impl fmt::Display for Relationship {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Relationship::Customer => "customer",
            Relationship::Peer => "peer",
            Relationship::Provider => "provider",
        })
    }
}

/// The ORIGIN attribute (RFC 4271 section 5.1.1); lower is preferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// Originated inside the AS (e.g. a `network` statement).
    Igp,
    /// Learned by the historic EGP.
    Egp,
    /// Redistributed from elsewhere.
    Incomplete,
}

/// How a router learned a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Learned {
    /// Originated by this router (an anycast site announcing).
    Local,
    /// From an eBGP neighbour router, whose relationship to us is `rel`.
    Ebgp {
        /// The neighbour router.
        from: RouterId,
        /// What the neighbour is to us.
        rel: Relationship,
    },
    /// From an iBGP peer in our AS, which learned it from outside over a
    /// link of kind `rel` (kept for the export rules).
    Ibgp {
        /// The iBGP peer (the border router, in a full mesh).
        from: RouterId,
        /// The relationship of the link at which the route entered our AS.
        rel: Relationship,
    },
}

/// One route to the anycast prefix as a router holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// AS_PATH, nearest AS first, prepends included. Empty for a route the
    /// router originated itself.
    pub as_path: Vec<Asn>,
    /// ORIGIN attribute.
    pub origin: Origin,
    /// MULTI_EXIT_DISC, lower preferred; only meaningful between routes
    /// from the same neighbour AS and never passed beyond the next AS.
    pub med: u32,
    /// LOCAL_PREF, higher preferred; set on entry to an AS.
    pub local_pref: u32,
    /// LOCAL_PREF the first upstream should set instead of its default, as
    /// a community asks (e.g. Cogent's 174:70); cleared after that hop.
    pub requested_local_pref: Option<u32>,
    /// Index of the anycast site that originated the route.
    pub site: usize,
    /// How this router learned the route.
    pub learned: Learned,
    /// Extra copies of the origin AS to add on export (only on a route the
    /// router originated).
    pub prepends: u8,
    /// Carries the NO_EXPORT community (RFC 1997): not passed to another AS.
    pub no_export: bool,
}

impl Route {
    /// A route originated by an anycast site: empty path, ORIGIN IGP.
    pub fn originate(
        site: usize,
        prepends: u8,
        med: u32,
        requested_local_pref: Option<u32>,
    ) -> Route {
        Route {
            as_path: Vec::new(),
            origin: Origin::Igp,
            med,
            local_pref: Relationship::Customer.default_local_pref(),
            requested_local_pref,
            site,
            learned: Learned::Local,
            prepends,
            no_export: false,
        }
    }

    /// The AS the route was learned from (the first AS of the path), or
    /// `None` for a route originated here.
    pub fn neighbour_as(&self) -> Option<Asn> {
        self.as_path.first().copied()
    }

    /// Whether the route was learned over eBGP (or originated here).
    pub fn is_external(&self) -> bool {
        !matches!(self.learned, Learned::Ibgp { .. })
    }

    /// The relationship of the link where the route entered this AS, or
    /// `None` if originated here; drives the Gao-Rexford export rule.
    pub fn entered_over(&self) -> Option<Relationship> {
        match self.learned {
            Learned::Local => None,
            Learned::Ebgp { rel, .. } | Learned::Ibgp { rel, .. } => Some(rel),
        }
    }

    /// The router this route was received from, if any.
    pub fn from_router(&self) -> Option<RouterId> {
        match self.learned {
            Learned::Local => None,
            Learned::Ebgp { from, .. } | Learned::Ibgp { from, .. } => Some(from),
        }
    }
}

/// Gao-Rexford export rule: a route that entered over `entered` (or was
/// originated here, `None`) may be exported to a neighbour that is `to`.
/// Routes from customers and our own go to everyone; routes from peers and
/// providers go only to customers.
pub fn may_export(entered: Option<Relationship>, to: Relationship) -> bool {
    match entered {
        None | Some(Relationship::Customer) => true,
        Some(Relationship::Peer) | Some(Relationship::Provider) => to == Relationship::Customer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gao_rexford_export_rules() {
        use Relationship::*;
        for to in [Customer, Peer, Provider] {
            assert!(may_export(None, to));
            assert!(may_export(Some(Customer), to));
        }
        for from in [Peer, Provider] {
            assert!(may_export(Some(from), Customer));
            assert!(!may_export(Some(from), Peer));
            assert!(!may_export(Some(from), Provider));
        }
    }

    #[test]
    fn default_local_pref_orders_customer_peer_provider() {
        use Relationship::*;
        assert!(Customer.default_local_pref() > Peer.default_local_pref());
        assert!(Peer.default_local_pref() > Provider.default_local_pref());
        assert_eq!(Customer.reversed(), Provider);
        assert_eq!(Peer.reversed(), Peer);
    }
}
