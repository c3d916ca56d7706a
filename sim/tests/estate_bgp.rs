//! BGP as real estates run it, written in the estate file: sites of a
//! second origin AS, decision options and export policies, per-session
//! settings, IGP metrics and damping; each with its located errors.

use std::path::PathBuf;

use cutover::estate::Estate;
use cutover::scenario::Source;
use cutover_models::bgp::catchment::{compute, Catchment};
use cutover_models::bgp::topology::Topology;
use cutover_models::bgp::Asn;
use cutover_models::failure::Detection;
use cutover_models::SimDuration;

fn story(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/story")
        .join(name)
}

/// The story estate's text.
/// The story estate's text, its price books named by absolute path so
/// that a copy elsewhere still finds them.
fn story_text() -> String {
    let books = story("../pricebooks/");
    std::fs::read_to_string(story("estate.toml"))
        .unwrap()
        .replace(
            "\"../pricebooks/",
            &format!("\"{}/", books.to_str().unwrap()),
        )
}

/// The story estate with `edit` applied: `(old, new)` replaced once.
fn edited(edits: &[(&str, &str)]) -> String {
    let mut text = story_text();
    for (old, new) in edits {
        assert!(text.contains(old), "the story estate has no `{old}`");
        text = text.replacen(old, new, 1);
    }
    text
}

fn load(text: &str) -> Result<(Estate, Topology), String> {
    let source = Source::from_text(&story("test.toml"), text.to_string());
    let estate = Estate::from_source(&source).map_err(|e| e.to_string())?;
    let topo = estate
        .build_topology(&source, &|i| format!("sites[{i}]"))
        .map_err(|e| e.to_string())?;
    Ok((estate, topo))
}

fn catchment(estate: &Estate, topo: &Topology) -> Catchment {
    compute(
        topo,
        &estate.announcements(),
        &estate.network.latency,
        estate.network.bgp.decision,
    )
    .unwrap()
}

/// The row of the users of `city`.
fn row<'a>(
    c: &'a Catchment,
    topo: &Topology,
    city: &str,
) -> &'a cutover_models::bgp::catchment::CatchmentRow {
    c.rows
        .iter()
        .find(|r| topo.populations()[r.population].name == city)
        .unwrap()
}

/// The line of `text` holding `needle`, 1-based.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn a_site_of_a_second_origin_as_announces_the_same_prefix() {
    let text = edited(&[("tag = \"ams1\"\n", "tag = \"ams1\"\norigin_asn = 64501\n")]);
    let (estate, topo) = load(&text).unwrap();
    assert!(topo.is_origin(Asn(64500)) && topo.is_origin(Asn(64501)));
    let ams = estate.site_index("ams1").unwrap();
    assert_eq!(topo.router(topo.sites()[ams].router).asn, Asn(64501));
    // Frankfurt's users still land at ams1, over a path that ends in the
    // partner's AS.
    let c = catchment(&estate, &topo);
    let fra = row(&c, &topo, "fra");
    assert_eq!(fra.site, Some(ams));
    assert_eq!(fra.as_path.last(), Some(&Asn(64501)));
}

#[test]
fn an_origin_asn_of_the_graph_is_refused_where_it_is_written() {
    let text = edited(&[("tag = \"ams1\"\n", "tag = \"ams1\"\norigin_asn = 65030\n")]);
    assert_located(
        &text,
        "origin_asn = 65030",
        "sites[2].origin_asn",
        "AS65030 is in the AS graph",
    );
}

/// The story estate with `lines` added to `[network]`, and, after the
/// network's other fields, `tables` (its sub-tables) before `[detection]`.
fn with_network(lines: &str, tables: &str) -> String {
    edited(&[(
        "topology = \"../edge-topology.toml\"\n",
        &format!("topology = \"../edge-topology.toml\"\n{lines}\n{tables}\n"),
    )])
}

