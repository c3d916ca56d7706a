//! What was really paid: the bundled CUR month of the story's cloud estate
//! (`scenarios/bills/2026-11.csv`) read, totalled to the cent and
//! reconciled with the hyperscaler book; every class of bad CUR input
//! refused with its file, line, column and column name; commitments
//! (upfront reservations, savings plans) read from a cost scenario and
//! amortised; the CUR's recurring month as a migration's baseline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cutover::scenario::cost::CostScenario;
use cutover::scenario::cur;
use cutover::scenario::InputError;
use cutover_models::cost::cur::LineItemType;
use cutover_models::cost::{Currency, Money};

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn cost(file: &Path, out: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cutover"));
    cmd.arg("cost").arg(file);
    if let Some(out) = out {
        cmd.arg("--out").arg(out);
    }
    cmd.output().unwrap()
}

/// Micro-units of a decimal written with any number of decimals, rounded
/// half away from zero at the millionth: read digit by digit, apart from
/// the loader's own parsing.
fn micros(text: &str) -> i64 {
    let (neg, t) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let mut digits: Vec<u8> = frac.bytes().map(|b| b - b'0').collect();
    digits.resize(7, 0);
    let mut v = int.parse::<i64>().unwrap_or(0) * 1_000_000;
    for (k, d) in digits[..6].iter().enumerate() {
        v += i64::from(*d) * 10i64.pow(5 - k as u32);
    }
    v += i64::from(digits[6] >= 5);
    if neg {
        -v
    } else {
        v
    }
}

/// The sample's rows as maps of column to cell.
fn sample_rows() -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(scenarios().join("bills/2026-11.csv")).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

