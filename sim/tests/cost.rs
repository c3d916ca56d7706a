//! `cutover cost` on the bundled scenarios: the story's orders of magnitude
//! come out of quantities and prices, every total is the sum of its
//! `cost.csv` lines to the cent, and bad price books and scenarios get
//! located errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name)
}

fn cost(file: &Path, out: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cutover"));
    cmd.arg("cost").arg(file);
    if let Some(out) = out {
        cmd.arg("--out").arg(out);
    }
    cmd.output().unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Cents of a decimal string such as "-1234.5" or "0.07".
fn cents(text: &str) -> i64 {
    let (neg, t) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    assert!(frac.len() <= 2, "amount `{text}` is not whole cents");
    let frac = format!("{frac:0<2}");
    let v = int.parse::<i64>().unwrap() * 100 + frac.parse::<i64>().unwrap();
    if neg {
        -v
    } else {
        v
    }
}

fn money(v: &serde_json::Value) -> i64 {
    cents(v.as_str().unwrap_or_else(|| panic!("not money: {v}")))
}

struct Run {
    stdout: String,
    summary: serde_json::Value,
    rows: Vec<csv::StringRecord>,
}

fn run(name: &str, dir: &Path) -> Run {
    let out = dir.join(name);
    let stdout = ok(&cost(&scenario(name), Some(&out)));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let mut reader = csv::Reader::from_path(out.join("cost.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    assert_eq!(
        header.iter().collect::<Vec<_>>(),
        cutover::report::cost::CSV_HEADER.to_vec()
    );
    let rows = reader.records().map(Result::unwrap).collect();
    assert!(std::fs::read_to_string(out.join("cost.svg"))
        .unwrap()
        .starts_with("<svg"));
    assert_eq!(
        out.join("savings.svg").exists(),
        name.contains("migration"),
        "savings.svg is written for a comparison only"
    );
    Run {
        stdout,
        summary,
        rows,
    }
}

/// Sum of the `amount` column of rows of `scenario` (plan or baseline), in
/// cents, and of the rows of one month.
fn csv_sum(rows: &[csv::StringRecord], scenario: &str, month: Option<&str>) -> i64 {
    rows.iter()
        .filter(|r| &r[0] == scenario && (month.is_none() || month == Some(&r[1])))
        .map(|r| cents(&r[11]))
        .sum()
}

#[test]
fn every_line_is_quantity_times_unit_price_and_totals_are_sums_of_lines() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "cost-cloud.toml",
        "cost-baremetal.toml",
        "cost-migration.toml",
    ] {
        let r = run(name, dir.path());
        let h = &r.summary["headline"];
        assert_eq!(
            csv_sum(&r.rows, "plan", None),
            money(&h["plan_total"]),
            "{name}"
        );
        assert_eq!(r.summary["check"]["equal"], true, "{name}");
        if let Some(b) = h["baseline_total"].as_str() {
            assert_eq!(csv_sum(&r.rows, "baseline", None), cents(b), "{name}");
        }
        for m in r.summary["by_month"].as_array().unwrap() {
            let month = m["month"].as_str().unwrap();
            assert_eq!(
                csv_sum(&r.rows, "plan", Some(month)),
                money(&m["plan"]),
                "{name} {month}"
            );
        }
        for row in &r.rows {
            let q: f64 = row[8].parse().unwrap();
            let price: f64 = row[10].parse().unwrap();
            let amount = cents(&row[11]) as f64 / 100.0;
            assert!(
                (q * price - amount).abs() <= 0.005 + 1e-9 * amount.abs(),
                "{name}: {row:?}"
            );
        }
    }
}

