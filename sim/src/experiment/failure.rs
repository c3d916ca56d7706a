//! An experiment's `[[failures]]`: what breaks, where, when, for how long,
//! and how the network notices.
//!
//! ```toml
//! [[failures]]
//! site = "ams1"
//! at = "2m50s"
//! kind = "crash"           # see the kinds below
//! duration = "1h"          # optional: the site comes back after it
//! detection = "bfd"        # crash: "hold-timer" | "bfd" | "link-down"
//!                          # (default: the estate's [detection].crash)
//! ```
//!
//! Every failure takes `at` and an optional `duration`, after which what
//! failed comes back (without one it lasts to the end of the run). The
//! kinds, with the fields each takes besides:
//!
//! - `crash` (`detection`): the node loses power; requests in flight are
//!   reset and the upstreams drop their sessions after the detection
//!   delay. When it comes back its router starts, its sessions are
//!   established again (both ends), its pods start again through the
//!   estate's `[startup]` profile (cold), and it announces again once the
//!   estate's health check sees a ready pod.
//! - `shutdown` (`drain`, default 5 s): the site withdraws at once and the
//!   node stops `drain` later; it comes back as a crashed site does (the
//!   `duration` must exceed the drain).
//! - `service-down`: the service dies but the router keeps announcing
//!   until the estate's health check withdraws the route; it comes back
//!   as a crashed site does, its router never having stopped.
//! - `link-down` (`upstream`, an ASN among the site's upstreams;
//!   `detection`, default "link-down"): the site's session to that
//!   upstream goes down at both ends after the detection delay, and
//!   traffic moves as BGP says (what crosses the link during the delay is
//!   not counted lost); with `duration` the session is established again
//!   (when the last of overlapping link-downs of that link ends, and not
//!   while a flap of it is in its down half; a flap's sessions likewise
//!   stay down while a link-down holds them).
//! - `delay` (`extra`): every request served at the site takes `extra`
//!   longer (a slow dependency, a congested uplink): the site's latency,
//!   which the health gate and the slow threshold judge, and its users'.
//!   It starts and ends with the tick that holds `at` and its end.
//! - `spike` (`factor`; `populations`, labels as in the outputs, e.g.
//!   `["nyc", "lax"]`; default every population), without `site`: the
//!   demand of those users is multiplied by `factor` (overlapping spikes
//!   add their extra demand).
//! - `node-crash` / `node-shutdown` (`nodes`, default 1, at most the
//!   site's nodes at the start): the site's oldest `nodes` nodes fail.
//!   A crash loses their pods' requests in flight (reset); a shutdown
//!   drains them (they finish). The ReplicaSet recreates the pods on the
//!   nodes left, the cluster autoscaler (on a cloud pool) adds nodes for
//!   those that do not fit, and with `duration` the failed nodes are
//!   repaired and join again.
//! - `crash-loop` (`uptime`, default 0 s: how long each restarted
//!   container runs before it crashes again): every pod of the site
//!   crashes at once (requests in flight reset) and the kubelet restarts
//!   them after its CrashLoopBackOff (10 s doubling to 5 min, reset by 10
//!   min of running); the restart after `duration` succeeds. The router
//!   keeps announcing: users reaching a site with no ready pod are
//!   rejected.
//! - `bgp-flap` (`period`, default 60 s; `upstream`, to flap only the
//!   sessions to that upstream): every `period` from `at` the site's
//!   sessions go down at both ends, and come back up half a period later,
//!   until `duration` ends (when they come back up). With
//!   `[network.damping]` (in the estate, or the experiment's what-if),
//!   RFC 2439 damping at the routers suppresses the flapping route as real
//!   routers do, keeping users away until its penalty decays.
//! - `partition` (`with`, other sites cut off together with `site`, e.g.
//!   the Asia-Pacific sites from the rest): the sites on that side lose
//!   their links to the other sites, not to their users. They keep
//!   serving from their local replicas: no overflow crosses the cut, a
//!   synchronous class's writes there fail, a stream's writes queue (reads
//!   on the side go stale), an archive's copies do not arrive; when it
//!   heals (`duration`) each stream's backlog drains at its `catch_up`
//!   rate. The estate's `[[data]]` says how each class fares; the summary
//!   reports it.
//!
//! The detectors' settings (hold time, BFD interval, health check) are the
//! estate's `[detection]`.

