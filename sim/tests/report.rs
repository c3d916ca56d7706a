//! `cutover report` on the directories of every kind of run: catchments
//! and sweeps get a page with labelled figures and their own title.

use std::path::{Path, PathBuf};
use std::process::Command;

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name)
}

fn cutover(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cutover {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn page(dir: &Path) -> String {
    cutover(&["report", dir.to_str().unwrap()]);
    std::fs::read_to_string(dir.join("report.html")).unwrap()
}

#[test]
fn a_catchment_directory_gets_a_page() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("catchment");
    let file = scenario("story/estate.toml");
    cutover(&[
        "catchment",
        file.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
        "--sweep",
        "ams1",
    ]);
    let html = page(&dir);
    assert!(html.contains("<h2>Share of users by site</h2>"), "{html}");
    assert!(html.contains("<h2>Share of users at ams1 by BGP knob</h2>"));
    assert!(
        html.contains("<td>nyc</td><td>AS65101</td><td>ny1</td><td>34.0 ms</td>"),
        "{html}"
    );
}

#[test]
fn a_sweep_page_is_titled_by_its_scenario_and_gives_units() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sweep");
    let file = scenario("mmc-sweep.toml");
    cutover(&[
        "sweep",
        file.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
        "--replications",
        "2",
    ]);
    let html = page(&dir);
    assert!(!html.contains("<title>cutover run</title>"));
    assert!(
        html.contains("<title>M/M/c server count sweep</title>"),
        "{html}"
    );
    assert!(html.contains("mean_wait_s (mean; P10 to P90)"));
    assert!(html.contains(" ms ("), "figures carry their unit: {html}");
}
