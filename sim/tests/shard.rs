//! Sharded runs: `--shard K/N` partial directories merged with `cutover
//! merge` give the single run's files byte for byte, whatever N and the
//! order of the directories; the merge refuses what is not one whole run;
//! a shard that died can be run again alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn story() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/story")
}

/// A one-day plan on the story's estate moving ams1 to bare metal, priced
/// by the migration cost scenario with two declared risks (so every
/// replication draws anew and replications.csv has draw columns).
fn plan_text() -> String {
    format!(
        r#"
[experiment]
name = "sharded"
estate = "{estate}"
seed = 3
duration = "1d"
tick = "60s"
[traffic]
base_rate = "1800/s"
diurnal_amplitude = 0.4
diurnal_peak = "20h"
[output]
timeline_interval = "1h"
[plan]
begin = "18h"
on_failure = "abort"
cost = "{cost}"
[[plan.risks]]
name = "price rise"
estate = "cloud"
change = ["0%", "20%"]
[[plan.risks]]
name = "delivery"
lead_time = ["336h", "340h"]
[plan.stages]
mechanism = "bgp"
unreachable = "l7"
wait = "60s"
observe = "10m"
[[sites]]
tag = "ams1-bm"
city = "ams"
upstreams = [65010, 65020]
announce = false
nodes = {{ kind = "bare-metal", count = 3, allocatable_cpu = "31" }}
[[moves]]
from = "ams1"
to = "ams1-bm"
"#,
        estate = story().join("estate.toml").display(),
        cost = story().join("../cost-migration.toml").display()
    )
}

/// A small M/M/c sweep: 3 x 2 combinations, 3 replications each.
const SWEEP: &str = r#"[scenario]
name = "sharded sweep"
seed = 5

[mmc]
servers = 4
arrival_rate = "3/s"
service_rate = "1/s"
customers = 2_000

[sweep]
replications = 3
metrics = ["mean_wait_s", "wait_p99_s"]

[[sweep.parameter]]
field = "mmc.servers"
values = [4, 5, 6]

[[sweep.parameter]]
field = "mmc.arrival_rate"
values = ["2/s", "3/s"]
"#;

fn cutover(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> Output {
    let out = cutover(args);
    assert!(
        out.status.success(),
        "cutover {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The error cutover gives for `args` (it must fail with status 2).
fn refused(args: &[&str]) -> String {
    let out = cutover(args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "cutover {args:?} should fail: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file of a run directory but `run-info.json` (wall-clock facts).
fn results(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| (e.file_name().into_string().unwrap(), e.path()))
        .filter(|(name, _)| name != "run-info.json")
        .map(|(name, path)| (name, std::fs::read(path).unwrap()))
        .collect()
}

fn assert_same_results(single: &Path, merged: &Path, what: &str) {
    let (a, b) = (results(single), results(merged));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}: files differ"
    );
    for (name, bytes) in &a {
        assert!(
            bytes == &b[name],
            "{what}: {name} differs from the single run's"
        );
    }
    let listed = |d: &Path| {
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("run-info.json")).unwrap()).unwrap();
        m["files"].clone()
    };
    assert_eq!(
        listed(single),
        listed(merged),
        "{what}: run-info.json's files"
    );
}

/// `cutover report` gives the single run and the merge the same page.
fn assert_same_report(single: &Path, merged: &Path) {
    for d in [single, merged] {
        ok(&["report", s(d)]);
    }
    let page = |d: &Path| std::fs::read(d.join("report.html")).unwrap();
    assert!(page(single) == page(merged), "report.html differs");
}

/// The numbers 0..n in an order that depends on `salt` (a fixed shuffle).
fn shuffled(n: usize, salt: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state = salt.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    for i in (1..n).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        order.swap(i, (state >> 33) as usize % (i + 1));
    }
    order
}

/// Runs `command` (everything before `--shard`) as shards 0..n into
/// `{prefix}-{n}-{k}` and returns their directories.
fn shards(dir: &Path, command: &[&str], prefix: &str, n: usize) -> Vec<PathBuf> {
    (0..n)
        .map(|k| {
            let out = dir.join(format!("{prefix}-{n}-{k}"));
            let shard = format!("{k}/{n}");
            let mut args = command.to_vec();
            args.extend(["--shard", &shard, "--out", s(&out)]);
            ok(&args);
            out
        })
        .collect()
}

