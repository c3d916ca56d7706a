//! Price books: a provider's prices with their currency, the day they were
//! taken, where they come from, and dated price changes.

use std::collections::BTreeMap;

use serde::Serialize;

use super::money::{Currency, Date, Money};

/// How usage of a time-billed item is rounded into billable units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Granularity {
    /// Billed by the second with a minimum charge of `minimum_s` seconds
    /// each time an instance starts (EC2 Linux: 60 s; RDS: 600 s).
    PerSecond {
        /// Minimum billed seconds per start.
        minimum_s: u32,
    },
    /// Every started hour is billed in full.
    Hourly,
    /// Monthly rent: any part of a calendar month is billed as the whole month.
    Monthly,
}

/// The unit a price is quoted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unit {
    /// Per instance-hour (or cluster-hour, gateway-hour).
    Hour,
    /// Per unit-month (rent, seats, GB-month of storage).
    Month,
    /// Per gigabyte moved or processed (10^9 bytes).
    Gb,
    /// Per terabyte moved (10^12 bytes).
    Tb,
}

impl Unit {
    /// The unit's name in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Unit::Hour => "hour",
            Unit::Month => "month",
            Unit::Gb => "GB",
            Unit::Tb => "TB",
        }
    }

    /// Whether usage is time (instances running) rather than volume.
    pub fn is_time(&self) -> bool {
        matches!(self, Unit::Hour | Unit::Month)
    }
}

/// How a usage line is bought.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Commitment {
    /// List price, no commitment.
    OnDemand,
    /// One-year reservation (no upfront): the reserved rate is paid for
    /// every hour of the term, used or not.
    Reserved1y,
    /// Three-year reservation (no upfront), paid like `Reserved1y`.
    Reserved3y,
    /// Spare capacity at the spot price; may be interrupted.
    Spot,
}

impl Commitment {
    /// The name used in files and reports.
    pub fn name(&self) -> &'static str {
        match self {
            Commitment::OnDemand => "on-demand",
            Commitment::Reserved1y => "reserved-1y",
            Commitment::Reserved3y => "reserved-3y",
            Commitment::Spot => "spot",
        }
    }

    /// Whether the term is paid whether the capacity is used or not.
    pub fn is_reserved(&self) -> bool {
        matches!(self, Commitment::Reserved1y | Commitment::Reserved3y)
    }
}

/// One band of a tiered price: usage up to `up_to` units (cumulative, per
/// month and account) costs `price` per unit; `None` is the last band.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tier {
    /// Cumulative upper bound of the band, in the item's unit.
    pub up_to: Option<u64>,
    /// Price per unit within the band.
    pub price: Money,
}

/// A priced item of a price book.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sku {
    /// Identifier used by usage lines, e.g. `m5.2xlarge`.
    pub id: String,
    /// The line item a finance reviewer sees, e.g. `compute` or `managed Postgres`.
    pub line: String,
    /// Unit of the prices.
    pub unit: Unit,
    /// Rounding of time usage into billable units (time units only).
    pub granularity: Granularity,
    /// On-demand price, one band for a flat price, several for a tiered one.
    pub on_demand: Vec<Tier>,
    /// One-year reserved rate per unit, if offered.
    pub reserved_1y: Option<Money>,
    /// Three-year reserved rate per unit, if offered.
    pub reserved_3y: Option<Money>,
    /// Spot price per unit, if offered.
    pub spot: Option<Money>,
    /// One-off fee per unit when a unit is first provisioned.
    pub setup_fee: Money,
    /// Traffic included per unit-month, in GB (bare-metal servers).
    pub included_traffic_gb: u64,
    /// Whether usage of this item first draws on the traffic included with
    /// the provider's servers (bare-metal traffic overage).
    pub draws_included_traffic: bool,
    /// Whether a unit counts as a server for staffing ratios.
    pub is_server: bool,
    /// Where the prices come from.
    pub source: String,
    /// The day the prices were read.
    pub taken_on: Date,
}

impl Sku {
    /// An item with one flat on-demand price and nothing else: no reserved
    /// or spot rate, no setup fee, no included traffic, not a server.
    pub fn flat(
        id: &str,
        line: &str,
        unit: Unit,
        granularity: Granularity,
        price: Money,
        source: &str,
        taken_on: Date,
    ) -> Sku {
        Sku {
            id: id.into(),
            line: line.into(),
            unit,
            granularity,
            on_demand: vec![Tier { up_to: None, price }],
            reserved_1y: None,
            reserved_3y: None,
            spot: None,
            setup_fee: Money::ZERO,
            included_traffic_gb: 0,
            draws_included_traffic: false,
            is_server: false,
            source: source.into(),
            taken_on,
        }
    }
}

/// A provider's price change from a date on: prices of the listed items
/// (all items when empty) are multiplied by `1 + percent / 100`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PriceChange {
    /// First day the new prices apply. A month is billed at the prices in
    /// force on its first day, so a change dated mid-month shows from the
    /// next month's bill.
    pub from: Date,
    /// The change in parts per million of the old price (+3 % -> 30_000).
    pub change_ppm: i64,
    /// Affected items; empty means every item.
    pub skus: Vec<String>,
    /// Where the announcement comes from.
    pub source: String,
}

