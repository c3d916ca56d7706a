//! The network layer held against the reference story's figures, and the
//! errors a bad network scenario gets.

use std::path::{Path, PathBuf};

use cutover::runs::network::run;
use cutover::scenario::network::NetworkSpec;
use cutover::scenario::{ModelSpec, Scenario, Source};
use cutover_models::bgp::catchment::compute;

fn scenario_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name)
}

fn network(name: &str) -> Box<NetworkSpec> {
    let s = Scenario::load(&scenario_path(name)).unwrap();
    match s.model {
        ModelSpec::Network(n) => n,
        other => panic!("{name}: not a network scenario: {other:?}"),
    }
}

/// Speed-test TTFB in the story for the cities it names, ms.
const STORY_TTFB_MS: [(&str, f64); 8] = [
    ("szx", 28.0),
    ("lax", 29.0),
    ("ctu", 30.0),
    ("hgh", 31.0),
    ("hkg", 34.0),
    ("nyc", 34.0),
    ("wuh", 38.0),
    ("syd", 41.0),
];

#[test]
fn steady_state_ttfb_matches_the_speed_test() {
    let net = network("edge-steady.toml");
    let topo = &net.built;
    let c = compute(topo, &net.announcements, &net.latency, net.decision).unwrap();
    for (city, story) in STORY_TTFB_MS {
        let row = c
            .rows
            .iter()
            .find(|r| topo.populations()[r.population].name == city)
            .unwrap();
        let ttfb = row.ttfb_ms.unwrap();
        assert!((25.0..=50.0).contains(&ttfb), "{city}: {ttfb} ms");
        assert!(
            (ttfb - story).abs() <= 8.0,
            "{city}: {ttfb} ms vs {story} ms in the story"
        );
    }
    for row in &c.rows {
        let p = &topo.populations()[row.population];
        // Every city within 300 km of a site is served in the story's band.
        let near = topo
            .sites()
            .iter()
            .any(|s| s.location.distance_km(p.location) <= 300.0);
        if near {
            let ttfb = row.ttfb_ms.unwrap();
            assert!((25.0..=50.0).contains(&ttfb), "{}: {ttfb} ms", p.name);
        }
        if p.name == "tyo" {
            // Tokyo's nearest site is hgh1, but the China backbone hands its
            // peers at Hong Kong only its hot-potato choice there, szx1.
            assert_eq!(row.nearest_site, Some(5));
            assert!(
                row.why_not_nearest.contains("AS65030"),
                "{}",
                row.why_not_nearest
            );
            assert!(
                row.why_not_nearest.contains("hot potato"),
                "{}",
                row.why_not_nearest
            );
        }
        // A city sent elsewhere than its nearest site gets an explanation.
        assert_eq!(
            row.site != row.nearest_site,
            !row.why_not_nearest.is_empty(),
            "{}: {:?}",
            p.name,
            row
        );
    }
}

fn nyc(
    outcome: &cutover::runs::network::NetworkOutcome,
) -> &cutover::runs::network::PopulationSummary {
    outcome
        .summary
        .populations
        .iter()
        .find(|p| p.city == "nyc")
        .unwrap()
}

#[test]
fn clean_shutdown_moves_new_york_to_los_angeles_without_errors() {
    let net = network("ny-shutdown.toml");
    let out = run(&net, 1).unwrap();
    let p = nyc(&out);
    assert_eq!(p.site_before, "ny1");
    assert!(
        p.site_after == "la1" || p.site_after == "ash1",
        "{}",
        p.site_after
    );
    let before = p.ttfb_before_ms.unwrap();
    let after = p.ttfb_after_ms.unwrap();
    assert!((before - 34.0).abs() <= 3.4, "{before}");
    assert!((after - 231.0).abs() <= 23.1, "{after}");
    assert_eq!(out.summary.failed_requests, 0.0);
    // The move happens within the story's 5 s.
    let moved = out
        .changes
        .iter()
        .find(|c| c.city == "nyc" && c.to_site == p.site_after)
        .unwrap();
    assert!(moved.t_s >= 60.0 && moved.t_s <= 65.0, "{}", moved.t_s);
    // BGP itself settles later: replacement routes wait for the busy MRAI
    // timers (at most one 30 s interval here, 15 s on average; the story
    // quotes a 15 s switch-over).
    let settled = out.summary.control_plane_settled_s.unwrap();
    assert!((0.1..=31.0).contains(&settled), "{settled}");
}