use cutover_models::bgp::Asn;
use cutover_models::failure::{CrashLoopBackoff, Detection};
use cutover_models::SimDuration;
use serde::Deserialize;

use crate::estate::{CrashDetection, Estate};
use crate::scenario::units::Duration;
use crate::scenario::{InputError, Source};

/// Default time between a clean shutdown's withdrawal and the node going
/// dark: 5 s, the story's "withdrawn within 5 s" before the node stops.
pub const DEFAULT_DRAIN: SimDuration = SimDuration::from_secs(5);

/// `[[failures]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFailure {
    site: Option<String>,
    at: Duration,
    kind: String,
    duration: Option<Duration>,
    detection: Option<String>,
    drain: Option<Duration>,
    upstream: Option<u32>,
    extra: Option<Duration>,
    factor: Option<f64>,
    populations: Option<Vec<String>>,
    nodes: Option<i64>,
    uptime: Option<Duration>,
    period: Option<Duration>,
    with: Option<Vec<String>>,
}

/// Every kind, with the fields it takes besides `site`, `at` and
/// `duration`.
const KINDS: &[(&str, &[&str])] = &[
    ("crash", &["detection"]),
    ("shutdown", &["drain"]),
    ("service-down", &[]),
    ("link-down", &["upstream", "detection"]),
    ("delay", &["extra"]),
    ("spike", &["factor", "populations"]),
    ("node-crash", &["nodes"]),
    ("node-shutdown", &["nodes"]),
    ("crash-loop", &["uptime"]),
    ("bgp-flap", &["period", "upstream"]),
    ("partition", &["with"]),
];

/// Kinds that strike the traffic, not a site.
const TRAFFIC_KINDS: &[&str] = &["spike"];