#[test]
fn the_story_estates_land_near_the_story_bills() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = run("cost-cloud.toml", dir.path());
    let first = money(&cloud.summary["by_month"][0]["plan"]);
    assert!(
        (7_500_000..=8_500_000).contains(&first),
        "cloud month 1: {first} cents"
    );
    // The stated managed-Kubernetes bill ($5k) is far above nine clusters'
    // control-plane price (9 x 744 h x $0.10 = $669.60): flagged.
    let k8s = cloud.summary["stated_lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["line"] == "managed Kubernetes")
        .unwrap();
    assert_eq!(money(&k8s["priced"]), 66_960);
    assert_eq!(k8s["flagged"], true);
    assert!(cloud
        .stdout
        .lines()
        .any(|l| l.contains("managed Kubernetes") && l.contains("FLAG")));
    let compute = cloud.summary["stated_lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["line"] == "compute")
        .unwrap();
    assert_eq!(compute["flagged"], false);

    let metal = run("cost-baremetal.toml", dir.path());
    let first = money(&metal.summary["by_month"][0]["plan"]);
    assert!(
        (400_000..=600_000).contains(&first),
        "bare metal month 1: {first} cents"
    );
}

#[test]
fn the_migration_reports_dual_running_break_even_npv_and_overruns() {
    let dir = tempfile::tempdir().unwrap();
    let r = run("cost-migration.toml", dir.path());
    let h = &r.summary["headline"];
    for b in r.summary["pricebooks"].as_array().unwrap() {
        let name = b["name"].as_str().unwrap();
        assert!(
            b["file"]
                .as_str()
                .unwrap()
                .ends_with(&format!("{name}.toml")),
            "{b}"
        );
    }
    let saving = money(&r.summary["annual_saving_at_start"]);
    assert!(
        (85_000_000..=95_000_000).contains(&saving),
        "saving once moved: {saving} cents a year (story: ~$900k)"
    );
    assert!(h["dual_running_months"].as_u64().unwrap() >= 2);
    assert!(money(&h["dual_running_new_side"]) > 0);
    assert!(money(&h["savings_npv"]) > 0);
    let be = h["break_even"].as_str().unwrap();
    assert!(be > "2027-01" && be < "2028-01", "break-even {be}");
    // The first month both sides are paid costs more than staying as is.
    let feb = &r.summary["by_month"][1];
    assert!(money(&feb["savings"]) < 0);
    // The bundled budget holds on schedule.
    assert_eq!(r.summary["budget_overruns"], serde_json::json!([]));
    assert!(r.stdout.contains("verdict: PASS (within budget)"));
    // Cases are ordered as their names say, on NPV of savings.
    let case = |n: &str| {
        r.summary["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .map(|c| money(&c["headline"]["savings_npv"]))
            .unwrap()
    };
    assert!(case("optimistic") > case("base") && case("base") > case("pessimistic"));
    // The tornado table is sorted by swing.
    let swings: Vec<i64> = r.summary["tornado"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| money(&t["swing"]))
        .collect();
    assert!(swings.windows(2).all(|w| w[0] >= w[1]), "{swings:?}");
}

/// `cost-migration.toml` with its budgets set to `monthly` a month and
/// `setup` of setup fees a month, written into `dir` (its fleet read from
/// `scenarios/story/`).
fn migration_with_budget(dir: &Path, monthly: &str, setup: &str) -> PathBuf {
    let text = std::fs::read_to_string(scenario("cost-migration.toml"))
        .unwrap()
        .replace(
            "monthly = \"85000 USD\"",
            &format!("monthly = \"{monthly}\""),
        )
        .replace(
            "\"setup fees\" = \"2000 USD\"",
            &format!("\"setup fees\" = \"{setup}\""),
        )
        .replace("\"story/", &format!("\"{}/story/", scenario("").display()));
    assert!(text.contains(monthly) && text.contains(setup));
    let file = dir.join("cost-migration-tight.toml");
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn a_cost_run_over_budget_exits_one_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let file = migration_with_budget(dir.path(), "81000 USD", "1500 USD");
    let out = dir.path().join("out");
    let output = cost(&file, Some(&out));
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("verdict: FAIL (over budget: 3 overruns; first 2027-01 total: 81,796.89 > 81,000.00 USD)"),
        "{stdout}"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    // The monthly budget is exceeded while both sides run, and each
    // overrun names its month and the line item driving it.
    let overruns = summary["budget_overruns"].as_array().unwrap();
    let total = overruns
        .iter()
        .find(|o| o["line"] == "total" && o["month"] == "2027-02")
        .expect("a total overrun in the first full month of dual running");
    assert!(
        total["driver"]
            .as_str()
            .unwrap()
            .contains("migration labour"),
        "{total}"
    );
    assert!(overruns
        .iter()
        .all(|o| o["month"].is_string() && money(&o["excess"]) > 0));
    assert!(overruns
        .iter()
        .any(|o| o["line"] == "setup fees" && o["month"] == "2027-02"));
    assert!(stdout.contains("OVERRUN 2027-02: total"));
    // Bad input is still 2, not 1.
    assert_eq!(
        cost(&dir.path().join("missing.toml"), None).status.code(),
        Some(2)
    );
}

#[test]
fn the_price_of_capex_moves_the_colocation_npv() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("colo");
    let stdout = ok(&cost(&scenario("cost-colocation.toml"), Some(&out)));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let row = summary["tornado"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["input"] == "price: capex")
        .expect("a sensitivity row for capex");
    // 288,000 of servers bought in the first month, +-20 %: the NPV of the
    // spend moves by about 2 x 57,600 discounted by one month.
    let swing = money(&row["swing"]);
    assert!(
        (11_400_000..=11_520_000).contains(&swing),
        "capex swing {swing} cents\n{stdout}"
    );
}

#[test]
fn the_same_scenario_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    ok(&cost(&scenario("cost-migration.toml"), Some(&a)));
    ok(&cost(&scenario("cost-migration.toml"), Some(&b)));
    for f in ["cost.csv", "summary.json", "cost.svg", "savings.svg"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
}

const BOOK: &str = r#"[book]
name = "tiny"
provider = "Tiny"
currency = "USD"
taken_on = "2026-11-01"
source = "test"

[[sku]]
id = "vm"
line = "compute"
unit = "hour"
billing = "hourly"
on_demand = "0.10 USD"
source = "test"
taken_on = "2026-11-01"
"#;

/// An estate of one site, ny1, on two bare-metal servers, priced by the
/// profile `e` of book `book` (its `[[costs.profiles]]` table is `profile`).
fn estate(book: &str, profile: &str) -> String {
    format!(
        r#"[estate]
name = "tiny"

[network]

[network.generate]
tier1 = 2
tier2_per_region = 1
access_per_city = 1

[deployment]
replicas = 1
cpu_request = "1"
cpu_per_request = "10ms"
concurrency = 1
queue_limit = 1
timeout = "1s"

[hpa]
max_replicas = 1
target_cpu_utilization = 70

[nodes]
kind = "bare-metal"
count = 2
allocatable_cpu = "4"

[[sites]]
tag = "ny1"

[[populations]]
city = "nyc"

[costs]
currency = "USD"
pricebooks = ["book.toml"]
prices_on = "2027-01-01"
defaults = {{ bare-metal = "e" }}

[[costs.profiles]]
name = "e"
book = "{book}"
{profile}
"#
    )
}

/// The tiny estate: its two servers priced as `vm`.
fn tiny_estate() -> String {
    estate("tiny", "nodes = \"vm\"")
}

const SCENARIO: &str = r#"[scenario]
name = "tiny"

[cost]
estate = "estate.toml"
start = "2027-01-01"
months = 2
discount_rate = "8%"
"#;

/// Writes `book`, `estate` and `scenario` into a folder and runs the
/// projection, which must be refused; returns what it said.
fn err_of(book: &str, estate: &str, scenario: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("book.toml"), book).unwrap();
    std::fs::write(dir.path().join("estate.toml"), estate).unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = cost(&file, None);
    assert_eq!(out.status.code(), Some(2));
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn a_tiny_scenario_prices_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("book.toml"), BOOK).unwrap();
    std::fs::write(dir.path().join("estate.toml"), tiny_estate()).unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let stdout = ok(&cost(&file, None));
    // The estate's two servers priced as `vm`:
    // January: 2 x 744 h x 0.10 = 148.80; February: 2 x 672 h x 0.10 = 134.40.
    assert!(
        stdout.contains("148.80") && stdout.contains("134.40"),
        "{stdout}"
    );
    assert!(stdout.contains("283.20"), "{stdout}");
}