#[test]
fn export_policies_are_written_for_every_as_or_one() {
    use cutover_models::bgp::policy::ExportPolicy;
    let text = with_network(
        "export = \"all\"\ndeterministic_med = false\nalways_compare_med = true",
        "[[network.policies]]\nasn = 65050\nexport = \"route-server\"\n\n\
         [[network.policies]]\nasn = 65030\nexport_to = [65010]",
    );
    let (estate, topo) = load(&text).unwrap();
    assert!(!estate.network.bgp.decision.deterministic_med);
    assert!(estate.network.bgp.decision.always_compare_med);
    assert_eq!(*topo.export_policy(Asn(65010)), ExportPolicy::All);
    assert_eq!(*topo.export_policy(Asn(65050)), ExportPolicy::RouteServer);
    assert_eq!(
        *topo.export_policy(Asn(65030)),
        ExportPolicy::ToSet([Asn(65010)].into())
    );
    // Unwritten, BGP stays as before: Gao-Rexford, deterministic MED.
    let (plain, topo) = load(&story_text()).unwrap();
    assert!(plain.network.bgp.decision.deterministic_med);
    assert!(topo.export_policies_are_default());
}

#[test]
fn bad_export_policies_are_located() {
    let cases = [
        (
            with_network("export = \"route-server\"", ""),
            "export = \"route-server\"",
            (
                "network.export",
                "`route-server`; allowed: \"gao-rexford\", \"all\"",
            ),
        ),
        (
            with_network("", "[[network.policies]]\nasn = 65999\nexport = \"all\""),
            "asn = 65999",
            ("network.policies[0].asn", "AS65999 is not in the AS graph"),
        ),
        (
            with_network("", "[[network.policies]]\nasn = 65010\nexport = \"some\""),
            "export = \"some\"",
            (
                "network.policies[0].export",
                "`some`; allowed: \"gao-rexford\", \"all\", \"route-server\", \"none\"",
            ),
        ),
        (
            with_network(
                "",
                "[[network.policies]]\nasn = 65010\nexport = \"all\"\n\
                 [[network.policies]]\nasn = 65010\nexport_to = [65020]",
            ),
            "export_to = [65020]",
            ("network.policies[1].asn", "AS65010 has a policy already"),
        ),
    ];
    for (text, needle, (field, message)) in cases {
        assert_located(&text, needle, field, message);
    }
}

/// Loading `text` fails at `field` with `message`, on the line of
/// `needle` (or of its table, up to two lines above).
fn assert_located(text: &str, needle: &str, field: &str, message: &str) {
    let err = load(text).unwrap_err();
    assert!(
        err.contains(&format!("field `{field}`: {message}")),
        "{err}"
    );
    // Errors point at the line of the value (or its table).
    let line: usize = err.split(':').nth(1).unwrap().parse().unwrap();
    let wanted = line_of(text, needle);
    assert!(
        line + 2 >= wanted && line <= wanted,
        "{err}: line {wanted} wanted"
    );
}

/// The router of `asn` at PoP `pop`.
fn router_at(topo: &Topology, asn: u32, pop: &str) -> cutover_models::bgp::RouterId {
    let i = topo
        .routers()
        .iter()
        .position(|r| r.asn == Asn(asn) && r.name == pop)
        .unwrap();
    cutover_models::bgp::RouterId(i as u32)
}

#[test]
fn sessions_between_two_ases_carry_timers_export_and_no_export() {
    use cutover_models::bgp::policy::ExportPolicy;
    let text = with_network(
        "",
        "[[network.sessions]]\nbetween = [64500, 65020]\nmrai = \"5s\"\n\
         rate_limit_withdrawals = true\nsender_side_loop_detection = true\n\
         out_delay = \"1s\"\nexport = \"none\"\nno_export = true",
    );
    let (estate, topo) = load(&text).unwrap();
    let ny = topo.sites()[estate.site_index("ny1").unwrap()].router;
    let b = router_at(&topo, 65020, "nyc");
    let s = topo.session(ny, b);
    assert_eq!(s.mrai, Some(cutover_models::SimDuration::from_secs(5)));
    assert!(s.rate_limit_withdrawals && s.sender_side_loop_detection);
    assert_eq!(s.out_delay, cutover_models::SimDuration::from_secs(1));
    assert_eq!(s.detection, None);
    // Both ways for the timers, one way for the policy.
    assert_eq!(topo.session(b, ny), s);
    assert_eq!(
        *topo.export_policy_between(ny, b),
        ExportPolicy::ToSet(Default::default())
    );
    assert_eq!(*topo.export_policy_between(b, ny), ExportPolicy::GaoRexford);
    assert!(topo.tags_no_export(Asn(64500), Asn(65020)));
    assert!(!topo.tags_no_export(Asn(65020), Asn(64500)));
}

