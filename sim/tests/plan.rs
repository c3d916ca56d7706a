//! Migration plans: gates against closed forms, rollback and retry,
//! failures, exit status, and deterministic replications.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cutover::montecarlo::replicate;
use cutover::runs::plan::{run, PlanOutcome};
use cutover::scenario::plan::PlanScenario;
use cutover::scenario::Source;
use cutover_models::queueing::{ErlangC, MmcQueue};
use cutover_models::{SimDuration, SimTime};
use rand_distr::{Distribution, Exp};

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn load(name: &str) -> PlanScenario {
    PlanScenario::load(&scenarios().join(name)).unwrap()
}

fn from_text(text: &str) -> PlanScenario {
    let source = Source::from_text(Path::new("test.toml"), text.to_string());
    PlanScenario::from_source(&source).unwrap()
}

/// One region at a constant 1,000 requests/s moving by L7 weights to a new
/// site of `workers` workers of 10 ms, with `failures` appended.
fn one_region(workers: u32, failures: &str) -> String {
    format!(
        r#"
[scenario]
name = "t"
[plan]
on_failure = "abort"
[plan.stages]
mechanism = "l7"
wait = "0s"
observe = "30m"
[[region]]
name = "r"
demand = "1000/s"
old = {{ servers = 4, workers = 16, service_time = "10ms", rtt = "20ms" }}
new = {{ servers = 1, workers = {workers}, service_time = "10ms", rtt = "20ms" }}
{failures}
"#
    )
}

