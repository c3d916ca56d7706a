//! The world's cost meter held against hand derivations: a fixed pool
//! costs nodes x hours x price; an autoscaled pool costs the integral of
//! its node count; rented servers pay their rent pro rata; traffic is
//! priced per GB served; a decommissioned site stops paying.

use std::path::PathBuf;

use cutover::estate::Estate;
use cutover::experiment::Experiment;
use cutover::scenario::cost::CostScenario;
use cutover::scenario::Source;
use cutover::world::cost::{CostSummary, Meter, SiteTraffic};
use cutover::world::World;
use cutover_models::cost::{Date, Money};
use cutover_models::{SimDuration, SimTime};

fn scenarios(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(dir)
}

/// An experiment from `text`, as if it were a file in scenarios/`dir`.
fn from_text(dir: &str, text: &str) -> Experiment {
    let source = Source::from_text(&scenarios(dir).join("test.toml"), text.to_string());
    Experiment::from_source(&source).unwrap_or_else(|e| panic!("{e}"))
}

fn usd(s: &str) -> Money {
    Money::parse_amount(s).unwrap()
}

fn cost_of(exp: &Experiment) -> CostSummary {
    let s = World::new(exp, 1).expect("BGP settles").run().summary;
    s.cost.expect("the estate is priced")
}

fn line<'a>(
    c: &'a CostSummary,
    site: &str,
    sku: &str,
) -> &'a cutover_models::cost::meter::MeterLine {
    c.lines
        .iter()
        .find(|l| l.site == site && l.sku == sku)
        .unwrap_or_else(|| panic!("no {sku} line at {site}: {:?}", c.lines))
}

/// Tiered internet egress of the hyperscaler's book for `gb` a month:
/// 100 GB free, $0.09 to 10,240 GB, $0.085 to 51,200 GB, $0.07 to
/// 153,600 GB, $0.05 above.
fn egress_per_month(gb: f64) -> f64 {
    let bands = [
        (100.0, 0.0),
        (10_240.0, 0.09),
        (51_200.0, 0.085),
        (153_600.0, 0.07),
        (f64::INFINITY, 0.05),
    ];
    let mut below = 0.0;
    let mut usd = 0.0;
    for (top, price) in bands {
        if gb > below {
            usd += (gb.min(top) - below) * price;
        }
        below = top;
    }
    usd
}

#[test]
fn a_pool_that_does_not_scale_costs_nodes_times_hours_times_price() {
    // The central region at 100 requests/s: 10 pods fit on its 3 nodes, so
    // the autoscaler adds none. Two hours of 3 m5.2xlarge at $0.384.
    let exp = from_text(
        "central",
        r#"
[experiment]
name = "quiet"
estate = "estate.toml"
duration = "2h"
tick = "10s"

[traffic]
base_rate = "100/s"
"#,
    );
    let c = cost_of(&exp);
    let compute = line(&c, "ash1", "m5.2xlarge");
    assert_eq!(compute.quantity, 6.0);
    assert_eq!(compute.amount, usd("2.30")); // 6 x 0.384 = 2.304
                                             // The EKS control plane: two hours at $0.10.
    assert_eq!(line(&c, "ash1", "eks-cluster").amount, usd("0.20"));
    // Egress: every request served sends 9.5 kB; two hours are 2/730 of a
    // month, priced at the month's rate through the bands.
    let served = 100.0 * 7200.0;
    let gb = served * 9.5e3 / 1e9;
    let months = 2.0 / 730.0;
    let want = egress_per_month(gb / months) * months;
    let got = line(&c, "ash1", "internet-egress").amount.as_f64();
    assert!((got - want).abs() <= 0.005 + 1e-9, "{got} vs {want}");
    assert_eq!(c.sites[0].node_hours, 6.0);
    assert_eq!(
        c.total,
        c.lines.iter().map(|l| l.amount).sum::<Money>(),
        "the total is the sum of the lines"
    );
}

