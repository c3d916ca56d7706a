//! BGP as real estates run it, written in the estate file: sites of a
//! second origin AS, decision options and export policies, per-session
//! settings, IGP metrics and damping; each with its located errors.

use std::path::PathBuf;

use cutover::estate::Estate;
use cutover::scenario::Source;
use cutover_models::bgp::catchment::{compute, Catchment};
use cutover_models::bgp::topology::Topology;
use cutover_models::bgp::Asn;

fn story(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/story")
        .join(name)
}

/// The story estate's text.
fn story_text() -> String {
    std::fs::read_to_string(story("estate.toml")).unwrap()
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
