//! What was really paid: one month of an AWS Cost and Usage Report (CUR),
//! its monthly bill by service, usage type and region, and its
//! reconciliation with the price book of the estate it describes.
//!
//! Each CUR row is a [`CurLine`]: its `lineItem/LineItemType`, service
//! (`lineItem/ProductCode`), `lineItem/UsageType`, region, usage amount
//! and `pricing/unit`, and `lineItem/UnblendedCost`, kept exactly (to the
//! millionth). The types, as the CUR documents them
//! (docs.aws.amazon.com/cur/latest/userguide/Lineitem-columns.html;
//! cur-sp.html for savings plans; notes at zt.frankcontrepois.com,
//! lineItem_LineItemType): `Usage` is on-demand usage; `DiscountedUsage`
//! is usage a reserved instance covers (its cost is in the reservation's
//! `RIFee`, the monthly recurring fee; an upfront is a `Fee`);
//! `SavingsPlanCoveredUsage` is usage a savings plan covers, billed at its
//! on-demand cost and taken back by a `SavingsPlanNegation`, the plan
//! being paid by `SavingsPlanRecurringFee` (and `SavingsPlanUpfrontFee`
//! once); `Tax`, `Credit` and `Refund` adjust the bill.
//!
//! The month's total is the sum of every row's unblended cost, rounded to
//! the cent once. The recurring bill (what a migration is priced against)
//! leaves out what is paid once (`Fee`, `SavingsPlanUpfrontFee`, `Credit`,
//! `Refund`) and adds the month's share of the commitments' upfront
//! (`reservation/AmortizedUpfrontFeeForBillingPeriod`,
//! `savingsPlan/AmortizedUpfrontCommitmentForBillingPeriod`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::bill::{BillError, Estate, Kind, LineItem, Pricer};
use super::book::{split_tiers, Commitment, PriceBook, Unit};
use super::money::{Currency, Money, Month};

/// A CUR row's `lineItem/LineItemType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum LineItemType {
    /// On-demand usage.
    Usage,
    /// Usage covered by a reserved instance (billed at zero; see `RIFee`).
    DiscountedUsage,
    /// Usage covered by a savings plan, at its on-demand cost.
    SavingsPlanCoveredUsage,
    /// The covered usage's on-demand cost taken back (negative).
    SavingsPlanNegation,
    /// A savings plan's recurring commitment.
    SavingsPlanRecurringFee,
    /// A savings plan's upfront payment, once.
    SavingsPlanUpfrontFee,
    /// A reservation's monthly recurring fee.
    RIFee,
    /// A one-off fee, e.g. a reservation's upfront payment.
    Fee,
    /// Tax.
    Tax,
    /// A credit (negative).
    Credit,
    /// A refund (negative).
    Refund,
}

impl LineItemType {
    /// Every type, with its name in the CUR.
    pub const ALL: [(&'static str, LineItemType); 11] = [
        ("Usage", LineItemType::Usage),
        ("DiscountedUsage", LineItemType::DiscountedUsage),
        (
            "SavingsPlanCoveredUsage",
            LineItemType::SavingsPlanCoveredUsage,
        ),
        ("SavingsPlanNegation", LineItemType::SavingsPlanNegation),
        (
            "SavingsPlanRecurringFee",
            LineItemType::SavingsPlanRecurringFee,
        ),
        ("SavingsPlanUpfrontFee", LineItemType::SavingsPlanUpfrontFee),
        ("RIFee", LineItemType::RIFee),
        ("Fee", LineItemType::Fee),
        ("Tax", LineItemType::Tax),
        ("Credit", LineItemType::Credit),
        ("Refund", LineItemType::Refund),
    ];

    /// The type named `text` exactly as the CUR writes it.
    pub fn parse(text: &str) -> Option<LineItemType> {
        Self::ALL.iter().find(|(n, _)| *n == text).map(|&(_, t)| t)
    }

    /// Its name in the CUR.
    pub fn name(&self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, t)| t == self)
            .map_or("", |(n, _)| n)
    }

    /// Whether the row is usage of a priced item (on demand or covered).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            LineItemType::Usage
                | LineItemType::DiscountedUsage
                | LineItemType::SavingsPlanCoveredUsage
        )
    }

    /// Whether the row is paid once rather than every month.
    pub fn is_once(&self) -> bool {
        matches!(
            self,
            LineItemType::Fee
                | LineItemType::SavingsPlanUpfrontFee
                | LineItemType::Credit
                | LineItemType::Refund
        )
    }
}

