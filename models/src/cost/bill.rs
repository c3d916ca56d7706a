//! Usage priced into bill lines, month by month.
//!
//! An [`Estate`] is what is run: usage lines (N instances of an item at a
//! site, or GB per month), staff, capex purchases and one-off costs. Pricing
//! a month turns every line active in it into [`LineItem`]s in the report
//! currency, each with quantity, unit, unit price and an amount rounded to
//! the cent, so every total is a sum of lines a reader can check.

use std::collections::BTreeMap;

use serde::Serialize;

use super::book::{split_tiers, Commitment, Granularity, PriceBook, PriceError, Sku, Unit};
use super::commit::{amortised, cover, term_months, Eligible, SavingsPlan, Upfront};
use super::money::{Currency, Date, ExchangeRate, Money, Month};
use crate::time::SimDuration;

/// Days a line runs: from `from` (inclusive) to `until` (exclusive); `None`
/// is open (running before the horizon, or never stopped).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Window {
    /// First day running; `None`: already running when the horizon starts.
    pub from: Option<Date>,
    /// First day no longer running; `None`: still running at the end.
    pub until: Option<Date>,
}

impl Window {
    /// Days of `[a, b)` inside the window.
    fn overlap_days(&self, a: Date, b: Date) -> i64 {
        let lo = self
            .from
            .map_or(a.day_number(), |f| f.day_number().max(a.day_number()));
        let hi = self
            .until
            .map_or(b.day_number(), |u| u.day_number().min(b.day_number()));
        (hi - lo).max(0)
    }
}

/// One line of an estate: `quantity` units of item `sku` from price book
/// `book`, at `site`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UsageLine {
    /// The price book.
    pub book: String,
    /// The item.
    pub sku: String,
    /// Site or region tag (e.g. `ny1`); empty for account-wide usage.
    pub site: String,
    /// Instances for time-priced items; units per month (GB, TB) for volume items.
    pub quantity: f64,
    /// How it is bought.
    pub commitment: Commitment,
    /// When a reservation's term ends; after it the line pays on-demand. A
    /// reserved line stopped before this day keeps paying the reserved rate
    /// until it (a stranded reservation).
    pub commitment_ends: Option<Date>,
    /// When it runs.
    pub window: Window,
    /// Whether the quantity follows the growth curve. A grown instance
    /// count is rounded to the nearest whole instance: the counts written
    /// already carry the estate's headroom, so a fraction of growth does not
    /// buy a whole server at once. A reservation never grows: its
    /// `quantity` is paid for its term, and instances grown beyond it are
    /// billed on demand.
    pub grows: bool,
    /// How a reservation's term is paid when not at the book's no-upfront
    /// rate (partial or all upfront); `None` for the book's rate.
    pub upfront: Option<Upfront>,
}

/// Operations staff: one engineer per `servers_per_engineer` servers (items
/// marked as servers, counted over the estate), at a loaded monthly cost.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Staff {
    /// The line item name, e.g. `ops staff`.
    pub line: String,
    /// Servers one engineer looks after.
    pub servers_per_engineer: u32,
    /// Fewest engineers while any server runs.
    pub minimum: u32,
    /// Loaded cost of one engineer-month (salary, taxes, benefits, tools).
    pub loaded_cost_per_month: Money,
    /// Its currency.
    pub currency: Currency,
    /// Where the figures come from.
    pub source: String,
}

/// A purchase paid at once and depreciated straight-line.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Capex {
    /// What was bought.
    pub name: String,
    /// Site tag.
    pub site: String,
    /// Price paid.
    pub amount: Money,
    /// Its currency.
    pub currency: Currency,
    /// Day of purchase (the cash leaves in its month).
    pub purchased: Date,
    /// Months over which `amount - salvage` is depreciated.
    pub depreciation_months: u32,
    /// Value recovered when sold at the end of the depreciation period.
    pub salvage: Money,
}

/// A one-off cost on a day (labour, a migration contract).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OneOff {
    /// What it is (the line item).
    pub name: String,
    /// Site tag.
    pub site: String,
    /// The amount.
    pub amount: Money,
    /// Its currency.
    pub currency: Currency,
    /// When it is paid.
    pub date: Date,
}

/// Volume used once, priced with the month's other usage of the item (for
/// example the GB of data copied out during a migration).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OneOffUsage {
    /// What it is.
    pub name: String,
    /// The price book.
    pub book: String,
    /// The item.
    pub sku: String,
    /// Units (in the item's unit).
    pub quantity: f64,
    /// When it happens.
    pub date: Date,
}

/// Everything run and paid on one side of a comparison.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Estate {
    /// Name, e.g. `cloud` or `bare metal`.
    pub name: String,
    /// Usage lines.
    pub lines: Vec<UsageLine>,
    /// Staffing rules.
    pub staff: Vec<Staff>,
    /// Purchases.
    pub capex: Vec<Capex>,
    /// One-off costs.
    pub one_offs: Vec<OneOff>,
    /// One-off usage.
    pub one_off_usage: Vec<OneOffUsage>,
    /// Savings plans covering its instances.
    pub savings_plans: Vec<SavingsPlan>,
}

/// What kind of money a line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Recurring operating cost.
    Opex,
    /// One-off cost (setup fees, labour, data moved).
    OneOff,
    /// A purchase paid at once.
    Capex,
    /// Money back from selling a depreciated purchase (negative amount).
    Salvage,
}

/// One line of a monthly bill, in the report currency.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LineItem {
    /// Billing month.
    pub month: Month,
    /// The estate it belongs to.
    pub estate: String,
    /// The provider (price book's provider, or the estate for staff and capex).
    pub provider: String,
    /// Site tag, `all` for account-wide lines.
    pub site: String,
    /// The line item, e.g. `compute`.
    pub line: String,
    /// The priced item.
    pub sku: String,
    /// Opex, one-off, capex or salvage.
    pub kind: Kind,
    /// Billable quantity.
    pub quantity: f64,
    /// Its unit.
    pub unit: String,
    /// Price per unit in the report currency.
    pub unit_price: Money,
    /// `quantity x unit_price`, rounded to the cent.
    pub amount: Money,
    /// How the line was derived (commitment, band, list price and rate).
    pub note: String,
}

/// Changes to inputs, for cases and sensitivity analysis. The default
/// changes nothing.
#[derive(Clone, Debug, PartialEq)]
pub struct Adjustments {
    /// Growth of usage per year (0.10 = +10 %/year), compounded monthly.
    pub growth_per_year: f64,
    /// Multiplier on every stated exchange rate.
    pub fx_factor: f64,
    /// Multiplier on the unit prices of an estate, by estate name.
    pub estate_price_factor: BTreeMap<String, f64>,
    /// Multiplier on the unit prices of a line item, by line item name.
    pub line_price_factor: BTreeMap<String, f64>,
    /// Multiplier on volume usage (GB, TB).
    pub volume_factor: f64,
}

impl Default for Adjustments {
    fn default() -> Self {
        Adjustments {
            growth_per_year: 0.0,
            fx_factor: 1.0,
            estate_price_factor: BTreeMap::new(),
            line_price_factor: BTreeMap::new(),
            volume_factor: 1.0,
        }
    }
}

