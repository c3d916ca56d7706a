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
//! ```

use std::collections::{BTreeMap, BTreeSet};

use cutover_models::bgp::policy::{ExportPolicy, TopologyOptions};
use cutover_models::bgp::Asn;
use serde::Deserialize;

use super::network::Graph;
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
}

/// The BGP policy of an estate beyond its AS graph.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BgpPolicy {
    /// Export policies per AS, ready for
    /// [`Topology::with_options`](cutover_models::bgp::topology::Topology::with_options).
    pub options: TopologyOptions,
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
            ..TopologyOptions::default()
        },
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