/// p99 of the time in an M/M/c system plus `delay_s`, by bisection on the
/// closed-form tail.
fn closed_form_p99_ms(c: u32, lambda: f64, mu: f64, delay_s: f64) -> f64 {
    let q = ErlangC::new(c, lambda, mu).unwrap();
    let (mut lo, mut hi) = (0.0, 100.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if q.prob_response_longer_than(mid) > 0.01 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (hi + delay_s) * 1e3
}

#[test]
fn the_gate_fails_at_the_stage_the_closed_form_predicts() {
    for workers in [8, 12, 16, 40] {
        let s = from_text(&one_region(workers, ""));
        let o = run(&s, 1).unwrap();
        let mu = 100.0;
        // The first stage whose window breaks the gate, from the closed forms.
        let mut expected = None;
        for (k, share) in [0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 1.0].iter().enumerate() {
            let lambda = 1000.0 * share;
            let capacity = f64::from(workers) * mu;
            let fails = if lambda >= 0.98 * capacity {
                1.0 - 0.98 * capacity / lambda >= 0.01
                    || closed_form_p99_ms(workers, 0.98 * capacity, mu, 0.020) >= 200.0
            } else {
                closed_form_p99_ms(workers, lambda, mu, 0.020) >= 200.0
            };
            if fails {
                expected = Some(k + 1);
                break;
            }
        }
        let failed = o.stages.iter().find(|st| !st.passed).map(|st| st.stage);
        assert_eq!(failed, expected, "{workers} workers: {:?}", o.stages);
        assert_eq!(o.gates_passed, expected.is_none());
        // Every judged window's p99 is the closed form's.
        for st in &o.stages {
            let lambda = 1000.0 * st.share_requested;
            if lambda < 0.98 * f64::from(workers) * mu {
                let want = closed_form_p99_ms(workers, lambda, mu, 0.020);
                assert!(
                    (st.p99_ms - want).abs() < 0.01,
                    "{workers} workers, stage {}: {} vs {want}",
                    st.stage,
                    st.p99_ms
                );
            }
        }
    }
}

#[test]
fn the_fluid_latency_matches_a_request_level_queue() {
    // M/M/8 at 85 %: every customer simulated, time in system against the
    // closed-form tail the fluid windows use.
    let (c, lambda, mu) = (8u32, 6.8, 1.0);
    let mut rng = rand_pcg::Pcg64::new(0xcafe, 0xa02bdbf7bb3c0a7ac28fa16a64abf96);
    let arrivals = Exp::new(lambda).unwrap();
    let service = Exp::new(mu).unwrap();
    let mut q = MmcQueue::new(c);
    let mut t = 0.0;
    let mut departures: Vec<(f64, u32)> = Vec::new();
    let mut sojourns = Vec::new();
    let at = |s: f64| SimTime::ZERO + SimDuration::from_secs_f64(s);
    for _ in 0..300_000 {
        t += arrivals.sample(&mut rng);
        departures.sort_by(|a, b| b.0.total_cmp(&a.0));
        while departures.last().is_some_and(|d| d.0 <= t) {
            let (when, server) = departures.pop().unwrap();
            let left = q.depart(at(when), server).unwrap();
            sojourns.push(when - left.arrived.as_secs_f64());
            if let Some(next) = left.next {
                departures.push((next.departs_at.as_secs_f64(), next.server));
                departures.sort_by(|a, b| b.0.total_cmp(&a.0));
            }
        }
        let s = service.sample(&mut rng);
        if let Some(started) = q.arrive(at(t), SimDuration::from_secs_f64(s)) {
            departures.push((started.departs_at.as_secs_f64(), started.server));
        }
    }
    let erlang = ErlangC::new(c, lambda, mu).unwrap();
    let n = sojourns.len() as f64;
    for x in [0.5, 1.0, 2.0, 4.0] {
        let empirical = sojourns.iter().filter(|&&s| s > x).count() as f64 / n;
        let exact = erlang.prob_response_longer_than(x);
        assert!(
            (empirical - exact).abs() < 0.01,
            "P(T > {x}): simulated {empirical}, closed form {exact}"
        );
    }
}

#[test]
fn an_under_provisioned_site_rolls_back_and_the_extra_week_is_priced() {
    let o = run(&load("plan-migration-underprovisioned.toml"), 7).unwrap();
    assert_eq!(o.rollbacks.len(), 1, "{:?}", o.rollbacks);
    let rb = &o.rollbacks[0];
    assert_eq!((rb.region.as_str(), rb.attempt), ("ams1", 1));
    assert!(rb.stage >= 5, "fails once the share is large: {rb:?}");
    // The retry, with the servers ordered, passes every stage.
    let retry: Vec<_> = o
        .stages
        .iter()
        .filter(|s| s.region == "ams1" && s.attempt == 2)
        .collect();
    assert_eq!(retry.len(), 7);
    assert!(retry.iter().all(|s| s.passed));
    assert!(o.success(), "the plan recovers after its retry");
    let cost = o.cost.as_ref().unwrap();
    let reference = run(&load("plan-migration.toml"), 7).unwrap();
    let ref_cost = reference.cost.as_ref().unwrap();
    // The extra week is paid for Amsterdam's old site.
    let ams = |c: &cutover::runs::plan::PlanCostSummary| {
        c.dual_running_by_site
            .iter()
            .find(|d| d.site == "ams1")
            .unwrap()
            .cost
    };
    assert!(ams(cost) > ams(ref_cost));
    assert!(cost.dual_running > ref_cost.dual_running);
    assert!(cost.dual_running_extra > cutover_models::cost::Money::ZERO);
    // Lost requests are stated per stage and over the run.
    let failed_stage = o.stages.iter().find(|s| !s.passed).unwrap();
    assert!(failed_stage.p99_ms >= 200.0 || failed_stage.error_rate >= 0.01);
    assert_eq!(
        ref_cost.dual_running_extra.cents(),
        0,
        "the reference keeps the schedule"
    );
}

#[test]
fn a_failed_plan_exits_with_status_one() {
    let run_cli = |name: &str| {
        cutover::cli::main_with_args([
            "cutover".into(),
            "plan".into(),
            scenarios().join(name).into_os_string(),
        ])
    };
    assert_eq!(run_cli("plan-vm-to-k8s.toml"), ExitCode::SUCCESS);
    assert_eq!(run_cli("plan-vm-to-k8s-cold.toml"), ExitCode::from(1));
    assert_eq!(run_cli("no-such-plan.toml"), ExitCode::from(2));
}

/// `plan-migration.toml` priced by a copy of `cost-migration.toml` whose
/// monthly budget is `monthly` (the bundled one is "85000 USD"), both
/// written into `dir`; returns the plan file.
fn plan_with_monthly_budget(dir: &Path, monthly: &str) -> PathBuf {
    let cost = std::fs::read_to_string(scenarios().join("cost-migration.toml"))
        .unwrap()
        .replace(
            "monthly = \"85000 USD\"",
            &format!("monthly = \"{monthly}\""),
        )
        .replace(
            "\"pricebooks/",
            &format!("\"{}/pricebooks/", scenarios().display()),
        );
    assert!(cost.contains(monthly));
    let cost_file = dir.join("cost.toml");
    std::fs::write(&cost_file, cost).unwrap();
    let plan = std::fs::read_to_string(scenarios().join("plan-migration.toml"))
        .unwrap()
        .replace(
            "cost = \"cost-migration.toml\"",
            &format!("cost = \"{}\"", cost_file.display()),
        );
    let plan_file = dir.join("plan.toml");
    std::fs::write(&plan_file, plan).unwrap();
    plan_file
}

#[test]
fn the_cost_scenarios_budget_fails_the_plan_and_its_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    // Within the budget: the plan passes.
    let within = PlanScenario::load(&plan_with_monthly_budget(dir.path(), "85000 USD")).unwrap();
    let o = run(&within, 7).unwrap();
    assert!(o.cost.as_ref().unwrap().within_budget);
    assert!(o.success());
    // $81k a month: the months both sides are billed go over it.
    let file = plan_with_monthly_budget(dir.path(), "81000 USD");
    let over = PlanScenario::load(&file).unwrap();
    let o = run(&over, 7).unwrap();
    let cost = o.cost.as_ref().unwrap();
    assert!(cost.overruns.is_empty(), "the plan's own budgets hold");
    assert!(!cost.cost_scenario_overruns.is_empty());
    assert!(!cost.within_budget);
    assert!(!o.success());
    let reasons = cutover::report::plan::failure_reasons(&o);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("cost scenario's budget") && r.contains("2027-02 total")),
        "{reasons:?}"
    );
    let status =
        cutover::cli::main_with_args(["cutover".into(), "plan".into(), file.into_os_string()]);
    assert_eq!(status, ExitCode::from(1));
}

