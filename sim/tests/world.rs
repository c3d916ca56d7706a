//! The one world held against hand derivations, the story's figures and
//! itself: the same failure gives the same blackhole in a drill and in a
//! spike; requests are conserved per population; runs are deterministic;
//! the fluid and request level agree.

use std::path::PathBuf;

use cutover::experiment::{Experiment, Fidelity};
use cutover::scenario::Source;
use cutover::world::summary::{PopulationSummary, Summary};
use cutover::world::World;

#[path = "invariants/requests.rs"]
mod invariants;
use invariants::assert_conserved;

fn story(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/story")
        .join(name)
}

fn load(name: &str) -> Experiment {
    Experiment::load(&story(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// An experiment from `text`, as if it were a file in scenarios/story.
fn from_text(text: &str) -> Experiment {
    let source = Source::from_text(&story("test.toml"), text.to_string());
    Experiment::from_source(&source).unwrap_or_else(|e| panic!("{e}"))
}

fn run(exp: &Experiment, seed: u64) -> Summary {
    World::new(exp, seed).expect("BGP settles").run().summary
}

fn population<'a>(s: &'a Summary, label: &str) -> &'a PopulationSummary {
    s.populations
        .iter()
        .find(|p| p.population == label)
        .unwrap_or_else(|| panic!("no population {label}"))
}

#[test]
fn a_clean_shutdown_moves_new_york_to_los_angeles_without_errors() {
    let s = run(&load("ny-shutdown.toml"), 1);
    let nyc = population(&s, "nyc");
    assert_eq!(
        (nyc.site_before.as_str(), nyc.site_after.as_str()),
        ("ny1", "la1")
    );
    // The story: TTFB 34 ms -> 231 ms, status 200 throughout.
    let (before, after) = (nyc.ttfb_before_ms.unwrap(), nyc.ttfb_after_ms.unwrap());
    assert!((before - 34.0).abs() <= 3.4, "{before}");
    assert!((after - 231.0).abs() <= 23.1, "{after}");
    assert_eq!(s.tally.failed(), 0.0, "{:?}", s.tally);
}

#[test]
fn requests_lost_in_a_blackhole_are_the_rate_times_the_window() {
    let exp = load("ny-crash-hold.toml");
    let s = run(&exp, 1);
    let nyc = population(&s, "nyc");
    // 1,000 requests/s shared by 15 equal populations.
    let rate = 1000.0 / 15.0;
    let want = rate * nyc.blackhole_s;
    assert!(
        (nyc.tally.blackholed - want).abs() < 1e-6 * want,
        "{} vs {want}",
        nyc.tally.blackholed
    );
    // The hold timer: 90 s less the time since the last keepalive (< 30 s).
    assert!(
        (60.0..=90.5).contains(&nyc.blackhole_s),
        "{}",
        nyc.blackhole_s
    );
    assert_eq!(nyc.site_after, "la1");
}

#[test]
fn bfd_blackholes_for_under_a_second() {
    let s = run(&load("ny-crash-bfd.toml"), 1);
    let nyc = population(&s, "nyc");
    // 300 ms x 3, less the time since the last packet, plus propagation.
    assert!(
        (0.6..=1.2).contains(&nyc.blackhole_s),
        "{}",
        nyc.blackhole_s
    );
    assert!(nyc.tally.blackholed > 0.0);
}

#[test]
fn a_crash_gives_the_same_blackhole_in_a_drill_and_in_a_spike() {
    let drill = load("ny-crash-hold.toml");
    let spike_text = std::fs::read_to_string(story("spike.toml")).unwrap()
        + "\n[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"crash\"\ndetection = \"hold-timer\"\n";
    let spike = from_text(
        &spike_text
            .replace("[output]", "[output_unused]")
            .replace("[output_unused]\ntimeline_interval = \"15s\"\n", ""),
    );
    for seed in [1, 2, 3] {
        let a = run(&drill, seed);
        let b = run(&spike, seed);
        let (pa, pb) = (population(&a, "nyc"), population(&b, "nyc"));
        assert_eq!(pa.blackhole_s, pb.blackhole_s, "seed {seed}");
        assert_eq!(pa.site_after, pb.site_after);
    }
}

#[test]
fn every_request_is_served_failed_or_in_flight_for_every_population() {
    for (name, fidelity) in [
        ("spike-ams-crash-hold.toml", Fidelity::Fluid),
        ("ny-crash-bfd.toml", Fidelity::Fluid),
        ("ny-service-down.toml", Fidelity::Request),
        ("ny-shutdown.toml", Fidelity::Request),
    ] {
        let mut exp = load(name);
        exp.fidelity = fidelity;
        assert_conserved(&run(&exp, 7), name);
    }
}

#[test]
fn the_same_seed_gives_the_same_summary() {
    let exp = load("spike-ams-crash-bfd.toml");
    let a = serde_json::to_string(&run(&exp, 5)).unwrap();
    let b = serde_json::to_string(&run(&exp, 5)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn the_fluid_and_the_request_level_agree_on_a_drill() {
    let fluid = load("ny-crash-hold.toml");
    let mut request = fluid.clone();
    request.fidelity = Fidelity::Request;
    let (f, r) = (run(&fluid, 1), run(&request, 1));
    let (pf, pr) = (population(&f, "nyc"), population(&r, "nyc"));
    assert_eq!(pf.blackhole_s, pr.blackhole_s);
    // Poisson counts: 5,617 expected, standard deviation about 75.
    assert!(
        (pf.tally.blackholed - pr.tally.blackholed).abs() < 5.0 * pf.tally.blackholed.sqrt(),
        "{} vs {}",
        pf.tally.blackholed,
        pr.tally.blackholed
    );
    let (lf, lr) = (pf.latency_p50_ms.unwrap(), pr.latency_p50_ms.unwrap());
    assert!((lf / lr - 1.0).abs() < 0.1, "p50 {lf} vs {lr}");
}

#[test]
fn every_bundled_story_file_loads() {
    let dir = story("");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        n += 1;
        let source = cutover::scenario::Source::read(&path).unwrap();
        match cutover::scenario::kind::FileKind::of(&source) {
            cutover::scenario::kind::FileKind::Estate => {
                cutover::estate::Estate::load(&path).map(drop)
            }
            cutover::scenario::kind::FileKind::Plan => cutover::plan::Plan::load(&path).map(drop),
            _ => Experiment::load(&path).map(drop),
        }
        .unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(n >= 10, "{n} files");
}

mod conservation {
    use super::*;
    use proptest::prelude::*;

    fn failure(site: usize, at_s: u32, kind: usize, detection: usize) -> String {
        let sites = [
            "ny1", "la1", "ams1", "hkg1", "szx1", "hgh1", "ctu1", "wuh1", "syd1",
        ];
        let (kind, extra) = match kind {
            0 => ("shutdown", String::new()),
            1 => ("service-down", String::new()),
            _ => (
                "crash",
                format!(
                    "detection = \"{}\"\n",
                    ["hold-timer", "bfd", "link-down"][detection % 3]
                ),
            ),
        };
        format!(
            "[[failures]]\nsite = \"{}\"\nat = \"{at_s}s\"\nkind = \"{kind}\"\n{extra}",
            sites[site % sites.len()]
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

        /// Served + failed by cause + in flight = arrived, for every
        /// population, whatever fails, when, and at which fidelity.
        #[test]
        fn requests_are_conserved_under_random_failures(
            rate in 50u32..3000,
            failures in proptest::collection::vec((0usize..9, 5u32..250, 0usize..3, 0usize..3), 0..3),
            retire in proptest::option::of(0usize..9),
            request_level in any::<bool>(),
            seed in 0u64..1000,
        ) {
            let sites = ["ny1", "la1", "ams1", "hkg1", "szx1", "hgh1", "ctu1", "wuh1", "syd1"];
            let retired = retire.map(|r| sites[r]);
            let mut text = format!(
                "[experiment]\nname = \"random\"\nestate = \"estate.toml\"\nduration = \"300s\"\nfidelity = \"{}\"\n{}\n[traffic]\nbase_rate = \"{rate}/s\"\n",
                if request_level { "request" } else { "fluid" },
                retired.map_or(String::new(), |r| format!("retire = [\"{r}\"]\n")),
            );
            for (site, at, kind, detection) in failures {
                if Some(sites[site]) == retired {
                    continue;
                }
                text.push_str(&failure(site, at, kind, detection));
            }
            let exp = from_text(&text);
            let s = run(&exp, seed);
            assert_conserved(&s, &text);
        }
    }
}

#[test]
fn a_site_that_does_not_announce_takes_no_overflow() {
    // A second Hong Kong site that does not announce the prefix: nobody
    // reaches it by BGP, and hkg1 (26.7 % of users, the busiest site) sheds
    // only to announcing sites, though hkg2 is the nearest.
    let text = std::fs::read_to_string(story("spike.toml")).unwrap().replace(
        "[output]",
        "[[sites]]\ntag = \"hkg2\"\ncity = \"hkg\"\nupstreams = [65010]\nannounce = false\n\n[output]",
    );
    let s = run(&from_text(&text), 1);
    let hkg2 = s.sites.iter().find(|x| x.site == "hkg2").unwrap();
    assert_eq!(hkg2.tally.requests, 0.0);
    assert_eq!(hkg2.stats.overflowed_in, 0.0);
    let hkg1 = s.sites.iter().find(|x| x.site == "hkg1").unwrap();
    assert!(hkg1.stats.overflowed_out > 0.0, "hkg1 sheds");
}

#[test]
fn stepping_to_a_time_and_on_gives_the_same_run() {
    let exp = load("spike-ams-crash-bfd.toml");
    let whole = serde_json::to_string(&run(&exp, 3)).unwrap();
    let mut world = World::new(&exp, 3).expect("BGP settles");
    let half = cutover_models::SimTime::ZERO + cutover_models::SimDuration::from_secs(171);
    world.run_until(half);
    assert!(world.now() <= half && world.now() > cutover_models::SimTime::ZERO);
    let stepped = serde_json::to_string(&world.run().summary).unwrap();
    assert_eq!(whole, stepped);
}
