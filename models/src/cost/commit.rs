//! Commitments users hold: reserved instances bought with no, partial or
//! all upfront, and savings plans, each with its amortisation.
//!
//! A reservation is a reserved [`super::UsageLine`] (a fixed count of
//! instances paid for the whole term, used or not); its [`Upfront`] says
//! how the term is paid when it is not the book's no-upfront rate: a fee
//! per instance at the start of the term, spread evenly over the term's
//! months, and a recurring rate per instance-hour. A [`SavingsPlan`] is an
//! hourly commitment in money for a term: each month the eligible
//! on-demand instance-hours of its book are charged at the plan's rate
//! until the commitment is used up, the rest on demand, and the whole
//! commitment is paid whether used or not.
//!
//! Amortisation follows the payment options of AWS reservations and
//! savings plans (the CUR's `RIFee` and `SavingsPlanRecurringFee` lines
//! carry the recurring part, `reservation/AmortizedUpfrontFeeForBillingPeriod`
//! and `savingsPlan/AmortizedUpfrontCommitmentForBillingPeriod` the upfront
//! part spread over the term; docs.aws.amazon.com/cur/latest/userguide/
//! reservation-columns.html and cur-sp.html). Upfront is spread by calendar
//! month (the fee over the term's months, in whole cents, the last month
//! taking the remainder), not by hour as AWS does: a month's share is the
//! same whatever its length.

use serde::Serialize;

use super::bill::{depreciation_schedule, months_between};
use super::book::Commitment;
use super::money::{Currency, Date, Money, Month};

/// Hours in a one-year term: 365 days of 24 hours (a savings plan's 1-year
/// term is 8,760 hours, the 3-year term 26,280; medium.com/understanding-
/// the-aws-cur, "Part 5: Demystifying Savings Plans", 2024-06-11).
pub const HOURS_PER_TERM_YEAR: u32 = 8_760;

/// How a commitment's term is paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Payment {
    /// Nothing upfront: the whole term at a recurring hourly rate.
    NoUpfront,
    /// Part upfront, the rest at a lower recurring hourly rate.
    PartialUpfront,
    /// Everything upfront; no recurring charge.
    AllUpfront,
}

impl Payment {
    /// The name used in files and reports.
    pub fn name(&self) -> &'static str {
        match self {
            Payment::NoUpfront => "no upfront",
            Payment::PartialUpfront => "partial upfront",
            Payment::AllUpfront => "all upfront",
        }
    }
}

/// Months in the term of a reserved commitment (12 or 36); `None` for
/// on-demand and spot.
pub fn term_months(c: Commitment) -> Option<u32> {
    match c {
        Commitment::Reserved1y => Some(12),
        Commitment::Reserved3y => Some(36),
        Commitment::OnDemand | Commitment::Spot => None,
    }
}

/// How a reservation is paid when not at the book's no-upfront rate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Upfront {
    /// The payment option.
    pub payment: Payment,
    /// Fee paid once per instance at the start of the term.
    pub fee: Money,
    /// Recurring price per instance-hour during the term (zero when all upfront).
    pub hourly: Money,
    /// Currency of the fee and the rate.
    pub currency: Currency,
    /// First day of the term.
    pub term_starts: Date,
}

/// The share of `upfront` charged in `month` when it is spread over the
/// `months` calendar months from `first`: equal whole cents, the last month
/// taking the remainder, zero outside the term.
pub fn amortised(upfront: Money, months: u32, first: Month, month: Month) -> Money {
    let i = months_between(first, month);
    if i < 0 {
        return Money::ZERO;
    }
    depreciation_schedule(upfront, months)
        .get(i as usize)
        .copied()
        .unwrap_or(Money::ZERO)
}

/// Which usage a savings plan covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanScope {
    /// A compute savings plan: every server item of its book.
    Compute,
    /// An EC2 instance savings plan: the server items of one instance
    /// family (ids starting with `family.`, e.g. `m5.`).
    Family(String),
}

