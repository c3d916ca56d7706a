//! Every bundled scenario's results pinned: each is run as its kind is run
//! and its `summary.json` and CSV files (all but `timeline.csv`, a series
//! of thousands of rows that the summary and the other tables condense)
//! are compared with the snapshots in `tests/snapshots/`, so that a change
//! of any figure is a diff to review (`cargo insta review`, or set
//! `INSTA_UPDATE=always` and read `git diff`). Nothing is redacted: the
//! files hold no version, time or path (wall-clock figures go to
//! `run-info.json`, which is not pinned).
//!
//! The nine-week plans take minutes each in a debug build; they run in
//! README's release test command (`cargo test --release -p cutover --test
//! snapshots`) and are ignored in debug builds.

use std::path::{Path, PathBuf};
use std::process::Command;

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// Runs `cutover COMMAND scenarios/FILE --out DIR EXTRA...` and returns DIR
/// (inside a temporary directory that lives as long as the result).
fn run(command: &str, file: &str, extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let out = tmp.path().join("out");
    let path = scenarios().join(file);
    let result = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .arg(command)
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .args(extra)
        .output()
        .expect("the binary runs");
    assert!(
        matches!(result.status.code(), Some(0 | 1)),
        "{command} {file}: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    (tmp, out)
}

/// The files of a run directory that are pinned, sorted.
fn pinned_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the output directory")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n == "summary.json" || (n.ends_with(".csv") && n != "timeline.csv"))
        .collect();
    names.sort();
    names
}

/// Runs a bundled scenario and compares each pinned file with its snapshot
/// `KEY__FILE`.
fn pin(key: &str, command: &str, file: &str, extra: &[&str]) {
    let (_tmp, out) = run(command, file, extra);
    let names = pinned_files(&out);
    assert!(
        names.iter().any(|n| n == "summary.json"),
        "{key}: {names:?}"
    );
    for name in names {
        let text = std::fs::read_to_string(out.join(&name)).expect("a result file");
        insta::assert_snapshot!(format!("{key}__{name}"), text);
    }
}