impl RawFailure {
    /// The kind-specific fields given.
    fn given(&self) -> Vec<&'static str> {
        [
            ("detection", self.detection.is_some()),
            ("drain", self.drain.is_some()),
            ("upstream", self.upstream.is_some()),
            ("extra", self.extra.is_some()),
            ("factor", self.factor.is_some()),
            ("populations", self.populations.is_some()),
            ("nodes", self.nodes.is_some()),
            ("uptime", self.uptime.is_some()),
            ("period", self.period.is_some()),
            ("with", self.with.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }
}

/// How a site (or the traffic) fails.
#[derive(Debug, Clone, PartialEq)]
pub enum FailureKind {
    /// The operator shuts the node down: the site withdraws at once and the
    /// node stops after `drain`; requests in flight at power-off are reset.
    Shutdown {
        /// Time between the withdrawal and the node stopping.
        drain: SimDuration,
    },
    /// The node loses power; its neighbours notice by `detection` and drop
    /// the session; requests in flight are reset.
    Crash(Detection),
    /// The service dies but the router keeps announcing until `detection`
    /// (a health check) withdraws the route.
    ServiceDown(Detection),
    /// The site's session to `upstream` goes down; both ends notice by
    /// `detection`.
    LinkDown {
        /// The upstream AS.
        upstream: Asn,
        /// How both ends notice.
        detection: Detection,
    },
    /// Every request served at the site takes `extra` longer.
    Delay {
        /// The added latency.
        extra: SimDuration,
    },
    /// The demand of `populations` (every population when empty) is
    /// multiplied by `factor`.
    Spike {
        /// The multiplier.
        factor: f64,
        /// Indexes of the populations, none for all.
        populations: Vec<usize>,
    },
    /// `nodes` of the site's nodes crash: their pods' requests are lost.
    NodeCrash {
        /// How many.
        nodes: u32,
    },
    /// `nodes` of the site's nodes are drained and shut down.
    NodeShutdown {
        /// How many.
        nodes: u32,
    },
    /// The site's pods crash together and restart after `backoff`, each
    /// run lasting `uptime`.
    CrashLoop {
        /// How long a restarted container runs before it crashes again.
        uptime: SimDuration,
        /// The kubelet's back-off.
        backoff: CrashLoopBackoff,
    },
    /// The site's sessions go down every `period` and come back half a
    /// period later.
    BgpFlap {
        /// From one session loss to the next.
        period: SimDuration,
        /// Only the sessions to this upstream; none: every session.
        upstream: Option<Asn>,
    },
    /// The sites of `side` (the failure's site first) lose their links to
    /// every other site; their users still reach them.
    Partition {
        /// The sites cut off together, by index.
        side: Vec<usize>,
    },
}

/// A failure to inject.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Index of the site that fails; none for a failure of the traffic.
    pub site: Option<usize>,
    /// When, from the start of the run (or, given to
    /// [`World::inject`](crate::world::World::inject), from now).
    pub at: SimDuration,
    /// How long until what failed comes back; `None`: never.
    pub duration: Option<SimDuration>,
    /// How.
    pub kind: FailureKind,
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FailureKind::Shutdown { drain } => {
                write!(f, "clean shutdown (node stops {drain} after withdrawing)")
            }
            FailureKind::Crash(d) => write!(f, "crash detected by {d}"),
            FailureKind::ServiceDown(d) => write!(f, "service down, withdrawn by {d}"),
            FailureKind::LinkDown {
                upstream,
                detection,
            } => write!(f, "link to AS{} down, detected by {detection}", upstream.0),
            FailureKind::Delay { extra } => write!(f, "{extra} added to every request served"),
            FailureKind::Spike {
                factor,
                populations,
            } if populations.is_empty() => {
                write!(f, "demand x {factor}")
            }
            FailureKind::Spike {
                factor,
                populations,
            } => write!(f, "demand of {} populations x {factor}", populations.len()),
            FailureKind::NodeCrash { nodes } => write!(f, "{nodes} node(s) crash"),
            FailureKind::NodeShutdown { nodes } => {
                write!(f, "{nodes} node(s) drained and shut down")
            }
            FailureKind::CrashLoop { uptime, .. } => {
                write!(f, "pods crash-looping (each run {uptime})")
            }
            FailureKind::BgpFlap {
                period,
                upstream: None,
            } => write!(f, "BGP sessions flapping every {period}"),
            FailureKind::BgpFlap {
                period,
                upstream: Some(asn),
            } => write!(f, "BGP session to AS{} flapping every {period}", asn.0),
            FailureKind::Partition { side } => write!(
                f,
                "cut off from the other sites ({} site(s) on its side)",
                side.len()
            ),
        }
    }
}

impl FailureKind {
    /// The kind's name in a file.
    pub fn name(&self) -> &'static str {
        match self {
            FailureKind::Shutdown { .. } => "shutdown",
            FailureKind::Crash(_) => "crash",
            FailureKind::ServiceDown(_) => "service-down",
            FailureKind::LinkDown { .. } => "link-down",
            FailureKind::Delay { .. } => "delay",
            FailureKind::Spike { .. } => "spike",
            FailureKind::NodeCrash { .. } => "node-crash",
            FailureKind::NodeShutdown { .. } => "node-shutdown",
            FailureKind::CrashLoop { .. } => "crash-loop",
            FailureKind::BgpFlap { .. } => "bgp-flap",
            FailureKind::Partition { .. } => "partition",
        }
    }
}