/// An hourly commitment in money for a term, paid whether used or not.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SavingsPlan {
    /// Its name in bills.
    pub name: String,
    /// The price book whose items it covers.
    pub book: String,
    /// What it covers.
    pub scope: PlanScope,
    /// The commitment per hour.
    pub hourly: Money,
    /// Its currency.
    pub currency: Currency,
    /// `Reserved1y` or `Reserved3y`: the term, and the book's rate the
    /// covered usage is charged at (an item's reserved rate for that term
    /// stands for its savings-plan rate).
    pub term: Commitment,
    /// The payment option.
    pub payment: Payment,
    /// Paid at the start of the term: nothing, part, or the whole term's
    /// commitment.
    pub upfront: Money,
    /// First day of the term.
    pub starts: Date,
}

impl SavingsPlan {
    /// Months in its term.
    pub fn months(&self) -> u32 {
        term_months(self.term).unwrap_or(12)
    }

    /// Hours in its term.
    pub fn term_hours(&self) -> u32 {
        self.months() / 12 * HOURS_PER_TERM_YEAR
    }

    /// The first day after its term.
    pub fn ends(&self) -> Date {
        let m = self.starts.month_of().plus(self.months());
        Date::new(m.year, m.month, self.starts.day.min(m.days())).unwrap_or(m.first_day())
    }

    /// The recurring price per hour: the commitment less the upfront
    /// spread over the term's hours.
    pub fn recurring_hourly(&self) -> Money {
        let spread = Money::from_micros(self.upfront.micros() / i64::from(self.term_hours()));
        (self.hourly - spread).max(Money::ZERO)
    }

    /// Hours of `month` inside the term.
    pub fn hours_in(&self, month: Month) -> f64 {
        let lo = self.starts.day_number().max(month.first_day().day_number());
        let hi = self.ends().day_number().min(month.end().day_number());
        (hi - lo).max(0) as f64 * 24.0
    }

    /// Whether an item of its book is covered: a server item with a rate
    /// for the plan's term, in its family for an instance plan.
    pub fn covers(&self, sku_id: &str) -> bool {
        match &self.scope {
            PlanScope::Compute => true,
            PlanScope::Family(f) => sku_id
                .strip_prefix(f.as_str())
                .is_some_and(|rest| rest.starts_with('.')),
        }
    }
}

/// Usage a savings plan could cover: `hours` of an instance item billed
/// on demand at `on_demand` an hour (the bill line `amount`), whose plan
/// rate is `plan_rate` an hour, all in the report currency.
#[derive(Clone, Debug, PartialEq)]
pub struct Eligible {
    /// Index of its bill line.
    pub index: usize,
    /// Instance-hours.
    pub hours: f64,
    /// On-demand price an hour.
    pub on_demand: Money,
    /// The line's amount.
    pub amount: Money,
    /// The plan's price an hour.
    pub plan_rate: Money,
}