#[test]
fn the_sample_cur_reproduces_its_monthly_total_to_the_cent() {
    let path = scenarios().join("bills/2026-11.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let bill = cur::parse(&path, &text, Currency::USD, &|_| None).unwrap();
    let rows = sample_rows();
    assert_eq!(bill.lines.len(), rows.len());
    let sum: i64 = rows
        .iter()
        .map(|r| micros(&r["lineItem/UnblendedCost"]))
        .sum();
    assert_eq!(bill.total(), Money::from_micros(sum).round_to_cents());
    // Every type the brief names is in the sample.
    for t in [
        "Usage",
        "DiscountedUsage",
        "SavingsPlanCoveredUsage",
        "SavingsPlanNegation",
        "SavingsPlanRecurringFee",
        "RIFee",
        "Tax",
        "Credit",
    ] {
        assert!(bill.lines.iter().any(|l| l.kind.name() == t), "no {t} row");
    }
    // The savings plan's covered usage and its negation cancel.
    let of = |k: LineItemType| -> Money {
        bill.lines
            .iter()
            .filter(|l| l.kind == k)
            .map(|l| l.cost)
            .sum()
    };
    assert_eq!(
        of(LineItemType::SavingsPlanCoveredUsage) + of(LineItemType::SavingsPlanNegation),
        Money::ZERO
    );
}

#[test]
fn the_sample_reconciles_with_the_book_and_names_what_it_cannot_explain() {
    let scenario = CostScenario::load(&scenarios().join("cost-actuals.toml")).unwrap();
    let a = scenario.actuals.as_ref().unwrap();
    assert_eq!(
        (a.estate.as_str(), a.book.as_str()),
        ("cloud", "hyperscaler")
    );
    let book = &scenario.model.books["hyperscaler"];
    // Each explained group: its usage times the book's on-demand price,
    // which for a flat item is what the sample billed.
    for r in a.reconciled.iter().filter(|r| !r.flagged) {
        let item = &book.skus[r.sku.as_deref().unwrap()];
        if item.on_demand.len() == 1 && r.group.kind == LineItemType::Usage {
            let want = item.on_demand[0]
                .price
                .times(r.group.usage)
                .round_to_cents();
            assert_eq!(r.priced, Some(want), "{:?}", r.group);
            assert_eq!(r.billed.round_to_cents(), want, "{:?}", r.group);
        }
    }
    // What the book cannot explain: Hong Kong's own instance price and the
    // EBS volumes it has no item for, nothing else.
    let mut flagged: Vec<(&str, &str)> = a
        .reconciled
        .iter()
        .filter(|r| r.flagged)
        .map(|r| (r.group.usage_type.as_str(), r.group.region.as_str()))
        .collect();
    flagged.sort();
    assert_eq!(
        flagged,
        [
            ("APE1-BoxUsage:m5.2xlarge", "ap-east-1"),
            ("EBS:VolumeUsage.gp3", "us-east-1")
        ]
    );
    // Every cent is accounted for: priced + unexplained = billed, and the
    // rows that are not usage make up the rest of the total.
    let usage: Money = a
        .reconciled
        .iter()
        .map(|r| r.priced.unwrap_or(Money::ZERO) + r.unexplained)
        .sum();
    let rest: Money = a
        .bill
        .lines
        .iter()
        .filter(|l| !l.kind.is_usage())
        .map(|l| l.cost)
        .sum();
    assert_eq!((usage + rest).round_to_cents(), a.bill.total());
    // The reservation and savings plan the scenario declares cost, in the
    // CUR's month, what the CUR shows for them: 5 x 720 h x 0.132 = 475.20
    // and 5 x 1,200 / 12 = 500.00 for the reservation, 720 h x 2.00 =
    // 1,440.00 for the plan.
    let shown: Money = a.bill.commitments().iter().map(|g| g.cost).sum();
    assert_eq!(shown, Money::parse_amount("2415.20").unwrap());
    assert_eq!(a.declared_commitments, Some(shown));
}

#[test]
fn commitments_the_scenario_does_not_declare_are_seen_in_the_cur() {
    // Only the savings plan declared: the CUR's reservation is not.
    let s = scenario_with(
        "\n[[estate]]\nname = \"cloud\"\n\n[[estate.savings_plan]]\nname = \"sp\"\ntype = \"compute\"\nhourly = \"2 USD\"\nterm = \"1y\"\nstarts = \"2026-08-01\"\n\n[actuals]\ncur = \"bills/2026-11.csv\"\n",
    )
    .unwrap();
    let a = s.actuals.as_ref().unwrap();
    assert_eq!(
        a.declared_commitments,
        Some(Money::parse_amount("1440").unwrap())
    );
    // Without a migration the CUR is reconciled but is no baseline.
    assert!(s.model.actual_baseline.is_none());
    let none = scenario_with("\n[actuals]\ncur = \"bills/2026-11.csv\"\n").unwrap();
    assert_eq!(none.actuals.unwrap().declared_commitments, None);
}

#[test]
fn the_cur_month_is_the_migrations_baseline_and_the_report_lists_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = cost(&scenarios().join("cost-actuals.toml"), Some(&out_dir));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("FLAG AmazonEC2 EBS:VolumeUsage.gp3 us-east-1"),
        "{stdout}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap())
            .unwrap();
    let actuals = &summary["actuals"];
    assert_eq!(actuals["used_as_baseline"], true);
    assert_eq!(actuals["commitments"], actuals["declared_commitments"]);
    assert_eq!(actuals["unexplained"].as_array().unwrap().len(), 2);
    // Each month's baseline is the CUR's recurring month (the credit left
    // out, the reservation's upfront share in): the total, less the
    // credit, plus the RIFee rows' amortised upfront.
    let rows = sample_rows();
    let credit: i64 = rows
        .iter()
        .filter(|r| r["lineItem/LineItemType"] == "Credit")
        .map(|r| micros(&r["lineItem/UnblendedCost"]))
        .sum();
    let upfront: i64 = rows
        .iter()
        .map(|r| micros(&r["reservation/AmortizedUpfrontFeeForBillingPeriod"]))
        .sum();
    let total = micros(actuals["total"].as_str().unwrap());
    let want = Money::from_micros(total - credit + upfront);
    let recurring = Money::from_micros(micros(actuals["recurring"].as_str().unwrap()));
    // Each group is rounded to the cent on its own: within a cent a group.
    let groups = csv::Reader::from_path(out_dir.join("actuals.csv"))
        .unwrap()
        .records()
        .count();
    assert!(
        (recurring - want).micros().abs() <= 10_000 * (groups as i64 + 4),
        "{recurring} against {want}"
    );
    for m in summary["by_month"].as_array().unwrap() {
        let b = Money::from_micros(micros(m["baseline"].as_str().unwrap()));
        assert_eq!(b, recurring);
    }
    let csv = std::fs::read_to_string(out_dir.join("actuals.csv")).unwrap();
    assert!(
        csv.starts_with("service,usage_type,region,line_item_type"),
        "{csv}"
    );
}

