//! The page of an experiment run on an estate: why it failed, a headline
//! with failures by cause, one row per population (where its users went,
//! what they waited, what they lost) and one per site, what each site
//! cost when the estate is priced, what each site failure cost in data
//! and how long its users took to recover, and captions for the
//! experiment's charts.

use std::fmt::Write as _;

use serde_json::Value;

use super::{escape, headline_table, percent};

/// The five ways a request fails, as `summary.json` names them, and as the
/// page labels them.
const CAUSES: [(&str, &str); 5] = [
    ("blackholed", "blackholed"),
    ("rejected", "rejected"),
    ("timed_out", "timed out"),
    ("reset", "reset"),
    ("write_failed", "write failed"),
];

/// Writes the reasons of a failed verdict, the headline and the tables.
pub(super) fn section(html: &mut String, summary: &Value) {
    let reasons = strings(summary.get("reasons"));
    if !reasons.is_empty() {
        html.push_str("<ul id=\"reasons\">\n");
        for reason in &reasons {
            let _ = writeln!(html, "<li>{}</li>", escape(reason));
        }
        html.push_str("</ul>\n");
    }
    html.push_str("<h2>Headline</h2>\n");
    headline_table(html, "headline", &headline(summary));
    populations(html, summary);
    sites(html, summary);
    if let Some(c) = summary.get("cost") {
        cost(html, c);
    }
    if let Some(r) = summary.get("recovery") {
        recovery(html, r);
    }
}

/// The caption of one of the experiment's charts, by file name.
pub(super) fn caption(file: &str) -> String {
    match file {
        "requests.svg" => {
            "Requests per timeline interval by outcome: served, blackholed, rejected, \
                           timed out, reset (x: simulated time, minutes)"
                .to_string()
        }
        "pods.svg" => {
            "Ready pods per site, averaged over each timeline interval (x: simulated time, minutes)"
                .to_string()
        }
        "failures.svg" => "Failed requests per timeline interval, by population, all causes; only \
                           populations that lost requests; each failure outlined from its start \
                           to its end (x: simulated time, minutes)"
            .to_string(),
        other => other.to_string(),
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map_or_else(Vec::new, |items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
}

fn float(value: &Value, key: &str) -> Option<f64> {
    value.get(key).and_then(Value::as_f64)
}

/// `value` with `decimals` decimals and `unit` after it; "-" when absent.
fn with_unit(value: Option<f64>, decimals: usize, unit: &str) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.decimals$}{unit}"))
}

/// A count of requests, rounded, with thousands grouped.
fn count(value: Option<f64>) -> String {
    let Some(v) = value else {
        return "-".to_string();
    };
    let digits = format!("{:.0}", v.abs());
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if v.round() < 0.0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// "blackholed 5,617, reset 67", the causes that lost requests, or "none".
fn by_cause(value: &Value) -> String {
    let parts: Vec<String> = CAUSES
        .iter()
        .filter_map(|(key, label)| {
            let n = float(value, key)?;
            (n.round() > 0.0).then(|| format!("{label} {}", count(Some(n))))
        })
        .collect();
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(", ")
    }
}

fn failed(value: &Value) -> f64 {
    CAUSES.iter().filter_map(|(key, _)| float(value, key)).sum()
}

fn headline(s: &Value) -> Vec<(&'static str, String)> {
    let failures = strings(s.get("failures"));
    let mut rows = vec![
        (
            "Estate",
            s.get("estate")
                .and_then(Value::as_str)
                .unwrap_or("-")
                .to_string(),
        ),
        (
            "Failures",
            if failures.is_empty() {
                "none".to_string()
            } else {
                failures.join("; ")
            },
        ),
        (
            "Simulated time",
            with_unit(float(s, "simulated_s"), 0, " s"),
        ),
        (
            "Requests",
            format!(
                "{} ({} failed)",
                count(float(s, "requests")),
                count(Some(failed(s)))
            ),
        ),
        ("Failed by cause", by_cause(s)),
        (
            "Availability",
            format!(
                "{} (target {})",
                percent(float(s, "availability"), 4),
                percent(float(s, "availability_target"), 3)
            ),
        ),
        (
            "Error budget consumed",
            percent(float(s, "error_budget_consumed"), 1),
        ),
        (
            "p99 at the sites",
            format!(
                "{} (gate: under {})",
                with_unit(float(s, "service_p99_ms"), 1, " ms"),
                with_unit(float(s, "slow_threshold_ms"), 0, " ms")
            ),
        ),
        (
            "Users' latency p50 / p99 / p99.9 (TTFB included)",
            format!(
                "{} / {} / {}",
                with_unit(float(s, "latency_p50_ms"), 1, " ms"),
                with_unit(float(s, "latency_p99_ms"), 1, " ms"),
                with_unit(float(s, "latency_p999_ms"), 1, " ms")
            ),
        ),
        (
            "Longest blackhole",
            with_unit(float(s, "longest_blackhole_s"), 2, " s"),
        ),
        ("Convergence", with_unit(float(s, "convergence_s"), 2, " s")),
    ];
    if float(s, "peak_users").is_some_and(|u| u > 0.0) {
        rows.extend(spike_rows(s));
    }
    rows
}

