//! Projections: an estate (or a migration between two) priced month by
//! month over a horizon, with cumulative cash flow, NPV, break-even, a
//! budget check, cases and a sensitivity (tornado) table; and a migration
//! plan priced on the dates a run of it produced ([`CostModel::plan_cost`]).

use std::collections::BTreeMap;

use serde::Serialize;

use super::bill::{
    Adjustments, BillError, Estate, Kind, LineItem, OneOff, OneOffUsage, Pricer, UsageLine, Window,
};
use super::book::PriceBook;
use super::money::{Currency, Date, ExchangeRate, Money, Month};

/// A migration from one estate to another, region by region. At its own
/// pace, region `i` (0-based) of `regions` gets its new site `lead_days`
/// before day `start + i x days_per_region`, and its old site stops at
/// `start + (i + 1) x days_per_region`; both are paid in between
/// ([`Migration::paced_dates`]). A plan as run may keep other dates
/// ([`RegionDates`]); [`Migration::apply`] takes either. The migration sets
/// these days: a new line's start and stop, an old line's stop.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Migration {
    /// Name of the estate migrated from.
    pub from: String,
    /// Name of the estate migrated to.
    pub to: String,
    /// First day of the first region's move.
    pub start: Date,
    /// Regions in the order they move (site tags).
    pub regions: Vec<String>,
    /// Days each region's move takes (7: one region a week).
    pub days_per_region: u32,
    /// Days a new site is paid for before its region starts to move
    /// (provisioning and burn-in).
    pub lead_days: u32,
    /// Labour paid when each region starts to move, and its currency.
    pub labour_per_region: Option<(Money, Currency)>,
    /// Data copied out of the old estate when each region moves, priced as
    /// usage of this (book, item) with the old estate's other usage.
    pub data_moved_per_region: Option<(f64, String, String)>,
}

/// When one region's sites were paid for: at the migration's own pace, or
/// as a run of the plan found (a region may be late, or never finish).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegionDates {
    /// The region (site tag).
    pub site: String,
    /// The day its traffic started to move: its labour is paid and its
    /// data copied out that day.
    pub moves: Date,
    /// The first day its new site is paid for.
    pub new_from: Date,
    /// The first day its old site is no longer paid for; `None`: never
    /// decommissioned, so both sites run to the end of the horizon.
    pub old_until: Option<Date>,
}

impl Migration {
    /// The day region `i`'s new site starts being paid for, and the day its
    /// old site stops.
    pub fn region_window(&self, i: usize, days_per_region: u32) -> (Date, Date) {
        let d = i64::from(days_per_region);
        let from = self
            .start
            .plus_days(i as i64 * d - i64::from(self.lead_days));
        let until = self.start.plus_days((i as i64 + 1) * d);
        (from, until)
    }

    /// The last day any old site runs (exclusive).
    pub fn end(&self, days_per_region: u32) -> Date {
        self.start
            .plus_days(self.regions.len() as i64 * i64::from(days_per_region))
    }

    /// Every region's dates at a fixed pace of `days_per_region`, in the
    /// order the regions move: what a plan that never slips would produce.
    pub fn paced_dates(&self, days_per_region: u32) -> Vec<RegionDates> {
        self.regions
            .iter()
            .enumerate()
            .map(|(i, site)| {
                let (new_from, old_until) = self.region_window(i, days_per_region);
                RegionDates {
                    site: site.clone(),
                    moves: self.start.plus_days(i as i64 * i64::from(days_per_region)),
                    new_from,
                    old_until: Some(old_until),
                }
            })
            .collect()
    }

    /// The old and new estates with their lines' windows set by `dates`.
    ///
    /// A dated region's old lines stop on its `old_until` (or keep their
    /// own window if it is `None`) and its new lines run from its
    /// `new_from`; its labour is paid on the later of `moves` and
    /// `new_from`, and its data is copied out on `moves`. A region of the
    /// migration with no dates never moved: its old lines keep their own
    /// window and its new lines are dropped. Lines at other sites
    /// (account-wide ones) follow the regions: old ones stop on the last
    /// `old_until` once every region is decommissioned, new ones start on
    /// the first `new_from` (and are dropped if no region is dated).
    pub fn apply(&self, old: &Estate, new: &Estate, dates: &[RegionDates]) -> (Estate, Estate) {
        let mut old = old.clone();
        let mut new = new.clone();
        let dated = |site: &str| dates.iter().find(|d| d.site == site);
        let is_region = |site: &str| self.regions.iter().any(|r| r == site);
        let all_stopped: Option<Date> = self
            .regions
            .iter()
            .map(|r| dated(r).and_then(|d| d.old_until))
            .collect::<Option<Vec<Date>>>()
            .and_then(|v| v.into_iter().max());
        for l in &mut old.lines {
            let until = match dated(&l.site) {
                Some(d) => d.old_until,
                None if is_region(&l.site) => None,
                None => all_stopped,
            };
            if let Some(u) = until {
                l.window.until = Some(u);
            }
        }
        for d in dates {
            if let Some((amount, currency)) = self.labour_per_region {
                new.one_offs.push(OneOff {
                    name: "migration labour".to_string(),
                    site: d.site.clone(),
                    amount,
                    currency,
                    date: d.moves.max(d.new_from),
                });
            }
            if let Some((quantity, book, sku)) = &self.data_moved_per_region {
                old.one_off_usage.push(OneOffUsage {
                    name: format!("data copied to {}", d.site),
                    book: book.clone(),
                    sku: sku.clone(),
                    quantity: *quantity,
                    date: d.moves,
                });
            }
        }
        let first_new = dates.iter().map(|d| d.new_from).min();
        new.lines.retain_mut(|l| {
            let from = match dated(&l.site) {
                Some(d) => Some(d.new_from),
                None if is_region(&l.site) => None,
                None => first_new,
            };
            l.window = Window { from, until: None };
            from.is_some()
        });
        (old, new)
    }
}

/// Spending limits; each one exceeded is reported with its month and line item.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Budget {
    /// Limit on the plan's spend in any month.
    pub monthly_total: Option<Money>,
    /// Limit on the plan's spend over the whole horizon.
    pub horizon_total: Option<Money>,
    /// Monthly limits by line item.
    pub lines: BTreeMap<String, Money>,
}

/// A budget exceeded.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Overrun {
    /// The month, or `None` for the horizon total.
    pub month: Option<Month>,
    /// The line item, or `total`.
    pub line: String,
    /// What was spent.
    pub spend: Money,
    /// The limit.
    pub budget: Money,
    /// By how much.
    pub excess: Money,
    /// For a total: the line item that adds most over the baseline that
    /// month (or the largest line item without a baseline).
    pub driver: String,
}

/// A stated bill line (e.g. from an invoice) to hold against the prices.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stated {
    /// The estate.
    pub estate: String,
    /// The line item.
    pub line: String,
    /// The stated monthly amount, in the report currency.
    pub monthly: Money,
    /// Where the figure comes from.
    pub source: String,
}