/// A CUR that differs from the sample by `edit` on its line `line`
/// (1-based, the header is line 1), parsed in USD.
fn edited(line: usize, edit: impl Fn(&str) -> String) -> Result<(), String> {
    let path = scenarios().join("bills/2026-11.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let text: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == line {
                edit(l)
            } else {
                l.to_string()
            }
        })
        .collect();
    let text = text.join("\n") + "\n";
    match cur::parse(Path::new("bill.csv"), &text, Currency::USD, &|_| None) {
        Ok(_) => Ok(()),
        Err(InputError::Field(e)) => Err(e.to_string()),
        Err(e) => Err(format!("unlocated: {e}")),
    }
}

#[test]
fn each_class_of_bad_cur_input_is_located_never_a_panic() {
    // A missing column: the header names what is needed.
    let err = edited(1, |l| l.replace("lineItem/UnblendedCost", "lineItem/Cost")).unwrap_err();
    assert!(err.starts_with("bill.csv:1:1: "), "{err}");
    assert!(
        err.contains("no `lineItem/UnblendedCost` column") && err.contains("allowed"),
        "{err}"
    );
    // Another currency on row 3 (the line's 13th cell).
    let err = edited(3, |l| l.replace(",USD,", ",EUR,")).unwrap_err();
    assert!(err.starts_with("bill.csv:3:"), "{err}");
    assert!(
        err.contains("field `lineItem/CurrencyCode`: `EUR`; allowed: USD"),
        "{err}"
    );
    let col: usize = err.split(':').nth(2).unwrap().parse().unwrap();
    let line3 = std::fs::read_to_string(scenarios().join("bills/2026-11.csv")).unwrap();
    let line3 = line3.lines().nth(2).unwrap();
    assert_eq!(
        &line3[col - 1..col + 2],
        "USD",
        "the column points at the cell"
    );
    // An unknown line item type.
    let err = edited(4, |l| l.replace(",Usage,", ",Usages,")).unwrap_err();
    assert!(err.starts_with("bill.csv:4:"), "{err}");
    assert!(
        err.contains("field `lineItem/LineItemType`: unknown line item type `Usages`; allowed: Usage, DiscountedUsage"),
        "{err}"
    );
    // An unparsable date.
    let err = edited(5, |l| {
        l.replace(",Usage,2026-11-01T00:00:00Z,", ",Usage,yesterday,")
    })
    .unwrap_err();
    assert!(
        err.contains("bill.csv:5:") && err.contains("`lineItem/UsageStartDate`"),
        "{err}"
    );
    assert!(err.contains("`yesterday` is not a date; allowed"), "{err}");
    // A month mixed into another's file: October's row in November's bill.
    let err = edited(6, |l| {
        l.replace("2026-11-01T00:00:00Z", "2026-10-01T00:00:00Z")
    })
    .unwrap_err();
    assert!(
        err.contains("bill.csv:6:") && err.contains("field `bill/BillingPeriodStartDate`"),
        "{err}"
    );
    assert!(
        err.contains("a row of the 2026-10 bill in the file of 2026-11"),
        "{err}"
    );
    // Usage dated outside the billing period.
    let err = edited(6, |l| {
        l.replacen(",Usage,2026-11-01", ",Usage,2026-12-01", 1)
    })
    .unwrap_err();
    assert!(
        err.contains("usage of 2026-12 in the bill of 2026-11"),
        "{err}"
    );
    // Not a number, not an amount, a ragged row.
    let err = edited(5, |l| l.replace(",7200,", ",7k,")).unwrap_err();
    assert!(
        err.contains("field `lineItem/UsageAmount`: `7k` is not a number"),
        "{err}"
    );
    let err = edited(5, |l| l.replace(",2764.800,", ",27,64.800,")).unwrap_err();
    assert!(err.starts_with("bill.csv:5:1: not a CSV row"), "{err}");
    let err = edited(5, |l| l.replace(",2764.800,", ",2764.8.00,")).unwrap_err();
    assert!(
        err.contains("`lineItem/UnblendedCost`: `2764.8.00` is not an amount"),
        "{err}"
    );
    // The sample itself passes.
    edited(0, str::to_string).unwrap();
}