/// One CUR row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CurLine {
    /// Its line in the file.
    pub row: usize,
    /// `lineItem/LineItemType`.
    pub kind: LineItemType,
    /// `lineItem/ProductCode`, e.g. `AmazonEC2`.
    pub service: String,
    /// `lineItem/UsageType`, e.g. `USE1-BoxUsage:m5.2xlarge`.
    pub usage_type: String,
    /// `product/region`, or the availability zone's region; empty for
    /// account-wide rows.
    pub region: String,
    /// `product/instanceType`, if any.
    pub instance_type: String,
    /// `lineItem/UsageAmount`.
    pub usage: f64,
    /// `pricing/unit`, e.g. `Hrs` or `GB`.
    pub unit: String,
    /// `lineItem/UnblendedCost`.
    pub cost: Money,
    /// The month's share of a commitment's upfront fee (on `RIFee` and
    /// `SavingsPlanRecurringFee` rows).
    pub amortised_upfront: Money,
}

/// One month of a CUR.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActualBill {
    /// The billing period.
    pub month: Month,
    /// `lineItem/CurrencyCode` of every row.
    pub currency: Currency,
    /// The rows, in file order.
    pub lines: Vec<CurLine>,
}

/// The rows of one service, usage type, region and line item type, summed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BillGroup {
    /// `lineItem/ProductCode`.
    pub service: String,
    /// `lineItem/UsageType`.
    pub usage_type: String,
    /// The region (empty: account-wide).
    pub region: String,
    /// The line item type.
    pub kind: LineItemType,
    /// Usage summed.
    pub usage: f64,
    /// Its unit (the first row's).
    pub unit: String,
    /// Unblended cost summed.
    pub cost: Money,
    /// Commitments' upfront shares summed.
    pub amortised_upfront: Money,
    /// The first row's instance type.
    pub instance_type: String,
}

impl ActualBill {
    /// The month's total: every row's unblended cost, rounded to the cent once.
    pub fn total(&self) -> Money {
        self.lines
            .iter()
            .map(|l| l.cost)
            .sum::<Money>()
            .round_to_cents()
    }

    /// The rows summed by service, usage type, region and type, in that order.
    pub fn groups(&self) -> Vec<BillGroup> {
        let mut m: BTreeMap<(String, String, String, LineItemType), BillGroup> = BTreeMap::new();
        for l in &self.lines {
            let key = (
                l.service.clone(),
                l.usage_type.clone(),
                l.region.clone(),
                l.kind,
            );
            let g = m.entry(key).or_insert_with(|| BillGroup {
                service: l.service.clone(),
                usage_type: l.usage_type.clone(),
                region: l.region.clone(),
                kind: l.kind,
                usage: 0.0,
                unit: l.unit.clone(),
                cost: Money::ZERO,
                amortised_upfront: Money::ZERO,
                instance_type: l.instance_type.clone(),
            });
            g.usage += l.usage;
            g.cost += l.cost;
            g.amortised_upfront += l.amortised_upfront;
        }
        m.into_values().collect()
    }

    /// The recurring month: every group but those paid once, each at its
    /// unblended cost plus its commitments' upfront share.
    pub fn recurring(&self) -> Vec<BillGroup> {
        self.groups()
            .into_iter()
            .filter(|g| !g.kind.is_once())
            .map(|g| BillGroup {
                cost: g.cost + g.amortised_upfront,
                ..g
            })
            .collect()
    }
}

impl ActualBill {
    /// The commitments the month shows, amortised: each reservation's
    /// `RIFee` and each savings plan's `SavingsPlanRecurringFee` group with
    /// its upfront share (a `Fee` or `SavingsPlanUpfrontFee` paid this
    /// month is paid once, and left out).
    pub fn commitments(&self) -> Vec<BillGroup> {
        self.recurring()
            .into_iter()
            .filter(|g| {
                matches!(
                    g.kind,
                    LineItemType::RIFee | LineItemType::SavingsPlanRecurringFee
                )
            })
            .collect()
    }
}