fn merge(parts: &[PathBuf], order: &[usize], out: &Path) -> Output {
    let mut args = vec!["merge".to_string()];
    args.extend(order.iter().map(|&i| s(&parts[i]).to_string()));
    args.extend(["--out".to_string(), s(out).to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cutover(&args)
}

#[test]
fn merged_plan_shards_are_the_single_run_byte_for_byte_for_any_count_and_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.toml");
    std::fs::write(&file, plan_text()).unwrap();
    let command = ["plan", s(&file), "--replications", "5", "--seed", "5"];
    let single = dir.path().join("single");
    let mut args = command.to_vec();
    args.extend(["--out", s(&single)]);
    // The budget is overrun (the cost scenario's): the plan fails, and the
    // merge must say so with the same exit status.
    let single_run = cutover(&args);
    assert_eq!(
        single_run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&single_run.stderr)
    );
    let replications = std::fs::read_to_string(single.join("replications.csv")).unwrap();
    assert_eq!(replications.lines().count(), 6, "{replications}");
    assert!(replications.starts_with("replication,seed,success"));
    assert!(replications
        .lines()
        .next()
        .unwrap()
        .ends_with(",price rise,delivery"));
    for n in 1..=4 {
        let parts = shards(dir.path(), &command, "part", n);
        let merged = dir.path().join(format!("merged-{n}"));
        let order = shuffled(n, n as u64);
        let out = merge(&parts, &order, &merged);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_same_results(&single, &merged, &format!("{n} shards, order {order:?}"));
        // The merge prints what the single run prints (but where it wrote).
        let printed = |o: &Output| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            text.lines()
                .filter(|l| !l.starts_with("results in"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(printed(&out), printed(&single_run));
    }
    assert_same_report(&single, &dir.path().join("merged-4"));
    // A shard holds only its part: shard 3 of 4 has replications 3 and 4
    // (5 x 3 / 4 = 3 to 5 x 4 / 4 = 5), as rows of the single run.
    let part = std::fs::read_to_string(dir.path().join("part-4-3/replications.csv")).unwrap();
    let single_rows: Vec<&str> = replications.lines().collect();
    assert_eq!(
        part.lines().collect::<Vec<_>>(),
        [single_rows[0], single_rows[4], single_rows[5]]
    );
}

#[test]
fn merged_sweep_shards_are_the_single_run_byte_for_byte_for_any_count_and_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sweep.toml");
    std::fs::write(&file, SWEEP).unwrap();
    let single = dir.path().join("single");
    ok(&["sweep", s(&file), "--out", s(&single)]);
    assert_eq!(
        results(&single).keys().collect::<Vec<_>>(),
        ["summary.json", "sweep.csv", "sweep.svg"]
    );
    // 18 cells: 4 shards of 4, 5, 4 and 5 cells; 7 shards cut combinations.
    for n in [1, 2, 3, 4, 7] {
        let parts = shards(dir.path(), &["sweep", s(&file)], "part", n);
        let merged = dir.path().join(format!("merged-{n}"));
        let order = shuffled(n, 10 + n as u64);
        let out = merge(&parts, &order, &merged);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_same_results(&single, &merged, &format!("{n} shards, order {order:?}"));
    }
    assert_same_report(&single, &dir.path().join("merged-7"));
    let cells = std::fs::read_to_string(dir.path().join("part-4-1/cells.csv")).unwrap();
    assert_eq!(cells.lines().count(), 1 + 5, "{cells}");
    assert!(cells.starts_with("combination,replication,mean_wait_s,wait_p99_s\n1,1,"));
}

/// A sweep split in two with `extra` arguments on each shard, in `dir`.
fn sweep_shards(dir: &Path, name: &str, extra: [&[&str]; 2]) -> Vec<PathBuf> {
    let file = dir.join(format!("{name}.toml"));
    if !file.exists() {
        std::fs::write(&file, SWEEP).unwrap();
    }
    (0..2)
        .map(|k| {
            let out = dir.join(format!(
                "{name}-{k}-{}",
                extra[k].join("").replace('/', "_")
            ));
            let mut args = vec!["sweep", s(&file), "--out", s(&out)];
            args.extend(extra[k]);
            ok(&args);
            out
        })
        .collect()
}

fn merge_error(parts: &[&Path], out: &Path) -> String {
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(|p| s(p)));
    args.extend(["--out", s(out)]);
    let err = refused(&args);
    assert!(!out.exists(), "a refused merge wrote {}", out.display());
    err
}

