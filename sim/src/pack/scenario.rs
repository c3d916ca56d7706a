//! A consolidation plan (`[pack]`): which tenants, onto which hosts, with
//! what overcommit, and the policy the result is held to.
//!
//! ```toml
//! [pack]
//! name = "container platform"
//! estate = "../story/estate.toml"   # its [costs]: price books, currency, rates, prices_on
//! tenants = "tenants.csv"           # one row per VM (see `pack::tenants`)
//! heuristic = "first-fit-decreasing" # or "best-fit-decreasing"
//! seed = 1
//! samples = 10000                   # Monte Carlo peak hours drawn per shared host
//! grid = 32                         # bins per core of the exact convolution
//! max_contention = 0.01             # optional: the worst host's probability allowed
//!
//! [before]                          # what the VMs cost today: each priced as
//! book = "hyperscaler"              # its share (the larger of cores and
//! sku = "m5.2xlarge"                # memory) of this instance
//! cores = 8
//! memory = "32GiB"
//!
//! [hosts.shared]                    # the host shared tenants are packed on
//! book = "baremetal"
//! sku = "metal-general"
//! cores = 12                        # the book prices items; the shape is stated here
//! memory = "64GiB"
//! cpu_overcommit = 4.0              # vCPUs asked per physical core
//! memory_overcommit = 1.5
//!
//! [hosts.dedicated]                 # never overcommitted (ratios 1.0)
//! book = "baremetal"
//! sku = "metal-general"
//! cores = 12
//! memory = "64GiB"
//! ```

use std::path::PathBuf;

use cutover_models::cost::{Commitment, Currency, Money, Unit};
use cutover_models::pack::{Heuristic, Resources};
use serde::Deserialize;

use super::tenants::{self, Class, Tenant};
use crate::estate::cost::EstateCosts;
use crate::estate::network::relative_to;
use crate::estate::Estate;
use crate::scenario::limits;
use crate::scenario::units::parse_bytes;
use crate::scenario::{InputError, Source};