#[test]
fn an_unknown_instance_type_is_named_with_what_is_allowed() {
    let err = err_of(BOOK, &estate("tiny", "nodes = \"m9.huge\""), SCENARIO);
    assert!(
        err.contains("estate.toml:43:9: field `costs.profiles[0].nodes`"),
        "{err}"
    );
    assert!(
        err.contains("unknown item `m9.huge`") && err.contains("allowed: vm"),
        "{err}"
    );
}

#[test]
fn bad_price_books_are_located_in_the_book() {
    let err = err_of(
        &BOOK.replace("currency = \"USD\"\n", ""),
        &tiny_estate(),
        SCENARIO,
    );
    assert!(
        err.contains("book.toml:1:1") && err.contains("currency"),
        "{err}"
    );
    let err = err_of(
        &BOOK.replace("\"0.10 USD\"", "\"-0.10 USD\""),
        &tiny_estate(),
        SCENARIO,
    );
    assert!(
        err.contains("book.toml:13:13: field `sku[0].on_demand`") && err.contains("negative"),
        "{err}"
    );
    let dated = format!("{BOOK}\n[[change]]\nfrom = \"2027-06-01\"\nchange = \"+5%\"\nsource = \"t\"\n\n[[change]]\nfrom = \"2027-02-01\"\nchange = \"+5%\"\nsource = \"t\"\n");
    let err = err_of(&dated, &tiny_estate(), SCENARIO);
    assert!(
        err.contains("change[1].from") && err.contains("dates out of order"),
        "{err}"
    );
}

