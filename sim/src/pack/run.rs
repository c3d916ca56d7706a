//! Runs a consolidation plan: packs each class of tenants onto its hosts,
//! computes each shared host's contention by the exact convolution, checks
//! it by drawing peak hours, and prices the estate before and after.

use cutover_models::cost::Money;
use cutover_models::pack::contention::{contention, Contention};
use cutover_models::pack::usage::Usage;
use cutover_models::pack::{self, lower_bound, Resources};
use rand::RngExt;
use rand_distr::{Distribution, LogNormal};

use super::scenario::PackScenario;
use super::tenants::{Class, Tenant};
use crate::engine::rng::{RngStreams, StreamRng};
use crate::montecarlo::{map_indices, proportion, MonteCarloError, Proportion};

/// Two-sided 95 % normal quantile.
const Z95: f64 = 1.959_963_984_540_054;

/// One host of the plan.
#[derive(Debug, Clone)]
pub struct Host {
    /// Its name, e.g. `shared-0007`.
    pub id: String,
    /// Its class.
    pub class: Class,
    /// The tenants on it (indices into the scenario's tenants), as placed.
    pub tenants: Vec<usize>,
    /// What they asked for.
    pub asked: Resources,
    /// The exact contention.
    pub contention: Contention,
    /// The share of drawn peak hours whose demand exceeded the host's
    /// cores, with its Wilson interval (shared hosts whose tenants can
    /// exceed it; `None` where they cannot).
    pub simulated: Option<Proportion>,
}

impl Host {
    /// Whether the draws' 95 % interval misses the convolution's bracket.
    pub fn disagrees(&self) -> bool {
        self.simulated.is_some_and(|s| {
            s.ci95_high < self.contention.lower_bound || s.ci95_low > self.contention.probability
        })
    }
}

/// A class's totals.
#[derive(Debug, Clone)]
pub struct ClassTotals {
    /// The class.
    pub class: Class,
    /// Tenants in it.
    pub tenants: usize,
    /// Hosts it needs.
    pub hosts: usize,
    /// The fewest hosts any packing could use (the volume bound).
    pub hosts_lower_bound: u64,
    /// The hosts' physical cores.
    pub cores: f64,
    /// The hosts' memory, MiB.
    pub memory_mib: u64,
    /// The tenants' vCPUs.
    pub vm_cores: f64,
    /// The tenants' memory, MiB.
    pub vm_memory_mib: u64,
    /// The hosts' monthly cost.
    pub monthly: Money,
}

/// The expected number of hosts in contention at the peak hour, from the
/// convolution and from the draws.
#[derive(Debug, Clone, Copy)]
pub struct Expected {
    /// The sum of the hosts' probabilities (rounded up: the figure).
    pub hosts: f64,
    /// The sum of their lower bounds.
    pub lower_bound: f64,
    /// The sum of the draws' estimates.
    pub simulated: f64,
    /// Its 95 % interval (normal, from the hosts' independent estimates).
    pub simulated_ci95: (f64, f64),
}

/// The result of a consolidation plan.
#[derive(Debug, Clone)]
pub struct PackOutcome {
    /// The hosts, shared first, each class in the order opened.
    pub hosts: Vec<Host>,
    /// Each tenant's host (index into `hosts`).
    pub placement: Vec<usize>,
    /// Totals per class (those with tenants).
    pub classes: Vec<ClassTotals>,
    /// Today's monthly cost: each VM priced as its share of the instance.
    pub before_monthly: Money,
    /// The hosts' monthly cost.
    pub after_monthly: Money,
    /// The hosts' one-off setup fees.
    pub setup: Money,
    /// The host with the highest contention, and that probability.
    pub worst: Option<(usize, f64)>,
    /// Hosts expected in contention at the peak hour.
    pub expected: Expected,
    /// Hosts whose draws' interval misses the convolution's bracket (about
    /// one in twenty by chance alone).
    pub disagreements: usize,
    /// The policy's verdict: `None` without `max_contention`.
    pub passed: Option<bool>,
    /// Why it failed.
    pub reasons: Vec<String>,
}