#[test]
fn one_site_runs_bfd_and_announces_to_one_upstream() {
    let text = with_network(
        "",
        "[[network.sessions]]\nsite = \"ams1\"\nupstream = 65010\ndetection = \"bfd\"\n\
         bfd_interval = \"50ms\"\nexport = \"none\"\n\n\
         [[network.sessions]]\nsite = \"ams1\"\nupstream = 65020\nhold_time = \"9s\"\n\
         keepalive = \"3s\"",
    );
    let (estate, topo) = load(&text).unwrap();
    let ams = topo.sites()[estate.site_index("ams1").unwrap()].router;
    let ny = topo.sites()[estate.site_index("ny1").unwrap()].router;
    let (a10, a20) = (
        router_at(&topo, 65010, "ams"),
        router_at(&topo, 65020, "ams"),
    );
    // [detection]'s BFD multiplier 3 with the session's own interval.
    assert_eq!(
        topo.session(ams, a10).detection,
        Some(Detection::Bfd {
            interval: SimDuration::from_millis(50),
            multiplier: 3
        })
    );
    assert_eq!(
        topo.session(ams, a20).detection,
        Some(Detection::HoldTimer {
            hold: SimDuration::from_secs(9),
            keepalive: SimDuration::from_secs(3)
        })
    );
    // Other sites keep the estate's defaults.
    assert_eq!(
        topo.session(ny, router_at(&topo, 65010, "nyc")).detection,
        None
    );
    // Frankfurt's users, customers of both transits, reached ams1 over
    // AS65010; announced to AS65020 only, ams1's route ties with ny1's
    // over AS65010 (two ASes each) and loses on router id: Frankfurt
    // lands in New York.
    let (plain, plain_topo) = load(&story_text()).unwrap();
    let before = catchment(&plain, &plain_topo);
    let fra = row(&before, &plain_topo, "fra");
    assert_eq!(fra.as_path, vec![Asn(65114), Asn(65010), Asn(64500)]);
    let c = catchment(&estate, &topo);
    let fra = row(&c, &topo, "fra");
    assert_eq!(fra.site, estate.site_index("ny1"));
    assert_eq!(fra.as_path, vec![Asn(65114), Asn(65010), Asn(64500)]);
    assert_eq!(
        fra.why_not_nearest,
        "AS65114 (Frankfurt access) at fra prefers ny1: router-id tie-break, ny1 vs ams1"
    );
}

