//! Projects a cost scenario month by month and prints each month's bill,
//! the savings against the baseline and the break-even month: the figures
//! `cutover cost FILE` reports, read from a program.
//!
//! ```text
//! cargo run --release --example cost_projection                  # the bundled migration
//! cargo run --release --example cost_projection -- scenarios/cost-cloud.toml
//! ```

use std::path::{Path, PathBuf};

use anyhow::Context;
use cutover::scenario::cost::CostScenario;
use cutover_models::cost::Money;

/// One month of the projection, each sum a plain decimal (`1234.56`), as
/// `summary.json` writes it.
#[derive(Debug, PartialEq)]
pub struct MonthFigures {
    /// The month, `YYYY-MM`.
    pub month: String,
    /// What the plan costs that month.
    pub plan: String,
    /// What staying put would cost (a migration only).
    pub baseline: Option<String>,
    /// Baseline minus plan (a migration only).
    pub savings: Option<String>,
    /// The savings so far (a migration only).
    pub cumulative_savings: Option<String>,
}

/// The projection's figures: each month, then the headline.
#[derive(Debug, PartialEq)]
pub struct Figures {
    /// The scenario's currency.
    pub currency: String,
    /// Month by month.
    pub months: Vec<MonthFigures>,
    /// The plan's total over the horizon.
    pub plan_total: String,
    /// The plan's net present value.
    pub plan_npv: String,
    /// The savings over the horizon (a migration only).
    pub savings_total: Option<String>,
    /// The first month from which the cumulative savings stay positive.
    pub break_even: Option<String>,
}

/// The bundled cloud-to-bare-metal migration.
pub fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/cost-migration.toml")
}

/// Loads the cost scenario at `file` and projects it.
pub fn project(file: &Path) -> anyhow::Result<Figures> {
    let scenario = CostScenario::load(file)?;
    let analysis = scenario
        .model
        .analyse()
        .with_context(|| format!("pricing {}", file.display()))?;
    let months = analysis
        .projection
        .months
        .iter()
        .map(|m| MonthFigures {
            month: m.month.to_string(),
            plan: m.plan.plain(),
            baseline: m.baseline.as_ref().map(Money::plain),
            savings: m.savings.as_ref().map(Money::plain),
            cumulative_savings: m.cumulative_savings.as_ref().map(Money::plain),
        })
        .collect();
    let h = &analysis.headline;
    Ok(Figures {
        currency: scenario.model.currency.to_string(),
        months,
        plan_total: h.plan_total.plain(),
        plan_npv: h.plan_npv.plain(),
        savings_total: h.savings_total.as_ref().map(Money::plain),
        break_even: h.break_even.as_ref().map(ToString::to_string),
    })
}

/// The figures as a table, then the headline.
fn render(f: &Figures) -> String {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_string());
    let mut out = format!(
        "{:<8} {:>14} {:>14} {:>14} {:>16}\n",
        "month", "plan", "baseline", "savings", "cumulative"
    );
    for m in &f.months {
        out.push_str(&format!(
            "{:<8} {:>14} {:>14} {:>14} {:>16}\n",
            m.month,
            m.plan,
            or_dash(&m.baseline),
            or_dash(&m.savings),
            or_dash(&m.cumulative_savings)
        ));
    }
    out.push_str(&format!(
        "plan total {} {} (NPV {}); savings {}; break-even {}\n",
        f.plan_total,
        f.currency,
        f.plan_npv,
        or_dash(&f.savings_total),
        f.break_even.as_deref().unwrap_or("never")
    ));
    out
}

fn main() -> anyhow::Result<()> {
    let file = std::env::args_os()
        .nth(1)
        .map_or_else(bundled, PathBuf::from);
    print!("{}", render(&project(&file)?));
    Ok(())
}