/// What the commitments an estate declares (its reserved lines and
/// savings plans) cost in `month`, amortised as a CUR shows them: each
/// reservation's recurring rate and upfront share, each plan's commitment
/// for the month's hours in its term and upfront share. On-demand usage
/// and what a plan covers are left out.
pub fn declared_commitments(
    pricer: &Pricer,
    estate: &Estate,
    month: Month,
) -> Result<Money, BillError> {
    let held = Estate {
        name: estate.name.clone(),
        lines: estate
            .lines
            .iter()
            .filter(|l| l.commitment.is_reserved())
            .cloned()
            .collect(),
        savings_plans: estate.savings_plans.clone(),
        ..Estate::default()
    };
    Ok(pricer
        .price_month(&held, month)?
        .iter()
        .filter(|l| l.kind == Kind::Opex && !l.note.starts_with("on-demand"))
        .map(|l| l.amount)
        .sum())
}

/// The usage type without its leading region codes (`USE1-`, `EUC1-`):
/// `USE1-EUC1-AWS-Out-Bytes` -> `AWS-Out-Bytes`.
pub fn usage_type_key(usage_type: &str) -> &str {
    let mut rest = usage_type;
    while let Some((head, tail)) = rest.split_once('-') {
        // `EU` is eu-west-1's code, the one without a digit.
        let is_code = head == "EU"
            || ((3..=4).contains(&head.len())
                && head.ends_with(|c: char| c.is_ascii_digit())
                && head[..head.len() - 1]
                    .chars()
                    .all(|c| c.is_ascii_uppercase()));
        if !is_code {
            break;
        }
        rest = tail;
    }
    rest
}

/// How a CUR's rows are matched to a price book's items.
pub struct Matching<'a> {
    /// The price book's name.
    pub book: &'a str,
    /// Items by usage type without its region codes (see [`usage_type_key`]);
    /// a row not listed matches the item named by its instance type, if any.
    pub items: &'a BTreeMap<String, String>,
    /// Relative gap above which a priced row is flagged (0.01 = 1 %).
    pub tolerance: f64,
}

impl Matching<'_> {
    /// The item of the book a group is billed as, if any.
    pub fn item_of(&self, pricer: &Pricer, g: &BillGroup) -> Option<String> {
        if let Some(id) = self.items.get(usage_type_key(&g.usage_type)) {
            return Some(id.clone());
        }
        let book = pricer.books.get(self.book)?;
        (!g.instance_type.is_empty() && book.skus.contains_key(&g.instance_type))
            .then(|| g.instance_type.clone())
    }
}

/// A usage group of the CUR held against the price book.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reconciled {
    /// The group.
    pub group: BillGroup,
    /// The item of the book it matched, if any.
    pub sku: Option<String>,
    /// The item's line item (e.g. `compute`), if matched.
    pub line: Option<String>,
    /// What the CUR billed: the unblended cost (for covered usage, its
    /// on-demand cost before the savings plan's negation).
    pub billed: Money,
    /// The book's price for the usage: on demand, through the bands of a
    /// tiered item at the month's total usage of it; zero for usage a
    /// reservation covers. `None` when nothing matched.
    pub priced: Option<Money>,
    /// `billed - priced` (all of it when nothing matched).
    pub unexplained: Money,
    /// Whether the price book cannot explain the group.
    pub flagged: bool,
    /// Why, in words (empty when explained).
    pub reason: String,
}

/// Whether a CUR `pricing/unit` fits a book's unit.
pub fn unit_fits(cur_unit: &str, unit: Unit) -> bool {
    match unit {
        Unit::Hour => matches!(cur_unit, "Hrs" | "Hours" | "hours" | "Hour"),
        Unit::Gb => matches!(cur_unit, "GB" | "GB-Mo"),
        Unit::Tb => cur_unit == "TB",
        Unit::Month => matches!(cur_unit, "Mo" | "Month" | "month"),
    }
}

/// The CUR's units a book's unit accepts, for messages.
pub fn units_for(unit: Unit) -> &'static str {
    match unit {
        Unit::Hour => "Hrs",
        Unit::Gb => "GB or GB-Mo",
        Unit::Tb => "TB",
        Unit::Month => "Mo",
    }
}

