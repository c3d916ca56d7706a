//! `cutover sweep`: every combination, replications independent of the
//! thread count, and located errors for combinations that cannot run.

use std::path::{Path, PathBuf};
use std::process::Command;

const SWEEP: &str = r#"[scenario]
name = "sweep test"
seed = 5

[mmc]
servers = 4
arrival_rate = "3/s"
service_rate = "1/s"
customers = 5_000

[sweep]
replications = 4
metrics = ["mean_wait_s", "erlang_c.mean_wait_s"]

[[sweep.parameter]]
field = "mmc.servers"
values = [4, 5, 6]

[[sweep.parameter]]
field = "mmc.arrival_rate"
values = ["2/s", "3/s"]
"#;

fn sweep(dir: &Path, text: &str, name: &str, threads: &str) -> (bool, String, PathBuf) {
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, text).unwrap();
    let out = dir.join(name);
    let result = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args([
            "sweep",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(["--threads", threads])
        .output()
        .unwrap();
    (
        result.status.success(),
        String::from_utf8_lossy(&result.stderr).replace(file.to_str().unwrap(), "FILE"),
        out,
    )
}

#[test]
fn every_combination_is_tabulated_whatever_the_threads() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, err, one) = sweep(dir.path(), SWEEP, "one", "1");
    assert!(ok, "{err}");
    let (ok, err, two) = sweep(dir.path(), SWEEP, "two", "2");
    assert!(ok, "{err}");
    for file in ["sweep.csv", "summary.json", "sweep.svg"] {
        assert_eq!(
            std::fs::read(one.join(file)).unwrap(),
            std::fs::read(two.join(file)).unwrap(),
            "{file} depends on the thread count"
        );
    }
    let csv = std::fs::read_to_string(one.join("sweep.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 6);
    assert!(lines[0].starts_with("mmc.servers,mmc.arrival_rate,replications,mean_wait_s_mean,"));
    assert!(lines[1].starts_with("4,2/s,4,"), "{}", lines[1]);
    assert!(lines[6].starts_with("6,3/s,4,"), "{}", lines[6]);
    // More servers never wait longer, by the closed form and (here) by the run.
    let column = |line: &str, i: usize| -> f64 { line.split(',').nth(i).unwrap().parse().unwrap() };
    let erlang = |row: usize| column(lines[row], 7);
    assert!(erlang(2) > erlang(4) && erlang(4) > erlang(6));
    let simulated = |row: usize| column(lines[row], 3);
    assert!(simulated(2) > simulated(6));
}

#[test]
fn a_combination_that_cannot_run_is_named_and_located() {
    let dir = tempfile::tempdir().unwrap();
    let text = SWEEP.replace(
        "values = [\"2/s\", \"3/s\"]",
        "values = [\"2/s\", \"4.5/s\"]",
    );
    let (ok, err, out) = sweep(dir.path(), &text, "bad", "1");
    assert!(!ok);
    assert!(
        err.contains("with mmc.servers = 4, mmc.arrival_rate = \"4.5/s\""),
        "{err}"
    );
    assert!(err.contains("FILE:7:16: field `mmc.arrival_rate`"), "{err}");
    assert!(err.contains("utilisation 1.125"), "{err}");
    assert!(!out.exists());
}

#[test]
fn a_metric_the_summary_lacks_is_refused_with_the_choices() {
    let dir = tempfile::tempdir().unwrap();
    let text = SWEEP.replace("\"erlang_c.mean_wait_s\"", "\"mean_wiat_s\"");
    let (ok, err, _) = sweep(dir.path(), &text, "metric", "1");
    assert!(!ok);
    assert!(
        err.contains("metric `mean_wiat_s` is not a number"),
        "{err}"
    );
    assert!(err.contains("allowed: "), "{err}");
    assert!(err.contains("mean_wait_s"), "{err}");
}

/// A sweep of an experiment: the bare-metal server count of the central
/// region, one fluid run per count; each row equals the experiment run on
/// its own with that count (two runs answering the same question agree).
#[test]
fn a_sweep_of_an_experiment_matches_its_single_runs() {
    use cutover::experiment::Experiment;
    use cutover::scenario::Source;
    use cutover::world::World;

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/central");
    let text = std::fs::read_to_string(dir.join("baremetal-sizes.toml"))
        .unwrap()
        .replace("values = [3, 4, 5, 6, 8]", "values = [4, 5]");
    let source = Source::from_text(&dir.join("sizes.toml"), text.clone());
    let base = cutover::runs::summary::Runnable::from_source(&source).unwrap();
    let outcome = cutover::sweep::run(&source, &base, 1, None, Some(1), &|| {}).unwrap();
    assert_eq!(outcome.rows.len(), 2);
    for (row, servers) in outcome.rows.iter().zip([4, 5]) {
        let single = text
            .replace("count = 6", &format!("count = {servers}"))
            .replace("[sweep]", "[unused]");
        let single = single[..single.find("[unused]").unwrap()].to_string();
        let exp =
            Experiment::from_source(&Source::from_text(&dir.join("one.toml"), single)).unwrap();
        let s = World::new(&exp, cutover::engine::rng::replication_seed(1, 0))
            .unwrap()
            .run()
            .summary;
        let p99 = &row.metrics[0];
        assert_eq!(p99.metric, "service_p99_ms");
        assert_eq!(Some(p99.mean), s.service_p99_ms, "{servers} servers");
    }
    // The answer to the planner's question: five servers keep the service's
    // p99 under 200 ms, four do not.
    assert!(outcome.rows[0].metrics[0].mean > 200.0);
    assert!(outcome.rows[1].metrics[0].mean < 200.0);
}