/// A cost scenario on the bundled story migration with `extra` appended
/// (an `[[estate]]` addition or an `[actuals]` table), written beside the
/// bundled files so its paths resolve.
fn scenario_with(extra: &str) -> Result<CostScenario, String> {
    let text = format!(
        r#"[scenario]
name = "t"

[cost]
estate = "story/estate.toml"
start = "2027-01-01"
months = 40
discount_rate = "0%"
{extra}"#
    );
    let src = cutover::scenario::Source::from_text(&scenarios().join("t.toml"), text);
    CostScenario::from_source(&src).map_err(|e| e.to_string())
}

/// What the estate `cloud` pays in `month` (e.g. `2027-03`) at site ny1,
/// line `line`.
fn paid(s: &CostScenario, month: &str, line: &str) -> Money {
    let p = s.model.project(&s.model.base, None).unwrap();
    p.plan_lines
        .iter()
        .filter(|l| l.month.to_string() == month && l.site == "ny1" && l.line == line)
        .map(|l| l.amount)
        .sum()
}

#[test]
fn a_three_year_all_upfront_reservation_is_a_thousand_a_month_for_36_months() {
    let base = scenario_with("").unwrap();
    // 36,000 USD for three reservations over 36 months: each of the 36
    // months pays 1,000.00 upfront share and nothing recurring for them;
    // the reserved nodes leave the on-demand line (15 -> 12 nodes).
    let s = scenario_with(
        r#"
[[estate]]
name = "cloud"

[[estate.line]]
sku = "m5.2xlarge"
sites = ["ny1"]
count = 3
commitment = "reserved-3y"
upfront = "all"
upfront_fee = "12000 USD"
term_starts = "2027-01-01"
"#,
    )
    .unwrap();
    let od = |s: &CostScenario, m: &str| paid(s, m, "compute");
    let hour = Money::parse_amount("0.384").unwrap();
    for (m, hours) in [("2027-01", 744.0), ("2028-02", 696.0), ("2029-12", 744.0)] {
        let three_on_demand = hour.times(3.0 * hours).round_to_cents();
        assert_eq!(
            od(&s, m),
            od(&base, m) - three_on_demand + Money::parse_amount("1000").unwrap(),
            "{m}"
        );
    }
    // After the term the three are on demand again.
    assert_eq!(od(&s, "2030-01"), od(&base, "2030-01"));
}

