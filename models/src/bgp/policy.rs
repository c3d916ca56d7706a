//! What operators configure beyond the AS graph: more origin ASes for the
//! same prefix, export policies and the NO_EXPORT community, per-session
//! timers and detection, and IGP metrics. Given to
//! [`Topology::with_options`](super::topology::Topology::with_options);
//! everything defaults to the plain model (one origin, Gao-Rexford export,
//! the network's MRAI, great-circle IGP costs).

use std::collections::{BTreeMap, BTreeSet};

use super::{Asn, Relationship};
use crate::failure::Detection;
use crate::SimDuration;

/// What an AS exports to its eBGP neighbours.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ExportPolicy {
    /// Gao & Rexford: routes from customers and one's own go to everyone,
    /// routes from peers and providers only to customers.
    #[default]
    GaoRexford,
    /// Every route to every neighbour: a policy-free mesh (the textbook
    /// convergence experiments) or a transparent IXP member.
    All,
    /// What Gao-Rexford allows, but only to these neighbour ASes: a
    /// selective announcement (e.g. an origin announcing to one upstream).
    ToSet(BTreeSet<Asn>),
    /// An IXP route server (RFC 7947): every route to every member, with
    /// the AS_PATH and MED passed on untouched (the server does not add
    /// its own AS, section 2.2.2).
    RouteServer,
}

impl ExportPolicy {
    /// Whether a route that entered over `entered` (`None`: originated
    /// here) may go to neighbour AS `to_as`, which is `to` to us.
    pub fn allows(&self, entered: Option<Relationship>, to: Relationship, to_as: Asn) -> bool {
        match self {
            ExportPolicy::GaoRexford => super::may_export(entered, to),
            ExportPolicy::All | ExportPolicy::RouteServer => true,
            ExportPolicy::ToSet(set) => set.contains(&to_as) && super::may_export(entered, to),
        }
    }
}

/// Settings of the BGP sessions between two ASes (both directions; an AS
/// paired with itself means its iBGP mesh).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SessionConfig {
    /// MinRouteAdvertisementInterval on these sessions; `None` keeps the
    /// network's eBGP or iBGP MRAI.
    pub mrai: Option<SimDuration>,
    /// Withdrawals wait for MRAI like advertisements (RFC 4271 section
    /// 9.2.1.1 applies the interval to "an advertisement and/or withdrawal";
    /// most implementations send withdrawals at once, the default here,
    /// Labovitz et al.'s "WRATE" option when on).
    pub rate_limit_withdrawals: bool,
    /// How each side notices the other died (hold timer with its hold and
    /// keepalive, BFD, link down); `None` keeps the experiment's default.
    pub detection: Option<Detection>,
    /// Sender-side loop detection: a route whose AS_PATH holds the
    /// neighbour's AS is not sent (a withdrawal goes instead), rather than
    /// sent and dropped by the receiver (Griffin and Premore, "An
    /// experimental analysis of BGP convergence time", ICNP 2001).
    pub sender_side_loop_detection: bool,
    /// How long each UPDATE waits before it is sent over the session
    /// (Junos `out-delay`, which holds routes back from the neighbour): the
    /// caller adds it to the link's delay.
    pub out_delay: SimDuration,
}

/// What one site configures on its sessions with one upstream AS, over
/// the settings of its origin AS's sessions with that AS.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SiteSession {
    /// Timers and detection of these sessions.
    pub session: SessionConfig,
    /// What the site exports to the upstream (its own route, so
    /// `ToSet(empty)` keeps it from this upstream: a selective
    /// announcement); `None` keeps the origin AS's policy.
    pub export: Option<ExportPolicy>,
    /// The site tags its route to the upstream NO_EXPORT (RFC 1997).
    pub no_export: bool,
}

/// An IGP link between two PoPs of one AS and its metric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgpLink {
    /// PoP name at one end.
    pub a: String,
    /// PoP name at the other end.
    pub b: String,
    /// IGP metric (any unit, lower preferred).
    pub metric: u64,
}

/// Everything [`Topology::with_options`](super::topology::Topology::with_options)
/// adds to a built topology.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TopologyOptions {
    /// Sites announced by an origin AS other than the topology's origin
    /// (site index -> its AS): a partner or second ASN announcing the same
    /// prefix. Each origin AS's sites are islands, like the main origin's.
    pub site_origins: BTreeMap<usize, Asn>,
    /// The IGP of an AS as links with metrics; the IGP cost between two of
    /// its PoPs becomes the shortest path over them instead of the
    /// great-circle distance.
    pub igp: BTreeMap<Asn, Vec<IgpLink>>,
    /// Export policy per AS (Gao-Rexford when absent).
    pub export: BTreeMap<Asn, ExportPolicy>,
    /// Export policy of one AS towards one neighbour AS, `(from, to)`,
    /// overriding the AS's own.
    pub link_export: BTreeMap<(Asn, Asn), ExportPolicy>,
    /// Links `(from, to)` over which `from` tags its routes NO_EXPORT (RFC
    /// 1997): `to` uses them but passes them to no other AS.
    pub no_export: BTreeSet<(Asn, Asn)>,
    /// Session settings per pair of ASes (in either order).
    pub sessions: BTreeMap<(Asn, Asn), SessionConfig>,
    /// Settings of one site's sessions with one upstream AS, `(site,
    /// upstream)`, over `sessions`, `link_export` and `no_export`.
    pub site_sessions: BTreeMap<(usize, Asn), SiteSession>,
}

/// Why options cannot be applied to a topology.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    /// A site index beyond the sites.
    #[error("site_origins: there is no site {site}; allowed: 0 to {}", .sites.saturating_sub(1))]
    UnknownSite {
        /// The index given.
        site: usize,
        /// Number of sites.
        sites: usize,
    },
    /// An extra origin AS that is also a transit or access AS.
    #[error("site_origins[{site}]: {asn} is listed under ases; an origin AS has only sites")]
    OriginIsTransit {
        /// The site.
        site: usize,
        /// The AS.
        asn: Asn,
    },
    /// A site's extra origin AS is also its upstream.
    #[error("site_origins[{site}]: {asn} is also an upstream of the site")]
    OriginIsUpstream {
        /// The site.
        site: usize,
        /// The AS.
        asn: Asn,
    },
    /// An AS not in the topology.
    #[error("{place}: unknown {asn}; allowed: an AS of the topology")]
    UnknownAs {
        /// The AS.
        asn: Asn,
        /// Which option named it.
        place: &'static str,
    },
    /// A site's sessions name an AS that is not its upstream or peer.
    #[error("site_sessions[{site}]: {asn} is not an upstream or peer of the site")]
    NotAnUpstream {
        /// The site.
        site: usize,
        /// The AS.
        asn: Asn,
    },
    /// An IGP link names a PoP the AS does not have.
    #[error("igp[{asn}]: no PoP named `{pop}`")]
    UnknownPop {
        /// The AS.
        asn: Asn,
        /// The name.
        pop: String,
    },
    /// The IGP links leave some PoPs unreachable from others.
    #[error("igp[{asn}]: the links do not connect PoP `{pop}` to the others")]
    Disconnected {
        /// The AS.
        asn: Asn,
        /// A PoP cut off.
        pop: String,
    },
}
