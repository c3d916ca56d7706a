//! The cost meter: what a run of the world used, priced.
//!
//! A run is hours or days long. How its usage becomes money depends on
//! whether the run has a calendar ([`Calendar`]):
//!
//! - a dated run (a plan: simulated time zero is midnight of `[plan]
//!   start`) is billed calendar month by calendar month exactly as a cost
//!   projection bills a month ([`super::bill::Pricer::price_month`]): each
//!   month's usage at the prices in force on its first day, instances under
//!   [`billable_units`] of that month (a rent is the whole month's if the
//!   server ran in it), volume priced at the month's own total through the
//!   bands. The same fleet over the same month costs the same in both.
//! - an undated run (an experiment) is billed on the estate's `prices_on`
//!   over months of [`HOURS_PER_MONTH`]: an hourly item pays for its
//!   lifetime under the item's billing granularity (per second with a
//!   minimum, or every started hour in full); a rent pays pro rata, its
//!   lifetime over a 730-hour month.
//!
//! In both, volume (GB served, data moved) is priced at the rate it would
//! reach over a month: the period's volume of an item, summed over the
//! sites of the account and less the traffic its servers include, is
//! scaled to a month, priced through the item's bands, and each site pays
//! its share for the period's length. Every line is a quantity times a unit
//! price in the report currency, rounded to the cent once.

use std::collections::BTreeMap;

use serde::Serialize;

use super::bill::{billable_units, BillError, Pricer};
use super::book::{split_tiers, Commitment, Granularity, Unit};
use super::money::{Date, Money, Month};
use crate::time::{SimDuration, SimTime};

/// Hours in the month an undated run pro-rates by: 730, the 8,760 hours of
/// a year over twelve, as the AWS Pricing Calculator counts a month
/// ("730 hours in a month", calculator.aws help, Amazon EC2 estimate).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// The calendar a run is billed by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Calendar {
    /// No date: months of [`HOURS_PER_MONTH`], every price on `prices_on`.
    Undated {
        /// The day whose prices are used.
        prices_on: Date,
    },
    /// Simulated time zero is midnight of `start`: calendar months, each
    /// at the prices of its first day, as a projection bills them.
    Dated {
        /// The day of time zero.
        start: Date,
    },
}

/// What one site used of one item during a run.
#[derive(Clone, Debug, PartialEq)]
pub enum Usage {
    /// Instances: each stretch from when they started to when they stopped,
    /// and how many ran it (a count may be fractional: half an instance
    /// pays half).
    Instances(Vec<(SimTime, SimTime, f64)>),
    /// Units of the item's volume unit (GB or TB) over the run, spread
    /// evenly over it.
    Volume(f64),
    /// Units of the item's volume unit per billing month, from time zero
    /// until the given time (a stated monthly volume).
    PerMonth(f64, SimTime),
}

/// One item a site used: `usage` of item `sku` in price book `book`.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemUsage {
    /// Site tag.
    pub site: String,
    /// The price book.
    pub book: String,
    /// The item.
    pub sku: String,
    /// The data class whose replication traffic this is, when a site's
    /// replication is priced class by class; empty otherwise.
    pub data_class: String,
    /// What was used.
    pub usage: Usage,
}

/// One line of a run's cost.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MeterLine {
    /// The calendar month billed (`2027-02`); empty for an undated run.
    pub month: String,
    /// Site tag.
    pub site: String,
    /// The line item, e.g. `compute`.
    pub line: String,
    /// The priced item.
    pub sku: String,
    /// The data class whose replication traffic the line prices; empty
    /// for every other line.
    pub data_class: String,
    /// Billable quantity: hours, months or volume.
    pub quantity: f64,
    /// Its unit.
    pub unit: String,
    /// Price per unit in the report currency (for volume, the month's
    /// average over the bands used).
    pub unit_price: Money,
    /// `quantity x unit_price`, rounded to the cent (for volume, the sum of
    /// its bands).
    pub amount: Money,
}

