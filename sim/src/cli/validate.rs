//! `cutover validate FILE...`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cutover_models::bgp::topology::Topology;

use cutover::estate::Estate;
use cutover::experiment::{Experiment, Fidelity};
use cutover::load::{load_file, load_source, Loaded};
use cutover::scenario::{InputError, ModelSpec, Scenario, Source};

/// Arguments of `cutover validate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files to check: estates, experiments, plan, cost and M/M/c
    /// scenarios, price books, AS topologies (TOML) and traffic traces (CSV).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// What the M/M/c scenario describes, in one line.
fn describe_model(scenario: &Scenario) -> String {
    let ModelSpec::Mmc(m) = &scenario.model;
    format!(
        "M/M/c queue: {} servers, {}/s arrivals, {}/s service, {} customers",
        m.servers, m.arrival_rate_per_s, m.service_rate_per_s, m.customers
    )
}

/// What an experiment describes, in one line.
fn describe_experiment(exp: &Experiment) -> String {
    format!(
        "\"{}\" (experiment on estate \"{}\": {} sites, {} populations, {} failures, {} over {})",
        exp.name,
        exp.estate.name,
        exp.estate.sites.len(),
        exp.estate.populations.len(),
        exp.failures.len(),
        match exp.fidelity {
            Fidelity::Fluid => "fluid",
            Fidelity::Request => "request level",
        },
        exp.duration
    )
}

/// What an estate describes, in one line.
fn describe_estate(estate: &Estate, topo: &Topology) -> String {
    format!(
        "\"{}\" (estate: {} sites, {} populations, {} ASes, {} eBGP sessions)",
        estate.name,
        topo.sites().len(),
        topo.populations().len(),
        topo.as_count(),
        topo.ebgp_session_count()
    )
}

/// Most problems reported for one file.
const MAX_PROBLEMS: usize = 50;

/// Loads `file` with the loader its kind calls for; on success, what it
/// describes, otherwise its problems: every unknown field (each is
/// independent of the rest, so the file is read again without it) and
/// the first other problem.
fn check(file: &Path) -> Result<String, Vec<InputError>> {
    if file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv") || e.eq_ignore_ascii_case("json"))
    {
        // A tenants file reports every bad row.
        return load_file(file).map(|l| describe(&l)).map_err(|e| {
            let rows = cutover::pack::tenants::problems(file, MAX_PROBLEMS);
            if rows.len() > 1 && rows[0].to_string() == e.to_string() {
                rows
            } else {
                vec![e]
            }
        });
    }
    if file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
    {
        return cutover::estate::describe_manifests(file).map_err(|e| vec![e]);
    }
    let mut source = Source::read(file).map_err(|e| vec![e])?;
    let mut problems = Vec::new();
    loop {
        let err = match check_source(&source) {
            Ok(what) if problems.is_empty() => return Ok(what),
            Ok(_) => return Err(problems),
            Err(err) => err,
        };
        let without = without_unknown_field(&source, &err);
        problems.push(err);
        match without {
            Some(next) if problems.len() < MAX_PROBLEMS => source = next,
            _ => return Err(problems),
        }
    }
}

/// `source` with the line of the unknown field `err` reports commented
/// out (so that later lines keep their numbers), if `err` is about an
/// unknown `key = value` on one line of this file.
fn without_unknown_field(source: &Source, err: &InputError) -> Option<Source> {
    let InputError::Field(e) = err else {
        return None;
    };
    if e.file != source.path() || !e.message.starts_with("unknown field") {
        return None;
    }
    let key = e.field.rsplit('.').next()?;
    let mut lines: Vec<&str> = source.text().split('\n').collect();
    let line = lines.get(e.line.checked_sub(1)?)?;
    let rest = line.trim_start().strip_prefix(key)?;
    if !rest.trim_start().starts_with('=') {
        return None;
    }
    let commented = format!("#{line}");
    lines[e.line - 1] = &commented;
    let text = lines.join("\n");
    text.parse::<toml::Table>().ok()?;
    Some(Source::from_text(source.path(), text))
}

/// Loads `source` with the loader its kind calls for and says what it
/// describes.
fn check_source(source: &Source) -> Result<String, InputError> {
    load_source(source).map(|l| describe(&l))
}

/// What a loaded file describes, in one line.
fn describe(loaded: &Loaded) -> String {
    match loaded {
        Loaded::Model(s) => format!("\"{}\" ({})", s.name, describe_model(s)),
        Loaded::Experiment(exp) => describe_experiment(exp),
        Loaded::Estate(estate, topo) => describe_estate(estate, topo),
        Loaded::Plan(plan) => format!(
            "\"{}\" (plan: {} moves on {} sites, {} failures to inject{})",
            plan.name(),
            plan.moves.len(),
            plan.experiment.estate.sites.len(),
            plan.experiment.failures.len(),
            if plan.cost.is_some() { ", priced" } else { "" }
        ),
        Loaded::Cost(c) => format!(
            "\"{}\" (cost: {} price book(s))",
            c.name,
            c.pricebook_files.len()
        ),
        Loaded::PriceBook(book) => format!(
            "price book \"{}\" ({} items in {})",
            book.name,
            book.skus.len(),
            book.currency
        ),
        Loaded::Topology => "AS topology: TOML read; its ASes and links are checked with each estate that names it (`topology = ...`)".to_string(),
        Loaded::Trace(_) => "traffic trace".to_string(),
        Loaded::Pack(p) => format!(
            "\"{}\" (consolidation plan: {} tenants, {})",
            p.name,
            p.tenants.len(),
            p.heuristic.name()
        ),
        Loaded::Tenants(n) => format!("tenants of a consolidation plan ({n} VMs)"),
        Loaded::UsageTrace => "usage trace of a tenant".to_string(),
        Loaded::Cur(bill) => format!(
            "AWS Cost and Usage Report of {} ({} rows, {} {})",
            bill.month,
            bill.lines.len(),
            bill.total(),
            bill.currency
        ),
        Loaded::Import(what) => what.clone(),
    }
}

/// Checks every file, prints `ok` or the problems of each, and exits 2 if
/// any file has a problem.
pub fn execute(args: &Args) -> anyhow::Result<ExitCode> {
    let mut failed = 0;
    for file in &args.files {
        match check(file) {
            Ok(what) => println!("{}: ok: {what}", file.display()),
            Err(problems) => {
                failed += 1;
                for err in problems {
                    eprintln!("error: {err}");
                }
            }
        }
    }
    if failed == 0 {
        return Ok(ExitCode::SUCCESS);
    }
    if args.files.len() > 1 {
        eprintln!("{failed} of {} files have problems", args.files.len());
    }
    Ok(ExitCode::from(2))
}
