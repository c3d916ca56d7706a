//! A self-contained HTML page summarising any run directory: the verdict
//! (when the run has one), a headline for plan, cost, pack and experiment runs
//! (with a plan's stage table, an experiment's reasons and its population
//! and site tables), every figure of `summary.json` for the others, and
//! every SVG chart inlined. No script, no style sheet or font from the
//! network: the page opens offline.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use cutover_models::cost::Money;
use serde_json::Value;

use super::fmt;
use super::pages;

mod experiment;
mod load_test;
mod pack;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    /// The run directory lacks a readable `summary.json`.
    #[error("{}: cannot read summary.json: {reason}; allowed: a directory written by `cutover run`, `cutover cost`, `cutover plan`, `cutover sweep`, `cutover catchment` or `cutover pack`", dir.display())]
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

/// `text` with the characters HTML gives a meaning escaped.
pub(super) fn escape(text: &str) -> String {
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

/// The kind of run a summary comes from, as far as the page's headline
/// goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `cutover plan`: `model` is "plan".
    Plan,
    /// `cutover cost`: the summary has a `headline` object.
    Cost,
    /// `cutover run` of an M/M/c scenario: `model` is "mmc".
    Mmc,
    /// `cutover sweep`: `model` is "sweep".
    Sweep,
    /// `cutover catchment`: `model` is "catchment".
    Catchment,
    /// `cutover run` of an experiment on an estate: `model` is
    /// "experiment".
    Experiment,
    /// `cutover pack`: `model` is "pack".
    Pack,
    /// Any other run: no headline, the figures' table comes first.
    Other,
}

fn kind_of(summary: &Value) -> Kind {
    match summary.get("model").and_then(Value::as_str) {
        Some("plan") => Kind::Plan,
        Some("experiment") => Kind::Experiment,
        Some("mmc") => Kind::Mmc,
        Some("sweep") => Kind::Sweep,
        Some("catchment") => Kind::Catchment,
        Some("pack") => Kind::Pack,
        _ if summary.get("headline").is_some_and(Value::is_object) => Kind::Cost,
        _ => Kind::Other,
    }
}

/// A money amount (a decimal string or a number) with thousands grouped
/// and the currency after it, e.g. "57,860.07 USD"; "-" when absent.
fn money(value: Option<&Value>, currency: &str) -> String {
    let text = match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => format!("{:.2}", n.as_f64().unwrap_or(0.0)),
        _ => return "-".to_string(),
    };
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let fraction = if fraction.is_empty() {
        String::new()
    } else {
        format!(".{fraction}")
    };
    format!("{sign}{grouped}{fraction} {currency}")
        .trim_end()
        .to_string()
}

fn number(summary: &Value, pointer: &str) -> Option<f64> {
    summary.pointer(pointer).and_then(Value::as_f64)
}

/// A fraction as a percentage with `decimals` decimals; "-" when absent.
fn percent(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(
        || "-".to_string(),
        |f| format!("{:.decimals$} %", f * 100.0),
    )
}

/// How [`csv_table`] lays out a CSV file: its `<table ...>` tag, the
/// columns shown (header key, title), each row's class and each cell's text.
pub(super) struct CsvTable<'a, C, F> {
    /// The opening tag, e.g. `<table id="steps" class="wide">`.
    pub open: &'a str,
    /// (key in the file's header, column title), in the order shown.
    pub columns: &'a [(&'a str, &'a str)],
    /// The class of a row, from the file's header and the row.
    pub class: C,
    /// A cell's text from its column key and the file's text.
    pub cell: F,
}

