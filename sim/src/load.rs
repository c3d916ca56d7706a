//! Any cutover input file, read by the loader its kind calls for (see
//! [`FileKind`]): what `cutover validate` checks, and what the fuzzers
//! drive.

use std::path::Path;

use cutover_models::bgp::topology::Topology;
use cutover_models::cost::cur::ActualBill;
use cutover_models::cost::PriceBook;
use cutover_models::traffic::Trace;

use crate::estate::Estate;
use crate::experiment::Experiment;
use crate::pack::{tenants, PackScenario};
use crate::plan::Plan;
use crate::scenario::cost::{price_book_from_source, CostScenario};
use crate::scenario::kind::FileKind;
use crate::scenario::source::read_text;
use crate::scenario::{cur, measured, prometheus, trace, weights};
use crate::scenario::{InputError, Scenario, Source};

/// A file, loaded and checked.
pub enum Loaded {
    /// The M/M/c validation scenario.
    Model(Box<Scenario>),
    /// An experiment on an estate.
    Experiment(Box<Experiment>),
    /// An estate, with the AS topology its network builds.
    Estate(Box<Estate>, Box<Topology>),
    /// A migration plan.
    Plan(Box<Plan>),
    /// A cost projection.
    Cost(Box<CostScenario>),
    /// A consolidation plan with its tenants.
    Pack(Box<PackScenario>),
    /// The tenants of a consolidation plan (CSV): how many.
    Tenants(usize),
    /// A tenant's usage trace (CSV).
    UsageTrace,
    /// A price book.
    PriceBook(Box<PriceBook>),
    /// An AS topology: read as TOML here; its ASes and links are checked
    /// with each estate that names it.
    Topology,
    /// A traffic trace (CSV).
    Trace(Box<Trace>),
    /// A month of an AWS Cost and Usage Report (CSV).
    Cur(Box<ActualBill>),
    /// A file an experiment or a command imports, checked on its own (its
    /// populations and sites are checked with the estate that reads it):
    /// what it holds, in words.
    Import(String),
}

/// Loads the file at `path`: a Prometheus range query if its extension is
/// `json`; if `csv`, by its header: a CUR month, the tenants of a
/// consolidation plan, a usage trace with a `utilisation` column,
/// measured catchments, population weights, or else a traffic trace;
/// otherwise a TOML file by its kind.
pub fn load_file(path: &Path) -> Result<Loaded, InputError> {
    let ext = |e: &str| path.extension().is_some_and(|x| x.eq_ignore_ascii_case(e));
    if ext("json") {
        let text = read_text(path)?;
        let alone = prometheus::Expect {
            label: None,
            kind: None,
            populations: None,
        };
        let series = prometheus::parse(path, &text, &alone)?;
        let samples: usize = series.iter().map(|s| s.samples.len()).sum();
        return Ok(Loaded::Import(format!(
            "Prometheus range query ({} series, {samples} samples)",
            series.len()
        )));
    }
    if ext("csv") {
        return load_csv(path);
    }
    load_source(&Source::read(path)?)
}

/// Loads the CSV file at `path` by its header: a CUR month, the tenants
/// of a consolidation plan, a usage trace, measured catchments,
/// population weights, or else a traffic trace.
fn load_csv(path: &Path) -> Result<Loaded, InputError> {
    let text = read_text(path)?;
    let first = text.lines().next().unwrap_or("");
    if cur::is_cur_header(first) {
        return Ok(Loaded::Cur(Box::new(cur::parse_own_currency(path, &text)?)));
    }
    let has = |c: &str| first.split(',').any(|h| h.trim() == c);
    Ok(if has("class") && has("usage") {
        Loaded::Tenants(tenants::parse(path, &text)?.len())
    } else if has("utilisation") {
        tenants::load_usage_trace(path)?;
        Loaded::UsageTrace
    } else if has("rtt_ms") {
        let rows = measured::parse(path, &text, None)?;
        Loaded::Import(format!("measured catchments ({} clients)", rows.len()))
    } else if ["users", "weight"].iter().any(|c| has(c)) {
        let n = weights::check(path, &text)?;
        Loaded::Import(format!("population weights ({n} populations)"))
    } else {
        Loaded::Trace(Box::new(trace::parse(path, &text)?))
    })
}

/// Loads the TOML file in `source` with the loader its kind calls for.
pub fn load_source(source: &Source) -> Result<Loaded, InputError> {
    Ok(match FileKind::of(source) {
        FileKind::Model => Loaded::Model(Box::new(Scenario::from_source(source)?)),
        FileKind::Experiment => Loaded::Experiment(Box::new(Experiment::from_source(source)?)),
        FileKind::Estate => {
            let estate = Estate::from_source(source)?;
            let topology = estate.build_topology(source, &|i| format!("sites[{i}]"))?;
            Loaded::Estate(Box::new(estate), Box::new(topology))
        }
        FileKind::Plan => Loaded::Plan(Box::new(Plan::from_source(source)?)),
        FileKind::Cost => Loaded::Cost(Box::new(CostScenario::from_source(source)?)),
        FileKind::Pack => Loaded::Pack(Box::new(PackScenario::from_source(source)?)),
        FileKind::PriceBook => Loaded::PriceBook(Box::new(price_book_from_source(source)?)),
        FileKind::Topology => {
            source.parse::<toml::Table>()?;
            Loaded::Topology
        }
    })
}
