//! Load tests held against closed forms: a site of fixed capacity (c
//! one-core pods at max replicas, random balancing, no autoscaling) has
//! its knee where each pod's M/M/1 time in system meets the p99 limit, in
//! the fluid and at request level; a failing step n reports step n - 1;
//! a ramp that never fails says so; bad input gets a located error; the
//! same seed gives the same bytes.

use std::path::{Path, PathBuf};
use std::process::Command;

use cutover::experiment::{Experiment, Fidelity};
use cutover::scenario::Source;
use cutover::world::load_test::{run, LoadTestResult, SiteKnee};
use cutover_models::queueing::ErlangC;

fn central(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/central")
        .join(name)
}

/// CPU per request of the fixed site: 13 ms, so mu = 1 / 0.013 per pod.
const SERVICE_S: f64 = 0.013;
/// Pods of the fixed site (one core each, on one 10-core server).
const PODS: u32 = 10;
/// The p99 limit, seconds.
const P99_S: f64 = 0.25;

/// An experiment on the central estate with a site of `PODS` fixed pods
/// and `load_test` as its `[load_test]` (targeting the site, "ash1").
fn fixed_site(load_test: &str) -> String {
    format!(
        r#"[experiment]
name = "fixed site"
estate = "estate.toml"
duration = "2h"

[nodes]
kind = "bare-metal"
count = 1
allocatable_cpu = "{PODS}"

[deployment]
replicas = {PODS}
cpu_request = "1"
cpu_limit = "1"
cpu_per_request = "13ms"
concurrency = 16
queue_limit = 200
timeout = "5s"
balancing = "random"

[hpa]
min_replicas = {PODS}
max_replicas = {PODS}
target_cpu_utilization = 70

[load_test]
{load_test}
"#
    )
}

fn experiment(text: &str) -> Result<Experiment, String> {
    let source = Source::from_text(&central("load-test.toml"), text.to_string());
    Experiment::from_source(&source).map_err(|e| e.to_string())
}

fn load_test(exp: &Experiment, seed: u64) -> LoadTestResult {
    let lt = exp.load_test.as_ref().expect("a [load_test]");
    run(exp, lt, seed).expect("BGP settles").1
}

fn only_site(r: &LoadTestResult) -> &SiteKnee {
    assert_eq!(r.sites.len(), 1, "{:?}", r.sites);
    &r.sites[0]
}

/// The highest rate per pod whose M/M/1 time in system has its 99th
/// percentile below `p99_s`: the sojourn is exponential at mu - lambda, so
/// ln(100) / (mu - lambda) < p99_s.
fn mm1_rate_at_p99(p99_s: f64) -> f64 {
    1.0 / SERVICE_S - 100f64.ln() / p99_s
}

const RAMP: &str = r#"target = "ash1"
from = "400/s"
step = "25/s"
max = "750/s"
hold = "2m"
warmup = "30s"
p99 = "250ms"
error_rate = "1%"
min_requests = 1000"#;

#[test]
fn a_fixed_site_knees_where_its_pods_meet_the_p99_limit() {
    let limit = f64::from(PODS) * mm1_rate_at_p99(P99_S);
    // 10 x (76.92 - 18.42) = 585.0 requests/s: the knee is the 575/s step.
    assert!((limit - 585.0).abs() < 0.1, "{limit}");
    let exp = experiment(&fixed_site(RAMP)).unwrap();
    for fidelity in [Fidelity::Fluid, Fidelity::Request] {
        let mut exp = exp.clone();
        exp.fidelity = fidelity;
        let r = load_test(&exp, 3);
        let k = only_site(&r);
        let knee = k.knee_level.expect("a knee");
        assert!(
            knee < limit && knee >= limit - 2.0 * 25.0,
            "{fidelity:?}: knee {knee} vs closed form {limit} (within one step below)"
        );
        assert_eq!(k.status, "reached");
        assert_eq!(k.first_failure_step, k.knee_step.map(|s| s + 1));
        assert!(
            k.first_failure_limits.as_deref().unwrap().contains("p99"),
            "{k:?}"
        );
        assert_eq!(k.knee_at_max_replicas, Some(true));
        // Stopped at the first failure: nothing after it ran.
        assert_eq!(r.steps_run, k.first_failure_step.unwrap() + 1);
    }
}