#[test]
fn a_missing_price_book_and_a_missing_rate_are_reported() {
    let err = err_of(
        BOOK,
        &tiny_estate().replace("book.toml", "nope.toml"),
        SCENARIO,
    );
    assert!(
        err.contains("estate.toml") && err.contains("field `costs.pricebooks[0]`"),
        "{err}"
    );
    assert!(err.contains("cannot read price book"), "{err}");
    let eur = BOOK.replace("USD", "EUR");
    let err = err_of(&eur, &tiny_estate(), SCENARIO);
    assert!(err.contains("no [[fx]] rate converts EUR to USD"), "{err}");
    // With two books, the one without a rate is the one named.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("book.toml"), BOOK).unwrap();
    std::fs::write(
        dir.path().join("eur.toml"),
        eur.replace("name = \"tiny\"", "name = \"euro\""),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("estate.toml"),
        tiny_estate().replace("[\"book.toml\"]", "[\"book.toml\", \"eur.toml\"]"),
    )
    .unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let err = String::from_utf8(cost(&file, None).stderr).unwrap();
    assert!(
        err.contains("costs.pricebooks[1]") && err.contains("price book `euro` is in EUR"),
        "{err}"
    );
}

const FULL_BOOK: &str = r#"[book]
name = "full"
provider = "Full"
currency = "USD"
taken_on = "2026-11-01"
source = "test"

[[sku]]
id = "vm"
line = "compute"
unit = "hour"
billing = "hourly"
on_demand = "0.10 USD"
reserved_1y = "0.06 USD"
spot = "0.03 USD"
server = true
source = "test"
taken_on = "2026-11-01"

