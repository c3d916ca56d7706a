//! The cost meter: each site's cost accrues from what it actually runs.
//!
//! The meter watches every site's node pool as the world advances: a node
//! is paid from the moment the cluster autoscaler asks for it (the
//! provider bills a VM from launch, before it joins the cluster) until it
//! fails or its site is decommissioned. At the end of the run the site's
//! cost profile (the estate's `[costs]`) prices what it ran with
//! `cutover_models::cost::meter`: its nodes' lifetimes, the profile's
//! other items for the site's life, and its traffic to users (requests
//! served times the estate's response size).
//!
//! A plan's run has a calendar (time zero is midnight of `[plan] start`):
//! it is billed calendar month by calendar month, each at the prices of
//! its first day, exactly as a cost projection bills the same fleet. An
//! experiment has no date: it is billed at the estate's `prices_on` over
//! 730-hour months.

use std::collections::VecDeque;

use cutover_models::cost::bill::{Adjustments, BillError, Pricer};
use cutover_models::cost::meter::{months_of, price_run, Calendar, ItemUsage, MeterLine, Usage};
use cutover_models::cost::{Date, Money, Unit};
use cutover_models::{SimDuration, SimTime};
use serde::Serialize;

use crate::estate::{CostProfile, Estate, EstateCosts};

/// One site's nodes as the meter sees them.
#[derive(Clone, Debug, Default)]
struct SiteMeter {
    /// When each running node was asked for, oldest first.
    open: VecDeque<SimTime>,
    /// When each node that has gone was asked for and went.
    closed: Vec<(SimTime, SimTime)>,
    /// When the site was decommissioned, if it was.
    gone_at: Option<SimTime>,
}

/// The meter of a run: every site's billed nodes over time.
#[derive(Clone, Debug)]
pub struct Meter {
    sites: Vec<SiteMeter>,
}

/// What one site cost over the run.
#[derive(Clone, Debug, Serialize)]
pub struct SiteCost {
    /// Tag.
    pub site: String,
    /// Its cost profile.
    pub profile: String,
    /// Hours its nodes ran, summed over the nodes (the integral of its
    /// node count).
    pub node_hours: f64,
    /// Its lines' sum.
    pub total: Money,
}

/// What the run cost: per site and per line.
#[derive(Clone, Debug, Serialize)]
pub struct CostSummary {
    /// The currency of every amount.
    pub currency: String,
    /// The day whose prices were used: the estate's `prices_on` for an
    /// undated run, or the first day of the run's first month for a dated
    /// one (each month at the prices of its own first day).
    pub prices_on: String,
    /// How the run was billed: `calendar months from <day>` (a plan's
    /// start) or `730-hour months` (no date).
    pub billed_by: String,
    /// Every site's cost together.
    pub total: Money,
    /// The same as a rate: `total` over the months the run spans (of the
    /// calendar, or of 730 hours).
    pub per_month: Money,
    /// Per priced site.
    pub sites: Vec<SiteCost>,
    /// Every line (`costs.csv`).
    pub lines: Vec<MeterLine>,
}

impl super::repeat::DayState for Meter {
    /// The running nodes' starts and whether each site is gone; the nodes
    /// gone are history, repeated by [`Meter::repeat_since`]. A node's
    /// start is read for its bill however long ago: a mark refuses a node
    /// asked for within the day, so the nodes running at two marks a day
    /// apart are the same nodes.
    fn encode(&self, w: &mut super::repeat::Words) {
        let now = w.now();
        let day = super::repeat::DAY;
        if self
            .sites
            .iter()
            .any(|m| m.open.iter().any(|&t| now.saturating_since(t) < day))
        {
            w.refuse("a node asked for within the day");
        }
        for m in &self.sites {
            w.push(m.open.len() as u64);
            for &t in &m.open {
                w.time(t);
            }
            w.time_opt(m.gone_at);
        }
    }

    fn shift(&mut self, s: &super::repeat::Shift) {
        for m in &mut self.sites {
            m.open.iter_mut().for_each(|t| *t = s.at(*t));
            m.gone_at = m.gone_at.map(|t| s.at(t));
        }
    }
}

