//! The BGP policy written under `[network]`: who exports what to whom.
//!
//! ```toml
//! [network]
//! export = "gao-rexford"        # every AS: "gao-rexford" (default) | "all" (a policy-free mesh)
//!
//! [[network.policies]]          # one AS's own export policy, over `export`
//! asn = 65200
//! export = "route-server"       # "gao-rexford" | "all" | "route-server" | "none"
//! # export_to = [65010]         # or: Gao-Rexford, but only to these neighbour ASes
//!
//! [[network.sessions]]          # the sessions between two ASes, both ways...
//! between = [64500, 65020]      # export and no_export: what the first sends the second
//! mrai = "5s"                   # over network.mrai / ibgp_mrai; "0s" turns it off
//! rate_limit_withdrawals = true # withdrawals wait for MRAI too (default false)
//! sender_side_loop_detection = true  # a route through the receiver's AS is not sent
//! out_delay = "1s"              # each UPDATE waits this long first (Junos out-delay)
//! export = "none"               # "gao-rexford" | "all" | "none"
//! no_export = true              # tag routes NO_EXPORT (RFC 1997)
//!
//! [[network.sessions]]          # ...or one site's sessions with one of its upstreams
//! site = "ams1"
//! upstream = 65010
//! detection = "bfd"             # "hold-timer" | "bfd" | "link-down", [detection]'s
//! bfd_interval = "50ms"         # settings unless given here (hold_time, keepalive,
//! bfd_multiplier = 3            # bfd_interval, bfd_multiplier, link_down_delay)
//! ```
//!
//! ```toml
//! [[network.igp_links]]         # an AS's IGP: its PoPs' costs become shortest paths
//! asn = 65030                   # over these links instead of great-circle km
//! between = ["sha", "hgh"]      # two PoPs of the AS; the links must connect them all
//! metric = 10                   # 1 to 16777215
//!
//! [network.damping]             # RFC 2439 flap damping of eBGP routes; written, it is on
//! penalty = 1000                # per withdrawal     (defaults: Cisco IOS's)
//! attribute_change_penalty = 500
//! suppress = 2000               # suppressed above this penalty...
//! reuse = 750                   # ...until it decays below this
//! half_life = "15m"
//! max_suppress = "60m"
//! ```
//!
//! A session's detection is how its neighbour notices a dead router
//! ([`BgpNetwork::detections`](cutover_models::bgp::network::BgpNetwork::detections)).

use std::collections::{BTreeMap, BTreeSet};

use cutover_models::bgp::policy::{
    ExportPolicy, IgpLink, SessionConfig, SiteSession, TopologyOptions,
};
use cutover_models::bgp::Asn;
use cutover_models::failure::{DampingParams, Detection};
use cutover_models::SimDuration;
use serde::Deserialize;

use super::detection::{CrashDetection, DetectionSettings};
use super::network::Graph;
use crate::scenario::units::Duration;
use crate::scenario::{InputError, Source};

/// `[[network.policies]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    asn: u32,
    export: Option<String>,
    export_to: Option<Vec<u32>>,
}

/// What `[network]` says about BGP policy, as written.
pub(crate) struct RawBgpPolicy<'a> {
    /// `network.export`.
    pub(crate) export: Option<&'a str>,
    /// `[[network.policies]]`.
    pub(crate) policies: &'a [RawPolicy],
    /// `[network.damping]`.
    pub(crate) damping: Option<&'a RawDamping>,
    /// `[[network.igp_links]]`.
    pub(crate) igp_links: &'a [RawIgpLink],
}

/// The BGP policy of an estate beyond its AS graph.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BgpPolicy {
    /// Export policies per AS and per link, NO_EXPORT tags and the
    /// settings of sessions between two ASes, ready for
    /// [`Topology::with_options`](cutover_models::bgp::topology::Topology::with_options).
    pub options: TopologyOptions,
    /// Settings of a site's sessions with one upstream AS, by site tag
    /// (indexed when the topology is built, after an experiment's changes).
    pub site_sessions: Vec<(String, Asn, SiteSession)>,
    /// RFC 2439 route flap damping of routes learned over eBGP, if on.
    pub damping: Option<DampingParams>,
}