#[test]
fn the_merge_refuses_shards_of_different_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("merged");
    let a = sweep_shards(d, "a", [&["--shard", "0/2"], &["--shard", "1/2"]]);
    // Another scenario: the same file with one value changed.
    std::fs::write(
        d.join("b.toml"),
        SWEEP.replace("customers = 2_000", "customers = 2_001"),
    )
    .unwrap();
    let b = sweep_shards(d, "b", [&["--shard", "0/2"], &["--shard", "1/2"]]);
    let err = merge_error(&[&a[0], &b[1]], &out);
    assert!(
        err.contains("come from different runs: scenario inputs (SHA-256)"),
        "{err}"
    );
    // Another seed.
    let seeded = sweep_shards(
        d,
        "a",
        [
            &["--shard", "0/2", "--seed", "9"],
            &["--shard", "1/2", "--seed", "9"],
        ],
    );
    let err = merge_error(&[&seeded[1], &a[0]], &out);
    assert!(err.contains("different runs: seed 9 against 5"), "{err}");
    // Another shard count.
    let thirds = sweep_shards(d, "a", [&["--shard", "0/3"], &["--shard", "1/3"]]);
    let err = merge_error(&[&a[0], &thirds[1]], &out);
    assert!(
        err.contains("different runs: shard count 2 against 3"),
        "{err}"
    );
    // Other replications.
    let more = sweep_shards(
        d,
        "a",
        [
            &["--shard", "0/2", "--replications", "4"],
            &["--shard", "1/2", "--replications", "4"],
        ],
    );
    let err = merge_error(&[&a[0], &more[1]], &out);
    assert!(
        err.contains("different runs: replications 3 against 4"),
        "{err}"
    );
    // A plan's shard with a sweep's.
    let plan = d.join("plan.toml");
    std::fs::write(&plan, plan_text()).unwrap();
    let plan_part = d.join("plan-0");
    ok(&[
        "plan",
        s(&plan),
        "--replications",
        "2",
        "--shard",
        "1/2",
        "--out",
        s(&plan_part),
    ]);
    let err = merge_error(&[&a[0], &plan_part], &out);
    assert!(
        err.contains("different runs: command sweep against plan"),
        "{err}"
    );
}

/// Rewrites `field` of the shard manifest in `dir` to `value`.
fn edit_manifest(dir: &Path, field: &str, value: serde_json::Value) {
    let path = dir.join("shard.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    m[field] = value;
    std::fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
}

#[test]
fn the_merge_refuses_shards_of_another_version() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("merged");
    let parts = sweep_shards(d, "a", [&["--shard", "0/2"], &["--shard", "1/2"]]);
    edit_manifest(&parts[1], "cutover_version", "0.0.1".into());
    let err = merge_error(&[&parts[0], &parts[1]], &out);
    assert!(
        err.contains(&format!(
            "different runs: cutover version {} against 0.0.1",
            env!("CARGO_PKG_VERSION")
        )),
        "{err}"
    );
    edit_manifest(&parts[0], "cutover_version", "0.0.1".into());
    let err = merge_error(&[&parts[0], &parts[1]], &out);
    assert!(
        err.contains(&format!(
            "written by cutover 0.0.1, and this is cutover {}",
            env!("CARGO_PKG_VERSION")
        )),
        "{err}"
    );
}

#[test]
fn the_merge_refuses_missing_and_duplicated_shards() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("merged");
    let file = d.join("a.toml");
    std::fs::write(&file, SWEEP).unwrap();
    let parts = shards(d, &["sweep", s(&file)], "a", 4);
    let err = merge_error(&[&parts[3], &parts[0], &parts[2]], &out);
    assert!(
        err.contains("shards 1/4 of 4 are missing (given: 0/4, 2/4, 3/4)"),
        "{err}"
    );
    let copy = d.join("copy-of-2");
    std::fs::create_dir(&copy).unwrap();
    for e in std::fs::read_dir(&parts[2]).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), copy.join(e.file_name())).unwrap();
    }
    let err = merge_error(&[&parts[0], &parts[1], &parts[2], &copy, &parts[3]], &out);
    assert!(err.contains("shard 2/4 is given twice"), "{err}");
    assert!(err.contains("copy-of-2"), "{err}");
}