/// Runs `scenario` with `seed` on `threads` threads (`None`: one per
/// core). The outcome is the same at any thread count: each host draws
/// from its own named stream.
pub fn run(
    scenario: &PackScenario,
    seed: u64,
    threads: Option<usize>,
) -> Result<PackOutcome, MonteCarloError> {
    let mut hosts = Vec::new();
    let mut classes = Vec::new();
    for class in [Class::Shared, Class::Dedicated] {
        if let Some(totals) = pack_class(scenario, class, &mut hosts) {
            classes.push(totals);
        }
    }
    let streams = RngStreams::new(seed);
    let judged = map_indices(0..hosts.len() as u64, threads, |i| {
        judge(scenario, &hosts[i as usize], &streams)
    })?;
    for (host, (c, s)) in hosts.iter_mut().zip(judged) {
        host.contention = c;
        host.simulated = s;
    }
    let mut placement = vec![0; scenario.tenants.len()];
    for (h, host) in hosts.iter().enumerate() {
        for &t in &host.tenants {
            placement[t] = h;
        }
    }
    Ok(conclude(scenario, hosts, placement, classes))
}

/// Packs the tenants of `class` onto new hosts appended to `hosts`.
fn pack_class(scenario: &PackScenario, class: Class, hosts: &mut Vec<Host>) -> Option<ClassTotals> {
    let members: Vec<usize> = (0..scenario.tenants.len())
        .filter(|&i| scenario.tenants[i].class == class)
        .collect();
    if members.is_empty() {
        return None;
    }
    let host_class = scenario.hosts(class)?;
    let capacity = host_class.capacity();
    let items: Vec<Resources> = members
        .iter()
        .map(|&i| asked(&scenario.tenants[i]))
        .collect();
    // Every tenant was checked to fit one host when the plan was read.
    let bins = pack::pack(&items, capacity, scenario.heuristic).ok()?;
    let n = bins.len();
    for (k, bin) in bins.into_iter().enumerate() {
        hosts.push(Host {
            id: format!("{}-{:04}", class.name(), k + 1),
            class,
            tenants: bin.items.iter().map(|&j| members[j]).collect(),
            asked: bin.used,
            contention: Contention {
                probability: 0.0,
                lower_bound: 0.0,
                mean_demand_cores: 0.0,
            },
            simulated: None,
        });
    }
    let m = &host_class.machine;
    Some(ClassTotals {
        class,
        tenants: members.len(),
        hosts: n,
        hosts_lower_bound: lower_bound(&items, capacity),
        cores: m.cores * n as f64,
        memory_mib: m.memory_mib * n as u64,
        vm_cores: members.iter().map(|&i| scenario.tenants[i].cores).sum(),
        vm_memory_mib: members
            .iter()
            .map(|&i| scenario.tenants[i].memory_mib)
            .sum(),
        monthly: m.monthly.times(n as f64).round_to_cents(),
    })
}

/// What a tenant asks for, in the packed units.
fn asked(t: &Tenant) -> Resources {
    Resources {
        millicores: (t.cores * 1000.0).round() as u64,
        memory_mib: t.memory_mib,
    }
}

/// A host's contention by convolution, and by drawing `samples` peak hours
/// from the stream `pack.peak.<host>` where its tenants could exceed it.
fn judge(
    scenario: &PackScenario,
    host: &Host,
    streams: &RngStreams,
) -> (Contention, Option<Proportion>) {
    let cores = scenario.hosts(host.class).map_or(0.0, |h| h.machine.cores);
    let tenants: Vec<(&Usage, f64)> = host
        .tenants
        .iter()
        .map(|&t| (&scenario.tenants[t].usage, scenario.tenants[t].cores))
        .collect();
    let exact = contention(&tenants, cores, scenario.grid);
    let asked: f64 = tenants.iter().map(|&(_, c)| c).sum();
    if asked <= cores {
        return (exact, None);
    }
    let mut rng = streams.stream(&format!("pack.peak.{}", host.id));
    let draws: Vec<(Draw, f64)> = tenants.iter().map(|&(u, c)| (Draw::new(u), c)).collect();
    let mut over = 0;
    for _ in 0..scenario.samples {
        let demand: f64 = draws.iter().map(|(d, c)| d.sample(&mut rng) * c).sum();
        if demand > cores {
            over += 1;
        }
    }
    (exact, Some(proportion(over, scenario.samples)))
}

