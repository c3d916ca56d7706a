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

/// When any population's route moved to `site`, seconds.
fn moves_to(o: &Outcome, site: &str) -> Vec<f64> {
    o.routes
        .iter()
        .filter(|r| r.to_site == site)
        .map(|r| r.t_s)
        .collect()
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
    let back = moves_to(&o, "hkg1");
    assert!(
        !back.is_empty() && back.iter().all(|&t| t >= 260.0),
        "{back:?}"
    );
    assert_eq!(s.failure_log[0].end_s, Some(260.0));
    assert_eq!(s.failure_log[0].kind, "link-down");
}

/// Two link-downs of the same link overlap: the link comes back when the
/// last ends, not when the first does.
#[test]
fn overlapping_link_downs_hold_the_link_until_the_last_ends() {
    let link = |at: &str, duration: &str| {
        format!(
            "[[failures]]\nsite = \"hkg1\"\nat = \"{at}\"\nkind = \"link-down\"\nupstream = 65050\nduration = \"{duration}\"\n"
        )
    };
    // One from 60 s to 500 s, one from 100 s to 260 s.
    let o = run(
        &drill("700s", &(link("60s", "440s") + &link("100s", "160s"))),
        1,
    );
    let back = moves_to(&o, "hkg1");
    assert!(
        !back.is_empty() && back.iter().all(|&t| t >= 500.0),
        "back at {back:?}, before the longer failure ends at 500 s"
    );
}

/// A flap of every hkg1 session ends while a link-down still holds its
/// link to AS65050 down: the city that needs that link does not come back
/// until the link-down ends.
#[test]
fn a_flap_that_ends_leaves_a_link_held_down_by_a_link_down() {
    let link = "[[failures]]\nsite = \"hkg1\"\nat = \"100s\"\nkind = \"link-down\"\nupstream = 65050\nduration = \"500s\"\n";
    let alone = run(&drill("700s", link), 1);
    // The city that leaves hkg1 without AS65050.
    let city = alone
        .summary
        .populations
        .iter()
        .find(|p| {
            p.site_before == "hkg1"
                && alone
                    .routes
                    .iter()
                    .any(|r| r.population == p.population && r.from_site == "hkg1")
        })
        .map(|p| p.population.clone())
        .expect("a city leaves hkg1 without AS65050");
    let flap = "[[failures]]\nsite = \"hkg1\"\nat = \"60s\"\nkind = \"bgp-flap\"\nperiod = \"60s\"\nduration = \"240s\"\n";
    let o = run(&drill("700s", &format!("{link}{flap}")), 1);
    let back: Vec<f64> = o
        .routes
        .iter()
        .filter(|r| r.population == city && r.to_site == "hkg1" && r.t_s > 100.0)
        .map(|r| r.t_s)
        .collect();
    assert!(
        !back.is_empty() && back.iter().all(|&t| t >= 600.0),
        "{city} back at {back:?}, before the link-down ends at 600 s"
    );
}

