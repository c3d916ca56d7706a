//! The cost report: a table for finance on stdout, and `cost.csv` (every
//! bill line), `summary.json`, `cost.svg` (monthly spend, plan against
//! staying as is) and, for a migration, `savings.svg` (cumulative savings)
//! in an output directory.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use cutover_models::cost::bill::Kind;
use cutover_models::cost::project::{Analysis, CostModel, Projection};
use cutover_models::cost::{LineItem, Money, Month};
use serde::Serialize;

use super::fmt;
use super::plot::{render_svg, Chart, Line};
use super::{encode, write_json, OutputDir, WriteError};
use crate::scenario::cost::{Actuals, CostScenario};
use cutover_models::cost::cur::Reconciled;

/// Columns of `cost.csv`.
pub const CSV_HEADER: [&str; 14] = [
    "scenario",
    "month",
    "estate",
    "provider",
    "site",
    "line_item",
    "sku",
    "kind",
    "quantity",
    "unit",
    "unit_price",
    "amount",
    "currency",
    "note",
];

/// `cost.csv`: the plan's lines, then the baseline's; amounts in cents
/// exactly, so the plan total equals the sum of the plan rows.
pub fn csv_bytes(scenario: &CostScenario, analysis: &Analysis) -> Result<Vec<u8>, WriteError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| encode("cost.csv")(e.to_string());
    w.write_record(CSV_HEADER).map_err(err)?;
    let currency = scenario.model.currency.to_string();
    let p = &analysis.projection;
    for (name, lines) in [("plan", &p.plan_lines), ("baseline", &p.baseline_lines)] {
        for l in lines.iter() {
            w.write_record([
                name,
                &l.month.to_string(),
                &l.estate,
                &l.provider,
                &l.site,
                &l.line,
                &l.sku,
                kind_name(l),
                &l.quantity.to_string(),
                &l.unit,
                &l.unit_price.plain(),
                &l.amount.plain(),
                &currency,
                &l.note,
            ])
            .map_err(err)?;
        }
    }
    w.into_inner()
        .map_err(|e| encode("cost.csv")(e.to_string()))
}

fn kind_name(l: &LineItem) -> &'static str {
    match l.kind {
        Kind::Opex => "opex",
        Kind::OneOff => "one-off",
        Kind::Capex => "capex",
        Kind::Salvage => "salvage",
    }
}

#[derive(Serialize)]
struct BookInfo<'a> {
    name: &'a str,
    provider: &'a str,
    currency: String,
    taken_on: String,
    source: &'a str,
    file: String,
}

#[derive(Serialize)]
struct Check {
    plan_total: Money,
    sum_of_plan_rows_in_cost_csv: Money,
    equal: bool,
}

#[derive(Serialize)]
struct SummaryFile<'a> {
    scenario: &'a str,
    description: Option<&'a str>,
    currency: String,
    start: String,
    months: u32,
    discount_rate: f64,
    growth_per_year: f64,
    pricebooks: Vec<BookInfo<'a>>,
    exchange_rates: &'a [cutover_models::cost::ExchangeRate],
    #[serde(skip_serializing_if = "Option::is_none")]
    actuals: Option<ActualsView<'a>>,
    #[serde(flatten)]
    analysis: AnalysisView<'a>,
    check: Check,
}

/// The CUR month in `summary.json`: its total, its recurring month and
/// the usage groups the price book cannot explain.
#[derive(Serialize)]
struct ActualsView<'a> {
    file: String,
    estate: &'a str,
    book: &'a str,
    month: String,
    total: Money,
    recurring: Money,
    tolerance: f64,
    unexplained: Vec<&'a Reconciled>,
    used_as_baseline: bool,
    commitments: Money,
    declared_commitments: Option<Money>,
}

#[derive(Serialize)]
struct AnalysisView<'a> {
    headline: &'a cutover_models::cost::project::Headline,
    by_month: &'a [cutover_models::cost::project::MonthSummary],
    cases: &'a [cutover_models::cost::project::CaseResult],
    tornado_metric: &'a str,
    tornado: &'a [cutover_models::cost::project::TornadoRow],
    budget_overruns: &'a [cutover_models::cost::project::Overrun],
    stated_lines: &'a [cutover_models::cost::project::Explained],
    estates_at_start: &'a [cutover_models::cost::project::EstateAtStart],
    annual_saving_at_start: Option<Money>,
}