/// Why an estate cannot be priced.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum BillError {
    /// A line refers to a missing book.
    #[error("no price book named `{0}` is loaded")]
    UnknownBook(String),
    /// A price is missing.
    #[error(transparent)]
    Price(#[from] PriceError),
    /// No exchange rate converts a price.
    #[error("no exchange rate from {from} to {to} is stated; add one to the scenario")]
    NoRate {
        /// Currency of the price.
        from: Currency,
        /// Report currency.
        to: Currency,
    },
}

/// Books, report currency, exchange rates and adjustments used for pricing.
pub struct Pricer<'a> {
    /// Price books by name.
    pub books: &'a BTreeMap<String, PriceBook>,
    /// The currency of the report.
    pub currency: Currency,
    /// Stated exchange rates.
    pub fx: &'a [ExchangeRate],
    /// Input changes.
    pub adjust: &'a Adjustments,
    /// First month of the horizon (month 0 of the growth curve).
    pub start: Month,
}

impl Pricer<'_> {
    fn book(&self, name: &str) -> Result<&PriceBook, BillError> {
        self.books
            .get(name)
            .ok_or_else(|| BillError::UnknownBook(name.to_string()))
    }

    /// Converts `amount` in `from` to the report currency; the note says how.
    pub fn convert(&self, amount: Money, from: Currency) -> Result<(Money, String), BillError> {
        if from == self.currency {
            return Ok((amount, String::new()));
        }
        let rate = self
            .fx
            .iter()
            .find(|r| r.from == from && r.to == self.currency)
            .ok_or(BillError::NoRate {
                from,
                to: self.currency,
            })?;
        let ppm = rate.scaled_ppm(self.adjust.fx_factor);
        let note = format!(
            "list {} {from} at {} {}/{from} ({})",
            amount,
            Money::from_micros(ppm),
            self.currency,
            rate.taken_on
        );
        Ok((rate.convert(amount, self.adjust.fx_factor), note))
    }

    /// The growth curve's factor on usage in `month` (1 in the first month).
    pub(crate) fn growth(&self, month: Month) -> f64 {
        let n = months_between(self.start, month);
        (1.0 + self.adjust.growth_per_year).powf(n as f64 / 12.0)
    }

    fn price_factor(&self, estate: &str, line: &str) -> f64 {
        self.adjust
            .estate_price_factor
            .get(estate)
            .copied()
            .unwrap_or(1.0)
            * self
                .adjust
                .line_price_factor
                .get(line)
                .copied()
                .unwrap_or(1.0)
    }

    /// Prices `estate` for `month`.
    pub fn price_month(&self, estate: &Estate, month: Month) -> Result<Vec<LineItem>, BillError> {
        let growth = self.growth(month);
        let c = MonthContext {
            month,
            m0: month.first_day(),
            m1: month.end(),
            month_days: f64::from(month.days()),
            growth,
            prev_growth: if month > self.start {
                self.growth(month.prev())
            } else {
                growth
            },
        };
        let mut t = MonthTally::default();
        for line in &estate.lines {
            self.price_line(estate, &c, line, &mut t)?;
        }
        for plan in &estate.savings_plans {
            self.price_savings_plan(estate, &c, plan, &mut t)?;
        }
        add_one_off_usage(estate, &c, &mut t.volume);
        self.price_volumes(
            estate,
            &c,
            std::mem::take(&mut t.volume),
            &t.included,
            &mut t.out,
        )?;
        self.price_staff(estate, month, t.servers, &mut t.out)?;
        self.price_capex(estate, month, &mut t.out)?;
        self.price_one_offs(estate, &c, &mut t.out)?;
        Ok(t.out)
    }

    /// Prices one usage line of `estate` for the month: its time-priced
    /// instances (with a line of those grown beyond a reservation, and setup
    /// fees for units new this month) into `t.out`, and its volume into
    /// `t.volume` to be priced with the month's total.
    fn price_line(
        &self,
        estate: &Estate,
        c: &MonthContext,
        line: &UsageLine,
        t: &mut MonthTally,
    ) -> Result<(), BillError> {
        let book = self.book(&line.book)?;
        let item = book.sku(&line.sku)?;
        let (month, m0) = (c.month, c.m0);
        // A line split at its reservation's end counts its servers once
        // a month, and a monthly rent is charged once a month.
        let mut counted = false;
        let mut rent_charged = false;
        for seg in segments(line) {
            let days = seg.window.overlap_days(c.m0, c.m1);
            if days == 0 {
                continue;
            }
            if !item.unit.is_time() {
                let q = line.quantity
                    * if line.grows { c.growth } else { 1.0 }
                    * self.adjust.volume_factor
                    * days as f64
                    / c.month_days;
                let e = t
                    .volume
                    .entry((line.book.clone(), line.sku.clone(), seg.commitment))
                    .or_default();
                e.0 += q;
                if !e.1.contains(&line.site) {
                    e.1.push(line.site.clone());
                }
                continue;
            }
            // Instances running this month: the growth curve's count.
            let running = if line.grows {
                (line.quantity * c.growth).round()
            } else {
                line.quantity
            };
            // A reservation is a fixed commitment: the instances bought
            // are paid whether used or not, and never grow; instances
            // grown beyond it are bought on demand (below).
            let count = if seg.commitment.is_reserved() {
                line.quantity
            } else {
                running
            };
            if item.granularity == Granularity::Monthly {
                if rent_charged {
                    continue;
                }
                rent_charged = true;
            }
            if item.is_server && !seg.stranded && !counted {
                t.servers += running;
            }
            let run = SimDuration::from_secs(days as u64 * 86_400);
            let per_instance = billable_units(item.unit, item.granularity, &[run], c.month);
            if !seg.stranded {
                let inc_fraction = if item.granularity == Granularity::Monthly {
                    1.0
                } else {
                    days as f64 / c.month_days
                };
                *t.included.entry(line.book.clone()).or_default() +=
                    running * item.included_traffic_gb as f64 * inc_fraction;
                counted = true;
            }
            let Some((price, note)) = self.segment_price(estate, c, line, &seg, book, item)? else {
                continue;
            };
            if seg.commitment == Commitment::OnDemand && item.unit == Unit::Hour {
                t.eligible
                    .push((t.out.len(), line.book.clone(), count * per_instance));
            }
            t.out.push(LineItem {
                month,
                estate: estate.name.clone(),
                provider: book.provider.clone(),
                site: site_name(&line.site),
                line: item.line.clone(),
                sku: item.id.clone(),
                kind: Kind::Opex,
                quantity: count * per_instance,
                unit: item.unit.name().to_string(),
                unit_price: price,
                amount: price.times(count * per_instance).round_to_cents(),
                note,
            });
            if seg.commitment.is_reserved() && !seg.stranded && running > count {
                t.out.push(self.grown_beyond_reservation(
                    estate,
                    book,
                    line,
                    (running - count) * per_instance,
                    m0,
                )?);
            }
            // Setup fees: for units provisioned this month.
            if item.setup_fee > Money::ZERO && !seg.stranded && seg.first {
                t.out
                    .extend(self.setup_fees(estate, c, line, book, item, count)?);
            }
        }
        if let (Some(u), true) = (&line.upfront, line.commitment.is_reserved()) {
            t.out
                .extend(self.amortised_upfront(estate, c, line, item, book, u)?);
        }
        Ok(())
    }

    /// The unit price of a segment of `line` in the report currency and
    /// the note saying how it was bought: a reservation's own recurring
    /// rate when it was bought with an upfront, else the book's price for
    /// the segment's commitment; `None` if the book has no band.
    fn segment_price(
        &self,
        estate: &Estate,
        c: &MonthContext,
        line: &UsageLine,
        seg: &Segment,
        book: &PriceBook,
        item: &Sku,
    ) -> Result<Option<(Money, String)>, BillError> {
        let upfront = line
            .upfront
            .as_ref()
            .filter(|_| seg.commitment.is_reserved());
        let (price, fx_note) = match upfront {
            Some(u) => self.convert(u.hourly, u.currency)?,
            None => {
                let tiers = book.price_on(&line.sku, seg.commitment, c.m0)?;
                let Some(band) = tiers.first() else {
                    return Ok(None);
                };
                self.convert(band.price, book.currency)?
            }
        };
        let price = price.times(self.price_factor(&estate.name, &item.line));
        let mut note = seg.commitment.name().to_string();
        if let Some(u) = upfront {
            note.push_str(&format!(", {}, recurring", u.payment.name()));
        }
        if seg.stranded {
            note.push_str(", reservation paid after the line stopped");
        }
        if !fx_note.is_empty() {
            note = format!("{note}; {fx_note}");
        }
        Ok(Some((price, note)))
    }

    /// The month's share of a reservation's upfront fees: the count's fees
    /// spread evenly over the term's months from its first.
    fn amortised_upfront(
        &self,
        estate: &Estate,
        c: &MonthContext,
        line: &UsageLine,
        item: &Sku,
        book: &PriceBook,
        u: &Upfront,
    ) -> Result<Option<LineItem>, BillError> {
        let months = term_months(line.commitment).unwrap_or(12);
        let (fee, fx_note) = self.convert(u.fee, u.currency)?;
        let fee = fee.times(self.price_factor(&estate.name, &item.line));
        let all = fee.times(line.quantity);
        let share = amortised(all, months, u.term_starts.month_of(), c.month);
        if share == Money::ZERO {
            return Ok(None);
        }
        let mut note = format!(
            "{} x {fee} paid on {}, spread over {months} months",
            line.quantity, u.term_starts
        );
        if !fx_note.is_empty() {
            note = format!("{note}; {fx_note}");
        }
        Ok(Some(LineItem {
            month: c.month,
            estate: estate.name.clone(),
            provider: book.provider.clone(),
            site: site_name(&line.site),
            line: item.line.clone(),
            sku: format!("{} {} upfront", item.id, u.payment.name()),
            kind: Kind::Opex,
            quantity: 1.0,
            unit: "month".to_string(),
            unit_price: share,
            amount: share,
            note,
        }))
    }

    /// A savings plan's month: the eligible on-demand instance-hours of its
    /// book covered at the plan's rate (each covered line's on-demand
    /// amount taken back by a negative line), and its commitment for the
    /// month's hours in its term, recurring and amortised upfront, paid
    /// whether used or not.
    fn price_savings_plan(
        &self,
        estate: &Estate,
        c: &MonthContext,
        plan: &SavingsPlan,
        t: &mut MonthTally,
    ) -> Result<(), BillError> {
        let hours = plan.hours_in(c.month);
        let (recurring, fx_note) = self.convert(plan.recurring_hourly(), plan.currency)?;
        let (upfront, _) = self.convert(plan.upfront, plan.currency)?;
        let upfront_share = amortised(upfront, plan.months(), plan.starts.month_of(), c.month);
        if hours <= 0.0 && upfront_share == Money::ZERO {
            return Ok(());
        }
        let (hourly, _) = self.convert(plan.hourly, plan.currency)?;
        let book = self.book(&plan.book)?;
        let mut eligible = Vec::new();
        for (index, book_name, h) in &t.eligible {
            let l = &t.out[*index];
            let item = book.sku(&l.sku)?;
            if *book_name != plan.book || !item.is_server || !plan.covers(&item.id) {
                continue;
            }
            let Ok(tiers) = book.price_on(&item.id, plan.term, c.m0) else {
                continue;
            };
            let Some(rate) = tiers.first() else { continue };
            let (rate, _) = self.convert(rate.price, book.currency)?;
            eligible.push(Eligible {
                index: *index,
                hours: *h,
                on_demand: l.unit_price,
                amount: l.amount,
                plan_rate: rate.times(self.price_factor(&estate.name, &item.line)),
            });
        }
        let commitment = hourly.times(hours);
        let (covered, used) = cover(commitment, &eligible);
        for (index, h, negated) in covered {
            let l = t.out[index].clone();
            t.out.push(LineItem {
                quantity: -h,
                amount: -negated,
                note: format!("covered by savings plan `{}`", plan.name),
                ..l
            });
        }
        let mut note = format!(
            "{} at {hourly}/h, {}; used {used} of {}",
            plan.payment.name(),
            plan.term.name(),
            commitment.round_to_cents()
        );
        if !fx_note.is_empty() {
            note = format!("{note}; {fx_note}");
        }
        let mut push = |sku: String, quantity: f64, unit: &str, price: Money, amount: Money| {
            t.out.push(LineItem {
                month: c.month,
                estate: estate.name.clone(),
                provider: book.provider.clone(),
                site: "all".to_string(),
                line: "savings plans".to_string(),
                sku,
                kind: Kind::Opex,
                quantity,
                unit: unit.to_string(),
                unit_price: price,
                amount,
                note: note.clone(),
            })
        };
        if recurring > Money::ZERO && hours > 0.0 {
            push(
                plan.name.clone(),
                hours,
                "hour",
                recurring,
                recurring.times(hours).round_to_cents(),
            );
        }
        if upfront_share > Money::ZERO {
            push(
                format!("{} upfront", plan.name),
                1.0,
                "month",
                upfront_share,
                upfront_share,
            );
        }
        Ok(())
    }

    /// The setup fee of the units of `line` first provisioned this month
    /// (all of a line that starts in it, else what growth added), if any.
    fn setup_fees(
        &self,
        estate: &Estate,
        c: &MonthContext,
        line: &UsageLine,
        book: &PriceBook,
        item: &Sku,
        count: f64,
    ) -> Result<Option<LineItem>, BillError> {
        let started_here = line.window.from.is_some_and(|f| f >= c.m0 && f < c.m1);
        let before = if started_here {
            0.0
        } else if line.grows && c.month > self.start {
            (line.quantity * c.prev_growth).round()
        } else {
            count
        };
        let new_units = (count - before).max(0.0);
        if new_units <= 0.0 {
            return Ok(None);
        }
        let (fee, fx_note) = self.convert(item.setup_fee, book.currency)?;
        // Scaled as its own line, so that a sensitivity on
        // "setup fees" moves it.
        let fee = fee.times(self.price_factor(&estate.name, "setup fees"));
        Ok(Some(LineItem {
            month: c.month,
            estate: estate.name.clone(),
            provider: book.provider.clone(),
            site: site_name(&line.site),
            line: "setup fees".to_string(),
            sku: item.id.clone(),
            kind: Kind::OneOff,
            quantity: new_units,
            unit: "each".to_string(),
            unit_price: fee,
            amount: fee.times(new_units).round_to_cents(),
            note: fx_note,
        }))
    }

    /// Prices the month's volumes (traffic, storage, one-off usage) through
    /// their books' bands, less the traffic included with servers.
    fn price_volumes(
        &self,
        estate: &Estate,
        c: &MonthContext,
        volume: Volumes,
        included: &BTreeMap<String, f64>,
        out: &mut Vec<LineItem>,
    ) -> Result<(), BillError> {
        let (month, m0) = (c.month, c.m0);
        for ((book_name, sku, commitment), (quantity, sites)) in volume {
            let book = self.book(&book_name)?;
            let item = book.sku(&sku)?;
            let mut billable = quantity;
            let mut note_extra = String::new();
            if item.draws_included_traffic {
                let inc_gb = included.get(&book_name).copied().unwrap_or(0.0);
                let inc = match item.unit {
                    Unit::Tb => inc_gb / 1000.0,
                    _ => inc_gb,
                };
                billable = (quantity - inc).max(0.0);
                note_extra = format!(
                    "; {:.1} {} used, {:.1} included with servers",
                    quantity,
                    item.unit.name(),
                    inc
                );
            }
            let tiers = book.price_on(&sku, commitment, m0)?;
            let banded = tiers.len() > 1;
            let mut bands = split_tiers(billable, &tiers);
            if bands.is_empty() && item.draws_included_traffic && quantity > 0.0 {
                // All of it within the allowance: a zero line keeps the
                // usage and the allowance visible on the bill.
                if let Some(first) = tiers.first() {
                    bands.push((0.0, first.price));
                }
            }
            for (i, (q, p)) in bands.into_iter().enumerate() {
                let (price, fx_note) = self.convert(p, book.currency)?;
                let price = price.times(self.price_factor(&estate.name, &item.line));
                let mut note = commitment.name().to_string();
                if banded {
                    note.push_str(&format!(", band {}", i + 1));
                }
                note.push_str(&note_extra);
                let named: Vec<&str> = sites
                    .iter()
                    .filter(|s| s.starts_with("one-off"))
                    .map(String::as_str)
                    .collect();
                if !named.is_empty() {
                    note.push_str(&format!("; includes {}", named.join(", ")));
                }
                if !fx_note.is_empty() {
                    note.push_str(&format!("; {fx_note}"));
                }
                out.push(LineItem {
                    month,
                    estate: estate.name.clone(),
                    provider: book.provider.clone(),
                    site: "all".to_string(),
                    line: item.line.clone(),
                    sku: item.id.clone(),
                    kind: Kind::Opex,
                    quantity: q,
                    unit: item.unit.name().to_string(),
                    unit_price: price,
                    amount: price.times(q).round_to_cents(),
                    note,
                });
            }
        }
        Ok(())
    }

    /// The engineers the month's servers call for, by each staff line's ratio.
    fn price_staff(
        &self,
        estate: &Estate,
        month: Month,
        servers: f64,
        out: &mut Vec<LineItem>,
    ) -> Result<(), BillError> {
        for staff in &estate.staff {
            if servers <= 0.0 {
                continue;
            }
            let n = (servers / f64::from(staff.servers_per_engineer.max(1)))
                .ceil()
                .max(f64::from(staff.minimum));
            let (price, fx_note) = self.convert(staff.loaded_cost_per_month, staff.currency)?;
            let price = price.times(self.price_factor(&estate.name, &staff.line));
            out.push(LineItem {
                month,
                estate: estate.name.clone(),
                provider: estate.name.clone(),
                site: "all".to_string(),
                line: staff.line.clone(),
                sku: "engineer".to_string(),
                kind: Kind::Opex,
                quantity: n,
                unit: "engineer-month".to_string(),
                unit_price: price,
                amount: price.times(n).round_to_cents(),
                note: format!(
                    "{servers} servers / {} per engineer{}",
                    staff.servers_per_engineer,
                    if fx_note.is_empty() {
                        String::new()
                    } else {
                        format!("; {fx_note}")
                    }
                ),
            });
        }
        Ok(())
    }

    /// Capital bought this month, and salvage at the end of its life.
    fn price_capex(
        &self,
        estate: &Estate,
        month: Month,
        out: &mut Vec<LineItem>,
    ) -> Result<(), BillError> {
        for c in &estate.capex {
            let (amount, salvage) = self.capex_amounts(&estate.name, c)?;
            let mut push = |kind: Kind, line: &str, amount: Money, note: String| {
                out.push(LineItem {
                    month,
                    estate: estate.name.clone(),
                    provider: estate.name.clone(),
                    site: site_name(&c.site),
                    line: line.to_string(),
                    sku: c.name.clone(),
                    kind,
                    quantity: 1.0,
                    unit: "each".to_string(),
                    unit_price: amount,
                    amount: amount.round_to_cents(),
                    note,
                })
            };
            if c.purchased.month_of() == month {
                push(
                    Kind::Capex,
                    "capex",
                    amount,
                    format!("depreciated over {} months", c.depreciation_months),
                );
            }
            if c.purchased.month_of().plus(c.depreciation_months) == month && salvage > Money::ZERO
            {
                push(
                    Kind::Salvage,
                    "salvage",
                    -salvage,
                    "sold at end of life".into(),
                );
            }
        }
        Ok(())
    }

    /// One-off costs dated in the month.
    fn price_one_offs(
        &self,
        estate: &Estate,
        c: &MonthContext,
        out: &mut Vec<LineItem>,
    ) -> Result<(), BillError> {
        let (month, m0, m1) = (c.month, c.m0, c.m1);
        for o in &estate.one_offs {
            if o.date >= m0 && o.date < m1 {
                let (amount, note) = self.convert(o.amount, o.currency)?;
                let amount = amount.times(self.price_factor(&estate.name, &o.name));
                out.push(LineItem {
                    month,
                    estate: estate.name.clone(),
                    provider: estate.name.clone(),
                    site: site_name(&o.site),
                    line: o.name.clone(),
                    sku: "one-off".to_string(),
                    kind: Kind::OneOff,
                    quantity: 1.0,
                    unit: "each".to_string(),
                    unit_price: amount,
                    amount: amount.round_to_cents(),
                    note,
                });
            }
        }
        Ok(())
    }

    /// The on-demand line of instances that growth added beyond a reserved
    /// line's fixed count: `units` of the item (hours, months) at its
    /// on-demand price.
    fn grown_beyond_reservation(
        &self,
        estate: &Estate,
        book: &PriceBook,
        line: &UsageLine,
        units: f64,
        m0: Date,
    ) -> Result<LineItem, BillError> {
        let item = book.sku(&line.sku)?;
        let tiers = book.price_on(&line.sku, Commitment::OnDemand, m0)?;
        let list = tiers.first().map_or(Money::ZERO, |t| t.price);
        let (price, fx_note) = self.convert(list, book.currency)?;
        let price = price.times(self.price_factor(&estate.name, &item.line));
        let mut note = format!("on-demand, grown beyond the {} reserved", line.quantity);
        if !fx_note.is_empty() {
            note = format!("{note}; {fx_note}");
        }
        Ok(LineItem {
            month: m0.month_of(),
            estate: estate.name.clone(),
            provider: book.provider.clone(),
            site: site_name(&line.site),
            line: item.line.clone(),
            sku: item.id.clone(),
            kind: Kind::Opex,
            quantity: units,
            unit: item.unit.name().to_string(),
            unit_price: price,
            amount: price.times(units).round_to_cents(),
            note,
        })
    }

    /// A purchase's price and salvage value in the report currency, each
    /// scaled by its line item's price factor (`capex`, `salvage`), so that
    /// a case or the sensitivity table moves what was bought.
    fn capex_amounts(&self, estate: &str, c: &Capex) -> Result<(Money, Money), BillError> {
        let (amount, _) = self.convert(c.amount, c.currency)?;
        let (salvage, _) = self.convert(c.salvage, c.currency)?;
        Ok((
            amount.times(self.price_factor(estate, "capex")),
            salvage.times(self.price_factor(estate, "salvage")),
        ))
    }

    /// Straight-line depreciation of the estate's purchases charged in
    /// `month` (not cash; reported beside the cash flow).
    pub fn depreciation(&self, estate: &Estate, month: Month) -> Result<Money, BillError> {
        let mut total = Money::ZERO;
        for c in &estate.capex {
            let start = c.purchased.month_of();
            if c.depreciation_months == 0
                || month < start
                || month >= start.plus(c.depreciation_months)
            {
                continue;
            }
            total += monthly_depreciation(&estate.name, c, month, self)?;
        }
        Ok(total)
    }
}

