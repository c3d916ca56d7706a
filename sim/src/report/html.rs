//! A self-contained HTML page summarising any run directory: the verdict
//! (when the run has one), every figure of `summary.json`, and every SVG
//! chart inlined. No script, no style sheet or font from the network: the
//! page opens offline.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    /// The run directory lacks a readable `summary.json`.
    #[error("{}: cannot read summary.json: {reason}; allowed: a directory written by `cutover run` or `cutover cost`", dir.display())]
    Summary {
        /// The run directory.
        dir: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A file of the run directory could not be read.
    #[error("{}: cannot read: {reason}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        reason: std::io::Error,
    },
}

/// What the page says about the run's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every gate and budget held.
    Pass,
    /// Something failed.
    Fail,
    /// The run judges nothing (no gates).
    None,
}

/// Reads a run's verdict from its summary: a `verdict` field ("pass" or
/// "fail"), a boolean `success` field, or, for a cost run, a non-empty
/// `budget_overruns` list (a fail); otherwise the run has none. An empty
/// overrun list judges nothing: the summary does not say whether a budget
/// was set.
pub fn verdict_of(summary: &Value) -> Verdict {
    match (summary.get("verdict"), summary.get("success")) {
        (Some(Value::String(v)), _) if v.eq_ignore_ascii_case("pass") => Verdict::Pass,
        (Some(Value::String(_)), _) => Verdict::Fail,
        (_, Some(Value::Bool(true))) => Verdict::Pass,
        (_, Some(Value::Bool(false))) => Verdict::Fail,
        _ if overruns(summary) > 0 => Verdict::Fail,
        _ => Verdict::None,
    }
}

/// How many budget overruns a cost run's summary lists.
fn overruns(summary: &Value) -> usize {
    summary
        .get("budget_overruns")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Flattens JSON into (dotted key, display value) rows; arrays of scalars
/// stay on one row.
fn flatten(prefix: &str, value: &Value, rows: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, v, rows);
            }
        }
        Value::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) => {
            let parts: Vec<String> = items.iter().map(scalar).collect();
            rows.push((prefix.to_string(), format!("[{}]", parts.join(", "))));
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, rows);
            }
        }
        other => rows.push((prefix.to_string(), scalar(other))),
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{}", (f * 1e6).round() / 1e6),
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        Value::Null => "-".to_string(),
        other => other.to_string(),
    }
}