#[test]
fn an_autoscaled_pool_costs_the_integral_of_its_node_count() {
    // The TV spike on the central region: the autoscaler grows the pool.
    let exp = Experiment::load(&scenarios("central").join("spike.toml")).unwrap();
    let c = cost_of(&exp);
    let compute = line(&c, "ash1", "m5.2xlarge");
    let hours = exp.duration.as_secs_f64() / 3600.0;
    // More than the three nodes it started with, at most its 60 for the run.
    assert!(compute.quantity > 3.0 * hours, "{}", compute.quantity);
    assert!(compute.quantity <= 60.0 * hours, "{}", compute.quantity);
    assert_eq!(compute.quantity, c.sites[0].node_hours);
    assert_eq!(
        compute.amount,
        usd("0.384").times(compute.quantity).round_to_cents()
    );

    // The meter alone: 3 nodes from 0, 5 from 600 s, 4 from 1,800 s (the
    // oldest leaves), to 3,600 s: 3 x 600 + 5 x 1,200 + 4 x 1,800 =
    // 15,000 node-seconds, 4.1667 node-hours, $1.60 at $0.384.
    let estate = Estate::load(&scenarios("central").join("estate.toml")).unwrap();
    let mut meter = Meter::new(1);
    let at = |s: u64| SimTime::ZERO + SimDuration::from_secs(s);
    meter.observe(at(0), 0, 3);
    meter.observe(at(600), 0, 5);
    meter.observe(at(1800), 0, 4);
    let c = meter
        .finish(
            &estate,
            None,
            at(3600),
            &SiteTraffic {
                served: vec![0.0],
                replicated: Vec::new(),
            },
        )
        .unwrap()
        .unwrap();
    assert_eq!(c.sites[0].node_hours, 15_000.0 / 3600.0);
    assert_eq!(line(&c, "ash1", "m5.2xlarge").amount, usd("1.60"));
}

#[test]
fn rented_servers_pay_their_rent_pro_rata_and_stop_when_decommissioned() {
    // A bare-metal site beside the story's nine, announcing nothing, for
    // 7.3 hours: a hundredth of a 730-hour month. Rents in EUR at 1.1665:
    // three metal-general at 99 EUR: 3 x 115.4835 x 0.01 = 3.464505 -> 3.46;
    // metal-db: 1.154835 -> 1.15; k3s: 0; a /27 at 35.29 EUR: 0.41165785
    // -> 0.41; the Kafka traffic (60 TB a month) is within the 80 TB the
    // four servers include: 0.
    let exp = from_text(
        "story",
        r#"
[experiment]
name = "a bare-metal site idles"
estate = "estate.toml"
duration = "7.3h"
tick = "60s"

[traffic]
base_rate = "100/s"

[[sites]]
tag = "ams1-bm"
city = "ams"
upstreams = [65010, 65020]
announce = false
nodes = { kind = "bare-metal", count = 3, allocatable_cpu = "31" }
cost = "bare metal"
"#,
    );
    let c = cost_of(&exp);
    let site = c.sites.iter().find(|s| s.site == "ams1-bm").unwrap();
    assert_eq!(site.profile, "bare metal");
    assert_eq!(line(&c, "ams1-bm", "metal-general").amount, usd("3.46"));
    assert_eq!(line(&c, "ams1-bm", "metal-db").amount, usd("1.15"));
    assert_eq!(line(&c, "ams1-bm", "ipv4-subnet").amount, usd("0.41"));
    assert_eq!(line(&c, "ams1-bm", "traffic-overage").amount, Money::ZERO);
    assert_eq!(site.total, usd("5.02"));

    // Decommissioned after 43.8 minutes, a tenth of the run: a tenth of the
    // rent. 3 x 115.4835 x 0.001 = 0.3464505 -> 0.35.
    let mut world = World::new(&exp, 1).unwrap();
    let k = exp.estate.site_index("ams1-bm").unwrap();
    world.run_until(SimTime::ZERO + SimDuration::from_secs(2628));
    world.decommission(k);
    let c = world.run().summary.cost.unwrap();
    assert_eq!(line(&c, "ams1-bm", "metal-general").amount, usd("0.35"));
    assert_eq!(line(&c, "ams1-bm", "metal-db").amount, usd("0.12"));
}