/// A stated line compared with what the prices explain.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explained {
    /// The estate.
    pub estate: String,
    /// The line item.
    pub line: String,
    /// The stated monthly amount.
    pub stated: Money,
    /// The priced amount in the first month of the horizon.
    pub priced: Money,
    /// `stated - priced`: what the prices do not explain.
    pub unexplained: Money,
    /// Whether the gap exceeds the tolerance.
    pub flagged: bool,
}

/// A named set of input changes.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// E.g. `optimistic`.
    pub name: String,
    /// The changes.
    pub adjust: Adjustments,
    /// Days per region of the migration, if it changes.
    pub days_per_region: Option<u32>,
}

/// The inputs of a cost projection, validated.
#[derive(Clone, Debug)]
pub struct CostModel {
    /// Price books by name.
    pub books: BTreeMap<String, PriceBook>,
    /// Report currency.
    pub currency: Currency,
    /// Stated exchange rates.
    pub fx: Vec<ExchangeRate>,
    /// First month of the horizon.
    pub start: Month,
    /// Months in the horizon.
    pub months: u32,
    /// The estates.
    pub estates: Vec<Estate>,
    /// The migration between two of them, if any.
    pub migration: Option<Migration>,
    /// Annual discount rate for NPV (0.08 = 8 %).
    pub discount_rate: f64,
    /// Base-case inputs (growth and so on).
    pub base: Adjustments,
    /// Spending limits.
    pub budget: Budget,
    /// Stated bill lines to explain.
    pub stated: Vec<Stated>,
    /// Relative gap above which a stated line is flagged (0.25 = 25 %).
    pub stated_tolerance: f64,
    /// What the estate that stays as is really paid in a month (a CUR's
    /// recurring bill, [`super::cur::as_bill_lines`]): when given, a
    /// migration's baseline is these lines every month, grown by the
    /// growth curve, instead of the old estate priced from its books.
    pub actual_baseline: Option<Vec<LineItem>>,
    /// Named cases.
    pub cases: Vec<Case>,
    /// Relative swing of each input in the tornado table (0.2 = +-20 %).
    pub sensitivity: f64,
}

/// One month of a projection.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MonthSummary {
    /// The month.
    pub month: Month,
    /// Plan spend (sum of the plan's lines).
    pub plan: Money,
    /// Spend by estate.
    pub by_estate: BTreeMap<String, Money>,
    /// Of the plan: operating costs.
    pub opex: Money,
    /// Of the plan: one-off costs.
    pub one_off: Money,
    /// Of the plan: purchases less salvage.
    pub capex: Money,
    /// Depreciation charged (not cash).
    pub depreciation: Money,
    /// Baseline spend (staying as is), when comparing.
    pub baseline: Option<Money>,
    /// `baseline - plan`.
    pub savings: Option<Money>,
    /// Savings summed to this month.
    pub cumulative_savings: Option<Money>,
    /// Plan spend summed to this month.
    pub cumulative_plan: Money,
}

/// A priced horizon.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Projection {
    /// Months, in order.
    pub months: Vec<MonthSummary>,
    /// The plan's bill lines.
    pub plan_lines: Vec<LineItem>,
    /// The baseline's bill lines (empty without a migration).
    pub baseline_lines: Vec<LineItem>,
}

impl Projection {
    /// Checks that every total is the sum of its lines: each month's plan
    /// spend is the sum of its plan lines, of its estates and of its opex,
    /// one-off and capex parts; its baseline the sum of its baseline lines;
    /// savings and cumulative figures the running differences and sums.
    /// Returns the first total that is not, in words.
    pub fn check_sums(&self) -> Result<(), String> {
        let sum = |lines: &[LineItem], m: Month| -> Money {
            lines
                .iter()
                .filter(|l| l.month == m)
                .map(|l| l.amount)
                .sum()
        };
        let (mut cum_plan, mut cum_savings) = (Money::ZERO, Money::ZERO);
        for s in &self.months {
            let m = s.month;
            let lines = sum(&self.plan_lines, m);
            let estates: Money = s.by_estate.values().copied().sum();
            let parts = s.opex + s.one_off + s.capex;
            cum_plan += s.plan;
            let mut wrong = Vec::new();
            for (what, v) in [
                ("its lines", lines),
                ("its estates", estates),
                ("opex + one-off + capex", parts),
                ("cumulative", s.cumulative_plan - (cum_plan - s.plan)),
            ] {
                if v != s.plan {
                    wrong.push(format!("plan {} != {what} {v}", s.plan));
                }
            }
            if let Some(b) = s.baseline {
                cum_savings += b - s.plan;
                let base = sum(&self.baseline_lines, m);
                if b != base {
                    wrong.push(format!("baseline {b} != its lines {base}"));
                }
                if s.savings != Some(b - s.plan) || s.cumulative_savings != Some(cum_savings) {
                    wrong.push("savings are not baseline - plan, summed".to_string());
                }
            }
            if let Some(w) = wrong.first() {
                return Err(format!("{m}: {w}"));
            }
        }
        Ok(())
    }
}

/// Headline figures of a projection.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Headline {
    /// Plan spend over the horizon.
    pub plan_total: Money,
    /// Baseline spend over the horizon.
    pub baseline_total: Option<Money>,
    /// Savings over the horizon.
    pub savings_total: Option<Money>,
    /// NPV of the plan's spend.
    pub plan_npv: Money,
    /// NPV of the savings.
    pub savings_npv: Option<Money>,
    /// First month from which cumulative savings stay at or above zero.
    pub break_even: Option<Month>,
    /// Plan spend in the last month.
    pub last_month_plan: Money,
    /// Savings in the last month, times 12.
    pub annual_savings_run_rate: Option<Money>,
    /// Plan spend above the baseline, summed over the months where the
    /// plan costs more than staying as is.
    pub extra_over_baseline: Option<Money>,
    /// Months in which both sides of a migration are billed.
    pub dual_running_months: Option<u32>,
    /// Spend on the new side in those months: the price of running both.
    pub dual_running_new_side: Option<Money>,
}

/// A row of the tornado table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TornadoRow {
    /// The input.
    pub input: String,
    /// Its low and high settings, described.
    pub range: String,
    /// The metric with the input low.
    pub low: Money,
    /// The metric with the input high.
    pub high: Money,
    /// `|high - low|`.
    pub swing: Money,
}

/// The figures of a named case.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaseResult {
    /// Its name.
    pub name: String,
    /// Its headline figures.
    pub headline: Headline,
}

/// An estate's recurring spend in the first month, priced on its own.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EstateAtStart {
    /// The estate.
    pub estate: String,
    /// Its spend in the first month.
    pub monthly: Money,
}

/// Everything a cost report shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analysis {
    /// The base case, line by line.
    pub projection: Projection,
    /// The base case's headline figures.
    pub headline: Headline,
    /// Named cases.
    pub cases: Vec<CaseResult>,
    /// What the tornado metric is.
    pub tornado_metric: String,
    /// Inputs by how much they move the metric, largest first.
    pub tornado: Vec<TornadoRow>,
    /// Budgets exceeded.
    pub overruns: Vec<Overrun>,
    /// Stated lines against the prices.
    pub explained: Vec<Explained>,
    /// Each estate's recurring spend in the first month, priced on its own
    /// as it stands (no one-offs, no migration).
    pub estates_at_start: Vec<EstateAtStart>,
    /// For a migration: `(old - new) x 12` at first-month usage and prices,
    /// the saving a year once moved before any growth.
    pub annual_saving_at_start: Option<Money>,
}

