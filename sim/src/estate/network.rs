//! The estate's `[network]` section, `[[sites]]` and `[[populations]]`:
//! the AS graph (a topology file, written out, or generated), how latency
//! and BGP behave, where the sites are and whom they announce to, and where
//! the users are.
//!
//! ```toml
//! [network]
//! origin_asn = 64500            # the AS that announces the anycast prefix
//! handshake = "tcp+tls1.3"      # "tcp+tls1.2" | "tcp+tls1.3" | "quic" | "reused"
//! path_inflation = 1.7          # fiber route / great circle, 1.0-5.0
//! access_rtt = "8ms"            # paid on every round trip
//! server_time = "10ms"          # time to first byte at the server
//! always_compare_med = false   # compare MEDs from different neighbour ASes too
//! deterministic_med = true      # group by neighbour AS before MED (RFC 4271); false:
//!                               # in order of arrival, Cisco IOS's default
//! export = "gao-rexford"        # every AS's export policy; [[network.policies]] per AS,
//!                               # [[network.sessions]], [[network.igp_links]] and
//!                               # [network.damping]: see `policy`
//! mrai = "30s"                  # eBGP MRAI; ibgp_mrai = "0s"
//! mrai_timers = "busy"          # "busy" (always running) | "idle"
//! processing_delay = "100ms"    # per UPDATE hop, plus propagation
//! topology = "edge-topology.toml"   # or [[network.as]] + [[network.links]], or [network.generate]
//!                               # an AS's `pops` are catalog cities or
//!                               # `{ name = "lagos", lat = 6.45, lon = 3.39 }`
//!
//! [[sites]]
//! tag = "ny1"                   # catalog site, or any tag with `city = "nyc"`
//!                               # (or anywhere: `lat = 6.45, lon = 3.39`, `city` then
//!                               # any name, the tag by default)
//! origin_asn = 64501            # a partner or second ASN announcing the same prefix
//!                               # from this site (default: network.origin_asn)
//! upstreams = [65010, 65020]    # transit providers (omit with generate)
//! peers = []
//! prepends = 0                  # AS_PATH prepends, 0-10
//! med = 0
//! local_pref = 70               # LOCAL_PREF asked of the upstreams (community)
//! prefix_len = 24               # a longer prefix is a more-specific
//! announce = true
//! cost = "bare metal"           # its cost profile (default: by its kind of pool)
//!
//! [[populations]]
//! city = "nyc"                  # a catalog city, or any name with `lat` and `lon`
//! weight = 1.0                  # relative share of the users
//! isp = 65101                   # omit with generate: the city's access ISPs
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use cutover_models::bgp::catchment::Announcement;
use cutover_models::bgp::decision::DecisionConfig;
use cutover_models::bgp::generate::{generate, Generated, GeneratorParams};
use cutover_models::bgp::network::{NetworkConfig, DEFAULT_EBGP_MRAI, DEFAULT_IBGP_MRAI};
use cutover_models::bgp::topology::{
    AsReference, AsSpec, LinkKind, LinkSpec, PopSpec, PopulationSpec, SiteSpec, TopologyError,
    TopologySpec, UpstreamSpec,
};
use cutover_models::bgp::{Asn, Relationship};
use cutover_models::geo::{catalog, Handshake, LatLon, LatencyModel};
use cutover_models::geo::{DEFAULT_ACCESS_RTT_MS, DEFAULT_PATH_INFLATION, DEFAULT_SERVER_MS};
use cutover_models::SimDuration;
use rand::RngExt;
use serde::Deserialize;

use crate::engine::RngStreams;
use crate::scenario::units::Duration;
use crate::scenario::{InputError, Source};

/// Default time a router takes to process an UPDATE before passing it on:
/// 100 ms. An assumption (router CPUs handle thousands of updates per
/// second, but implementations batch work); the propagation delay of the
/// link is added to it.
pub const DEFAULT_PROCESSING_DELAY: SimDuration = SimDuration::from_millis(100);
/// Default origin AS: 64500, from the range reserved for documentation
/// (RFC 5398).
pub const DEFAULT_ORIGIN_ASN: u32 = 64500;