/// The export policy named `name` at `field`; `allowed` lists the names
/// this place accepts.
pub(crate) fn export_policy(
    source: &Source,
    field: &str,
    name: &str,
    allowed: &[&str],
) -> Result<ExportPolicy, InputError> {
    let policy = match name {
        "gao-rexford" => Some(ExportPolicy::GaoRexford),
        "all" => Some(ExportPolicy::All),
        "route-server" => Some(ExportPolicy::RouteServer),
        "none" => Some(ExportPolicy::ToSet(BTreeSet::new())),
        _ => None,
    };
    match policy {
        Some(p) if allowed.contains(&name) => Ok(p),
        _ => Err(source.field_error(
            field,
            format!(
                "`{name}`; allowed: {}",
                allowed
                    .iter()
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// `asn` at `field` if it is an AS of the graph.
pub(crate) fn graph_asn(
    source: &Source,
    field: &str,
    asn: u32,
    graph: &Graph,
) -> Result<Asn, InputError> {
    if graph.ases.iter().any(|a| a.asn == Asn(asn)) {
        Ok(Asn(asn))
    } else {
        Err(source.field_error(
            field,
            format!("AS{asn} is not in the AS graph; allowed: an ASN of the graph's [[as]]"),
        ))
    }
}

/// Validates the export policies against the graph.
pub(crate) fn validate(
    source: &Source,
    raw: &RawBgpPolicy<'_>,
    graph: &Graph,
) -> Result<BgpPolicy, InputError> {
    let mut export = BTreeMap::new();
    if let Some(name) = raw.export {
        let all = export_policy(source, "network.export", name, &["gao-rexford", "all"])?;
        if all != ExportPolicy::GaoRexford {
            export.extend(graph.ases.iter().map(|a| (a.asn, all.clone())));
        }
    }
    let mut seen = BTreeSet::new();
    for (i, p) in raw.policies.iter().enumerate() {
        let at = format!("network.policies[{i}]");
        let asn = graph_asn(source, &format!("{at}.asn"), p.asn, graph)?;
        if !seen.insert(asn) {
            return Err(source.field_error(
                &format!("{at}.asn"),
                format!("{asn} has a policy already; allowed: one [[network.policies]] per AS"),
            ));
        }
        export.insert(asn, as_policy(source, &at, p, graph)?);
    }
    Ok(BgpPolicy {
        options: TopologyOptions {
            export,
            igp: igp_links(source, raw.igp_links, graph)?,
            ..TopologyOptions::default()
        },
        site_sessions: Vec::new(),
        damping: raw.damping.map(|d| damping(source, d)).transpose()?,
    })
}

/// One AS's policy: a named one or `export_to`.
fn as_policy(
    source: &Source,
    at: &str,
    p: &RawPolicy,
    graph: &Graph,
) -> Result<ExportPolicy, InputError> {
    match (&p.export, &p.export_to) {
        (Some(name), None) => export_policy(
            source,
            &format!("{at}.export"),
            name,
            &["gao-rexford", "all", "route-server", "none"],
        ),
        (None, Some(to)) => {
            let mut set = BTreeSet::new();
            for (j, &asn) in to.iter().enumerate() {
                set.insert(graph_asn(
                    source,
                    &format!("{at}.export_to[{j}]"),
                    asn,
                    graph,
                )?);
            }
            Ok(ExportPolicy::ToSet(set))
        }
        _ => Err(source.field_error(
            at,
            "give one of `export` (a policy's name) or `export_to` (a list of neighbour ASNs)",
        )),
    }
}

/// `[[network.sessions]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSession {
    between: Option<Vec<u32>>,
    site: Option<String>,
    upstream: Option<u32>,
    mrai: Option<Duration>,
    rate_limit_withdrawals: Option<bool>,
    detection: Option<String>,
    hold_time: Option<Duration>,
    keepalive: Option<Duration>,
    bfd_interval: Option<Duration>,
    bfd_multiplier: Option<i64>,
    link_down_delay: Option<Duration>,
    sender_side_loop_detection: Option<bool>,
    out_delay: Option<Duration>,
    export: Option<String>,
    no_export: Option<bool>,
}

/// The sessions one `[[network.sessions]]` entry configures.
enum Ends {
    /// Every session between two ASes (routes go from the first to the
    /// second for `export` and `no_export`).
    Ases(Asn, Asn),
    /// A site's sessions with one of its upstreams.
    Site(String, Asn),
}

/// Longest `out_delay` a session may add: 10 minutes, far beyond any
/// router's (Junos allows `out-delay` up to 65,535 s, but a delay of
/// minutes already hides every convergence effect the model measures).
const MAX_OUT_DELAY: SimDuration = SimDuration::from_secs(600);

/// A duration of at least 1 ms at `field`.
fn positive(source: &Source, field: &str, d: Duration) -> Result<SimDuration, InputError> {
    if d.0 < SimDuration::from_millis(1) {
        Err(source.field_error(field, format!("{}; allowed: at least \"1ms\"", d.0)))
    } else {
        Ok(d.0)
    }
}

/// An MRAI at `field`: `"0s"` (off) or at least 10 ms.
pub(crate) fn mrai(
    source: &Source,
    field: &str,
    d: SimDuration,
) -> Result<SimDuration, InputError> {
    if d != SimDuration::ZERO && d < SimDuration::from_millis(10) {
        // A timer firing every few nanoseconds would never let a run end.
        Err(source.field_error(
            field,
            format!("{d}; allowed: \"0s\" (off) or at least \"10ms\""),
        ))
    } else {
        Ok(d)
    }
}

/// Validates `[[network.sessions]]` against the estate's graph, origins,
/// sites and detection settings, and adds them to its policy.
pub(crate) fn add_sessions(
    source: &Source,
    raw: &[RawSession],
    estate: &mut super::Estate,
) -> Result<(), InputError> {
    let mut pairs = BTreeSet::new();
    for (i, s) in raw.iter().enumerate() {
        let at = format!("network.sessions[{i}]");
        let ends = session_ends(source, &at, s, estate)?;
        let key = match &ends {
            Ends::Ases(a, b) => (a.min(b).0.to_string(), a.max(b).0),
            Ends::Site(tag, up) => (tag.clone(), up.0),
        };
        if !pairs.insert(key) {
            return Err(source.field_error(
                &at,
                "these sessions are configured above already; allowed: one entry per pair",
            ));
        }
        let session = SessionConfig {
            mrai: s
                .mrai
                .map(|d| mrai(source, &format!("{at}.mrai"), d.0))
                .transpose()?,
            rate_limit_withdrawals: s.rate_limit_withdrawals.unwrap_or(false),
            detection: session_detection(source, &at, s, &estate.detection)?,
            sender_side_loop_detection: s.sender_side_loop_detection.unwrap_or(false),
            out_delay: out_delay(source, &at, s.out_delay)?,
        };
        let export = s
            .export
            .as_deref()
            .map(|name| {
                export_policy(
                    source,
                    &format!("{at}.export"),
                    name,
                    &["gao-rexford", "all", "none"],
                )
            })
            .transpose()?;
        let no_export = s.no_export.unwrap_or(false);
        let policy = &mut estate.bgp_policy;
        match ends {
            Ends::Ases(a, b) => {
                if a == b && (export.is_some() || no_export) {
                    return Err(source.field_error(
                        &format!("{at}.between"),
                        "an AS with itself is its iBGP mesh, which has no export policy or \
                         NO_EXPORT; allowed: two different ASNs",
                    ));
                }
                policy.options.sessions.insert((a, b), session);
                if let Some(p) = export {
                    policy.options.link_export.insert((a, b), p);
                }
                if no_export {
                    policy.options.no_export.insert((a, b));
                }
            }
            Ends::Site(tag, up) => policy.site_sessions.push((
                tag,
                up,
                SiteSession {
                    session,
                    export,
                    no_export,
                },
            )),
        }
    }
    Ok(())
}

/// `out_delay` at `at`: zero when absent, at most [`MAX_OUT_DELAY`].
fn out_delay(source: &Source, at: &str, d: Option<Duration>) -> Result<SimDuration, InputError> {
    let v = d.map_or(SimDuration::ZERO, |d| d.0);
    if v > MAX_OUT_DELAY {
        return Err(source.field_error(
            &format!("{at}.out_delay"),
            format!("{v}; allowed: at most {MAX_OUT_DELAY}"),
        ));
    }
    Ok(v)
}

/// Which sessions an entry names: `between = [ASN, ASN]`, or `site` and
/// one of its `upstream`s.
fn session_ends(
    source: &Source,
    at: &str,
    s: &RawSession,
    estate: &super::Estate,
) -> Result<Ends, InputError> {
    let known = |field: &str, asn: u32| -> Result<Asn, InputError> {
        let a = Asn(asn);
        let origin =
            a == estate.network.origin || estate.sites.iter().any(|x| x.network.origin == Some(a));
        if origin || estate.graph.ases.iter().any(|x| x.asn == a) {
            Ok(a)
        } else {
            Err(source.field_error(
                field,
                format!("AS{asn} is neither in the AS graph nor an origin AS; allowed: an ASN of the graph or of a site"),
            ))
        }
    };
    match (&s.between, &s.site, s.upstream) {
        (Some(pair), None, None) if pair.len() == 2 => Ok(Ends::Ases(
            known(&format!("{at}.between[0]"), pair[0])?,
            known(&format!("{at}.between[1]"), pair[1])?,
        )),
        (None, Some(tag), Some(up)) => {
            let Some(k) = estate.site_index(tag) else {
                return Err(source.field_error(
                    &format!("{at}.site"),
                    format!("unknown site `{tag}`; allowed: {}", estate.site_tags()),
                ));
            };
            let ups = &estate.sites[k].network.upstreams;
            if !ups.iter().any(|u| u.asn == Asn(up)) {
                let names: Vec<String> = ups.iter().map(|u| u.asn.0.to_string()).collect();
                return Err(source.field_error(
                    &format!("{at}.upstream"),
                    format!(
                        "AS{up} is not an upstream or peer of {tag}; allowed: {}",
                        names.join(", ")
                    ),
                ));
            }
            Ok(Ends::Site(tag.clone(), Asn(up)))
        }
        _ => Err(source.field_error(
            at,
            "name the sessions with `between = [ASN, ASN]`, or `site = \"tag\"` and \
             `upstream = ASN`",
        )),
    }
}

/// The detection an entry sets, if any: the method named (or implied by
/// the fields given), with `[detection]`'s settings for it and the
/// entry's own over them.
fn session_detection(
    source: &Source,
    at: &str,
    s: &RawSession,
    defaults: &DetectionSettings,
) -> Result<Option<Detection>, InputError> {
    let f = |name: &str| format!("{at}.{name}");
    let hold = s.hold_time.is_some() || s.keepalive.is_some();
    let bfd = s.bfd_interval.is_some() || s.bfd_multiplier.is_some();
    let link = s.link_down_delay.is_some();
    let implied = match (hold, bfd, link) {
        (false, false, false) => None,
        (true, false, false) => Some(CrashDetection::HoldTimer),
        (false, true, false) => Some(CrashDetection::Bfd),
        (false, false, true) => Some(CrashDetection::LinkDown),
        _ => {
            return Err(source.field_error(
                at,
                "settings of two detection methods; allowed: those of one (hold_time and \
                 keepalive, bfd_interval and bfd_multiplier, or link_down_delay)",
            ))
        }
    };
    let method = match s.detection.as_deref() {
        None => implied,
        Some(name) => {
            let m = CrashDetection::parse(name).ok_or_else(|| {
                source.field_error(
                    &f("detection"),
                    format!("`{name}`; allowed: {}", CrashDetection::NAMES),
                )
            })?;
            if implied.is_some_and(|i| i != m) {
                return Err(source.field_error(
                    &f("detection"),
                    format!("`{name}`, but the entry gives another method's settings"),
                ));
            }
            Some(m)
        }
    };
    let Some(method) = method else {
        return Ok(None);
    };
    let d = match (method, defaults.crash(method)) {
        (CrashDetection::HoldTimer, Detection::HoldTimer { hold, keepalive }) => {
            let hold = s
                .hold_time
                .map_or(Ok(hold), |d| positive(source, &f("hold_time"), d))?;
            let keepalive = s
                .keepalive
                .map_or(Ok(keepalive), |d| positive(source, &f("keepalive"), d))?;
            if keepalive > hold {
                return Err(source.field_error(
                    &f("keepalive"),
                    format!(
                        "{keepalive} is longer than the hold time {hold}; allowed: at most the \
                         hold time (RFC 4271 suggests a third of it)"
                    ),
                ));
            }
            Detection::HoldTimer { hold, keepalive }
        }
        (
            CrashDetection::Bfd,
            Detection::Bfd {
                interval,
                multiplier,
            },
        ) => Detection::Bfd {
            interval: s
                .bfd_interval
                .map_or(Ok(interval), |d| positive(source, &f("bfd_interval"), d))?,
            multiplier: match s.bfd_multiplier {
                None => multiplier,
                Some(m) if (1..=255).contains(&m) => m as u32,
                Some(m) => {
                    return Err(source.field_error(
                        &f("bfd_multiplier"),
                        format!("{m}; allowed: a whole number from 1 to 255"),
                    ))
                }
            },
        },
        (_, Detection::LinkDown { delay }) => Detection::LinkDown {
            delay: s
                .link_down_delay
                .map_or(Ok(delay), |d| positive(source, &f("link_down_delay"), d))?,
        },
        (_, other) => other,
    };
    Ok(Some(d))
}

/// `[network.damping]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDamping {
    penalty: Option<f64>,
    attribute_change_penalty: Option<f64>,
    suppress: Option<f64>,
    reuse: Option<f64>,
    half_life: Option<Duration>,
    max_suppress: Option<Duration>,
}

/// Validates `[network.damping]`: Cisco IOS's defaults
/// ([`DampingParams::CISCO`], which cites them) for what is not written.
pub(crate) fn damping(source: &Source, raw: &RawDamping) -> Result<DampingParams, InputError> {
    let d = DampingParams::CISCO;
    let f = |name: &str| format!("network.damping.{name}");
    let number = |name: &str, v: Option<f64>, default: f64| {
        let v = v.unwrap_or(default);
        if v.is_finite() && (0.0..=1e9).contains(&v) {
            Ok(v)
        } else {
            Err(source.field_error(&f(name), format!("{v}; allowed: a number from 0 to 1e9")))
        }
    };
    let params = DampingParams {
        penalty: number("penalty", raw.penalty, d.penalty)?,
        attribute_change_penalty: number(
            "attribute_change_penalty",
            raw.attribute_change_penalty,
            d.attribute_change_penalty,
        )?,
        suppress: number("suppress", raw.suppress, d.suppress)?,
        reuse: number("reuse", raw.reuse, d.reuse)?,
        half_life: raw
            .half_life
            .map_or(Ok(d.half_life), |v| positive(source, &f("half_life"), v))?,
        max_suppress: raw.max_suppress.map_or(Ok(d.max_suppress), |v| {
            positive(source, &f("max_suppress"), v)
        })?,
    };
    if params.reuse <= 0.0 || params.reuse >= params.suppress {
        return Err(source.field_error(
            &f("reuse"),
            format!(
                "{}; allowed: above 0 and below suppress ({})",
                params.reuse, params.suppress
            ),
        ));
    }
    if params.ceiling() <= params.suppress {
        // RFC 2439 section 4.2: the ceiling caps the penalty.
        return Err(source.field_error(
            &f("max_suppress"),
            format!(
                "{}: the penalty's ceiling, reuse x 2^(max_suppress / half_life) = {:.0}, does \
                 not exceed suppress ({}), so no route could ever be suppressed; allowed: a \
                 longer max_suppress or a lower suppress",
                params.max_suppress,
                params.ceiling(),
                params.suppress
            ),
        ));
    }
    Ok(params)
}

/// `[[network.igp_links]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIgpLink {
    asn: u32,
    between: Vec<String>,
    metric: i64,
}

/// Highest IGP metric: 16,777,215, the largest wide metric of IS-IS (RFC
/// 5305 section 3.7, 24 bits); OSPF's stop at 65,535 (RFC 2328).
const MAX_IGP_METRIC: i64 = (1 << 24) - 1;

/// Validates `[[network.igp_links]]`: per AS, links between two of its
/// PoPs that connect them all.
pub(crate) fn igp_links(
    source: &Source,
    raw: &[RawIgpLink],
    graph: &Graph,
) -> Result<BTreeMap<Asn, Vec<IgpLink>>, InputError> {
    let mut igp: BTreeMap<Asn, Vec<IgpLink>> = BTreeMap::new();
    let mut first: BTreeMap<Asn, usize> = BTreeMap::new();
    for (i, l) in raw.iter().enumerate() {
        let at = format!("network.igp_links[{i}]");
        let asn = graph_asn(source, &format!("{at}.asn"), l.asn, graph)?;
        let pops = &graph
            .ases
            .iter()
            .find(|a| a.asn == asn)
            .expect("checked")
            .pops;
        if l.between.len() != 2 || l.between[0] == l.between[1] {
            return Err(source.field_error(
                &format!("{at}.between"),
                "allowed: two different PoP names of the AS, e.g. [\"nyc\", \"iad\"]",
            ));
        }
        for (j, name) in l.between.iter().enumerate() {
            if !pops.iter().any(|p| &p.name == name) {
                let names: Vec<&str> = pops.iter().map(|p| p.name.as_str()).collect();
                return Err(source.field_error(
                    &format!("{at}.between[{j}]"),
                    format!("{asn} has no PoP `{name}`; allowed: {}", names.join(", ")),
                ));
            }
        }
        if !(1..=MAX_IGP_METRIC).contains(&l.metric) {
            return Err(source.field_error(
                &format!("{at}.metric"),
                format!(
                    "{}; allowed: a whole number from 1 to {MAX_IGP_METRIC}",
                    l.metric
                ),
            ));
        }
        first.entry(asn).or_insert(i);
        igp.entry(asn).or_default().push(IgpLink {
            a: l.between[0].clone(),
            b: l.between[1].clone(),
            metric: l.metric as u64,
        });
    }
    for (asn, links) in &igp {
        if let Some(cut) = unreached_pop(graph, *asn, links) {
            return Err(source.field_error(
                &format!("network.igp_links[{}]", first[asn]),
                format!(
                    "the IGP links of {asn} do not reach its PoP `{cut}`; allowed: links that \
                     connect every PoP of the AS"
                ),
            ));
        }
    }
    Ok(igp)
}

/// A PoP of `asn` that `links` do not connect to its first PoP, if any.
fn unreached_pop(graph: &Graph, asn: Asn, links: &[IgpLink]) -> Option<String> {
    let pops = &graph.ases.iter().find(|a| a.asn == asn)?.pops;
    let mut reached: BTreeSet<&str> = BTreeSet::from([pops.first()?.name.as_str()]);
    loop {
        let before = reached.len();
        for l in links {
            if reached.contains(l.a.as_str()) || reached.contains(l.b.as_str()) {
                reached.insert(&l.a);
                reached.insert(&l.b);
            }
        }
        if reached.len() == before {
            break;
        }
    }
    pops.iter()
        .find(|p| !reached.contains(p.name.as_str()))
        .map(|p| p.name.clone())
}
