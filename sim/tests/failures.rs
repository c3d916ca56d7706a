//! Every kind of failure in the world, each held against a hand
//! derivation: what it loses (rate x window), where traffic goes, and
//! when what failed comes back.

use std::path::PathBuf;

use cutover::experiment::{Experiment, Failure, FailureKind};
use cutover::scenario::Source;
use cutover::world::summary::{PopulationSummary, Summary};
use cutover::world::{Outcome, World};
use cutover_models::failure::Detection;
use cutover_models::{SimDuration, SimTime};

fn story(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/story")
        .join(name)
}

/// An experiment from `text`, as if it were a file in scenarios/story.
fn from_text(text: &str) -> Experiment {
    let source = Source::from_text(&story("test.toml"), text.to_string());
    Experiment::from_source(&source).unwrap_or_else(|e| panic!("{e}"))
}

/// The error an experiment from `text` gets.
fn refused(text: &str) -> String {
    let source = Source::from_text(&story("test.toml"), text.to_string());
    match Experiment::from_source(&source) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// A drill at 1,000 requests/s over `duration` with `failures` (TOML).
fn drill(duration: &str, failures: &str) -> Experiment {
    from_text(&format!(
        "[experiment]\nname = \"drill\"\nestate = \"estate.toml\"\nduration = \"{duration}\"\n\n\
         [traffic]\nbase_rate = \"1000/s\"\n\n{failures}\n[output]\ntimeline_interval = \"1s\"\n"
    ))
}

fn run(exp: &Experiment, seed: u64) -> Outcome {
    World::new(exp, seed).expect("BGP settles").run()
}

fn population<'a>(s: &'a Summary, label: &str) -> &'a PopulationSummary {
    s.populations
        .iter()
        .find(|p| p.population == label)
        .unwrap_or_else(|| panic!("no population {label}"))
}

/// The per-population rate of a drill: 1,000 requests/s over 15 equal
/// populations.
const RATE: f64 = 1000.0 / 15.0;

fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}

/// When population `label`'s route last moved to `site`, seconds.
fn back_at(o: &Outcome, label: &str, site: &str) -> f64 {
    o.routes
        .iter()
        .rev()
        .find(|r| r.population == label && r.to_site == site)
        .unwrap_or_else(|| panic!("{label} never moved to {site}"))
        .t_s
}

/// From a recovery until the health check announces the site again:
/// the first pod's start-up (image cached) plus the health check's rise.
fn announce_window(exp: &Experiment) -> (f64, f64) {
    let tl = exp.estate.deployment.startup.timeline(SimTime::ZERO, true);
    let ready = tl.ready.as_secs_f64();
    let health = exp.estate.detection.health_check;
    (
        ready + health.recovery_delay(0.999_999).as_secs_f64(),
        ready + health.recovery_delay(0.0).as_secs_f64(),
    )
}

#[test]
fn a_crashed_site_comes_back_and_its_users_return() {
    let exp = drill(
        "900s",
        "[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"crash\"\ndetection = \"hold-timer\"\nduration = \"600s\"\n",
    );
    let o = run(&exp, 1);
    let s = &o.summary;
    let nyc = population(s, "nyc");
    assert_eq!(nyc.site_after, "ny1");
    // Lost only until the hold timer: 90 s less the time since the last
    // keepalive (< 30 s); the site is not announced before it can serve.
    assert!(
        (60.0..=90.5).contains(&nyc.blackhole_s),
        "{}",
        nyc.blackhole_s
    );
    let want = RATE * nyc.blackhole_s;
    assert!((nyc.tally.blackholed - want).abs() < 1e-6 * want);
    assert_eq!(s.tally.rejected, 0.0, "no user reaches a site without pods");
    // Back at 660 s: the first pod ready, the health check's rise, then
    // BGP's propagation (MRAI 30 s a hop at most).
    let (lo, hi) = announce_window(&exp);
    let t = back_at(&o, "nyc", "ny1");
    assert!(
        t >= 660.0 + lo && t <= 660.0 + hi + 90.0,
        "{t} vs {lo}..{hi}"
    );
    assert_eq!(s.failure_log.len(), 1);
    assert_eq!(s.failure_log[0].start_s, 60.0);
    assert_eq!(s.failure_log[0].end_s, Some(660.0));
    assert!(
        s.failures[0].starts_with("ny1 from 1 min to 11 min: crash"),
        "{}",
        s.failures[0]
    );
    let ny1 = s.sites.iter().find(|x| x.site == "ny1").unwrap();
    assert!(ny1.alive_at_end);
}

