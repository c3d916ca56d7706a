//! The `[network]` section: sites, populations, the AS topology (written out
//! or generated), announcements, latency, BGP timers and an optional
//! failure to inject.
//!
//! ```toml
//! [network]
//! origin_asn = 64500            # the AS that announces the anycast prefix
//! handshake = "tcp+tls1.3"      # "tcp+tls1.2" | "tcp+tls1.3" | "quic" | "reused"
//! path_inflation = 1.7          # fiber route / great circle, 1.0-5.0
//! access_rtt = "8ms"            # paid on every round trip
//! server_time = "10ms"          # time to first byte at the server
//! always_compare_med = false
//! mrai = "30s"                  # eBGP MRAI; ibgp_mrai = "0s"
//! mrai_timers = "busy"          # "busy" (always running) | "idle"
//! processing_delay = "100ms"    # per UPDATE hop, plus propagation
//! topology = "edge-topology.toml"   # or [[network.as]] + [[network.links]], or [network.generate]
//! sweep_site = "ams1"           # site of the knob sweep in `cutover catchment`
//!
//! [network.generate]            # a synthetic graph instead of a written one
//! tier1 = 6
//! tier2_per_region = 6
//! access_per_city = 2
//!
//! [[network.sites]]
//! tag = "ny1"                   # catalog site, or any tag with `city = "nyc"`
//! upstreams = [65010, 65020]    # transit providers (omit with generate)
//! peers = []                    # peers
//! prepends = 0                  # AS_PATH prepends, 0-10
//! med = 0
//! local_pref = 70               # LOCAL_PREF asked of the upstreams (community)
//! prefix_len = 24               # a longer prefix is a more-specific
//! announce = true
//!
//! [[network.populations]]
//! city = "nyc"
//! weight = 1.0
//! isp = 65101                   # omit with generate: the city's access ISPs
//!
//! [network.run]                 # for `cutover run`; these are the defaults
//! duration = "300s"
//! request_rate = "1000/s"
//!
//! [network.failure]
//! site = "ny1"
//! at = "60s"
//! kind = "crash"                # "shutdown" (drain = "5s") | "crash" | "service-down"
//! detection = "hold-timer"      # crash: "hold-timer" (hold_time, keepalive) | "bfd"
//!                               # (bfd_interval, bfd_multiplier); service-down:
//!                               # "health-check" (health_interval, health_failures)
//! ```

use std::collections::BTreeMap;

use cutover_models::bgp::catchment::Announcement;
use cutover_models::bgp::decision::DecisionConfig;
use cutover_models::bgp::generate::{generate, GeneratorParams};
use cutover_models::bgp::network::{DEFAULT_EBGP_MRAI, DEFAULT_IBGP_MRAI};
use cutover_models::bgp::topology::{
    AsReference, AsSpec, LinkKind, LinkSpec, PopSpec, PopulationSpec, SiteSpec, Topology,
    TopologyError, TopologySpec, UpstreamSpec,
};
use cutover_models::bgp::{Asn, Relationship};
use cutover_models::geo::{catalog, Handshake, LatLon, LatencyModel};
use cutover_models::geo::{DEFAULT_ACCESS_RTT_MS, DEFAULT_PATH_INFLATION, DEFAULT_SERVER_MS};
use cutover_models::SimDuration;
use rand::Rng;
use serde::Deserialize;

use super::units::{Duration, Rate};
use super::{InputError, Source};
use crate::engine::RngStreams;

/// The `[network]` section as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNetwork {
    origin_asn: Option<u32>,
    handshake: Option<String>,
    path_inflation: Option<f64>,
    access_rtt: Option<Duration>,
    server_time: Option<Duration>,
    always_compare_med: Option<bool>,
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
    sites: Vec<RawSite>,
    populations: Vec<RawPopulation>,
    sweep_site: Option<String>,
    failure: Option<RawFailure>,
    run: Option<RawRun>,
}