#[test]
fn a_site_named_with_an_unknown_profile_is_refused_with_the_profiles_allowed() {
    let source = Source::from_text(
        &scenarios("story").join("test.toml"),
        r#"
[experiment]
name = "x"
estate = "estate.toml"
duration = "1h"

[traffic]
base_rate = "100/s"

[[sites]]
tag = "ams1-bm"
city = "ams"
upstreams = [65010]
cost = "mainframe"
"#
        .to_string(),
    );
    let e = Experiment::from_source(&source).unwrap_err().to_string();
    assert!(e.contains("sites[0].cost"), "{e}");
    assert!(
        e.contains("\"cloud\", \"bare metal\", \"colocation\""),
        "{e}"
    );
}

#[test]
fn an_undated_run_of_a_730_hour_month_bills_a_rent_as_the_projection_does() {
    // The central region on six rented servers (central/baremetal.toml),
    // metered without a date for one 730-hour month and projected for
    // January 2027 from the same estate: 6 x 99 EUR x 1.1665 = 692.901 ->
    // 692.90 either way.
    let exp = Experiment::load(&scenarios("central").join("baremetal.toml")).unwrap();
    let mut meter = Meter::new(1);
    meter.observe(SimTime::ZERO, 0, 6);
    let month = SimTime::ZERO + SimDuration::from_secs(730 * 3600);
    let c = meter
        .finish(
            &exp.estate,
            None,
            month,
            &SiteTraffic {
                served: vec![0.0],
                replicated: Vec::new(),
            },
        )
        .unwrap()
        .unwrap();
    let metered = line(&c, "ash1", "metal-general").amount;

    let text = "[scenario]\nname = \"six servers\"\n\n[cost]\nestate = \"baremetal.toml\"\n\
                fleet = \"start\"\nstart = \"2027-01-01\"\nmonths = 1\ndiscount_rate = \"0%\"\n";
    let source = Source::from_text(&scenarios("central").join("p.toml"), text.to_string());
    let model = CostScenario::from_source(&source).unwrap().model;
    let p = model.project(&model.base, None).unwrap();
    let projected: Money = p
        .plan_lines
        .iter()
        .filter(|l| l.sku == "metal-general")
        .map(|l| l.amount)
        .sum();
    assert_eq!(metered, projected);
    assert_eq!(metered, usd("692.90"));
}

/// The cost scenario text projecting `estate` (in scenarios/`dir`) at its
/// start fleet for `months` months from `start`.
fn projected(
    dir: &str,
    estate: &str,
    start: &str,
    months: u32,
) -> cutover_models::cost::project::Projection {
    let text = format!(
        "[scenario]\nname = \"fleet\"\n\n[cost]\nestate = \"{estate}\"\nfleet = \"start\"\n\
         start = \"{start}\"\nmonths = {months}\ndiscount_rate = \"0%\"\n"
    );
    let source = Source::from_text(&scenarios(dir).join("p.toml"), text);
    let model = CostScenario::from_source(&source).unwrap().model;
    model.project(&model.base, None).unwrap()
}

fn day(s: &str) -> Date {
    Date::parse(s).unwrap()
}

#[test]
fn a_dated_run_of_a_static_fleet_over_a_calendar_month_costs_what_the_projection_bills() {
    // The central region at 100 requests/s keeps its 3 nodes all month. Run
    // by the world from midnight on 2027-01-01 for all 744 hours of
    // January, its meter bills 3 x 744 x $0.384 = $857.09 of m5.2xlarge and
    // 744 x $0.10 = $74.40 of EKS, as the projection of the same estate
    // bills January. (Egress is left out: the projection prices the
    // profile's stated 10 TB a month, the meter the traffic served.)
    let mut exp = from_text(
        "central",
        r#"
[experiment]
name = "quiet january"
estate = "estate.toml"
duration = "744h"
tick = "60s"

[traffic]
base_rate = "100/s"
"#,
    );
    exp.calendar = Some(day("2027-01-01"));
    let c = cost_of(&exp);
    assert_eq!(c.billed_by, "calendar months from 2027-01-01");
    let p = projected("central", "estate.toml", "2027-01-01", 1);
    for sku in ["m5.2xlarge", "eks-cluster"] {
        let metered = line(&c, "ash1", sku);
        assert_eq!(metered.month, "2027-01");
        let billed: Money = p
            .plan_lines
            .iter()
            .filter(|l| l.sku == sku && l.site == "ash1")
            .map(|l| l.amount)
            .sum();
        assert_eq!(metered.amount, billed, "{sku}");
    }
    assert_eq!(line(&c, "ash1", "m5.2xlarge").amount, usd("857.09"));
    assert_eq!(line(&c, "ash1", "eks-cluster").amount, usd("74.40"));
}