/// Writes `cost.csv`, `summary.json`, `cost.svg` and, when comparing,
/// `savings.svg` into `out`.
pub fn write(
    out: &OutputDir,
    scenario: &CostScenario,
    analysis: &Analysis,
) -> Result<(), WriteError> {
    let csv = csv_bytes(scenario, analysis)?;
    out.write("cost.csv", &csv)?;
    if let Some(a) = &scenario.actuals {
        out.write("actuals.csv", &actuals_csv(a)?)?;
    }
    let m = &scenario.model;
    let rows_sum: Money = analysis
        .projection
        .plan_lines
        .iter()
        .map(|l| l.amount)
        .sum();
    let summary = SummaryFile {
        scenario: &scenario.name,
        description: scenario.description.as_deref(),
        currency: m.currency.to_string(),
        start: m.start.to_string(),
        months: m.months,
        discount_rate: m.discount_rate,
        growth_per_year: m.base.growth_per_year,
        pricebooks: book_infos(scenario),
        exchange_rates: &m.fx,
        actuals: actuals_view(scenario),
        analysis: AnalysisView {
            headline: &analysis.headline,
            by_month: &analysis.projection.months,
            cases: &analysis.cases,
            tornado_metric: &analysis.tornado_metric,
            tornado: &analysis.tornado,
            budget_overruns: &analysis.overruns,
            stated_lines: &analysis.explained,
            estates_at_start: &analysis.estates_at_start,
            annual_saving_at_start: analysis.annual_saving_at_start,
        },
        check: Check {
            plan_total: analysis.headline.plan_total,
            sum_of_plan_rows_in_cost_csv: rows_sum,
            equal: rows_sum == analysis.headline.plan_total,
        },
    };
    write_json(out, "summary.json", &summary)?;

    let months = &analysis.projection.months;
    let x = |i: usize| i as f64 + 1.0;
    let x_label = format!("month (1 = {})", m.start);
    let y_label = m.currency.to_string();
    let mut lines = vec![Line {
        label: "plan",
        points: months
            .iter()
            .enumerate()
            .map(|(i, s)| (x(i), s.plan.as_f64()))
            .collect(),
    }];
    let comparing = months.iter().all(|s| s.baseline.is_some());
    if comparing {
        lines.push(Line {
            label: "baseline (staying as is)",
            points: months
                .iter()
                .enumerate()
                .filter_map(|(i, s)| Some((x(i), s.baseline?.as_f64())))
                .collect(),
        });
    }
    let svg = render_svg(
        &Chart {
            title: "Monthly spend",
            x_label: &x_label,
            y_label: &y_label,
            lines,
        },
        900,
        480,
    )
    .map_err(encode("cost.svg"))?;
    out.write("cost.svg", svg.as_bytes())?;
    if comparing {
        let svg = render_svg(
            &Chart {
                title: "Cumulative savings (baseline minus plan)",
                x_label: &x_label,
                y_label: &y_label,
                lines: vec![Line {
                    label: "cumulative savings",
                    points: months
                        .iter()
                        .enumerate()
                        .filter_map(|(i, s)| Some((x(i), s.cumulative_savings?.as_f64())))
                        .collect(),
                }],
            },
            900,
            480,
        )
        .map_err(encode("savings.svg"))?;
        out.write("savings.svg", svg.as_bytes())?;
    }
    Ok(())
}

