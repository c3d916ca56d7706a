//! `cutover pack`: the contention of a hand-countable host against its
//! exact value and the drawn peak hours, determinism across thread counts,
//! the exit status of the policy and of bad input, and located errors for
//! every bad row of a tenants file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn cutover(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn summary(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json");
    serde_json::from_str(&text).expect("JSON")
}

fn f(v: &Value, pointer: &str) -> f64 {
    v.pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{pointer} in {v}"))
}

/// A copy of `scenarios/pack/FILE` in `dir` with `edit` applied, its
/// estate and tenants named by absolute path.
fn edited(dir: &Path, file: &str, edit: &dyn Fn(String) -> String) -> PathBuf {
    let pack = scenarios().join("pack");
    let text = std::fs::read_to_string(pack.join(file)).expect("the scenario");
    let text = text
        .replace(
            "\"../story/estate.toml\"",
            &format!("\"{}\"", scenarios().join("story/estate.toml").display()),
        )
        .replace("tenants = \"", &format!("tenants = \"{}/", pack.display()));
    let path = dir.join(file);
    std::fs::write(&path, edit(text)).expect("write");
    path
}

#[test]
fn three_tenants_match_the_hand_count_and_the_draws_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let file = scenarios().join("pack/three-tenants.toml");
    let run = cutover(&[
        "pack",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let s = summary(&out);
    // 0.5 x 0.2: see the scenario's comment.
    assert!(
        (f(&s, "/contention/worst/probability") - 0.10).abs() < 1e-9,
        "{s}"
    );
    assert!(
        (f(&s, "/contention/worst/lower_bound") - 0.10).abs() < 1e-9,
        "{s}"
    );
    let hosts = std::fs::read_to_string(out.join("hosts.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(hosts.as_bytes());
    let row = rows.records().next().expect("one host").unwrap();
    let headers = rows.headers().unwrap().clone();
    let col = |name: &str| -> f64 {
        row[headers.iter().position(|h| h == name).unwrap()]
            .parse()
            .unwrap()
    };
    assert!(
        col("simulated_ci95_low") <= 0.10 && 0.10 <= col("simulated_ci95_high"),
        "{hosts}"
    );
    assert_eq!(s["contention"]["hosts_outside_ci95"], 0);
    // a, b, c: 8 vCPUs on 5 cores.
    assert_eq!(s["classes"][0]["cpu_overcommit_achieved"], 1.6);
    assert_eq!(s["verdict"], "pass");
}

#[test]
fn a_host_above_max_contention_fails_with_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let file = edited(tmp.path(), "three-tenants.toml", &|t| {
        t.replace("max_contention = 0.2", "max_contention = 0.05")
    });
    let run = cutover(&["pack", file.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains(
            "FAIL: 1 host(s) above max_contention 0.05: the worst, shared-0001, 0.100000"
        ),
        "{stdout}"
    );
}

#[test]
fn same_seed_same_files_on_one_and_two_threads() {
    // The first 800 VMs of the story's sample (dedicated and shared).
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(scenarios().join("pack/platform-tenants.csv")).unwrap();
    let head: Vec<&str> = text.lines().take(801).collect();
    std::fs::write(tmp.path().join("tenants.csv"), head.join("\n") + "\n").unwrap();
    let file = edited(tmp.path(), "platform.toml", &|t| {
        t.replace(
            &format!(
                "tenants = \"{}/platform-tenants.csv\"",
                scenarios().join("pack").display()
            ),
            &format!("tenants = \"{}\"", tmp.path().join("tenants.csv").display()),
        )
        .replace("samples = 4000", "samples = 500")
    });
    let run = |threads: &str| {
        let out = tmp.path().join(format!("out-{threads}"));
        let r = cutover(&[
            "pack",
            file.to_str().unwrap(),
            "--threads",
            threads,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(
            matches!(r.status.code(), Some(0 | 1)),
            "{}",
            String::from_utf8_lossy(&r.stderr)
        );
        out
    };
    let (one, two) = (run("1"), run("2"));
    assert_eq!(summary(&one)["tenants"], 800);
    for name in ["summary.json", "hosts.csv", "tenants.csv"] {
        let read = |d: &Path| std::fs::read(d.join(name)).unwrap();
        assert!(read(&one) == read(&two), "{name} differs");
    }
    // Another seed draws other peak hours.
    let other = tmp.path().join("out-seed");
    cutover(&[
        "pack",
        file.to_str().unwrap(),
        "--seed",
        "2",
        "--out",
        other.to_str().unwrap(),
    ]);
    assert!(
        std::fs::read(one.join("hosts.csv")).unwrap()
            != std::fs::read(other.join("hosts.csv")).unwrap()
    );
}

#[test]
fn bad_tenants_exit_2_and_validate_locates_every_bad_row() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("three-tenants.csv");
    std::fs::write(
        &csv,
        "name,cores,memory,class,usage\na,4,1GiB,shared,points 0.25:0.5 0.75:0.5\nb,two,1GiB,shared,points 0:1\nc,2,1GiB,vip,points 0:1\nd,2,1GiB,shared,lognormal mean=0.5\n",
    )
    .unwrap();
    let file = edited(tmp.path(), "three-tenants.toml", &|t| {
        t.replace(
            &format!(
                "tenants = \"{}/three-tenants.csv\"",
                scenarios().join("pack").display()
            ),
            &format!("tenants = \"{}\"", csv.display()),
        )
    });
    let run = cutover(&["pack", file.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    let shown = csv.display();
    assert!(
        stderr.contains(&format!("{shown}:3:3: field `cores`: `two`")),
        "{stderr}"
    );
    let run = cutover(&["validate", csv.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2));
    let out =
        String::from_utf8_lossy(&run.stdout).to_string() + &String::from_utf8_lossy(&run.stderr);
    for located in [
        format!("{shown}:3:3: field `cores`"),
        format!("{shown}:4:10: field `class`: `vip`; allowed: dedicated, shared"),
        format!("{shown}:5:17: field `usage`"),
    ] {
        assert!(out.contains(&located), "{located} missing from\n{out}");
    }
}

#[test]
fn a_vm_larger_than_a_host_is_refused_at_its_row() {
    let tmp = tempfile::tempdir().unwrap();
    let file = edited(tmp.path(), "three-tenants.toml", &|t| {
        t.replace("cpu_overcommit = 2.0", "cpu_overcommit = 1.0")
            .replace("cores = 5", "cores = 3")
    });
    let run = cutover(&["pack", file.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("three-tenants.csv:2:1: field `cores`: 4 cores and 1024 MiB: more than a shared host holds (3 cores"), "{stderr}");
    let file = edited(tmp.path(), "three-tenants.toml", &|t| {
        t.replace("cpu_overcommit = 2.0", "cpu_overcommit = 0.5")
    });
    let run = cutover(&["pack", file.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("field `hosts.shared.cpu_overcommit`: allowed: a ratio from 1 to 64"),
        "{stderr}"
    );
}

#[test]
fn the_report_page_shows_a_pack_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let file = scenarios().join("pack/three-tenants.toml");
    cutover(&[
        "pack",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let run = cutover(&["report", out.to_str().unwrap()]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("Verdict: PASS"), "{page}");
    assert!(page.contains("<table id=\"classes\">"), "{page}");
    assert!(page.contains("0.1 on shared-0001"), "{page}");
}

#[test]
fn work_that_would_run_for_hours_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let file = edited(tmp.path(), "three-tenants.toml", &|t| {
        t.replace("grid = 1", "grid = 1024")
            .replace("cores = 5", "cores = 5000")
    });
    let run = cutover(&["pack", file.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains(
            "three-tenants.toml:16:8: field `pack.grid`: 5.1e6; allowed: at most 1.0e6 (a host's cores x grid"
        ),
        "{stderr}"
    );
}