#[test]
fn a_site_back_before_its_crash_is_detected_loses_only_the_window() {
    // Back after 20 s, before any hold timer (60-90 s) expires: the pending
    // detections are cancelled, the upstreams reset the stale session when
    // the router opens a new one, and New York's users go to the next site
    // until theirs announces again. Lost: the 20 s, plus the withdrawal's
    // way to them (well under a second).
    let exp = drill(
        "400s",
        "[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"crash\"\ndetection = \"hold-timer\"\nduration = \"20s\"\n",
    );
    let o = run(&exp, 1);
    let nyc = population(&o.summary, "nyc");
    assert!(
        (20.0..21.0).contains(&nyc.blackhole_s),
        "{}",
        nyc.blackhole_s
    );
    let want = RATE * nyc.blackhole_s;
    assert!((nyc.tally.blackholed - want).abs() < 1e-6 * want);
    assert_eq!(nyc.site_after, "ny1");
    let (lo, hi) = announce_window(&exp);
    let t = back_at(&o, "nyc", "ny1");
    assert!(t >= 80.0 + lo && t <= 80.0 + hi + 90.0, "{t} vs {lo}..{hi}");
}

#[test]
fn a_shut_down_site_and_a_dead_service_come_back() {
    for kind in ["shutdown", "service-down"] {
        let exp = drill(
            "700s",
            &format!("[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"{kind}\"\nduration = \"300s\"\n"),
        );
        let o = run(&exp, 2);
        let nyc = population(&o.summary, "nyc");
        assert_eq!(nyc.site_after, "ny1", "{kind}");
        let (lo, hi) = announce_window(&exp);
        let t = back_at(&o, "nyc", "ny1");
        assert!(t >= 360.0 + lo && t <= 360.0 + hi + 90.0, "{kind}: {t}");
        assert_eq!(o.summary.failure_log[0].end_s, Some(360.0));
    }
}

#[test]
fn a_failure_injected_mid_run_strikes_from_now() {
    let exp = drill("600s", "");
    let mut world = World::new(&exp, 1).expect("BGP settles");
    world.run_until(SimTime::ZERO + secs(100));
    let ny1 = exp.estate.site_index("ny1");
    world.inject(Failure {
        site: ny1,
        at: secs(10),
        duration: Some(secs(60)),
        kind: FailureKind::Crash(Detection::LinkDown {
            delay: SimDuration::from_millis(10),
        }),
    });
    let s = world.run().summary;
    let r = &s.failure_log[0];
    assert_eq!(
        (r.site.as_str(), r.start_s, r.end_s),
        ("ny1", 110.0, Some(170.0))
    );
    let nyc = population(&s, "nyc");
    assert_eq!(nyc.site_after, "ny1");
    // Link down: lost for 10 ms plus the UPDATEs' way to New York.
    assert!(nyc.blackhole_s < 1.0, "{}", nyc.blackhole_s);
}

#[test]
fn a_recovery_is_deterministic() {
    let exp = drill(
        "700s",
        "[[failures]]\nsite = \"ams1\"\nat = \"30s\"\nkind = \"crash\"\nduration = \"200s\"\n",
    );
    let a = serde_json::to_string(&run(&exp, 4).summary).unwrap();
    let b = serde_json::to_string(&run(&exp, 4).summary).unwrap();
    assert_eq!(a, b);
}