/// Sums lines of one month by (estate, line item): amount and, when all
/// share a unit, quantity.
fn by_line(lines: &[LineItem], month: Month) -> Vec<(String, String, String, Money)> {
    let mut m: BTreeMap<(String, String), (f64, Option<String>, Money)> = BTreeMap::new();
    for l in lines.iter().filter(|l| l.month == month) {
        let e = m.entry((l.estate.clone(), l.line.clone())).or_insert((
            0.0,
            Some(l.unit.clone()),
            Money::ZERO,
        ));
        e.0 += l.quantity;
        if e.1.as_deref() != Some(l.unit.as_str()) {
            e.1 = None;
        }
        e.2 += l.amount;
    }
    m.into_iter()
        .map(|((estate, line), (q, unit, amount))| {
            let qty = unit.map_or(String::new(), |u| format!("{} {u}", fmt_qty(q)));
            (estate, line, qty, amount)
        })
        .collect()
}

fn fmt_qty(q: f64) -> String {
    if (q - q.round()).abs() < 1e-9 {
        format!("{}", q.round() as i64)
    } else {
        format!("{q:.1}")
    }
}

fn breakdown(out: &mut String, title: &str, lines: &[LineItem], month: Month, cur: &str) {
    let rows = by_line(lines, month);
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title} ({month}, {cur})");
    let _ = writeln!(
        out,
        "  {:<12} {:<26} {:>22} {:>14}",
        "estate", "line item", "quantity", "amount"
    );
    let mut total = Money::ZERO;
    for (estate, line, qty, amount) in rows {
        let _ = writeln!(
            out,
            "  {estate:<12} {line:<26} {qty:>22} {:>14}",
            amount.to_string()
        );
        total += amount;
    }
    let _ = writeln!(
        out,
        "  {:<12} {:<26} {:>22} {:>14}",
        "",
        "total",
        "",
        total.to_string()
    );
    let once: Money = lines
        .iter()
        .filter(|l| l.month == month && l.kind != Kind::Opex)
        .map(|l| l.amount)
        .sum();
    if once != Money::ZERO {
        for (label, amount) in [
            ("of which recurring", total - once),
            ("of which paid once", once),
        ] {
            let _ = writeln!(
                out,
                "  {:<12} {:<26} {:>22} {:>14}",
                "",
                label,
                "",
                amount.to_string()
            );
        }
        let _ = writeln!(
            out,
            "  (paid once: capex, setup fees and one-off costs of this month only)"
        );
    }
}

/// What `estate` pays once in `month` on top of its recurring spend
/// (capex less salvage, setup fees, one-off costs), as a clause; empty
/// when nothing is.
fn paid_once_note(lines: &[LineItem], estate: &str, month: Month, cur: &str) -> String {
    let of = |kinds: &[Kind]| -> Money {
        lines
            .iter()
            .filter(|l| l.month == month && l.estate == estate && kinds.contains(&l.kind))
            .map(|l| l.amount)
            .sum()
    };
    let (capex, one_off) = (of(&[Kind::Capex, Kind::Salvage]), of(&[Kind::OneOff]));
    let mut parts = Vec::new();
    if capex != Money::ZERO {
        parts.push(format!("{capex} {cur} of capex"));
    }
    if one_off != Money::ZERO {
        parts.push(format!("{one_off} {cur} of setup fees and one-off costs"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(
            "; the first month also pays {} once ({} {cur} in all)",
            parts.join(" and "),
            of(&[Kind::Opex, Kind::Capex, Kind::Salvage, Kind::OneOff])
        )
    }
}

/// The budget verdict of a cost run, in words: `None` without a budget,
/// else PASS or FAIL with the overruns counted and the first one named.
pub fn verdict(scenario: &CostScenario, analysis: &Analysis) -> Option<String> {
    let m = &scenario.model;
    if m.budget == Default::default() {
        return None;
    }
    let Some(first) = analysis.overruns.first() else {
        return Some("PASS (within budget)".to_string());
    };
    let n = analysis.overruns.len();
    Some(format!(
        "FAIL (over budget: {n} overrun{}; first {} {}: {} > {} {})",
        if n == 1 { "" } else { "s" },
        first.month.map_or("horizon".to_string(), |m| m.to_string()),
        first.line,
        first.spend,
        first.budget,
        m.currency
    ))
}

/// Columns of `actuals.csv`.
pub const ACTUALS_HEADER: [&str; 13] = [
    "service",
    "usage_type",
    "region",
    "line_item_type",
    "usage",
    "unit",
    "billed",
    "item",
    "line_item",
    "priced",
    "unexplained",
    "flagged",
    "reason",
];

/// `actuals.csv`: each usage group of the CUR against the price book.
fn actuals_csv(a: &Actuals) -> Result<Vec<u8>, WriteError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| encode("actuals.csv")(e.to_string());
    w.write_record(ACTUALS_HEADER).map_err(err)?;
    for r in &a.reconciled {
        let g = &r.group;
        w.write_record([
            g.service.as_str(),
            &g.usage_type,
            &g.region,
            g.kind.name(),
            &g.usage.to_string(),
            &g.unit,
            &r.billed.plain(),
            r.sku.as_deref().unwrap_or(""),
            r.line.as_deref().unwrap_or(""),
            &r.priced.map(|p| p.plain()).unwrap_or_default(),
            &r.unexplained.plain(),
            if r.flagged { "true" } else { "false" },
            &r.reason,
        ])
        .map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| encode("actuals.csv")(e.to_string()))
}

/// The CUR's recurring month: its recurring groups, each rounded to the
/// cent as its baseline line is.
fn recurring_total(a: &Actuals) -> Money {
    a.bill
        .recurring()
        .iter()
        .map(|g| g.cost.round_to_cents())
        .sum()
}

/// The price books the model prices from, each with the file it was read from.
fn book_infos(scenario: &CostScenario) -> Vec<BookInfo<'_>> {
    scenario
        .model
        .books_used()
        .into_iter()
        .map(|b| BookInfo {
            name: &b.name,
            provider: &b.provider,
            currency: b.currency.to_string(),
            taken_on: b.taken_on.to_string(),
            source: &b.source,
            file: scenario
                .pricebook_files
                .iter()
                .find(|(n, _)| *n == b.name)
                .map(|(_, f)| f.display().to_string())
                .unwrap_or_default(),
        })
        .collect()
}