/// `[network]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNetwork {
    origin_asn: Option<u32>,
    handshake: Option<String>,
    path_inflation: Option<f64>,
    access_rtt: Option<Duration>,
    server_time: Option<Duration>,
    always_compare_med: Option<bool>,
    deterministic_med: Option<bool>,
    export: Option<String>,
    #[serde(default)]
    policies: Vec<super::policy::RawPolicy>,
    #[serde(default)]
    sessions: Vec<super::policy::RawSession>,
    damping: Option<super::policy::RawDamping>,
    #[serde(default)]
    igp_links: Vec<super::policy::RawIgpLink>,
    mrai: Option<Duration>,
    ibgp_mrai: Option<Duration>,
    mrai_timers: Option<String>,
    processing_delay: Option<Duration>,
    generate: Option<RawGenerate>,
    topology: Option<String>,
    #[serde(rename = "as", default)]
    ases: Vec<RawAs>,
    #[serde(default)]
    links: Vec<RawLink>,
}

impl RawNetwork {
    /// The BGP policy written under `[network]`.
    pub(crate) fn bgp_policy(&self) -> super::policy::RawBgpPolicy<'_> {
        super::policy::RawBgpPolicy {
            export: self.export.as_deref(),
            policies: &self.policies,
            damping: self.damping.as_ref(),
            igp_links: &self.igp_links,
        }
    }

    /// `[[network.sessions]]` as written.
    pub(crate) fn sessions(&self) -> &[super::policy::RawSession] {
        &self.sessions
    }
}

/// A topology file: the `[[as]]` and `[[links]]` tables on their own, so
/// that several estates can share one graph.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopologyFile {
    #[serde(rename = "as", default)]
    ases: Vec<RawAs>,
    #[serde(default)]
    links: Vec<RawLink>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGenerate {
    tier1: Option<u32>,
    tier2_per_region: Option<u32>,
    access_per_city: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAs {
    asn: u32,
    name: Option<String>,
    pops: Vec<RawPop>,
}

/// A PoP as written: a catalog city, or a name at a latitude and
/// longitude.
#[derive(Debug)]
enum RawPop {
    City(String),
    At(RawPlace),
}

impl<'de> Deserialize<'de> for RawPop {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawPop;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a catalog city code or { name = \"...\", lat = ..., lon = ... }")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawPop, E> {
                Ok(RawPop::City(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawPop, A::Error> {
                RawPlace::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawPop::At)
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlace {
    name: String,
    lat: f64,
    lon: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLink {
    provider: Option<u32>,
    customer: Option<u32>,
    peers: Option<Vec<u32>>,
    #[serde(default)]
    at: Vec<String>,
}

/// A site as written in `[[sites]]` (the estate's or an experiment's):
/// how it is reached, its nodes if they differ from `[nodes]`, and its
/// cost profile if not the estate's default for its kind of pool.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSite {
    pub(crate) tag: String,
    city: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    origin_asn: Option<u32>,
    #[serde(default)]
    upstreams: Vec<u32>,
    #[serde(default)]
    peers: Vec<u32>,
    prepends: Option<i64>,
    med: Option<i64>,
    local_pref: Option<i64>,
    prefix_len: Option<i64>,
    announce: Option<bool>,
    pub(crate) nodes: Option<super::compute::RawNodes>,
    pub(crate) cost: Option<String>,
}

/// `[[populations]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPopulation {
    city: String,
    lat: Option<f64>,
    lon: Option<f64>,
    weight: Option<f64>,
    isp: Option<u32>,
}

impl RawPopulation {
    /// The city and location of these users, as written.
    pub(crate) fn place(&self, source: &Source, at: &str) -> Result<(String, LatLon), InputError> {
        Ok((
            self.city.clone(),
            location(source, at, &self.city, self.lat, self.lon)?,
        ))
    }
}

/// Where the entry at `at` is: at its `lat` and `lon` if written (then
/// `name` is any name), else in catalog city `name`.
pub(crate) fn location(
    source: &Source,
    at: &str,
    name: &str,
    lat: Option<f64>,
    lon: Option<f64>,
) -> Result<LatLon, InputError> {
    match (lat, lon) {
        (None, None) => city_location(source, &format!("{at}.city"), name),
        (Some(lat), Some(lon)) => LatLon::new(lat, lon).map_err(|e| {
            let field = if (-90.0..=90.0).contains(&lat) {
                "lon"
            } else {
                "lat"
            };
            source.field_error(
                &format!("{at}.{field}"),
                format!(
                    "{e}; allowed: a latitude from -90 to 90 and a longitude from -180 to 180, \
                     decimal degrees"
                ),
            )
        }),
        (Some(_), None) => Err(source.field_error(
            &format!("{at}.lat"),
            "no `lon`; allowed: both `lat` and `lon`, or neither (a catalog city)",
        )),
        (None, Some(_)) => Err(source.field_error(
            &format!("{at}.lon"),
            "no `lat`; allowed: both `lat` and `lon`, or neither (a catalog city)",
        )),
    }
}

/// How latency and BGP behave across the estate.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkSettings {
    /// The AS announcing the anycast prefix.
    pub origin: Asn,
    /// RTT and TTFB model.
    pub latency: LatencyModel,
    /// BGP timers and decision options.
    pub bgp: NetworkConfig,
    /// Per-hop UPDATE processing delay (the link's propagation is added).
    pub processing_delay: SimDuration,
}

/// The AS graph without the origin's sites and the users.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    /// ASes with their PoPs.
    pub ases: Vec<AsSpec>,
    /// Links between them.
    pub links: Vec<LinkSpec>,
    /// The generator's output, when the graph was generated (it knows each
    /// city's access ISPs and a new site's upstreams).
    pub generated: Option<Generated>,
}

/// Where a site is and how it announces the prefix.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteNetwork {
    /// Site tag, e.g. `ny1`.
    pub tag: String,
    /// City code.
    pub city: String,
    /// Where it is.
    pub location: LatLon,
    /// Its upstreams and peers.
    pub upstreams: Vec<UpstreamSpec>,
    /// The AS that announces the prefix from this site when it is not the
    /// network's origin AS (a partner or second ASN).
    pub origin: Option<Asn>,
    /// How it announces (its `site` index is set when the topology is built).
    pub announcement: Announcement,
}

/// A group of users in one city behind one access ISP.
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    /// City code.
    pub city: String,
    /// Where the users are.
    pub location: LatLon,
    /// Relative weight (share of the users).
    pub weight: f64,
    /// Their access ISP (none: every AS with a PoP in the city may serve).
    pub isp: Option<Asn>,
}