#[test]
fn the_merge_refuses_what_is_not_a_whole_shard() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("merged");
    let parts = sweep_shards(d, "a", [&["--shard", "0/2"], &["--shard", "1/2"]]);
    // A run directory that is not a shard's.
    let whole = d.join("whole");
    ok(&["sweep", s(&d.join("a.toml")), "--out", s(&whole)]);
    let err = merge_error(&[&parts[0], &whole], &out);
    assert!(
        err.contains("not a shard's directory: it has no shard.json"),
        "{err}"
    );
    let err = refused(&["report", s(&parts[0])]);
    assert!(err.contains("a shard's partial directory"), "{err}");
    assert!(err.contains("merge the shards first"), "{err}");
    let err = merge_error(&[&d.join("nowhere")], &out);
    assert!(err.contains("it is not a directory"), "{err}");
    // A records file that lost a row.
    let cells = parts[1].join("cells.csv");
    let text = std::fs::read_to_string(&cells).unwrap();
    let cut: Vec<&str> = text.lines().collect();
    std::fs::write(&cells, cut[..cut.len() - 1].join("\n") + "\n").unwrap();
    let err = merge_error(&[&parts[0], &parts[1]], &out);
    assert!(
        err.contains("cells.csv: it should hold cells 9 to 18 of 18"),
        "{err}"
    );
    // A manifest whose range does not fit its shard.
    edit_manifest(&parts[0], "end", 8.into());
    let err = merge_error(&[&parts[0], &parts[1]], &out);
    assert!(
        err.contains("names shard 0/2 with units 0..8 of 18"),
        "{err}"
    );
}

#[test]
fn the_merge_refuses_a_scenario_changed_since_the_shards_ran() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let parts = sweep_shards(d, "a", [&["--shard", "0/2"], &["--shard", "1/2"]]);
    std::fs::write(
        d.join("a.toml"),
        SWEEP.replace("servers = 4\n", "servers = 5\n"),
    )
    .unwrap();
    let out = d.join("merged");
    let err = merge_error(&[&parts[0], &parts[1]], &out);
    assert!(
        err.contains("the scenario's input files changed since the shards ran"),
        "{err}"
    );
    // Put back, it merges.
    std::fs::write(d.join("a.toml"), SWEEP).unwrap();
    ok(&["merge", s(&parts[0]), s(&parts[1]), "--out", s(&out)]);
    // Moved elsewhere, --scenario names it; the hash still holds it to
    // the same bytes.
    let moved = d.join("elsewhere.toml");
    std::fs::rename(d.join("a.toml"), &moved).unwrap();
    let again = d.join("again");
    let err = merge_error(&[&parts[0], &parts[1]], &again);
    assert!(err.contains("a.toml: cannot read the file"), "{err}");
    let with = |file: &Path, out: &Path| {
        let args = [
            "merge",
            s(&parts[0]),
            s(&parts[1]),
            "--scenario",
            s(file),
            "--out",
            s(out),
        ];
        cutover(&args)
    };
    assert!(with(&moved, &again).status.success());
    assert_eq!(results(&again), results(&out));
    std::fs::write(d.join("other.toml"), SWEEP.replace("seed = 5", "seed = 6")).unwrap();
    let refused = with(&d.join("other.toml"), &d.join("third"));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("the scenario's input files changed"), "{err}");
}

#[test]
fn a_plan_shard_needs_its_replications_and_a_directory_and_a_real_shard() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.toml");
    std::fs::write(&file, plan_text()).unwrap();
    let out = dir.path().join("p");
    let err = refused(&["plan", s(&file), "--shard", "0/2", "--out", s(&out)]);
    assert!(err.contains("--replications"), "{err}");
    let err = refused(&["plan", s(&file), "--shard", "0/2", "--replications", "3"]);
    assert!(err.contains("--out"), "{err}");
    let err = refused(&[
        "plan",
        s(&file),
        "--shard",
        "2/2",
        "--replications",
        "3",
        "--out",
        s(&out),
    ]);
    assert!(err.contains("`2/2` is not a shard; allowed: K/N"), "{err}");
    assert!(!out.exists());
}