/// Holds every usage group of `bill` against the book `m.book`: each
/// group's usage priced by the matching item at the month's prices, set
/// against what was billed. Groups with no matching item, a unit that does
/// not fit, or a price more than `m.tolerance` apart are flagged.
pub fn reconcile(
    bill: &ActualBill,
    pricer: &Pricer,
    m: &Matching,
) -> Result<Vec<Reconciled>, BillError> {
    let book = pricer
        .books
        .get(m.book)
        .ok_or_else(|| BillError::UnknownBook(m.book.to_string()))?;
    let groups: Vec<BillGroup> = bill
        .groups()
        .into_iter()
        .filter(|g| g.kind.is_usage())
        .collect();
    let matched: Vec<Option<String>> = groups.iter().map(|g| m.item_of(pricer, g)).collect();
    // A tiered item's bands apply to its month's total usage.
    let mut totals: BTreeMap<&str, f64> = BTreeMap::new();
    for (g, sku) in groups.iter().zip(&matched) {
        if let Some(s) = sku {
            *totals.entry(s.as_str()).or_default() += g.usage;
        }
    }
    let day = bill.month.first_day();
    let mut out = Vec::new();
    for (g, sku) in groups.iter().zip(&matched) {
        let billed = g.cost;
        let Some(id) = sku else {
            out.push(unexplained(
                g,
                None,
                None,
                format!(
                    "no item of price book `{}` matches usage type `{}`",
                    m.book, g.usage_type
                ),
            ));
            continue;
        };
        let item = book.sku(id)?;
        if !unit_fits(&g.unit, item.unit) {
            out.push(unexplained(
                g,
                Some(id.clone()),
                Some(item.line.clone()),
                format!(
                    "billed in `{}` but item `{id}` is priced per {} (CUR unit {})",
                    g.unit,
                    item.unit.name(),
                    units_for(item.unit)
                ),
            ));
            continue;
        }
        let priced = if g.kind == LineItemType::DiscountedUsage {
            Money::ZERO
        } else {
            let tiers = book.price_on(id, Commitment::OnDemand, day)?;
            let total = totals.get(id.as_str()).copied().unwrap_or(g.usage);
            let all: Money = split_tiers(total, &tiers)
                .into_iter()
                .map(|(q, p)| p.times(q))
                .sum();
            let share = if total > 0.0 { g.usage / total } else { 0.0 };
            let (all, _) = pricer.convert(all, book.currency)?;
            all.times(share).round_to_cents()
        };
        let gap = billed - priced;
        let rel = gap.as_f64().abs() / priced.as_f64().abs().max(0.01);
        let flagged = gap.round_to_cents() != Money::ZERO && rel > m.tolerance;
        out.push(Reconciled {
            group: g.clone(),
            sku: Some(id.clone()),
            line: Some(item.line.clone()),
            billed,
            priced: Some(priced),
            unexplained: gap,
            flagged,
            reason: if flagged {
                format!(
                    "billed {billed}, the book prices {priced} ({:.1}% apart)",
                    rel * 100.0
                )
            } else {
                String::new()
            },
        });
    }
    Ok(out)
}

fn unexplained(
    g: &BillGroup,
    sku: Option<String>,
    line: Option<String>,
    reason: String,
) -> Reconciled {
    Reconciled {
        group: g.clone(),
        sku,
        line,
        billed: g.cost,
        priced: None,
        unexplained: g.cost,
        flagged: true,
        reason,
    }
}

/// The line item a group of the CUR is shown under: the matched item's
/// (e.g. `compute`), else the line of the item its instance type names
/// (a reservation's fee, a savings plan's negation), `savings plans` for
/// a plan's fees, `tax`, or else the service.
fn line_of(g: &BillGroup, reconciled: &[Reconciled], book: Option<&PriceBook>) -> String {
    let matched = reconciled.iter().find(|r| {
        r.group.service == g.service
            && r.group.usage_type == g.usage_type
            && r.group.region == g.region
            && r.group.kind == g.kind
    });
    if let Some(line) = matched.and_then(|r| r.line.clone()) {
        return line;
    }
    match g.kind {
        LineItemType::SavingsPlanRecurringFee | LineItemType::SavingsPlanUpfrontFee => {
            return "savings plans".to_string()
        }
        LineItemType::Tax => return "tax".to_string(),
        _ => {}
    }
    book.and_then(|b| b.skus.get(&g.instance_type))
        .map_or_else(|| g.service.clone(), |s| s.line.clone())
}