#[test]
fn a_partial_upfront_reservation_splits_as_its_terms_say() {
    // 1 year, 2 reservations, 600 USD each upfront and 0.20 USD an hour:
    // 1,200 / 12 = 100.00 a month, plus 2 x 744 h x 0.20 = 297.60 in a
    // 31-day month, in place of 2 nodes on demand (2 x 744 x 0.384 = 571.39).
    let base = scenario_with("").unwrap();
    let s = scenario_with(
        r#"
[[estate]]
name = "cloud"

[[estate.line]]
sku = "m5.2xlarge"
sites = ["ny1"]
count = 2
commitment = "reserved-1y"
upfront = "partial"
upfront_fee = "600 USD"
hourly = "0.20 USD"
term_starts = "2027-01-01"
"#,
    )
    .unwrap();
    let m = |v: &str| Money::parse_amount(v).unwrap();
    let got = paid(&s, "2027-01", "compute");
    assert_eq!(
        got,
        paid(&base, "2027-01", "compute") - m("571.39") + m("100") + m("297.60")
    );
    // The term ends on 2028-01-01: January 2028 is on demand again.
    assert_eq!(
        paid(&s, "2028-01", "compute"),
        paid(&base, "2028-01", "compute")
    );
}

#[test]
fn bad_commitments_are_located_with_what_is_allowed() {
    let line = |body: &str| {
        format!("\n[[estate]]\nname = \"cloud\"\n\n[[estate.line]]\nsku = \"m5.2xlarge\"\nsites = [\"ny1\"]\ncount = 1\n{body}\n")
    };
    let cases = [
        (
            line("commitment = \"reserved-1y\"\nupfront = \"some\""),
            "field `estate[0].line[0].upfront`: unknown payment `some`; allowed: none, partial, all",
        ),
        (
            line("upfront = \"all\"\nupfront_fee = \"1 USD\"\nterm_starts = \"2027-01-01\""),
            "only reserved lines are paid upfront",
        ),
        (
            line("commitment = \"reserved-1y\"\nupfront = \"partial\"\nupfront_fee = \"1 USD\"\nterm_starts = \"2027-01-01\""),
            "field `estate[0].line[0].hourly`: a partial upfront reservation needs `hourly`",
        ),
        (
            line("commitment = \"reserved-1y\"\nhourly = \"1 USD\""),
            "field `estate[0].line[0].hourly`: only a reservation bought with `upfront",
        ),
        (
            "\n[[estate]]\nname = \"cloud\"\n\n[[estate.savings_plan]]\nname = \"sp\"\ntype = \"ec2-instance\"\nhourly = \"1 USD\"\nterm = \"1y\"\nstarts = \"2027-01-01\"\n".to_string(),
            "field `estate[0].savings_plan[0].family`: an ec2-instance plan names its instance family",
        ),
        (
            "\n[[estate]]\nname = \"cloud\"\n\n[[estate.savings_plan]]\nname = \"sp\"\ntype = \"compute\"\nhourly = \"1 USD\"\nterm = \"2y\"\nstarts = \"2027-01-01\"\n".to_string(),
            "field `estate[0].savings_plan[0].term`: unknown term `2y`; allowed: 1y, 3y",
        ),
        (
            "\n[[estate]]\nname = \"cloud\"\n\n[[estate.savings_plan]]\nname = \"sp\"\ntype = \"compute\"\nhourly = \"1 USD\"\nterm = \"1y\"\nupfront = \"partial\"\nupfront_fee = \"9000 USD\"\nstarts = \"2027-01-01\"\n".to_string(),
            "allowed: above zero and below the term's commitment, 8,760.00 USD",
        ),
    ];
    for (extra, want) in cases {
        let err = scenario_with(&extra).unwrap_err();
        assert!(
            err.contains("t.toml:") && err.contains(want),
            "{err}\nwanted: {want}"
        );
    }
}