#[test]
fn a_shard_that_died_is_run_again_alone_and_the_merge_still_matches() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let file = d.join("plan.toml");
    std::fs::write(&file, plan_text()).unwrap();
    let command = ["plan", s(&file), "--replications", "6", "--threads", "1"];
    let single = d.join("single");
    let mut args = command.to_vec();
    args.extend(["--out", s(&single)]);
    assert_eq!(
        cutover(&args).status.code(),
        Some(1),
        "the budget is overrun"
    );
    let part = |k: usize| d.join(format!("part-{k}"));
    let shard_args = |k: usize| {
        let mut args: Vec<String> = command.iter().map(|a| a.to_string()).collect();
        args.extend([
            "--shard".into(),
            format!("{k}/3"),
            "--out".into(),
            s(&part(k)).into(),
        ]);
        args
    };
    for k in [0, 2] {
        let args = shard_args(k);
        ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    // Shard 1 dies (SIGKILL: nothing can clean up) while it runs its
    // replications: its staging directory is there, its directory is not.
    let mut child = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(shard_args(1))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let staging = d.join(format!(".part-1.partial-{}", child.id()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !staging.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(staging.exists(), "the shard was killed while it ran");
    assert!(!part(1).exists(), "a killed shard leaves no directory");
    let merged = d.join("merged");
    let err = merge_error(&[&part(2), &part(0)], &merged);
    assert!(err.contains("shards 1/3 of 3 are missing"), "{err}");
    let err = merge_error(&[&part(0), &staging, &part(2)], &merged);
    assert!(
        err.contains("not a shard's directory: it has no run-info.json"),
        "{err}"
    );
    // Run again alone, with the same command: the dead run's staging
    // directory goes, and the merge is the single run's.
    let args = shard_args(1);
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!staging.exists());
    let out = merge(&[part(2), part(1), part(0)], &[0, 1, 2], &merged);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same_results(&single, &merged, "after shard 1 ran again");
}

#[test]
fn progress_shows_rate_and_time_left_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.toml");
    std::fs::write(&file, plan_text()).unwrap();
    let run = |name: &str| {
        let out = dir.path().join(name);
        [
            env!("CARGO_BIN_EXE_cutover"),
            "plan",
            s(&file),
            "--replications",
            "4",
            "--threads",
            "1",
            "--shard",
            "0/1",
            "--out",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([s(&out).to_string()])
        .collect::<Vec<_>>()
    };
    // Piped (as in CI logs): no bar.
    let args = run("piped");
    let piped = Command::new(&args[0]).args(&args[1..]).output().unwrap();
    assert!(piped.status.success());
    let text = String::from_utf8_lossy(&piped.stderr);
    assert!(!text.contains("left"), "{text}");
    // On a terminal (script(1) gives the run a pseudo-terminal): the count,
    // the rate and the time left, from the first replication done
    // (`CUTOVER_PROGRESS=always`: by default the bar waits for a run to
    // have taken a second, which a fast machine may not reach).
    let command: Vec<String> = run("terminal").iter().map(|a| format!("'{a}'")).collect();
    let command = command.join(" ");
    let tty = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("CUTOVER_PROGRESS", "always")
        .output()
        .unwrap();
    // Never: no bar on the terminal either.
    let command: Vec<String> = run("never").iter().map(|a| format!("'{a}'")).collect();
    let never = Command::new("script")
        .args(["-qec", &command.join(" "), "/dev/null"])
        .env("CUTOVER_PROGRESS", "never")
        .output()
        .unwrap();
    assert!(never.status.success());
    let text = String::from_utf8_lossy(&never.stdout);
    assert!(!has_progress_line(&text), "{text}");
    assert!(
        tty.status.success(),
        "{}",
        String::from_utf8_lossy(&tty.stderr)
    );
    let text = String::from_utf8_lossy(&tty.stdout);
    assert!(has_progress_line(&text), "no progress line in {text:?}");
}

/// Whether `text` holds a progress line: `K/4 replications, R/s, T left`.
fn has_progress_line(text: &str) -> bool {
    text.split(['\r', '\n']).any(|line| {
        let Some(at) = line.find("/4 replications, ") else {
            return false;
        };
        let rest = &line[at + "/4 replications, ".len()..];
        let Some((rate, left)) = rest.split_once("/s, ") else {
            return false;
        };
        rate.parse::<f64>().is_ok_and(|r| r > 0.0) && left.trim_end().ends_with(" left")
    })
}

#[test]
fn more_shards_than_replications_leave_empty_shards_that_merge_all_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.toml");
    std::fs::write(&file, plan_text()).unwrap();
    let command = ["plan", s(&file), "--replications", "1"];
    let single = dir.path().join("single");
    let mut args = command.to_vec();
    args.extend(["--out", s(&single)]);
    assert_eq!(cutover(&args).status.code(), Some(1));
    let parts = shards(dir.path(), &command, "part", 3);
    // 1 x 0 / 3 = 0 to 1 x 1 / 3 = 0: shards 0 and 1 hold no replication.
    assert_eq!(
        std::fs::read(parts[0].join("replications.csv")).unwrap(),
        b""
    );
    let merged = dir.path().join("merged");
    let out = merge(&parts, &[1, 2, 0], &merged);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same_results(&single, &merged, "3 shards of 1 replication");
}
