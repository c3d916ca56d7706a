//! Every bundled file validates, each read as what it is, and every command
//! given the wrong kind of file names the command that reads it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// Every file under `dir`, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn cutover(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn validate_accepts_every_bundled_file() {
    let files = files_under(&scenarios());
    assert!(files.len() > 25, "the scenarios are found");
    let mut args = vec!["validate".to_string()];
    args.extend(files.iter().map(|f| f.to_string_lossy().into_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = cutover(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    for file in &files {
        let line = format!("{}: ok: ", file.display());
        assert!(stdout.contains(&line), "{line} missing from\n{stdout}");
    }
}

#[test]
fn validate_checks_every_file_and_reports_each_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let bad_a = tmp.path().join("a.toml");
    let bad_b = tmp.path().join("b.toml");
    std::fs::write(&bad_a, "[scenario]\nname = \"a\"\n[mmc]\nservers = -1\n").unwrap();
    std::fs::write(&bad_b, "[book]\nname = 3\n").unwrap();
    let good = scenarios().join("mmc.toml");
    let out = cutover(&[
        "validate",
        bad_a.to_str().unwrap(),
        good.to_str().unwrap(),
        bad_b.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("a.toml:3:1: field `mmc`: missing field"),
        "{stderr}"
    );
    assert!(
        stderr.contains("b.toml:2:") && stderr.contains("field `book.name`"),
        "{stderr}"
    );
    assert!(stderr.contains("2 of 3 files have problems"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("mmc.toml: ok: "));
}

#[test]
fn validate_reports_every_unknown_field_and_the_first_other_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("typos.toml");
    let text = "[scenario]\nname = \"a\"\nsed = 3\n[mmc]\nservers = 4\narival_rate = \"3/s\"\n\
                arrival_rate = \"3/s\"\nservice_rate = \"1/s\"\ncustomers = 0\ncolour = \"blue\"\n";
    std::fs::write(&file, text).unwrap();
    let out = cutover(&["validate", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr).replace(file.to_str().unwrap(), "FILE");
    let located: Vec<&str> = stderr
        .lines()
        .map(|l| l.split(": ").nth(2).unwrap_or(""))
        .collect();
    assert_eq!(
        located,
        [
            "field `scenario.sed`",
            "field `mmc.arival_rate`",
            "field `mmc.colour`",
            "field `mmc.customers`"
        ],
        "{stderr}"
    );
    assert!(
        stderr.contains("FILE:9:13: field `mmc.customers`: 0 customers"),
        "{stderr}"
    );
}

/// Runs `args` on a bundled file and returns the error.
fn refused(args: &[&str], file: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let path = scenarios().join(file);
    let mut all = args.to_vec();
    all.push(path.to_str().unwrap());
    if args[0] != "catchment" {
        all.extend(["--out", out_dir.to_str().unwrap()]);
    }
    let out = cutover(&all);
    assert_eq!(out.status.code(), Some(2));
    assert!(!out_dir.exists());
    String::from_utf8_lossy(&out.stderr).replace(path.to_str().unwrap(), "FILE")
}

#[test]
fn commands_name_the_command_that_reads_the_file() {
    let err = refused(&["run"], "story/plan-migration.toml");
    assert!(
        err.starts_with("error: FILE:1:1: this is a plan scenario ([plan]), which `cutover run` does not read; run it with `cutover plan FILE`"),
        "{err}"
    );
    let err = refused(&["sweep"], "cost-cloud.toml");
    assert!(err.contains("run it with `cutover cost FILE`"), "{err}");
    let err = refused(&["cost"], "mmc.toml");
    assert!(
        err.contains("this is an M/M/c scenario") && err.contains("run it with `cutover run FILE`"),
        "{err}"
    );
    let err = refused(&["plan"], "cost-cloud.toml");
    assert!(err.contains("run it with `cutover cost FILE`"), "{err}");
    let err = refused(&["run"], "pack/platform.toml");
    assert!(
        err.contains("this is a consolidation plan ([pack])")
            && err.contains("run it with `cutover pack FILE`"),
        "{err}"
    );
    let err = refused(&["pack"], "cost-cloud.toml");
    assert!(err.contains("run it with `cutover cost FILE`"), "{err}");
    let err = refused(&["run"], "pricebooks/baremetal.toml");
    assert!(err.contains("this is a price book ([book])"), "{err}");
}

/// The words of a README command line, its comment removed and `*.toml`
/// expanded in `dir`.
fn words(line: &str, dir: &Path) -> Vec<String> {
    let command = line.split(" # ").next().unwrap_or("");
    let mut words = Vec::new();
    for w in command.split_whitespace() {
        match w.strip_suffix("*.toml") {
            Some(folder) => {
                let mut found: Vec<String> = std::fs::read_dir(dir.join(folder))
                    .unwrap()
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".toml"))
                    .map(|n| format!("{folder}{n}"))
                    .collect();
                found.sort();
                words.extend(found);
            }
            None => words.push(w.to_string()),
        }
    }
    words
}

#[cfg(unix)]
#[test]
fn the_readme_tour_runs_straight_after_the_set_up_command() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let setup = readme
        .lines()
        .find(|l| l.starts_with("cargo run --release -p cutover -- run"))
        .expect("the set-up command");
    let tour = readme.split("## A tour").nth(1).unwrap();
    let block = tour
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(root.join("scenarios"), tmp.path().join("scenarios")).unwrap();
    let mut commands = vec![setup.split(" -- ").nth(1).unwrap().to_string()];
    commands.extend(
        block
            .lines()
            .map(|l| l.trim_start_matches("cutover ").to_string()),
    );
    for command in commands {
        let args = words(&command, tmp.path());
        let out = Command::new(env!("CARGO_BIN_EXE_cutover"))
            .current_dir(tmp.path())
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(0 | 1)) && !stderr.contains("error"),
            "{command}: {stderr}"
        );
    }
}
