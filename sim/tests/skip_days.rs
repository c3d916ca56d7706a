//! Skipping repeated days: a run that jumps over the days that repeat the
//! day before gives every figure of a run that simulates them (integers
//! and strings equal, floats within a relative 1e-9: a jump adds a day's
//! sums k times where a run adds them day by day), and a day that differs
//! (a failure, a spike of demand) is simulated.

use std::path::{Path, PathBuf};

fn story() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/story")
}

/// Runs `cutover <command> <file> --out <dir>/<name>` and returns the
/// output directory.
fn run_cli(command: &str, file: &Path, dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args([command, file.to_str().unwrap()])
        .args(["--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        status.status.code().is_some_and(|c| c <= 1),
        "{}{}",
        String::from_utf8_lossy(&status.stdout),
        String::from_utf8_lossy(&status.stderr)
    );
    out
}

/// Writes `text` as `name` in `dir`, once with skipping on and once off.
fn both_ways(dir: &Path, text: &str) -> (PathBuf, PathBuf) {
    assert!(text.contains("[experiment]\n"));
    let write = |name: &str, skip: bool| {
        let file = dir.join(name);
        let with = text.replace(
            "[experiment]\n",
            &format!("[experiment]\nskip_repeated_days = {skip}\n"),
        );
        std::fs::write(&file, with).unwrap();
        file
    };
    (write("on.toml", true), write("off.toml", false))
}

/// Two values of one figure agree: equal, or both numbers within a
/// relative 1e-9.
fn agree(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()),
        _ => false,
    }
}

/// Every figure of two JSON values agrees, but `days_skipped`.
fn json_agrees(path: &str, a: &serde_json::Value, b: &serde_json::Value, bad: &mut Vec<String>) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys.into_iter().filter(|k| *k != "days_skipped") {
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => json_agrees(&format!("{path}.{k}"), p, q, bad),
                    _ => bad.push(format!("{path}.{k} missing on one side")),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                json_agrees(&format!("{path}[{i}]"), p, q, bad);
            }
        }
        (Value::Number(x), Value::Number(y)) if agree(&x.to_string(), &y.to_string()) => {}
        (x, y) if x == y => {}
        (x, y) => bad.push(format!("{path}: {x} against {y}")),
    }
}