/// One region's dual running: its old site's cost while its new site is
/// also paid for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DualRunning {
    /// The region (site tag).
    pub site: String,
    /// First day both sites are paid for (clamped to the horizon).
    pub from: Date,
    /// First day only the new site is paid for: the old site's
    /// decommissioning, or the end of the horizon if it never was.
    pub until: Date,
    /// The old site's usage lines in `[from, until)`, priced on their own.
    pub cost: Money,
}

/// What a migration plan costs as it was run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanCost {
    /// The currency of every amount.
    pub currency: Currency,
    /// Dual running summed over the regions.
    pub dual_running: Money,
    /// Dual running region by region, in the order the dates were given.
    pub dual_running_by_site: Vec<DualRunning>,
    /// The first whole calendar month after the plan ended.
    pub final_month: Month,
    /// The plan's spend in that month, both estates.
    pub final_monthly: Money,
    /// That spend by estate.
    pub final_by_estate: BTreeMap<String, Money>,
    /// The base case projected with the dates the plan produced.
    pub projection: Projection,
    /// Budgets that projection exceeds.
    pub overruns: Vec<Overrun>,
}

/// What the usage lines of `estate` at `site` cost over `[from, until)`,
/// priced on their own: opex only (no setup fees, one-offs, capex or
/// staff), each month's lines at the item's own billing granularity, and a
/// reservation paid for no longer than the stretch.
fn site_cost(
    pricer: &Pricer,
    estate: &Estate,
    site: &str,
    from: Date,
    until: Date,
) -> Result<Money, BillError> {
    if until <= from {
        return Ok(Money::ZERO);
    }
    let lines = estate
        .lines
        .iter()
        .filter(|l| l.site == site)
        .map(|l| {
            let lo = l.window.from.map_or(from, |f| f.max(from));
            let hi = l.window.until.map_or(until, |u| u.min(until)).max(lo);
            UsageLine {
                window: Window {
                    from: Some(lo),
                    until: Some(hi),
                },
                commitment_ends: l.commitment_ends.map(|e| e.clamp(lo, hi)),
                ..l.clone()
            }
        })
        .collect();
    let stretch = Estate {
        name: estate.name.clone(),
        lines,
        ..Estate::default()
    };
    let mut total = Money::ZERO;
    let mut month = from.month_of();
    while month.first_day() < until {
        total += pricer
            .price_month(&stretch, month)?
            .iter()
            .filter(|l| l.kind == Kind::Opex)
            .map(|l| l.amount)
            .sum();
        month = month.plus(1);
    }
    Ok(total)
}

fn both_billed(s: &MonthSummary, m: &Migration) -> bool {
    let billed = |name: &str| s.by_estate.get(name).is_some_and(|&v| v > Money::ZERO);
    billed(&m.from) && billed(&m.to)
}

/// Net present value of monthly flows at an annual rate: flow `i` (0-based)
/// is discounted by `(1 + rate)^((i + 1) / 12)`, i.e. paid at the end of
/// its month. Rounded to the cent.
pub fn npv(flows: &[Money], annual_rate: f64) -> Money {
    let v: f64 = flows
        .iter()
        .enumerate()
        .map(|(i, m)| m.as_f64() / (1.0 + annual_rate).powf((i as f64 + 1.0) / 12.0))
        .sum();
    Money::from_micros((v * 1e6).round() as i64).round_to_cents()
}

/// The index of the first month from which `cumulative` stays at or above
/// zero, if any.
pub fn break_even_index(cumulative: &[Money]) -> Option<usize> {
    let last_negative = cumulative.iter().rposition(|&c| c < Money::ZERO);
    match last_negative {
        None => (!cumulative.is_empty()).then_some(0),
        Some(i) if i + 1 < cumulative.len() => Some(i + 1),
        Some(_) => None,
    }
}

impl CostModel {
    /// The price books the model's estates and migration price from, in
    /// name order: a book loaded but never used is left out.
    pub fn books_used(&self) -> Vec<&PriceBook> {
        let mut used = std::collections::BTreeSet::new();
        for e in &self.estates {
            used.extend(e.lines.iter().map(|l| l.book.as_str()));
            used.extend(e.one_off_usage.iter().map(|u| u.book.as_str()));
        }
        if let Some((_, book, _)) = self
            .migration
            .as_ref()
            .and_then(|m| m.data_moved_per_region.as_ref())
        {
            used.insert(book.as_str());
        }
        self.books
            .values()
            .filter(|b| used.contains(b.name.as_str()))
            .collect()
    }

    fn estate(&self, name: &str) -> Option<&Estate> {
        self.estates.iter().find(|e| e.name == name)
    }

    fn pricer<'a>(&'a self, adjust: &'a Adjustments) -> Pricer<'a> {
        Pricer {
            books: &self.books,
            currency: self.currency,
            fx: &self.fx,
            adjust,
            start: self.start,
        }
    }

    /// The migration with its old and new estates set by `dates`, and the
    /// old estate as it stands; `None` without a migration.
    fn migrated(&self, dates: &[RegionDates]) -> Option<(&Migration, Estate, Estate, &Estate)> {
        let m = self.migration.as_ref()?;
        let (old, new) = (self.estate(&m.from)?, self.estate(&m.to)?);
        let (o, n) = m.apply(old, new, dates);
        Some((m, o, n, old))
    }

    /// Plan and baseline estates for a migration's region dates.
    fn sides(&self, dates: &[RegionDates]) -> (Vec<Estate>, Vec<Estate>) {
        match self.migrated(dates) {
            None => (self.estates.clone(), Vec::new()),
            Some((_, o, n, old)) => (vec![o, n], vec![old.clone()]),
        }
    }

    /// Prices the horizon with `adjust` (and a migration pace, if given).
    pub fn project(
        &self,
        adjust: &Adjustments,
        days_per_region: Option<u32>,
    ) -> Result<Projection, BillError> {
        let dates = self
            .migration
            .as_ref()
            .map(|m| m.paced_dates(days_per_region.unwrap_or(m.days_per_region)))
            .unwrap_or_default();
        self.project_dates(adjust, &dates)
    }