/// Billable units (hours, or months for a monthly rent) of one instance
/// that ran the given stretches within `month`, under the item's billing
/// granularity: per second with a minimum charge per stretch, every started
/// hour in full, or the whole month's rent if it ran at all. This is how a
/// run's node lifetimes become a bill: a node up for 90 s costs 90 s on
/// per-second billing and a full hour on hourly billing.
pub fn billable_units(
    unit: Unit,
    granularity: Granularity,
    runs: &[SimDuration],
    month: Month,
) -> f64 {
    let ran = runs.iter().any(|r| *r > SimDuration::ZERO);
    match (unit, granularity) {
        (Unit::Month, Granularity::Monthly) => f64::from(u8::from(ran)),
        (Unit::Month, _) => {
            runs.iter().map(|r| r.as_secs_f64()).sum::<f64>() / (month.hours() * 3600.0)
        }
        (_, Granularity::PerSecond { minimum_s }) => runs
            .iter()
            .filter(|r| **r > SimDuration::ZERO)
            .map(|r| r.as_secs_f64().ceil().max(f64::from(minimum_s)) / 3600.0)
            .sum(),
        (_, Granularity::Hourly) => runs.iter().map(|r| (r.as_secs_f64() / 3600.0).ceil()).sum(),
        (_, Granularity::Monthly) => {
            if ran {
                month.hours()
            } else {
                0.0
            }
        }
    }
}