/// Every output of the two runs agrees (the run's own record aside):
/// summary.json figure by figure, every CSV cell by cell, the same files.
fn outputs_agree(on: &Path, off: &Path) {
    let names = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n != "run-info.json")
            .collect();
        v.sort();
        v
    };
    let files = names(on);
    assert_eq!(files, names(off));
    let mut bad = Vec::new();
    for name in &files {
        let (a, b) = (on.join(name), off.join(name));
        if name.ends_with(".json") {
            let read = |p: &Path| -> serde_json::Value {
                serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
            };
            json_agrees(name, &read(&a), &read(&b), &mut bad);
        } else if name.ends_with(".csv") {
            let (x, y) = (
                std::fs::read_to_string(a).unwrap(),
                std::fs::read_to_string(b).unwrap(),
            );
            let (x, y): (Vec<&str>, Vec<&str>) = (x.lines().collect(), y.lines().collect());
            assert_eq!(x.len(), y.len(), "{name}: rows");
            for (row, (p, q)) in x.iter().zip(&y).enumerate() {
                let (p, q): (Vec<&str>, Vec<&str>) =
                    (p.split(',').collect(), q.split(',').collect());
                assert_eq!(p.len(), q.len(), "{name} row {row}: cells");
                for (col, (c, d)) in p.iter().zip(&q).enumerate() {
                    if !agree(c, d) {
                        bad.push(format!("{name} row {row} column {col}: {c} against {d}"));
                    }
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} differences: {:?}",
        bad.len(),
        &bad[..bad.len().min(20)]
    );
}

fn days_skipped(out: &Path) -> u64 {
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    summary["days_skipped"]
        .as_u64()
        .expect("a multi-day fluid run reports the days it skipped")
}

/// Two of the story's moves with quiet days between them.
fn two_moves() -> String {
    let mut text = format!(
        r#"
[experiment]
name = "two moves"
estate = "{}"
seed = 3
duration = "12d"
tick = "30s"
[traffic]
base_rate = "3600/s"
diurnal_amplitude = 0.4
diurnal_peak = "20h"
[output]
timeline_interval = "1h"
[plan]
begin = "18h"
region_spacing = "5d"
decommission_after = "4d"
[plan.stages]
mechanism = "bgp"
unreachable = "l7"
wait = "60s"
observe = "10m"
"#,
        story().join("estate.toml").display()
    );
    for (tag, city) in [("ams1", "ams"), ("ny1", "nyc")] {
        text.push_str(&format!(
            "[[sites]]\ntag = \"{tag}-bm\"\ncity = \"{city}\"\nupstreams = [65010, 65020]\nannounce = false\n\
             nodes = {{ kind = \"bare-metal\", count = 3, allocatable_cpu = \"31\" }}\n\
             [[moves]]\nfrom = \"{tag}\"\nto = \"{tag}-bm\"\n"
        ));
    }
    text
}

#[test]
fn a_plan_that_skips_its_quiet_days_gives_every_figure_of_one_that_runs_them() {
    let dir = tempfile::tempdir().unwrap();
    let (on, off) = both_ways(dir.path(), &two_moves());
    let (a, b) = (
        run_cli("plan", &on, dir.path(), "on"),
        run_cli("plan", &off, dir.path(), "off"),
    );
    assert!(days_skipped(&a) >= 2, "{}", days_skipped(&a));
    assert_eq!(days_skipped(&b), 0);
    for want in ["stages.csv", "timeline.csv", "costs.csv", "sites.csv"] {
        assert!(a.join(want).exists(), "{want}");
    }
    outputs_agree(&a, &b);
}

/// Four quiet days on the story's estate, with `extra` appended.
fn quiet_days(extra: &str) -> String {
    format!(
        r#"
[experiment]
name = "quiet days"
estate = "{}"
seed = 2
duration = "4d"
tick = "30s"
[traffic]
base_rate = "3600/s"
diurnal_amplitude = 0.4
diurnal_peak = "20h"
{extra}
[output]
timeline_interval = "1h"
"#,
        story().join("estate.toml").display()
    )
}

#[test]
fn a_multi_day_experiment_that_skips_gives_every_figure_of_one_that_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (on, off) = both_ways(dir.path(), &quiet_days(""));
    let (a, b) = (
        run_cli("run", &on, dir.path(), "on"),
        run_cli("run", &off, dir.path(), "off"),
    );
    assert!(days_skipped(&a) >= 1, "{}", days_skipped(&a));
    assert_eq!(days_skipped(&b), 0);
    outputs_agree(&a, &b);
}

#[test]
fn a_day_with_a_failure_or_a_spike_is_simulated() {
    let dir = tempfile::tempdir().unwrap();
    let quiet = run_cli(
        "run",
        &both_ways(dir.path(), &quiet_days("")).0,
        dir.path(),
        "quiet",
    );
    // A crash on the third day, then a flash crowd on the third day.
    let crash =
        "[[failures]]\nsite = \"ny1\"\nat = \"62h\"\nkind = \"crash\"\nduration = \"30m\"\n";
    let crowd = "think_time = \"10s\"\n[traffic.spike]\nstart = \"62h\"\nbase_users = 0\npeak_users = 20000\nramp = \"10m\"\nhold = \"20m\"\ndecay = \"10m\"\n";
    for (name, extra) in [("crash", crash), ("crowd", crowd)] {
        let sub = dir.path().join(name);
        std::fs::create_dir(&sub).unwrap();
        let (on, off) = both_ways(&sub, &quiet_days(extra));
        let (a, b) = (
            run_cli("run", &on, &sub, "on"),
            run_cli("run", &off, &sub, "off"),
        );
        assert!(
            days_skipped(&a) < days_skipped(&quiet),
            "{name}: {} days skipped, as many as without it",
            days_skipped(&a)
        );
        outputs_agree(&a, &b);
    }
}