#[test]
fn a_savings_plan_in_a_scenario_covers_the_fleet_and_is_paid_when_unused() {
    // A $10/h compute plan on the nine regions' 135 on-demand nodes: in
    // January (744 h) it commits 7,440.00; at the 1-year rate 0.2688 it
    // covers 27,678.57 h, whose on-demand cost (0.384 an hour, 10,628.57)
    // is taken back: 3,188.57 saved.
    let plan = "\n[[estate]]\nname = \"cloud\"\n\n[[estate.savings_plan]]\nname = \"sp\"\ntype = \"ec2-instance\"\nfamily = \"m5\"\nhourly = \"10 USD\"\nterm = \"1y\"\nstarts = \"2027-01-01\"\n";
    let base = scenario_with("").unwrap();
    let s = scenario_with(plan).unwrap();
    let month = |s: &CostScenario, m: &str| -> Money {
        let p = s.model.project(&s.model.base, None).unwrap();
        p.plan_lines
            .iter()
            .filter(|l| l.month.to_string() == m)
            .map(|l| l.amount)
            .sum()
    };
    let saved = month(&base, "2027-01") - month(&s, "2027-01");
    assert!(
        (saved - Money::parse_amount("3188.57").unwrap())
            .micros()
            .abs()
            <= 20_000,
        "{saved}"
    );
    // The plan's term ends 2028-01-01: from then on the bill is the base's.
    assert_eq!(month(&s, "2028-01"), month(&base, "2028-01"));
}

#[test]
fn actuals_errors_point_into_the_scenario() {
    let err = scenario_with("\n[actuals]\ncur = \"bills/none.csv\"\n").unwrap_err();
    assert!(
        err.contains("field `actuals.cur`: cannot read the CUR"),
        "{err}"
    );
    let err = scenario_with("\n[actuals]\ncur = \"bills/2026-11.csv\"\nestate = \"metal\"\n")
        .unwrap_err();
    assert!(
        err.contains("field `actuals.estate`: no estate `metal`"),
        "{err}"
    );
    let err = scenario_with(
        "\n[actuals]\ncur = \"bills/2026-11.csv\"\nitems = { \"NatGateway-Hours\" = \"nat\" }\n",
    )
    .unwrap_err();
    assert!(
        err.contains("field `actuals.items.NatGateway-Hours`: unknown item `nat`"),
        "{err}"
    );
    // A usage row whose unit does not fit the item it is billed as: located
    // in the CUR, at the row and its `pricing/unit` cell.
    let err = scenario_with(
        "\n[actuals]\ncur = \"bills/2026-11.csv\"\nitems = { \"NatGateway-Bytes\" = \"nat-gateway-hour\" }\n",
    )
    .unwrap_err();
    assert!(err.contains("2026-11.csv:"), "{err}");
    assert!(
        err.contains("field `pricing/unit`: `GB` for usage type `NatGateway-Bytes`, billed as item `nat-gateway-hour` priced per hour; allowed: Hrs"),
        "{err}"
    );
}

#[test]
fn the_billed_baseline_grows_with_the_usage_it_paid_for() {
    // cost-actuals.toml at 12 % a year: a year on, each baseline line is
    // 1.12 times what was billed (each line rounded to the cent).
    let text = std::fs::read_to_string(scenarios().join("cost-actuals.toml"))
        .unwrap()
        .replace("growth_per_year = \"0%\"", "growth_per_year = \"12%\"");
    let src = cutover::scenario::Source::from_text(&scenarios().join("t.toml"), text);
    let s = CostScenario::from_source(&src).unwrap();
    let p = s.model.project(&s.model.base, None).unwrap();
    let lines = s.model.actual_baseline.as_ref().unwrap();
    let first = p.months[0].baseline.unwrap();
    assert_eq!(first, lines.iter().map(|l| l.amount).sum::<Money>());
    let grown: Money = lines
        .iter()
        .map(|l| l.amount.times(1.12).round_to_cents())
        .sum();
    assert_eq!(p.months[12].baseline, Some(grown));
    assert!(grown > first.times(1.119) && grown < first.times(1.121));
}
