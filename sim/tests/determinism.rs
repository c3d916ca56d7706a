//! The same scenario and seed give byte-identical result files; another
//! seed gives other numbers.

use std::path::Path;
use std::process::Command;

const SCENARIO: &str = r#"[scenario]
name = "determinism"
seed = 3

[mmc]
servers = 8
arrival_rate = "7/s"
service_rate = "1/s"
customers = 30_000

[output]
timeline_interval = "2m"
"#;

const RESULT_FILES: [&str; 4] = ["summary.json", "timeline.csv", "timeline.svg", "waits.svg"];

fn run(dir: &Path, name: &str, seed: Option<&str>) -> std::path::PathBuf {
    let file = dir.join("s.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let out = dir.join(name);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cutover"));
    cmd.args([
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    if let Some(seed) = seed {
        cmd.args(["--seed", seed]);
    }
    let status = cmd.output().unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    out
}

#[test]
fn same_seed_same_bytes_other_seed_other_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let a = run(dir.path(), "a", None);
    let b = run(dir.path(), "b", Some("3"));
    let c = run(dir.path(), "c", Some("4"));
    for name in RESULT_FILES {
        let bytes_a = std::fs::read(a.join(name)).unwrap();
        assert!(!bytes_a.is_empty(), "{name} is empty");
        assert_eq!(
            bytes_a,
            std::fs::read(b.join(name)).unwrap(),
            "{name} differs for the same seed"
        );
    }
    let summary = |p: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p.join("summary.json")).unwrap()).unwrap()
    };
    let (sa, sc) = (summary(&a), summary(&c));
    assert_eq!(sa["seed"], 3);
    assert_eq!(sc["seed"], 4);
    assert_ne!(sa["mean_wait_s"], sc["mean_wait_s"]);
    assert_ne!(
        std::fs::read(a.join("timeline.csv")).unwrap(),
        std::fs::read(c.join("timeline.csv")).unwrap()
    );
    // Wall-clock figures live apart from the results.
    let info = std::fs::read_to_string(a.join("run-info.json")).unwrap();
    assert!(info.contains("events_per_s"));
    assert!(!std::fs::read_to_string(a.join("summary.json"))
        .unwrap()
        .contains("wall"));
}
