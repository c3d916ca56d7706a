//! Conservation of money in a priced plan: every total is the sum of its
//! lines, to the cent (amounts are exact millionths).

use cutover::plan::cost::PlanCostSummary;
use cutover_models::cost::Money;

/// Dual running is the sum of its regions' and its extra is the
/// difference with the schedule; the horizon is the sum of its months;
/// the final month is the sum of its estates and the same as that
/// month's line. `what` names the run in the message.
pub fn assert_money_adds_up(c: &PlanCostSummary, what: &str) {
    let by_site: Money = c.dual_running_by_site.iter().map(|s| s.cost).sum();
    assert_eq!(c.dual_running, by_site, "{what}: dual running by region");
    assert_eq!(
        c.dual_running_extra,
        c.dual_running - c.dual_running_as_scheduled,
        "{what}: dual running extra"
    );
    let months: Money = c.months.iter().map(|(_, m)| *m).sum();
    assert_eq!(c.horizon_total, months, "{what}: horizon total");
    let estates: Money = c.final_by_estate.values().copied().sum();
    assert_eq!(c.final_monthly, estates, "{what}: final month by estate");
    if let Some((_, m)) = c.months.iter().find(|(month, _)| *month == c.final_month) {
        assert_eq!(c.final_monthly, *m, "{what}: final month in the months");
    }
}