/// The CUR month as `summary.json` shows it, if the scenario has one.
fn actuals_view(scenario: &CostScenario) -> Option<ActualsView<'_>> {
    let a = scenario.actuals.as_ref()?;
    Some(ActualsView {
        file: a.file.display().to_string(),
        estate: &a.estate,
        book: &a.book,
        month: a.bill.month.to_string(),
        total: a.bill.total(),
        recurring: recurring_total(a),
        tolerance: a.tolerance,
        unexplained: a.reconciled.iter().filter(|r| r.flagged).collect(),
        used_as_baseline: scenario.model.actual_baseline.is_some(),
        commitments: commitments_total(a),
        declared_commitments: a.declared_commitments,
    })
}

/// The commitments the CUR shows, amortised, each group to the cent.
fn commitments_total(a: &Actuals) -> Money {
    a.bill
        .commitments()
        .iter()
        .map(|g| g.cost.round_to_cents())
        .sum()
}

/// The commitments the CUR shows against those the scenario declares.
fn render_commitments(out: &mut String, a: &Actuals, cur: &str) {
    let held = a.bill.commitments();
    if held.is_empty() && a.declared_commitments.is_none() {
        return;
    }
    let _ = writeln!(out, "  commitments in the CUR (amortised, {cur}):");
    let hours = a.bill.month.hours();
    for g in &held {
        let _ = writeln!(
            out,
            "    {} {} {}: {} {} ({:.1} an hour of the month), {} with {} of upfront",
            g.kind.name(),
            g.usage_type,
            if g.region.is_empty() {
                "all"
            } else {
                &g.region
            },
            fmt_qty(g.usage),
            g.unit,
            g.usage / hours,
            g.cost.round_to_cents(),
            g.amortised_upfront.round_to_cents()
        );
    }
    let shown = commitments_total(a);
    match a.declared_commitments {
        Some(d) => {
            let apart = (shown - d).as_f64().abs() / d.as_f64().abs().max(0.01);
            let _ = writeln!(
                out,
                "    declared in the scenario: {d}; in the CUR: {shown}{}",
                if apart > a.tolerance {
                    "  FLAG: the declared commitments do not match the CUR's"
                } else {
                    ""
                }
            );
        }
        None => {
            let _ = writeln!(
                out,
                "    in the CUR: {shown}; the scenario declares none for estate {}",
                a.estate
            );
        }
    }
}

