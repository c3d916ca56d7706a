//! Inputs found by fuzzing (sim/tests/fuzz_scenarios.rs and fuzz/), each
//! minimised, with what the loaders must say about them.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use cutover::plan::Plan;
use cutover::scenario::{trace, InputError, Scenario};

/// The error of `load` on `bytes` written to a file named `name`, with the
/// file's path replaced by FILE.
fn error_of<T: std::fmt::Debug>(
    name: &str,
    bytes: &[u8],
    load: fn(&Path) -> Result<T, InputError>,
) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let err = load(&path).expect_err("the input is wrong").to_string();
    err.replace(path.to_str().unwrap(), "FILE")
}

#[test]
fn a_byte_that_is_not_utf8_is_located() {
    let text = b"[scenario]\nname = \"x\"\n# caf\x80\n";
    assert_eq!(
        error_of("s.toml", text, Scenario::load),
        "FILE:3:6: byte 0x80 is not UTF-8 text; allowed: a text file in UTF-8"
    );
    let trace = b"time,population,rate\n0s,a,1/s\n\xff5m,a,2/s\n";
    assert_eq!(
        error_of("t.csv", trace, trace::load),
        "FILE:3:1: byte 0xff is not UTF-8 text; allowed: a text file in UTF-8"
    );
}

#[test]
fn a_file_cut_after_an_equals_sign_says_what_is_missing() {
    let err = error_of(
        "s.toml",
        b"[scenario]\nname = \"x\"\nseed =",
        Scenario::load,
    );
    assert_eq!(
        err,
        "FILE:3:7: field `scenario.seed`: the TOML stops here, before it is complete; \
         allowed: a value after `=`"
    );
}

/// A pipe with no writer would block a reader for ever (and `/dev/zero`
/// would fill the memory): anything but a regular file is refused unread.
#[test]
fn a_pipe_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("trace.csv");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(trace::load(&fifo).map(drop).map_err(|e| e.to_string()));
    });
    let err = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the loader answers instead of waiting for a writer")
        .expect_err("a pipe is not a trace");
    assert!(
        err.ends_with(
            "trace.csv: cannot read the file: it is a device, pipe or socket; allowed: a file"
        ),
        "{err}"
    );
}

/// An experiment whose `trace` names a TOML file: the trace's error names
/// the column it lacks.
#[test]
fn a_trace_without_its_columns_names_the_missing_one() {
    let err = |text: &str| {
        trace::parse(Path::new("t.csv"), text)
            .expect_err("not a trace")
            .to_string()
    };
    let allowed = "allowed: columns `time` (a duration) or `timestamp` (Unix seconds), \
         `population`, and one of `rate` (e.g. \"120/s\"), `requests_per_s` or `count`";
    assert_eq!(
        err("[book]\nname = \"x\"\n"),
        format!("t.csv:1:1: the header has no `time` or `timestamp` column; {allowed}")
    );
    assert_eq!(
        err("time,rate\n0s,1/s\n"),
        format!("t.csv:1:1: the header has no `population` column; {allowed}")
    );
}

/// A blank line before a bad row used to shift the reported line by one.
#[test]
fn a_trace_error_after_a_blank_line_names_the_right_line() {
    let err = trace::parse(Path::new("t.csv"), "time,population,rate\n\n0s,a,bad\n")
        .expect_err("`bad` is not a rate")
        .to_string();
    assert!(err.starts_with("t.csv:3:6: field `rate`: `bad`"), "{err}");
}

/// A trace with a header and no rows was reported at a line 2 it did not
/// have.
#[test]
fn a_trace_without_rows_is_reported_at_its_end() {
    let err = |text: &str| {
        trace::parse(Path::new("t.csv"), text)
            .expect_err("no rows")
            .to_string()
    };
    let expected = "no rows; allowed: a row per time and population after the header, \
                    e.g. `0s,us-east,300/s`";
    assert_eq!(
        err("time,population,rate"),
        format!("t.csv:1:1: {expected}")
    );
    assert_eq!(
        err("time,population,rate\n\n"),
        format!("t.csv:3:1: {expected}")
    );
}

/// A plan whose `cost` file is missing named the file but not the line that
/// names it.
#[test]
fn a_missing_cost_scenario_is_reported_at_the_plan_line_naming_it() {
    let estate = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/story/estate.toml"
    );
    let plan = format!(
        r#"[experiment]
name = "x"
estate = "{estate}"
duration = "1d"
[traffic]
base_rate = "1/s"
[plan]
cost = "missing.toml"
[[moves]]
from = "ams1"
to = "ams1-bm"
[[sites]]
tag = "ams1-bm"
city = "ams"
upstreams = [65010]
announce = false
[plan.stages]
unreachable = "l7"
"#
    );
    let err = error_of("plan.toml", plan.as_bytes(), Plan::load);
    assert!(
        err.starts_with("FILE:8:8: field `plan.cost`: cannot read ")
            && err.contains("missing.toml`: No such file"),
        "{err}"
    );
}