    /// Prices the horizon with `adjust`, the migration's regions moving on
    /// `dates`.
    fn project_dates(
        &self,
        adjust: &Adjustments,
        dates: &[RegionDates],
    ) -> Result<Projection, BillError> {
        let pricer = self.pricer(adjust);
        let (plan, baseline) = self.sides(dates);
        let mut months = Vec::new();
        let mut plan_lines = Vec::new();
        let mut baseline_lines = Vec::new();
        let mut cum_plan = Money::ZERO;
        let mut cum_savings = Money::ZERO;
        for i in 0..self.months {
            let month = self.start.plus(i);
            let mut lines = Vec::new();
            let mut depreciation = Money::ZERO;
            for e in &plan {
                lines.extend(pricer.price_month(e, month)?);
                depreciation += pricer.depreciation(e, month)?;
            }
            let mut base_lines = Vec::new();
            match (&self.actual_baseline, baseline.is_empty()) {
                (Some(actual), false) => {
                    // What was paid, grown as the usage it paid for grows.
                    let g = pricer.growth(month);
                    base_lines.extend(actual.iter().map(|l| LineItem {
                        month,
                        quantity: l.quantity * g,
                        amount: l.amount.times(g).round_to_cents(),
                        ..l.clone()
                    }));
                }
                _ => {
                    for e in &baseline {
                        base_lines.extend(pricer.price_month(e, month)?);
                    }
                }
            }
            let sum_kind = |k: &[Kind]| -> Money {
                lines
                    .iter()
                    .filter(|l| k.contains(&l.kind))
                    .map(|l| l.amount)
                    .sum()
            };
            let total: Money = lines.iter().map(|l| l.amount).sum();
            let mut by_estate = BTreeMap::new();
            for l in &lines {
                *by_estate.entry(l.estate.clone()).or_insert(Money::ZERO) += l.amount;
            }
            cum_plan += total;
            let (base, savings, cumulative) = if baseline.is_empty() {
                (None, None, None)
            } else {
                let b: Money = base_lines.iter().map(|l| l.amount).sum();
                cum_savings += b - total;
                (Some(b), Some(b - total), Some(cum_savings))
            };
            months.push(MonthSummary {
                month,
                plan: total,
                by_estate,
                opex: sum_kind(&[Kind::Opex]),
                one_off: sum_kind(&[Kind::OneOff]),
                capex: sum_kind(&[Kind::Capex, Kind::Salvage]),
                depreciation,
                baseline: base,
                savings,
                cumulative_savings: cumulative,
                cumulative_plan: cum_plan,
            });
            plan_lines.extend(lines);
            baseline_lines.extend(base_lines);
        }
        let projection = Projection {
            months,
            plan_lines,
            baseline_lines,
        };
        debug_assert_eq!(projection.check_sums(), Ok(()));
        Ok(projection)
    }

    /// Headline figures of a projection.
    pub fn headline(&self, p: &Projection, discount_rate: f64) -> Headline {
        let plan: Vec<Money> = p.months.iter().map(|m| m.plan).collect();
        let savings: Option<Vec<Money>> = p.months.iter().map(|m| m.savings).collect();
        let cumulative: Option<Vec<Money>> =
            p.months.iter().map(|m| m.cumulative_savings).collect();
        let baseline_total: Option<Money> =
            p.months.iter().map(|m| m.baseline).sum::<Option<Money>>();
        Headline {
            plan_total: plan.iter().copied().sum(),
            baseline_total,
            savings_total: savings.as_ref().map(|s| s.iter().copied().sum()),
            plan_npv: npv(&plan, discount_rate),
            savings_npv: savings.as_ref().map(|s| npv(s, discount_rate)),
            break_even: cumulative
                .as_ref()
                .and_then(|c| break_even_index(c))
                .map(|i| p.months[i].month),
            last_month_plan: plan.last().copied().unwrap_or(Money::ZERO),
            annual_savings_run_rate: savings
                .as_ref()
                .and_then(|s| s.last())
                .map(|&s| Money::from_micros(s.micros() * 12)),
            extra_over_baseline: savings
                .as_ref()
                .map(|s| s.iter().filter(|&&x| x < Money::ZERO).map(|&x| -x).sum()),
            dual_running_months: self
                .migration
                .as_ref()
                .map(|m| p.months.iter().filter(|s| both_billed(s, m)).count() as u32),
            dual_running_new_side: self.migration.as_ref().map(|m| {
                p.months
                    .iter()
                    .filter(|s| both_billed(s, m))
                    .map(|s| s.by_estate.get(&m.to).copied().unwrap_or(Money::ZERO))
                    .sum()
            }),
        }
    }

    /// Each estate's recurring spend, priced on its own in the first month
    /// as if it ran the whole month: no setup fees, one-offs or capex.
    pub fn estates_at_start(&self) -> Result<Vec<EstateAtStart>, BillError> {
        let pricer = self.pricer(&self.base);
        self.estates
            .iter()
            .map(|e| {
                // Running all month, so no setup fee and no partial month.
                let steady = Estate {
                    lines: e
                        .lines
                        .iter()
                        .map(|l| UsageLine {
                            window: Window::default(),
                            ..l.clone()
                        })
                        .collect(),
                    one_offs: Vec::new(),
                    one_off_usage: Vec::new(),
                    capex: Vec::new(),
                    ..e.clone()
                };
                let total: Money = pricer
                    .price_month(&steady, self.start)?
                    .iter()
                    .map(|l| l.amount)
                    .sum();
                Ok(EstateAtStart {
                    estate: e.name.clone(),
                    monthly: total,
                })
            })
            .collect()
    }

    /// What the migration costs as a plan run carried it out: the base
    /// case projected with the regions moving on `dates` instead of at the
    /// migration's pace, its dual running, its spend in the first whole
    /// month after `plan_end` (the plan's last day) and the budget check.
    ///
    /// A region of the migration missing from `dates` never moved: its old
    /// site runs on and no new site is paid for it. A region whose
    /// `old_until` is `None` pays for both sites to the end of the horizon,
    /// and its dual running is counted to there. Without a migration the
    /// dates are ignored and there is no dual running.
    pub fn plan_cost(&self, dates: &[RegionDates], plan_end: Date) -> Result<PlanCost, BillError> {
        let projection = self.project_dates(&self.base, dates)?;
        let pricer = self.pricer(&self.base);
        let (horizon_start, horizon_end) = (
            self.start.first_day(),
            self.start.plus(self.months).first_day(),
        );
        let mut dual_running_by_site = Vec::new();
        if let Some((_, old, _, _)) = self.migrated(dates) {
            for d in dates {
                let from = d.new_from.clamp(horizon_start, horizon_end);
                let until = d.old_until.unwrap_or(horizon_end).clamp(from, horizon_end);
                dual_running_by_site.push(DualRunning {
                    site: d.site.clone(),
                    from,
                    until,
                    cost: site_cost(&pricer, &old, &d.site, from, until)?,
                });
            }
        }
        let final_month = plan_end.month_of().plus(1);
        let mut final_by_estate = BTreeMap::new();
        for e in &self.sides(dates).0 {
            let spend: Money = pricer
                .price_month(e, final_month)?
                .iter()
                .map(|l| l.amount)
                .sum();
            *final_by_estate.entry(e.name.clone()).or_insert(Money::ZERO) += spend;
        }
        Ok(PlanCost {
            currency: self.currency,
            dual_running: dual_running_by_site.iter().map(|d| d.cost).sum(),
            dual_running_by_site,
            final_month,
            final_monthly: final_by_estate.values().copied().sum(),
            final_by_estate,
            overruns: self.budget_check(&projection),
            projection,
        })
    }