/// The CUR month: its total, by service, its recurring month, and the
/// usage the price book cannot explain.
fn render_actuals(out: &mut String, scenario: &CostScenario, cur: &str) {
    let Some(a) = &scenario.actuals else { return };
    let _ = writeln!(
        out,
        "\nAs billed: {} ({}, {cur}), estate {} against price book {}",
        a.file.display(),
        a.bill.month,
        a.estate,
        a.book
    );
    let mut by_service: BTreeMap<&str, Money> = BTreeMap::new();
    for l in &a.bill.lines {
        *by_service.entry(l.service.as_str()).or_default() += l.cost;
    }
    for (service, amount) in by_service {
        let _ = writeln!(
            out,
            "  {service:<34} {:>14}",
            amount.round_to_cents().to_string()
        );
    }
    let _ = writeln!(out, "  {:<34} {:>14}", "total", a.bill.total().to_string());
    let _ = writeln!(
        out,
        "  {:<34} {:>14}",
        "recurring (upfront amortised, no credits or one-off fees)",
        recurring_total(a).to_string()
    );
    if scenario.model.actual_baseline.is_some() {
        let _ = writeln!(
            out,
            "  the migration's baseline is this recurring month, as billed"
        );
    }
    render_commitments(out, a, cur);
    let flagged: Vec<&Reconciled> = a.reconciled.iter().filter(|r| r.flagged).collect();
    let _ = writeln!(
        out,
        "  usage the price book does not explain (more than {:.1}% apart or no item): {}",
        a.tolerance * 100.0,
        flagged.len()
    );
    for r in flagged {
        let g = &r.group;
        let _ = writeln!(
            out,
            "  FLAG {} {} {}: unexplained {} ({})",
            g.service,
            g.usage_type,
            if g.region.is_empty() {
                "all"
            } else {
                &g.region
            },
            r.unexplained.round_to_cents(),
            r.reason
        );
    }
}

/// The report printed by `cutover cost`.
pub fn render_table(scenario: &CostScenario, analysis: &Analysis) -> String {
    let cur = scenario.model.currency.to_string();
    let mut out = String::new();
    render_header(&mut out, scenario, &cur);
    render_bills(&mut out, &scenario.model, &analysis.projection, &cur);
    render_months(&mut out, &scenario.model, &analysis.projection, &cur);
    render_totals(&mut out, &scenario.model, analysis, &cur);
    render_explained(&mut out, &scenario.model, analysis);
    render_actuals(&mut out, scenario, &cur);
    render_budget(&mut out, &scenario.model, analysis, &cur);
    render_cases(&mut out, analysis, &cur);
    render_tornado(&mut out, analysis, &cur);
    out
}

/// The scenario's name, horizon, rates, and the prices and exchange
/// rates it used.
fn render_header(out: &mut String, scenario: &CostScenario, cur: &str) {
    let m = &scenario.model;
    let _ = writeln!(out, "{}", scenario.name);
    if let Some(d) = &scenario.description {
        let _ = writeln!(out, "  {d}");
    }
    let _ = writeln!(
        out,
        "  {} months from {}, amounts in {cur}; discount rate {:.1}%/year; growth {:.1}%/year",
        m.months,
        m.start,
        m.discount_rate * 100.0,
        m.base.growth_per_year * 100.0
    );
    for b in m.books_used() {
        let _ = writeln!(
            out,
            "  prices: {} ({}, {}, taken {}): {}",
            b.name, b.provider, b.currency, b.taken_on, b.source
        );
    }
    for r in &m.fx {
        let _ = writeln!(
            out,
            "  rate: 1 {} = {} {} ({}, {})",
            r.from,
            Money::from_micros(r.rate_ppm),
            r.to,
            r.taken_on,
            r.source
        );
    }
}