impl Meter {
    /// How many nodes each site has seen go (a mark for
    /// [`Meter::repeat_since`]).
    pub(super) fn gone_counts(&self) -> Vec<usize> {
        self.sites.iter().map(|m| m.closed.len()).collect()
    }

    /// The nodes gone since `mark` go again `times` times, each time
    /// `period` later.
    pub(super) fn repeat_since(&mut self, mark: &[usize], period: SimDuration, times: u64) {
        for (m, &from) in self.sites.iter_mut().zip(mark) {
            let day: Vec<(SimTime, SimTime)> = m.closed[from..].to_vec();
            for j in 1..=times {
                let by = period.saturating_mul(j);
                m.closed.extend(day.iter().map(|&(a, b)| (a + by, b + by)));
            }
        }
    }
}

impl Meter {
    /// A meter for `sites` sites with no nodes yet.
    pub fn new(sites: usize) -> Meter {
        Meter {
            sites: vec![SiteMeter::default(); sites],
        }
    }

    /// Site `k` runs `nodes` billed nodes at `now`: new ones start, and
    /// those gone stop (the oldest first, as a pool loses its nodes).
    pub fn observe(&mut self, now: SimTime, k: usize, nodes: usize) {
        let m = &mut self.sites[k];
        if m.gone_at.is_some() {
            return;
        }
        while m.open.len() < nodes {
            m.open.push_back(now);
        }
        while m.open.len() > nodes {
            if let Some(from) = m.open.pop_front() {
                m.closed.push((from, now));
            }
        }
    }

    /// Whether the meter's count of site `k`'s running nodes is `nodes`
    /// (always, once the site is decommissioned: it stopped counting).
    fn sees(&self, k: usize, nodes: usize) -> bool {
        let m = &self.sites[k];
        m.gone_at.is_some() || m.open.len() == nodes
    }

    /// Site `k` is switched off for good at `now`: its nodes stop.
    pub fn decommission(&mut self, now: SimTime, k: usize) {
        self.observe(now, k, 0);
        self.sites[k].gone_at = Some(now);
    }

    /// Every node's start and stop at `end`, of site `k`.
    fn lifetimes(&self, k: usize, end: SimTime) -> Vec<(SimTime, SimTime)> {
        let m = &self.sites[k];
        let mut out = m.closed.clone();
        out.extend(m.open.iter().map(|&t| (t, end.max(t))));
        out
    }

    /// Prices the run that ended at `end`, with `served` requests per site,
    /// by the calendar starting on `start` (`None`: undated); `None` when
    /// the estate is not priced.
    pub fn finish(
        &self,
        estate: &Estate,
        start: Option<Date>,
        end: SimTime,
        served: &[f64],
    ) -> Option<Result<CostSummary, BillError>> {
        let costs = estate.costs.as_ref()?;
        Some(self.price(estate, costs, start, end, served))
    }

    fn price(
        &self,
        estate: &Estate,
        costs: &EstateCosts,
        start: Option<Date>,
        end: SimTime,
        served: &[f64],
    ) -> Result<CostSummary, BillError> {
        let mut usage = Vec::new();
        let mut priced = Vec::new();
        for (k, site) in estate.sites.iter().enumerate() {
            let Some(p) = site.cost else { continue };
            let profile = &costs.profiles[p];
            let life = self.sites[k].gone_at.unwrap_or(end);
            let nodes = self.lifetimes(k, end);
            let node_hours = nodes
                .iter()
                .map(|(a, b)| b.saturating_since(*a).as_secs_f64())
                .sum::<f64>()
                / 3600.0;
            site_usage(
                &mut usage,
                costs,
                profile,
                &site.network.tag,
                nodes,
                life,
                served[k],
            );
            priced.push((site.network.tag.clone(), profile.name.clone(), node_hours));
        }
        let adjust = Adjustments::default();
        let pricer = Pricer {
            books: &costs.books,
            currency: costs.currency,
            fx: &costs.fx,
            adjust: &adjust,
            start: costs.prices_on.month_of(),
        };
        let run = end.saturating_since(SimTime::ZERO);
        let calendar = match start {
            Some(start) => Calendar::Dated { start },
            None => Calendar::Undated {
                prices_on: costs.prices_on,
            },
        };
        let lines = price_run(&pricer, calendar, run, &usage)?;
        let sites: Vec<SiteCost> = priced
            .into_iter()
            .map(|(site, profile, node_hours)| SiteCost {
                total: lines
                    .iter()
                    .filter(|l| l.site == site)
                    .map(|l| l.amount)
                    .sum(),
                site,
                profile,
                node_hours,
            })
            .collect();
        let total: Money = sites.iter().map(|s| s.total).sum();
        let month_share = months_of(calendar, run);
        let (prices_on, billed_by) = match start {
            Some(d) => (
                d.month_of().first_day().to_string(),
                format!("calendar months from {d}"),
            ),
            None => (costs.prices_on.to_string(), "730-hour months".to_string()),
        };
        Ok(CostSummary {
            currency: costs.currency.code().to_string(),
            prices_on,
            billed_by,
            total,
            per_month: if month_share > 0.0 {
                total.times(1.0 / month_share).round_to_cents()
            } else {
                Money::ZERO
            },
            sites,
            lines,
        })
    }
}

