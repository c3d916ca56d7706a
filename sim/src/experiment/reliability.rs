//! An experiment's `[reliability]`: random hardware failures of the
//! sites' nodes.
//!
//! ```toml
//! [reliability]
//! node_mtbf = "2000h"     # mean time between failures of one node
//! node_mttr = "4h"        # mean time to repair one
//! ```
//!
//! Each node up fails after an exponential time of mean `node_mtbf` (at a
//! site the next failure is drawn at each failure from the nodes up
//! then), its pods are lost as in a `node-crash`, and it is repaired after
//! an exponential time of mean `node_mttr`. The draws come from a named
//! random stream per site (`reliability.<site>`), so a seed gives the same
//! failures every time. Both figures are required: there is no default.
//! For scale, Vishwanath and Nagappan ("Characterizing cloud computing
//! hardware reliability", SoCC 2010) found about 8 % of servers needing a
//! hardware repair in a year, an MTBF near 12.5 years (about 110,000 h).

use cutover_models::SimDuration;
use serde::Deserialize;

use crate::estate::Estate;
use crate::scenario::units::Duration;
use crate::scenario::{limits, InputError, Source};

/// `[reliability]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReliability {
    node_mtbf: Duration,
    node_mttr: Duration,
}

/// Random node failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reliability {
    /// Mean time between failures of one node.
    pub node_mtbf: SimDuration,
    /// Mean time to repair one.
    pub node_mttr: SimDuration,
}

/// Validates `[reliability]` for a run of `duration` over `estate`.
pub(crate) fn validate(
    source: &Source,
    raw: &RawReliability,
    estate: &Estate,
    duration: SimDuration,
) -> Result<Reliability, InputError> {
    for (field, d) in [
        ("node_mtbf", raw.node_mtbf.0),
        ("node_mttr", raw.node_mttr.0),
    ] {
        if d < SimDuration::from_secs(1) {
            return Err(source.field_error(
                &format!("reliability.{field}"),
                format!("{d}; allowed: at least \"1s\""),
            ));
        }
    }
    // A failure and its repair are a handful of events, like a step of a
    // control loop: at most the steps a run may take.
    let nodes: usize = estate
        .sites
        .iter()
        .map(|s| s.nodes.ready_nodes().len())
        .sum();
    let gap = SimDuration::from_nanos(raw.node_mtbf.0.as_nanos() / nodes.max(1) as u64);
    limits::check_steps(source, "reliability.node_mtbf", duration, gap, 4)?;
    Ok(Reliability {
        node_mtbf: raw.node_mtbf.0,
        node_mttr: raw.node_mttr.0,
    })
}
