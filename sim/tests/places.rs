//! Sites, populations and PoPs placed by latitude and longitude give what
//! the same places from the catalog give.

use std::path::{Path, PathBuf};

use cutover::experiment::load_estate;
use cutover_models::bgp::catchment::compute;
use cutover_models::geo::catalog;

fn story_estate() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/story/estate.toml")
}

/// The site reached and the RTT of every population of the estate at
/// `path`.
fn catchment(path: &Path) -> Vec<(String, Option<String>, Option<f64>)> {
    let (estate, topo) = load_estate(path).unwrap_or_else(|e| panic!("{e}"));
    let c = compute(
        &topo,
        &estate.announcements(),
        &estate.network.latency,
        estate.network.bgp.decision,
    )
    .unwrap();
    c.rows
        .iter()
        .map(|r| {
            (
                topo.populations()[r.population].name.clone(),
                r.site.map(|s| topo.sites()[s].name.clone()),
                r.rtt_ms,
            )
        })
        .collect()
}

/// The story's estate with every population and site written by name and
/// coordinates instead of catalog code, in a temporary directory.
fn by_coordinates(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(story_estate()).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let placed = |code: &str| {
            let c = catalog::city(code).unwrap();
            format!("lat = {}\nlon = {}", c.lat_deg, c.lon_deg)
        };
        if let Some(code) = line
            .strip_prefix("city = \"")
            .and_then(|l| l.strip_suffix('"'))
        {
            let name = catalog::city(code).unwrap().name;
            out.push_str(&format!("city = \"{name}\"\n{}\n", placed(code)));
        } else if let Some(tag) = line
            .strip_prefix("tag = \"")
            .and_then(|l| l.strip_suffix('"'))
        {
            let code = catalog::site(tag).unwrap().city;
            out.push_str(&format!("{line}\n{}\n", placed(code)));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    let story = story_estate().parent().unwrap().display().to_string();
    let out = out.replace("\"../", &format!("\"{story}/../"));
    let path = dir.join("estate.toml");
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn places_by_coordinates_give_the_catalogs_catchment() {
    let dir = tempfile::tempdir().unwrap();
    let path = by_coordinates(dir.path());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("city = \"Mumbai\"\nlat = 19.076\n"), "{text}");
    let by_code = catchment(&story_estate());
    let by_place = catchment(&path);
    assert_eq!(by_code.len(), by_place.len());
    for (a, b) in by_code.iter().zip(&by_place) {
        assert_eq!(catalog::city(&a.0).unwrap().name, b.0);
        assert_eq!((&a.1, a.2), (&b.1, b.2), "{}", a.0);
    }
}

fn estate_error(dir: &Path, extra_site: &str, pops: &str) -> String {
    let text = format!(
        "[estate]\nname = \"e\"\n[network]\n\n[[network.as]]\nasn = 65010\npops = [\"nyc\", {pops}]\n\n\
         [[network.as]]\nasn = 65101\npops = [\"nyc\"]\n\n[[network.links]]\nprovider = 65010\ncustomer = 65101\n\n\
         [deployment]\nreplicas = 2\ncpu_request = \"1\"\ncpu_limit = \"1\"\ncpu_per_request = \"10ms\"\n\
         concurrency = 16\nqueue_limit = 200\ntimeout = \"5s\"\n\n[hpa]\nmin_replicas = 2\nmax_replicas = 4\n\
         target_cpu_utilization = 70\n\n\
         [nodes]\nkind = \"bare-metal\"\ncount = 1\nallocatable_cpu = \"8\"\n\n\
         [[sites]]\ntag = \"ny1\"\nupstreams = [65010]\n{extra_site}\n\n\
         [[populations]]\ncity = \"nyc\"\nisp = 65101\n"
    );
    let path = dir.join("e.toml");
    std::fs::write(&path, text).unwrap();
    match load_estate(&path) {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn coordinates_are_checked_where_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let pop = "{ name = \"lagos\", lat = 6.45, lon = 3.39 }";
    assert_eq!(
        estate_error(dir.path(), "", pop),
        "",
        "a PoP by coordinates"
    );
    assert_eq!(
        estate_error(
            dir.path(),
            "[[sites]]\ntag = \"los1\"\nlat = 6.45\nlon = 3.39\nupstreams = [65010]",
            pop
        ),
        "",
        "a site by coordinates"
    );
    let cases = [
        (
            "lat = 95.0\nlon = 0.0",
            pop,
            "field `sites[0].lat`: latitude",
        ),
        ("lat = 40.0", pop, "field `sites[0].lat`: no `lon`"),
        ("lon = 40.0", pop, "field `sites[0].lon`: no `lat`"),
        (
            "",
            "{ name = \"x\", lat = 6.45, lon = 300.0 }",
            "e.toml:7:48: field `network.as[0].pops[1].lon`: longitude 300",
        ),
        (
            "",
            "{ name = \"x\", lat = 6.45 }",
            "field `network.as[0].pops[1]`: missing field `lon`",
        ),
        (
            "",
            "7",
            "field `network.as[0].pops[1]`: invalid type: integer `7`, expected a catalog city code",
        ),
    ];
    for (site, pops, want) in cases {
        let err = estate_error(dir.path(), site, pops);
        assert!(err.contains(want), "{err}\nwanted: {want}");
    }
}