#[test]
fn a_crash_blackholes_for_about_the_hold_time() {
    let net = network("ny-crash-hold.toml");
    let out = run(&net, 1).unwrap();
    let p = nyc(&out);
    // Hold 90 s, keepalive 30 s: the last keepalive came 0-30 s before the
    // crash, so detection takes 60-90 s, plus a fraction of a second of
    // propagation.
    assert!((60.0..=91.0).contains(&p.failing_s), "{}", p.failing_s);
    assert_eq!(p.site_after, "la1");
    let share = 1.0 / net.built.populations().len() as f64;
    let expected = net.request_rate_per_s * share * p.failing_s;
    assert!((out.summary.failed_requests - expected).abs() < 1e-6 * expected);
    // Other seeds draw other keepalive phases, all inside the window.
    for seed in 2..6 {
        let f = nyc(&run(&net, seed).unwrap()).failing_s;
        assert!((60.0..=91.0).contains(&f), "seed {seed}: {f}");
    }
}

#[test]
fn a_crash_under_bfd_blackholes_for_the_detection_time() {
    let net = network("ny-crash-bfd.toml");
    let out = run(&net, 1).unwrap();
    let p = nyc(&out);
    // 200 ms x 3 = 0.6 s, plus UPDATE processing and propagation.
    assert!((0.6..=1.2).contains(&p.failing_s), "{}", p.failing_s);
    assert!(out.summary.failed_requests > 0.0);
    assert_eq!(p.site_after, "la1");
}

#[test]
fn runs_are_deterministic() {
    let net = network("ny-crash-hold.toml");
    let a = serde_json::to_string(&run(&net, 7).unwrap().summary).unwrap();
    let b = serde_json::to_string(&run(&net, 7).unwrap().summary).unwrap();
    assert_eq!(a, b);
}

const BASE: &str = r#"
[scenario]
name = "t"
[network]
[[network.as]]
asn = 10
pops = ["nyc"]
[[network.as]]
asn = 20
pops = ["nyc"]
[[network.links]]
provider = 10
customer = 20
[[network.sites]]
tag = "ny1"
upstreams = [10]
[[network.populations]]
city = "nyc"
isp = 20
"#;