/// Hours in a month for pricing an hourly item by the month: 365 x 24 / 12
/// (the world's cost meter bills undated runs the same way).
const HOURS_PER_MONTH: f64 = 730.0;
/// The most Monte Carlo samples per host.
const MAX_SAMPLES: u64 = 10_000_000;
/// The finest grid, bins per core.
const MAX_GRID: u32 = 1024;
/// The most bins of one host's convolution (8 MB of probabilities).
const MAX_HOST_BINS: f64 = 1e6;
/// The most multiply-adds of the convolutions: 1.3e9 take about 0.5 s
/// (the bundled sample, measured), so this is about a minute.
const MAX_CONVOLUTION_STEPS: f64 = 2e11;
/// The most draws of tenants' peak hours: 2.7e7 take about 0.6 s (the
/// bundled sample), so this is a few minutes.
const MAX_DRAWS: f64 = 1e10;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    pack: RawPack,
    before: RawShape,
    hosts: RawHosts,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPack {
    name: String,
    estate: String,
    tenants: String,
    heuristic: String,
    seed: u64,
    samples: u64,
    grid: u32,
    max_contention: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShape {
    book: String,
    sku: String,
    cores: f64,
    memory: String,
    cpu_overcommit: Option<f64>,
    memory_overcommit: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHosts {
    shared: RawShape,
    dedicated: Option<RawShape>,
}

/// A machine priced from a book: a host, or the instance today's VMs are
/// priced as.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    /// The price book.
    pub book: String,
    /// Its item.
    pub sku: String,
    /// Cores (vCPUs for a cloud instance).
    pub cores: f64,
    /// Memory, MiB.
    pub memory_mib: u64,
    /// Its monthly price in the report currency.
    pub monthly: Money,
    /// Its one-off setup fee in the report currency.
    pub setup: Money,
}

/// A class of host: its machine and overcommit.
#[derive(Debug, Clone, PartialEq)]
pub struct HostClass {
    /// The machine.
    pub machine: Machine,
    /// vCPUs placed per physical core.
    pub cpu_overcommit: f64,
    /// Memory placed per unit of physical memory.
    pub memory_overcommit: f64,
}

impl HostClass {
    /// What a host of this class accepts: its cores and memory times the
    /// overcommit ratios.
    pub fn capacity(&self) -> Resources {
        Resources {
            millicores: (self.machine.cores * 1000.0 * self.cpu_overcommit + 1e-6).floor() as u64,
            memory_mib: (self.machine.memory_mib as f64 * self.memory_overcommit + 1e-6).floor()
                as u64,
        }
    }
}

/// A validated consolidation plan.
#[derive(Debug, Clone)]
pub struct PackScenario {
    /// Its name.
    pub name: String,
    /// The run seed.
    pub seed: u64,
    /// The packing heuristic.
    pub heuristic: Heuristic,
    /// Monte Carlo samples per shared host.
    pub samples: u64,
    /// Bins per core of the convolution.
    pub grid: u32,
    /// The worst host's contention probability allowed, if any.
    pub max_contention: Option<f64>,
    /// The report currency (the estate's).
    pub currency: Currency,
    /// The instance today's VMs are priced as.
    pub before: Machine,
    /// Shared hosts.
    pub shared: HostClass,
    /// Dedicated hosts, if the plan has any.
    pub dedicated: Option<HostClass>,
    /// The VMs.
    pub tenants: Vec<Tenant>,
    /// The tenants' file.
    pub tenants_file: PathBuf,
}

impl PackScenario {
    /// The hosts of `class`.
    pub fn hosts(&self, class: Class) -> Option<&HostClass> {
        match class {
            Class::Shared => Some(&self.shared),
            Class::Dedicated => self.dedicated.as_ref(),
        }
    }

    /// Reads and checks the plan in `source`, its estate and its tenants.
    pub fn from_source(source: &Source) -> Result<PackScenario, InputError> {
        let raw: RawFile = source.parse()?;
        let p = &raw.pack;
        if p.name.trim().is_empty() {
            return Err(source.field_error("pack.name", "must not be empty"));
        }
        limits::check_name(source, "pack.name", &p.name)?;
        let heuristic = match p.heuristic.as_str() {
            "first-fit-decreasing" => Heuristic::FirstFitDecreasing,
            "best-fit-decreasing" => Heuristic::BestFitDecreasing,
            other => {
                return Err(source.field_error(
                    "pack.heuristic",
                    format!("`{other}`; allowed: first-fit-decreasing, best-fit-decreasing"),
                ))
            }
        };
        if !(1..=MAX_SAMPLES).contains(&p.samples) {
            return Err(source.field_error("pack.samples", format!("allowed: 1 to {MAX_SAMPLES}")));
        }
        if !(1..=MAX_GRID).contains(&p.grid) {
            return Err(source.field_error(
                "pack.grid",
                format!("allowed: 1 to {MAX_GRID} bins per core"),
            ));
        }
        if let Some(m) = p.max_contention {
            if !(0.0..=1.0).contains(&m) {
                return Err(
                    source.field_error("pack.max_contention", "allowed: a probability from 0 to 1")
                );
            }
        }
        let estate = read_estate(source, &p.estate)?;
        let Some(costs) = estate.costs.as_ref() else {
            return Err(source.field_error(
                "pack.estate",
                "the estate has no [costs]; allowed: an estate whose [costs] names the price books",
            ));
        };
        let price = |field: &str, shape: &RawShape| machine(source, field, shape, costs);
        if raw.before.cpu_overcommit.is_some() || raw.before.memory_overcommit.is_some() {
            let name = if raw.before.cpu_overcommit.is_some() {
                "cpu_overcommit"
            } else {
                "memory_overcommit"
            };
            return Err(source.field_error(
                &format!("before.{name}"),
                "today's VMs are priced, not packed; allowed: book, sku, cores, memory",
            ));
        }
        let before = price("before", &raw.before)?;
        let shared = host_class(
            source,
            "hosts.shared",
            &raw.hosts.shared,
            price("hosts.shared", &raw.hosts.shared)?,
            false,
        )?;
        let dedicated = match &raw.hosts.dedicated {
            Some(d) => Some(host_class(
                source,
                "hosts.dedicated",
                d,
                price("hosts.dedicated", d)?,
                true,
            )?),
            None => None,
        };
        let tenants_file = relative_to(source, &p.tenants);
        let tenants = tenants::load(&tenants_file).map_err(|e| match e {
            InputError::Read { path, reason } => source.field_error(
                "pack.tenants",
                format!("cannot read `{}`: {reason}", path.display()),
            ),
            other => other,
        })?;
        let scenario = PackScenario {
            name: p.name.clone(),
            seed: p.seed,
            heuristic,
            samples: p.samples,
            grid: p.grid,
            max_contention: p.max_contention,
            currency: costs.currency,
            before,
            shared,
            dedicated,
            tenants,
            tenants_file,
        };
        scenario.check_fits()?;
        scenario.check_work(source)?;
        Ok(scenario)
    }

    /// Refuses a tenant that no host of its class can hold, at its row.
    fn check_fits(&self) -> Result<(), InputError> {
        for t in &self.tenants {
            let at = super::tenants::At {
                path: &self.tenants_file,
                line: t.line,
                columns: vec![],
            };
            let Some(hosts) = self.hosts(t.class) else {
                return Err(at.error(0, "class", "`dedicated`, but the pack file has no [hosts.dedicated]; allowed: shared, or add [hosts.dedicated]"));
            };
            let cap = hosts.capacity();
            let cores = (t.cores * 1000.0).round() as u64;
            if cores > cap.millicores || t.memory_mib > cap.memory_mib {
                return Err(at.error(0, "cores", format!(
                    "{} cores and {} MiB: more than a {} host holds ({} cores, {} MiB with overcommit); allowed: a VM that fits one host",
                    t.cores, t.memory_mib, t.class.name(), cap.millicores as f64 / 1000.0, cap.memory_mib
                )));
            }
        }
        Ok(())
    }
}

impl PackScenario {
    /// Refuses a plan whose convolutions or draws would run for hours:
    /// the shared hosts' grid, the convolution's steps (tenants x the
    /// host's bins x the largest tenant's bins) and the draws (samples x
    /// tenants).
    fn check_work(&self, source: &Source) -> Result<(), InputError> {
        let grid = f64::from(self.grid);
        let host_bins = self.shared.machine.cores * grid;
        limits::check_count(
            source,
            "pack.grid",
            host_bins,
            MAX_HOST_BINS,
            "a host's cores x grid: the bins of its convolution",
        )?;
        let shared = self.tenants.iter().filter(|t| t.class == Class::Shared);
        let largest = shared.clone().map(|t| t.cores).fold(0.0, f64::max);
        let count = shared.count() as f64;
        limits::check_count(
            source,
            "pack.grid",
            count * host_bins * largest * grid,
            MAX_CONVOLUTION_STEPS,
            "shared tenants x a host's bins x the largest tenant's bins: about a minute",
        )?;
        limits::check_count(
            source,
            "pack.samples",
            count * self.samples as f64,
            MAX_DRAWS,
            "samples x shared tenants: a few minutes",
        )
    }
}

/// The estate the plan names, relative to the plan.
fn read_estate(source: &Source, name: &str) -> Result<Estate, InputError> {
    let path = relative_to(source, name);
    let estate_source = Source::read(&path).map_err(|e| match e {
        InputError::Read { path, reason } => source.field_error(
            "pack.estate",
            format!("cannot read `{}`: {reason}", path.display()),
        ),
        other => other,
    })?;
    Estate::from_source(&estate_source)
}

/// A machine `field` priced from the estate's book on its `prices_on` and
/// converted into its currency.
fn machine(
    source: &Source,
    field: &str,
    shape: &RawShape,
    costs: &EstateCosts,
) -> Result<Machine, InputError> {
    let f = |name: &str| format!("{field}.{name}");
    let (currency, day) = (costs.currency, costs.prices_on);
    let convert = |amount: Money, from: Currency| {
        if from == currency {
            return Some(amount);
        }
        costs
            .fx
            .iter()
            .find(|r| r.from == from && r.to == currency)
            .map(|r| r.convert(amount, 1.0))
    };
    let book_of = costs.books.get(&shape.book).ok_or_else(|| {
        source.field_error(
            &f("book"),
            format!("the estate has no price book `{}`", shape.book),
        )
    })?;
    let item = book_of
        .sku(&shape.sku)
        .map_err(|e| source.field_error(&f("sku"), e.to_string()))?;
    let months = match item.unit {
        Unit::Month => 1.0,
        Unit::Hour => HOURS_PER_MONTH,
        other => {
            return Err(source.field_error(
                &f("sku"),
                format!(
                "`{}` is priced per {}; allowed: an item priced per hour or per month (a machine)",
                shape.sku,
                other.name()
            ),
            ))
        }
    };
    let bands = book_of
        .price_on(&shape.sku, Commitment::OnDemand, day)
        .map_err(|e| source.field_error(&f("sku"), e.to_string()))?;
    let unit_price = bands.first().map_or(Money::ZERO, |t| t.price);
    let no_rate = || {
        source.field_error(
            &f("book"),
            format!(
                "the estate states no rate from {} to {currency}; add one to [[costs.fx]]",
                book_of.currency
            ),
        )
    };
    let monthly = convert(unit_price.times(months), book_of.currency).ok_or_else(no_rate)?;
    let setup = convert(item.setup_fee, book_of.currency).ok_or_else(no_rate)?;
    if !(shape.cores > 0.0 && shape.cores <= 100_000.0) {
        return Err(source.field_error(
            &f("cores"),
            "allowed: a number of cores above 0 and at most 100000",
        ));
    }
    let memory = parse_bytes(&shape.memory).map_err(|m| source.field_error(&f("memory"), m))?;
    if !(1_048_576.0..=1e15).contains(&memory) {
        return Err(source.field_error(&f("memory"), "allowed: a size from 1MiB to 1PB"));
    }
    Ok(Machine {
        book: shape.book.clone(),
        sku: shape.sku.clone(),
        cores: shape.cores,
        memory_mib: (memory / 1_048_576.0).floor() as u64,
        monthly,
        setup,
    })
}

/// A host class with its overcommit ratios: at least 1 (at most 64) for
/// shared hosts, both given; at most 1 for dedicated hosts, 1 unless given.
fn host_class(
    source: &Source,
    field: &str,
    shape: &RawShape,
    machine: Machine,
    dedicated: bool,
) -> Result<HostClass, InputError> {
    let ratio = |name: &str, v: Option<f64>| -> Result<f64, InputError> {
        let at = format!("{field}.{name}");
        match (v, dedicated) {
            (None, true) => Ok(1.0),
            (None, false) => Err(source.field_error(
                field,
                format!("missing `{name}`; allowed: a ratio from 1 to 64"),
            )),
            (Some(r), true) if r > 0.0 && r <= 1.0 => Ok(r),
            (Some(_), true) => Err(source.field_error(
                &at,
                "dedicated capacity is not overcommitted; allowed: above 0 and at most 1.0",
            )),
            (Some(r), false) if (1.0..=64.0).contains(&r) => Ok(r),
            (Some(_), false) => Err(source.field_error(&at, "allowed: a ratio from 1 to 64")),
        }
    };
    Ok(HostClass {
        cpu_overcommit: ratio("cpu_overcommit", shape.cpu_overcommit)?,
        memory_overcommit: ratio("memory_overcommit", shape.memory_overcommit)?,
        machine,
    })
}