/// The line items of the first month (and of the plan's last month when
/// it is compared with a baseline).
fn render_bills(out: &mut String, m: &CostModel, p: &Projection, cur: &str) {
    let first = m.start;
    let last = m.start.plus(m.months - 1);
    if p.baseline_lines.is_empty() {
        breakdown(out, "Monthly bill by line item", &p.plan_lines, first, cur);
    } else {
        breakdown(
            out,
            "Baseline (staying as is), first month",
            &p.baseline_lines,
            first,
            cur,
        );
        breakdown(
            out,
            "Plan, last month (after the migration)",
            &p.plan_lines,
            last,
            cur,
        );
    }
}

/// The month-by-month table.
fn render_months(out: &mut String, m: &CostModel, p: &Projection, cur: &str) {
    let comparing = !p.baseline_lines.is_empty();
    let _ = writeln!(out, "\nMonth by month ({cur})");
    let estate_names: Vec<String> = m.estates.iter().map(|e| e.name.clone()).collect();
    if comparing {
        let mut head = format!("  {:<8} {:>13}", "month", "baseline");
        for n in &estate_names {
            let _ = write!(head, " {:>13}", format!("plan: {n}"));
        }
        let _ = writeln!(
            out,
            "{head} {:>13} {:>13} {:>14} {:>11}",
            "plan", "savings", "cum. savings", "one-off"
        );
    } else {
        let _ = writeln!(
            out,
            "  {:<8} {:>13} {:>11} {:>11} {:>13} {:>15}",
            "month", "spend", "one-off", "capex", "depreciation", "cumulative"
        );
    }
    for s in &p.months {
        if comparing {
            let mut row = format!(
                "  {:<8} {:>13}",
                s.month.to_string(),
                s.baseline.unwrap_or_default().to_string()
            );
            for n in &estate_names {
                let v = s.by_estate.get(n).copied().unwrap_or_default();
                let _ = write!(row, " {:>13}", v.to_string());
            }
            let _ = writeln!(
                out,
                "{row} {:>13} {:>13} {:>14} {:>11}",
                s.plan.to_string(),
                s.savings.unwrap_or_default().to_string(),
                s.cumulative_savings.unwrap_or_default().to_string(),
                s.one_off.to_string()
            );
        } else {
            let _ = writeln!(
                out,
                "  {:<8} {:>13} {:>11} {:>11} {:>13} {:>15}",
                s.month.to_string(),
                s.plan.to_string(),
                s.one_off.to_string(),
                s.capex.to_string(),
                s.depreciation.to_string(),
                s.cumulative_plan.to_string()
            );
        }
    }
}

/// The totals: each estate as it stands, the saving, spend, savings,
/// dual running and break-even.
fn render_totals(out: &mut String, m: &CostModel, analysis: &Analysis, cur: &str) {
    let p = &analysis.projection;
    let h = &analysis.headline;
    let _ = writeln!(out, "\nTotals");
    for e in &analysis.estates_at_start {
        let _ = writeln!(
            out,
            "  {} as it stands, {}: {} {cur}/month recurring{}",
            e.estate,
            m.start,
            e.monthly,
            paid_once_note(&p.plan_lines, &e.estate, m.start, cur)
        );
    }
    if let Some(a) = analysis.annual_saving_at_start {
        let _ = writeln!(
            out,
            "  saving once moved, at {} usage and prices, a year: {}",
            m.start,
            fmt::saving(a, cur)
        );
    }
    let _ = writeln!(
        out,
        "  spend over {} months: {} {cur} (NPV {} {cur})",
        m.months, h.plan_total, h.plan_npv
    );
    if let (Some(b), Some(s), Some(npv)) = (h.baseline_total, h.savings_total, h.savings_npv) {
        let _ = writeln!(out, "  baseline over {} months: {} {cur}", m.months, b);
        let _ = writeln!(
            out,
            "  savings: {}; NPV of savings: {}",
            fmt::saving(s, cur),
            fmt::saving(npv, cur)
        );
        if let (Some(n), Some(d)) = (h.dual_running_months, h.dual_running_new_side) {
            let _ = writeln!(
                out,
                "  dual running: both sides billed in {n} months; the new side's spend in them: {d} {cur}"
            );
        }
        if let Some(d) = h.extra_over_baseline {
            let _ = writeln!(
                out,
                "  paid above staying as is, in the months the plan costs more: {d} {cur}"
            );
        }
        match h.break_even {
            Some(be) => {
                let n = cutover_models::cost::bill::months_between(m.start, be) + 1;
                let _ = writeln!(out, "  break-even: {be} (month {n} of the horizon)");
            }
            None => {
                let _ = writeln!(out, "  break-even: not within the horizon");
            }
        }
        if let Some(r) = h.annual_savings_run_rate {
            let _ = writeln!(
                out,
                "  savings run rate after the move, a year (last month x 12): {}",
                fmt::saving(r, cur)
            );
        }
    }
}