/// Billable hours (for `Unit::Hour`) or months (for `Unit::Month`) of
/// instances that ran `runs` (each a lifetime and how many ran it), in an
/// undated run.
pub fn instance_units(unit: Unit, granularity: Granularity, runs: &[(SimDuration, f64)]) -> f64 {
    let ran = runs.iter().filter(|(r, _)| *r > SimDuration::ZERO);
    let secs: f64 = match (unit, granularity) {
        (_, Granularity::PerSecond { minimum_s }) if unit != Unit::Month => ran
            .map(|(r, n)| r.as_secs_f64().ceil().max(f64::from(minimum_s)) * n)
            .sum(),
        (_, Granularity::Hourly) if unit != Unit::Month => ran
            .map(|(r, n)| (r.as_secs_f64() / 3600.0).ceil() * 3600.0 * n)
            .sum(),
        _ => ran.map(|(r, n)| r.as_secs_f64() * n).sum(),
    };
    match unit {
        Unit::Month => secs / (HOURS_PER_MONTH * 3600.0),
        _ => secs / 3600.0,
    }
}

/// One billing period of a run: `[from, until)` of simulated time, priced
/// on `day`; `month` is the calendar month it lies in (`None`: undated).
struct Period {
    day: Date,
    from: SimTime,
    until: SimTime,
    month: Option<Month>,
    /// The run's length.
    run: SimDuration,
}

impl Period {
    /// Seconds in the billing month.
    fn month_secs(&self) -> f64 {
        self.month.map_or(HOURS_PER_MONTH, |m| m.hours()) * 3600.0
    }

    /// The part of `[a, b)` inside the period.
    fn clip(&self, a: SimTime, b: SimTime) -> SimDuration {
        b.min(self.until).saturating_since(a.max(self.from))
    }

    /// Billable units of instances that ran `runs` within the period.
    fn units(&self, unit: Unit, granularity: Granularity, runs: &[(SimTime, SimTime, f64)]) -> f64 {
        let clipped = runs.iter().map(|&(a, b, n)| (self.clip(a, b), n));
        match self.month {
            None => instance_units(unit, granularity, &clipped.collect::<Vec<_>>()),
            Some(m) => clipped
                .map(|(d, n)| billable_units(unit, granularity, &[d], m) * n)
                .sum(),
        }
    }

    /// Volume units of `usage` that fall in the period.
    fn volume(&self, usage: &Usage) -> f64 {
        match *usage {
            Usage::Volume(v) if self.run > SimDuration::ZERO => {
                let end = SimTime::ZERO + self.run;
                v * self.clip(SimTime::ZERO, end).as_secs_f64() / self.run.as_secs_f64()
            }
            Usage::PerMonth(q, until) => {
                q * self.clip(SimTime::ZERO, until).as_secs_f64() / self.month_secs()
            }
            _ => 0.0,
        }
    }
}

/// The periods of a run of length `run` under `calendar`.
fn periods(calendar: Calendar, run: SimDuration) -> Vec<Period> {
    let end = SimTime::ZERO + run;
    let start = match calendar {
        Calendar::Dated { start } => start,
        Calendar::Undated { prices_on } => {
            return vec![Period {
                day: prices_on,
                from: SimTime::ZERO,
                until: end,
                month: None,
                run,
            }]
        }
    };
    let at = |d: Date| {
        let days = (d.day_number() - start.day_number()).max(0) as u64;
        (SimTime::ZERO + SimDuration::from_secs(days * 86_400)).min(end)
    };
    let mut out = Vec::new();
    let mut m = start.month_of();
    loop {
        let (from, until) = (at(m.first_day()), at(m.end()));
        if from >= end && !out.is_empty() {
            return out;
        }
        out.push(Period {
            day: m.first_day(),
            from,
            until,
            month: Some(m),
            run,
        });
        m = m.plus(1);
    }
}

/// The months a run of length `run` spans under `calendar`: its length
/// over each billing month's, summed (for a run of all January, 1).
pub fn months_of(calendar: Calendar, run: SimDuration) -> f64 {
    periods(calendar, run)
        .iter()
        .map(|p| p.until.saturating_since(p.from).as_secs_f64() / p.month_secs())
        .sum()
}