/// Straight-line depreciation of `c` in `month` of its life, in cents; the
/// last month takes the rounding remainder so the months sum exactly to
/// `amount - salvage`.
fn monthly_depreciation(
    estate: &str,
    c: &Capex,
    month: Month,
    p: &Pricer,
) -> Result<Money, BillError> {
    let (amount, salvage) = p.capex_amounts(estate, c)?;
    Ok(
        depreciation_schedule(amount - salvage, c.depreciation_months)
            .get(months_between(c.purchased.month_of(), month) as usize)
            .copied()
            .unwrap_or(Money::ZERO),
    )
}

/// Splits `base` into `months` straight-line charges in whole cents; the
/// last charge absorbs the remainder so the charges sum to `base` (rounded
/// to the cent).
pub fn depreciation_schedule(base: Money, months: u32) -> Vec<Money> {
    if months == 0 {
        return Vec::new();
    }
    let cents = base.cents();
    let each = cents / i64::from(months);
    let mut v = vec![Money::from_cents(each); months as usize];
    if let Some(last) = v.last_mut() {
        *last = Money::from_cents(cents - each * (i64::from(months) - 1));
    }
    v
}

/// Months from `a` to `b` (negative if `b` is earlier).
pub fn months_between(a: Month, b: Month) -> i64 {
    (i64::from(b.year) * 12 + i64::from(b.month)) - (i64::from(a.year) * 12 + i64::from(a.month))
}