/// Stated bill lines against what the prices explain.
fn render_explained(out: &mut String, m: &CostModel, analysis: &Analysis) {
    if !analysis.explained.is_empty() {
        let _ = writeln!(out, "\nStated bill lines against the prices (first month, flagged when more than {:.0}% apart)", m.stated_tolerance * 100.0);
        for e in &analysis.explained {
            let _ = writeln!(
                out,
                "  {} {:<28} stated {:>11}  priced {:>11}  unexplained {:>11}{}",
                e.estate,
                e.line,
                e.stated.to_string(),
                e.priced.to_string(),
                e.unexplained.to_string(),
                if e.flagged {
                    "  FLAG: the prices do not explain this line"
                } else {
                    ""
                }
            );
        }
    }
}

/// The budget and its overruns.
fn render_budget(out: &mut String, m: &CostModel, analysis: &Analysis, cur: &str) {
    if m.budget != Default::default() {
        let _ = writeln!(out, "\nBudget");
        if analysis.overruns.is_empty() {
            let _ = writeln!(out, "  within budget");
        }
        for o in &analysis.overruns {
            let when = o.month.map_or("horizon".to_string(), |m| m.to_string());
            let driver = if o.driver.is_empty() || o.driver == o.line {
                String::new()
            } else {
                format!("; driven by {}", o.driver)
            };
            let _ = writeln!(
                out,
                "  OVERRUN {when}: {} spend {} > budget {} by {} {cur}{driver}",
                o.line, o.spend, o.budget, o.excess
            );
        }
    }
}

/// The cases' headline figures.
fn render_cases(out: &mut String, analysis: &Analysis, cur: &str) {
    if !analysis.cases.is_empty() {
        let _ = writeln!(out, "\nCases ({cur})");
        let _ = writeln!(
            out,
            "  {:<14} {:>15} {:>15} {:>15} {:>11}",
            "case", "spend", "savings", "NPV savings", "break-even"
        );
        for c in &analysis.cases {
            let ch = &c.headline;
            let _ = writeln!(
                out,
                "  {:<14} {:>15} {:>15} {:>15} {:>11}",
                c.name,
                ch.plan_total.to_string(),
                ch.savings_total.map_or("-".into(), |v| v.to_string()),
                ch.savings_npv.map_or("-".into(), |v| v.to_string()),
                ch.break_even.map_or("-".into(), |v| v.to_string())
            );
        }
    }
}

/// The sensitivity table, largest swing first.
fn render_tornado(out: &mut String, analysis: &Analysis, cur: &str) {
    if !analysis.tornado.is_empty() {
        let _ = writeln!(
            out,
            "\nSensitivity of the {} ({cur}), largest swing first",
            analysis.tornado_metric
        );
        let _ = writeln!(
            out,
            "  {:<34} {:>26} {:>15} {:>15} {:>14}",
            "input", "low / high", "low", "high", "swing"
        );
        for r in analysis.tornado.iter().take(10) {
            let _ = writeln!(
                out,
                "  {:<34} {:>26} {:>15} {:>15} {:>14}",
                r.input,
                r.range,
                r.low.to_string(),
                r.high.to_string(),
                r.swing.to_string()
            );
        }
    }
}