[[sku]]
id = "rent"
line = "rent"
unit = "month"
billing = "monthly"
on_demand = "100 USD"
setup_fee = "50 USD"
source = "test"
taken_on = "2026-11-01"

[[sku]]
id = "egress"
line = "egress"
unit = "GB"
tier = [{ up_to = 1000, price = "0.05 USD" }, { price = "0.02 USD" }]
source = "test"
taken_on = "2026-11-01"

[[change]]
from = "2027-02-01"
change = "+10%"
skus = ["rent"]
source = "test"
"#;

// The estate's profile prices nothing itself: every line is the
// projection's addition to its estate `e`.
const FULL_SCENARIO: &str = r#"[scenario]
name = "full"

[cost]
estate = "estate.toml"
start = "2027-01-01"
months = 2
discount_rate = "0%"

[[estate]]
name = "e"

[[estate.line]]
sku = "vm"
sites = ["ny1"]
count = 2
commitment = "reserved-1y"
reserved_until = "2027-01-11"

[[estate.line]]
sku = "vm"
sites = ["ny1"]
count = 1
commitment = "spot"

[[estate.line]]
sku = "rent"
count = 1

[[estate.line]]
sku = "egress"
volume = "1.5TB"

[[estate.staff]]
line = "ops staff"
servers_per_engineer = 2
loaded_cost = "1000 USD"
source = "test"

[[estate.capex]]
name = "switches"
amount = "1200 USD"
purchased = "2027-01-10"
depreciation_months = 12

[[estate.one_off]]
name = "audit"
amount = "500 USD"
date = "2027-02-15"
"#;

#[test]
fn every_kind_of_input_prices_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("book.toml"), FULL_BOOK).unwrap();
    std::fs::write(dir.path().join("estate.toml"), estate("full", "")).unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, FULL_SCENARIO).unwrap();
    let out = dir.path().join("out");
    let stdout = ok(&cost(&file, Some(&out)));
    // January: reserved 2 x 240 h x 0.06 = 28.80, then on demand 2 x 504 h
    // x 0.10 = 100.80; spot 744 h x 0.03 = 22.32; rent 100; egress 1,000 GB
    // x 0.05 + 500 GB x 0.02 = 60; staff ceil(3 servers / 2) x 1,000 =
    // 2,000; switches bought 1,200. Total 3,511.92.
    // February: 2 x 672 h x 0.10 = 134.40; spot 672 x 0.03 = 20.16; rent
    // +10 % = 110; egress 60; staff 2,000; audit 500. Total 2,824.56.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(money(&summary["by_month"][0]["plan"]), 351_192, "{stdout}");
    assert_eq!(money(&summary["by_month"][1]["plan"]), 282_456, "{stdout}");
    assert_eq!(money(&summary["headline"]["plan_total"]), 633_648);
    // Depreciation 1,200 / 12 = 100 a month, beside the cash.
    assert_eq!(money(&summary["by_month"][0]["depreciation"]), 10_000);
    assert_eq!(money(&summary["by_month"][0]["capex"]), 120_000);
    // At a zero discount rate the NPV is the plain sum.
    assert_eq!(money(&summary["headline"]["plan_npv"]), 633_648);
}