/// Prices the usage of a run of length `run` billed by `calendar`, on
/// demand; lines period by period, in the order of `usage` within each.
pub fn price_run(
    pricer: &Pricer,
    calendar: Calendar,
    run: SimDuration,
    usage: &[ItemUsage],
) -> Result<Vec<MeterLine>, BillError> {
    let mut out = Vec::new();
    for p in periods(calendar, run) {
        price_period(pricer, &p, usage, &mut out)?;
    }
    Ok(out)
}

/// Prices the usage that falls in period `p` into `out`.
fn price_period(
    pricer: &Pricer,
    p: &Period,
    usage: &[ItemUsage],
    out: &mut Vec<MeterLine>,
) -> Result<(), BillError> {
    let months = p.until.saturating_since(p.from).as_secs_f64() / p.month_secs();
    let included = included_traffic(pricer, p, usage)?;
    let volumes = volume_totals(p, usage);
    let month = p.month.map_or(String::new(), |m| m.to_string());
    for u in usage {
        let book = pricer
            .books
            .get(&u.book)
            .ok_or_else(|| BillError::UnknownBook(u.book.clone()))?;
        let item = book.sku(&u.sku)?;
        let tiers = book.price_on(&u.sku, Commitment::OnDemand, p.day)?;
        let convert = |m: Money| pricer.convert(m, book.currency).map(|(c, _)| c);
        let line = |quantity: f64, unit_price: Money, amount: Money| MeterLine {
            month: month.clone(),
            site: u.site.clone(),
            line: item.line.clone(),
            sku: item.id.clone(),
            data_class: u.data_class.clone(),
            quantity,
            unit: item.unit.name().to_string(),
            unit_price,
            amount,
        };
        if let Usage::Instances(runs) = &u.usage {
            let Some(band) = tiers.first() else { continue };
            let price = convert(band.price)?;
            let q = p.units(item.unit, item.granularity, runs);
            out.push(line(q, price, price.times(q).round_to_cents()));
            continue;
        }
        let v = p.volume(&u.usage);
        let key = (u.book.clone(), u.sku.clone());
        let total = volumes.get(&key).copied().unwrap_or(0.0);
        let free = if item.draws_included_traffic {
            included.get(&u.book).copied().unwrap_or(0.0) / gb_per_unit(item.unit)
        } else {
            0.0
        };
        let billable = (total - free).max(0.0);
        let share = if total > 0.0 { v / total } else { 0.0 };
        let per_month = if months > 0.0 { billable / months } else { 0.0 };
        let mut amount = Money::ZERO;
        for (q, price) in split_tiers(per_month, &tiers) {
            amount += convert(price)?.times(q * months * share);
        }
        let q = billable * share;
        let unit_price = if q > 0.0 {
            Money::from_micros((amount.micros() as f64 / q).round() as i64)
        } else {
            Money::ZERO
        };
        out.push(line(q, unit_price, amount.round_to_cents()));
    }
    Ok(())
}

/// GB in one unit of a volume item.
fn gb_per_unit(unit: Unit) -> f64 {
    if unit == Unit::Tb {
        1000.0
    } else {
        1.0
    }
}

/// Each (book, item)'s volume in period `p`, summed over the sites.
fn volume_totals(p: &Period, usage: &[ItemUsage]) -> BTreeMap<(String, String), f64> {
    let mut out = BTreeMap::new();
    for u in usage {
        if !matches!(u.usage, Usage::Instances(_)) {
            *out.entry((u.book.clone(), u.sku.clone())).or_insert(0.0) += p.volume(&u.usage);
        }
    }
    out
}