/// hkg1 crashes and comes back while a link-down still holds its link to
/// AS65050 down: its recovery establishes its other sessions, not that
/// one, so the city that needs it waits for the link-down's end.
#[test]
fn a_recovered_site_leaves_a_link_held_down_by_a_link_down() {
    let link = "[[failures]]\nsite = \"hkg1\"\nat = \"60s\"\nkind = \"link-down\"\nupstream = 65050\nduration = \"540s\"\n";
    let crash = "[[failures]]\nsite = \"hkg1\"\nat = \"100s\"\nkind = \"crash\"\ndetection = \"bfd\"\nduration = \"100s\"\n";
    let o = run(&drill("800s", &format!("{link}{crash}")), 1);
    let back: Vec<f64> = o
        .routes
        .iter()
        .filter(|r| r.population == "bom" && r.to_site == "hkg1" && r.t_s > 60.0)
        .map(|r| r.t_s)
        .collect();
    assert!(
        !back.is_empty() && back.iter().all(|&t| t >= 600.0),
        "bom back at {back:?}, before the link-down ends at 600 s"
    );
    // Cities that reach hkg1 over its other upstreams come back with it.
    assert!(o
        .routes
        .iter()
        .any(|r| r.population != "bom" && r.to_site == "hkg1" && (200.0..600.0).contains(&r.t_s)));
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

/// Timeline column `name` as (row start s, value) pairs.
fn column(o: &Outcome, name: &str) -> Vec<(f64, f64)> {
    let tl = &o.timeline;
    let col = tl
        .columns()
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    (0..tl.len())
        .filter_map(|r| Some((tl.row_start_s(r), tl.value(r, col)?)))
        .collect()
}

/// The last row start at which `series` was below `full`.
fn last_below(series: &[(f64, f64)], full: f64) -> f64 {
    series
        .iter()
        .filter(|(_, v)| *v < full - 1e-9)
        .map(|(t, _)| *t)
        .fold(f64::NAN, f64::max)
}

/// When a pod bound at `at` is ready.
fn ready_after(exp: &Experiment, at: f64, cached: bool) -> f64 {
    let at = SimTime::ZERO + SimDuration::from_secs_f64(at);
    exp.estate
        .deployment
        .startup
        .timeline(at, cached)
        .ready
        .as_secs_f64()
}

#[test]
fn a_crashed_node_is_replaced_by_the_autoscaler() {
    // Two 7-pod nodes at ny1: one crashes at 60 s, its 7 pods go pending;
    // the autoscaler's scan at 60 s asks for a node, ready at 150 s
    // (90 s provisioning); its pods pull the image and are ready then.
    for kind in ["node-crash", "node-shutdown"] {
        let exp = drill(
            "400s",
            &format!("[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"{kind}\"\nnodes = 1\n"),
        );
        let o = run(&exp, 1);
        let ready = column(&o, "ny1_ready_pods");
        assert_eq!(ready[59].1, 14.0);
        assert_eq!(ready[61].1, 7.0, "{kind}");
        let back = ready_after(&exp, 150.0, false);
        let last = last_below(&ready, 14.0);
        assert!(
            last < back && last >= back - 1.0,
            "{kind}: {last} vs {back}"
        );
        assert_eq!(o.summary.tally.failed(), 0.0, "{kind}");
        // Request by request, the crash resets what the node's pods were
        // serving: half of ny1's, 400 requests/s x 13 ms = 5.2 in service
        // on average; the drain finishes it.
        let request = from_text(&format!(
            "[experiment]\nname = \"r\"\nestate = \"estate.toml\"\nduration = \"100s\"\nfidelity = \"request\"\n\
             [traffic]\nbase_rate = \"6000/s\"\n\
             [[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"{kind}\"\n"
        ));
        let s = run(&request, 1).summary;
        let reset = site(&s, "ny1").tally.reset;
        if kind == "node-crash" {
            assert!((1.0..=15.0).contains(&reset), "{reset}");
        } else {
            assert_eq!(reset, 0.0, "a drain loses nothing");
        }
        assert_eq!(site(&s, "ny1").tally.failed(), reset, "{kind}");
    }
}

#[test]
fn a_crashed_bare_metal_node_waits_for_its_repair() {
    // Bare metal: nothing replaces the node; repaired at 160 s, its pods
    // start with the image still on disk.
    let exp = from_text(
        "[experiment]\nname = \"bm\"\nestate = \"estate.toml\"\nduration = \"400s\"\n\
         [traffic]\nbase_rate = \"1000/s\"\n\
         [nodes]\nkind = \"bare-metal\"\ncount = 2\nallocatable_cpu = \"7800m\"\n\
         [[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"node-crash\"\nduration = \"100s\"\n\
         [output]\ntimeline_interval = \"1s\"\n",
    );
    let o = run(&exp, 1);
    let ready = column(&o, "ny1_ready_pods");
    assert_eq!(ready[61].1, 7.0);
    assert_eq!(ready[159].1, 7.0);
    let back = ready_after(&exp, 160.0, true);
    let last = last_below(&ready, 14.0);
    assert!(last < back && last >= back - 1.0, "{last} vs {back}");
    assert_eq!(o.summary.failure_log[0].end_s, Some(160.0));
}

#[test]
fn a_node_failure_takes_at_most_the_sites_nodes() {
    let base = "[experiment]\nname = \"x\"\nestate = \"estate.toml\"\nduration = \"300s\"\n[traffic]\nbase_rate = \"10/s\"\n";
    let err = refused(&format!(
        "{base}[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"node-crash\"\nnodes = 3\n"
    ));
    assert!(
        err.contains("failures[0].nodes") && err.contains("1 to 2"),
        "{err}"
    );
}

#[test]
fn crash_looping_pods_reject_users_until_the_restart_after_the_loop() {
    // ny1's pods crash at 60 s and at once each time they start again
    // (uptime 0) until 160 s; the kubelet waits 10 s, 20 s, 40 s, ...
    // between restarts, and the restart after 160 s succeeds: ny1 has no
    // ready pod until then. ny1 keeps announcing; its users are rejected
    // until the overflow check sends them to the next site.
    let exp = drill(
        "400s",
        "[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"crash-loop\"\nduration = \"100s\"\n",
    );
    let b = cutover_models::failure::CrashLoopBackoff::KUBERNETES;
    let startup = &exp.estate.deployment.startup;
    let tl = startup.timeline(SimTime::ZERO, true);
    let start = startup.container_start.as_secs_f64();
    let to_ready = (tl.ready - tl.running).as_secs_f64();
    let (mut crash, mut restarts) = (60.0, 0);
    let ready = loop {
        let restart = crash + b.delay(restarts).as_secs_f64();
        restarts = b.after_run(restarts, SimDuration::ZERO);
        if restart + start >= 160.0 {
            break restart + start + to_ready;
        }
        crash = restart + start;
    };
    let o = run(&exp, 1);
    let pods = column(&o, "ny1_ready_pods");
    assert!(pods[61..ready.floor() as usize - 1]
        .iter()
        .all(|p| p.1 == 0.0));
    let last = last_below(&pods, 14.0);
    assert!(last < ready && last >= ready - 1.0, "{last} vs {ready}");
    let s = &o.summary;
    let ny1 = site(s, "ny1");
    assert!(ny1.tally.rejected > 0.0 && ny1.stats.overflowed_out > 0.0);
    assert_eq!(s.tally.failed(), ny1.tally.rejected + ny1.tally.reset);
    assert_eq!(population(s, "nyc").site_after, "ny1");
}

#[test]
fn crash_looping_pods_serve_between_crashes_when_they_run_long_enough() {
    // Each run lasts 30 s from the container's start: ready after the
    // start-up's probes, down again at 30 s.
    let exp = drill(
        "300s",
        "[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"crash-loop\"\nuptime = \"30s\"\nduration = \"100s\"\n",
    );
    let startup = &exp.estate.deployment.startup;
    let tl = startup.timeline(SimTime::ZERO, true);
    let running = 70.0 + startup.container_start.as_secs_f64();
    let ready = running + (tl.ready - tl.running).as_secs_f64();
    let crash = running + 30.0;
    assert!(ready + 2.0 < crash, "the profile leaves time to serve");
    let pods = column(&run(&exp, 1), "ny1_ready_pods");
    assert_eq!(pods[ready.ceil() as usize + 1].1, 14.0);
    assert_eq!(pods[crash.ceil() as usize + 1].1, 0.0);
    let base = "[experiment]\nname = \"x\"\nestate = \"estate.toml\"\nduration = \"300s\"\n[traffic]\nbase_rate = \"10/s\"\n";
    let err = refused(&format!(
        "{base}[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"crash\"\nuptime = \"3s\"\n"
    ));
    assert!(
        err.contains("failures[0].uptime") && err.contains("\"crash-loop\""),
        "{err}"
    );
}

/// When population `label` left `site` and when it came back, seconds.
fn visits(o: &Outcome, label: &str, site: &str) -> (Vec<f64>, Vec<f64>) {
    let mine = o.routes.iter().filter(|r| r.population == label);
    let left = mine
        .clone()
        .filter(|r| r.from_site == site)
        .map(|r| r.t_s)
        .collect();
    let back = mine.filter(|r| r.to_site == site).map(|r| r.t_s).collect();
    (left, back)
}

const FLAP: &str = "[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"bgp-flap\"\nperiod = \"60s\"\nduration = \"300s\"\n";

#[test]
fn a_flapping_site_loses_and_wins_back_its_users_each_period() {
    // Down at 60, 120, ..., 300 s, up half a period later each time.
    let o = run(&drill("600s", FLAP), 1);
    let (left, back) = visits(&o, "nyc", "ny1");
    assert_eq!(left.len(), 5, "{left:?}");
    for (k, t) in left.iter().enumerate() {
        let down = 60.0 + 60.0 * k as f64;
        assert!(*t >= down && *t < down + 1.0, "{t} vs {down}");
    }
    assert_eq!(back.len(), 5, "{back:?}");
    for (k, t) in back.iter().enumerate() {
        // Back after the session is up: the UPDATE's way, at most an MRAI
        // (30 s) at each hop on the way.
        let up = 90.0 + 60.0 * k as f64;
        assert!(*t >= up && *t < up + 60.0, "{t} vs {up}");
    }
    assert_eq!(population(&o.summary, "nyc").site_after, "ny1");
}

#[test]
fn damping_suppresses_a_flapping_route_until_its_penalty_decays() {
    use cutover_models::failure::{Damping, DampingParams};
    let text = format!(
        "[experiment]\nname = \"flap\"\nestate = \"estate.toml\"\nduration = \"4000s\"\n\n\
         [traffic]\nbase_rate = \"1000/s\"\n\n[network.damping]\n\n{FLAP}"
    );
    let o = run(&from_text(&text), 1);
    // The upstreams count each session loss as a flap (Cisco: 1000, halved
    // every 15 min): 1000, 1955, 2866 > 2000 at the third (180 s), which
    // suppresses the route; the fourth and fifth push the reuse out.
    let mut d = Damping::new(DampingParams::CISCO);
    for k in 0..5 {
        d.flap(SimTime::ZERO + secs(60 + 60 * k));
    }
    let reuse = d.suppressed_until().expect("suppressed").as_secs_f64();
    let (left, back) = visits(&o, "nyc", "ny1");
    assert_eq!(left.len(), 3, "left at {left:?}");
    assert_eq!(back.len(), 3, "back at {back:?}");
    assert!(
        back[1] < 180.0,
        "the second return comes before the third flap"
    );
    // Suppressed from the third flap until the upstreams reuse the route
    // (2,646 s), then the UPDATEs' way (an MRAI at most per hop).
    assert!(
        back[2] >= reuse && back[2] <= reuse + 60.0,
        "{} vs {reuse}",
        back[2]
    );
    assert_eq!(population(&o.summary, "nyc").site_after, "ny1");
}

#[test]
fn a_flap_period_and_damping_are_checked() {
    let base = "[experiment]\nname = \"x\"\nestate = \"estate.toml\"\nduration = \"300s\"\n[traffic]\nbase_rate = \"10/s\"\n";
    let err = refused(&format!(
        "{base}[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"bgp-flap\"\nperiod = \"1ms\"\n"
    ));
    assert!(
        err.contains("failures[0].period") && err.contains("2ms"),
        "{err}"
    );
    let err = refused(&format!("{base}[network.damping]\nsuppress = -1.0\n"));
    assert!(
        err.contains("field `network.damping.suppress`: -1; allowed: a number from 0 to 1e9"),
        "{err}"
    );
}

/// `hours` of 18 bare-metal nodes failing at random.
fn unreliable(hours: u32, seed: u64) -> Summary {
    let exp = from_text(&format!(
        "[experiment]\nname = \"mtbf\"\nestate = \"estate.toml\"\nduration = \"{hours}h\"\ntick = \"10s\"\n\
         [traffic]\nbase_rate = \"100/s\"\n\
         [nodes]\nkind = \"bare-metal\"\ncount = 2\nallocatable_cpu = \"7800m\"\n\
         [reliability]\nnode_mtbf = \"1h\"\nnode_mttr = \"15m\"\n\
         [output]\ntimeline_interval = \"1h\"\n"
    ));
    run(&exp, seed).summary
}

#[test]
fn random_node_failures_come_at_the_mtbf_and_are_repaired_at_the_mttr() {
    let s = unreliable(50, 1);
    // Each node alternates up (mean 1 h) and down (mean 15 min): 50 h /
    // 1.25 h = 40 failures each, 720 for 18 nodes; the count's standard
    // deviation is about 22 (renewal theory: T var / mean^3 per node).
    let n = s.failure_log.len() as f64;
    assert!((n - 720.0).abs() < 110.0, "{n} failures");
    assert!(s.failure_log.iter().all(|r| r.kind == "node-crash"));
    let repairs: Vec<f64> = s
        .failure_log
        .iter()
        .filter_map(|r| r.end_s.map(|e| e - r.start_s))
        .collect();
    let mean = repairs.iter().sum::<f64>() / repairs.len() as f64;
    // The mean of ~700 exponential repairs: 900 s, standard error 34 s.
    assert!((mean - 900.0).abs() < 150.0, "mean repair {mean} s");
    // Same seed, same failures; another seed, others.
    let (a, b) = (unreliable(5, 1), unreliable(5, 1));
    assert_eq!(
        serde_json::to_string(&a.failure_log).unwrap(),
        serde_json::to_string(&b.failure_log).unwrap()
    );
    let other = unreliable(5, 2);
    assert_ne!(a.failure_log[0].start_s, other.failure_log[0].start_s);
}

#[test]
fn reliability_needs_both_figures_and_bounds_the_work() {
    let base = "[experiment]\nname = \"x\"\nestate = \"estate.toml\"\nduration = \"300s\"\n[traffic]\nbase_rate = \"10/s\"\n";
    let err = refused(&format!("{base}[reliability]\nnode_mtbf = \"1h\"\n"));
    assert!(err.contains("node_mttr"), "{err}");
    let err = refused(&format!(
        "{base}[reliability]\nnode_mtbf = \"1ms\"\nnode_mttr = \"1h\"\n"
    ));
    assert!(err.contains("reliability.node_mtbf"), "{err}");
    let err = refused(
        "[experiment]\nname = \"x\"\nestate = \"estate.toml\"\nduration = \"20d\"\ntick = \"60s\"\n[traffic]\nbase_rate = \"10/s\"\n\
         [reliability]\nnode_mtbf = \"1s\"\nnode_mttr = \"1h\"\n",
    );
    assert!(
        err.contains("reliability.node_mtbf") && err.contains("steps"),
        "{err}"
    );
}

#[test]
fn the_game_day_tells_each_failure_apart() {
    let exp = Experiment::load(&story("game-day.toml")).unwrap_or_else(|e| panic!("{e}"));
    let o = run(&exp, 1);
    let s = &o.summary;
    let ends: Vec<(f64, Option<f64>)> =
        s.failure_log.iter().map(|r| (r.start_s, r.end_s)).collect();
    assert_eq!(
        ends,
        [
            (300.0, Some(3900.0)),
            (600.0, Some(2400.0)),
            (1200.0, Some(1800.0))
        ]
    );
    // New York: lost until the hold timer (60-90 s), on la1 meanwhile, and
    // back once ny1 announces again after its hour.
    let nyc = population(s, "nyc");
    assert!(
        (60.0..=90.5).contains(&nyc.blackhole_s),
        "{}",
        nyc.blackhole_s
    );
    assert!((nyc.tally.blackholed - RATE * nyc.blackhole_s).abs() < 1e-6 * nyc.tally.blackholed);
    let (lo, hi) = announce_window(&exp);
    let t = back_at(&o, "nyc", "ny1");
    assert!(t >= 3900.0 + lo && t <= 3900.0 + hi + 90.0, "{t}");
    // The flapping link loses nobody's requests: the sessions' ends know
    // at once.
    assert_eq!(s.tally.failed(), nyc.tally.blackholed);
    assert!(
        visits(&o, "fra", "ams1").0.len() >= 2,
        "Frankfurt leaves ams1"
    );
}

mod conservation {
    use super::*;
    use proptest::prelude::*;

    const SITES: [&str; 9] = [
        "ny1", "la1", "ams1", "hkg1", "szx1", "hgh1", "ctu1", "wuh1", "syd1",
    ];

    /// A failure of kind `kind` at `site`, `at_s`, lasting `for_s` (none
    /// when zero).
    fn failure(kind: usize, site: usize, at_s: u32, for_s: u32) -> String {
        let site = SITES[site % SITES.len()];
        let (kind, fields) = match kind {
            0 => ("crash", format!("site = \"{site}\"\n")),
            1 => ("shutdown", format!("site = \"{site}\"\n")),
            2 => ("service-down", format!("site = \"{site}\"\n")),
            3 => (
                "link-down",
                "site = \"ny1\"\nupstream = 65020\n".to_string(),
            ),
            4 => ("bgp-flap", format!("site = \"{site}\"\nperiod = \"20s\"\n")),
            5 => ("delay", format!("site = \"{site}\"\nextra = \"300ms\"\n")),
            6 => (
                "crash-loop",
                format!("site = \"{site}\"\nuptime = \"40s\"\n"),
            ),
            7 => ("node-crash", format!("site = \"{site}\"\n")),
            8 => ("node-shutdown", format!("site = \"{site}\"\nnodes = 2\n")),
            _ => (
                "spike",
                "factor = 4.0\npopulations = [\"nyc\", \"fra\"]\n".to_string(),
            ),
        };
        let duration = if for_s > 6 {
            format!("duration = \"{for_s}s\"\n")
        } else {
            String::new()
        };
        format!("[[failures]]\nkind = \"{kind}\"\nat = \"{at_s}s\"\n{fields}{duration}")
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

        /// Served + failed by cause + in flight = arrived, for every
        /// population, whatever fails, comes back, overlaps, and at either
        /// fidelity.
        #[test]
        fn requests_are_conserved_under_every_kind_of_failure(
            rate in 50u32..3000,
            failures in proptest::collection::vec((0usize..10, 0usize..9, 1u32..250, 0u32..200), 1..4),
            request_level in any::<bool>(),
            seed in 0u64..1000,
        ) {
            let mut text = format!(
                "[experiment]\nname = \"random\"\nestate = \"estate.toml\"\nduration = \"300s\"\nfidelity = \"{}\"\n\
                 [traffic]\nbase_rate = \"{rate}/s\"\n",
                if request_level { "request" } else { "fluid" },
            );
            for (kind, site, at, for_s) in failures {
                text.push_str(&failure(kind, site, at, for_s));
            }
            let s = run(&from_text(&text), seed).summary;
            for p in &s.populations {
                let t = &p.tally;
                let accounted = t.served + t.failed() + p.in_flight_at_end;
                prop_assert!(
                    (accounted - t.requests).abs() <= 1e-6 * t.requests.max(1.0),
                    "{text}\n{}: {} requests, {accounted} accounted", p.population, t.requests
                );
            }
        }
    }
}

#[test]
fn a_site_struck_twice_stays_down_until_the_last_failure_ends() {
    // Two crashes overlap at New York: 60-360 s and 200-800 s. The first
    // to end does not bring the site back: it is down until 800 s, and
    // its users come back only then (the first pod, the health check's
    // rise, BGP's propagation).
    let exp = drill(
        "1200s",
        "[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"crash\"\ndetection = \"hold-timer\"\nduration = \"300s\"\n\
         [[failures]]\nsite = \"ny1\"\nat = \"200s\"\nkind = \"crash\"\ndetection = \"hold-timer\"\nduration = \"600s\"\n",
    );
    let o = run(&exp, 1);
    let (lo, hi) = announce_window(&exp);
    let t = back_at(&o, "nyc", "ny1");
    assert!(
        t >= 800.0 + lo && t <= 800.0 + hi + 90.0,
        "{t} vs {lo}..{hi}"
    );
    let log = &o.summary.failure_log;
    assert_eq!(
        log.iter().map(|r| r.end_s).collect::<Vec<_>>(),
        vec![Some(360.0), Some(800.0)]
    );
    // No request of anyone was served at New York while it was down.
    assert!(
        !o.routes
            .iter()
            .any(|r| r.to_site == "ny1" && r.t_s > 60.0 && r.t_s < 800.0),
        "{:?}",
        o.routes
    );
    assert!(site(&o.summary, "ny1").alive_at_end);
}

#[test]
fn a_site_shut_down_while_it_crashed_comes_back_with_the_last_failure() {
    // A crash (60-300 s) inside a longer clean shutdown (30-500 s), and
    // the other way round: either way the site is back when the later
    // one ends.
    for (first, second, end) in [
        ("shutdown", "crash", 500.0),
        ("crash", "service-down", 500.0),
    ] {
        let exp = drill(
            "900s",
            &format!(
                "[[failures]]\nsite = \"ny1\"\nat = \"30s\"\nkind = \"{first}\"\nduration = \"470s\"\n\
                 [[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"{second}\"\nduration = \"240s\"\n"
            ),
        );
        let o = run(&exp, 2);
        let (lo, hi) = announce_window(&exp);
        let t = back_at(&o, "nyc", "ny1");
        assert!(
            t >= end + lo && t <= end + hi + 90.0,
            "{first} then {second}: back at {t}"
        );
    }
}

#[test]
fn a_recovered_site_stays_withdrawn_when_the_operator_withdrew_it() {
    // New York crashes at 60 s for 600 s; at 120 s its operator stops
    // announcing it (a plan's rollback or break). When the node comes back
    // it serves again but does not announce: its users stay where BGP
    // sent them.
    let exp = drill(
        "1200s",
        "[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"crash\"\ndetection = \"hold-timer\"\nduration = \"600s\"\n",
    );
    let ny1 = exp.estate.site_index("ny1").unwrap();
    let mut world = World::new(&exp, 1).expect("BGP settles");
    world.run_until(SimTime::ZERO + secs(120));
    world.stop_announcing(ny1);
    let o = world.run();
    assert!(
        !o.routes.iter().any(|r| r.to_site == "ny1"),
        "{:?}",
        o.routes
    );
    let nyc = population(&o.summary, "nyc");
    assert_ne!(nyc.site_after, "ny1");
    assert!(site(&o.summary, "ny1").alive_at_end);
}

#[test]
fn a_recovered_site_announces_with_the_operators_prepends() {
    // The operator prepends every site three times at the start (so
    // every catchment stays as it was); a crash and recovery of New York
    // bring back that announcement, not the estate's plain one (which
    // would draw users from every prepended site): New York's catchment
    // after the recovery is the one before, and the routers that learn
    // its route again see the origin AS four times.
    let exp = drill(
        "1200s",
        "[[failures]]\nsite = \"ny1\"\nat = \"300s\"\nkind = \"crash\"\ndetection = \"hold-timer\"\nduration = \"300s\"\n",
    );
    let mut world = World::new(&exp, 1).expect("BGP settles");
    for k in 0..exp.estate.sites.len() {
        world.announce_prepended(k, 3);
    }
    let o = world.run();
    let on_ny1_at = |t: f64| -> Vec<String> {
        let mut at: std::collections::BTreeMap<&str, &str> = o
            .summary
            .populations
            .iter()
            .map(|p| (p.population.as_str(), p.site_before.as_str()))
            .collect();
        for r in o.routes.iter().filter(|r| r.t_s <= t) {
            at.insert(&r.population, &r.to_site);
        }
        at.into_iter()
            .filter(|(_, s)| *s == "ny1")
            .map(|(p, _)| p.to_string())
            .collect()
    };
    assert_eq!(on_ny1_at(290.0), vec!["nyc".to_string()]);
    assert_eq!(on_ny1_at(1199.0), on_ny1_at(290.0));
    let after: Vec<&str> = o
        .routers_csv
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let t: f64 = f[0].parse().unwrap();
            (t > 600.0 && f[4] == "ny1" && !f[5].is_empty()).then_some(f[5])
        })
        .collect();
    assert!(!after.is_empty(), "{}", o.routers_csv);
    for path in after {
        assert!(path.ends_with("64500 64500 64500 64500"), "{path}");
    }
}

#[test]
fn a_site_decommissioned_while_down_stays_off_when_its_failure_ends() {
    let exp = drill(
        "900s",
        "[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"crash\"\ndetection = \"hold-timer\"\nduration = \"300s\"\n",
    );
    let ny1 = exp.estate.site_index("ny1").unwrap();
    let mut world = World::new(&exp, 1).expect("BGP settles");
    world.run_until(SimTime::ZERO + secs(120));
    world.decommission(ny1);
    let o = world.run();
    assert!(!site(&o.summary, "ny1").alive_at_end);
    assert!(!o.routes.iter().any(|r| r.to_site == "ny1"));
    assert_eq!(o.summary.failure_log[0].end_s, Some(360.0));
}
