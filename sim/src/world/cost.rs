//! The cost meter: each site's cost accrues from what it actually runs.
//!
//! The meter watches every site's node pool as the world advances: a node
//! is paid from the moment the cluster autoscaler asks for it (the
//! provider bills a VM from launch, before it joins the cluster) until it
//! fails or its site is decommissioned. At the end of the run the site's
//! cost profile (the estate's `[costs]`) prices what it ran with
//! `cutover_models::cost::meter`: its nodes' lifetimes, the profile's
//! other items for the site's life, its traffic to users (requests
//! served times the estate's response size) and its replication traffic
//! to the other sites (the bytes its data classes sent,
//! `world::replication`), one line per class.
//!
//! A plan's run has a calendar (time zero is midnight of `[plan] start`):
//! it is billed calendar month by calendar month, each at the prices of
//! its first day, exactly as a cost projection bills the same fleet. An
//! experiment has no date: it is billed at the estate's `prices_on` over
//! 730-hour months.

use std::collections::VecDeque;

use cutover_models::cost::bill::{Adjustments, BillError, Pricer};
use cutover_models::cost::meter::{months_of, price_run, Calendar, ItemUsage, MeterLine, Usage};
use cutover_models::cost::{Date, Money, Unit, UsageLine};
use cutover_models::data::DataClass;
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

    /// Prices the run that ended at `end` by the calendar starting on
    /// `start` (`None`: undated), with what each site sent: `traffic.served`
    /// requests, and `traffic.replicated` bytes of each of the estate's data
    /// classes; `None` when the estate is not priced.
    pub fn finish(
        &self,
        estate: &Estate,
        start: Option<Date>,
        end: SimTime,
        traffic: &SiteTraffic,
    ) -> Option<Result<CostSummary, BillError>> {
        let costs = estate.costs.as_ref()?;
        Some(self.price(estate, costs, start, end, traffic))
    }

    fn price(
        &self,
        estate: &Estate,
        costs: &EstateCosts,
        start: Option<Date>,
        end: SimTime,
        traffic: &SiteTraffic,
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
                traffic.served[k],
            );
            if let (Some(r), Some(bytes)) = (&profile.replication, traffic.replicated.get(k)) {
                replication_usage(&mut usage, costs, r, &site.network.tag, &estate.data, bytes);
            }
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

/// What each site sent over a run, indexed as the estate's sites.
#[derive(Clone, Debug, Default)]
pub struct SiteTraffic {
    /// Requests served.
    pub served: Vec<f64>,
    /// Bytes replicated to other sites, per data class of the estate.
    pub replicated: Vec<Vec<f64>>,
}

