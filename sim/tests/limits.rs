//! Inputs that would exhaust memory or never end are refused before a run,
//! with the field, the estimate and the limit; messages name the field.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bundled(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

fn cutover(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes `text` as `name` (with the fragments bundled scenarios name
/// beside it) and returns the error `cutover validate` gives.
fn refused(name: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("edge-topology.toml"),
        bundled("edge-topology.toml"),
    )
    .unwrap();
    let file: PathBuf = dir.path().join(name);
    std::fs::write(&file, text).unwrap();
    let (code, stderr) = cutover(&["validate", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    stderr
        .replace(file.to_str().unwrap(), "FILE")
        .trim()
        .to_string()
}

const MMC: &str = r#"[scenario]
name = "small"

[mmc]
servers = 4
arrival_rate = "3/s"
service_rate = "1/s"
customers = 1000
"#;

#[test]
fn flags_zero_and_huge_are_refused_with_what_is_allowed() {
    let sweep = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/mmc-sweep.toml");
    let plan = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/story/plan-gameday.toml"
    );
    for (args, expected) in [
        (
            vec!["sweep", sweep, "--out", "x", "--replications", "0"],
            "invalid value '0' for '--replications <REPLICATIONS>': allowed: a whole number from 1 to 1000000",
        ),
        (
            vec!["sweep", sweep, "--out", "x", "--threads", "0"],
            "invalid value '0' for '--threads <THREADS>': allowed: a whole number from 1 to 1024",
        ),
        (
            vec!["plan", plan, "--replications", "1000000000"],
            "invalid value '1000000000' for '--replications <REPLICATIONS>': allowed",
        ),
        (
            vec!["plan", plan, "--replications", "0"],
            "invalid value '0' for '--replications <REPLICATIONS>': allowed",
        ),
        (
            vec!["plan", plan, "--replications", "2", "--threads", "1000000"],
            "invalid value '1000000' for '--threads <THREADS>': allowed",
        ),
    ] {
        let (code, stderr) = cutover(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    assert!(!Path::new("x").exists());
}

#[test]
fn mmc_values_that_never_end_or_exhaust_memory() {
    let err = refused("a.toml", &MMC.replace("\"3/s\"", "\"0.0000001/s\""));
    assert!(
        err.starts_with("error: FILE:6:16: field `mmc.arrival_rate`: 1000 customers at 0.0000001/s span about 1.000e10 s of simulated time, 1.7e8 rows of timeline.csv"),
        "{err}"
    );
    let err = refused(
        "a.toml",
        &MMC.replace("servers = 4", "servers = 1000000000"),
    );
    assert!(
        err.starts_with("error: FILE:5:11: field `mmc.servers`: 1000000000 servers; allowed: a whole number from 1 to 1000000"),
        "{err}"
    );
    let err = refused("a.toml", &MMC.replace("\"3/s\"", "\"1e308/s\""));
    assert!(
        err.starts_with(
            "error: FILE:6:16: field `mmc.arrival_rate`: 1e308/s; allowed: at most 1e9/s"
        ),
        "{err}"
    );
}

/// Writes `text` as `story/NAME` beside the story's estate (and the
/// estate as `story/estate.toml` unless `name` is the estate itself, with
/// its price books) and returns the error `cutover validate` gives.
fn refused_in_story(name: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("edge-topology.toml"),
        bundled("edge-topology.toml"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("story")).unwrap();
    std::fs::create_dir(dir.path().join("traces")).unwrap();
    std::fs::write(
        dir.path().join("traces/evening-illustrative.csv"),
        bundled("traces/evening-illustrative.csv"),
    )
    .unwrap();
    // The price books the story's estate names.
    std::fs::create_dir(dir.path().join("pricebooks")).unwrap();
    for book in ["hyperscaler.toml", "baremetal.toml", "colocation.toml"] {
        let path = format!("pricebooks/{book}");
        std::fs::write(dir.path().join(&path), bundled(&path)).unwrap();
    }
    std::fs::write(
        dir.path().join("story/estate.toml"),
        bundled("story/estate.toml"),
    )
    .unwrap();
    let file: PathBuf = dir.path().join("story").join(name);
    std::fs::write(&file, text).unwrap();
    let (code, stderr) = cutover(&["validate", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    stderr
        .replace(file.to_str().unwrap(), "FILE")
        .trim()
        .to_string()
}

#[test]
fn experiment_estate_and_plan_periods_are_bounded() {
    let spike = bundled("story/spike.toml");
    assert!(spike.contains("timeline_interval = \"15s\""));
    let err = refused_in_story(
        "s.toml",
        &spike.replace("timeline_interval = \"15s\"", "timeline_interval = \"1ns\""),
    );
    assert!(
        err.contains("field `output.timeline_interval`: 30 min at one row per 1 ns is 1.8e12 timeline rows; allowed: at most 1.0e7 rows"),
        "{err}"
    );
    let drill = bundled("story/ny-shutdown.toml");
    let err = refused_in_story(
        "n.toml",
        &drill.replace("duration = \"300s\"", "duration = \"200000d\""),
    );
    assert!(err.contains("field `experiment.tick`"), "{err}");
    assert!(err.contains("at most 10000000 ticks"), "{err}");
    let estate = bundled("story/estate.toml");
    let err = refused_in_story(
        "estate.toml",
        &estate.replace("mrai = \"30s\"", "mrai = \"1ns\""),
    );
    assert!(
        err.contains("field `network.mrai`: 1 ns; allowed: \"0s\" (off) or at least \"10ms\""),
        "{err}"
    );
    let err = refused_in_story(
        "estate.toml",
        &estate.replace(
            "target_cpu_utilization = 70",
            "target_cpu_utilization = 70\nsync_period = \"1ns\"",
        ),
    );
    assert!(
        err.contains("field `hpa.sync_period`: 1 ns; allowed: at least \"1s\""),
        "{err}"
    );
}

#[test]
fn a_huge_name_in_a_price_book_is_refused() {
    let book = bundled("pricebooks/baremetal.toml");
    let long = "x".repeat(2_000_000);
    let err = refused(
        "b.toml",
        &book.replace("name = \"baremetal\"", &format!("name = \"{long}\"")),
    );
    assert!(
        err.contains("field `book.name`: a text of 2000000 bytes; allowed: at most 65536 bytes"),
        "{err}"
    );
    let err = refused(
        "b.toml",
        &book.replace(
            "name = \"baremetal\"",
            &format!("name = \"{}\"", "n".repeat(300)),
        ),
    );
    assert!(
        err.contains("field `book.name`: a name of 300 characters; allowed: at most 200"),
        "{err}"
    );
}

#[test]
fn messages_name_the_field() {
    let err = refused(
        "a.toml",
        &MMC.replace("servers = 4", "servers = 99999999999999999999"),
    );
    assert_eq!(
        err,
        "error: FILE:5:11: field `mmc.servers`: the number is out of range for any whole-number field (allowed: -9223372036854775808 to 18446744073709551615)"
    );
    let plan = bundled("central/plan-vm-to-k8s.toml");
    let observe = "observe = [\"30m\", \"30m\", \"7d\", \"30m\"]";
    assert!(plan.contains(observe));
    let err = refused("p.toml", &plan.replace(observe, "observe = 5"));
    assert!(
        err.contains("field `plan.stages.observe`: invalid type: integer `5`, expected one duration for every stage"),
        "{err}"
    );
    let estate = bundled("story/estate.toml");
    let err = refused_in_story(
        "estate.toml",
        &estate.replace("edge-topology.toml", "missing.toml"),
    );
    assert!(
        err.starts_with("error: FILE:25:12: field `network.topology`: cannot read"),
        "{err}"
    );
    let trace = bundled("story/trace.toml");
    let err = refused_in_story(
        "t.toml",
        &trace.replace("evening-illustrative.csv", "missing.csv"),
    );
    assert!(err.contains("field `traffic.trace`: cannot read"), "{err}");
}

#[test]
fn long_names_are_refused_in_every_kind_of_scenario() {
    let long = "n".repeat(201);
    let story = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/story/estate.toml");
    for (file, name, field) in [
        ("mmc.toml", "M/M/16 at utilisation 0.9", "scenario.name"),
        (
            "cost-cloud.toml",
            "Nine-region estate on a hyperscaler",
            "scenario.name",
        ),
        (
            "story/plan-gameday.toml",
            "Game day: New York dies during Amsterdam's 50 % stage",
            "experiment.name",
        ),
    ] {
        let text = bundled(file).replace(
            "estate = \"estate.toml\"",
            &format!("estate = \"{}\"", story.display()),
        );
        let named = format!("name = \"{name}\"");
        assert!(text.contains(&named), "{file}");
        let base = Path::new(file).file_name().unwrap().to_str().unwrap();
        let err = refused(base, &text.replace(&named, &format!("name = \"{long}\"")));
        assert!(
            err.contains(&format!(
                "field `{field}`: a name of 201 characters; allowed: at most 200"
            )),
            "{file}: {err}"
        );
    }
}
