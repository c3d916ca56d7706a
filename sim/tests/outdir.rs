//! Output directories: `--force` replaces only what cutover wrote, and no
//! staging directory outlives its run (interrupted or killed).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const SMALL: &str = r#"[scenario]
name = "small"

[mmc]
servers = 4
arrival_rate = "3/s"
service_rate = "1/s"
customers = 1000
"#;

fn cutover(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cutover"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn scenario(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("scenario.toml");
    fs::write(&path, text).unwrap();
    path
}

fn run(dir: &Path, out: &Path, force: bool) -> Output {
    let file = scenario(dir, SMALL);
    let mut args = vec![
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    if force {
        args.push("--force");
    }
    cutover(dir, &args)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn force_replaces_an_earlier_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    assert_eq!(run(tmp.path(), &out, false).status.code(), Some(0));
    let again = run(tmp.path(), &out, true);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let info = fs::read_to_string(out.join("run-info.json")).unwrap();
    assert!(info.contains("\"tool\": \"cutover\""), "{info}");
    assert_eq!(names(tmp.path()), ["out", "scenario.toml"]);
}

#[test]
fn force_never_deletes_a_directory_of_the_users() {
    let tmp = tempfile::tempdir().unwrap();
    let mine = tmp.path().join("mine");
    fs::create_dir(&mine).unwrap();
    fs::write(mine.join("thesis.tex"), "years of work").unwrap();
    let refused = run(tmp.path(), &mine, true);
    assert_eq!(refused.status.code(), Some(2));
    let err = stderr(&refused);
    assert!(
        err.contains("--force replaces only a directory written by cutover")
            && err.contains("has no run-info.json"),
        "{err}"
    );
    assert_eq!(names(&mine), ["thesis.tex"]);
}

#[test]
fn force_refuses_the_working_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario(tmp.path(), SMALL);
    let here = tmp.path().to_str().unwrap();
    let refused = cutover(
        tmp.path(),
        &["run", file.to_str().unwrap(), "--out", here, "--force"],
    );
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let refused_dot = cutover(
        tmp.path(),
        &["run", "scenario.toml", "--out", ".", "--force"],
    );
    assert_eq!(
        refused_dot.status.code(),
        Some(2),
        "{}",
        stderr(&refused_dot)
    );
    assert_eq!(names(tmp.path()), ["scenario.toml"]);
}

#[test]
fn force_refuses_a_file_and_an_added_file() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("results");
    fs::write(&file, "a file").unwrap();
    let refused = run(tmp.path(), &file, true);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("a file with that name exists"));
    assert_eq!(fs::read_to_string(&file).unwrap(), "a file");

    let out = tmp.path().join("out");
    assert_eq!(run(tmp.path(), &out, false).status.code(), Some(0));
    fs::write(out.join("notes.md"), "mine").unwrap();
    let refused = run(tmp.path(), &out, true);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("holds `notes.md`, which cutover did not write"));
    assert!(out.join("notes.md").exists() && out.join("summary.json").exists());
}

#[test]
fn stale_staging_directories_of_dead_processes_are_removed() {
    let tmp = tempfile::tempdir().unwrap();
    // No process has this id (above Linux's pid_max of 2^22)...
    let dead = tmp.path().join(".out.partial-999999999");
    // ...and this one is alive: the test itself.
    let live = tmp
        .path()
        .join(format!(".out.partial-{}", std::process::id()));
    fs::create_dir(&dead).unwrap();
    fs::write(dead.join("half.csv"), "x").unwrap();
    fs::create_dir(&live).unwrap();
    let out = tmp.path().join("out");
    assert_eq!(run(tmp.path(), &out, false).status.code(), Some(0));
    assert!(
        !dead.exists(),
        "the dead run's staging directory is removed"
    );
    assert!(
        live.exists(),
        "a live run's staging directory is left alone"
    );
}

/// Starts a long run, waits for its staging directory, sends `signal` and
/// returns the exit status and what remains beside the output.
#[cfg(unix)]
fn interrupt(signal: i32) -> (Option<i32>, Vec<String>) {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario(
        tmp.path(),
        &(SMALL.replace("customers = 1000", "customers = 5_000_000_000")
            + "\n[output]\ntimeline_interval = \"1h\"\n"),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["run", file.to_str().unwrap(), "--out"])
        .arg(tmp.path().join("out"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while names(tmp.path()).len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no staging directory"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: sends a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    let status = child.wait().unwrap();
    (status.code(), names(tmp.path()))
}

#[cfg(unix)]
#[test]
fn sigterm_removes_the_staging_directory() {
    let (code, left) = interrupt(libc::SIGTERM);
    assert_eq!(code, Some(143));
    assert_eq!(left, ["scenario.toml"]);
}

#[cfg(unix)]
#[test]
fn ctrl_c_removes_the_staging_directory() {
    let (code, left) = interrupt(libc::SIGINT);
    assert_eq!(code, Some(130));
    assert_eq!(left, ["scenario.toml"]);
}