/// A provider's prices.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PriceBook {
    /// Short name used by scenarios, e.g. `hyperscaler`.
    pub name: String,
    /// The provider, e.g. `AWS-like hyperscaler (us-east-1 list prices)`.
    pub provider: String,
    /// Currency of every price in the book.
    pub currency: Currency,
    /// The day the book as a whole was taken.
    pub taken_on: Date,
    /// Where the book comes from.
    pub source: String,
    /// Items by id.
    pub skus: BTreeMap<String, Sku>,
    /// Dated price changes, in date order.
    pub changes: Vec<PriceChange>,
}

/// Why a price cannot be looked up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    /// The book has no such item.
    #[error("price book `{book}` has no item `{sku}`; it has: {known}")]
    UnknownSku {
        /// The book.
        book: String,
        /// The missing id.
        sku: String,
        /// The ids it has.
        known: String,
    },
    /// The item is not sold that way.
    #[error("item `{sku}` of price book `{book}` has no {commitment} price")]
    NoPrice {
        /// The book.
        book: String,
        /// The item.
        sku: String,
        /// The commitment asked for.
        commitment: &'static str,
    },
}

impl PriceBook {
    /// The item `id`, or an error listing what the book has.
    pub fn sku(&self, id: &str) -> Result<&Sku, PriceError> {
        self.skus.get(id).ok_or_else(|| PriceError::UnknownSku {
            book: self.name.clone(),
            sku: id.to_string(),
            known: self.skus.keys().cloned().collect::<Vec<_>>().join(", "),
        })
    }

    /// The compounded factor (ppm) of the changes to `sku` in force on `day`.
    pub fn change_factor_ppm(&self, sku: &str, day: Date) -> i64 {
        let mut factor = Money::from_micros(1_000_000);
        for c in &self.changes {
            if c.from <= day && (c.skus.is_empty() || c.skus.iter().any(|s| s == sku)) {
                factor = factor.times_ppm(1_000_000 + c.change_ppm);
            }
        }
        factor.micros()
    }

    /// The price bands of `sku` bought as `commitment`, in force on `day`.
    /// Reserved and spot prices are flat (one band).
    pub fn price_on(
        &self,
        sku: &str,
        commitment: Commitment,
        day: Date,
    ) -> Result<Vec<Tier>, PriceError> {
        let item = self.sku(sku)?;
        let flat = |p: Option<Money>| {
            p.map(|price| vec![Tier { up_to: None, price }])
                .ok_or(PriceError::NoPrice {
                    book: self.name.clone(),
                    sku: sku.to_string(),
                    commitment: commitment.name(),
                })
        };
        let bands = match commitment {
            Commitment::OnDemand => item.on_demand.clone(),
            Commitment::Reserved1y => flat(item.reserved_1y)?,
            Commitment::Reserved3y => flat(item.reserved_3y)?,
            Commitment::Spot => flat(item.spot)?,
        };
        let factor = self.change_factor_ppm(sku, day);
        Ok(bands
            .into_iter()
            .map(|t| Tier {
                up_to: t.up_to,
                price: t.price.times_ppm(factor),
            })
            .collect())
    }
}

/// Splits `quantity` units over price bands. Returns (units, price) per band
/// used, in order; the sum of the units is `quantity`.
pub fn split_tiers(quantity: f64, tiers: &[Tier]) -> Vec<(f64, Money)> {
    let mut out = Vec::new();
    let mut below = 0.0;
    for t in tiers {
        if quantity <= below {
            break;
        }
        let top = t.up_to.map_or(f64::INFINITY, |u| u as f64);
        let units = quantity.min(top) - below;
        if units > 0.0 {
            out.push((units, t.price));
        }
        below = top;
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn usd(s: &str) -> Money {
        Money::parse_amount(s).unwrap()
    }

    /// AWS internet egress bands (us-east-1): $0.09/GB to 10 TB, $0.085 to
    /// 50 TB, $0.07 to 150 TB, $0.05 above (figures as in the bundled book).
    pub(crate) fn egress_tiers() -> Vec<Tier> {
        vec![
            Tier {
                up_to: Some(10_240),
                price: usd("0.09"),
            },
            Tier {
                up_to: Some(51_200),
                price: usd("0.085"),
            },
            Tier {
                up_to: Some(153_600),
                price: usd("0.07"),
            },
            Tier {
                up_to: None,
                price: usd("0.05"),
            },
        ]
    }

    #[test]
    fn tiered_egress_matches_hand_computation() {
        // 60,000 GB: 10,240 x 0.09 = 921.60; 40,960 x 0.085 = 3,481.60;
        // 8,800 x 0.07 = 616.00; total 5,019.20.
        let bands = split_tiers(60_000.0, &egress_tiers());
        assert_eq!(bands.len(), 3);
        let total: Money = bands.iter().map(|&(q, p)| p.times(q)).sum();
        assert_eq!(total, usd("5019.20"));
        assert_eq!(bands[2].0, 8_800.0);
        // Within the first band only.
        let small = split_tiers(100.0, &egress_tiers());
        assert_eq!(small, vec![(100.0, usd("0.09"))]);
        assert!(split_tiers(0.0, &egress_tiers()).is_empty());
        // Beyond the last bound everything left is in the open band.
        let big = split_tiers(200_000.0, &egress_tiers());
        assert_eq!(big.last().unwrap(), &(46_400.0, usd("0.05")));
    }
}