/// What site `tag` of `profile` used: its nodes, the profile's lines from
/// time zero to `life` (counts as instances, volumes at their monthly
/// rate) and its traffic to users.
fn site_usage(
    usage: &mut Vec<ItemUsage>,
    costs: &EstateCosts,
    profile: &CostProfile,
    tag: &str,
    nodes: Vec<(SimTime, SimTime)>,
    life: SimTime,
    served: f64,
) {
    let item = |book: &str, sku: &str, usage: Usage| ItemUsage {
        site: tag.to_string(),
        book: book.to_string(),
        sku: sku.to_string(),
        usage,
    };
    if let Some(sku) = &profile.nodes {
        let runs = nodes.into_iter().map(|(a, b)| (a, b, 1.0)).collect();
        usage.push(item(&profile.book, sku, Usage::Instances(runs)));
    }
    for l in &profile.lines {
        let unit = costs.books[&l.book].skus[&l.sku].unit;
        let u = if unit.is_time() {
            Usage::Instances(vec![(SimTime::ZERO, life, l.quantity)])
        } else {
            Usage::PerMonth(l.quantity, life)
        };
        usage.push(item(&l.book, &l.sku, u));
    }
    if let Some(e) = &profile.egress {
        let unit = costs.books[&e.book].skus[&e.sku].unit;
        let per_unit = if unit == Unit::Tb { 1e12 } else { 1e9 };
        let volume = served * costs.response_bytes / per_unit;
        usage.push(item(&e.book, &e.sku, Usage::Volume(volume)));
    }
}

impl super::World<'_> {
    /// The meter sees every site's billed nodes now: those ready and those
    /// the autoscaler asked for.
    pub(super) fn meter_nodes(&mut self) {
        for k in 0..self.sites.len() {
            self.meter_site(k);
        }
    }

    /// The meter sees site `k`'s billed nodes now.
    pub(super) fn meter_site(&mut self, k: usize) {
        let pool = &self.sites[k].pods.pool;
        let nodes = pool.ready_nodes().len() + pool.provisioning_nodes();
        self.meter.observe(self.now, k, nodes);
    }

    /// Whether the meter has seen every site's billed nodes as they are
    /// now (what debug builds check after each step).
    pub(super) fn meter_agrees(&self) -> bool {
        self.sites.iter().enumerate().all(|(k, site)| {
            let pool = &site.pods.pool;
            self.meter
                .sees(k, pool.ready_nodes().len() + pool.provisioning_nodes())
        })
    }

    /// Puts the run's cost into `summary` (a reason if it cannot be priced).
    pub(super) fn meter_summary(&self, summary: &mut super::Summary) {
        let served: Vec<f64> = self.rec.sites.iter().map(|t| t.served).collect();
        let start = self.exp.calendar;
        match self
            .meter
            .finish(&self.exp.estate, start, self.end, &served)
        {
            Some(Ok(c)) => summary.cost = Some(c),
            Some(Err(e)) => summary
                .reasons
                .push(format!("the run cannot be priced: {e}")),
            None => {}
        }
    }
}