fn site_name(site: &str) -> String {
    if site.is_empty() {
        "all".to_string()
    } else {
        site.to_string()
    }
}

struct Segment {
    window: Window,
    commitment: Commitment,
    stranded: bool,
    first: bool,
}

/// The month being priced, and its growth factors.
struct MonthContext {
    month: Month,
    /// The month's first day, and the first day of the next.
    m0: Date,
    m1: Date,
    month_days: f64,
    /// Growth this month and the month before.
    growth: f64,
    prev_growth: f64,
}

/// Volume per (book, item, commitment), with the sites it came from.
type Volumes = BTreeMap<(String, String, Commitment), (f64, Vec<String>)>;

/// What pricing a month gathers as it goes through the usage lines.
#[derive(Default)]
struct MonthTally {
    out: Vec<LineItem>,
    volume: Volumes,
    /// Traffic included with servers, GB, per book.
    included: BTreeMap<String, f64>,
    /// Servers running, for staffing ratios.
    servers: f64,
    /// On-demand instance-hour lines a savings plan could cover: index in
    /// `out`, book, hours.
    eligible: Vec<(usize, String, f64)>,
}

/// Adds the usage dated in the month (data moved once, for instance) to
/// the month's volumes.
fn add_one_off_usage(estate: &Estate, c: &MonthContext, volume: &mut Volumes) {
    for u in &estate.one_off_usage {
        if u.date >= c.m0 && u.date < c.m1 {
            let e = volume
                .entry((u.book.clone(), u.sku.clone(), Commitment::OnDemand))
                .or_default();
            e.0 += u.quantity;
            let tag = format!("one-off: {}", u.name);
            if !e.1.contains(&tag) {
                e.1.push(tag);
            }
        }
    }
}

/// Splits a line's window at its reservation's end: reserved before it
/// (and, if the line stops first, reserved but stranded until it),
/// on-demand after it.
fn segments(line: &UsageLine) -> Vec<Segment> {
    let (Some(ends), true) = (line.commitment_ends, line.commitment.is_reserved()) else {
        return vec![Segment {
            window: line.window,
            commitment: line.commitment,
            stranded: false,
            first: true,
        }];
    };
    let mut v = Vec::new();
    let w = line.window;
    let reserved_until = w.until.map_or(ends, |u| u.min(ends));
    v.push(Segment {
        window: Window {
            from: w.from,
            until: Some(reserved_until),
        },
        commitment: line.commitment,
        stranded: false,
        first: true,
    });
    match w.until {
        Some(u) if u < ends => v.push(Segment {
            window: Window {
                from: Some(u),
                until: Some(ends),
            },
            commitment: line.commitment,
            stranded: true,
            first: false,
        }),
        _ => v.push(Segment {
            window: Window {
                from: Some(ends),
                until: w.until,
            },
            commitment: Commitment::OnDemand,
            stranded: false,
            first: false,
        }),
    }
    v
}

#[cfg(test)]
mod tests {
    use super::super::book::{PriceChange, Sku};
    use super::*;

