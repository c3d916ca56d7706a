//! A migration plan's file and its Monte Carlo replications: the parts of
//! `cutover plan` between reading the file and writing the directory
//! (which [`report::plan::write`](crate::report::plan::write) does).

use std::ops::Range;
use std::path::Path;

use crate::montecarlo::replicate_range;
use crate::plan::{self, Plan};
use crate::report::plan::ReplicationRow;
use crate::scenario::kind::{self, FileKind};
use crate::scenario::Source;

/// Reads the plan file `file`; a file of another kind is a located error
/// naming the command that reads it.
pub fn load(file: &Path) -> anyhow::Result<Plan> {
    let source = Source::read(file)?;
    kind::expect(&source, FileKind::Plan, "cutover plan")?;
    Ok(Plan::from_source(&source)?)
}

/// The names of the plan's declared risks, in order.
pub fn risk_names(plan: &Plan) -> Vec<&str> {
    plan.risks.iter().map(|r| r.name.as_str()).collect()
}

/// Runs the replications `indices` of a run with `seed` on `threads`
/// threads (`None`: one per core), calling `done` after each; the rows
/// are in index order and do not depend on the threads.
pub fn replications(
    plan: &Plan,
    seed: u64,
    indices: Range<u64>,
    threads: Option<usize>,
    done: &(dyn Fn() + Sync),
) -> anyhow::Result<Vec<ReplicationRow>> {
    let runs = replicate_range(seed, indices, threads, |i, s| {
        let row = plan::run_replication(plan, s).map(|o| ReplicationRow::of(i, s, &o));
        done();
        row
    })?;
    Ok(runs.into_iter().collect::<Result<Vec<_>, _>>()?)
}