#[test]
fn a_dated_month_of_rent_is_the_whole_rent_as_the_projection_bills_it() {
    // Six rented servers through January 2027 (744 hours): each month's
    // rent in full, 6 x 99 EUR x 1.1665 = 692.90, not 744/730 of it.
    let exp = Experiment::load(&scenarios("central").join("baremetal.toml")).unwrap();
    let mut meter = Meter::new(1);
    meter.observe(SimTime::ZERO, 0, 6);
    let month = SimTime::ZERO + SimDuration::from_secs(744 * 3600);
    let start = Some(day("2027-01-01"));
    let c = meter
        .finish(
            &exp.estate,
            start,
            month,
            &SiteTraffic {
                served: vec![0.0],
                replicated: Vec::new(),
            },
        )
        .unwrap()
        .unwrap();
    let p = projected("central", "baremetal.toml", "2027-01-01", 1);
    let billed: Money = p
        .plan_lines
        .iter()
        .filter(|l| l.sku == "metal-general")
        .map(|l| l.amount)
        .sum();
    assert_eq!(line(&c, "ash1", "metal-general").amount, billed);
    assert_eq!(billed, usd("692.90"));
}

#[test]
fn a_dated_autoscaled_pool_costs_the_integral_of_its_node_count_month_by_month() {
    // From midnight on 2027-01-31: 3 nodes, 5 from 22:00, 4 from 23:00 (the
    // oldest leaves), to 02:00 on 1 February. January holds 3 x 22 + 5 x 1
    // + 4 x 1 = 75 node-hours ($28.80 at $0.384), February 4 x 2 = 8
    // ($3.072 -> $3.07): 83 node-hours, the integral of the node count.
    let estate = Estate::load(&scenarios("central").join("estate.toml")).unwrap();
    let mut meter = Meter::new(1);
    let at = |h: u64| SimTime::ZERO + SimDuration::from_secs(h * 3600);
    meter.observe(at(0), 0, 3);
    meter.observe(at(22), 0, 5);
    meter.observe(at(23), 0, 4);
    let start = Some(day("2027-01-31"));
    let c = meter
        .finish(
            &estate,
            start,
            at(26),
            &SiteTraffic {
                served: vec![0.0],
                replicated: Vec::new(),
            },
        )
        .unwrap()
        .unwrap();
    assert_eq!(c.sites[0].node_hours, 83.0);
    let compute: Vec<(&str, f64, Money)> = c
        .lines
        .iter()
        .filter(|l| l.sku == "m5.2xlarge")
        .map(|l| (l.month.as_str(), l.quantity, l.amount))
        .collect();
    assert_eq!(
        compute,
        vec![
            ("2027-01", 75.0, usd("28.80")),
            ("2027-02", 8.0, usd("3.07"))
        ]
    );

    // The world's own run of the TV spike, dated: its compute is the
    // integral of its node count at $0.384, as undated.
    let mut exp = Experiment::load(&scenarios("central").join("spike.toml")).unwrap();
    exp.calendar = Some(day("2027-03-01"));
    let c = cost_of(&exp);
    let compute = line(&c, "ash1", "m5.2xlarge");
    assert!(compute.quantity > 3.0 * exp.duration.as_secs_f64() / 3600.0);
    // Summed node by node rather than second by second: equal but for the
    // last bits of the float.
    assert!((compute.quantity - c.sites[0].node_hours).abs() < 1e-9);
    assert_eq!(
        compute.amount,
        usd("0.384").times(compute.quantity).round_to_cents()
    );
}