#[test]
fn bad_sessions_are_located() {
    let session = |body: &str| with_network("", &format!("[[network.sessions]]\n{body}"));
    let cases = [
        (
            session("site = \"xyz1\"\nupstream = 65010"),
            "site = \"xyz1\"",
            "network.sessions[0].site",
            "unknown site `xyz1`; allowed: ny1, la1",
        ),
        (
            session("site = \"szx1\"\nupstream = 65010"),
            "upstream = 65010",
            "network.sessions[0].upstream",
            "AS65010 is not an upstream or peer of szx1; allowed: 65030",
        ),
        (
            session("between = [64500, 65999]"),
            "between = [64500, 65999]",
            "network.sessions[0].between[1]",
            "AS65999 is neither in the AS graph nor an origin AS",
        ),
        (
            session("between = [64500, 65010]\nsite = \"ny1\""),
            "[[network.sessions]]",
            "network.sessions[0]",
            "name the sessions with `between = [ASN, ASN]`",
        ),
        (
            session("between = [64500, 65010]\nmrai = \"5ms\""),
            "mrai = \"5ms\"",
            "network.sessions[0].mrai",
            "5 ms; allowed: \"0s\" (off) or at least \"10ms\"",
        ),
        (
            session("between = [64500, 65010]\nhold_time = \"9s\""),
            "hold_time = \"9s\"",
            "network.sessions[0].keepalive",
            "30 s is longer than the hold time 9 s",
        ),
        (
            session("between = [64500, 65010]\nhold_time = \"9s\"\nbfd_multiplier = 3"),
            "[[network.sessions]]",
            "network.sessions[0]",
            "settings of two detection methods",
        ),
        (
            session("between = [64500, 65010]\ndetection = \"bfd\"\nkeepalive = \"1s\""),
            "detection = \"bfd\"",
            "network.sessions[0].detection",
            "`bfd`, but the entry gives another method's settings",
        ),
        (
            session("between = [65010, 65010]\nno_export = true"),
            "between = [65010, 65010]",
            "network.sessions[0].between",
            "an AS with itself is its iBGP mesh",
        ),
        (
            session("between = [64500, 65010]\nout_delay = \"1h\""),
            "out_delay = \"1h\"",
            "network.sessions[0].out_delay",
            "1 h; allowed: at most 10 min",
        ),
        (
            with_network(
                "",
                "[[network.sessions]]\nbetween = [64500, 65010]\n\
                 [[network.sessions]]\nbetween = [65010, 64500]",
            ),
            "between = [65010, 64500]",
            "network.sessions[1]",
            "these sessions are configured above already",
        ),
    ];
    for (text, needle, field, message) in cases {
        assert_located(&text, needle, field, message);
    }
}

/// The ny-shutdown drill on the estate `text` (the story's, edited):
/// every route change.
fn ny_shutdown_routes(text: &str) -> Vec<cutover::world::RouteChange> {
    story_routes("ny-shutdown.toml", text)
}

/// The story's experiment `name` on the estate `text`: every route change.
fn story_routes(name: &str, text: &str) -> Vec<cutover::world::RouteChange> {
    use cutover::experiment::Experiment;
    use cutover::world::World;
    let dir = tempfile::tempdir().unwrap();
    let topology = story("../edge-topology.toml");
    let estate = text.replace(
        "topology = \"../edge-topology.toml\"",
        &format!("topology = {:?}", topology.to_str().unwrap()),
    );
    let estate_path = dir.path().join("estate.toml");
    std::fs::write(&estate_path, estate).unwrap();
    let text = std::fs::read_to_string(story(name)).unwrap().replace(
        "estate = \"estate.toml\"",
        &format!("estate = {:?}", estate_path.to_str().unwrap()),
    );
    let exp = Experiment::from_source(&Source::from_text(&story("test.toml"), text)).unwrap();
    World::new(&exp, 1).unwrap().run().routes
}

/// When New York's users move off ny1 in the ny-shutdown drill, seconds.
fn ny_moves_after_shutdown(tables: &str) -> f64 {
    ny_shutdown_routes(&with_network("", tables))
        .iter()
        .find(|r| r.population == "nyc" && r.from_site == "ny1")
        .map(|r| r.t_s)
        .unwrap()
}

#[test]
fn an_out_delay_holds_back_every_update_over_its_sessions() {
    let plain = ny_moves_after_shutdown("");
    // ny1's withdrawal reaches both its transits 2 s late; nothing else
    // changes, so its users move exactly 2 s later.
    let delayed = ny_moves_after_shutdown(
        "[[network.sessions]]\nsite = \"ny1\"\nupstream = 65010\nout_delay = \"2s\"\n\
         [[network.sessions]]\nsite = \"ny1\"\nupstream = 65020\nout_delay = \"2s\"",
    );
    assert!(plain > 60.0, "{plain}");
    assert!((delayed - plain - 2.0).abs() < 1e-6, "{plain} -> {delayed}");
}

