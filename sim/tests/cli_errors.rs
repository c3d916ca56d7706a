//! Every class of bad input gets a located, readable error, exit status 2,
//! and leaves no output directory behind.

use std::path::{Path, PathBuf};
use std::process::Command;

const GOOD: &str = r#"[scenario]
name = "small"

[mmc]
servers = 4
arrival_rate = "3/s"
service_rate = "1/s"
customers = 1000
"#;

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

fn write(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("scenario.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `cutover run` on `text` and checks the error and that no output exists.
fn run_error(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), text);
    let out = dir.path().join("out");
    let (code, stderr) = cutover(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        !out.exists(),
        "a failed run must not leave an output directory"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "only the scenario file remains");
    stderr.replace(file.to_str().unwrap(), "FILE")
}

#[test]
fn unknown_field() {
    let err = run_error(&GOOD.replace("servers = 4", "servers = 4\nservrs = 4"));
    assert_eq!(
        err.trim(),
        "error: FILE:6:1: field `mmc.servrs`: unknown field `servrs`, expected one of \
         `servers`, `arrival_rate`, `service_rate`, `customers`, `confidence_batches`"
    );
}

#[test]
fn wrong_type() {
    let err = run_error(&GOOD.replace("servers = 4", "servers = \"four\""));
    assert_eq!(
        err.trim(),
        "error: FILE:5:11: field `mmc.servers`: invalid type: string \"four\", expected a whole number"
    );
}

#[test]
fn negative_rate() {
    let err = run_error(&GOOD.replace("\"3/s\"", "\"-3/s\""));
    assert!(
        err.starts_with("error: FILE:6:16: field `mmc.arrival_rate`: `-3/s` is not above zero"),
        "{err}"
    );
    assert!(err.contains("e.g. \"14.4/s\""), "{err}");
}

#[test]
fn zero_rate() {
    let err = run_error(&GOOD.replace("\"1/s\"", "\"0/s\""));
    assert!(
        err.starts_with("error: FILE:7:16: field `mmc.service_rate`: `0/s` is not above zero"),
        "{err}"
    );
}

#[test]
fn duration_without_a_unit() {
    let err = run_error(&format!("{GOOD}\n[output]\ntimeline_interval = \"60\"\n"));
    assert!(
        err.starts_with("error: FILE:11:21: field `output.timeline_interval`: `60` has no unit"),
        "{err}"
    );
    assert!(err.contains("ns, us, ms, s, m or min, h, d, w"), "{err}");
    let err = run_error(&format!("{GOOD}\n[output]\ntimeline_interval = 60\n"));
    assert!(
        err.contains("expected a duration string with a unit"),
        "{err}"
    );
}

#[test]
fn impossible_values_are_rejected_before_the_run() {
    let err = run_error(&GOOD.replace("\"3/s\"", "\"5/s\""));
    assert!(
        err.contains(
            "field `mmc.arrival_rate`: 5/s against 4 servers at 1/s each is utilisation 1.250"
        ),
        "{err}"
    );
    assert!(
        err.contains("allowed: arrival_rate below servers x service_rate"),
        "{err}"
    );
    let err = run_error(&GOOD.replace("servers = 4", "servers = 0"));
    assert!(
        err.contains("FILE:5:11: field `mmc.servers`: 0 servers; allowed: a whole number from 1"),
        "{err}"
    );
    let err = run_error(&GOOD.replace("customers = 1000", ""));
    assert!(
        err.contains("field `mmc`: missing field `customers`"),
        "{err}"
    );
}

#[test]
fn missing_file() {
    let (code, err) = cutover(&["validate", "no/such/scenario.toml"]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim(),
        "error: no/such/scenario.toml: cannot read the file: No such file or directory (os error 2)"
    );
}

#[test]
fn unwritable_out() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), GOOD);
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let out = blocker.join("run");
    let (code, err) = cutover(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("a file with that name exists; allowed: a new or empty directory"),
        "{err}"
    );

    let full = dir.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("keep.txt"), "x").unwrap();
    let (code, err) = cutover(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        full.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("exists and is not empty"), "{err}");
    assert!(
        full.join("keep.txt").exists(),
        "an existing directory is never touched"
    );
}

#[test]
fn validate_accepts_the_bundled_scenario() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/mmc.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["validate", file])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("ok: \"M/M/16 at utilisation 0.9\""),
        "{stdout}"
    );
}

#[test]
fn help_carries_examples() {
    for args in [&["--help"][..], &["run", "--help"], &["validate", "--help"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_cutover"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Example"), "{args:?}: {text}");
        assert!(text.contains("scenarios/mmc.toml"), "{args:?}: {text}");
    }
}