/// Rows of a run with a spike: its peak and how the pods caught up.
fn spike_rows(s: &Value) -> Vec<(&'static str, String)> {
    vec![
        (
            "Peak users / demand",
            format!(
                "{} users, {} requests/s",
                count(float(s, "peak_users")),
                count(float(s, "peak_demand_rps"))
            ),
        ),
        (
            "Pods needed at the HPA target",
            format!(
                "{} (most ready at once: {})",
                count(float(s, "pods_needed_at_target")),
                count(float(s, "max_ready_pods"))
            ),
        ),
        (
            "Pods caught up",
            with_unit(
                float(s, "catch_up_after_spike_s"),
                0,
                " s after the spike started",
            ),
        ),
    ]
}

fn rows_of<'a>(summary: &'a Value, key: &str) -> &'a [Value] {
    summary
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .unwrap_or("-")
}

/// "a &rarr; b", or "a" alone when nothing changed.
fn before_after(before: &str, after: &str) -> String {
    if before == after {
        before.to_string()
    } else {
        format!("{before} &rarr; {after}")
    }
}

fn populations(html: &mut String, summary: &Value) {
    html.push_str(
        "<h2>Populations</h2>\n<table id=\"populations\" class=\"wide\">\n<tr><th>Population</th><th>Share</th>\
         <th>Site before &rarr; after</th><th>TTFB (ms) before &rarr; after</th><th>Blackhole (s)</th>\
         <th>Blackholed</th><th>Rejected</th><th>Timed out</th><th>Reset</th>\
         <th>Write failed</th><th>Availability</th><th>p99 (ms)</th></tr>\n",
    );
    for p in rows_of(summary, "populations") {
        let cells: Vec<String> = CAUSES
            .iter()
            .map(|(key, _)| format!("<td class=\"v\">{}</td>", count(float(p, key))))
            .collect();
        let _ = writeln!(
            html,
            "<tr class=\"{}\"><td>{}</td><td class=\"v\">{}</td><td class=\"v\">{}</td>\
             <td class=\"v\">{}</td><td class=\"v\">{}</td>{}<td class=\"v\">{}</td>\
             <td class=\"v\">{}</td></tr>",
            if failed(p) > 0.0 { "failed" } else { "passed" },
            escape(text(p, "population")),
            percent(float(p, "share"), 1),
            before_after(
                &escape(text(p, "site_before")),
                &escape(text(p, "site_after"))
            ),
            before_after(
                &with_unit(float(p, "ttfb_before_ms"), 1, ""),
                &with_unit(float(p, "ttfb_after_ms"), 1, "")
            ),
            with_unit(float(p, "blackhole_s"), 2, ""),
            cells.concat(),
            percent(float(p, "availability"), 3),
            with_unit(float(p, "latency_p99_ms"), 1, "")
        );
    }
    html.push_str("</table>\n");
}