/// A topology file: the `[[as]]` and `[[links]]` tables on their own, so
/// that several scenarios can share one graph.
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
    pops: Vec<String>,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    tag: String,
    city: Option<String>,
    #[serde(default)]
    upstreams: Vec<u32>,
    #[serde(default)]
    peers: Vec<u32>,
    prepends: Option<i64>,
    med: Option<i64>,
    local_pref: Option<i64>,
    prefix_len: Option<i64>,
    announce: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPopulation {
    city: String,
    weight: Option<f64>,
    isp: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFailure {
    site: String,
    at: Duration,
    kind: String,
    detection: Option<String>,
    hold_time: Option<Duration>,
    keepalive: Option<Duration>,
    bfd_interval: Option<Duration>,
    bfd_multiplier: Option<i64>,
    health_interval: Option<Duration>,
    health_failures: Option<i64>,
    drain: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRun {
    duration: Duration,
    request_rate: Rate,
}

/// Default BGP hold time and keepalive: 90 s and 30 s (RFC 4271 section 10
/// suggests a 90 s hold time and a keepalive of a third of it).
pub const DEFAULT_HOLD_TIME: SimDuration = SimDuration::from_secs(90);
/// See [`DEFAULT_HOLD_TIME`].
pub const DEFAULT_KEEPALIVE: SimDuration = SimDuration::from_secs(30);
/// Default BFD transmit interval 200 ms and detect multiplier 3: the
/// defaults of Dell EMC SmartFabric OS10 (User Guide 10.5.0, `bfd
/// interval`); RFC 5880 section 6.8.1 leaves both to the operator, and 3 is
/// the usual multiplier (also Huawei's default).
pub const DEFAULT_BFD_INTERVAL: SimDuration = SimDuration::from_millis(200);
/// See [`DEFAULT_BFD_INTERVAL`].
pub const DEFAULT_BFD_MULTIPLIER: u32 = 3;
/// Default health-check probe interval: 5 s, the liveness probe period of
/// the reference story.
pub const DEFAULT_HEALTH_INTERVAL: SimDuration = SimDuration::from_secs(5);
/// Default failed probes before withdrawing: 3 (Kubernetes' default
/// `failureThreshold`, kubernetes.io, "Configure Liveness, Readiness and
/// Startup Probes").
pub const DEFAULT_HEALTH_FAILURES: u32 = 3;
/// Default time between a clean shutdown's withdrawal and the node going
/// dark: 5 s, the story's "withdrawn within 5 s" before the node stops.
pub const DEFAULT_DRAIN: SimDuration = SimDuration::from_secs(5);
/// Default time a router takes to process an UPDATE before passing it on:
/// 100 ms. An assumption (router CPUs handle thousands of updates per
/// second, but implementations batch work); the propagation delay of the
/// link is added to it.
pub const DEFAULT_PROCESSING_DELAY: SimDuration = SimDuration::from_millis(100);
/// Default origin AS: 64500, from the range reserved for documentation
/// (RFC 5398).
pub const DEFAULT_ORIGIN_ASN: u32 = 64500;

/// How a site fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The operator shuts the node down: the site withdraws at once and the
    /// node stops after `drain`.
    Shutdown {
        /// Time between the withdrawal and the node stopping.
        drain: SimDuration,
    },
    /// The node loses power; its upstreams notice by `detection`.
    Crash(Detection),
    /// The service dies but the router keeps announcing until a health
    /// check fails `failures` probes in a row, `interval` apart.
    ServiceDown {
        /// Probe period.
        interval: SimDuration,
        /// Failed probes before the withdrawal.
        failures: u32,
    },
}

/// How an upstream notices a dead neighbour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    /// No keepalive for `hold`; keepalives every `keepalive`.
    HoldTimer {
        /// Hold time.
        hold: SimDuration,
        /// Keepalive interval.
        keepalive: SimDuration,
    },
    /// BFD: `multiplier` missed packets `interval` apart.
    Bfd {
        /// Transmit interval.
        interval: SimDuration,
        /// Detect multiplier.
        multiplier: u32,
    },
}

/// A failure to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureSpec {
    /// Index of the site that fails.
    pub site: usize,
    /// When.
    pub at: SimDuration,
    /// How.
    pub kind: FailureKind,
}

/// A validated network scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkSpec {
    /// The checked topology description.
    pub topology: TopologySpec,
    /// The built topology (kept so that runs need not build it again).
    pub built: Topology,
    /// One announcement per site, in site order.
    pub announcements: Vec<Announcement>,
    /// RTT and TTFB model.
    pub latency: LatencyModel,
    /// Decision options.
    pub decision: DecisionConfig,
    /// eBGP MRAI.
    pub ebgp_mrai: SimDuration,
    /// iBGP MRAI.
    pub ibgp_mrai: SimDuration,
    /// Per-hop UPDATE processing delay (the link's propagation is added).
    pub processing_delay: SimDuration,
    /// Whether every session's MRAI timer runs all the time (started at a
    /// random phase, restarted whenever it fires), as on routers carrying a
    /// full table, or only after an advertisement.
    pub mrai_busy: bool,
    /// Site for the knob sweep, if one is named.
    pub sweep_site: Option<usize>,
    /// Failure to inject in a run.
    pub failure: Option<FailureSpec>,
    /// Simulated time of a run.
    pub duration: SimDuration,
    /// Requests per second over all populations.
    pub request_rate_per_s: f64,
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