#[test]
fn bad_durations_are_refused_with_their_field() {
    let base = "[experiment]\nname = \"x\"\nestate = \"estate.toml\"\nduration = \"300s\"\n[traffic]\nbase_rate = \"10/s\"\n";
    let err = refused(&format!(
        "{base}[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"shutdown\"\ndrain = \"10s\"\nduration = \"5s\"\n"
    ));
    assert!(
        err.contains("failures[0].duration") && err.contains("longer than the drain"),
        "{err}"
    );
    let err = refused(&format!(
        "{base}[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"crash\"\nduration = \"0s\"\n"
    ));
    assert!(
        err.contains("failures[0].duration") && err.contains("at least"),
        "{err}"
    );
    let err = refused(&format!(
        "{base}[[failures]]\nat = \"60s\"\nkind = \"crash\"\n"
    ));
    assert!(
        err.contains("failures[0].kind") && err.contains("needs `site`"),
        "{err}"
    );
    let err = refused(&format!(
        "{base}[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"crash\"\ndrain = \"1s\"\n"
    ));
    assert!(
        err.contains("failures[0].drain") && err.contains("\"shutdown\""),
        "{err}"
    );
}

/// Every population's site at the start of `o`'s run and at its end.
fn sites_of(s: &Summary) -> Vec<(String, String, String)> {
    s.populations
        .iter()
        .map(|p| {
            (
                p.population.clone(),
                p.site_before.clone(),
                p.site_after.clone(),
            )
        })
        .collect()
}

#[test]
fn a_link_down_moves_traffic_where_bgp_without_the_link_sends_it() {
    let mut moved = 0;
    for (site, upstream, others) in [
        ("ny1", 65010, "65020"),
        ("ams1", 65020, "65010"),
        ("hkg1", 65050, "65010"),
    ] {
        let link = format!(
            "[[failures]]\nsite = \"{site}\"\nat = \"60s\"\nkind = \"link-down\"\nupstream = {upstream}\n"
        );
        let s = run(&drill("400s", &link), 1).summary;
        // The same estate with the site holding only its other upstreams:
        // where BGP's steady state sends every population.
        let without = from_text(&format!(
            "[experiment]\nname = \"w\"\nestate = \"estate.toml\"\nduration = \"10s\"\nretire = [\"{site}\"]\n\
             [traffic]\nbase_rate = \"1000/s\"\n[[sites]]\ntag = \"{site}\"\nupstreams = [{others}]\n"
        ));
        let steady = run(&without, 1).summary;
        for ((label, _, after), (_, want, _)) in sites_of(&s).iter().zip(sites_of(&steady)) {
            assert_eq!(*after, want, "{site} without AS{upstream}: {label}");
        }
        for p in &s.populations {
            let want = RATE * p.blackhole_s;
            assert!((p.tally.blackholed - want).abs() <= 1e-6 * want.max(1.0));
            assert!(p.blackhole_s < 1.0, "{}: {}", p.population, p.blackhole_s);
        }
        moved += s
            .populations
            .iter()
            .filter(|p| p.site_before != p.site_after)
            .count();
    }
    // New York's users leave ny1 without AS65010, and one city leaves
    // hkg1 without AS65050.
    assert_eq!(moved, 2);
}

#[test]
fn a_link_that_comes_back_brings_traffic_back() {
    let o = run(
        &drill(
            "600s",
            "[[failures]]\nsite = \"hkg1\"\nat = \"60s\"\nkind = \"link-down\"\nupstream = 65050\nduration = \"200s\"\n",
        ),
        1,
    );
    let s = &o.summary;
    for (label, before, after) in sites_of(s) {
        assert_eq!(before, after, "{label}");
    }
    // One city moved away at 60 s and came back after 260 s.
    let back: Vec<f64> = o
        .routes
        .iter()
        .filter(|r| r.to_site == "hkg1")
        .map(|r| r.t_s)
        .collect();
    assert!(
        !back.is_empty() && back.iter().all(|&t| t >= 260.0),
        "{back:?}"
    );
    assert_eq!(s.failure_log[0].end_s, Some(260.0));
    assert_eq!(s.failure_log[0].kind, "link-down");
}