/// One test per bundled scenario: `name, command, file, extra arguments`.
macro_rules! pinned {
    ($($(#[$attr:meta])* $name:ident, $command:literal, $file:literal $(, $extra:literal)*;)*) => {
        $(
            $(#[$attr])*
            #[test]
            fn $name() {
                pin(stringify!($name), $command, $file, &[$($extra),*]);
            }
        )*

        /// The scenario files the tests above run.
        const PINNED: &[&str] = &[$($file),*];
    };
}

pinned! {
    mmc, "run", "mmc.toml";
    mmc_sweep, "sweep", "mmc-sweep.toml";
    cost_actuals, "cost", "cost-actuals.toml";
    cost_baremetal, "cost", "cost-baremetal.toml";
    cost_cloud, "cost", "cost-cloud.toml";
    cost_colocation, "cost", "cost-colocation.toml";
    cost_migration, "cost", "cost-migration.toml";
    central_baremetal, "run", "central/baremetal.toml";
    central_baremetal_sizes, "sweep", "central/baremetal-sizes.toml";
    central_spike, "run", "central/spike.toml";
    pack_platform, "pack", "pack/platform.toml";
    pack_three_tenants, "pack", "pack/three-tenants.toml";
    central_spike_burst, "run", "central/spike-burst.toml";
    central_catchment, "catchment", "central/estate.toml";
    central_plan_vm_to_k8s, "plan", "central/plan-vm-to-k8s.toml";
    central_plan_vm_to_k8s_cold, "plan", "central/plan-vm-to-k8s-cold.toml";
    generated_catchment, "catchment", "generated/estate.toml", "--sweep", "fra1";
    story_catchment, "catchment", "story/estate.toml", "--sweep", "ams1";
    story_game_day, "run", "story/game-day.toml";
    story_ny_crash_bfd, "run", "story/ny-crash-bfd.toml";
    story_ny_crash_hold, "run", "story/ny-crash-hold.toml";
    story_ny_service_down, "run", "story/ny-service-down.toml";
    story_ny_shutdown, "run", "story/ny-shutdown.toml";
    story_partition_apac, "run", "story/partition-apac.toml";
    story_spike, "run", "story/spike.toml";
    story_spike_k8s, "run", "story/spike-k8s.toml";
    story_spike_k8s_multi, "run", "story/spike-k8s-multi.toml";
    story_spike_ams_crash_bfd, "run", "story/spike-ams-crash-bfd.toml";
    story_spike_ams_crash_gru, "run", "story/spike-ams-crash-gru.toml";
    story_spike_ams_crash_hold, "run", "story/spike-ams-crash-hold.toml";
    story_trace, "run", "story/trace.toml";
    story_spike_prometheus, "run", "story/spike-prometheus.toml";
    story_spike_weighted, "run", "story/spike-weighted.toml";
    story_day_prometheus, "run", "story/day-prometheus.toml";
    story_day_csv, "run", "story/day-csv.toml";
    story_load_test_ams, "run", "story/load-test-ams.toml";
    story_load_test_estate, "run", "story/load-test-estate.toml";
    story_catchment_measured, "catchment", "story/estate.toml", "--measured", "../scenarios/story/import/measured-catchment.csv";
    story_plan_gameday, "plan", "story/plan-gameday.toml", "--replications", "4", "--threads", "3";
    #[cfg_attr(debug_assertions, ignore = "minutes in a debug build; README's release test command runs it")]
    story_plan_migration, "plan", "story/plan-migration.toml";
    #[cfg_attr(debug_assertions, ignore = "minutes in a debug build; README's release test command runs it")]
    story_plan_migration_underprovisioned, "plan", "story/plan-migration-underprovisioned.toml";
}

/// Files that are read by the scenarios above rather than run themselves.
const READ_BY_OTHERS: &[&str] = &[
    "bills/2026-11.csv",
    "edge-topology.toml",
    "pack/platform-tenants.csv",
    "pack/three-tenants.csv",
    "pack/usage/nightly-batch.csv",
    "story/k8s/web-multi.yaml",
    "story/k8s/web.yaml",
    "pricebooks/baremetal.toml",
    "pricebooks/colocation.toml",
    "pricebooks/hyperscaler.toml",
    "traces/evening-illustrative.csv",
    "story/import/day-requests.csv",
    "story/import/day-requests.json",
    "story/import/measured-catchment.csv",
    "story/import/population-weights.csv",
    "story/import/spike-requests.json",
];

/// Every file under `dir`, relative to `root`, sorted.
fn files_under(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("a scenario folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            files_under(root, &path, out);
        } else {
            let rel = path.strip_prefix(root).expect("under the root");
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

#[test]
fn every_bundled_scenario_is_pinned() {
    let mut found = Vec::new();
    files_under(&scenarios(), &scenarios(), &mut found);
    found.sort();
    let mut listed: Vec<String> = PINNED
        .iter()
        .chain(READ_BY_OTHERS)
        .map(|s| s.to_string())
        .collect();
    listed.sort();
    listed.dedup();
    assert_eq!(found, listed);
}

/// Replications are collected in index order, so the summary does not
/// depend on the number of threads that ran them (the snapshot above is
/// taken on three).
#[test]
fn replications_give_the_same_files_on_one_thread() {
    let args = |threads| ["--replications", "4", "--threads", threads];
    let (_a, one) = run("plan", "story/plan-gameday.toml", &args("1"));
    let (_b, three) = run("plan", "story/plan-gameday.toml", &args("3"));
    for name in pinned_files(&one) {
        let read = |dir: &Path| std::fs::read(dir.join(&name)).expect("a result file");
        assert!(read(&one) == read(&three), "{name} differs");
    }
}