    /// The metric the tornado table and cases rank by: NPV of the savings
    /// when comparing, else NPV of the spend.
    fn metric(&self, h: &Headline) -> Money {
        h.savings_npv.unwrap_or(h.plan_npv)
    }

    /// The base case, cases, tornado table, budget check and stated lines.
    pub fn analyse(&self) -> Result<Analysis, BillError> {
        let projection = self.project(&self.base, None)?;
        let headline = self.headline(&projection, self.discount_rate);
        let mut cases = Vec::new();
        for c in &self.cases {
            let p = self.project(&c.adjust, c.days_per_region)?;
            cases.push(CaseResult {
                name: c.name.clone(),
                headline: self.headline(&p, self.discount_rate),
            });
        }
        let tornado = self.tornado()?;
        let overruns = self.budget_check(&projection);
        let explained = self.explain(&projection);
        let estates_at_start = self.estates_at_start()?;
        let annual_saving_at_start = self.migration.as_ref().and_then(|m| {
            let get = |n: &str| {
                estates_at_start
                    .iter()
                    .find(|e| e.estate == n)
                    .map(|e| e.monthly)
            };
            Some(Money::from_micros(
                (get(&m.from)? - get(&m.to)?).micros() * 12,
            ))
        });
        Ok(Analysis {
            projection,
            headline,
            cases,
            tornado_metric: if self.migration.is_some() {
                "NPV of savings".to_string()
            } else {
                "NPV of spend".to_string()
            },
            tornado,
            overruns,
            explained,
            estates_at_start,
            annual_saving_at_start,
        })
    }

    /// Moves each input low and high and records the metric; rows sorted
    /// by swing, largest first. Prices of each line item, data volumes and
    /// exchange rates move by `sensitivity` (relative); growth by 10
    /// percentage points a year and the discount rate by 4 points either
    /// way (ranges wide enough to span the planning cases without claiming
    /// a distribution); a migration's pace halves and doubles.
    pub fn tornado(&self) -> Result<Vec<TornadoRow>, BillError> {
        let s = self.sensitivity;
        let pct = format!("-{0:.0}% / +{0:.0}%", s * 100.0);
        let mut knobs: Vec<(String, String, Adjustments, Adjustments, f64)> = Vec::new();
        let with = |f: &dyn Fn(&mut Adjustments, f64)| {
            let (mut lo, mut hi) = (self.base.clone(), self.base.clone());
            f(&mut lo, 1.0 - s);
            f(&mut hi, 1.0 + s);
            (lo, hi)
        };
        let (lo, hi) = with(&|a, k| a.volume_factor *= k);
        knobs.push(("data volume (GB, TB)".into(), pct.clone(), lo, hi, 0.0));
        let g = self.base.growth_per_year;
        let (mut lo, mut hi) = (self.base.clone(), self.base.clone());
        lo.growth_per_year = g - 0.10;
        hi.growth_per_year = g + 0.10;
        knobs.push((
            "growth per year".into(),
            format!("{:.0}% / {:.0}%", (g - 0.10) * 100.0, (g + 0.10) * 100.0),
            lo,
            hi,
            0.0,
        ));
        if !self.fx.is_empty() {
            let (lo, hi) = with(&|a, k| a.fx_factor *= k);
            knobs.push(("exchange rates".into(), pct.clone(), lo, hi, 0.0));
        }
        let mut line_names: Vec<String> = self
            .project(&self.base, None)?
            .plan_lines
            .iter()
            .map(|l| l.line.clone())
            .collect();
        line_names.sort();
        line_names.dedup();
        for name in line_names {
            let (lo, hi) = with(&|a, k| {
                let f = a.line_price_factor.get(&name).copied().unwrap_or(1.0);
                a.line_price_factor.insert(name.clone(), f * k);
            });
            knobs.push((format!("price: {name}"), pct.clone(), lo, hi, 0.0));
        }
        let mut rows = Vec::new();
        for (input, range, lo, hi, _) in knobs {
            let l = self.metric(&self.headline(&self.project(&lo, None)?, self.discount_rate));
            let h = self.metric(&self.headline(&self.project(&hi, None)?, self.discount_rate));
            rows.push(TornadoRow {
                input,
                range,
                low: l,
                high: h,
                swing: Money::from_micros((h - l).micros().abs()),
            });
        }
        let metric = |r: f64| -> Result<Money, BillError> {
            Ok(self.metric(&self.headline(&self.project(&self.base, None)?, r)))
        };
        let r = self.discount_rate;
        let (l, h) = (metric((r - 0.04).max(0.0))?, metric(r + 0.04)?);
        rows.push(TornadoRow {
            input: "discount rate".into(),
            range: format!(
                "{:.0}% / {:.0}%",
                (r - 0.04).max(0.0) * 100.0,
                (r + 0.04) * 100.0
            ),
            low: l,
            high: h,
            swing: Money::from_micros((h - l).micros().abs()),
        });
        if let Some(m) = &self.migration {
            let d = m.days_per_region;
            let l = self.metric(&self.headline(
                &self.project(&self.base, Some((d / 2).max(1)))?,
                self.discount_rate,
            ));
            let h = self.metric(
                &self.headline(&self.project(&self.base, Some(d * 2))?, self.discount_rate),
            );
            rows.push(TornadoRow {
                input: "migration pace".into(),
                range: format!("{} / {} days per region", (d / 2).max(1), d * 2),
                low: l,
                high: h,
                swing: Money::from_micros((h - l).micros().abs()),
            });
        }
        rows.sort_by(|a, b| b.swing.cmp(&a.swing).then(a.input.cmp(&b.input)));
        Ok(rows)
    }

    /// Every budget exceeded, with its month and line item.
    pub fn budget_check(&self, p: &Projection) -> Vec<Overrun> {
        let mut out = Vec::new();
        let by_line = |lines: &[LineItem], month: Month| -> BTreeMap<String, Money> {
            let mut m = BTreeMap::new();
            for l in lines.iter().filter(|l| l.month == month) {
                *m.entry(l.line.clone()).or_insert(Money::ZERO) += l.amount;
            }
            m
        };
        for s in &p.months {
            let plan = by_line(&p.plan_lines, s.month);
            if let Some(limit) = self.budget.monthly_total {
                if s.plan > limit {
                    let base = by_line(&p.baseline_lines, s.month);
                    let driver = plan
                        .iter()
                        .map(|(k, v)| (*v - base.get(k).copied().unwrap_or(Money::ZERO), k))
                        .max()
                        .map(|(d, k)| {
                            if p.baseline_lines.is_empty() {
                                format!("{k} ({d})")
                            } else {
                                format!("{k} (+{d} over the baseline)")
                            }
                        })
                        .unwrap_or_default();
                    out.push(Overrun {
                        month: Some(s.month),
                        line: "total".into(),
                        spend: s.plan,
                        budget: limit,
                        excess: s.plan - limit,
                        driver,
                    });
                }
            }
            for (line, &limit) in &self.budget.lines {
                let spend = plan.get(line).copied().unwrap_or(Money::ZERO);
                if spend > limit {
                    out.push(Overrun {
                        month: Some(s.month),
                        line: line.clone(),
                        spend,
                        budget: limit,
                        excess: spend - limit,
                        driver: line.clone(),
                    });
                }
            }
        }
        if let Some(limit) = self.budget.horizon_total {
            let spend: Money = p.months.iter().map(|m| m.plan).sum();
            if spend > limit {
                out.push(Overrun {
                    month: None,
                    line: "total".into(),
                    spend,
                    budget: limit,
                    excess: spend - limit,
                    driver: String::new(),
                });
            }
        }
        out
    }