/// A usage distribution ready to draw from.
enum Draw {
    LogNormal(LogNormal<f64>),
    Uniform(f64, f64),
    /// Cumulative probabilities and their values.
    Points(Vec<f64>, Vec<f64>),
}

impl Draw {
    fn new(usage: &Usage) -> Draw {
        match usage {
            Usage::LogNormal { mu, sigma } => match LogNormal::new(*mu, *sigma) {
                Ok(d) => Draw::LogNormal(d),
                // A zero spread: the distribution is its median.
                Err(_) => Draw::Uniform(mu.exp(), mu.exp()),
            },
            Usage::Uniform { low, high } => Draw::Uniform(*low, *high),
            Usage::Points { points } => {
                let mut acc = 0.0;
                let cumulative = points
                    .iter()
                    .map(|p| {
                        acc += p.1;
                        acc
                    })
                    .collect();
                Draw::Points(cumulative, points.iter().map(|p| p.0).collect())
            }
        }
    }

    /// One peak hour's utilisation, at most 1.
    fn sample(&self, rng: &mut StreamRng) -> f64 {
        match self {
            Draw::LogNormal(d) => d.sample(rng).min(1.0),
            Draw::Uniform(lo, hi) => lo + (hi - lo) * rng.random::<f64>(),
            Draw::Points(cumulative, values) => {
                let u: f64 = rng.random();
                let k = cumulative
                    .partition_point(|&c| c <= u)
                    .min(values.len() - 1);
                values[k]
            }
        }
    }
}

/// Prices, sums and judges the packed hosts.
fn conclude(
    scenario: &PackScenario,
    hosts: Vec<Host>,
    placement: Vec<usize>,
    classes: Vec<ClassTotals>,
) -> PackOutcome {
    let b = &scenario.before;
    let before_monthly: Money = scenario
        .tenants
        .iter()
        .map(|t| {
            let share = (t.cores / b.cores).max(t.memory_mib as f64 / b.memory_mib as f64);
            b.monthly.times(share)
        })
        .sum::<Money>()
        .round_to_cents();
    let after_monthly = classes.iter().map(|c| c.monthly).sum();
    let setup = classes
        .iter()
        .filter_map(|c| {
            scenario
                .hosts(c.class)
                .map(|h| h.machine.setup.times(c.hosts as f64))
        })
        .sum::<Money>()
        .round_to_cents();
    let worst = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| (i, h.contention.probability))
        .fold(None, |acc: Option<(usize, f64)>, (i, p)| match acc {
            Some((_, q)) if q >= p => acc,
            _ => Some((i, p)),
        });
    let expected = expected(&hosts);
    let disagreements = hosts.iter().filter(|h| h.disagrees()).count();
    let (passed, reasons) = match (scenario.max_contention, worst) {
        (Some(max), Some((i, p))) if p > max => {
            let over = hosts
                .iter()
                .filter(|h| h.contention.probability > max)
                .count();
            (
                Some(false),
                vec![format!(
                    "{over} host(s) above max_contention {max}: the worst, {}, {p:.6}",
                    hosts[i].id
                )],
            )
        }
        (Some(_), _) => (Some(true), vec![]),
        (None, _) => (None, vec![]),
    };
    PackOutcome {
        hosts,
        placement,
        classes,
        before_monthly,
        after_monthly,
        setup,
        worst,
        expected,
        disagreements,
        passed,
        reasons,
    }
}

/// The expected number of hosts in contention, both ways.
fn expected(hosts: &[Host]) -> Expected {
    let simulated: f64 = hosts
        .iter()
        .filter_map(|h| h.simulated)
        .map(|s| s.estimate)
        .sum();
    let variance: f64 = hosts
        .iter()
        .filter_map(|h| h.simulated)
        .map(|s| s.estimate * (1.0 - s.estimate) / s.trials as f64)
        .sum();
    let half = Z95 * variance.sqrt();
    Expected {
        hosts: hosts.iter().map(|h| h.contention.probability).sum(),
        lower_bound: hosts.iter().map(|h| h.contention.lower_bound).sum(),
        simulated,
        simulated_ci95: ((simulated - half).max(0.0), simulated + half),
    }
}