/// Validates failure `i` against the estate (after the experiment's site
/// changes).
pub(crate) fn validate(
    source: &Source,
    i: usize,
    raw: &RawFailure,
    estate: &Estate,
    run: SimDuration,
) -> Result<Failure, InputError> {
    let at = format!("failures[{i}]");
    let err = |field: &str, msg: String| source.field_error(&format!("{at}.{field}"), msg);
    let Some((kind_name, fields)) = KINDS.iter().find(|(k, _)| *k == raw.kind) else {
        let names: Vec<String> = KINDS.iter().map(|(k, _)| format!("\"{k}\"")).collect();
        return Err(err(
            "kind",
            format!("`{}`; allowed: {}", raw.kind, names.join(", ")),
        ));
    };
    if let Some(field) = raw.given().into_iter().find(|f| !fields.contains(f)) {
        let takers: Vec<String> = KINDS
            .iter()
            .filter(|(_, fs)| fs.contains(&field))
            .map(|(k, _)| format!("\"{k}\""))
            .collect();
        return Err(err(
            field,
            format!(
                "applies to kind {} only; remove it for kind `{kind_name}`",
                takers.join(", ")
            ),
        ));
    }
    let site = if TRAFFIC_KINDS.contains(kind_name) {
        if raw.site.is_some() {
            return Err(err(
                "site",
                format!("kind `{kind_name}` strikes users, not a site; remove it (`populations` names the users)"),
            ));
        }
        None
    } else {
        Some(site_of(source, &at, raw, estate)?)
    };
    if raw.at.0 >= run {
        return Err(err(
            "at",
            format!(
                "{} is not before the end of the run ({run}); allowed: a time within experiment.duration",
                raw.at.0
            ),
        ));
    }
    let duration = match raw.duration {
        Some(d) if d.0 < SimDuration::from_millis(1) => {
            return Err(err(
                "duration",
                format!(
                    "{}; allowed: at least \"1ms\" (or no duration: to the end of the run)",
                    d.0
                ),
            ))
        }
        d => d.map(|d| d.0),
    };
    let kind = kind_of(source, &at, raw, estate, (site, duration))?;
    Ok(Failure {
        site,
        at: raw.at.0,
        duration,
        kind,
    })
}

/// The site a failure strikes.
fn site_of(
    source: &Source,
    at: &str,
    raw: &RawFailure,
    estate: &Estate,
) -> Result<usize, InputError> {
    let Some(tag) = &raw.site else {
        return Err(source.field_error(
            &format!("{at}.kind"),
            format!(
                "kind `{}` needs `site`; allowed: {}",
                raw.kind,
                estate.site_tags()
            ),
        ));
    };
    estate.site_index(tag).ok_or_else(|| {
        source.field_error(
            &format!("{at}.site"),
            format!("unknown site `{tag}`; allowed: {}", estate.site_tags()),
        )
    })
}