/// The replication traffic site `tag` sent, `bytes` of each of `classes`,
/// priced as `item`: one usage per class that sent any.
fn replication_usage(
    usage: &mut Vec<ItemUsage>,
    costs: &EstateCosts,
    item: &UsageLine,
    tag: &str,
    classes: &[DataClass],
    bytes: &[f64],
) {
    let unit = costs.books[&item.book].skus[&item.sku].unit;
    let per_unit = if unit == Unit::Tb { 1e12 } else { 1e9 };
    for (c, &b) in classes
        .iter()
        .zip(bytes)
        .filter(|(c, _)| c.traffic.is_some())
    {
        usage.push(ItemUsage {
            site: tag.to_string(),
            book: item.book.clone(),
            sku: item.sku.clone(),
            data_class: c.name.clone(),
            usage: Usage::Volume(b / per_unit),
        });
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
        data_class: String::new(),
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
        let traffic = SiteTraffic {
            served: self.rec.sites.iter().map(|t| t.served).collect(),
            replicated: (0..self.sites.len())
                .map(|k| self.recovery.replicated_by(k).to_vec())
                .collect(),
        };
        let start = self.exp.calendar;
        match self
            .meter
            .finish(&self.exp.estate, start, self.end, &traffic)
        {
            Some(Ok(c)) => summary.cost = Some(c),
            Some(Err(e)) => summary
                .reasons
                .push(format!("the run cannot be priced: {e}")),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use cutover_models::cost::bill::{Adjustments, Estate as CostEstate, Pricer, Window};
    use cutover_models::SimDuration;

    use super::super::replication::ReplicationMeter;
    use super::*;
    use crate::scenario::Source;

    fn story() -> Estate {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/story/estate.toml");
        Estate::from_source(&Source::read(&path).unwrap()).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A 730-hour month of the story's nine regions at the plans' steady
    /// 400 requests/s each, metered hour by hour as the world meters a
    /// tick: every class's replication prices at writes x size x copies x
    /// seconds x $0.02/GB, to the cent; a region's measured month is the
    /// story's stated 60 TB to 0.003 % (the calibration in the estate);
    /// and the projection, priced from the same profile at that measured
    /// volume, bills the same, to the cent of each class's rounding.
    #[test]
    fn a_month_of_measured_replication_prices_as_its_closed_form_and_the_projection() {
        let estate = story();
        let sites = estate.sites.len();
        let hour = SimDuration::from_secs(3600);
        let mut replication = ReplicationMeter::new(sites, estate.data.len());
        for h in 1..=730 {
            let end = SimTime::ZERO + SimDuration::from_secs(3600 * h);
            replication.tick(
                &estate.data,
                (end, hour),
                &vec![400.0 * 3600.0; sites],
                |_| false,
            );
        }
        let traffic = SiteTraffic {
            served: vec![0.0; sites],
            replicated: (0..sites)
                .map(|k| replication.sent_by(k).to_vec())
                .collect(),
        };
        let month = SimTime::ZERO + SimDuration::from_secs(730 * 3600);
        let cost = Meter::new(sites)
            .finish(&estate, None, month, &traffic)
            .unwrap()
            .unwrap();
        let price = Money::parse_amount("0.02").unwrap();
        let seconds = 730.0 * 3600.0;
        let costs = estate.costs.as_ref().unwrap();
        let profile = &costs.profiles[costs.profile_index("cloud").unwrap()];
        let line = profile.replication.clone().unwrap();
        for site in &estate.sites {
            let tag = &site.network.tag;
            let lines: Vec<&MeterLine> = cost
                .lines
                .iter()
                .filter(|l| &l.site == tag && l.sku == "inter-region")
                .collect();
            assert_eq!(lines.len(), 4, "one line per class at {tag}");
            let mut gb = 0.0;
            for (c, l) in estate.data.iter().zip(&lines) {
                let t = c.traffic.unwrap();
                let bytes = c.writes.at(400.0) * t.change_bytes * t.copies.at(sites - 1) * seconds;
                assert_eq!(l.data_class, c.name);
                assert!(
                    (l.quantity - bytes / 1e9).abs() < 1e-6 * l.quantity,
                    "{l:?}"
                );
                assert_eq!(l.amount, price.times(bytes / 1e9).round_to_cents(), "{l:?}");
                gb += bytes / 1e9;
            }
            assert!((gb / 60_000.0 - 1.0).abs() < 3e-5, "{gb} GB at {tag}");
            let measured: Money = lines.iter().map(|l| l.amount).sum();
            let pricer = Pricer {
                books: &costs.books,
                currency: costs.currency,
                fx: &costs.fx,
                adjust: &Adjustments::default(),
                start: costs.prices_on.month_of(),
            };
            let projected = |quantity: f64| -> Money {
                let estate = CostEstate {
                    name: "cloud".into(),
                    lines: vec![UsageLine {
                        site: tag.clone(),
                        quantity,
                        window: Window::default(),
                        ..line.clone()
                    }],
                    ..CostEstate::default()
                };
                let month = costs.prices_on.month_of();
                pricer
                    .price_month(&estate, month)
                    .unwrap()
                    .iter()
                    .map(|l| l.amount)
                    .sum()
            };
            let off = (measured.micros() - projected(gb).micros()).abs();
            assert!(
                off <= 20_000,
                "{measured} measured, {} projected",
                projected(gb)
            );
            // The projection's stated 60 TB: $1,200.00 a month.
            assert_eq!(
                projected(line.quantity),
                Money::parse_amount("1200").unwrap()
            );
            let gap = (measured.micros() - projected(line.quantity).micros()).abs();
            assert!(gap <= 5 * 10_000, "{measured} vs $1,200.00");
        }
    }
}
