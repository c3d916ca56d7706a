//! The load test part of an experiment's page: each judged site's knee
//! and first failing step (from `summary.json`'s `load_test`), then every
//! step's window per site (from `steps.csv`).

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use super::{csv_table, escape, CsvTable, HtmlError};

/// Writes the knees and the steps of a load test, when the run is one.
pub(super) fn section(html: &mut String, summary: &Value, dir: &Path) -> Result<(), HtmlError> {
    let Some(lt) = summary.get("load_test") else {
        return Ok(());
    };
    let percent = lt.get("unit").and_then(Value::as_str) == Some("percent");
    let level = |v: Option<f64>| match v {
        None => "-".to_string(),
        Some(v) if percent => format!("{v:.1} %"),
        Some(v) => format!("{v:.0}/s"),
    };
    let num = |v: &Value, key: &str| v.get(key).and_then(Value::as_f64);
    let _ = writeln!(
        html,
        "<h2>Load test on {}</h2>\n<p>{} of {} steps of {} s, the first {} s of each left out; \
         a site's window passes with p99 below {} ms and errors below {} %.</p>",
        escape(lt.get("target").and_then(Value::as_str).unwrap_or("-")),
        num(lt, "steps_run").unwrap_or(0.0),
        num(lt, "steps_planned").unwrap_or(0.0),
        num(lt, "hold_s").unwrap_or(0.0),
        num(lt, "warmup_s").unwrap_or(0.0),
        num(lt, "max_p99_ms").unwrap_or(0.0),
        num(lt, "max_error_rate").unwrap_or(0.0) * 100.0,
    );
    html.push_str(
        "<table id=\"knees\">\n<tr><th>Site</th><th>Knee</th><th>Requests/s at the knee</th>\
         <th>Pods</th><th>At max replicas</th><th>First failure</th><th>Limits broken</th></tr>\n",
    );
    for site in lt
        .get("sites")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let text = |key: &str| site.get(key).and_then(Value::as_str).unwrap_or("-");
        let knee = match (text("status"), num(site, "knee_level")) {
            ("not reached", v) => format!("not reached (passed up to {})", level(v)),
            (_, None) => "none (the first step failed)".to_string(),
            (_, v) => level(v),
        };
        let at_max = match site.get("knee_at_max_replicas").and_then(Value::as_bool) {
            Some(true) => "yes",
            Some(false) => "no",
            None => "-",
        };
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td class=\"v\">{}</td><td class=\"v\">{}</td><td>{at_max}</td>\
             <td>{}</td><td>{}</td></tr>",
            escape(text("site")),
            escape(&knee),
            num(site, "knee_requests_per_s").map_or("-".to_string(), |v| format!("{v:.0}")),
            num(site, "knee_pods").map_or("-".to_string(), |v| format!("{v:.0}")),
            escape(&level(num(site, "first_failure_level"))),
            escape(text("first_failure_limits")),
        );
    }
    html.push_str("</table>\n");
    steps_table(html, &dir.join("steps.csv"))
}

/// Every row of `steps.csv`, a failed window in bold.
fn steps_table(html: &mut String, path: &Path) -> Result<(), HtmlError> {
    html.push_str("<details><summary>Every step</summary>\n");
    let columns = [
        ("step", "Step"),
        ("level", "Level"),
        ("site", "Site"),
        ("requests_per_s", "Requests/s"),
        ("error_rate", "Error rate"),
        ("p99_ms", "p99 (ms)"),
        ("max_pods", "Pods"),
        ("cpu_utilisation", "CPU"),
        ("failed_limits", "Limits broken"),
    ];
    let table = CsvTable {
        open: "<table id=\"steps\" class=\"wide\">",
        columns: &columns,
        class: |header: &csv::StringRecord, record: &csv::StringRecord| {
            let passed = header.iter().position(|h| h == "passed");
            let ok = passed.and_then(|i| record.get(i)) == Some("true");
            Some(if ok { "passed" } else { "failed" })
        },
        cell: |key: &str, cell: &str| match (key, cell.parse::<f64>()) {
            ("error_rate" | "cpu_utilisation", Ok(v)) => format!("{:.2} %", v * 100.0),
            ("requests_per_s" | "p99_ms" | "level", Ok(v)) => format!("{v:.1}"),
            _ => cell.to_string(),
        },
    };
    csv_table(html, path, table)?;
    html.push_str("</details>\n");
    Ok(())
}