#[test]
fn cold_pods_fail_the_first_gate_unless_warmed() {
    let cold = run(&load("plan-vm-to-k8s-cold.toml"), 11).unwrap();
    assert!(!cold.gates_passed);
    assert_eq!(cold.stages.len(), 1);
    assert!(cold.stages[0].p99_ms > 1000.0, "{:?}", cold.stages[0]);
    let warm = run(&load("plan-vm-to-k8s.toml"), 11).unwrap();
    assert!(warm.gates_passed);
    assert!(warm.stages.iter().all(|s| s.p99_ms < 100.0));
}

#[test]
fn a_dead_site_blackholes_until_routing_notices() {
    let failure = r#"
[[failure]]
kind = "site-loss"
region = "r"
site = "old"
at = "20m"
duration = "1h"
"#;
    let base = run(&from_text(&one_region(40, "")), 1).unwrap();
    let bgp = run(
        &from_text(&one_region(40, failure).replace("\"l7\"", "\"bgp\"")),
        1,
    )
    .unwrap();
    let l7 = run(&from_text(&one_region(40, failure)), 1).unwrap();
    assert_eq!(base.slo.failed, 0.0);
    // At 20 minutes the first stage holds: the old site carries 1 - share of
    // 1,000 requests/s, lost for the 90 s hold time, or nginx's 10 s.
    let lost =
        |o: &PlanOutcome, detect_s: f64| 1000.0 * (1.0 - o.stages[0].share_reached) * detect_s;
    assert!(
        (bgp.slo.failed - lost(&bgp, 90.0)).abs() < 1e-6,
        "{}",
        bgp.slo.failed
    );
    assert!(
        (l7.slo.failed - lost(&l7, 10.0)).abs() < 1e-6,
        "{}",
        l7.slo.failed
    );
    assert!((bgp.slo.budget_consumed - bgp.slo.failed / (0.0005 * bgp.slo.requests)).abs() < 1e-9);
    // Once routing knows, the new site takes everyone and its gate still passes.
    assert!(bgp.gates_passed && l7.gates_passed);
}