/// Traffic (GB) the servers of each book include in period `p`: each
/// server's monthly allowance pro rata to its time in the period, or in
/// full for a server rented by the calendar month that ran in it (as a
/// projection counts it).
fn included_traffic(
    pricer: &Pricer,
    p: &Period,
    usage: &[ItemUsage],
) -> Result<BTreeMap<String, f64>, BillError> {
    let mut out = BTreeMap::new();
    for u in usage {
        let Usage::Instances(runs) = &u.usage else {
            continue;
        };
        let book = pricer
            .books
            .get(&u.book)
            .ok_or_else(|| BillError::UnknownBook(u.book.clone()))?;
        let item = book.sku(&u.sku)?;
        if item.included_traffic_gb > 0 {
            let whole = p.month.is_some() && item.granularity == Granularity::Monthly;
            let months: f64 = runs
                .iter()
                .map(|&(a, b, n)| {
                    let d = p.clip(a, b);
                    if whole {
                        f64::from(u8::from(d > SimDuration::ZERO)) * n
                    } else {
                        d.as_secs_f64() * n / p.month_secs()
                    }
                })
                .sum();
            *out.entry(u.book.clone()).or_insert(0.0) += months * item.included_traffic_gb as f64;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::bill::Adjustments;
    use super::super::book::{PriceBook, Sku, Tier};
    use super::super::money::{Currency, ExchangeRate};
    use super::*;

    fn usd(s: &str) -> Money {
        Money::parse_amount(s).unwrap()
    }

    fn day() -> Date {
        Date::parse("2027-01-01").unwrap()
    }

    fn sku(id: &str, unit: Unit, g: Granularity, price: &str) -> Sku {
        Sku::flat(id, id, unit, g, usd(price), "test", day())
    }

    fn book(name: &str, currency: Currency, skus: Vec<Sku>) -> PriceBook {
        PriceBook {
            name: name.into(),
            provider: name.into(),
            currency,
            taken_on: day(),
            source: "test".into(),
            skus: skus.into_iter().map(|s| (s.id.clone(), s)).collect(),
            changes: Vec::new(),
        }
    }

    fn books() -> BTreeMap<String, PriceBook> {
        let node = sku(
            "node",
            Unit::Hour,
            Granularity::PerSecond { minimum_s: 60 },
            "0.384",
        );
        let cluster = sku("cluster", Unit::Hour, Granularity::Hourly, "0.10");
        let mut egress = sku("egress", Unit::Gb, Granularity::Hourly, "0");
        egress.on_demand = vec![
            Tier {
                up_to: Some(100),
                price: usd("0"),
            },
            Tier {
                up_to: None,
                price: usd("0.09"),
            },
        ];
        let mut rent = sku("rent", Unit::Month, Granularity::Monthly, "99");
        rent.included_traffic_gb = 20_000;
        let mut overage = sku("overage", Unit::Tb, Granularity::Hourly, "1");
        overage.draws_included_traffic = true;
        let mut m = BTreeMap::new();
        m.insert(
            "cloud".into(),
            book("cloud", Currency::USD, vec![node, cluster, egress]),
        );
        m.insert(
            "metal".into(),
            book("metal", Currency::EUR, vec![rent, overage]),
        );
        m
    }

    fn price(usage: &[ItemUsage], run: SimDuration) -> Vec<MeterLine> {
        let books = books();
        let fx = [ExchangeRate {
            from: Currency::EUR,
            to: Currency::USD,
            rate_ppm: 1_166_500,
            taken_on: day(),
            source: "test".into(),
        }];
        let adjust = Adjustments::default();
        let pricer = Pricer {
            books: &books,
            currency: Currency::USD,
            fx: &fx,
            adjust: &adjust,
            start: day().month_of(),
        };
        price_run(&pricer, Calendar::Undated { prices_on: day() }, run, usage).unwrap()
    }

    fn item(book: &str, sku: &str, usage: Usage) -> ItemUsage {
        ItemUsage {
            site: "ny1".into(),
            book: book.into(),
            sku: sku.into(),
            data_class: String::new(),
            usage,
        }
    }

    fn hours(h: u64) -> SimDuration {
        SimDuration::from_secs(h * 3600)
    }

    #[test]
    fn n_nodes_for_h_hours_cost_n_h_p() {
        // 15 nodes for 24 h at $0.384: 360 node-hours, $138.24.
        let lines = price(
            &[item(
                "cloud",
                "node",
                Usage::Instances(vec![(SimTime::ZERO, SimTime::ZERO + hours(24), 15.0)]),
            )],
            hours(24),
        );
        assert_eq!(lines[0].quantity, 360.0);
        assert_eq!(lines[0].amount, usd("138.24"));
    }

    #[test]
    fn per_second_and_hourly_granularity_round_each_instance() {
        // 90 s and 30 s on per-second billing with a 60 s minimum: 150 s.
        let s = |n| SimDuration::from_secs(n);
        assert_eq!(
            instance_units(
                Unit::Hour,
                Granularity::PerSecond { minimum_s: 60 },
                &[(s(90), 1.0), (s(30), 1.0)]
            ),
            150.0 / 3600.0
        );
        // 90 min on hourly billing: two hours.
        let lines = price(
            &[item(
                "cloud",
                "cluster",
                Usage::Instances(vec![(SimTime::ZERO, SimTime::ZERO + s(5400), 1.0)]),
            )],
            s(5400),
        );
        assert_eq!(lines[0].quantity, 2.0);
        assert_eq!(lines[0].amount, usd("0.20"));
    }

    #[test]
    fn rent_is_pro_rata_over_a_730_hour_month_in_the_report_currency() {
        // 3 servers for 73 h = 0.3 server-months of 99 EUR = 29.70 EUR,
        // at 1.1665 USD/EUR: 99 EUR = 115.4835 USD; x 0.3 = 34.64505 -> 34.65.
        let lines = price(
            &[item(
                "metal",
                "rent",
                Usage::Instances(vec![(SimTime::ZERO, SimTime::ZERO + hours(73), 3.0)]),
            )],
            hours(73),
        );
        assert!((lines[0].quantity - 0.3).abs() < 1e-12);
        assert_eq!(lines[0].unit_price, usd("115.4835"));
        assert_eq!(lines[0].amount, usd("34.65"));
    }

    #[test]
    fn volume_is_priced_at_its_monthly_rate_through_the_bands() {
        // 73 h is a tenth of a month: 50 GB over it is 500 GB a month, of
        // which 100 GB are free and 400 GB cost $0.09: $36 a month, $3.60
        // for the run, split 3:2 between two sites.
        let mut a = item("cloud", "egress", Usage::Volume(30.0));
        let mut b = item("cloud", "egress", Usage::Volume(20.0));
        a.site = "ny1".into();
        b.site = "la1".into();
        let lines = price(&[a, b], hours(73));
        assert_eq!(lines[0].amount, usd("2.16"));
        assert_eq!(lines[1].amount, usd("1.44"));
        assert!((lines[0].quantity - 30.0).abs() < 1e-9);
    }

    #[test]
    fn servers_include_traffic_that_overage_draws_first() {
        // One server for a full 730 h month includes 20 TB; 25 TB served:
        // 5 TB of overage at 1 EUR = 5.8325 USD -> 5.83.
        let lines = price(
            &[
                item(
                    "metal",
                    "rent",
                    Usage::Instances(vec![(SimTime::ZERO, SimTime::ZERO + hours(730), 1.0)]),
                ),
                item("metal", "overage", Usage::Volume(25.0)),
            ],
            hours(730),
        );
        assert!((lines[1].quantity - 5.0).abs() < 1e-9);
        assert_eq!(lines[1].amount, usd("5.83"));
    }

    fn pricer_for<'a>(
        books: &'a BTreeMap<String, PriceBook>,
        fx: &'a [ExchangeRate],
        adjust: &'a Adjustments,
    ) -> Pricer<'a> {
        Pricer {
            books,
            currency: Currency::USD,
            fx,
            adjust,
            start: day().month_of(),
        }
    }

    fn eur_usd() -> [ExchangeRate; 1] {
        [ExchangeRate {
            from: Currency::EUR,
            to: Currency::USD,
            rate_ppm: 1_166_500,
            taken_on: day(),
            source: "test".into(),
        }]
    }

    fn usage_line(book: &str, sku: &str, quantity: f64) -> super::super::bill::UsageLine {
        super::super::bill::UsageLine {
            book: book.into(),
            sku: sku.into(),
            site: "ny1".into(),
            quantity,
            commitment: Commitment::OnDemand,
            commitment_ends: None,
            window: super::super::bill::Window::default(),
            grows: false,
            upfront: None,
        }
    }

    #[test]
    fn a_dated_run_over_a_calendar_month_bills_as_the_projection_does() {
        // January 2027 has 744 hours, not 730: 4 nodes at $0.384 for the
        // whole month are 2,976 node-hours, $1,142.78; the rent is one
        // whole month; 30 TB served less the 20 TB included.
        let (books, fx, adjust) = (books(), eur_usd(), Adjustments::default());
        let pricer = pricer_for(&books, &fx, &adjust);
        let month = SimTime::ZERO + hours(744);
        let lines = price_run(
            &pricer,
            Calendar::Dated { start: day() },
            hours(744),
            &[
                item(
                    "cloud",
                    "node",
                    Usage::Instances(vec![(SimTime::ZERO, month, 4.0)]),
                ),
                item(
                    "metal",
                    "rent",
                    Usage::Instances(vec![(SimTime::ZERO, month, 1.0)]),
                ),
                item("metal", "overage", Usage::PerMonth(30.0, month)),
            ],
        )
        .unwrap();
        let estate = super::super::bill::Estate {
            name: "fleet".into(),
            lines: vec![
                usage_line("cloud", "node", 4.0),
                usage_line("metal", "rent", 1.0),
                usage_line("metal", "overage", 30.0),
            ],
            ..Default::default()
        };
        let projected = pricer.price_month(&estate, day().month_of()).unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].quantity, 2976.0);
        assert_eq!(lines[0].amount, usd("1142.78"));
        for l in &lines {
            let p: Money = projected
                .iter()
                .filter(|p| p.sku == l.sku)
                .map(|p| p.amount)
                .sum();
            assert_eq!(l.amount, p, "{}", l.sku);
            assert_eq!(l.month, "2027-01");
        }
    }

    #[test]
    fn a_dated_run_sees_a_price_change_from_the_month_the_projection_does() {
        // From 2027-01-30 for 72 h: two days of January at $0.384, one of
        // February at +10 % ($0.4224), as the projection prices February.
        let mut books = books();
        let cloud = books.get_mut("cloud").unwrap();
        cloud.changes.push(super::super::book::PriceChange {
            from: Date::parse("2027-02-01").unwrap(),
            change_ppm: 100_000,
            skus: vec![],
            source: "test".into(),
        });
        let (fx, adjust) = (eur_usd(), Adjustments::default());
        let pricer = pricer_for(&books, &fx, &adjust);
        let lines = price_run(
            &pricer,
            Calendar::Dated {
                start: Date::parse("2027-01-30").unwrap(),
            },
            hours(72),
            &[item(
                "cloud",
                "node",
                Usage::Instances(vec![(SimTime::ZERO, SimTime::ZERO + hours(72), 1.0)]),
            )],
        )
        .unwrap();
        let got: Vec<(&str, f64, Money)> = lines
            .iter()
            .map(|l| (l.month.as_str(), l.quantity, l.amount))
            .collect();
        assert_eq!(
            got,
            vec![
                ("2027-01", 48.0, usd("18.43")),
                ("2027-02", 24.0, usd("10.14"))
            ]
        );
        let estate = super::super::bill::Estate {
            name: "fleet".into(),
            lines: vec![usage_line("cloud", "node", 1.0)],
            ..Default::default()
        };
        let feb = pricer
            .price_month(&estate, Date::parse("2027-02-01").unwrap().month_of())
            .unwrap();
        assert_eq!(feb[0].unit_price, lines[1].unit_price);
    }
}