    fn usd(s: &str) -> Money {
        Money::parse_amount(s).unwrap()
    }
    fn day(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn sku(id: &str, line: &str, unit: Unit, g: Granularity, price: &str) -> Sku {
        Sku::flat(id, line, unit, g, usd(price), "test", day("2026-11-01"))
    }

    fn books() -> BTreeMap<String, PriceBook> {
        let mut m5 = sku(
            "m5.xlarge",
            "compute",
            Unit::Hour,
            Granularity::PerSecond { minimum_s: 60 },
            "0.192",
        );
        m5.reserved_1y = Some(usd("0.121"));
        m5.reserved_3y = Some(usd("0.083"));
        m5.is_server = true;
        let eks = sku(
            "eks",
            "managed Kubernetes",
            Unit::Hour,
            Granularity::Hourly,
            "0.10",
        );
        let mut egress = sku(
            "egress",
            "internet egress",
            Unit::Gb,
            Granularity::Hourly,
            "0",
        );
        egress.on_demand = super::super::book::tests::egress_tiers();
        let cloud = PriceBook {
            name: "cloud".into(),
            provider: "Cloud".into(),
            currency: Currency::USD,
            taken_on: day("2026-11-01"),
            source: "test".into(),
            skus: [m5, eks, egress]
                .into_iter()
                .map(|s| (s.id.clone(), s))
                .collect(),
            changes: vec![],
        };
        let mut server = sku(
            "ax",
            "server rent",
            Unit::Month,
            Granularity::Monthly,
            "100",
        );
        server.setup_fee = usd("50");
        server.included_traffic_gb = 20_000;
        server.is_server = true;
        let mut traffic = sku(
            "traffic",
            "traffic overage",
            Unit::Tb,
            Granularity::Hourly,
            "1",
        );
        traffic.draws_included_traffic = true;
        let metal = PriceBook {
            name: "metal".into(),
            provider: "Metal".into(),
            currency: Currency::EUR,
            taken_on: day("2026-11-01"),
            source: "test".into(),
            skus: [server, traffic]
                .into_iter()
                .map(|s| (s.id.clone(), s))
                .collect(),
            changes: vec![PriceChange {
                from: day("2027-04-01"),
                change_ppm: 100_000,
                skus: vec![],
                source: "test".into(),
            }],
        };
        [("cloud".to_string(), cloud), ("metal".to_string(), metal)]
            .into_iter()
            .collect()
    }

    fn line(book: &str, sku: &str, q: f64, c: Commitment) -> UsageLine {
        UsageLine {
            book: book.into(),
            sku: sku.into(),
            site: "ny1".into(),
            quantity: q,
            commitment: c,
            commitment_ends: None,
            window: Window::default(),
            grows: false,
            upfront: None,
        }
    }

    fn fx() -> Vec<ExchangeRate> {
        vec![ExchangeRate {
            from: Currency::EUR,
            to: Currency::USD,
            rate_ppm: 1_100_000,
            taken_on: day("2026-11-02"),
            source: "test".into(),
        }]
    }

    fn price(estate: &Estate, month: &str, adjust: &Adjustments) -> Vec<LineItem> {
        let books = books();
        let fx = fx();
        let p = Pricer {
            books: &books,
            currency: Currency::USD,
            fx: &fx,
            adjust,
            start: day("2026-12-01").month_of(),
        };
        p.price_month(estate, day(&format!("{month}-01")).month_of())
            .unwrap()
    }

    fn total(lines: &[LineItem]) -> Money {
        lines.iter().map(|l| l.amount).sum()
    }

    #[test]
    fn billing_granularity_prices_short_runs_differently() {
        let m = day("2026-11-01").month_of();
        let s = SimDuration::from_secs;
        let runs = [s(90), s(30), s(3_700)];
        // Per second with a 60 s minimum: 90 + 60 + 3,700 = 3,850 s.
        let per_s = billable_units(
            Unit::Hour,
            Granularity::PerSecond { minimum_s: 60 },
            &runs,
            m,
        );
        assert!((per_s - 3_850.0 / 3_600.0).abs() < 1e-12);
        // Hourly: every started hour, 1 + 1 + 2 = 4 h.
        assert_eq!(
            billable_units(Unit::Hour, Granularity::Hourly, &runs, m),
            4.0
        );
        // Monthly rent: one month if it ran at all.
        assert_eq!(
            billable_units(Unit::Month, Granularity::Monthly, &runs, m),
            1.0
        );
        assert_eq!(
            billable_units(Unit::Month, Granularity::Monthly, &[], m),
            0.0
        );
        // At $0.192/h: 0.21 per second-billed vs 0.77 hourly.
        let price = usd("0.192");
        assert_eq!(price.times(per_s).round_to_cents(), usd("0.21"));
        assert_eq!(price.times(4.0).round_to_cents(), usd("0.77"));
    }

    #[test]
    fn reserved_vs_on_demand_matches_hand_computation() {
        // 10 x m5.xlarge for December (744 h): on-demand 0.192 x 7440 =
        // 1,428.48; 1-year reserved 0.121 x 7440 = 900.24; 3-year 0.083 x
        // 7440 = 617.52.
        let a = Adjustments::default();
        for (c, want) in [
            (Commitment::OnDemand, "1428.48"),
            (Commitment::Reserved1y, "900.24"),
            (Commitment::Reserved3y, "617.52"),
        ] {
            let e = Estate {
                name: "cloud".into(),
                lines: vec![line("cloud", "m5.xlarge", 10.0, c)],
                ..Default::default()
            };
            assert_eq!(total(&price(&e, "2026-12", &a)), usd(want), "{c:?}");
        }
        // No spot price in the book: an error, not a zero.
        let books = books();
        assert!(books["cloud"]
            .price_on("m5.xlarge", Commitment::Spot, day("2026-12-01"))
            .is_err());
    }

    #[test]
    fn upfront_reservations_are_spread_over_their_term_and_paid_unused() {
        use super::super::commit::{Payment, Upfront};
        let a = Adjustments::default();
        // Three 3-year all-upfront reservations of 12,000 each: 36,000 over
        // 36 months is 1,000.00 a month, no recurring charge.
        let mut l = line("cloud", "m5.xlarge", 3.0, Commitment::Reserved3y);
        l.upfront = Some(Upfront {
            payment: Payment::AllUpfront,
            fee: usd("12000"),
            hourly: Money::ZERO,
            currency: Currency::USD,
            term_starts: day("2026-12-01"),
        });
        l.commitment_ends = Some(day("2029-12-01"));
        let e = Estate {
            name: "cloud".into(),
            lines: vec![l.clone()],
            ..Default::default()
        };
        for m in ["2026-12", "2027-06", "2029-11"] {
            assert_eq!(total(&price(&e, m, &a)), usd("1000"), "{m}");
        }
        // After the term: on demand, 3 x 744 h x 0.192 = 428.544 -> 428.54.
        assert_eq!(total(&price(&e, "2029-12", &a)), usd("428.54"));
        // Partial upfront (1 year): 1,200 a reservation spread over 12
        // months (3 x 100.00) and 0.05 an hour recurring (3 x 744 h x 0.05 =
        // 111.60); stopped after ten days, the reservations are still paid.
        l.commitment = Commitment::Reserved1y;
        l.commitment_ends = Some(day("2027-12-01"));
        l.window.until = Some(day("2026-12-11"));
        l.upfront = Some(Upfront {
            payment: Payment::PartialUpfront,
            fee: usd("1200"),
            hourly: usd("0.05"),
            currency: Currency::USD,
            term_starts: day("2026-12-01"),
        });
        let e = Estate {
            name: "cloud".into(),
            lines: vec![l],
            ..Default::default()
        };
        assert_eq!(total(&price(&e, "2026-12", &a)), usd("300") + usd("111.60"));
        assert_eq!(total(&price(&e, "2027-03", &a)), usd("300") + usd("111.60"));
    }

    #[test]
    fn a_savings_plan_covers_on_demand_hours_at_its_rate_and_is_paid_in_full() {
        use super::super::commit::{Payment, PlanScope, SavingsPlan};
        let a = Adjustments::default();
        let plan = |hourly: &str| SavingsPlan {
            name: "sp".into(),
            book: "cloud".into(),
            scope: PlanScope::Family("m5".into()),
            hourly: usd(hourly),
            currency: Currency::USD,
            term: Commitment::Reserved1y,
            payment: Payment::NoUpfront,
            upfront: Money::ZERO,
            starts: day("2026-06-01"),
        };
        // Ten m5.xlarge on demand in December: 7,440 h x 0.192 = 1,428.48.
        // A $1/h plan (744.00 for the month) at the 1-year rate 0.121 covers
        // 744 / 0.121 = 6,148.76 h, whose on-demand 1,180.56 is taken back:
        // 1,428.48 - 1,180.56 + 744.00 = 991.92.
        let e = Estate {
            name: "cloud".into(),
            lines: vec![line("cloud", "m5.xlarge", 10.0, Commitment::OnDemand)],
            savings_plans: vec![plan("1")],
            ..Default::default()
        };
        let lines = price(&e, "2026-12", &a);
        assert_eq!(total(&lines), usd("991.92"));
        assert!(lines.iter().any(|l| l.amount == -usd("1180.56")));
        // A $2/h plan is more than the usage: all 7,440 h at 0.121 use
        // 900.24 of 1,488.00; the rest is paid unused: 1,488.00 in all.
        let e = Estate {
            savings_plans: vec![plan("2")],
            ..e
        };
        assert_eq!(total(&price(&e, "2026-12", &a)), usd("1488"));
        // Not in the family: nothing covered, the commitment still paid.
        let e = Estate {
            lines: vec![line("cloud", "eks", 1.0, Commitment::OnDemand)],
            ..e
        };
        assert_eq!(total(&price(&e, "2026-12", &a)), usd("74.40") + usd("1488"));
    }

    #[test]
    fn a_reservation_that_ends_reverts_to_on_demand_and_a_stopped_one_is_still_paid() {
        let a = Adjustments::default();
        // Reservation ends 2026-12-11: 10 days reserved (240 h x 0.121 =
        // 29.04), 21 days on demand (504 h x 0.192 = 96.768 -> 96.77).
        let mut l = line("cloud", "m5.xlarge", 1.0, Commitment::Reserved1y);
        l.commitment_ends = Some(day("2026-12-11"));
        let e = Estate {
            name: "cloud".into(),
            lines: vec![l.clone()],
            ..Default::default()
        };
        let lines = price(&e, "2026-12", &a);
        assert_eq!(lines.len(), 2);
        assert_eq!(total(&lines), usd("29.04") + usd("96.77"));
        // Stopped on 2026-12-06 but reserved to 2026-12-11: 10 days paid, 5 of
        // them stranded.
        l.window.until = Some(day("2026-12-06"));
        let e = Estate {
            name: "cloud".into(),
            lines: vec![l],
            ..Default::default()
        };
        let lines = price(&e, "2026-12", &a);
        assert_eq!(total(&lines), usd("14.52") + usd("14.52"));
        assert!(lines[1].note.contains("after the line stopped"));
    }

    #[test]
    fn granularity_decides_partial_months() {
        let a = Adjustments::default();
        // EKS, hourly, one cluster for the whole of November: 720 h x 0.10 = 72.00.
        let e = Estate {
            name: "cloud".into(),
            lines: vec![line("cloud", "eks", 1.0, Commitment::OnDemand)],
            ..Default::default()
        };
        assert_eq!(total(&price(&e, "2026-11", &a)), usd("72.00"));
        // A bare-metal server that starts on the 30th of December pays the
        // whole month's rent (100 EUR -> 110 USD) and its setup fee (50 EUR ->
        // 55 USD).
        let mut s = line("metal", "ax", 1.0, Commitment::OnDemand);
        s.window.from = Some(day("2026-12-30"));
        let e = Estate {
            name: "metal".into(),
            lines: vec![s],
            ..Default::default()
        };
        let lines = price(&e, "2026-12", &a);
        assert_eq!(total(&lines), usd("165.00"));
        assert_eq!(lines[1].line, "setup fees");
        // The same server's setup fee is not charged again in January.
        assert_eq!(total(&price(&e, "2027-01", &a)), usd("110.00"));
    }

    #[test]
    fn price_factors_reach_setup_fees_and_one_offs() {
        // A sensitivity moves a line by its own name: 1.5 x the 50 EUR ->
        // 55 USD setup fee, 0.5 x a 1,000 USD one-off.
        let mut a = Adjustments::default();
        a.line_price_factor.insert("setup fees".into(), 1.5);
        a.line_price_factor.insert("migration labour".into(), 0.5);
        let mut s = line("metal", "ax", 1.0, Commitment::OnDemand);
        s.window.from = Some(day("2026-12-30"));
        let e = Estate {
            name: "metal".into(),
            lines: vec![s],
            one_offs: vec![OneOff {
                name: "migration labour".into(),
                site: "ams1".into(),
                amount: usd("1000"),
                currency: Currency::USD,
                date: day("2026-12-15"),
            }],
            ..Default::default()
        };
        let lines = price(&e, "2026-12", &a);
        let amount = |name: &str| lines.iter().find(|l| l.line == name).unwrap().amount;
        assert_eq!(amount("setup fees"), usd("82.50"));
        assert_eq!(amount("migration labour"), usd("500.00"));
        assert_eq!(amount("server rent"), usd("110.00"), "rent keeps its price");
    }

    #[test]
    fn a_mid_horizon_price_change_applies_from_its_month() {
        let a = Adjustments::default();
        let e = Estate {
            name: "metal".into(),
            lines: vec![line("metal", "ax", 3.0, Commitment::OnDemand)],
            ..Default::default()
        };
        // 3 x 100 EUR x 1.10 = 330 USD before 2027-04-01; +10 % after: 363 USD.
        assert_eq!(total(&price(&e, "2027-03", &a)), usd("330.00"));
        assert_eq!(total(&price(&e, "2027-04", &a)), usd("363.00"));
    }

    #[test]
    fn bare_metal_traffic_is_charged_above_the_included_allowance() {
        let a = Adjustments::default();
        // 2 servers include 40 TB; 55 TB used -> 15 TB x 1 EUR x 1.1 = 16.50 USD.
        let mut t = line("metal", "traffic", 55.0, Commitment::OnDemand);
        t.site = "ny1".into();
        let e = Estate {
            name: "metal".into(),
            lines: vec![line("metal", "ax", 2.0, Commitment::OnDemand), t],
            ..Default::default()
        };
        let lines = price(&e, "2026-12", &a);
        let overage = lines.iter().find(|l| l.line == "traffic overage").unwrap();
        assert_eq!(overage.quantity, 15.0);
        assert_eq!(overage.amount, usd("16.50"));
        // 30 TB used: all within the 40 TB included; a zero line says so.
        let mut within = e.clone();
        within.lines[1].quantity = 30.0;
        let lines = price(&within, "2026-12", &a);
        let overage = lines.iter().find(|l| l.line == "traffic overage").unwrap();
        assert_eq!((overage.quantity, overage.amount), (0.0, Money::ZERO));
        assert!(
            overage.note.contains("30.0 TB used, 40.0 included"),
            "{}",
            overage.note
        );
    }

    #[test]
    fn staff_follow_the_server_count() {
        let a = Adjustments::default();
        let e = Estate {
            name: "metal".into(),
            lines: vec![line("metal", "ax", 45.0, Commitment::OnDemand)],
            staff: vec![Staff {
                line: "ops staff".into(),
                servers_per_engineer: 20,
                minimum: 1,
                loaded_cost_per_month: usd("10000"),
                currency: Currency::USD,
                source: "test".into(),
            }],
            ..Default::default()
        };
        let lines = price(&e, "2026-12", &a);
        let staff = lines.iter().find(|l| l.line == "ops staff").unwrap();
        assert_eq!(staff.quantity, 3.0, "45 servers at 20 per engineer -> 3");
        assert_eq!(staff.amount, usd("30000"));
    }

    #[test]
    fn grown_counts_are_whole_instances_and_new_rented_servers_pay_setup() {
        // 10 servers growing 10 %/year: 10.08 in month 1 -> 10; 10.49 in
        // month 6 -> 10; 10.57 in month 7 -> 11, with one setup fee then.
        let a = Adjustments {
            growth_per_year: 0.10,
            ..Adjustments::default()
        };
        let mut l = line("metal", "ax", 10.0, Commitment::OnDemand);
        l.grows = true;
        let e = Estate {
            name: "metal".into(),
            lines: vec![l],
            ..Default::default()
        };
        let rent = |m: &str| {
            price(&e, m, &a)
                .iter()
                .find(|l| l.line == "server rent")
                .unwrap()
                .quantity
        };
        let setups = |m: &str| {
            price(&e, m, &a)
                .iter()
                .filter(|l| l.line == "setup fees")
                .count()
        };
        assert_eq!(rent("2027-01"), 10.0);
        assert_eq!(rent("2027-06"), 10.0);
        assert_eq!(rent("2027-07"), 11.0);
        assert_eq!(setups("2027-06"), 0);
        assert_eq!(setups("2027-07"), 1);
        assert_eq!(setups("2027-08"), 0);
    }

    #[test]
    fn a_line_split_at_its_reservation_end_counts_its_servers_once() {
        let a = Adjustments::default();
        let mut l = line("cloud", "m5.xlarge", 3.0, Commitment::Reserved1y);
        l.commitment_ends = Some(day("2026-12-11"));
        let e = Estate {
            name: "cloud".into(),
            lines: vec![l],
            staff: vec![Staff {
                line: "ops staff".into(),
                servers_per_engineer: 1,
                minimum: 0,
                loaded_cost_per_month: usd("1"),
                currency: Currency::USD,
                source: "test".into(),
            }],
            ..Default::default()
        };
        let lines = price(&e, "2026-12", &a);
        let staff = lines.iter().find(|l| l.line == "ops staff").unwrap();
        assert_eq!(staff.quantity, 3.0);
    }

    #[test]
    fn depreciation_is_straight_line_to_salvage_and_sums_exactly() {
        // 10,000.00 bought, 1,000.00 salvage, 36 months: 9,000 / 36 = 250.00 a month.
        let s = depreciation_schedule(usd("9000"), 36);
        assert_eq!(s.len(), 36);
        assert!(s.iter().all(|&m| m == usd("250")));
        // 1,000.00 over 3 months: 333.33, 333.33, 333.34.
        let s = depreciation_schedule(usd("1000"), 3);
        assert_eq!(s, vec![usd("333.33"), usd("333.33"), usd("333.34")]);
        let e = Estate {
            name: "metal".into(),
            capex: vec![Capex {
                name: "servers".into(),
                site: "ny1".into(),
                amount: usd("10000"),
                currency: Currency::USD,
                purchased: day("2026-12-15"),
                depreciation_months: 36,
                salvage: usd("1000"),
            }],
            ..Default::default()
        };
        let a = Adjustments::default();
        let books = books();
        let fx = fx();
        let p = Pricer {
            books: &books,
            currency: Currency::USD,
            fx: &fx,
            adjust: &a,
            start: day("2026-12-01").month_of(),
        };
        assert_eq!(
            p.depreciation(&e, day("2026-12-01").month_of()).unwrap(),
            usd("250")
        );
        assert_eq!(
            p.depreciation(&e, day("2029-12-01").month_of()).unwrap(),
            Money::ZERO
        );
        // Cash: the price in the purchase month, the salvage back 36 months later.
        assert_eq!(total(&price(&e, "2026-12", &a)), usd("10000"));
        assert_eq!(total(&price(&e, "2029-12", &a)), usd("-1000"));
    }

    #[test]
    fn a_reservation_is_fixed_and_growth_beyond_it_is_on_demand() {
        // 15 m5.xlarge reserved for a year, on a line that grows 10 %/year:
        // in July 2027 (7 months in) the curve asks for round(15 x
        // 1.1^(7/12)) = 16. The 15 reserved are paid at the reserved rate
        // (744 h x 15 x 0.121 = 1,350.36) and the 16th on demand (744 h x
        // 0.192 = 142.85).
        let a = Adjustments {
            growth_per_year: 0.10,
            ..Adjustments::default()
        };
        let mut l = line("cloud", "m5.xlarge", 15.0, Commitment::Reserved1y);
        l.grows = true;
        l.commitment_ends = Some(day("2027-12-01"));
        let e = Estate {
            name: "cloud".into(),
            lines: vec![l.clone()],
            ..Default::default()
        };
        let lines = price(&e, "2027-07", &a);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0].quantity, 15.0 * 744.0);
        assert_eq!(lines[0].amount, usd("1350.36"));
        assert_eq!(lines[1].quantity, 744.0);
        assert_eq!(lines[1].amount, usd("142.85"));
        assert!(lines[1].note.contains("beyond the 15 reserved"));
        // Stopped on 2027-07-01 with the reservation running to December:
        // the 15 bought are paid unused, not the 16 the curve would ask for.
        l.window.until = Some(day("2027-07-01"));
        let e = Estate {
            name: "cloud".into(),
            lines: vec![l],
            ..Default::default()
        };
        let lines = price(&e, "2027-07", &a);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0].quantity, 15.0 * 744.0);
        assert!(lines[0].note.contains("after the line stopped"));
    }

    #[test]
    fn a_price_factor_on_capex_moves_the_purchase_and_its_depreciation() {
        let e = Estate {
            name: "colo".into(),
            capex: vec![Capex {
                name: "servers".into(),
                site: "ny1".into(),
                amount: usd("10000"),
                currency: Currency::USD,
                purchased: day("2026-12-15"),
                depreciation_months: 10,
                salvage: usd("1000"),
            }],
            ..Default::default()
        };
        let mut a = Adjustments::default();
        a.line_price_factor.insert("capex".into(), 1.2);
        assert_eq!(total(&price(&e, "2026-12", &a)), usd("12000"));
        let books = books();
        let fx = fx();
        let p = Pricer {
            books: &books,
            currency: Currency::USD,
            fx: &fx,
            adjust: &a,
            start: day("2026-12-01").month_of(),
        };
        // (12,000 - 1,000) / 10 months.
        assert_eq!(
            p.depreciation(&e, day("2026-12-01").month_of()).unwrap(),
            usd("1100")
        );
    }

    #[test]
    fn unknown_items_are_named() {
        let e = Estate {
            name: "cloud".into(),
            lines: vec![line("cloud", "m9.huge", 1.0, Commitment::OnDemand)],
            ..Default::default()
        };
        let books = books();
        let fx = fx();
        let a = Adjustments::default();
        let p = Pricer {
            books: &books,
            currency: Currency::USD,
            fx: &fx,
            adjust: &a,
            start: day("2026-12-01").month_of(),
        };
        let err = p
            .price_month(&e, day("2026-12-01").month_of())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no item `m9.huge`") && err.contains("m5.xlarge"),
            "{err}"
        );
    }
}