/// ny1 announcing from its own AS64501: when it shuts down, New York's
/// ISP hears a new AS path (…64500 instead of …64501) from each transit.
const NY_OWN_ASN: (&str, &str) = ("tag = \"ny1\"\n", "tag = \"ny1\"\norigin_asn = 64501\n");

#[test]
fn damping_suppresses_a_changed_route_until_its_penalty_decays() {
    let plain = ny_shutdown_routes(&edited(&[NY_OWN_ASN]));
    assert!(
        plain.iter().all(|r| !r.to_site.is_empty()),
        "no route is lost"
    );
    // A change of attributes costs 1000 here, above suppress 900: each
    // transit's new route is suppressed for half_life x log2(1000 / 500)
    // = 60 s exactly (RFC 2439 section 4.4).
    let damping = "[network.damping]\npenalty = 1000\nattribute_change_penalty = 1000\n\
                   suppress = 900\nreuse = 500\nhalf_life = \"1m\"\nmax_suppress = \"10m\"";
    let text = edited(&[
        NY_OWN_ASN,
        (
            "topology = \"../edge-topology.toml\"\n",
            &format!("topology = \"../edge-topology.toml\"\n{damping}\n"),
        ),
    ]);
    let damped = ny_shutdown_routes(&text);
    let nyc: Vec<_> = damped.iter().filter(|r| r.population == "nyc").collect();
    // ny1 -> la1 as the transit's iBGP moves the traffic; lost when the
    // second transit's UPDATE is suppressed too; back when the first
    // suppression ends.
    assert_eq!(nyc.len(), 3, "{nyc:?}");
    assert_eq!(
        (nyc[1].from_site.as_str(), nyc[1].to_site.as_str()),
        ("la1", "")
    );
    assert_eq!(
        (nyc[2].from_site.as_str(), nyc[2].to_site.as_str()),
        ("", "la1")
    );
    let (lost, back) = (nyc[1].t_s, nyc[2].t_s);
    // The first suppressing UPDATE came after the shutdown and no later
    // than the second.
    let first_flap = back - 60.0;
    assert!(first_flap > 60.0 && first_flap <= lost, "{lost} .. {back}");
    let (estate, _) = load(&text).unwrap();
    assert_eq!(estate.bgp_policy.damping.unwrap().suppress, 900.0);
}

#[test]
fn damping_defaults_to_cisco_and_refuses_limits_that_never_suppress() {
    use cutover_models::failure::DampingParams;
    let (estate, _) = load(&with_network("", "[network.damping]")).unwrap();
    assert_eq!(estate.bgp_policy.damping, Some(DampingParams::CISCO));
    let (plain, _) = load(&story_text()).unwrap();
    assert_eq!(plain.bgp_policy.damping, None);
    let cases = [
        (
            "[network.damping]\nreuse = 3000",
            "reuse = 3000",
            "network.damping.reuse",
            "3000; allowed: above 0 and below suppress (2000)",
        ),
        (
            "[network.damping]\nmax_suppress = \"15m\"",
            "max_suppress = \"15m\"",
            "network.damping.max_suppress",
            "15 min: the penalty's ceiling, reuse x 2^(max_suppress / half_life) = 1500, does not exceed suppress (2000)",
        ),
        (
            "[network.damping]\npenalty = -1",
            "penalty = -1",
            "network.damping.penalty",
            "-1; allowed: a number from 0 to 1e9",
        ),
        (
            "[network.damping]\nhalf_life = \"0s\"",
            "half_life = \"0s\"",
            "network.damping.half_life",
            "0 s; allowed: at least \"1ms\"",
        ),
    ];
    for (table, needle, field, message) in cases {
        assert_located(&with_network("", table), needle, field, message);
    }
}