/// The 99th percentile of an M/M/c time in system (Erlang C wait plus an
/// exponential service), by bisection on its tail.
fn mmc_response_p99(q: &ErlangC) -> f64 {
    let (mut lo, mut hi) = (0.0, 100.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if q.prob_response_longer_than(mid) > 0.01 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[test]
fn request_level_p99_at_a_step_matches_the_mmc_closed_form() {
    // Each pod an M/M/1 queue at lambda / c (random balancing splits a
    // Poisson stream into Poisson streams). Tolerance 8 %: a 2-minute
    // window holds ~60,000 requests, whose sample p99 varies by a few
    // percent, and the latency histogram's buckets add about 1 %.
    let ramp = RAMP.replace("max = \"750/s\"", "max = \"500/s\"");
    let mut exp = experiment(&fixed_site(&ramp)).unwrap();
    exp.fidelity = Fidelity::Request;
    let r = load_test(&exp, 5);
    assert_eq!(r.steps.len(), 5, "every step passes: {:?}", r.steps);
    for row in &r.steps {
        let per_pod = row.level / f64::from(PODS);
        let q = ErlangC::new(1, per_pod, 1.0 / SERVICE_S).unwrap();
        let expected_ms = mmc_response_p99(&q) * 1e3;
        let p99 = row.p99_ms.unwrap();
        assert!(
            (p99 - expected_ms).abs() < 0.08 * expected_ms,
            "step {} at {}/s: p99 {p99} ms vs M/M/1 {expected_ms} ms",
            row.step,
            row.level
        );
        let rate = row.requests_per_s;
        assert!((rate - row.level).abs() < 0.03 * row.level, "{row:?}");
    }
}

#[test]
fn a_ramp_that_never_fails_reports_no_knee_reached() {
    let ramp = RAMP.replace("max = \"750/s\"", "max = \"450/s\"");
    let r = load_test(&experiment(&fixed_site(&ramp)).unwrap(), 1);
    let k = only_site(&r);
    assert_eq!(k.status, "not reached");
    assert_eq!(k.knee_step, Some(2));
    assert_eq!(k.knee_level, Some(450.0));
    assert_eq!(k.first_failure_step, None);
    assert_eq!(r.steps_run, 3);
}

#[test]
fn a_first_step_that_fails_has_no_knee_and_all_steps_runs_every_step() {
    let ramp = RAMP
        .replace("from = \"400/s\"", "from = \"700/s\"")
        .replace("max = \"750/s\"", "max = \"800/s\"")
        + "\nstop = \"all-steps\"";
    let r = load_test(&experiment(&fixed_site(&ramp)).unwrap(), 1);
    let k = only_site(&r);
    assert_eq!(k.status, "reached");
    assert_eq!(k.knee_step, None);
    assert_eq!(k.first_failure_step, Some(0));
    assert_eq!(r.steps_run, 5, "all steps ran: {:?}", r.steps);
    // Past capacity (769/s) the site turns requests away.
    let last = r.steps.last().unwrap();
    assert!(last.error_rate > 0.01, "{last:?}");
}

#[test]
fn an_estate_ramp_scales_its_demand_step_by_step() {
    let text = r#"[experiment]
name = "estate ramp"
estate = "estate.toml"
duration = "1h"

[traffic]
base_rate = "1000/s"

[load_test]
target = "estate"
from = "100%"
step = "50%"
max = "200%"
hold = "5m"
warmup = "3m"
p99 = "200ms"
error_rate = "1%"
stop = "all-steps"
"#;
    let r = load_test(&experiment(text).unwrap(), 1);
    let rates: Vec<f64> = r.steps.iter().map(|s| s.requests_per_s).collect();
    assert_eq!(r.steps.len(), 3, "{:?}", r.steps);
    for (rate, expected) in rates.iter().zip([1000.0, 1500.0, 2000.0]) {
        assert!((rate - expected).abs() < 1e-6 * expected, "{rates:?}");
    }
    assert_eq!(r.unit, cutover::experiment::load_test::LevelUnit::Percent);
}

fn error_of(text: &str) -> String {
    experiment(text).expect_err("refused")
}

#[test]
fn bad_load_tests_get_located_errors() {
    let cases = [
        (
            RAMP.replace("\"ash1\"", "\"nowhere\""),
            "load_test.target",
            "unknown target `nowhere`; allowed: \"estate\" or a site: ash1",
        ),
        (
            RAMP.replace("\"25/s\"", "\"-25/s\""),
            "load_test.step",
            "not above zero",
        ),
        (
            RAMP.replace("\"2m\"", "\"500ms\""),
            "load_test.hold",
            "allowed: a whole number of ticks",
        ),
        (
            RAMP.replace("\"30s\"", "\"2m\""),
            "load_test.warmup",
            "at least one tick shorter than hold",
        ),
        (
            RAMP.replace("\"400/s\"", "\"40%\""),
            "load_test.from",
            "a load test on a site ramps requests per second",
        ),
        (
            RAMP.replace("\"750/s\"", "\"300/s\""),
            "load_test.max",
            "below from",
        ),
        (
            RAMP.replace("\"750/s\"", "\"99999/s\""),
            "load_test.max",
            "last longer than experiment.duration",
        ),
        (
            RAMP.replace("\"1%\"", "\"0%\""),
            "load_test.error_rate",
            "above 0 %",
        ),
        (
            RAMP.to_string() + "\nstop = \"never\"",
            "load_test.stop",
            "allowed: \"first-failure\", \"all-steps\"",
        ),
    ];
    for (ramp, field, words) in cases {
        let err = error_of(&fixed_site(&ramp));
        assert!(
            err.contains("load-test.toml:")
                && err.contains(&format!("field `{field}`"))
                && err.contains(words),
            "{field}: {err}"
        );
    }
    let with_traffic = fixed_site(RAMP) + "\n[traffic]\nbase_rate = \"10/s\"\n";
    let err = error_of(&with_traffic);
    assert!(
        err.contains("field `traffic`") && err.contains("only its generator's requests"),
        "{err}"
    );
    let no_demand = fixed_site(RAMP)
        .split("[load_test]")
        .next()
        .unwrap()
        .to_string();
    let err = error_of(&no_demand);
    assert!(
        err.contains("field `traffic`") && err.contains("missing; allowed: a [traffic] section"),
        "{err}"
    );
    let estate_rate =
        fixed_site(&RAMP.replace("\"ash1\"", "\"estate\"")) + "\n[traffic]\nbase_rate = \"10/s\"\n";
    let err = error_of(&estate_rate);
    assert!(
        err.contains("field `load_test.from`") && err.contains("percent of its demand"),
        "{err}"
    );
}

fn cli_run(file: &Path, out: &Path, threads: &str) {
    let done = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args([
            "run",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .env("RAYON_NUM_THREADS", threads)
        .output()
        .unwrap();
    assert!(
        matches!(done.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
}

#[test]
fn the_same_seed_gives_the_same_bytes_at_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let text = fixed_site(RAMP).replace("estate.toml", &central("estate.toml").to_string_lossy());
    let file = dir.path().join("load-test.toml");
    std::fs::write(&file, text).unwrap();
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    cli_run(&file, &one, "1");
    cli_run(&file, &two, "2");
    for name in ["steps.csv", "summary.json", "sites.csv", "timeline.csv"] {
        let a = std::fs::read(one.join(name)).unwrap();
        assert!(!a.is_empty(), "{name}");
        assert_eq!(a, std::fs::read(two.join(name)).unwrap(), "{name} differs");
    }
    let summary = std::fs::read_to_string(one.join("summary.json")).unwrap();
    assert!(summary.contains("\"load_test\""), "{summary}");
    // The page shows the knee and every step.
    let page = dir.path().join("report.html");
    let done = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args([
            "report",
            one.to_str().unwrap(),
            "--out",
            page.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let html = std::fs::read_to_string(page).unwrap();
    assert!(
        html.contains("<h2>Load test on ash1</h2>")
            && html.contains("<tr><td>ash1</td><td>575/s</td>")
            && html.contains("<table id=\"steps\""),
        "{html}"
    );
}

#[test]
fn a_sweep_reads_the_same_knee_as_the_run() {
    use cutover::runs::summary::{figure, summarise, Runnable};
    let exp = experiment(&fixed_site(RAMP)).unwrap();
    let direct = load_test(&exp, 2);
    let summary = summarise(&Runnable::Experiment(Box::new(exp)), 2).unwrap();
    assert_eq!(
        figure(&summary, "load_test.sites.ash1.knee_level"),
        direct.sites[0].knee_level
    );
    assert_eq!(
        figure(&summary, "load_test.steps_run"),
        Some(direct.steps_run as f64)
    );
}