#[test]
fn a_link_down_names_an_upstream_of_its_site() {
    let base = "[experiment]\nname = \"x\"\nestate = \"estate.toml\"\nduration = \"300s\"\n[traffic]\nbase_rate = \"10/s\"\n";
    let err = refused(&format!(
        "{base}[[failures]]\nsite = \"szx1\"\nat = \"60s\"\nkind = \"link-down\"\nupstream = 65010\n"
    ));
    assert!(
        err.contains("failures[0].upstream") && err.contains("allowed: 65030"),
        "{err}"
    );
    let err = refused(&format!(
        "{base}[[failures]]\nsite = \"szx1\"\nat = \"60s\"\nkind = \"link-down\"\n"
    ));
    assert!(err.contains("needs `upstream`"), "{err}");
}

fn site<'a>(s: &'a Summary, tag: &str) -> &'a cutover::world::summary::SiteSummary {
    s.sites.iter().find(|x| x.site == tag).unwrap()
}

#[test]
fn a_delay_adds_its_extra_to_every_request_served_at_its_site() {
    let base = run(&drill("300s", ""), 1).summary;
    let slow = run(
        &drill(
            "300s",
            "[[failures]]\nsite = \"ny1\"\nat = \"0s\"\nkind = \"delay\"\nextra = \"80ms\"\n",
        ),
        1,
    )
    .summary;
    let (a, b) = (population(&base, "nyc"), population(&slow, "nyc"));
    // Every quantile moves by 80 ms (within 1 %: the histogram's buckets
    // and its tails' discretisation each err by under 0.4 %).
    for (x, y) in [
        (a.latency_p50_ms, b.latency_p50_ms),
        (a.latency_p99_ms, b.latency_p99_ms),
    ] {
        let (x, y) = (x.unwrap(), y.unwrap());
        assert!((y - x - 80.0).abs() < 0.01 * y, "{x} -> {y}");
    }
    let (x, y) = (site(&base, "ny1"), site(&slow, "ny1"));
    let (x, y) = (x.latency_p99_ms.unwrap(), y.latency_p99_ms.unwrap());
    assert!((y - x - 80.0).abs() < 0.01 * y, "{x} -> {y}");
    // Users of other sites see nothing.
    let (a, b) = (population(&base, "lax"), population(&slow, "lax"));
    assert_eq!(a.latency_p99_ms, b.latency_p99_ms);
    assert_eq!(a.tally, b.tally);
}

#[test]
fn a_delay_past_the_slow_threshold_makes_its_window_slow() {
    // 300 ms, past the 200 ms threshold, for 120 s of a steady 300 s run:
    // the requests ny1 served in the window, 120/300 of them, are slow.
    let base = run(&drill("300s", ""), 1).summary;
    let s = run(
        &drill(
            "300s",
            "[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"delay\"\nextra = \"300ms\"\nduration = \"120s\"\n",
        ),
        1,
    )
    .summary;
    let (x, y) = (site(&base, "ny1").tally, site(&s, "ny1").tally);
    let want = x.slow * 180.0 / 300.0 + x.served * 120.0 / 300.0;
    assert!((y.slow - want).abs() < 0.005 * want, "{} vs {want}", y.slow);
    assert_eq!(x.served, y.served);
    assert_eq!(s.failure_log[0].end_s, Some(180.0));
}

#[test]
fn a_delay_needs_its_extra() {
    let base = "[experiment]\nname = \"x\"\nestate = \"estate.toml\"\nduration = \"300s\"\n[traffic]\nbase_rate = \"10/s\"\n";
    let err = refused(&format!(
        "{base}[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"delay\"\n"
    ));
    assert!(err.contains("needs `extra`"), "{err}");
    let err = refused(&format!(
        "{base}[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"delay\"\nextra = \"2m\"\n"
    ));
    assert!(
        err.contains("failures[0].extra") && err.contains("at most"),
        "{err}"
    );
    let err = refused(&format!(
        "{base}[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"crash\"\nextra = \"2s\"\n"
    ));
    assert!(
        err.contains("failures[0].extra") && err.contains("\"delay\""),
        "{err}"
    );
}

