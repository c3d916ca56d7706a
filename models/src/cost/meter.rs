//! The cost meter: what a run of the world used, priced.
//!
//! A run is hours or days long, not a calendar month, so the meter prices
//! usage as it accrued:
//!
//! - an instance priced by the hour (a cloud node, a managed cluster) pays
//!   for its own lifetime under the item's billing granularity (per second
//!   with a minimum, or every started hour in full);
//! - an instance priced by the month (a rented server) pays its rent pro
//!   rata: its lifetime over a month of [`HOURS_PER_MONTH`];
//! - volume (GB served, data moved) is priced at the rate it would reach
//!   over a month: the run's volume of an item, summed over the sites of
//!   the account and less the traffic its servers include, is scaled to a
//!   month, priced through the item's bands, and each site pays its share
//!   for the run's length.
//!
//! Every line is a quantity times a unit price in the report currency,
//! rounded to the cent once.

use std::collections::BTreeMap;

use serde::Serialize;

use super::bill::{BillError, Pricer};
use super::book::{split_tiers, Commitment, Granularity, Unit};
use super::money::{Date, Money};
use crate::time::SimDuration;

/// Hours in the month the meter pro-rates by: 730, the 8,760 hours of a
/// year over twelve, as the AWS Pricing Calculator counts a month
/// ("730 hours in a month", calculator.aws help, Amazon EC2 estimate).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// What one site used of one item during a run.
#[derive(Clone, Debug, PartialEq)]
pub enum Usage {
    /// Instances: how long they ran, and how many ran that long (a count
    /// may be fractional: half an instance pays half).
    Instances(Vec<(SimDuration, f64)>),
    /// Units of the item's volume unit (GB or TB) over the run.
    Volume(f64),
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
    /// What was used.
    pub usage: Usage,
}

/// One line of a run's cost.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MeterLine {
    /// Site tag.
    pub site: String,
    /// The line item, e.g. `compute`.
    pub line: String,
    /// The priced item.
    pub sku: String,
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
/// instances that ran `runs` (each a lifetime and how many ran it).
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

/// Prices the usage of a run of length `run`, at the prices in force on
/// `day`, on demand; lines in the order of `usage`.
pub fn price_run(
    pricer: &Pricer,
    day: Date,
    run: SimDuration,
    usage: &[ItemUsage],
) -> Result<Vec<MeterLine>, BillError> {
    let months = run.as_secs_f64() / (HOURS_PER_MONTH * 3600.0);
    let included = included_traffic(pricer, usage)?;
    let volumes = volume_totals(usage);
    let mut out = Vec::new();
    for u in usage {
        let book = pricer
            .books
            .get(&u.book)
            .ok_or_else(|| BillError::UnknownBook(u.book.clone()))?;
        let item = book.sku(&u.sku)?;
        let tiers = book.price_on(&u.sku, Commitment::OnDemand, day)?;
        let convert = |m: Money| pricer.convert(m, book.currency).map(|(c, _)| c);
        let line = |quantity: f64, unit_price: Money, amount: Money| MeterLine {
            site: u.site.clone(),
            line: item.line.clone(),
            sku: item.id.clone(),
            quantity,
            unit: item.unit.name().to_string(),
            unit_price,
            amount,
        };
        match &u.usage {
            Usage::Instances(runs) => {
                let Some(band) = tiers.first() else { continue };
                let price = convert(band.price)?;
                let q = instance_units(item.unit, item.granularity, runs);
                out.push(line(q, price, price.times(q).round_to_cents()));
            }
            Usage::Volume(v) => {
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
                for (q, p) in split_tiers(per_month, &tiers) {
                    amount += convert(p)?.times(q * months * share);
                }
                let q = billable * share;
                let unit_price = if q > 0.0 {
                    Money::from_micros((amount.micros() as f64 / q).round() as i64)
                } else {
                    Money::ZERO
                };
                out.push(line(q, unit_price, amount.round_to_cents()));
            }
        }
    }
    Ok(out)
}

/// GB in one unit of a volume item.
fn gb_per_unit(unit: Unit) -> f64 {
    if unit == Unit::Tb {
        1000.0
    } else {
        1.0
    }
}

/// Each (book, item)'s volume over the run, summed over the sites.
fn volume_totals(usage: &[ItemUsage]) -> BTreeMap<(String, String), f64> {
    let mut out = BTreeMap::new();
    for u in usage {
        if let Usage::Volume(v) = u.usage {
            *out.entry((u.book.clone(), u.sku.clone())).or_insert(0.0) += v;
        }
    }
    out
}

/// Traffic (GB) the servers of each book include over the run: each
/// server's monthly allowance pro rata to its lifetime.
fn included_traffic(
    pricer: &Pricer,
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
            let months: f64 = runs.iter().map(|(r, n)| r.as_secs_f64() * n).sum::<f64>()
                / (HOURS_PER_MONTH * 3600.0);
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
        Sku {
            id: id.into(),
            line: id.into(),
            unit,
            granularity: g,
            on_demand: vec![Tier {
                up_to: None,
                price: usd(price),
            }],
            reserved_1y: None,
            reserved_3y: None,
            spot: None,
            setup_fee: Money::ZERO,
            included_traffic_gb: 0,
            draws_included_traffic: false,
            is_server: false,
            source: "test".into(),
            taken_on: day(),
        }
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
        price_run(&pricer, day(), run, usage).unwrap()
    }

    fn item(book: &str, sku: &str, usage: Usage) -> ItemUsage {
        ItemUsage {
            site: "ny1".into(),
            book: book.into(),
            sku: sku.into(),
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
                Usage::Instances(vec![(hours(24), 15.0)]),
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
                Usage::Instances(vec![(s(5400), 1.0)]),
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
                Usage::Instances(vec![(hours(73), 3.0)]),
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
                item("metal", "rent", Usage::Instances(vec![(hours(730), 1.0)])),
                item("metal", "overage", Usage::Volume(25.0)),
            ],
            hours(730),
        );
        assert!((lines[1].quantity - 5.0).abs() < 1e-9);
        assert_eq!(lines[1].amount, usd("5.83"));
    }
}