fn sites(html: &mut String, summary: &Value) {
    html.push_str(
        "<h2>Sites</h2>\n<table id=\"sites\" class=\"wide\">\n<tr><th>Site</th><th>Requests</th>\
         <th>Rejected</th><th>Timed out</th><th>Reset</th><th>Overflow out / in</th>\
         <th>Peak offered load</th><th>Most ready pods</th><th>p99 (ms)</th><th>At the end</th></tr>\n",
    );
    for site in rows_of(summary, "sites") {
        let alive = site.get("alive_at_end").and_then(Value::as_bool) == Some(true);
        let _ = writeln!(
            html,
            "<tr class=\"{}\"><td>{}</td><td class=\"v\">{}</td><td class=\"v\">{}</td>\
             <td class=\"v\">{}</td><td class=\"v\">{}</td><td class=\"v\">{} / {}</td>\
             <td class=\"v\">{}</td><td class=\"v\">{}</td><td class=\"v\">{}</td><td>{}</td></tr>",
            if failed(site) > 0.0 {
                "failed"
            } else {
                "passed"
            },
            escape(text(site, "site")),
            count(float(site, "requests")),
            count(float(site, "rejected")),
            count(float(site, "timed_out")),
            count(float(site, "reset")),
            count(float(site, "overflowed_out")),
            count(float(site, "overflowed_in")),
            percent(float(site, "peak_offered_load"), 0),
            count(float(site, "max_ready_pods")),
            with_unit(float(site, "latency_p99_ms"), 1, ""),
            if alive { "serving" } else { "down" }
        );
    }
    html.push_str("</table>\n");
}

/// What each site cost over the run (the cost meter), with the total and
/// its monthly rate.
fn cost(html: &mut String, c: &Value) {
    let currency = escape(text(c, "currency"));
    let _ = writeln!(
        html,
        "<h2>Cost</h2>\n<table id=\"cost\">\n<tr><th>Site</th><th>Profile</th>\
         <th>Node-hours</th><th>Cost ({currency})</th></tr>"
    );
    for site in rows_of(c, "sites") {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td class=\"v\">{}</td><td class=\"v\">{}</td></tr>",
            escape(text(site, "site")),
            escape(text(site, "profile")),
            with_unit(float(site, "node_hours"), 1, ""),
            escape(text(site, "total"))
        );
    }
    let _ = writeln!(
        html,
        "</table>\n<p>{} {currency} over the run, {} {currency} a month at this rate \
         (prices of {}; each line in costs.csv).</p>",
        escape(text(c, "total")),
        escape(text(c, "per_month")),
        escape(text(c, "prices_on"))
    );
}

/// Each site failure's writes lost per data class against its RPO, and
/// its users' time to recover against each service's RTO.
fn recovery(html: &mut String, r: &Value) {
    let span = |v: &Value, key: &str| {
        float(v, key).map_or("not within the run".to_string(), |s| {
            cutover_models::SimDuration::from_secs_f64(s).to_string()
        })
    };
    let met = |v: &Value| v.get("met").and_then(Value::as_bool) == Some(true);
    let class = |v: &Value| if met(v) { "passed" } else { "failed" };
    html.push_str(
        "<h2>Data and recovery</h2>\n<table id=\"data\" class=\"wide\">\n<tr><th>Site</th>\
         <th>Failed at</th><th>Data</th><th>Replication</th><th>Writes/s</th>\
         <th>Not replicated</th><th>Writes lost</th><th>RPO</th></tr>\n",
    );
    for d in rows_of(r, "data") {
        let _ = writeln!(
            html,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"v\">{}</td>\
             <td class=\"v\">{}</td><td class=\"v\">{}</td><td class=\"v\">{}</td></tr>",
            class(d),
            escape(text(d, "site")),
            span(d, "start_s"),
            escape(text(d, "class")),
            escape(text(d, "replication")),
            with_unit(float(d, "write_rate_per_s"), 2, ""),
            span(d, "window_s"),
            count(float(d, "lost_writes")),
            span(d, "rpo_s")
        );
    }
    html.push_str(
        "</table>\n<table id=\"recovery\">\n<tr><th>Site</th><th>Failed at</th><th>Service</th>\
         <th>Tier</th><th>Users served again after</th><th>RTO</th></tr>\n",
    );
    for x in rows_of(r, "services") {
        let _ = writeln!(
            html,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"v\">{}</td>\
             <td class=\"v\">{}</td></tr>",
            class(x),
            escape(text(x, "site")),
            span(x, "start_s"),
            escape(text(x, "service")),
            escape(text(x, "tier")),
            span(x, "recovered_s"),
            span(x, "rto_s")
        );
    }
    html.push_str("</table>\n");
    partitions(html, r);
    html.push_str(
        "<p>Writes lost: the site's write rate when it failed times the writes not yet \
         replicated (a stream's lag, or the time since an archive's last copy); the users are \
         served again when their failed requests fall back within the SLO, to the tick \
         (data.csv, recovery.csv, partitions.csv).</p>\n",
    );
}