fn error_of(text: &str) -> String {
    let src = Source::from_text(Path::new("n.toml"), text.to_string());
    match Scenario::from_source(&src) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_base_scenario_is_valid() {
    let src = Source::from_text(Path::new("n.toml"), BASE.to_string());
    assert!(Scenario::from_source(&src).is_ok());
}

#[test]
fn bad_topologies_get_located_errors() {
    let e = error_of(&BASE.replace("customer = 20", "customer = 99"));
    assert!(e.starts_with("n.toml:"), "{e}");
    assert!(
        e.contains("network.links[0]") && e.contains("unknown AS99"),
        "{e}"
    );

    let cycle = format!("{BASE}[[network.links]]\nprovider = 20\ncustomer = 10\n");
    let e = error_of(&cycle);
    assert!(
        e.contains("a cycle of providers: AS10 -> AS20 -> AS10"),
        "{e}"
    );

    let e = error_of(&BASE.replace("upstreams = [10]", "upstreams = []"));
    assert!(
        e.contains("network.sites[0]") && e.contains("no upstream"),
        "{e}"
    );

    let e = error_of(&BASE.replace("isp = 20\n", ""));
    assert!(
        e.contains("network.populations[0]") && e.contains("no ISP"),
        "{e}"
    );

    let e = error_of(&BASE.replace("city = \"nyc\"\nisp", "city = \"atlantis\"\nisp"));
    assert!(e.contains("unknown city `atlantis`; allowed: nyc"), "{e}");

    let e = error_of(&BASE.replace("[network]\n", "[network]\nprocessing_delay = \"0s\"\n"));
    assert!(
        e.contains("network.processing_delay") && e.contains("at least"),
        "{e}"
    );

    let e = error_of(&format!(
        "{BASE}[network.failure]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"meteor\"\n"
    ));
    assert!(
        e.contains("network.failure.kind") && e.contains("allowed: kind"),
        "{e}"
    );
}

#[test]
fn a_generated_topology_serves_every_population() {
    let text = r#"
[scenario]
name = "generated"
seed = 3
[network]
[network.generate]
tier1 = 4
tier2_per_region = 3
access_per_city = 3
[[network.sites]]
tag = "ny1"
[[network.sites]]
tag = "ams1"
[[network.sites]]
tag = "sgp1"
[[network.populations]]
city = "chi"
[[network.populations]]
city = "par"
[[network.populations]]
city = "tyo"
"#;
    let src = Source::from_text(Path::new("g.toml"), text.to_string());
    let s = Scenario::from_source(&src).unwrap();
    let ModelSpec::Network(net) = &s.model else {
        panic!("not a network scenario")
    };
    let topo = &net.built;
    assert_eq!(topo.populations().len(), 9, "three access ISPs per city");
    let c = compute(topo, &net.announcements, &net.latency, net.decision).unwrap();
    assert!(c.rows.iter().all(|r| r.site.is_some()));
    // Same file, same topology.
    let again = Scenario::from_source(&src).unwrap();
    assert_eq!(s, again);
}

#[test]
fn a_health_check_withdraws_after_the_failed_probes() {
    let net = network("ny-service-down.toml");
    for seed in 1..5 {
        let out = run(&net, seed).unwrap();
        let p = nyc(&out);
        // The first failed probe comes 0-5 s after the failure, the third
        // 10 s later; then the withdrawal takes a fraction of a second.
        assert!(
            (10.0..=15.5).contains(&p.failing_s),
            "seed {seed}: {}",
            p.failing_s
        );
        assert_eq!(p.site_after, "la1");
    }
}

#[test]
fn topology_file_errors_point_into_the_topology_file() {
    let dir = tempfile::tempdir().unwrap();
    let graph = "[[as]]\nasn = 10\npops = [\"nyc\"]\n\n[[as]]\nasn = 20\npops = [\"nyc\"]\n\n[[links]]\nprovider = 10\ncustomer = 30\n";
    std::fs::write(dir.path().join("graph.toml"), graph).unwrap();
    let scenario = "[scenario]\nname = \"t\"\n[network]\ntopology = \"graph.toml\"\n\
                    [[network.sites]]\ntag = \"ny1\"\nupstreams = [10]\n\
                    [[network.populations]]\ncity = \"nyc\"\nisp = 20\n";
    let file = dir.path().join("s.toml");
    std::fs::write(&file, scenario).unwrap();
    let e = Scenario::load(&file).unwrap_err().to_string();
    let expected = format!(
        "{}:9:1: field `links[0]`: unknown AS30",
        dir.path().join("graph.toml").display()
    );
    assert!(e.starts_with(&expected), "{e}");

    std::fs::write(
        dir.path().join("graph.toml"),
        graph.replace("customer = 30", "customer = 20"),
    )
    .unwrap();
    assert!(Scenario::load(&file).is_ok());

    std::fs::write(&file, scenario.replace("graph.toml", "missing.toml")).unwrap();
    let e = Scenario::load(&file).unwrap_err().to_string();
    assert!(
        e.contains("missing.toml") && e.contains("cannot read"),
        "{e}"
    );
}

#[test]
fn the_catchment_command_writes_the_table_and_the_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c");
    let file = scenario_path("edge-steady.toml");
    let code = cutover::cli::main_with_args([
        "cutover".as_ref(),
        "catchment".as_ref(),
        file.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    let table = std::fs::read_to_string(out.join("catchment.csv")).unwrap();
    let mut lines = table.lines();
    assert_eq!(
        lines.next(),
        Some("city,isp,weight,site,as_path,distance_km,rtt_ms,ttfb_ms,nearest_site,nearest_ttfb_ms,why_not_nearest")
    );
    assert!(
        table.contains("nyc,AS65101,1.0,ny1,65101 65010 64500,0.0,8.0,34.0,ny1,34.0,"),
        "{table}"
    );
    assert_eq!(lines.count(), 15);
    // ams1 serves Frankfurt alone (1 of 15 users); one prepend, or asking
    // its upstreams for a lower LOCAL_PREF, loses it.
    let sweep = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    assert_eq!(
        sweep,
        "knob,share\nprepend 0,0.066667\nprepend 1,0.000000\nprepend 2,0.000000\n\
         prepend 3,0.000000\nlocal-pref 70,0.000000\nlocal-pref 10,0.000000\n"
    );
}

#[test]
fn every_bundled_network_scenario_loads() {
    for name in [
        "edge-steady.toml",
        "edge-generated.toml",
        "ny-shutdown.toml",
        "ny-crash-hold.toml",
        "ny-crash-bfd.toml",
        "ny-service-down.toml",
    ] {
        let net = network(name);
        assert!(net.built.sites().len() >= 9, "{name}");
        let c = compute(&net.built, &net.announcements, &net.latency, net.decision).unwrap();
        assert!(
            c.rows.iter().all(|r| r.site.is_some()),
            "{name}: a population has no route"
        );
    }
}

#[test]
fn network_runs_have_a_common_summary_for_sweeps() {
    let s = Scenario::load(&scenario_path("ny-crash-bfd.toml")).unwrap();
    let summary = cutover::runs::summary::summarise(&s, 1).unwrap();
    let blackhole = cutover::runs::summary::figure(&summary, "longest_blackhole_s").unwrap();
    assert!((0.6..=1.2).contains(&blackhole), "{blackhole}");
    assert!(cutover::runs::summary::figure(&summary, "failed_requests").unwrap() > 0.0);
}
