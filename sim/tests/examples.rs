//! The examples in `sim/examples` give the numbers the command line gives:
//! each is compiled here as a module, run on its bundled scenario, and its
//! figures compared with the `summary.json` of the equivalent `cutover`
//! command.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

// Each example's `main` is its binary's entry point, unused here.
#[allow(dead_code)]
#[path = "../examples/cost_projection.rs"]
mod cost_projection;

#[allow(dead_code)]
#[path = "../examples/failover_drill.rs"]
mod failover_drill;

/// Runs `cutover COMMAND FILE --out DIR` and reads the `summary.json` it wrote.
fn cli_summary(command: &str, file: &Path) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .arg(command)
        .arg(file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

/// `value` written as JSON and read back by the parser that read the
/// command's file: two floats are equal after this exactly when their
/// shortest decimal forms, and so their bits, are.
fn as_written<T: serde::Serialize>(value: &T) -> Value {
    serde_json::from_str(&serde_json::to_string(value).unwrap()).unwrap()
}

/// A string field of `v`, or none when it is null or absent.
fn text(v: &Value, field: &str) -> Option<String> {
    v.get(field).and_then(Value::as_str).map(str::to_string)
}

#[test]
fn cost_projection_gives_the_figures_of_cutover_cost() {
    let file = cost_projection::bundled();
    let figures = cost_projection::project(&file).unwrap();
    let json = cli_summary("cost", &file);
    let months: Vec<cost_projection::MonthFigures> = json["by_month"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| cost_projection::MonthFigures {
            month: text(m, "month").unwrap(),
            plan: text(m, "plan").unwrap(),
            baseline: text(m, "baseline"),
            savings: text(m, "savings"),
            cumulative_savings: text(m, "cumulative_savings"),
        })
        .collect();
    let h = &json["headline"];
    let expected = cost_projection::Figures {
        currency: text(&json, "currency").unwrap(),
        months,
        plan_total: text(h, "plan_total").unwrap(),
        plan_npv: text(h, "plan_npv").unwrap(),
        savings_total: text(h, "savings_total"),
        break_even: text(h, "break_even"),
    };
    // The bundled migration has a baseline and breaks even: the
    // comparison covers the optional figures too.
    assert!(expected.break_even.is_some() && expected.months[0].baseline.is_some());
    assert_eq!(figures, expected);
}

#[test]
fn failover_drill_gives_the_recovery_of_cutover_run() {
    let file = failover_drill::bundled();
    let drill = failover_drill::drill(&file).unwrap();
    let json = cli_summary("run", &file);
    assert_eq!(Some(drill.name.as_str()), json["scenario"].as_str());
    assert_eq!(Some(drill.verdict.as_str()), json["verdict"].as_str());
    assert_eq!(as_written(&drill.availability), json["availability"]);
    // Every figure of every row, as summary.json writes it.
    assert_eq!(as_written(&drill.recovery), json["recovery"]);
    assert!(!drill.recovery.data.is_empty() && !drill.recovery.services.is_empty());
}