#[test]
fn a_crashed_server_loses_its_share_until_the_health_check() {
    let failure = r#"
[[failure]]
kind = "node-crash"
region = "r"
site = "old"
at = "30s"
"#;
    let o = run(&from_text(&one_region(40, failure)), 1).unwrap();
    // 1 of the old site's 4 servers, which carries 99 % of 1,000 requests/s:
    // 247.5 requests/s lost for the 15 s health check, plus the
    // 247.5 x 10 ms = 2.475 requests in service when it crashed.
    assert!(
        (o.slo.failed - (247.5 * 15.0 + 2.475)).abs() < 1e-6,
        "{}",
        o.slo.failed
    );
}

#[test]
fn added_delay_and_spikes_reach_the_gate() {
    let delay = r#"
[[failure]]
kind = "delay"
region = "r"
site = "new"
stage = "25%"
extra = "250ms"
duration = "2h"
"#;
    let base = run(&from_text(&one_region(40, "")), 1).unwrap();
    let o = run(&from_text(&one_region(40, delay)), 1).unwrap();
    let st = o.stages.last().unwrap();
    assert_eq!((st.stage, st.passed), (4, false), "{:?}", o.stages);
    assert!((st.p99_ms - base.stages[3].p99_ms - 250.0).abs() < 1e-3);
    let spike = r#"
[[failure]]
kind = "spike"
region = "r"
stage = "50%"
factor = 10.0
duration = "2h"
"#;
    let o = run(&from_text(&one_region(40, spike)), 1).unwrap();
    let st = o.stages.last().unwrap();
    // 5,000 requests/s on 40 workers of 100/s, served up to 98 %: 21.6 % fail.
    assert_eq!((st.stage, st.passed), (5, false), "{:?}", o.stages);
    assert!(
        (st.error_rate - (1.0 - 3920.0 / 5000.0)).abs() < 1e-6,
        "{}",
        st.error_rate
    );
}

#[test]
fn a_flapping_session_is_damped() {
    let flap = r#"
[[failure]]
kind = "bgp-flap"
region = "r"
site = "new"
stage = "10%"
period = "2m"
duration = "10m"
"#;
    let text = one_region(40, flap).replace("\"l7\"", "\"bgp\"");
    let o = run(&from_text(&text), 1).unwrap();
    // Withdrawn at once, back after a minute, withdrawn again: the third
    // flap pushes the penalty past 2,000 and damping keeps the route out
    // for the rest of the window, long after the flapping stopped. The new
    // site served 10 % of 1,000 requests/s for two minutes only.
    let st = &o.stages[2];
    assert_eq!(st.stage, 3);
    assert_eq!(st.requests, 12_000, "{:?}", o.stages);
}

#[test]
fn bgp_stages_reach_whole_networks_only() {
    let text = one_region(40, "").replace("\"l7\"", "\"bgp\"").replace(
        "[plan.stages]",
        "[plan.bgp]\nnetworks = 4\nzipf = 0.0\n[plan.stages]",
    );
    let o = run(&from_text(&text), 1).unwrap();
    // Four equal networks: a 1 % stage moves none of them, so nothing
    // reaches the new site and the gate cannot judge it.
    assert_eq!(o.stages.len(), 1);
    assert_eq!(o.stages[0].share_reached, 0.0);
    assert!(o.stages[0].reasons.contains("requests in the window"));
    let fine = run(
        &from_text(&one_region(40, "").replace("\"l7\"", "\"bgp\"")),
        1,
    )
    .unwrap();
    assert!(fine.gates_passed);
    assert!((fine.stages[0].share_reached - 0.01).abs() < 0.001);
}