/// The recurring month of `bill` as bill lines of `estate` for `month`:
/// one line per group, at its unblended cost plus its upfront share,
/// rounded to the cent; its line item the matched price-book item's
/// (e.g. `compute`), else the line of the item its instance type names, `savings
/// plans` for a plan's fees, `tax`, or else the service; its site the
/// region (`all` when account-wide).
pub fn as_bill_lines(
    bill: &ActualBill,
    estate: &str,
    reconciled: &[Reconciled],
    book: Option<&PriceBook>,
    month: Month,
) -> Vec<LineItem> {
    bill.recurring()
        .into_iter()
        .map(|g| {
            let line = line_of(&g, reconciled, book);
            let unit_price = if g.usage != 0.0 {
                Money::from_micros((g.cost.as_f64() / g.usage * 1e6).round() as i64)
            } else {
                g.cost
            };
            LineItem {
                month,
                estate: estate.to_string(),
                provider: format!("as billed ({} CUR)", bill.month),
                site: if g.region.is_empty() {
                    "all".to_string()
                } else {
                    g.region.clone()
                },
                line,
                sku: g.usage_type.clone(),
                kind: Kind::Opex,
                quantity: g.usage,
                unit: g.unit.clone(),
                unit_price,
                amount: g.cost.round_to_cents(),
                note: format!("{} as billed in {}", g.kind.name(), bill.month),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::bill::Adjustments;
    use super::super::book::{Granularity, Sku, Tier};
    use super::super::money::Date;
    use super::*;

    fn usd(s: &str) -> Money {
        Money::parse_amount(s).unwrap()
    }

    fn row(
        kind: LineItemType,
        usage_type: &str,
        region: &str,
        usage: f64,
        unit: &str,
        cost: &str,
    ) -> CurLine {
        CurLine {
            row: 2,
            kind,
            service: "AmazonEC2".into(),
            usage_type: usage_type.into(),
            region: region.into(),
            instance_type: String::new(),
            usage,
            unit: unit.into(),
            cost: usd(cost),
            amortised_upfront: Money::ZERO,
        }
    }

    fn book() -> BTreeMap<String, PriceBook> {
        let day = Date::parse("2026-11-01").unwrap();
        let vm = Sku::flat(
            "vm",
            "compute",
            Unit::Hour,
            Granularity::Hourly,
            usd("0.10"),
            "t",
            day,
        );
        let mut egress = Sku::flat(
            "egress",
            "egress",
            Unit::Gb,
            Granularity::Hourly,
            usd("0"),
            "t",
            day,
        );
        egress.on_demand = vec![
            Tier {
                up_to: Some(100),
                price: usd("0.10"),
            },
            Tier {
                up_to: None,
                price: usd("0.05"),
            },
        ];
        let b = PriceBook {
            name: "b".into(),
            provider: "p".into(),
            currency: Currency::USD,
            taken_on: day,
            source: "t".into(),
            skus: [vm, egress]
                .into_iter()
                .map(|s| (s.id.clone(), s))
                .collect(),
            changes: vec![],
        };
        [("b".to_string(), b)].into_iter().collect()
    }

    #[test]
    fn usage_types_lose_their_region_codes() {
        assert_eq!(
            usage_type_key("USE1-BoxUsage:m5.2xlarge"),
            "BoxUsage:m5.2xlarge"
        );
        assert_eq!(usage_type_key("BoxUsage:m5.2xlarge"), "BoxUsage:m5.2xlarge");
        assert_eq!(usage_type_key("USE1-EUC1-AWS-Out-Bytes"), "AWS-Out-Bytes");
        assert_eq!(
            usage_type_key("APS2-DataTransfer-Out-Bytes"),
            "DataTransfer-Out-Bytes"
        );
        assert_eq!(usage_type_key("EBS-VolumeUsage"), "EBS-VolumeUsage");
        assert_eq!(usage_type_key("EU-NatGateway-Hours"), "NatGateway-Hours");
    }

    /// A month made by hand. vm at 0.10/h: 1,000 h billed 100.00
    /// (explained); 500 h in another region billed 60.00 against 50.00
    /// priced (20 % apart: flagged). Egress, bands 0.10 to 100 GB then
    /// 0.05: 300 GB in all cost 10.00 + 10.00 = 20.00, 200 GB of it in one
    /// region: two thirds, 13.33, billed 13.33; 100 GB elsewhere 6.67,
    /// billed 6.67. A volume the book has no item for: 8.00 unexplained.
    /// Usage under a reservation: billed 0, priced 0. Tax 5.555, a credit
    /// of 10 and the reservation's fee, 36.00.
    fn hand_month() -> ActualBill {
        use LineItemType::*;
        let rows = [
            (
                Usage,
                "USE1-BoxUsage:vm",
                "us-east-1",
                600.0,
                "Hrs",
                "60.00",
            ),
            (
                Usage,
                "USE1-BoxUsage:vm",
                "us-east-1",
                400.0,
                "Hrs",
                "40.00",
            ),
            (
                Usage,
                "USW1-BoxUsage:vm",
                "us-west-1",
                500.0,
                "Hrs",
                "60.00",
            ),
            (
                DiscountedUsage,
                "USE1-BoxUsage:vm",
                "us-east-1",
                720.0,
                "Hrs",
                "0",
            ),
            (
                Usage,
                "USE1-DataTransfer-Out-Bytes",
                "us-east-1",
                200.0,
                "GB",
                "13.33",
            ),
            (
                Usage,
                "USW1-DataTransfer-Out-Bytes",
                "us-west-1",
                100.0,
                "GB",
                "6.67",
            ),
            (
                Usage,
                "USE1-EBS:VolumeUsage.gp3",
                "us-east-1",
                100.0,
                "GB-Mo",
                "8.00",
            ),
            (Tax, "", "", 0.0, "", "5.555"),
            (Credit, "", "", 0.0, "", "-10"),
            (
                RIFee,
                "USE1-HeavyUsage:vm",
                "us-east-1",
                720.0,
                "Hrs",
                "36.00",
            ),
        ];
        ActualBill {
            month: Date::parse("2026-11-01").unwrap().month_of(),
            currency: Currency::USD,
            lines: rows
                .into_iter()
                .map(|(k, ut, region, usage, unit, cost)| row(k, ut, region, usage, unit, cost))
                .collect(),
        }
    }

    /// `bill` reconciled with the test book, vm and egress matched by
    /// usage type, at a 1 % tolerance.
    fn reconciled(bill: &ActualBill) -> Vec<Reconciled> {
        let items: BTreeMap<String, String> = [
            ("BoxUsage:vm".to_string(), "vm".to_string()),
            ("DataTransfer-Out-Bytes".to_string(), "egress".to_string()),
        ]
        .into_iter()
        .collect();
        let books = book();
        let adjust = Adjustments::default();
        let pricer = Pricer {
            books: &books,
            currency: Currency::USD,
            fx: &[],
            adjust: &adjust,
            start: bill.month,
        };
        let m = Matching {
            book: "b",
            items: &items,
            tolerance: 0.01,
        };
        reconcile(bill, &pricer, &m).unwrap()
    }

    fn find(r: &[Reconciled], usage_type: &str, kind: LineItemType) -> Reconciled {
        r.iter()
            .find(|x| x.group.usage_type == usage_type && x.group.kind == kind)
            .cloned()
            .unwrap()
    }

    #[test]
    fn a_hand_made_month_reconciles_as_derived_by_hand() {
        use LineItemType::*;
        let bill = hand_month();
        assert_eq!(bill.total(), usd("219.56"));
        let r = reconciled(&bill);
        let east = find(&r, "USE1-BoxUsage:vm", Usage);
        assert_eq!(
            (east.billed, east.priced, east.flagged),
            (usd("100"), Some(usd("100")), false)
        );
        let west = find(&r, "USW1-BoxUsage:vm", Usage);
        assert_eq!(
            (west.priced, west.unexplained, west.flagged),
            (Some(usd("50")), usd("10"), true)
        );
        let e1 = find(&r, "USE1-DataTransfer-Out-Bytes", Usage);
        assert_eq!((e1.priced, e1.flagged), (Some(usd("13.33")), false));
        let e2 = find(&r, "USW1-DataTransfer-Out-Bytes", Usage);
        assert_eq!((e2.priced, e2.flagged), (Some(usd("6.67")), false));
        let ebs = find(&r, "USE1-EBS:VolumeUsage.gp3", Usage);
        assert_eq!(
            (ebs.priced, ebs.unexplained, ebs.flagged),
            (None, usd("8"), true)
        );
        assert!(ebs.reason.contains("no item"), "{}", ebs.reason);
        let ri = find(&r, "USE1-BoxUsage:vm", DiscountedUsage);
        assert_eq!((ri.priced, ri.flagged), (Some(Money::ZERO), false));
        // Six usage groups; tax, credit and the RI fee are not usage.
        assert_eq!(r.len(), 6);
        assert_eq!(r.iter().filter(|x| x.flagged).count(), 2);
    }

    #[test]
    fn the_recurring_month_leaves_out_what_is_paid_once() {
        // 219.555 less the credit: 229.555, 229.56 in lines rounded one by one.
        let bill = hand_month();
        let r = reconciled(&bill);
        let books = book();
        let lines = as_bill_lines(&bill, "cloud", &r, books.get("b"), bill.month);
        let sum: Money = lines.iter().map(|l| l.amount).sum();
        assert_eq!(sum, usd("229.56"));
        assert!(lines
            .iter()
            .any(|l| l.line == "compute" && l.site == "us-west-1"));
        assert!(lines.iter().any(|l| l.line == "tax"));
        assert_eq!(bill.commitments().len(), 1);
    }

    #[test]
    fn a_unit_that_does_not_fit_its_item_is_flagged_not_priced() {
        let mut odd = hand_month();
        odd.lines[2].unit = "GB".into();
        let west = find(&reconciled(&odd), "USW1-BoxUsage:vm", LineItemType::Usage);
        assert!(west.flagged && west.priced.is_none() && west.reason.contains("per hour"));
    }

    #[test]
    fn declared_commitments_cost_what_a_cur_shows_for_them() {
        use super::super::bill::UsageLine;
        use super::super::commit::{Payment, PlanScope, SavingsPlan, Upfront};
        // Two 1-year partial-upfront reservations of vm (600 each upfront,
        // 0.04 an hour) from 2026-06-01, and a $1/h plan from 2026-09-01:
        // in November (720 h): 2 x 720 x 0.04 = 57.60 recurring, 1,200 / 12
        // = 100.00 upfront share, and 720.00 of plan: 877.60. On-demand
        // lines are not commitments.
        let books = book();
        let adjust = Adjustments::default();
        let month = Date::parse("2026-11-01").unwrap().month_of();
        let pricer = Pricer {
            books: &books,
            currency: Currency::USD,
            fx: &[],
            adjust: &adjust,
            start: month,
        };
        let line = |c: Commitment, upfront: Option<Upfront>| UsageLine {
            book: "b".into(),
            sku: "vm".into(),
            site: "ny1".into(),
            quantity: 2.0,
            commitment: c,
            commitment_ends: Some(Date::parse("2027-06-01").unwrap()),
            window: Default::default(),
            grows: false,
            upfront,
        };
        let upfront = Upfront {
            payment: Payment::PartialUpfront,
            fee: usd("600"),
            hourly: usd("0.04"),
            currency: Currency::USD,
            term_starts: Date::parse("2026-06-01").unwrap(),
        };
        let estate = Estate {
            name: "cloud".into(),
            lines: vec![
                line(Commitment::Reserved1y, Some(upfront)),
                line(Commitment::OnDemand, None),
            ],
            savings_plans: vec![SavingsPlan {
                name: "sp".into(),
                book: "b".into(),
                scope: PlanScope::Compute,
                hourly: usd("1"),
                currency: Currency::USD,
                term: Commitment::Reserved1y,
                payment: Payment::NoUpfront,
                upfront: Money::ZERO,
                starts: Date::parse("2026-09-01").unwrap(),
            }],
            ..Estate::default()
        };
        assert_eq!(
            declared_commitments(&pricer, &estate, month).unwrap(),
            usd("877.60")
        );
    }

    #[test]
    fn line_item_types_read_back_by_name() {
        for (name, t) in LineItemType::ALL {
            assert_eq!(LineItemType::parse(name), Some(t));
            assert_eq!(t.name(), name);
        }
        assert_eq!(LineItemType::parse("usage"), None);
        assert!(LineItemType::Credit.is_once() && !LineItemType::Tax.is_once());
    }
}
