//! The labelled sections of the report page for M/M/c runs, sweeps and
//! catchments: each figure named in words, with its unit, instead of a
//! dump of raw summary keys (which still follows, collapsed).

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use super::fmt;
use super::html::{csv_table, escape, headline_table, CsvTable, HtmlError};

fn num(summary: &Value, pointer: &str) -> Option<f64> {
    summary.pointer(pointer).and_then(Value::as_f64)
}

/// The figure at `pointer` with the unit its key names; `-` when absent.
fn figure(summary: &Value, pointer: &str) -> String {
    num(summary, pointer).map_or_else(|| "-".to_string(), |v| fmt::metric(pointer, v))
}

/// A simulated figure, with its confidence interval when the summary has
/// one (`KEY_ci95`), beside its closed form: `383.2 ms (95 % CI 362.5 ms
/// to 404.0 ms); Erlang C 369.6 ms`.
fn against_erlang_c(summary: &Value, key: &str) -> String {
    let ci = match summary.get(format!("{key}_ci95")).and_then(Value::as_array) {
        Some(v) if v.len() == 2 => format!(
            " (95 % CI {} to {})",
            fmt::metric(key, v[0].as_f64().unwrap_or(f64::NAN)),
            fmt::metric(key, v[1].as_f64().unwrap_or(f64::NAN))
        ),
        _ => String::new(),
    };
    format!(
        "{}{ci}; Erlang C {}",
        figure(summary, &format!("/{key}")),
        figure(summary, &format!("/erlang_c/{key}"))
    )
}

/// The headline of an M/M/c run: the simulated figures with their units,
/// each beside Erlang C's closed form.
pub fn mmc_section(html: &mut String, summary: &Value) {
    let rows = vec![
        ("Customers served", figure(summary, "/customers")),
        ("Simulated time", figure(summary, "/simulated_s")),
        ("Utilisation", against_erlang_c(summary, "utilisation")),
        (
            "Probability of waiting",
            against_erlang_c(summary, "prob_wait"),
        ),
        ("Mean wait", against_erlang_c(summary, "mean_wait_s")),
        (
            "Mean time in system",
            against_erlang_c(summary, "mean_system_s"),
        ),
        ("Wait, median", against_erlang_c(summary, "wait_p50_s")),
        (
            "Wait, 95th percentile",
            against_erlang_c(summary, "wait_p95_s"),
        ),
        (
            "Wait, 99th percentile",
            against_erlang_c(summary, "wait_p99_s"),
        ),
        (
            "Wait, 99.9th percentile",
            against_erlang_c(summary, "wait_p999_s"),
        ),
        (
            "Mean customers in system",
            num(summary, "/mean_in_system").map_or("-".into(), |v| format!("{v:.2}")),
        ),
        (
            "Arrival rate observed",
            figure(summary, "/observed_arrival_rate_per_s"),
        ),
        (
            "Little's law, L / (lambda W)",
            num(summary, "/littles_law_ratio").map_or("-".into(), |v| format!("{v:.6}")),
        ),
    ];
    html.push_str("<h2>Headline</h2>\n");
    headline_table(html, "headline", &rows);
}

/// The table of a sweep: one row per combination, each metric's mean with
/// its P10 to P90 over the replications, in the metric's unit.
pub fn sweep_section(html: &mut String, summary: &Value) {
    let list = |key: &str| {
        summary
            .get(key)
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
    };
    let rows = list("rows");
    let metrics: Vec<&str> = rows
        .first()
        .and_then(|r| r.get("metrics"))
        .and_then(Value::as_array)
        .map_or(Vec::new(), |m| {
            m.iter()
                .filter_map(|m| m.get("metric").and_then(Value::as_str))
                .collect()
        });
    html.push_str("<h2>Combinations</h2>\n<table id=\"sweep\">\n<tr>");
    for p in list("parameters") {
        let _ = write!(html, "<th>{}</th>", escape(p.as_str().unwrap_or("")));
    }
    html.push_str("<th>Replications</th>");
    for m in &metrics {
        let _ = write!(html, "<th>{} (mean; P10 to P90)</th>", escape(m));
    }
    html.push_str("</tr>\n");
    for row in rows {
        html.push_str("<tr>");
        for v in row
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let v = v.as_str().unwrap_or("").trim_matches('"');
            let _ = write!(html, "<td class=\"v\">{}</td>", escape(v));
        }
        let reps = row.get("replications").and_then(Value::as_f64);
        let _ = write!(
            html,
            "<td class=\"v\">{}</td>",
            reps.map_or("-".into(), fmt::count)
        );
        for m in row
            .get("metrics")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = m.get("metric").and_then(Value::as_str).unwrap_or("");
            let at = |p: &str| {
                m.pointer(p)
                    .and_then(Value::as_f64)
                    .map_or("-".to_string(), |v| fmt::metric(name, v))
            };
            let _ = write!(
                html,
                "<td class=\"v\">{} ({} to {})</td>",
                at("/mean"),
                at("/p10/value"),
                at("/p90/value")
            );
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
}

/// The page of a catchment: each site's share of users, the swept site's
/// share by knob, and where each population goes (from `catchment.csv`).
pub fn catchment_section(html: &mut String, summary: &Value, dir: &Path) -> Result<(), HtmlError> {
    let share = |v: &Value| {
        v.get("share")
            .and_then(Value::as_f64)
            .map_or("-".to_string(), |s| format!("{:.1} %", 100.0 * s))
    };
    let label = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    let sites: Vec<(String, String)> = summary
        .get("site_shares")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|s| (label(s, "site"), share(s)))
        .collect();
    let rows: Vec<(&str, String)> = sites.iter().map(|(s, v)| (s.as_str(), v.clone())).collect();
    html.push_str("<h2>Share of users by site</h2>\n");
    headline_table(html, "sites", &rows);
    let knobs: Vec<(String, String)> = summary
        .get("sweep")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|k| (label(k, "knob"), share(k)))
        .collect();
    if let (Some(site), false) = (
        summary.get("sweep_site").and_then(Value::as_str),
        knobs.is_empty(),
    ) {
        let _ = writeln!(
            html,
            "<h2>Share of users at {} by BGP knob</h2>",
            escape(site)
        );
        let rows: Vec<(&str, String)> =
            knobs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        headline_table(html, "knobs", &rows);
    }
    populations_table(html, &dir.join("catchment.csv"))
}

/// The populations of `catchment.csv`: city, ISP, site reached, TTFB,
/// nearest site and why it is not reached.
fn populations_table(html: &mut String, path: &Path) -> Result<(), HtmlError> {
    html.push_str("<h2>Populations</h2>\n");
    let columns = [
        ("city", "City"),
        ("isp", "ISP"),
        ("site", "Site"),
        ("ttfb_ms", "TTFB"),
        ("nearest_site", "Nearest site"),
        ("why_not_nearest", "Why not the nearest"),
    ];
    let table = CsvTable {
        open: "<table id=\"populations\">",
        columns: &columns,
        class: |_: &csv::StringRecord, _: &csv::StringRecord| None,
        cell: |key: &str, cell: &str| match (key, cell.parse::<f64>()) {
            ("ttfb_ms", Ok(v)) => fmt::latency_ms(v),
            ("site", _) if cell.is_empty() => "none (no route)".to_string(),
            _ => cell.to_string(),
        },
    };
    csv_table(html, path, table)
}