#[test]
fn a_migration_on_a_fleet_without_moves_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let migration = |estate: &Path| {
        let text = std::fs::read_to_string(scenario("cost-migration.toml"))
            .unwrap()
            .replacen(
                "estate = \"story/plan-migration.toml\"",
                &format!("estate = {:?}", estate),
                1,
            );
        assert!(
            text.contains(estate.to_str().unwrap()),
            "the estate line moved"
        );
        let file = dir.path().join("m.toml");
        std::fs::write(&file, text).unwrap();
        String::from_utf8(cost(&file, None).stderr).unwrap()
    };
    // The story's estate alone has no bare-metal site.
    let err = migration(&scenario("story/estate.toml"));
    assert!(
        err.contains("field `migration.to`")
            && err.contains("no estate `bare metal`; allowed: cloud"),
        "{err}"
    );
    // An experiment that adds one, but no [[moves]] to pair it.
    let exp = dir.path().join("exp.toml");
    std::fs::write(
        &exp,
        format!(
            "[experiment]\nname = \"x\"\nestate = {:?}\nduration = \"1h\"\n\n\
             [traffic]\nbase_rate = \"10/s\"\n\n[[sites]]\ntag = \"ny1-bm\"\ncity = \"nyc\"\n\
             upstreams = [65010]\nannounce = false\n\
             nodes = {{ kind = \"bare-metal\", count = 3, allocatable_cpu = \"31\" }}\n",
            scenario("story/estate.toml")
        ),
    )
    .unwrap();
    let err = migration(&exp);
    assert!(
        err.contains("field `migration`") && err.contains("the fleet has no moves"),
        "{err}"
    );
}

#[test]
fn the_bundled_migration_run_on_time_costs_what_the_projection_says() {
    use cutover::scenario::cost::CostScenario;
    let model = CostScenario::load(&scenario("cost-migration.toml"))
        .unwrap()
        .model;
    let m = model.migration.as_ref().unwrap();
    let dates = m.paced_dates(m.days_per_region);
    let last = dates.last().unwrap().old_until.unwrap();
    let on_time = model.plan_cost(&dates, last.plus_days(-1)).unwrap();
    assert_eq!(
        on_time.projection,
        model.project(&model.base, None).unwrap()
    );
    assert_eq!(
        on_time.overruns,
        model.budget_check(&model.project(&model.base, None).unwrap())
    );
    // Every region runs both sites for its lead and its week.
    assert_eq!(on_time.dual_running_by_site.len(), m.regions.len());
    for d in &on_time.dual_running_by_site {
        assert_eq!(d.until.day_number() - d.from.day_number(), 21, "{}", d.site);
        assert!(d.cost.cents() > 0, "{}", d.site);
    }
    // Once the last region is out, nothing is left on the cloud.
    assert_eq!(on_time.final_by_estate["cloud"].cents(), 0);
    assert!(on_time.final_by_estate["bare metal"].cents() > 0);

    // Keeping ny1 a week longer costs more, and only for ny1.
    let mut late = dates.clone();
    late[0].old_until = late[0].old_until.map(|d| d.plus_days(7));
    let late = model.plan_cost(&late, last.plus_days(-1)).unwrap();
    assert!(late.dual_running > on_time.dual_running);
    assert_eq!(
        late.dual_running_by_site[1..],
        on_time.dual_running_by_site[1..]
    );
}

/// The quantity of `sku` at `site` in the cost estate `estate` of `model`.
fn quantity(
    model: &cutover_models::cost::project::CostModel,
    estate: &str,
    site: &str,
    sku: &str,
) -> f64 {
    model
        .estates
        .iter()
        .find(|e| e.name == estate)
        .unwrap_or_else(|| panic!("no estate {estate}"))
        .lines
        .iter()
        .filter(|l| l.site == site && l.sku == sku)
        .map(|l| l.quantity)
        .sum()
}