/// When New York's users, lost since ny1's service died at 60 s, reach
/// la1, with `detection` lines added to the story's `[detection]`.
fn ny_service_down_moves(detection: &str) -> f64 {
    let text = edited(&[(
        "crash = \"hold-timer\"\n",
        &format!("crash = \"hold-timer\"\n{detection}\n"),
    )]);
    story_routes("ny-service-down.toml", &text)
        .iter()
        .find(|r| r.population == "nyc" && r.to_site == "la1")
        .map(|r| r.t_s)
        .unwrap()
}

#[test]
fn a_health_check_whose_probes_are_refused_withdraws_sooner() {
    // ExaBGP's defaults (every 5 s, fast re-check 1 s, fall 3): a hanging
    // service costs (1 - u) x 5 + 5 + 2 x (1 + 5) = 17 to 22 s; a refused
    // probe (1 - u) x 5 + 2 x 1 = 2 to 7 s; BGP then moves the users
    // within the processing delay (100 ms).
    let hanging = ny_service_down_moves("") - 60.0;
    let refused = ny_service_down_moves("health_refused = true") - 60.0;
    assert!((17.0..22.2).contains(&hanging), "{hanging}");
    assert!((2.0..7.2).contains(&refused), "{refused}");
}

/// The China backbone's IGP as a chain along the coast with the inland
/// PoPs hanging off Hangzhou: Beijing is 30 from Hangzhou, 80 from Wuhan.
const CHINA_IGP: &str = "\
[[network.igp_links]]\nasn = 65030\nbetween = [\"pek\", \"sha\"]\nmetric = 10\n\
[[network.igp_links]]\nasn = 65030\nbetween = [\"sha\", \"nkg\"]\nmetric = 10\n\
[[network.igp_links]]\nasn = 65030\nbetween = [\"nkg\", \"hgh\"]\nmetric = 10\n\
[[network.igp_links]]\nasn = 65030\nbetween = [\"hgh\", \"can\"]\nmetric = 10\n\
[[network.igp_links]]\nasn = 65030\nbetween = [\"can\", \"szx\"]\nmetric = 10\n\
[[network.igp_links]]\nasn = 65030\nbetween = [\"szx\", \"hkg\"]\nmetric = 10\n\
[[network.igp_links]]\nasn = 65030\nbetween = [\"hgh\", \"wuh\"]\nmetric = 50\n\
[[network.igp_links]]\nasn = 65030\nbetween = [\"wuh\", \"ctu\"]\nmetric = 50\n\
[[network.igp_links]]\nasn = 65030\nbetween = [\"ctu\", \"ckg\"]\nmetric = 10\n\
[[network.igp_links]]\nasn = 65030\nbetween = [\"wuh\", \"xiy\"]\nmetric = 50\n";

#[test]
fn igp_metrics_replace_great_circle_costs_in_the_hot_potato() {
    // By great circle the backbone's Beijing PoP is nearest Wuhan (1053 km).
    let (plain, plain_topo) = load(&story_text()).unwrap();
    let before = catchment(&plain, &plain_topo);
    assert_eq!(
        row(&before, &plain_topo, "pek").site,
        plain.site_index("wuh1")
    );
    // Over the IGP it is 30 from Hangzhou's exit and 80 from Wuhan's.
    let (estate, topo) = load(&with_network("", CHINA_IGP)).unwrap();
    let pek = router_at(&topo, 65030, "pek");
    assert_eq!(topo.igp_cost(pek, router_at(&topo, 65030, "hgh")), 30);
    assert_eq!(topo.igp_cost(pek, router_at(&topo, 65030, "wuh")), 80);
    let c = catchment(&estate, &topo);
    let row = row(&c, &topo, "pek");
    assert_eq!(row.site, estate.site_index("hgh1"));
    // Metrics, not km.
    assert_eq!(
        row.why_not_nearest,
        "AS65030 (China backbone) at pek prefers hgh1: IGP cost 30 to the exit for hgh1 vs \
         80 for wuh1 (hot potato)"
    );
}

