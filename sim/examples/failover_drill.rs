//! A failover drill on the story estate: New York loses power a minute
//! in, and the run tells which data classes lost writes beyond their RPO
//! and which services came back within their RTO, as `cutover run FILE`
//! reports them in `summary.json`.
//!
//! ```text
//! cargo run --release --example failover_drill                   # ny1 crashes, BFD
//! cargo run --release --example failover_drill -- scenarios/story/ny-crash-hold.toml
//! ```

use std::path::{Path, PathBuf};

use anyhow::Context;
use cutover::experiment::Experiment;
use cutover::world::recovery::RecoverySummary;
use cutover::world::World;

/// The bundled crash of ny1 detected by BFD, on the story estate.
pub fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/story/ny-crash-bfd.toml")
}

/// What the drill found: the run's verdict and availability, and each
/// failure's data losses and service recoveries.
#[derive(Debug)]
pub struct Drill {
    /// The experiment's name.
    pub name: String,
    /// `pass` or `fail`, as the summary says.
    pub verdict: String,
    /// Requests served over those that completed.
    pub availability: Option<f64>,
    /// Writes lost per data class, and recoveries per service.
    pub recovery: RecoverySummary,
}

/// Loads the experiment at `file` (which names its estate), runs it at
/// its own seed and returns what it found.
pub fn drill(file: &Path) -> anyhow::Result<Drill> {
    let experiment = Experiment::load(file)?;
    let world = World::new(&experiment, experiment.seed)
        .with_context(|| format!("{}: BGP found no steady state", file.display()))?;
    let summary = world.run().summary;
    Ok(Drill {
        name: experiment.name.clone(),
        verdict: summary.verdict.to_string(),
        availability: summary.availability,
        recovery: summary.recovery.unwrap_or_default(),
    })
}

/// The RPO table (writes lost per data class) and the RTO table (time
/// to recover per service).
fn render(d: &Drill) -> String {
    let mut out = format!("{}: {}\n", d.name, d.verdict);
    if let Some(a) = d.availability {
        out.push_str(&format!("availability {:.4} %\n", 100.0 * a));
    }
    out.push_str(&format!(
        "\n{:<6} {:<12} {:<12} {:>12} {:>10} {:>8} {:>4}\n",
        "site", "data", "replication", "lost writes", "window s", "RPO s", "met"
    ));
    for r in &d.recovery.data {
        out.push_str(&format!(
            "{:<6} {:<12} {:<12} {:>12.2} {:>10.3} {:>8.0} {:>4}\n",
            r.site,
            r.class,
            r.replication,
            r.lost_writes,
            r.window_s,
            r.rpo_s,
            yes_no(r.met)
        ));
    }
    out.push_str(&format!(
        "\n{:<6} {:<20} {:<6} {:>12} {:>8} {:>4}\n",
        "site", "service", "tier", "recovered s", "RTO s", "met"
    ));
    for r in &d.recovery.services {
        let recovered = r
            .recovered_s
            .map_or("never".to_string(), |s| format!("{s:.1}"));
        out.push_str(&format!(
            "{:<6} {:<20} {:<6} {:>12} {:>8.0} {:>4}\n",
            r.site,
            r.service,
            r.tier,
            recovered,
            r.rto_s,
            yes_no(r.met)
        ));
    }
    out
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn main() -> anyhow::Result<()> {
    let file = std::env::args_os()
        .nth(1)
        .map_or_else(bundled, PathBuf::from);
    print!("{}", render(&drill(&file)?));
    Ok(())
}