#[test]
fn the_fleet_comes_from_the_estate_and_a_plan_prices_its_own() {
    use cutover::plan::Plan;
    use cutover::scenario::cost::CostScenario;
    // cost-cloud: each story site's pool sized for its HPA's 100 pods of one
    // core, 7 to a 7,800m node: 15 m5.2xlarge, as the file once typed.
    let cloud = CostScenario::load(&scenario("cost-cloud.toml"))
        .unwrap()
        .model;
    for site in ["ny1", "ams1", "syd1"] {
        assert_eq!(
            quantity(&cloud, "cloud", site, "m5.2xlarge"),
            15.0,
            "{site}"
        );
        assert_eq!(
            quantity(&cloud, "cloud", site, "eks-cluster"),
            1.0,
            "{site}"
        );
    }
    // Sized at their start instead: the estate's two nodes.
    let text = std::fs::read_to_string(scenario("cost-cloud.toml"))
        .unwrap()
        .replace("fleet = \"peak\"", "fleet = \"start\"");
    let start = CostScenario::from_source(&cutover::scenario::Source::from_text(
        &scenario("cost-cloud.toml"),
        text,
    ))
    .unwrap()
    .model;
    assert_eq!(quantity(&start, "cloud", "ny1", "m5.2xlarge"), 2.0);
    // The migration's new sites stand under the region they take over.
    let migration = CostScenario::load(&scenario("cost-migration.toml"))
        .unwrap()
        .model;
    assert_eq!(
        quantity(&migration, "bare metal", "ams1", "metal-general"),
        3.0
    );
    // The under-provisioned plan names the same projection but prices its
    // own fleet: Amsterdam's new site is one server.
    let plan = Plan::load(&scenario("story/plan-migration-underprovisioned.toml")).unwrap();
    let (_, c) = plan.cost.as_ref().unwrap();
    assert_eq!(
        quantity(&c.model, "bare metal", "ams1", "metal-general"),
        1.0
    );
    assert_eq!(
        quantity(&c.model, "bare metal", "ny1", "metal-general"),
        3.0
    );
}

#[test]
fn reserving_part_of_the_fleet_buys_those_instances_reserved_not_more() {
    use cutover::scenario::cost::CostScenario;
    use cutover::scenario::Source;
    use cutover_models::cost::Commitment;
    let text = std::fs::read_to_string(scenario("cost-cloud.toml")).unwrap()
        + r#"
[[estate]]
name = "cloud"

[[estate.line]]
sku = "m5.2xlarge"
sites = ["ny1"]
count = 5
commitment = "reserved-1y"
reserved_until = "2028-01-01"
"#;
    let reserved =
        CostScenario::from_source(&Source::from_text(&scenario("cost-cloud.toml"), text))
            .unwrap()
            .model;
    let lines = |c: Commitment| -> f64 {
        reserved.estates[0]
            .lines
            .iter()
            .filter(|l| l.site == "ny1" && l.sku == "m5.2xlarge" && l.commitment == c)
            .map(|l| l.quantity)
            .sum()
    };
    assert_eq!(lines(Commitment::OnDemand), 10.0);
    assert_eq!(lines(Commitment::Reserved1y), 5.0);
    assert_eq!(quantity(&reserved, "cloud", "la1", "m5.2xlarge"), 15.0);
    // January: 5 nodes x 744 h x (0.384 - 0.2688) = 428.544 less.
    let plain = CostScenario::load(&scenario("cost-cloud.toml"))
        .unwrap()
        .model;
    let month = |m: &cutover_models::cost::project::CostModel| {
        m.project(&m.base, None).unwrap().months[0].plan
    };
    assert_eq!(
        month(&plain) - month(&reserved),
        cutover_models::cost::Money::parse_amount("428.54").unwrap()
    );
}

#[test]
fn only_the_price_books_the_fleet_is_priced_from_are_listed() {
    // The story estate names three books; cost-cloud prices its cloud
    // profile only, from the hyperscaler's book.
    let dir = tempfile::tempdir().unwrap();
    let r = run("cost-cloud.toml", dir.path());
    let names: Vec<&str> = r.summary["pricebooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["hyperscaler"]);
    let printed: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("prices: "))
        .collect();
    assert_eq!(printed.len(), 1, "{printed:?}");
    assert!(printed[0].contains("hyperscaler"), "{printed:?}");
    // The migration prices from both sides' books.
    let r = run("cost-migration.toml", dir.path());
    assert!(r.summary["pricebooks"].as_array().unwrap().len() >= 2);
}