#[test]
fn replications_do_not_depend_on_the_thread_count() {
    let s = load("plan-migration.toml");
    let summarise = |o: PlanOutcome| (o.success(), o.duration_s, o.slo.failed, o.failures.len());
    let one = replicate(7, 6, Some(1), |_, seed| summarise(run(&s, seed).unwrap())).unwrap();
    let two = replicate(7, 6, Some(2), |_, seed| summarise(run(&s, seed).unwrap())).unwrap();
    assert_eq!(one, two);
    // Different seeds draw different hardware failures.
    let failures: std::collections::BTreeSet<_> = one.iter().map(|r| r.2.to_bits()).collect();
    assert!(failures.len() > 1, "{one:?}");
}

#[test]
fn plan_errors_name_the_line_and_what_is_allowed() {
    let text = one_region(8, "").replace("mechanism = \"l7\"", "mechanism = \"dns\"");
    let source = Source::from_text(Path::new("bad.toml"), text);
    let err = PlanScenario::from_source(&source).unwrap_err().to_string();
    assert!(err.starts_with("bad.toml:7:13:"), "{err}");
    assert!(
        err.contains("plan.stages.mechanism") && err.contains("allowed"),
        "{err}"
    );
}

#[test]
fn plan_outputs_are_byte_identical_at_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let run_cli = |name: &str, threads: &str| {
        let out = dir.path().join(name);
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
            .args([
                "plan",
                scenarios().join("plan-migration.toml").to_str().unwrap(),
            ])
            .args(["--out", out.to_str().unwrap(), "--replications", "6"])
            .args(["--threads", threads, "--seed", "5"])
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        out
    };
    let (a, b) = (run_cli("a", "1"), run_cli("b", "2"));
    let mut files: Vec<_> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "run-info.json")
        .collect();
    files.sort();
    assert!(files.contains(&"replications.csv".to_string()), "{files:?}");
    for name in &files {
        assert_eq!(
            std::fs::read(a.join(name)).unwrap(),
            std::fs::read(b.join(name)).unwrap(),
            "{name} differs between 1 and 2 threads"
        );
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["verdict"], "pass");
    assert_eq!(summary["montecarlo"]["replications"], 6);
}

#[test]
fn a_crash_loop_backs_off_like_kubernetes() {
    let failure = r#"
[[failure]]
kind = "crash-loop"
region = "r"
site = "old"
at = "20m"
duration = "30m"
"#;
    let o = run(&from_text(&one_region(40, failure)), 1).unwrap();
    // One of four old servers crashes at 20 minutes, is noticed after 15 s,
    // restarts after a back-off of 10 s doubling to 300 s, serves 30 s and
    // crashes again while the loop lasts (30 minutes): crashes at these
    // seconds into it. Each loses the server's quarter of the old site's
    // traffic for 15 s plus what it had in service (10 ms of it); the
    // old site carries 99 % before the 5 % stage starts at 30 minutes
    // (600 s into the loop) and 95 % after.
    let crashes = [0.0, 55.0, 120.0, 205.0, 330.0, 535.0, 880.0, 1225.0, 1570.0];
    let want: f64 = crashes
        .iter()
        .map(|&c| {
            let per_server = 1000.0 * if c < 600.0 { 0.99 } else { 0.95 } / 4.0;
            per_server * (15.0 + 0.010)
        })
        .sum();
    assert!(
        (o.slo.failed - want).abs() < 1e-6,
        "{} vs {want}",
        o.slo.failed
    );
}