/// The kind with its own fields checked (`site`: the site it strikes,
/// none for a spike).
fn kind_of(
    source: &Source,
    at: &str,
    raw: &RawFailure,
    estate: &Estate,
    (site, duration): (Option<usize>, Option<SimDuration>),
) -> Result<FailureKind, InputError> {
    // Only the kinds of the traffic have no site, and they read none.
    let site = site.unwrap_or_default();
    Ok(match raw.kind.as_str() {
        "shutdown" => {
            let drain = raw.drain.map_or(DEFAULT_DRAIN, |d| d.0);
            if let Some(d) = duration.filter(|&d| d <= drain) {
                return Err(source.field_error(
                    &format!("{at}.duration"),
                    format!("{d}; allowed: longer than the drain ({drain}): the node must stop before it comes back"),
                ));
            }
            FailureKind::Shutdown { drain }
        }
        "crash" => FailureKind::Crash(detection(source, at, raw, estate, estate.detection.crash)?),
        "link-down" => FailureKind::LinkDown {
            upstream: upstream(source, at, raw.upstream, estate, site)?,
            detection: detection(source, at, raw, estate, CrashDetection::LinkDown)?,
        },
        "delay" => FailureKind::Delay {
            extra: extra(source, at, raw.extra)?,
        },
        "node-crash" => FailureKind::NodeCrash {
            nodes: node_count(source, at, raw.nodes, estate, site)?,
        },
        "node-shutdown" => FailureKind::NodeShutdown {
            nodes: node_count(source, at, raw.nodes, estate, site)?,
        },
        "crash-loop" => FailureKind::CrashLoop {
            uptime: raw.uptime.map_or(SimDuration::ZERO, |d| d.0),
            backoff: CrashLoopBackoff::KUBERNETES,
        },
        "bgp-flap" => FailureKind::BgpFlap {
            period: period(source, at, raw.period)?,
            upstream: match raw.upstream {
                None => None,
                Some(_) => Some(upstream(source, at, raw.upstream, estate, site)?),
            },
        },
        "partition" => FailureKind::Partition {
            side: side(source, at, raw.with.as_deref(), estate, site)?,
        },
        "spike" => FailureKind::Spike {
            factor: factor(source, at, raw.factor)?,
            populations: populations(source, at, raw.populations.as_deref(), estate)?,
        },
        _ => FailureKind::ServiceDown(estate.detection.health_check),
    })
}

/// The sites cut off together: `site`, then those `with` names; the other
/// side must keep at least one site.
fn side(
    source: &Source,
    at: &str,
    with: Option<&[String]>,
    estate: &Estate,
    site: usize,
) -> Result<Vec<usize>, InputError> {
    let mut side = vec![site];
    for (j, tag) in with.unwrap_or_default().iter().enumerate() {
        let Some(k) = estate.site_index(tag) else {
            return Err(source.field_error(
                &format!("{at}.with[{j}]"),
                format!("unknown site `{tag}`; allowed: {}", estate.site_tags()),
            ));
        };
        if !side.contains(&k) {
            side.push(k);
        }
    }
    if side.len() >= estate.sites.len() {
        return Err(source.field_error(
            &format!("{at}.with"),
            "every site is on one side; allowed: sites that leave at least one on the other side",
        ));
    }
    Ok(side)
}

/// The detection a failure names, or `default`.
fn detection(
    source: &Source,
    at: &str,
    raw: &RawFailure,
    estate: &Estate,
    default: CrashDetection,
) -> Result<Detection, InputError> {
    let method = match raw.detection.as_deref() {
        None => default,
        Some(name) => CrashDetection::parse(name).ok_or_else(|| {
            source.field_error(
                &format!("{at}.detection"),
                format!("`{name}`; allowed: {}", CrashDetection::NAMES),
            )
        })?,
    };
    Ok(estate.detection.crash(method))
}

/// A link-down's upstream: one of the site's.
fn upstream(
    source: &Source,
    at: &str,
    upstream: Option<u32>,
    estate: &Estate,
    site: usize,
) -> Result<Asn, InputError> {
    let Some(upstream) = upstream.map(Asn) else {
        return Err(source.field_error(
            &format!("{at}.kind"),
            "kind `link-down` needs `upstream`, the ASN of one of the site's upstreams",
        ));
    };
    let ups = &estate.sites[site].network.upstreams;
    if ups.iter().any(|u| u.asn == upstream) {
        return Ok(upstream);
    }
    let allowed: Vec<String> = ups.iter().map(|u| u.asn.0.to_string()).collect();
    Err(source.field_error(
        &format!("{at}.upstream"),
        format!(
            "AS{} is not an upstream of `{}`; allowed: {}",
            upstream.0,
            estate.sites[site].network.tag,
            allowed.join(", ")
        ),
    ))
}

/// Most latency a `delay` adds: a minute, beyond any request's timeout.
pub const MAX_EXTRA: SimDuration = SimDuration::from_secs(60);