/// Covers `eligible` usage with a month's `commitment`: the usage with
/// the deepest discount first (AWS applies a plan where it saves most),
/// each line in full or in part until the commitment is spent. Returns,
/// per line covered, its index, the hours covered and the on-demand
/// amount they no longer pay (the CUR's `SavingsPlanNegation`), and the
/// commitment used.
pub fn cover(commitment: Money, eligible: &[Eligible]) -> (Vec<(usize, f64, Money)>, Money) {
    let mut order: Vec<&Eligible> = eligible.iter().filter(|e| e.hours > 0.0).collect();
    // Deepest discount first: plan / on-demand smallest; ties in bill order.
    order.sort_by(|a, b| {
        let ra = a.plan_rate.as_f64() / a.on_demand.as_f64().max(1e-12);
        let rb = b.plan_rate.as_f64() / b.on_demand.as_f64().max(1e-12);
        ra.total_cmp(&rb).then(a.index.cmp(&b.index))
    });
    let mut left = commitment;
    let mut used = Money::ZERO;
    let mut out = Vec::new();
    for e in order {
        if left <= Money::ZERO || e.plan_rate <= Money::ZERO {
            continue;
        }
        let full = e.plan_rate.times(e.hours);
        let (hours, spent, negated) = if full <= left {
            (e.hours, full, e.amount)
        } else {
            let h = left.as_f64() / e.plan_rate.as_f64();
            (h, left, e.on_demand.times(h).round_to_cents())
        };
        left = left - spent;
        used += spent;
        out.push((e.index, hours, negated));
    }
    (out, used)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(s: &str) -> Money {
        Money::parse_amount(s).unwrap()
    }
    fn month(s: &str) -> Month {
        Date::parse(&format!("{s}-01")).unwrap().month_of()
    }

    #[test]
    fn a_three_year_all_upfront_reservation_of_36000_is_1000_a_month() {
        let first = month("2027-01");
        for i in 0..36 {
            assert_eq!(
                amortised(usd("36000"), 36, first, first.plus(i)),
                usd("1000")
            );
        }
        assert_eq!(
            amortised(usd("36000"), 36, first, first.plus(36)),
            Money::ZERO
        );
        assert_eq!(
            amortised(usd("36000"), 36, first, first.prev()),
            Money::ZERO
        );
        // An upfront that does not divide into cents: the last month takes
        // the remainder, and the months sum to the fee.
        let parts: Money = (0..12)
            .map(|i| amortised(usd("1000"), 12, first, first.plus(i)))
            .sum();
        assert_eq!(parts, usd("1000"));
        assert_eq!(amortised(usd("1000"), 12, first, first), usd("83.33"));
        assert_eq!(
            amortised(usd("1000"), 12, first, first.plus(11)),
            usd("83.37")
        );
    }

    #[test]
    fn a_savings_plan_splits_its_commitment_into_upfront_and_recurring() {
        // 1-year partial upfront, $2.00 an hour: 8,760 h x 2 = 17,520 for
        // the term; 8,760 paid upfront leaves $1.00 an hour recurring.
        let plan = SavingsPlan {
            name: "sp".into(),
            book: "cloud".into(),
            scope: PlanScope::Family("m5".into()),
            hourly: usd("2"),
            currency: Currency::USD,
            term: Commitment::Reserved1y,
            payment: Payment::PartialUpfront,
            upfront: usd("8760"),
            starts: Date::parse("2026-11-16").unwrap(),
        };
        assert_eq!(plan.recurring_hourly(), usd("1"));
        assert_eq!(plan.ends(), Date::parse("2027-11-16").unwrap());
        // Half of November, all of December, and half of November a year on.
        assert_eq!(plan.hours_in(month("2026-11")), 15.0 * 24.0);
        assert_eq!(plan.hours_in(month("2026-12")), 744.0);
        assert_eq!(plan.hours_in(month("2027-11")), 15.0 * 24.0);
        assert_eq!(plan.hours_in(month("2027-12")), 0.0);
        assert!(plan.covers("m5.2xlarge") && !plan.covers("m5d.large"));
        assert!(!plan.covers("c5.large"));
    }

    #[test]
    fn a_commitment_covers_the_deepest_discount_first_and_unused_is_kept() {
        // Commitment 100: line 0 saves 30 % (0.7 of 1.0), line 1 saves
        // 50 % (0.5 of 1.0). Line 1 first: 100 h x 0.5 = 50 in full, then
        // 50 / 0.7 = 71.43 h of line 0's 200 h, negating 71.43.
        let e = [
            Eligible {
                index: 0,
                hours: 200.0,
                on_demand: usd("1"),
                amount: usd("200"),
                plan_rate: usd("0.7"),
            },
            Eligible {
                index: 1,
                hours: 100.0,
                on_demand: usd("1"),
                amount: usd("100"),
                plan_rate: usd("0.5"),
            },
        ];
        let (covered, used) = cover(usd("100"), &e);
        assert_eq!(used, usd("100"));
        assert_eq!(covered[0], (1, 100.0, usd("100")));
        assert_eq!(covered[1].0, 0);
        assert_eq!(covered[1].2, usd("71.43"));
        // A commitment larger than the usage: all covered, the rest unused.
        let (covered, used) = cover(usd("1000"), &e);
        assert_eq!(used, usd("190"));
        assert_eq!(covered.iter().map(|c| c.2).sum::<Money>(), usd("300"));
    }
}