fn int_in(
    source: &Source,
    field: &str,
    value: Option<i64>,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, InputError> {
    let v = value.unwrap_or(default);
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(source.field_error(
            field,
            format!(
                "{v}; allowed: a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        ))
    }
}

/// The location of catalog city `code`, or an error at `field`.
pub(crate) fn city_location(
    source: &Source,
    field: &str,
    code: &str,
) -> Result<LatLon, InputError> {
    catalog::city(code).map(|c| c.location()).ok_or_else(|| {
        source.field_error(
            field,
            format!(
                "unknown city `{code}`; allowed: {} (or any name with `lat` and `lon`)",
                catalog::city_codes().join(", ")
            ),
        )
    })
}

/// Validates the latency model and BGP settings of `[network]`.
pub(crate) fn settings(source: &Source, raw: &RawNetwork) -> Result<NetworkSettings, InputError> {
    let handshake = match raw.handshake.as_deref().unwrap_or("tcp+tls1.3") {
        "tcp+tls1.2" => Handshake::TcpTls12,
        "tcp+tls1.3" => Handshake::TcpTls13,
        "quic" => Handshake::Quic,
        "reused" => Handshake::RoundTrips(0),
        other => {
            return Err(source.field_error(
                "network.handshake",
                format!("`{other}`; allowed: \"tcp+tls1.2\", \"tcp+tls1.3\", \"quic\", \"reused\""),
            ))
        }
    };
    let ms = |d: &Option<Duration>, default: f64| d.map_or(default, |d| d.0.as_secs_f64() * 1e3);
    let latency = LatencyModel::new(
        raw.path_inflation.unwrap_or(DEFAULT_PATH_INFLATION),
        ms(&raw.access_rtt, DEFAULT_ACCESS_RTT_MS),
        ms(&raw.server_time, DEFAULT_SERVER_MS),
        handshake,
    )
    .map_err(|e| source.field_error("network.path_inflation", e.to_string()))?;
    let mrai_busy = match raw.mrai_timers.as_deref().unwrap_or("busy") {
        "busy" => true,
        "idle" => false,
        other => {
            return Err(source.field_error(
                "network.mrai_timers",
                format!(
                    "`{other}`; allowed: \"busy\" (timers always running, as with a full table) \
                     or \"idle\" (a timer runs only after an advertisement)"
                ),
            ))
        }
    };
    let processing_delay = raw
        .processing_delay
        .map_or(DEFAULT_PROCESSING_DELAY, |d| d.0);
    if processing_delay < SimDuration::from_millis(1) {
        // Zero-delay updates could chase each other for ever at one instant.
        return Err(source.field_error(
            "network.processing_delay",
            "must be at least \"1ms\" (routers take time to process an UPDATE)",
        ));
    }
    let mrai = |field: &str, d: Option<Duration>, default: SimDuration| {
        super::policy::mrai(source, field, d.map_or(default, |d| d.0))
    };
    Ok(NetworkSettings {
        origin: Asn(raw.origin_asn.unwrap_or(DEFAULT_ORIGIN_ASN)),
        latency,
        bgp: NetworkConfig {
            decision: DecisionConfig {
                always_compare_med: raw.always_compare_med.unwrap_or(false),
                deterministic_med: raw.deterministic_med.unwrap_or(true),
            },
            ebgp_mrai: mrai("network.mrai", raw.mrai, DEFAULT_EBGP_MRAI)?,
            ibgp_mrai: mrai("network.ibgp_mrai", raw.ibgp_mrai, DEFAULT_IBGP_MRAI)?,
            mrai_busy,
        },
        processing_delay,
    })
}

/// Validates the AS graph: from a topology file, written inline, or
/// generated around `cities` (the sites' and users' cities) with draws
/// from `seed`.
pub(crate) fn graph(
    source: &Source,
    raw: &RawNetwork,
    cities: &[(String, LatLon)],
    seed: u64,
) -> Result<Graph, InputError> {
    let exclusive = [
        raw.generate.is_some(),
        raw.topology.is_some(),
        !raw.ases.is_empty() || !raw.links.is_empty(),
    ];
    if exclusive.iter().filter(|&&b| b).count() > 1 {
        return Err(source.field_error(
            "network",
            "give one of `generate`, `topology` or `as` and `links`",
        ));
    }
    if let Some(g) = &raw.generate {
        return generated_graph(source, g, cities, seed);
    }
    match &raw.topology {
        Some(name) => {
            let path = relative_to(source, name);
            let file = Source::read(&path).map_err(|e| match e {
                InputError::Read { reason, .. } => source.field_error(
                    "network.topology",
                    format!("cannot read `{}`: {reason}", path.display()),
                ),
                other => other,
            })?;
            let parsed: RawTopologyFile = file.parse()?;
            written_graph(&file, "", &parsed.ases, &parsed.links)
        }
        None => written_graph(source, "network.", &raw.ases, &raw.links),
    }
}

/// `name` relative to the directory of `source`'s file.
pub(crate) fn relative_to(source: &Source, name: &str) -> std::path::PathBuf {
    source.path().parent().unwrap_or(Path::new("")).join(name)
}

fn generated_graph(
    source: &Source,
    g: &RawGenerate,
    cities: &[(String, LatLon)],
    seed: u64,
) -> Result<Graph, InputError> {
    let params = GeneratorParams {
        tier1: int_in(
            source,
            "network.generate.tier1",
            g.tier1.map(i64::from),
            6,
            1..=50,
        )? as usize,
        tier2_per_region: int_in(
            source,
            "network.generate.tier2_per_region",
            g.tier2_per_region.map(i64::from),
            6,
            0..=500,
        )? as usize,
        access_per_city: int_in(
            source,
            "network.generate.access_per_city",
            g.access_per_city.map(i64::from),
            2,
            1..=500,
        )? as usize,
        ..GeneratorParams::default()
    };
    let unique: BTreeMap<String, LatLon> = cities.iter().cloned().collect();
    let list: Vec<(String, LatLon)> = unique.into_iter().collect();
    let streams = RngStreams::new(seed);
    let mut rng = streams.stream("network.topology");
    let mut draw = move || rng.random::<f64>();
    let g = generate(&params, &list, &mut draw);
    Ok(Graph {
        ases: g.ases.clone(),
        links: g.links.clone(),
        generated: Some(g),
    })
}

fn written_graph(
    file: &Source,
    prefix: &str,
    raw_ases: &[RawAs],
    raw_links: &[RawLink],
) -> Result<Graph, InputError> {
    let mut ases = Vec::new();
    for (i, a) in raw_ases.iter().enumerate() {
        let mut pops = Vec::new();
        for (j, pop) in a.pops.iter().enumerate() {
            let at = format!("{prefix}as[{i}].pops[{j}]");
            pops.push(match pop {
                RawPop::City(code) => PopSpec {
                    name: code.clone(),
                    location: city_location(file, &at, code)?,
                },
                RawPop::At(p) => PopSpec {
                    name: p.name.clone(),
                    location: location(file, &at, &p.name, Some(p.lat), Some(p.lon))?,
                },
            });
        }
        ases.push(AsSpec {
            asn: Asn(a.asn),
            name: a.name.clone().unwrap_or_else(|| format!("AS{}", a.asn)),
            pops,
        });
    }
    let mut links = Vec::new();
    for (i, l) in raw_links.iter().enumerate() {
        let (a, b, kind) = match (l.provider, l.customer, &l.peers) {
            (Some(p), Some(c), None) => (p, c, LinkKind::ProviderToCustomer),
            (None, None, Some(peers)) if peers.len() == 2 => (peers[0], peers[1], LinkKind::Peer),
            _ => {
                return Err(file.field_error(
                    &format!("{prefix}links[{i}]"),
                    "a link is either `provider = ASN, customer = ASN` or `peers = [ASN, ASN]`",
                ))
            }
        };
        links.push(LinkSpec {
            a: Asn(a),
            b: Asn(b),
            kind,
            at: l.at.clone(),
        });
    }
    // Graph errors are found here, against the file that holds the graph.
    check_graph(file, prefix, &ases, &links)?;
    Ok(Graph {
        ases,
        links,
        generated: None,
    })
}

/// Builds the graph alone (with a placeholder site) to locate its own
/// errors in the file that holds it.
fn check_graph(
    file: &Source,
    prefix: &str,
    ases: &[AsSpec],
    links: &[LinkSpec],
) -> Result<(), InputError> {
    for (i, l) in links.iter().enumerate() {
        for asn in [l.a, l.b] {
            if !ases.iter().any(|a| a.asn == asn) {
                return Err(file.field_error(
                    &format!("{prefix}links[{i}]"),
                    format!(
                        "AS{} is not in the graph; allowed: an ASN listed in [[as]]",
                        asn.0
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The city of a site: written, the catalog site's, or its tag when it is
/// placed by latitude and longitude.
fn site_city(source: &Source, at: &str, raw: &RawSite) -> Result<String, InputError> {
    match (&raw.city, catalog::site(&raw.tag)) {
        (Some(c), _) => Ok(c.clone()),
        (None, Some(entry)) => Ok(entry.city.to_string()),
        (None, None) if raw.lat.is_some() || raw.lon.is_some() => Ok(raw.tag.clone()),
        (None, None) => Err(source.field_error(
            &format!("{at}.tag"),
            format!(
                "`{}` is not a catalog site, so give its `city` (or its `lat` and `lon`); catalog sites: {}",
                raw.tag,
                catalog::SITES
                    .iter()
                    .map(|s| s.tag)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// The city and location of a site as written, before its upstreams are
/// checked against a graph (a generated graph needs every city first).
pub(crate) fn site_place(
    source: &Source,
    at: &str,
    raw: &RawSite,
) -> Result<(String, LatLon), InputError> {
    let city = site_city(source, at, raw)?;
    let location = location(source, at, &city, raw.lat, raw.lon)?;
    Ok((city, location))
}

/// Validates one site's network entry at `at` (e.g. `sites[3]`) against the
/// graph.
pub(crate) fn site(
    source: &Source,
    at: &str,
    raw: &RawSite,
    graph: &Graph,
) -> Result<SiteNetwork, InputError> {
    let f = |name: &str| format!("{at}.{name}");
    let (city, location) = site_place(source, at, raw)?;
    let mut upstreams: Vec<UpstreamSpec> = Vec::new();
    for (list, rel, name) in [
        (&raw.upstreams, Relationship::Provider, "upstreams"),
        (&raw.peers, Relationship::Peer, "peers"),
    ] {
        for (j, &asn) in list.iter().enumerate() {
            if !graph.ases.iter().any(|a| a.asn == Asn(asn)) {
                return Err(source.field_error(
                    &format!("{at}.{name}[{j}]"),
                    format!(
                        "AS{asn} is not in the AS graph; allowed: an ASN of the graph's [[as]]"
                    ),
                ));
            }
            upstreams.push(UpstreamSpec { asn: Asn(asn), rel });
        }
    }
    if let (Some(g), true) = (&graph.generated, upstreams.is_empty()) {
        upstreams = g.site_upstreams(location);
    }
    if upstreams.is_empty() {
        return Err(source.field_error(
            &f("upstreams"),
            "a site needs at least one upstream or peer to announce to",
        ));
    }
    let origin = site_origin(source, &f("origin_asn"), raw.origin_asn, graph)?;
    let announcement = Announcement {
        site: 0,
        announce: raw.announce.unwrap_or(true),
        prepends: int_in(source, &f("prepends"), raw.prepends, 0, 0..=10)? as u8,
        med: int_in(source, &f("med"), raw.med, 0, 0..=i64::from(u32::MAX))? as u32,
        requested_local_pref: raw
            .local_pref
            .map(|v| {
                int_in(
                    source,
                    &f("local_pref"),
                    Some(v),
                    0,
                    0..=i64::from(u32::MAX),
                )
            })
            .transpose()?
            .map(|v| v as u32),
        prefix_len: int_in(source, &f("prefix_len"), raw.prefix_len, 24, 8..=24)? as u8,
    };
    Ok(SiteNetwork {
        tag: raw.tag.clone(),
        city,
        location,
        upstreams,
        origin,
        announcement,
    })
}

/// A site's own origin AS as written: any ASN outside the graph (a
/// partner's or the operator's second ASN has only sites; an AS of the
/// graph would also carry transit).
fn site_origin(
    source: &Source,
    field: &str,
    asn: Option<u32>,
    graph: &Graph,
) -> Result<Option<Asn>, InputError> {
    let Some(asn) = asn else {
        return Ok(None);
    };
    if asn == 0 {
        return Err(source.field_error(field, "0; allowed: an ASN from 1 to 4294967295"));
    }
    if graph.ases.iter().any(|a| a.asn == Asn(asn)) {
        return Err(source.field_error(
            field,
            format!(
                "AS{asn} is in the AS graph; allowed: an ASN outside it (an origin AS has \
                 only sites, no PoPs or transit)"
            ),
        ));
    }
    Ok(Some(Asn(asn)))
}

/// Validates the populations; one entry per access ISP (a generated graph
/// gives each city several, sharing the city's weight).
pub(crate) fn populations(
    source: &Source,
    raw: &[RawPopulation],
    graph: &Graph,
) -> Result<Vec<Population>, InputError> {
    if raw.is_empty() {
        return Err(source.field_error("populations", "at least one [[populations]] entry"));
    }
    let mut out = Vec::new();
    for (i, p) in raw.iter().enumerate() {
        let at = format!("populations[{i}]");
        let (_, location) = p.place(source, &at)?;
        let weight = p.weight.unwrap_or(1.0);
        if !(weight.is_finite() && (0.0..=1e12).contains(&weight)) {
            return Err(source.field_error(
                &format!("{at}.weight"),
                format!("{weight}; allowed: a finite number from 0 to 1e12"),
            ));
        }
        if let Some(isp) = p.isp {
            if !graph.ases.iter().any(|a| a.asn == Asn(isp)) {
                return Err(source.field_error(
                    &format!("{at}.isp"),
                    format!(
                        "AS{isp} is not in the AS graph; allowed: an ASN of the graph's [[as]]"
                    ),
                ));
            }
        }
        let isps: Vec<Option<Asn>> = match (p.isp, &graph.generated) {
            (Some(isp), _) => vec![Some(Asn(isp))],
            (None, Some(g)) => g
                .access
                .get(&p.city)
                .map(|v| v.iter().copied().map(Some).collect())
                .unwrap_or_else(|| vec![None]),
            (None, None) => vec![None],
        };
        let share = weight / isps.len() as f64;
        for isp in isps {
            out.push(Population {
                city: p.city.clone(),
                location,
                weight: share,
                isp,
            });
        }
    }
    if out.iter().map(|p| p.weight).sum::<f64>() <= 0.0 {
        return Err(source.field_error("populations", "the weights sum to zero"));
    }
    Ok(out)
}

/// The populations' names, each once, in order.
pub(crate) fn population_names(populations: &[Population]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for p in populations {
        if !names.contains(&p.city) {
            names.push(p.city.clone());
        }
    }
    names
}

/// Replaces the populations' weights with those of the weights CSV `file`
/// (relative to `source`'s file) named at `field`; a population split
/// over several access ISPs keeps their proportions.
pub(crate) fn read_weights(
    source: &Source,
    field: &str,
    file: &str,
    populations: &mut [Population],
) -> Result<(), InputError> {
    let path = relative_to(source, file);
    let text = crate::scenario::source::read_text(&path).map_err(|e| match e {
        InputError::Read { path, reason } => {
            source.field_error(field, format!("cannot read `{}`: {reason}", path.display()))
        }
        other => other,
    })?;
    let names = population_names(populations);
    let weights = crate::scenario::weights::parse(&path, &text, &names)?;
    for (name, w) in names.iter().zip(weights) {
        let old: f64 = populations
            .iter()
            .filter(|p| &p.city == name)
            .map(|p| p.weight)
            .sum();
        let n = populations.iter().filter(|p| &p.city == name).count() as f64;
        for p in populations.iter_mut().filter(|p| &p.city == name) {
            p.weight = if old > 0.0 { w * p.weight / old } else { w / n };
        }
    }
    Ok(())
}

/// The sites and populations on the graph, ready to build.
pub fn topology_spec(
    settings: &NetworkSettings,
    graph: &Graph,
    sites: &[&SiteNetwork],
    populations: &[Population],
) -> TopologySpec {
    TopologySpec {
        ases: graph.ases.clone(),
        links: graph.links.clone(),
        origin: settings.origin,
        sites: sites
            .iter()
            .map(|s| SiteSpec {
                name: s.tag.clone(),
                location: s.location,
                upstreams: s.upstreams.clone(),
            })
            .collect(),
        populations: populations
            .iter()
            .map(|p| PopulationSpec {
                name: p.city.clone(),
                location: p.location,
                weight: p.weight,
                isp: p.isp,
            })
            .collect(),
    }
}

/// Where a topology error belongs: the field of the site or population it
/// names (`site_field(i)`, `population_field(i)`), else the network section.
pub(crate) fn topology_error_field(
    e: &TopologyError,
    site_field: &dyn Fn(usize) -> String,
    population_field: &dyn Fn(usize) -> String,
) -> String {
    match e {
        TopologyError::UnknownAs { place, .. } => match place {
            AsReference::SiteUpstream { site, .. } => site_field(*site),
            AsReference::PopulationIsp(i) => population_field(*i),
            AsReference::LinkA(_) | AsReference::LinkB(_) => "network".to_string(),
        },
        TopologyError::SiteWithoutUpstream { index, .. } => site_field(*index),
        TopologyError::CustomerUpstream { site, .. } => site_field(*site),
        TopologyError::PopulationWithoutIsp { index, .. }
        | TopologyError::BadWeight { index, .. } => population_field(*index),
        TopologyError::OriginListed { .. } => "network.origin_asn".to_string(),
        TopologyError::NoSites => "sites".to_string(),
        _ => "network".to_string(),
    }
}

/// The model's message without its own path prefix ("links[3].b: ..."):
/// the located field already says where.
pub(crate) fn topology_error_message(e: &TopologyError) -> String {
    let message = e.to_string();
    match message.split_once(": ") {
        Some((head, rest)) if head.contains('[') => rest.to_string(),
        _ => message,
    }
}