/// A delay's `extra`: given, above zero, at most [`MAX_EXTRA`].
fn extra(source: &Source, at: &str, extra: Option<Duration>) -> Result<SimDuration, InputError> {
    let Some(Duration(d)) = extra else {
        return Err(source.field_error(
            &format!("{at}.kind"),
            "kind `delay` needs `extra`, the latency added, e.g. \"80ms\"",
        ));
    };
    if d == SimDuration::ZERO || d > MAX_EXTRA {
        return Err(source.field_error(
            &format!("{at}.extra"),
            format!("{d}; allowed: above zero and at most {MAX_EXTRA}"),
        ));
    }
    Ok(d)
}

/// Largest `factor` of a spike.
pub const MAX_FACTOR: f64 = 1000.0;

/// A spike's `factor`: given, above zero, at most [`MAX_FACTOR`].
fn factor(source: &Source, at: &str, factor: Option<f64>) -> Result<f64, InputError> {
    let Some(f) = factor else {
        return Err(source.field_error(
            &format!("{at}.kind"),
            "kind `spike` needs `factor`, the demand's multiplier, e.g. 3.0",
        ));
    };
    if !(f.is_finite() && f > 0.0 && f <= MAX_FACTOR) {
        return Err(source.field_error(
            &format!("{at}.factor"),
            format!("{f}; allowed: above 0 and at most {MAX_FACTOR}"),
        ));
    }
    Ok(f)
}

/// A spike's populations by label; none named: every population.
fn populations(
    source: &Source,
    at: &str,
    names: Option<&[String]>,
    estate: &Estate,
) -> Result<Vec<usize>, InputError> {
    let labels = crate::world::summary::labels_of(&estate.populations);
    let mut out = Vec::new();
    for (j, name) in names.unwrap_or_default().iter().enumerate() {
        let Some(p) = labels.iter().position(|l| l == name) else {
            return Err(source.field_error(
                &format!("{at}.populations[{j}]"),
                format!(
                    "unknown population `{name}`; allowed: {}",
                    labels.join(", ")
                ),
            ));
        };
        if !out.contains(&p) {
            out.push(p);
        }
    }
    if names.is_some_and(|n| n.is_empty()) {
        return Err(source.field_error(
            &format!("{at}.populations"),
            "empty; allowed: one or more population labels, or no `populations` for every one",
        ));
    }
    Ok(out)
}

/// How much the failures' spikes can multiply the demand at most: the
/// product of their factors above one.
pub fn spike_bound(failures: &[Failure]) -> f64 {
    failures
        .iter()
        .map(|f| match f.kind {
            FailureKind::Spike { factor, .. } => factor.max(1.0),
            _ => 1.0,
        })
        .product()
}

/// A node failure's `nodes`: default 1, at most the site's nodes at the
/// start.
fn node_count(
    source: &Source,
    at: &str,
    nodes: Option<i64>,
    estate: &Estate,
    site: usize,
) -> Result<u32, InputError> {
    let have = estate.sites[site].nodes.ready_nodes().len() as i64;
    let n = nodes.unwrap_or(1);
    if !(1..=have).contains(&n) {
        return Err(source.field_error(
            &format!("{at}.nodes"),
            format!(
                "{n}; allowed: 1 to {have}, the nodes `{}` has at the start",
                estate.sites[site].network.tag
            ),
        ));
    }
    Ok(n as u32)
}

/// Default time between two flaps: 60 s.
pub const DEFAULT_FLAP_PERIOD: SimDuration = SimDuration::from_secs(60);

/// A flap's `period`: at least 2 ms (down and up a millisecond apart).
fn period(source: &Source, at: &str, period: Option<Duration>) -> Result<SimDuration, InputError> {
    let p = period.map_or(DEFAULT_FLAP_PERIOD, |d| d.0);
    if p < SimDuration::from_millis(2) {
        return Err(source.field_error(
            &format!("{at}.period"),
            format!("{p}; allowed: at least \"2ms\""),
        ));
    }
    Ok(p)
}