/// Builds the page for the run directory `dir`.
pub fn render(dir: &Path) -> Result<String, HtmlError> {
    let summary_path = dir.join("summary.json");
    let summary: Value = std::fs::read(&summary_path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
        .map_err(|reason| HtmlError::Summary {
            dir: dir.to_path_buf(),
            reason,
        })?;
    let title = summary
        .get("scenario")
        .and_then(Value::as_str)
        .unwrap_or("cutover run")
        .to_string();
    let mut charts: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|reason| HtmlError::Read {
            path: dir.to_path_buf(),
            reason,
        })?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
        .collect();
    charts.sort();

    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n\
         <style>body{{font-family:sans-serif;margin:2em;max-width:1000px}}\
         .verdict{{padding:.6em 1em;font-size:1.4em;font-weight:bold;border-radius:4px}}\
         .pass{{background:#d4edda}}.fail{{background:#f8d7da}}.none{{background:#e2e3e5}}\
         table{{border-collapse:collapse}}td{{padding:2px 12px;border-bottom:1px solid #ddd}}\
         td.v{{text-align:right;font-variant-numeric:tabular-nums}}figure{{margin:1.5em 0}}</style>\n\
         </head>\n<body>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&title)
    );
    let (class, text) = match verdict_of(&summary) {
        Verdict::Pass => ("pass", "Verdict: PASS".to_string()),
        Verdict::Fail if summary.get("verdict").is_none() && summary.get("success").is_none() => (
            "fail",
            format!(
                "Verdict: FAIL (over budget: {} overruns)",
                overruns(&summary)
            ),
        ),
        Verdict::Fail => ("fail", "Verdict: FAIL".to_string()),
        Verdict::None => ("none", "Verdict: none (this run has no gates)".to_string()),
    };
    let _ = writeln!(
        html,
        "<p id=\"verdict\" class=\"verdict {class}\">{text}</p>"
    );
    html.push_str("<h2>Key figures</h2>\n<table>\n");
    let mut rows = Vec::new();
    flatten("", &summary, &mut rows);
    for (key, value) in rows {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td class=\"v\">{}</td></tr>",
            escape(&key),
            escape(&value)
        );
    }
    html.push_str("</table>\n");
    if !charts.is_empty() {
        html.push_str("<h2>Charts</h2>\n");
    }
    for chart in charts {
        let svg = std::fs::read_to_string(&chart).map_err(|reason| HtmlError::Read {
            path: chart.clone(),
            reason,
        })?;
        let svg = match svg.find("<svg") {
            Some(start) => &svg[start..],
            None => continue,
        };
        let name = chart
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        let _ = writeln!(
            html,
            "<figure>\n{svg}\n<figcaption>{}</figcaption>\n</figure>",
            escape(&name)
        );
    }
    html.push_str("</body>\n</html>\n");
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn verdicts_are_read_from_the_summary() {
        assert_eq!(verdict_of(&json!({"verdict": "pass"})), Verdict::Pass);
        assert_eq!(verdict_of(&json!({"verdict": "FAIL"})), Verdict::Fail);
        assert_eq!(verdict_of(&json!({"success": false})), Verdict::Fail);
        assert_eq!(verdict_of(&json!({"mean_wait_s": 0.3})), Verdict::None);
        assert_eq!(
            verdict_of(&json!({"budget_overruns": [{"line": "total"}]})),
            Verdict::Fail
        );
        assert_eq!(verdict_of(&json!({"budget_overruns": []})), Verdict::None);
        assert_eq!(
            verdict_of(&json!({"verdict": "pass", "budget_overruns": [{"line": "total"}]})),
            Verdict::Pass,
            "a run's own verdict wins"
        );
    }

    #[test]
    fn a_cost_run_directory_gets_a_page_and_its_overruns_a_fail() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("summary.json"),
            r#"{"scenario": "move", "headline": {"plan_total": "10.00"}, "budget_overruns": [{"month": "2027-01", "line": "total"}, {"month": "2027-02", "line": "total"}]}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("cost.csv"), "scenario,month\n").unwrap();
        std::fs::write(dir.path().join("cost.svg"), "<svg id=\"cost\"></svg>").unwrap();
        let html = render(dir.path()).unwrap();
        assert!(
            html.contains("<p id=\"verdict\" class=\"verdict fail\">Verdict: FAIL (over budget: 2 overruns)</p>"),
            "{html}"
        );
        assert!(html.contains("<td>headline.plan_total</td><td class=\"v\">10.00</td>"));
        assert!(html.contains("<svg id=\"cost\">"));
    }

    #[test]
    fn the_page_holds_figures_and_charts_and_escapes_text() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("summary.json"),
            r#"{"scenario": "a <b> & c", "success": true, "ci": [1.5, 2.5], "erlang_c": {"mean_wait_s": 0.369591234}}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("b.svg"),
            "<?xml version=\"1.0\"?>\n<svg id=\"b\"></svg>",
        )
        .unwrap();
        std::fs::write(dir.path().join("a.svg"), "<svg id=\"a\"></svg>").unwrap();
        let html = render(dir.path()).unwrap();
        assert!(html.contains("<h1>a &lt;b&gt; &amp; c</h1>"));
        assert!(html.contains("Verdict: PASS"));
        assert!(html.contains("<td>erlang_c.mean_wait_s</td><td class=\"v\">0.369591</td>"));
        assert!(html.contains("<td>ci</td><td class=\"v\">[1.5, 2.5]</td>"));
        assert!(
            !html.contains("<?xml"),
            "declarations are stripped when inlining"
        );
        let (a, b) = (
            html.find("id=\"a\"").unwrap(),
            html.find("id=\"b\"").unwrap(),
        );
        assert!(a < b, "charts in name order");
        for fetch in ["<script", "<link", "src=", "@import"] {
            assert!(!html.contains(fetch), "the page must not load {fetch}");
        }
    }

    #[test]
    fn a_directory_without_a_summary_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = render(dir.path()).unwrap_err().to_string();
        assert!(err.contains("cannot read summary.json"), "{err}");
        assert!(
            err.contains("allowed: a directory written by `cutover run` or `cutover cost`"),
            "{err}"
        );
    }
}