#[test]
fn bad_igp_links_are_located() {
    let link = |body: &str| with_network("", &format!("[[network.igp_links]]\n{body}"));
    let cases = [
        (
            link("asn = 65030\nbetween = [\"pek\", \"nyc\"]\nmetric = 10"),
            "between = [\"pek\", \"nyc\"]",
            "network.igp_links[0].between[1]",
            "AS65030 has no PoP `nyc`; allowed: pek, sha",
        ),
        (
            link("asn = 65030\nbetween = [\"pek\", \"pek\"]\nmetric = 10"),
            "between = [\"pek\", \"pek\"]",
            "network.igp_links[0].between",
            "allowed: two different PoP names of the AS",
        ),
        (
            link("asn = 65030\nbetween = [\"pek\", \"sha\"]\nmetric = 0"),
            "metric = 0",
            "network.igp_links[0].metric",
            "0; allowed: a whole number from 1 to 16777215",
        ),
        (
            link("asn = 65030\nbetween = [\"pek\", \"sha\"]\nmetric = 10"),
            "asn = 65030",
            "network.igp_links[0]",
            "the IGP links of AS65030 do not reach its PoP `nkg`",
        ),
        (
            link("asn = 64999\nbetween = [\"pek\", \"sha\"]\nmetric = 10"),
            "asn = 64999",
            "network.igp_links[0].asn",
            "AS64999 is not in the AS graph",
        ),
    ];
    for (text, needle, field, message) in cases {
        assert_located(&text, needle, field, message);
    }
}

#[test]
fn routers_csv_shows_each_routers_route_over_time() {
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &str| {
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
            .args(["run", story("ny-shutdown.toml").to_str().unwrap(), "--out"])
            .arg(dir.path().join(out))
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        std::fs::read_to_string(dir.path().join(out).join("routers.csv")).unwrap()
    };
    let csv = run("a");
    assert_eq!(csv, run("b"), "the same seed gives the same bytes");
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(
        csv.lines().next(),
        Some("time_s,router,asn,pop,site,as_path")
    );
    // Transit A's New York PoP: ny1 from its customer at the start; la1
    // (over iBGP, from its Los Angeles PoP) once ny1 withdraws at 60 s.
    let nyc_a: Vec<&Vec<&str>> = rows
        .iter()
        .filter(|r| r[2] == "65010" && r[3] == "nyc")
        .collect();
    assert_eq!(
        (nyc_a[0][0], nyc_a[0][4], nyc_a[0][5]),
        ("0", "ny1", "64500")
    );
    let last = nyc_a.last().unwrap();
    assert_eq!((last[4], last[5]), ("la1", "64500"));
    let moved: f64 = nyc_a[1][0].parse().unwrap();
    assert!((60.0..61.0).contains(&moved), "{moved}");
    // Every router appears at time zero.
    let (_, topo) = load(&story_text()).unwrap();
    let at_zero = rows.iter().filter(|r| r[0] == "0").count();
    assert_eq!(at_zero, topo.routers().len());
}

#[test]
fn tokyo_is_explained_by_the_transit_it_buys_from() {
    // Tokyo's users reach hkg1 over AS65010. The old text blamed the China
    // backbone's hot potato at Hong Kong, an AS their traffic never
    // crosses; what decides is AS65010 preferring its customer hkg1's
    // route over any its peer AS65030 could give it for hgh1.
    let (estate, topo) = load(&story_text()).unwrap();
    let c = catchment(&estate, &topo);
    let tyo = row(&c, &topo, "tyo");
    assert_eq!(tyo.site, estate.site_index("hkg1"));
    assert_eq!(tyo.nearest_site, estate.site_index("hgh1"));
    assert_eq!(
        tyo.why_not_nearest,
        "AS65010 (global transit A) at hkg prefers hkg1: local-pref 130 for hkg1 vs 100 for hgh1"
    );
}