/// Each partition's writes failed or queued per class, the time from the
/// heal until the other sites have them, and how stale reads on the cut
/// side went.
fn partitions(html: &mut String, r: &Value) {
    let rows = rows_of(r, "partitions");
    if rows.is_empty() {
        return;
    }
    let span = |v: &Value, key: &str| {
        float(v, key).map_or("n/a".to_string(), |s| {
            cutover_models::SimDuration::from_secs_f64(s).to_string()
        })
    };
    html.push_str(
        "<table id=\"partitions\" class=\"wide\">\n<tr><th>Cut off</th><th>From</th><th>Data</th>\
         <th>Writes failed</th><th>Writes queued</th><th>Consistent after the heal</th>\
         <th>Staleness p50 / p99 / max</th></tr>\n",
    );
    for p in rows {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"v\">{}</td><td class=\"v\">{}</td>\
             <td class=\"v\">{}</td><td class=\"v\">{} / {} / {}</td></tr>",
            escape(text(p, "sites")),
            span(p, "start_s"),
            escape(text(p, "class")),
            count(float(p, "writes_failed")),
            count(float(p, "writes_queued")),
            span(p, "consistent_after_s"),
            span(p, "staleness_p50_s"),
            span(p, "staleness_p99_s"),
            span(p, "staleness_max_s")
        );
    }
    html.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn a_priced_run_shows_each_sites_cost_and_an_unpriced_one_none() {
        let mut priced = String::new();
        super::section(
            &mut priced,
            &json!({
                "cost": {"currency": "USD", "prices_on": "2027-01-01", "total": "8.14",
                         "per_month": "11884.40",
                         "sites": [{"site": "ash1", "profile": "cloud", "node_hours": 7.5833,
                                    "total": "8.14"}]}
            }),
        );
        assert!(
            priced.contains(
                "<tr><td>ash1</td><td>cloud</td><td class=\"v\">7.6</td><td class=\"v\">8.14</td></tr>"
            ),
            "{priced}"
        );
        assert!(
            priced.contains("<p>8.14 USD over the run, 11884.40 USD a month"),
            "{priced}"
        );
        let mut unpriced = String::new();
        super::section(&mut unpriced, &json!({}));
        assert!(!unpriced.contains("<h2>Cost</h2>"), "{unpriced}");
        assert!(
            !unpriced.contains("<h2>Data and recovery</h2>"),
            "{unpriced}"
        );
    }

    #[test]
    fn a_failure_shows_its_data_lost_and_a_missed_rto() {
        let mut html = String::new();
        super::section(
            &mut html,
            &json!({"recovery": {
                "data": [{"site": "ny1", "failure": "crash", "start_s": 60.0, "class": "users",
                          "replication": "stream", "write_rate_per_s": 0.5, "window_s": 1.5,
                          "lost_writes": 0.75, "rpo_s": 300.0, "met": true}],
                "services": [{"site": "ny1", "failure": "crash", "start_s": 60.0,
                              "service": "checkout", "tier": "P0", "recovered_s": null,
                              "rto_s": 300.0, "met": false}]}}),
        );
        assert!(
            html.contains(
                "<tr class=\"passed\"><td>ny1</td><td>1 min</td><td>users</td><td>stream</td>"
            ),
            "{html}"
        );
        assert!(
            html.contains(
                "<td>P0</td><td class=\"v\">not within the run</td><td class=\"v\">5 min</td>"
            ),
            "{html}"
        );
        assert!(html.contains("<tr class=\"failed\"><td>ny1</td>"), "{html}");
        assert!(
            !html.contains("id=\"partitions\""),
            "no partition, no table"
        );
        let mut cut = String::new();
        super::section(
            &mut cut,
            &json!({"recovery": {"data": [], "services": [], "partitions": [
                {"sites": "hkg1+syd1", "start_s": 120.0, "end_s": 720.0, "class": "users",
                 "replication": "stream", "writes_failed": 0.0, "writes_queued": 2400.0,
                 "consistent_after_s": 25.0, "staleness_p50_s": 300.0,
                 "staleness_p99_s": 594.0, "staleness_max_s": 601.0}]}}),
        );
        assert!(
            cut.contains("<td>hkg1+syd1</td><td>2 min</td><td>users</td><td class=\"v\">0</td><td class=\"v\">2,400</td><td class=\"v\">25 s</td>"),
            "{cut}"
        );
    }
}