fn city_location(source: &Source, field: &str, code: &str) -> Result<LatLon, InputError> {
    catalog::city(code).map(|c| c.location()).ok_or_else(|| {
        source.field_error(
            field,
            format!(
                "unknown city `{code}`; allowed: {}",
                catalog::city_codes().join(", ")
            ),
        )
    })
}

/// Validates the `[network]` section. `seed` drives the topology generator.
pub(super) fn validate(
    source: &Source,
    raw: &RawNetwork,
    seed: u64,
) -> Result<NetworkSpec, InputError> {
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

    let origin = Asn(raw.origin_asn.unwrap_or(DEFAULT_ORIGIN_ASN));
    let streams = RngStreams::new(seed);
    let mut rng = streams.stream("network.topology");
    let mut draw = move || rng.random::<f64>();

    // Sites.
    let mut site_locs = Vec::new();
    for (i, s) in raw.sites.iter().enumerate() {
        let code = match (&s.city, catalog::site(&s.tag)) {
            (Some(c), _) => c.clone(),
            (None, Some(entry)) => entry.city.to_string(),
            (None, None) => {
                return Err(source.field_error(
                    &format!("network.sites[{i}].tag"),
                    format!(
                        "`{}` is not a catalog site, so give its `city`; catalog sites: {}",
                        s.tag,
                        catalog::SITES
                            .iter()
                            .map(|s| s.tag)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ))
            }
        };
        site_locs.push((
            code.clone(),
            city_location(source, &format!("network.sites[{i}].city"), &code)?,
        ));
    }
    let mut pop_locs = Vec::new();
    for (i, p) in raw.populations.iter().enumerate() {
        pop_locs.push(city_location(
            source,
            &format!("network.populations[{i}].city"),
            &p.city,
        )?);
    }

    // ASes and links: in a topology file, written out here, or generated.
    let topology_file: Option<(Source, RawTopologyFile)> = match &raw.topology {
        None => None,
        Some(name) => {
            if !raw.ases.is_empty() || !raw.links.is_empty() {
                return Err(source.field_error(
                    "network.topology",
                    "give either `topology` or `as` and `links` here, not both",
                ));
            }
            let path = source
                .path()
                .parent()
                .unwrap_or(std::path::Path::new(""))
                .join(name);
            let file = Source::read(&path)?;
            let parsed: RawTopologyFile = file.parse()?;
            Some((file, parsed))
        }
    };
    let (topo_source, topo_prefix) = match &topology_file {
        Some((file, _)) => (file, ""),
        None => (source, "network."),
    };
    let (ases, links, generated) = match &raw.generate {
        Some(g) => {
            if !raw.ases.is_empty() || !raw.links.is_empty() || raw.topology.is_some() {
                return Err(source.field_error(
                    "network.generate",
                    "give one of `generate`, `topology` or `as` and `links`",
                ));
            }
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
            let mut cities: BTreeMap<String, LatLon> = BTreeMap::new();
            for (code, loc) in &site_locs {
                cities.insert(code.clone(), *loc);
            }
            for (p, loc) in raw.populations.iter().zip(&pop_locs) {
                cities.insert(p.city.clone(), *loc);
            }
            let list: Vec<(String, LatLon)> = cities.into_iter().collect();
            let g = generate(&params, &list, &mut draw);
            (g.ases.clone(), g.links.clone(), Some(g))
        }
        None => {
            let (raw_ases, raw_links) = match &topology_file {
                Some((_, t)) => (&t.ases, &t.links),
                None => (&raw.ases, &raw.links),
            };
            let mut ases = Vec::new();
            for (i, a) in raw_ases.iter().enumerate() {
                let mut pops = Vec::new();
                for (j, code) in a.pops.iter().enumerate() {
                    pops.push(PopSpec {
                        name: code.clone(),
                        location: city_location(
                            topo_source,
                            &format!("{topo_prefix}as[{i}].pops[{j}]"),
                            code,
                        )?,
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
                    (None, None, Some(peers)) if peers.len() == 2 => {
                        (peers[0], peers[1], LinkKind::Peer)
                    }
                    _ => return Err(topo_source.field_error(
                        &format!("{topo_prefix}links[{i}]"),
                        "a link is either `provider = ASN, customer = ASN` or `peers = [ASN, ASN]`",
                    )),
                };
                links.push(LinkSpec {
                    a: Asn(a),
                    b: Asn(b),
                    kind,
                    at: l.at.clone(),
                });
            }
            (ases, links, None)
        }
    };

    let mut sites = Vec::new();
    let mut announcements = Vec::new();
    for (i, s) in raw.sites.iter().enumerate() {
        let f = |name: &str| format!("network.sites[{i}].{name}");
        let mut upstreams: Vec<UpstreamSpec> = s
            .upstreams
            .iter()
            .map(|&a| UpstreamSpec {
                asn: Asn(a),
                rel: Relationship::Provider,
            })
            .chain(s.peers.iter().map(|&a| UpstreamSpec {
                asn: Asn(a),
                rel: Relationship::Peer,
            }))
            .collect();
        if let (Some(g), true) = (&generated, upstreams.is_empty()) {
            upstreams = g.site_upstreams(site_locs[i].1);
        }
        if sites.iter().any(|x: &SiteSpec| x.name == s.tag) {
            return Err(source.field_error(&f("tag"), format!("site `{}` is listed twice", s.tag)));
        }
        sites.push(SiteSpec {
            name: s.tag.clone(),
            location: site_locs[i].1,
            upstreams,
        });
        announcements.push(Announcement {
            site: i,
            announce: s.announce.unwrap_or(true),
            prepends: int_in(source, &f("prepends"), s.prepends, 0, 0..=10)? as u8,
            med: int_in(source, &f("med"), s.med, 0, 0..=i64::from(u32::MAX))? as u32,
            requested_local_pref: match s.local_pref {
                None => None,
                Some(v) => Some(int_in(
                    source,
                    &f("local_pref"),
                    Some(v),
                    0,
                    0..=i64::from(u32::MAX),
                )? as u32),
            },
            prefix_len: int_in(source, &f("prefix_len"), s.prefix_len, 24, 8..=24)? as u8,
        });
    }

    let mut populations = Vec::new();
    for (i, p) in raw.populations.iter().enumerate() {
        let weight = p.weight.unwrap_or(1.0);
        if !(weight.is_finite() && weight >= 0.0) {
            return Err(source.field_error(
                &format!("network.populations[{i}].weight"),
                format!("{weight}; allowed: a finite number, zero or more"),
            ));
        }
        let isps: Vec<Option<Asn>> = match (p.isp, &generated) {
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
            populations.push((
                i,
                PopulationSpec {
                    name: p.city.clone(),
                    location: pop_locs[i],
                    weight: share,
                    isp,
                },
            ));
        }
    }
    let spec = TopologySpec {
        ases,
        links,
        origin,
        sites,
        populations: populations.iter().map(|(_, p)| p.clone()).collect(),
    };
    let built = Topology::build(&spec).map_err(|e| {
        // Errors about ASes and links point into the topology file (or the
        // inline tables); the rest into the scenario.
        let graph = |field: String| (topo_source, format!("{topo_prefix}{field}"));
        let here = |field: String| (source, field);
        let (file, field) = match &e {
            TopologyError::DuplicateAs { index, .. } | TopologyError::NoPops { index, .. } => {
                graph(format!("as[{index}]"))
            }
            TopologyError::OriginListed { .. } => here("network.origin_asn".to_string()),
            TopologyError::UnknownAs { place, .. } => match place {
                AsReference::LinkA(i) | AsReference::LinkB(i) => graph(format!("links[{i}]")),
                AsReference::SiteUpstream { site, .. } => here(format!("network.sites[{site}]")),
                AsReference::PopulationIsp(i) => {
                    here(format!("network.populations[{}].isp", populations[*i].0))
                }
            },
            TopologyError::SelfLink { index, .. } | TopologyError::UnknownPop { index, .. } => {
                graph(format!("links[{index}]"))
            }
            TopologyError::ProviderCycle { .. } => graph("links".to_string()),
            TopologyError::NoSites => here("network.sites".to_string()),
            TopologyError::SiteWithoutUpstream { index, .. } => {
                here(format!("network.sites[{index}]"))
            }
            TopologyError::CustomerUpstream { site, .. } => here(format!("network.sites[{site}]")),
            TopologyError::PopulationWithoutIsp { index, .. }
            | TopologyError::BadWeight { index, .. } => {
                here(format!("network.populations[{}]", populations[*index].0))
            }
        };
        // The model's message starts with its own path ("links[3].b: ...");
        // the located field already says where.
        let message = e.to_string();
        let message = match message.split_once(": ") {
            Some((head, rest)) if head.contains('[') => rest.to_string(),
            _ => message,
        };
        file.field_error(&field, message)
    })?;

    let site_index = |field: &str, tag: &str| -> Result<usize, InputError> {
        raw.sites.iter().position(|s| s.tag == tag).ok_or_else(|| {
            source.field_error(
                field,
                format!(
                    "unknown site `{tag}`; allowed: {}",
                    raw.sites
                        .iter()
                        .map(|s| s.tag.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
    };
    let sweep_site = raw
        .sweep_site
        .as_deref()
        .map(|t| site_index("network.sweep_site", t))
        .transpose()?;

    let failure = match &raw.failure {
        None => None,
        Some(f) => {
            let site = site_index("network.failure.site", &f.site)?;
            let kind = match (f.kind.as_str(), f.detection.as_deref()) {
                ("shutdown", None) => FailureKind::Shutdown {
                    drain: f.drain.map_or(DEFAULT_DRAIN, |d| d.0),
                },
                ("crash", None | Some("hold-timer")) => {
                    let hold = f.hold_time.map_or(DEFAULT_HOLD_TIME, |d| d.0);
                    let keepalive = f.keepalive.map_or(DEFAULT_KEEPALIVE, |d| d.0);
                    if keepalive == SimDuration::ZERO || keepalive > hold {
                        return Err(source.field_error(
                            "network.failure.keepalive",
                            "must be above zero and no longer than hold_time (RFC 4271 suggests a third of it)",
                        ));
                    }
                    FailureKind::Crash(Detection::HoldTimer { hold, keepalive })
                }
                ("crash", Some("bfd")) => {
                    let interval = f.bfd_interval.map_or(DEFAULT_BFD_INTERVAL, |d| d.0);
                    if interval == SimDuration::ZERO {
                        return Err(source
                            .field_error("network.failure.bfd_interval", "must be above zero"));
                    }
                    FailureKind::Crash(Detection::Bfd {
                        interval,
                        multiplier: int_in(
                            source,
                            "network.failure.bfd_multiplier",
                            f.bfd_multiplier,
                            i64::from(DEFAULT_BFD_MULTIPLIER),
                            1..=255,
                        )? as u32,
                    })
                }
                ("service-down", None | Some("health-check")) => {
                    let interval = f.health_interval.map_or(DEFAULT_HEALTH_INTERVAL, |d| d.0);
                    if interval == SimDuration::ZERO {
                        return Err(source
                            .field_error("network.failure.health_interval", "must be above zero"));
                    }
                    FailureKind::ServiceDown {
                        interval,
                        failures: int_in(
                            source,
                            "network.failure.health_failures",
                            f.health_failures,
                            i64::from(DEFAULT_HEALTH_FAILURES),
                            1..=100,
                        )? as u32,
                    }
                }
                (kind, detection) => {
                    let field = if matches!(kind, "shutdown" | "crash" | "service-down") {
                        "network.failure.detection"
                    } else {
                        "network.failure.kind"
                    };
                    return Err(source.field_error(
                        field,
                        format!(
                            "kind `{kind}` with detection `{}`; allowed: kind \"shutdown\" (no detection), \
                             \"crash\" with detection \"hold-timer\" or \"bfd\", \"service-down\" with \"health-check\"",
                            detection.unwrap_or("(none)")
                        ),
                    ));
                }
            };
            Some(FailureSpec {
                site,
                at: f.at.0,
                kind,
            })
        }
    };
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
    let (duration, request_rate_per_s) = match &raw.run {
        Some(r) => (r.duration.0, r.request_rate.0),
        None => (SimDuration::from_secs(300), 1000.0),
    };
    if duration == SimDuration::ZERO {
        return Err(source.field_error("network.run.duration", "must be longer than zero"));
    }
    Ok(NetworkSpec {
        topology: spec,
        built,
        announcements,
        latency,
        decision: DecisionConfig {
            always_compare_med: raw.always_compare_med.unwrap_or(false),
        },
        ebgp_mrai: raw.mrai.map_or(DEFAULT_EBGP_MRAI, |d| d.0),
        ibgp_mrai: raw.ibgp_mrai.map_or(DEFAULT_IBGP_MRAI, |d| d.0),
        processing_delay,
        mrai_busy,
        sweep_site,
        failure,
        duration,
        request_rate_per_s,
    })
}