#[test]
fn the_story_estate_writes_a_partner_origin_and_a_no_export_backup() {
    let (estate, topo) = load(&story_text()).unwrap();
    for tag in ["szx1", "hgh1", "ctu1", "wuh1"] {
        let k = estate.site_index(tag).unwrap();
        assert_eq!(topo.router(topo.sites()[k].router).asn, Asn(64501), "{tag}");
    }
    let syd = topo.sites()[estate.site_index("syd1").unwrap()].router;
    assert!(topo.tags_no_export_between(syd, router_at(&topo, 65010, "syd")));
    assert!(!topo.tags_no_export_between(syd, router_at(&topo, 65050, "syd")));
    // Sydney's users still reach syd1, now over the Asia-Pacific transit.
    let c = catchment(&estate, &topo);
    let row = row(&c, &topo, "syd");
    assert_eq!(row.site, estate.site_index("syd1"));
    assert_eq!(row.as_path, vec![Asn(65108), Asn(65050), Asn(64500)]);
}

#[test]
fn a_session_with_a_short_mrai_counts_in_the_work_limit() {
    use cutover::experiment::Experiment;
    let dir = tempfile::tempdir().unwrap();
    let validate = |tables: &str| {
        let topology = story("../edge-topology.toml");
        let estate = with_network("", tables).replace(
            "topology = \"../edge-topology.toml\"",
            &format!("topology = {:?}", topology.to_str().unwrap()),
        );
        let path = dir.path().join("estate.toml");
        std::fs::write(&path, estate).unwrap();
        let text = format!(
            "[experiment]\nname = \"a month\"\nestate = {:?}\nduration = \"30d\"\n\n\
             [traffic]\nbase_rate = \"10/s\"\n\n[output]\ntimeline_interval = \"1h\"\n",
            path.to_str().unwrap()
        );
        Experiment::from_source(&Source::from_text(&story("test.toml"), text))
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    // 30 s MRAI: 2 x 51 sessions x 30 d / 30 s, about 8.8 million events.
    validate("").unwrap();
    // One pair of ASes at 10 ms: counted as if every session had it.
    let err =
        validate("[[network.sessions]]\nbetween = [65010, 65020]\nmrai = \"10ms\"").unwrap_err();
    assert!(
        err.contains("busy MRAI timers: 2 x 51 eBGP sessions x"),
        "{err}"
    );
    assert!(err.contains("/ 10 ms"), "{err}");
}

/// An experiment's crash is noticed by each session's own detection where
/// the estate sets one, else by the failure's: BFD on both of ny1's
/// upstream sessions ends New York's blackhole in about a second, where
/// the hold timer takes over a minute.
#[test]
fn a_crash_is_noticed_by_each_sessions_own_detection() {
    use cutover::experiment::Experiment;
    use cutover::world::World;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("story")).unwrap();
    std::fs::copy(
        story("../edge-topology.toml"),
        dir.path().join("edge-topology.toml"),
    )
    .unwrap();
    let blackhole = |sessions: &str| {
        std::fs::write(
            dir.path().join("story/estate.toml"),
            format!("{}\n{sessions}", story_text()),
        )
        .unwrap();
        let text = "[experiment]\nname = \"c\"\nestate = \"estate.toml\"\nduration = \"10m\"\n\
                    [traffic]\nbase_rate = \"100/s\"\n\
                    [[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"crash\"\ndetection = \"hold-timer\"\n";
        let exp = Experiment::from_source(&Source::from_text(
            &dir.path().join("story/crash.toml"),
            text.to_string(),
        ))
        .unwrap();
        let o = World::new(&exp, 1).unwrap().run();
        let nyc = o.summary.populations.iter().find(|p| p.population == "nyc");
        nyc.unwrap().blackhole_s
    };
    let hold = blackhole("");
    let bfd = blackhole(
        "[[network.sessions]]\nsite = \"ny1\"\nupstream = 65010\ndetection = \"bfd\"\n\
         [[network.sessions]]\nsite = \"ny1\"\nupstream = 65020\ndetection = \"bfd\"\n",
    );
    assert!(hold > 30.0, "hold timer: {hold} s");
    assert!(bfd < 2.0, "BFD sessions: {bfd} s");
}