    /// Holds each stated line against the priced lines of the first month.
    pub fn explain(&self, p: &Projection) -> Vec<Explained> {
        let first = self.start;
        self.stated
            .iter()
            .map(|s| {
                let lines = if p.baseline_lines.is_empty() {
                    &p.plan_lines
                } else {
                    &p.baseline_lines
                };
                let priced: Money = lines
                    .iter()
                    .filter(|l| l.month == first && l.estate == s.estate && l.line == s.line)
                    .map(|l| l.amount)
                    .sum();
                let gap = s.monthly - priced;
                let rel = gap.as_f64().abs() / s.monthly.as_f64().abs().max(0.01);
                Explained {
                    estate: s.estate.clone(),
                    line: s.line.clone(),
                    stated: s.monthly,
                    priced,
                    unexplained: gap,
                    flagged: rel > self.stated_tolerance,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::book::{Commitment, Granularity, Sku, Tier, Unit};
    use super::*;

    fn usd(s: &str) -> Money {
        Money::parse_amount(s).unwrap()
    }

    #[test]
    fn npv_matches_hand_computation() {
        // 1,000 at the end of month 12 at 10 %/year: 1000 / 1.1 = 909.09.
        let mut flows = vec![Money::ZERO; 12];
        flows[11] = usd("1000");
        assert_eq!(npv(&flows, 0.10), usd("909.09"));
        // Zero rate: the plain sum.
        assert_eq!(npv(&[usd("1"), usd("2.5")], 0.0), usd("3.5"));
        // 100 a month for 2 months at 12.68250301 %/year (1 %/month):
        // 100/1.01 + 100/1.0201 = 99.0099 + 98.0296 = 197.04.
        assert_eq!(
            npv(&[usd("100"), usd("100")], 1.01f64.powi(12) - 1.0),
            usd("197.04")
        );
    }

    #[test]
    fn break_even_is_the_month_cumulative_savings_turn_for_good() {
        let c = |v: &[i64]| v.iter().map(|&x| Money::from_cents(x)).collect::<Vec<_>>();
        assert_eq!(break_even_index(&c(&[-5, -3, 1, 4])), Some(2));
        assert_eq!(break_even_index(&c(&[-5, 1, -1, 4])), Some(3));
        assert_eq!(break_even_index(&c(&[1, 2])), Some(0));
        assert_eq!(break_even_index(&c(&[-1, -2])), None);
    }

    #[test]
    fn migration_windows_move_one_region_a_week() {
        let m = Migration {
            from: "cloud".into(),
            to: "metal".into(),
            start: Date::parse("2027-01-04").unwrap(),
            regions: vec!["ny1".into(), "la1".into()],
            days_per_region: 7,
            lead_days: 3,
            labour_per_region: None,
            data_moved_per_region: None,
        };
        let (from, until) = m.region_window(1, 7);
        assert_eq!(from.to_string(), "2027-01-08");
        assert_eq!(until.to_string(), "2027-01-18");
        assert_eq!(m.end(7).to_string(), "2027-01-18");
    }

    fn day(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn sku(id: &str, line: &str, unit: Unit, granularity: Granularity, price: &str) -> Sku {
        Sku::flat(
            id,
            line,
            unit,
            granularity,
            usd(price),
            "test",
            day("2026-11-01"),
        )
    }

    fn book(name: &str, skus: Vec<Sku>) -> (String, PriceBook) {
        let b = PriceBook {
            name: name.into(),
            provider: name.into(),
            currency: Currency::USD,
            taken_on: day("2026-11-01"),
            source: "test".into(),
            skus: skus.into_iter().map(|s| (s.id.clone(), s)).collect(),
            changes: vec![],
        };
        (name.to_string(), b)
    }

    fn usage(book: &str, sku: &str, site: &str, quantity: f64) -> UsageLine {
        UsageLine {
            book: book.into(),
            sku: sku.into(),
            site: site.into(),
            quantity,
            commitment: Commitment::OnDemand,
            commitment_ends: None,
            window: Window::default(),
            grows: false,
            upfront: None,
        }
    }

    /// The VM's price: $0.10 an hour, two of them at each cloud site.
    const VM_HOURLY: &str = "0.10";
    const VMS_PER_SITE: f64 = 2.0;

    /// Two regions move from hourly cloud VMs (two per site, one more
    /// account-wide) to monthly rented servers (one per site, $100 a
    /// month), one a week from 2027-02-01 with three days' lead; $10 of
    /// labour and 1,000 GB copied out at $0.05/GB per region. Horizon:
    /// January to June 2027.
    fn model() -> CostModel {
        let books = [
            book(
                "cloud",
                vec![
                    sku("vm", "compute", Unit::Hour, Granularity::Hourly, VM_HOURLY),
                    sku("egress", "egress", Unit::Gb, Granularity::Hourly, "0.05"),
                ],
            ),
            book(
                "metal",
                vec![sku(
                    "rent",
                    "server rent",
                    Unit::Month,
                    Granularity::Monthly,
                    "100",
                )],
            ),
        ]
        .into_iter()
        .collect();
        let cloud = Estate {
            name: "cloud".into(),
            lines: vec![
                usage("cloud", "vm", "ny1", VMS_PER_SITE),
                usage("cloud", "vm", "la1", VMS_PER_SITE),
                usage("cloud", "vm", "", 1.0),
            ],
            ..Estate::default()
        };
        let metal = Estate {
            name: "metal".into(),
            lines: vec![
                usage("metal", "rent", "ny1", 1.0),
                usage("metal", "rent", "la1", 1.0),
            ],
            ..Estate::default()
        };
        CostModel {
            books,
            currency: Currency::USD,
            fx: vec![],
            start: day("2027-01-01").month_of(),
            months: 6,
            estates: vec![cloud, metal],
            migration: Some(Migration {
                from: "cloud".into(),
                to: "metal".into(),
                start: day("2027-02-01"),
                regions: vec!["ny1".into(), "la1".into()],
                days_per_region: 7,
                lead_days: 3,
                labour_per_region: Some((usd("10"), Currency::USD)),
                data_moved_per_region: Some((1000.0, "cloud".into(), "egress".into())),
            }),
            discount_rate: 0.0,
            base: Adjustments::default(),
            budget: Budget::default(),
            stated: vec![],
            stated_tolerance: 0.25,
            actual_baseline: None,
            cases: vec![],
            sensitivity: 0.2,
        }
    }

    /// What `days` days of one cloud site's VMs cost, from the price list.
    fn cloud_site_days(days: u32) -> Money {
        usd(VM_HOURLY).times(VMS_PER_SITE * 24.0 * f64::from(days))
    }

    fn paced(model: &CostModel) -> Vec<RegionDates> {
        model.migration.as_ref().unwrap().paced_dates(7)
    }

    fn dual(p: &PlanCost, site: &str) -> DualRunning {
        p.dual_running_by_site
            .iter()
            .find(|d| d.site == site)
            .unwrap()
            .clone()
    }

    #[test]
    fn paced_dates_reproduce_the_projection() {
        let model = model();
        let dates = paced(&model);
        assert_eq!(
            dates[1],
            RegionDates {
                site: "la1".into(),
                moves: day("2027-02-08"),
                new_from: day("2027-02-05"),
                old_until: Some(day("2027-02-15")),
            }
        );
        let p = model.plan_cost(&dates, day("2027-02-14")).unwrap();
        let base = model.project(&model.base, None).unwrap();
        assert_eq!(p.projection.plan_lines, base.plan_lines);
        assert_eq!(p.projection.months, base.months);
        assert_eq!(p.projection, base);
        // February: ny1's VMs stop on the 8th (7 days), la1's and the
        // account-wide one on the 15th (14 days); both rents, both
        // labour payments and 2,000 GB copied out.
        let feb = &p.projection.months[1];
        let cloud = cloud_site_days(7) + cloud_site_days(14) + usd("0.10").times(24.0 * 14.0);
        assert_eq!(feb.by_estate["cloud"], cloud + usd("100"));
        assert_eq!(feb.by_estate["metal"], usd("200") + usd("20"));
        // Each region runs both sites for 10 days (lead 3 + a week).
        assert_eq!(dual(&p, "ny1").cost, cloud_site_days(10));
        assert_eq!(dual(&p, "la1").cost, cloud_site_days(10));
        assert_eq!(p.dual_running, cloud_site_days(20));
    }

    #[test]
    fn a_late_decommission_costs_the_old_site_for_the_extra_days() {
        let model = model();
        let on_time = model.plan_cost(&paced(&model), day("2027-02-14")).unwrap();
        let mut dates = paced(&model);
        dates[1].old_until = Some(day("2027-02-22"));
        let late = model.plan_cost(&dates, day("2027-02-21")).unwrap();
        assert_eq!(late.dual_running - on_time.dual_running, cloud_site_days(7));
        assert_eq!(dual(&late, "la1").until, day("2027-02-22"));
        assert_eq!(dual(&late, "ny1"), dual(&on_time, "ny1"));
        // Across a month end: ny1 kept to 2027-03-03 pays Jan 29 - Mar 2.
        let mut dates = paced(&model);
        dates[0].old_until = Some(day("2027-03-03"));
        let p = model.plan_cost(&dates, day("2027-03-02")).unwrap();
        assert_eq!(dual(&p, "ny1").cost, cloud_site_days(3 + 28 + 2));
        assert_eq!(dual(&p, "la1"), dual(&on_time, "la1"));
    }

    #[test]
    fn a_site_never_decommissioned_is_in_the_final_month_with_its_new_site() {
        let model = model();
        let on_time = model.plan_cost(&paced(&model), day("2027-02-14")).unwrap();
        assert_eq!(on_time.final_month, day("2027-03-01").month_of());
        assert_eq!(on_time.final_by_estate["cloud"], Money::ZERO);
        assert_eq!(on_time.final_monthly, usd("200"));

        let mut dates = paced(&model);
        dates[1].old_until = None;
        let p = model.plan_cost(&dates, day("2027-02-14")).unwrap();
        // March: la1's VMs and the account-wide VM (which waits for every
        // region) run all 31 days beside both rents.
        let cloud = cloud_site_days(31) + usd("0.10").times(24.0 * 31.0);
        assert_eq!(p.final_by_estate["cloud"], cloud);
        assert_eq!(p.final_by_estate["metal"], usd("200"));
        assert_eq!(p.final_monthly, cloud + usd("200"));
        assert_eq!(p.final_monthly, p.projection.months[2].plan);
        // Its dual running runs to the end of the horizon.
        let la1 = dual(&p, "la1");
        assert_eq!(
            (la1.from, la1.until),
            (day("2027-02-05"), day("2027-07-01"))
        );
        assert_eq!(la1.cost, cloud_site_days(24 + 31 + 30 + 31 + 30));

        // la1 never moved at all: no new site, no labour, old site runs on.
        let p = model
            .plan_cost(&paced(&model)[..1], day("2027-02-07"))
            .unwrap();
        assert_eq!(p.final_by_estate["cloud"], cloud);
        assert_eq!(p.final_by_estate["metal"], usd("100"));
        assert_eq!(p.dual_running_by_site.len(), 1);
        assert!(!p
            .projection
            .plan_lines
            .iter()
            .any(|l| l.estate == "metal" && l.site == "la1"));
    }

    #[test]
    fn the_final_month_is_the_first_whole_month_after_the_plan() {
        let model = model();
        let dates = paced(&model);
        for (end, month) in [
            ("2027-02-14", "2027-03-01"),
            ("2027-02-28", "2027-03-01"),
            ("2027-03-01", "2027-04-01"),
            ("2027-12-31", "2028-01-01"),
        ] {
            let p = model.plan_cost(&dates, day(end)).unwrap();
            assert_eq!(p.final_month, day(month).month_of(), "{end}");
        }
    }

    #[test]
    fn the_budget_is_checked_on_the_dates_as_run() {
        let mut model = model();
        // On time: $472 in January, $454.40 in February, then $200 a month.
        model.budget.horizon_total = Some(usd("1800"));
        let on_time = model.plan_cost(&paced(&model), day("2027-02-14")).unwrap();
        let total: Money = on_time.projection.months.iter().map(|m| m.plan).sum();
        assert_eq!(total, usd("1726.40"));
        assert!(on_time.overruns.is_empty());
        let mut dates = paced(&model);
        dates[1].old_until = Some(day("2027-03-01"));
        let late = model.plan_cost(&dates, day("2027-02-28")).unwrap();
        assert_eq!(late.overruns.len(), 1);
        assert_eq!(late.overruns[0].month, None);
        // 14 more days of la1's VMs and the account-wide VM.
        let extra = cloud_site_days(14) + usd("0.10").times(24.0 * 14.0);
        assert_eq!(late.overruns[0].spend, total + extra);
    }

    /// A random estate: up to six usage lines of the three items at two
    /// sites or account-wide, some reserved, some windowed, some growing;
    /// maybe staff, a purchase and a one-off cost.
    fn arb_estate(name: &'static str) -> impl proptest::strategy::Strategy<Value = Estate> {
        use proptest::prelude::*;
        let line = (
            0usize..3,
            0usize..3,
            0u32..40,
            any::<bool>(),
            proptest::option::of(0i64..400),
            proptest::option::of(0i64..400),
            any::<bool>(),
        )
            .prop_map(|(item, site, q, reserved, from, until, grows)| {
                let (book, sku) = [("p", "vm"), ("p", "rent"), ("p", "gb")][item];
                let start = day("2027-01-01");
                let from = from.map(|d| start.plus_days(d - 30));
                let until = until.map(|d| from.unwrap_or(start).plus_days(d + 1));
                UsageLine {
                    commitment: if reserved && item == 0 {
                        Commitment::Reserved1y
                    } else {
                        Commitment::OnDemand
                    },
                    commitment_ends: (reserved && item == 0).then(|| start.plus_days(200)),
                    window: Window { from, until },
                    grows,
                    ..usage(
                        book,
                        sku,
                        ["ny1", "la1", ""][site],
                        f64::from(q) * if item == 2 { 37.5 } else { 1.0 },
                    )
                }
            });
        (
            proptest::collection::vec(line, 0..6),
            any::<bool>(),
            proptest::option::of((1i64..5_000_000, 0i64..400, 0u32..30)),
            proptest::option::of((1i64..1_000_000, 0i64..400)),
        )
            .prop_map(move |(lines, staffed, capex, one_off)| {
                let start = day("2027-01-01");
                Estate {
                    name: name.into(),
                    lines,
                    staff: if staffed {
                        vec![super::super::bill::Staff {
                            line: "ops staff".into(),
                            servers_per_engineer: 3,
                            minimum: 1,
                            loaded_cost_per_month: usd("1234.56"),
                            currency: Currency::USD,
                            source: "test".into(),
                        }]
                    } else {
                        vec![]
                    },
                    capex: capex
                        .map(|(cents, d, months)| super::super::bill::Capex {
                            name: "servers".into(),
                            site: "ny1".into(),
                            amount: Money::from_cents(cents),
                            currency: Currency::USD,
                            purchased: start.plus_days(d),
                            depreciation_months: months,
                            salvage: Money::from_cents(cents / 10),
                        })
                        .into_iter()
                        .collect(),
                    one_offs: one_off
                        .map(|(cents, d)| OneOff {
                            name: "labour".into(),
                            site: "la1".into(),
                            amount: Money::from_cents(cents),
                            currency: Currency::USD,
                            date: start.plus_days(d),
                        })
                        .into_iter()
                        .collect(),
                    ..Estate::default()
                }
            })
    }

    /// A random price book of three items (a VM by the second or hour with
    /// a reserved rate, a monthly rented server with a setup fee, GB in two
    /// bands), random prices, and two random estates with or without a
    /// migration between them, over 1 to 24 months with random growth.
    fn arb_model() -> impl proptest::strategy::Strategy<Value = CostModel> {
        use proptest::prelude::*;
        (
            (
                1i64..100_000,
                1i64..100_000,
                1i64..10_000_000,
                0i64..100_000,
                1i64..1_000,
            ),
            any::<bool>(),
            arb_estate("old"),
            arb_estate("new"),
            any::<bool>(),
            1u32..24,
            -0.3f64..0.6,
            1u32..30,
        )
            .prop_map(
                |(prices, per_second, old, new, migrate, months, growth, pace)| {
                    let (vm_p, reserved_p, rent_p, setup_p, gb_p) = prices;
                    // Prices in tenths of a cent: sub-cent unit prices too.
                    let price = |m: i64| Money::from_micros(m * 1_000);
                    let granularity = if per_second {
                        Granularity::PerSecond { minimum_s: 60 }
                    } else {
                        Granularity::Hourly
                    };
                    let mut vm = sku("vm", "compute", Unit::Hour, granularity, "0");
                    vm.on_demand[0].price = price(vm_p);
                    vm.reserved_1y = Some(price(reserved_p));
                    vm.is_server = true;
                    let mut rent = sku(
                        "rent",
                        "server rent",
                        Unit::Month,
                        Granularity::Monthly,
                        "0",
                    );
                    rent.on_demand[0].price = price(rent_p);
                    rent.setup_fee = price(setup_p);
                    rent.is_server = true;
                    let mut gb = sku("gb", "egress", Unit::Gb, Granularity::Hourly, "0");
                    gb.on_demand = vec![
                        Tier {
                            up_to: Some(1000),
                            price: price(gb_p),
                        },
                        Tier {
                            up_to: None,
                            price: price(gb_p / 2),
                        },
                    ];
                    let migration = migrate.then(|| Migration {
                        from: "old".into(),
                        to: "new".into(),
                        start: day("2027-02-01"),
                        regions: vec!["ny1".into(), "la1".into()],
                        days_per_region: pace,
                        lead_days: 3,
                        labour_per_region: Some((usd("500"), Currency::USD)),
                        data_moved_per_region: Some((1500.0, "p".into(), "gb".into())),
                    });
                    CostModel {
                        books: [book("p", vec![vm, rent, gb])].into_iter().collect(),
                        currency: Currency::USD,
                        fx: vec![],
                        start: day("2027-01-01").month_of(),
                        months,
                        estates: vec![old, new],
                        migration,
                        discount_rate: 0.08,
                        base: Adjustments {
                            growth_per_year: growth,
                            ..Adjustments::default()
                        },
                        budget: Budget::default(),
                        stated: vec![],
                        stated_tolerance: 0.25,
                        actual_baseline: None,
                        cases: vec![],
                        sensitivity: 0.2,
                    }
                },
            )
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Money is conserved: in every projection of a random scenario
        /// (the base case, each sensitivity setting, a plan's dates), every
        /// total is the sum of its lines, and the headline totals are the
        /// sums of the months.
        #[test]
        fn every_total_is_the_sum_of_its_lines(model in arb_model()) {
            let a = model.analyse().unwrap();
            proptest::prop_assert_eq!(a.projection.check_sums(), Ok(()));
            let months: Money = a.projection.months.iter().map(|m| m.plan).sum();
            proptest::prop_assert_eq!(a.headline.plan_total, months);
            let lines: Money = a.projection.plan_lines.iter().map(|l| l.amount).sum();
            proptest::prop_assert_eq!(a.headline.plan_total, lines);
            if let Some(b) = a.headline.baseline_total {
                let base: Money = a.projection.baseline_lines.iter().map(|l| l.amount).sum();
                proptest::prop_assert_eq!(b, base);
                proptest::prop_assert_eq!(a.headline.savings_total, Some(b - lines));
            }
            for l in &a.projection.plan_lines {
                proptest::prop_assert_eq!(l.amount, l.amount.round_to_cents(), "{:?}", l);
            }
            if let Some(m) = &model.migration {
                let pc = model
                    .plan_cost(&m.paced_dates(m.days_per_region), m.end(m.days_per_region))
                    .unwrap();
                proptest::prop_assert_eq!(pc.projection.check_sums(), Ok(()));
                let by_site: Money = pc.dual_running_by_site.iter().map(|d| d.cost).sum();
                proptest::prop_assert_eq!(pc.dual_running, by_site);
                let by_estate: Money = pc.final_by_estate.values().copied().sum();
                proptest::prop_assert_eq!(pc.final_monthly, by_estate);
            }
        }
    }
}