#[test]
fn a_spike_multiplies_the_demand_of_its_populations_over_its_window() {
    // nyc x 3 from 60 s for 120 s: 2 x 120 s more of its rate.
    let s = run(
        &drill(
            "300s",
            "[[failures]]\nat = \"60s\"\nkind = \"spike\"\nfactor = 3.0\npopulations = [\"nyc\"]\nduration = \"120s\"\n",
        ),
        1,
    )
    .summary;
    let nyc = population(&s, "nyc");
    let want = RATE * 300.0 + RATE * 2.0 * 120.0;
    assert!(
        (nyc.tally.requests - want).abs() < 1e-9 * want,
        "{}",
        nyc.tally.requests
    );
    let lax = population(&s, "lax");
    assert!((lax.tally.requests - RATE * 300.0).abs() < 1e-9 * RATE * 300.0);
    assert_eq!(s.failure_log[0].site, "");
    assert_eq!(s.failure_log[0].end_s, Some(180.0));
}

#[test]
fn a_spike_between_ticks_counts_the_exact_share_of_its_ticks() {
    // Everyone x 2.5 from 30.5 s to 130.25 s, 1 s ticks: 1.5 x 99.75 s
    // more of 1,000 requests/s; the timeline's demand shows it.
    let s = run(
        &drill(
            "300s",
            "[[failures]]\nat = \"30.5s\"\nkind = \"spike\"\nfactor = 2.5\nduration = \"99.75s\"\n",
        ),
        1,
    )
    .summary;
    let want = 1000.0 * 300.0 + 1000.0 * 1.5 * 99.75;
    assert!(
        (s.tally.requests - want).abs() < 1e-9 * want,
        "{}",
        s.tally.requests
    );
    assert!(
        (s.peak_demand_rps - 2500.0).abs() < 1e-9,
        "{}",
        s.peak_demand_rps
    );
}

#[test]
fn a_spike_names_users_not_a_site() {
    let base = "[experiment]\nname = \"x\"\nestate = \"estate.toml\"\nduration = \"300s\"\n[traffic]\nbase_rate = \"10/s\"\n";
    let err = refused(&format!(
        "{base}[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"spike\"\nfactor = 2.0\n"
    ));
    assert!(
        err.contains("failures[0].site") && err.contains("strikes users"),
        "{err}"
    );
    let err = refused(&format!(
        "{base}[[failures]]\nat = \"60s\"\nkind = \"spike\"\nfactor = 2.0\npopulations = [\"nyc\", \"atlantis\"]\n"
    ));
    assert!(
        err.contains("failures[0].populations[1]") && err.contains("allowed: szx"),
        "{err}"
    );
    let err = refused(&format!(
        "{base}[[failures]]\nat = \"60s\"\nkind = \"spike\"\nfactor = -1.0\n"
    ));
    assert!(err.contains("failures[0].factor"), "{err}");
    let err = refused(&format!(
        "{base}[[failures]]\nat = \"60s\"\nkind = \"spike\"\n"
    ));
    assert!(err.contains("needs `factor`"), "{err}");
}

#[test]
fn a_spike_counts_in_the_request_level_bound() {
    let text = "[experiment]\nname = \"x\"\nestate = \"estate.toml\"\nduration = \"300s\"\nfidelity = \"request\"\n[traffic]\nbase_rate = \"100000/s\"\n";
    from_text(text);
    let err = refused(&format!(
        "{text}[[failures]]\nat = \"60s\"\nkind = \"spike\"\nfactor = 1000.0\n"
    ));
    assert!(err.contains("experiment.fidelity"), "{err}");
}