/// Writes the columns of the CSV file at `path` as an HTML table.
pub(super) fn csv_table<C, F>(
    html: &mut String,
    path: &Path,
    table: CsvTable<'_, C, F>,
) -> Result<(), HtmlError>
where
    C: Fn(&csv::StringRecord, &csv::StringRecord) -> Option<&'static str>,
    F: Fn(&str, &str) -> String,
{
    let read_error = |e: csv::Error| HtmlError::Read {
        path: path.to_path_buf(),
        reason: std::io::Error::other(e.to_string()),
    };
    let mut reader = csv::Reader::from_path(path).map_err(read_error)?;
    let header = reader.headers().map_err(read_error)?.clone();
    let index: Vec<Option<usize>> = table
        .columns
        .iter()
        .map(|(c, _)| header.iter().position(|h| h == *c))
        .collect();
    html.push_str(table.open);
    html.push_str("\n<tr>");
    for (_, title) in table.columns {
        let _ = write!(html, "<th>{title}</th>");
    }
    html.push_str("</tr>\n");
    for record in reader.records() {
        let record = record.map_err(read_error)?;
        match (table.class)(&header, &record) {
            Some(class) => {
                let _ = write!(html, "<tr class=\"{class}\">");
            }
            None => html.push_str("<tr>"),
        }
        for ((key, _), i) in table.columns.iter().zip(&index) {
            let cell = (table.cell)(key, i.and_then(|i| record.get(i)).unwrap_or(""));
            let _ = write!(html, "<td>{}</td>", escape(&cell));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
    Ok(())
}

/// Writes a two-column table of (label, value) rows with the given id.
pub(super) fn headline_table(html: &mut String, id: &str, rows: &[(&str, String)]) {
    let _ = writeln!(html, "<table id=\"{id}\">");
    for (label, value) in rows {
        let _ = writeln!(
            html,
            "<tr><th scope=\"row\">{}</th><td class=\"v\">{}</td></tr>",
            escape(label),
            escape(value)
        );
    }
    html.push_str("</table>\n");
}

/// The headline of a plan run: duration, SLO, cost and, with Monte Carlo
/// replications, the success probability; then the stage table and the
/// rollbacks.
fn plan_section(html: &mut String, summary: &Value) {
    let currency = summary
        .pointer("/cost/currency")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut rows = vec![
        (
            "Duration",
            number(summary, "/duration_days")
                .map_or_else(|| "-".to_string(), |d| format!("{d:.2} days")),
        ),
        (
            "SLO availability",
            format!(
                "{} (target {})",
                percent(number(summary, "/slo/availability"), 5),
                percent(number(summary, "/slo/target"), 3)
            ),
        ),
        (
            "Error budget consumed",
            percent(number(summary, "/slo/budget_consumed"), 3),
        ),
        (
            "Failed requests",
            number(summary, "/slo/failed").map_or_else(|| "-".to_string(), |f| format!("{f:.0}")),
        ),
        ("Dual running", dual_running(summary, currency)),
        (
            "Monthly cost after the plan",
            format!(
                "{} ({})",
                money(summary.pointer("/cost/final_monthly"), currency),
                summary
                    .pointer("/cost/final_month")
                    .and_then(Value::as_str)
                    .unwrap_or("-")
            ),
        ),
    ];
    if let Some(success) = summary.pointer("/montecarlo/success") {
        let get = |key: &str| {
            success
                .get(key)
                .and_then(Value::as_f64)
                .map_or_else(|| "-".to_string(), |v| format!("{v:.3}"))
        };
        rows.push((
            "Success probability",
            format!(
                "{} (95 % CI {} to {}, {} replications)",
                get("estimate"),
                get("ci95_low"),
                get("ci95_high"),
                success
                    .get("trials")
                    .and_then(Value::as_f64)
                    .map_or_else(|| "-".to_string(), fmt::count)
            ),
        ));
    }
    html.push_str("<h2>Headline</h2>\n");
    headline_table(html, "headline", &rows);

    stage_table(html, summary);
    let rollbacks = summary
        .get("rollbacks")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    if !rollbacks.is_empty() {
        html.push_str("<h2>Rollbacks</h2>\n<ul id=\"rollbacks\">\n");
        for rollback in rollbacks {
            let field = |key: &str| rollback.get(key).map_or_else(|| "-".to_string(), scalar);
            let day = rollback
                .get("at_s")
                .and_then(Value::as_f64)
                .map_or_else(|| "-".to_string(), |s| format!("{:.2}", s / 86_400.0));
            let _ = writeln!(
                html,
                "<li>{} attempt {} stage {} rolled back at day {}: {}</li>",
                escape(&field("region")),
                escape(&field("attempt")),
                escape(&field("stage")),
                day,
                escape(&field("reasons"))
            );
        }
        html.push_str("</ul>\n");
    }
}

/// The stage table: one row per stage the plan ran, with its share, its
/// action, its window's figures and the gate's verdict.
fn stage_table(html: &mut String, summary: &Value) {
    let stages = summary
        .get("stages")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    html.push_str(
        "<h2>Stages</h2>\n<table id=\"stages\">\n<tr><th>Region</th><th>Attempt</th>\
         <th>Stage</th><th>Share</th><th>Action</th><th>Requests</th><th>Error rate</th>\
         <th>p99</th><th>Gate</th></tr>\n",
    );
    for stage in stages {
        let field = |key: &str| stage.get(key).map_or_else(|| "-".to_string(), scalar);
        let float = |key: &str| stage.get(key).and_then(Value::as_f64);
        let passed = stage.get("passed").and_then(Value::as_bool) == Some(true);
        let gate = if passed {
            "pass".to_string()
        } else {
            let reasons = stage.get("reasons").and_then(Value::as_str).unwrap_or("");
            format!("FAIL: {reasons}")
        };
        let _ = writeln!(
            html,
            "<tr class=\"{}\"><td>{}</td><td class=\"v\">{}</td><td class=\"v\">{}</td>\
             <td class=\"v\">{} (reached {})</td><td>{}</td><td class=\"v\">{}</td>\
             <td class=\"v\">{}</td><td class=\"v\">{}</td><td>{}</td></tr>",
            if passed { "passed" } else { "failed" },
            escape(&field("region")),
            escape(&field("attempt")),
            escape(&field("stage")),
            percent(float("share_requested"), 1),
            percent(float("share_reached"), 1),
            escape(stage.get("action").and_then(Value::as_str).unwrap_or("-")),
            escape(&field("requests")),
            percent(float("error_rate"), 3),
            fmt::latency_ms(float("p99_ms").unwrap_or(f64::NAN)),
            escape(&gate)
        );
    }
    html.push_str("</table>\n");
}

/// A saving (a decimal string) in words, never negative: see
/// [`fmt::saving`]; "-" when absent.
fn saving(value: Option<&Value>, currency: &str) -> String {
    value
        .and_then(Value::as_str)
        .and_then(|s| Money::parse_amount(s).ok())
        .map_or_else(|| money(value, currency), |m| fmt::saving(m, currency))
}

/// A plan's dual running against the cost scenario's own schedule, in
/// words: never a negative "extra".
fn dual_running(summary: &Value, currency: &str) -> String {
    let amount = |key: &str| {
        summary
            .pointer(&format!("/cost/{key}"))
            .and_then(Value::as_str)
            .and_then(|s| Money::parse_amount(s).ok())
    };
    let total = money(summary.pointer("/cost/dual_running"), currency);
    match (
        amount("dual_running_extra"),
        amount("dual_running_as_scheduled"),
    ) {
        (Some(extra), Some(scheduled)) => format!(
            "{total} ({})",
            fmt::versus_schedule(extra, scheduled, currency)
        ),
        _ => total,
    }
}

/// The headline of a cost run: the figures a finance reader asks for
/// first, from the summary's `headline` object.
fn cost_section(html: &mut String, summary: &Value) {
    let currency = summary
        .get("currency")
        .and_then(Value::as_str)
        .unwrap_or("");
    let head = |key: &str| summary.pointer(&format!("/headline/{key}"));
    let text = |key: &str| head(key).map_or_else(|| "-".to_string(), scalar);
    let rows = vec![
        ("Plan total", money(head("plan_total"), currency)),
        ("Baseline total", money(head("baseline_total"), currency)),
        ("Savings", saving(head("savings_total"), currency)),
        (
            "NPV of savings",
            format!(
                "{} (discount rate {})",
                saving(head("savings_npv"), currency),
                percent(number(summary, "/discount_rate"), 1)
            ),
        ),
        ("Break-even", text("break_even")),
        (
            "Monthly plan, last month",
            money(head("last_month_plan"), currency),
        ),
        (
            "Monthly baseline, last month",
            money(
                summary
                    .get("by_month")
                    .and_then(Value::as_array)
                    .and_then(|months| months.last())
                    .and_then(|month| month.get("baseline")),
                currency,
            ),
        ),
        (
            "Annual savings run rate",
            saving(head("annual_savings_run_rate"), currency),
        ),
        (
            "Dual running",
            format!(
                "{} months, {} on the new side",
                text("dual_running_months"),
                money(head("dual_running_new_side"), currency)
            ),
        ),
        ("Budget overruns", overruns(summary).to_string()),
    ];
    html.push_str("<h2>Headline</h2>\n");
    headline_table(html, "headline", &rows);
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
    let title = summary.get("scenario").and_then(Value::as_str).map_or_else(
        || {
            let model = summary.get("model").and_then(Value::as_str);
            format!("cutover {}", model.unwrap_or("run"))
        },
        str::to_string,
    );
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
         table{{border-collapse:collapse}}td,th{{padding:2px 12px;border-bottom:1px solid #ddd}}\
         th{{text-align:left}}tr.failed td{{font-weight:bold;color:#a00}}summary{{cursor:pointer;margin:1em 0}}\
         td.v{{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}}table.wide{{font-size:.85em}}figure{{margin:1.5em 0}}</style>\n\
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
    let kind = kind_of(&summary);
    match kind {
        Kind::Plan => plan_section(&mut html, &summary),
        Kind::Cost => cost_section(&mut html, &summary),
        Kind::Mmc => pages::mmc_section(&mut html, &summary),
        Kind::Sweep => pages::sweep_section(&mut html, &summary),
        Kind::Catchment => pages::catchment_section(&mut html, &summary, dir)?,
        Kind::Experiment => {
            experiment::section(&mut html, &summary);
            load_test::section(&mut html, &summary, dir)?;
        }
        Kind::Pack => pack::section(&mut html, &summary),
        Kind::Other => figures(&mut html, &summary),
    }
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
        let caption = match kind {
            Kind::Experiment => experiment::caption(&name),
            _ => name.to_string(),
        };
        let _ = writeln!(
            html,
            "<figure>\n{svg}\n<figcaption>{}</figcaption>\n</figure>",
            escape(&caption)
        );
    }
    if matches!(kind, Kind::Plan | Kind::Cost | Kind::Pack) {
        figures(&mut html, &summary);
    }
    html.push_str("</body>\n</html>\n");
    Ok(html)
}

/// Writes every figure of the summary as a (dotted key, value) table:
/// first on the page for a run without a headline, otherwise last and
/// collapsed, after the charts.
fn figures(html: &mut String, summary: &Value) {
    let mut rows = Vec::new();
    flatten("", summary, &mut rows);
    let collapsed = kind_of(summary) != Kind::Other;
    if collapsed {
        let _ = writeln!(
            html,
            "<details id=\"figures\">\n<summary>All figures ({} rows)</summary>\n<table>",
            rows.len()
        );
    } else {
        html.push_str("<h2>Key figures</h2>\n<table id=\"figures\">\n");
    }
    for (key, value) in rows {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td class=\"v\">{}</td></tr>",
            escape(&key),
            escape(&value)
        );
    }
    html.push_str("</table>\n");
    if collapsed {
        html.push_str("</details>\n");
    }
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
    fn money_groups_thousands_and_names_the_currency() {
        assert_eq!(money(Some(&json!("57860.07")), "USD"), "57,860.07 USD");
        assert_eq!(money(Some(&json!("-1930.06")), "USD"), "-1,930.06 USD");
        assert_eq!(money(Some(&json!("999")), "EUR"), "999 EUR");
        assert_eq!(money(Some(&json!("1234567.5")), ""), "1,234,567.5");
        assert_eq!(money(None, "USD"), "-");
    }

    fn plan_summary() -> Value {
        json!({
            "scenario": "move", "model": "plan", "verdict": "pass", "success": true,
            "duration_days": 63.194, "reasons": [],
            "stages": [
                {"region": "ams1", "attempt": 1, "stage": 6, "share_requested": 0.75,
                 "action": "L7 weight 75.0 % to ams1-bm",
                 "share_reached": 0.75, "requests": 686254, "failed": 0, "error_rate": 0.0,
                 "p99_ms": 276.5, "passed": false,
                 "reasons": "p99 276.5 ms is not below 200.0 ms"},
                {"region": "ams1", "attempt": 2, "stage": 7, "share_requested": 1.0,
                 "share_reached": 1.0, "requests": 810742, "failed": 0, "error_rate": 0.0,
                 "p99_ms": 70.05, "passed": true, "reasons": ""}
            ],
            "rollbacks": [{"region": "ams1", "attempt": 1, "stage": 6, "at_s": 1285920.0,
                           "reasons": "p99 276.5 ms is not below 200.0 ms"}],
            "slo": {"target": 0.9995, "availability": 0.99999995, "failed": 965.2,
                    "budget_consumed": 0.000098},
            "cost": {"currency": "USD", "dual_running": "57860.07",
                     "dual_running_as_scheduled": "55515.61", "dual_running_extra": "2344.46",
                     "final_month": "2027-05", "final_monthly": "4652.64"},
            "montecarlo": {"replications": 200, "success": {"estimate": 1.0,
                           "ci95_low": 0.98115, "ci95_high": 1.0, "trials": 200}}
        })
    }

    #[test]
    fn a_plan_run_gets_a_headline_and_a_stage_table_before_its_charts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("summary.json"), plan_summary().to_string()).unwrap();
        std::fs::write(dir.path().join("share.svg"), "<svg id=\"share\"></svg>").unwrap();
        let html = render(dir.path()).unwrap();
        assert!(html.contains("Verdict: PASS"), "{html}");
        for row in [
            "<th scope=\"row\">Duration</th><td class=\"v\">63.19 days</td>",
            "<th scope=\"row\">SLO availability</th><td class=\"v\">99.99999 % (target 99.950 %)</td>",
            "<th scope=\"row\">Error budget consumed</th><td class=\"v\">0.010 %</td>",
            "<th scope=\"row\">Dual running</th><td class=\"v\">57,860.07 USD (2,344.46 USD more than the 55,515.61 USD scheduled)</td>",
            "<th scope=\"row\">Monthly cost after the plan</th><td class=\"v\">4,652.64 USD (2027-05)</td>",
            "<th scope=\"row\">Success probability</th><td class=\"v\">1.000 (95 % CI 0.981 to 1.000, 200 replications)</td>",
        ] {
            assert!(html.contains(row), "missing {row}\n{html}");
        }
        assert!(html.contains(
            "<tr class=\"failed\"><td>ams1</td><td class=\"v\">1</td><td class=\"v\">6</td>\
             <td class=\"v\">75.0 % (reached 75.0 %)</td><td>L7 weight 75.0 % to ams1-bm</td>\
             <td class=\"v\">686254</td>\
             <td class=\"v\">0.000 %</td><td class=\"v\">276.5 ms</td>\
             <td>FAIL: p99 276.5 ms is not below 200.0 ms</td></tr>"
        ));
        assert!(html.contains("<tr class=\"passed\"><td>ams1</td><td class=\"v\">2</td>"));
        assert!(html.contains(
            "<li>ams1 attempt 1 stage 6 rolled back at day 14.88: p99 276.5 ms is not below 200.0 ms</li>"
        ));
        let order: Vec<usize> = [
            "id=\"verdict\"",
            "id=\"headline\"",
            "id=\"stages\"",
            "<svg id=\"share\">",
            "<details id=\"figures\">",
        ]
        .iter()
        .map(|needle| html.find(needle).unwrap_or_else(|| panic!("no {needle}")))
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        assert!(html.contains("<td>stages[0].p99_ms</td><td class=\"v\">276.5</td>"));
    }

    #[test]
    fn a_plan_ahead_of_schedule_saves_and_an_empty_window_has_no_nan() {
        let dir = tempfile::tempdir().unwrap();
        let mut summary = plan_summary();
        summary["cost"]["dual_running"] = json!("52932.21");
        summary["cost"]["dual_running_extra"] = json!("-2583.40");
        summary["stages"][1]["p99_ms"] = Value::Null;
        std::fs::write(dir.path().join("summary.json"), summary.to_string()).unwrap();
        let html = render(dir.path()).unwrap();
        assert!(html.contains(
            "<td class=\"v\">52,932.21 USD (2,583.40 USD less than the 55,515.61 USD scheduled)</td>"
        ));
        assert!(!html.contains("-2,583.40"), "{html}");
        assert!(html.contains("<td class=\"v\">n/a (no requests)</td>"));
        assert!(!html.contains("NaN"));
    }

    #[test]
    fn mmc_sweep_and_catchment_pages_label_their_figures_with_units() {
        let dir = tempfile::tempdir().unwrap();
        let write = |json: Value| {
            std::fs::write(dir.path().join("summary.json"), json.to_string()).unwrap();
            render(dir.path()).unwrap()
        };
        let html = write(json!({
            "scenario": "M/M/16", "model": "mmc", "customers": 1_000_000,
            "simulated_s": 69484.67, "mean_wait_s": 0.38324,
            "mean_wait_s_ci95": [0.36248, 0.40399], "prob_wait": 0.592706,
            "erlang_c": {"mean_wait_s": 0.36959, "prob_wait": 0.591343}
        }));
        for row in [
            "<th scope=\"row\">Customers served</th><td class=\"v\">1,000,000</td>",
            "<th scope=\"row\">Simulated time</th><td class=\"v\">19 h 18 min 5 s</td>",
            "<th scope=\"row\">Mean wait</th><td class=\"v\">383.24 ms (95 % CI 362.48 ms to 403.99 ms); Erlang C 369.59 ms</td>",
            "<th scope=\"row\">Probability of waiting</th><td class=\"v\">59.271 %; Erlang C 59.134 %</td>",
        ] {
            assert!(html.contains(row), "missing {row}\n{html}");
        }
        let html = write(json!({
            "model": "sweep", "parameters": ["mmc.servers"],
            "rows": [{"values": ["16"], "replications": 3, "metrics": [
                {"metric": "wait_p99_s", "mean": 250.0,
                 "p10": {"value": 240.0}, "p90": {"value": 260.0}}]}]
        }));
        assert!(html.contains("<title>cutover sweep</title>"), "{html}");
        assert!(
            html.contains("<td class=\"v\">4 min 10 s (4 min to 4 min 20 s)</td>"),
            "{html}"
        );
        std::fs::write(
            dir.path().join("catchment.csv"),
            "city,isp,weight,site,as_path,distance_km,rtt_ms,ttfb_ms,nearest_site,nearest_ttfb_ms,why_not_nearest\n\
             nyc,AS65101,1.0,ny1,65101 64500,0.0,8.0,34.0,ny1,34.0,\n",
        )
        .unwrap();
        let html = write(json!({
            "scenario": "edge", "model": "catchment", "populations": 1,
            "site_shares": [{"site": "ny1", "share": 1.0}], "updates": 12,
            "sweep_site": null, "sweep": []
        }));
        assert!(html.contains("<th scope=\"row\">ny1</th><td class=\"v\">100.0 %</td>"));
        assert!(html.contains(
            "<tr><td>nyc</td><td>AS65101</td><td>ny1</td><td>34.0 ms</td><td>ny1</td><td></td></tr>"
        ), "{html}");
    }

    #[test]
    fn a_plan_run_without_monte_carlo_has_no_success_probability() {
        let dir = tempfile::tempdir().unwrap();
        let mut summary = plan_summary();
        summary["montecarlo"] = Value::Null;
        summary["rollbacks"] = json!([]);
        std::fs::write(dir.path().join("summary.json"), summary.to_string()).unwrap();
        let html = render(dir.path()).unwrap();
        assert!(html.contains("id=\"headline\""));
        assert!(!html.contains("Success probability"));
        assert!(!html.contains("id=\"rollbacks\""));
    }

    #[test]
    fn a_cost_run_puts_its_headline_first_and_its_figures_last() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("summary.json"),
            json!({
                "scenario": "move", "currency": "USD", "discount_rate": 0.08,
                "headline": {"plan_total": "391703.50", "baseline_total": "3253345.00",
                             "savings_total": "2861641.50", "savings_npv": "2510214.22",
                             "break_even": "2027-03", "last_month_plan": "5723.19",
                             "annual_savings_run_rate": "1196614.32",
                             "dual_running_months": 4, "dual_running_new_side": "48862.71"},
                "by_month": [{"month": "2027-01", "baseline": "79866.83"},
                             {"month": "2027-02", "baseline": "74280.83"}],
                "budget_overruns": []
            })
            .to_string(),
        )
        .unwrap();
        std::fs::write(dir.path().join("cost.svg"), "<svg id=\"cost\"></svg>").unwrap();
        let html = render(dir.path()).unwrap();
        for row in [
            "<th scope=\"row\">Savings</th><td class=\"v\">2,861,641.50 USD</td>",
            "<th scope=\"row\">NPV of savings</th><td class=\"v\">2,510,214.22 USD (discount rate 8.0 %)</td>",
            "<th scope=\"row\">Break-even</th><td class=\"v\">2027-03</td>",
            "<th scope=\"row\">Monthly plan, last month</th><td class=\"v\">5,723.19 USD</td>",
            "<th scope=\"row\">Monthly baseline, last month</th><td class=\"v\">74,280.83 USD</td>",
            "<th scope=\"row\">Dual running</th><td class=\"v\">4 months, 48,862.71 USD on the new side</td>",
            "<th scope=\"row\">Budget overruns</th><td class=\"v\">0</td>",
        ] {
            assert!(html.contains(row), "missing {row}\n{html}");
        }
        let (headline, chart, figures) = (
            html.find("id=\"headline\"").unwrap(),
            html.find("<svg id=\"cost\">").unwrap(),
            html.find("<details id=\"figures\">").unwrap(),
        );
        assert!(headline < chart && chart < figures);
        assert!(!html.contains("Key figures"));
    }

    #[test]
    fn a_plan_dearer_than_staying_shows_no_negative_saving() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("summary.json"),
            json!({
                "scenario": "move", "currency": "USD",
                "headline": {"savings_total": "-2583.40", "savings_npv": "-2500.00"}
            })
            .to_string(),
        )
        .unwrap();
        let html = render(dir.path()).unwrap();
        assert!(html.contains(
            "<th scope=\"row\">Savings</th><td class=\"v\">none: 2,583.40 USD more than staying as is</td>"
        ), "{html}");
        let headline = &html[..html.find("id=\"figures\"").unwrap()];
        assert!(!headline.contains("-2,5"), "{headline}");
    }

    #[test]
    fn an_experiment_gets_its_reasons_headline_and_tables_and_no_key_dump() {
        let dir = tempfile::tempdir().unwrap();
        let summary = json!({
            "scenario": "ny1 crash", "model": "experiment", "verdict": "fail",
            "reasons": ["availability 98.1056 % below the SLO's 99.9500 %"],
            "estate": "nine sites", "simulated_s": 300.0, "requests": 300000.0,
            "served": 294316.7, "blackholed": 5616.6, "rejected": 0.0, "timed_out": 0.0,
            "reset": 66.7, "availability": 0.981056, "availability_target": 0.9995,
            "error_budget_consumed": 37.888, "slow_threshold_ms": 200.0,
            "latency_p50_ms": 54.65, "latency_p99_ms": 282.24, "latency_p999_ms": 311.77,
            "service_p99_ms": 60.97,
            "failures": ["ny1 at 1m: crash detected by hold timer (90s hold, 30s keepalive)"],
            "convergence_s": 84.249, "longest_blackhole_s": 84.249, "peak_users": 0.0,
            "populations": [
                {"population": "nyc", "share": 0.0666667, "site_before": "ny1", "site_after": "la1",
                 "ttfb_before_ms": 34.0, "ttfb_after_ms": 234.72, "blackhole_s": 84.249,
                 "blackholed": 5616.6, "rejected": 0.0, "timed_out": 0.0, "reset": 66.7,
                 "write_failed": 0.0, "availability": 0.715836, "latency_p99_ms": 290.79},
                {"population": "lax", "share": 0.0666667, "site_before": "la1", "site_after": "la1",
                 "ttfb_before_ms": 34.0, "ttfb_after_ms": 34.0, "blackhole_s": 0.0,
                 "blackholed": 0.0, "rejected": 0.0, "timed_out": 0.0, "reset": 0.0,
                 "write_failed": 0.0, "availability": 1.0, "latency_p99_ms": 92.6}
            ],
            "sites": [{"site": "ny1", "requests": 4000.0, "rejected": 0.0, "timed_out": 0.0,
                       "reset": 66.7, "overflowed_out": 0.0, "overflowed_in": 0.0,
                       "peak_offered_load": 0.0619, "max_ready_pods": 14,
                       "latency_p99_ms": 96.36, "alive_at_end": false}]
        });
        std::fs::write(dir.path().join("summary.json"), summary.to_string()).unwrap();
        std::fs::write(dir.path().join("pods.svg"), "<svg id=\"pods\"></svg>").unwrap();
        let html = render(dir.path()).unwrap();
        for needle in [
            "<p id=\"verdict\" class=\"verdict fail\">Verdict: FAIL</p>",
            "<li>availability 98.1056 % below the SLO's 99.9500 %</li>",
            "<th scope=\"row\">Requests</th><td class=\"v\">300,000 (5,683 failed)</td>",
            "<th scope=\"row\">Failed by cause</th><td class=\"v\">blackholed 5,617, reset 67</td>",
            "<th scope=\"row\">Availability</th><td class=\"v\">98.1056 % (target 99.950 %)</td>",
            "<th scope=\"row\">p99 at the sites</th><td class=\"v\">61.0 ms (gate: under 200 ms)</td>",
            "<th scope=\"row\">Users' latency p50 / p99 / p99.9 (TTFB included)</th><td class=\"v\">54.6 ms / 282.2 ms / 311.8 ms</td>",
            "<th scope=\"row\">Longest blackhole</th><td class=\"v\">84.25 s</td>",
            "<tr class=\"failed\"><td>nyc</td><td class=\"v\">6.7 %</td><td class=\"v\">ny1 &rarr; la1</td>\
             <td class=\"v\">34.0 &rarr; 234.7</td><td class=\"v\">84.25</td>\
             <td class=\"v\">5,617</td><td class=\"v\">0</td><td class=\"v\">0</td>\
             <td class=\"v\">67</td><td class=\"v\">0</td><td class=\"v\">71.584 %</td><td class=\"v\">290.8</td></tr>",
            "<tr class=\"passed\"><td>lax</td><td class=\"v\">6.7 %</td><td class=\"v\">la1</td>\
             <td class=\"v\">34.0</td>",
            "<tr class=\"failed\"><td>ny1</td><td class=\"v\">4,000</td>",
            "<td>down</td></tr>",
            "<figcaption>Ready pods per site, averaged over each timeline interval (x: simulated time, minutes)</figcaption>",
        ] {
            assert!(html.contains(needle), "missing {needle}\n{html}");
        }
        assert!(
            !html.contains("Peak users"),
            "no spike rows without a spike"
        );
        assert!(!html.contains("id=\"figures\""), "no raw key dump");
        let order: Vec<usize> = [
            "id=\"reasons\"",
            "id=\"headline\"",
            "id=\"populations\"",
            "id=\"sites\"",
            "<svg id=\"pods\">",
        ]
        .iter()
        .map(|needle| html.find(needle).unwrap_or_else(|| panic!("no {needle}")))
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    }

    #[test]
    fn a_directory_without_a_summary_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = render(dir.path()).unwrap_err().to_string();
        assert!(err.contains("cannot read summary.json"), "{err}");
        assert!(
            err.contains(
                "allowed: a directory written by `cutover run`, `cutover cost`, `cutover plan`, `cutover sweep`, `cutover catchment` or `cutover pack`"
            ),
            "{err}"
        );
    }
}
