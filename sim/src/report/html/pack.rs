//! The page of a consolidation plan (`cutover pack`): hosts per class,
//! overcommit achieved, contention risk at the peak hour and the monthly
//! cost before and after.

use std::fmt::Write as _;

use serde_json::Value;

use super::{escape, headline_table, money, scalar};

/// The headline and the table of classes.
pub(super) fn section(html: &mut String, summary: &Value) {
    let currency = summary
        .pointer("/cost/currency")
        .and_then(Value::as_str)
        .unwrap_or("");
    let text = |pointer: &str| {
        summary
            .pointer(pointer)
            .map_or_else(|| "-".to_string(), scalar)
    };
    let worst = summary.pointer("/contention/worst");
    let worst_text = match worst {
        Some(w) if w.is_object() => format!(
            "{} on {} (lower bound {}; drawn {})",
            w.get("probability").map_or_else(|| "-".to_string(), scalar),
            w.get("host").map_or_else(|| "-".to_string(), scalar),
            w.get("lower_bound").map_or_else(|| "-".to_string(), scalar),
            w.get("simulated").map_or_else(|| "-".to_string(), scalar),
        ),
        _ => "-".to_string(),
    };
    let rows = vec![
        ("Tenants (VMs)", text("/tenants")),
        ("Hosts", text("/hosts")),
        ("Host cores", text("/host_cores")),
        ("VM cores", text("/vm_cores")),
        ("CPU overcommit achieved", text("/cpu_overcommit_achieved")),
        ("Worst host's contention", worst_text),
        (
            "Hosts expected in contention at the peak hour",
            format!(
                "{} (lower bound {}; drawn {})",
                text("/contention/expected_hosts_in_contention"),
                text("/contention/expected_hosts_in_contention_lower_bound"),
                text("/contention/simulated_expected_hosts_in_contention"),
            ),
        ),
        (
            "Monthly cost before",
            money(summary.pointer("/cost/before_monthly"), currency),
        ),
        (
            "Monthly cost after",
            money(summary.pointer("/cost/after_monthly"), currency),
        ),
        (
            "Setup, once",
            money(summary.pointer("/cost/setup_one_off"), currency),
        ),
    ];
    html.push_str("<h2>Headline</h2>\n");
    headline_table(html, "headline", &rows);
    class_table(html, summary, currency);
}

/// One row per class of host.
fn class_table(html: &mut String, summary: &Value, currency: &str) {
    html.push_str(
        "<h2>Classes</h2>\n<table id=\"classes\">\n<tr><th>Class</th><th>Tenants</th>\
         <th>Hosts</th><th>Fewest possible</th><th>Host cores</th><th>VM cores</th>\
         <th>CPU overcommit</th><th>Memory overcommit</th><th>Monthly</th></tr>\n",
    );
    let classes = summary
        .get("classes")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for c in classes {
        let field = |key: &str| c.get(key).map_or_else(|| "-".to_string(), scalar);
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td class=\"v\">{}</td><td class=\"v\">{}</td><td class=\"v\">{}</td>\
             <td class=\"v\">{}</td><td class=\"v\">{}</td><td class=\"v\">{} (allowed {})</td>\
             <td class=\"v\">{} (allowed {})</td><td class=\"v\">{}</td></tr>",
            escape(&field("class")),
            escape(&field("tenants")),
            escape(&field("hosts")),
            escape(&field("hosts_lower_bound")),
            escape(&field("cores")),
            escape(&field("vm_cores")),
            escape(&field("cpu_overcommit_achieved")),
            escape(&field("cpu_overcommit_allowed")),
            escape(&field("memory_overcommit_achieved")),
            escape(&field("memory_overcommit_allowed")),
            escape(&money(c.get("monthly"), currency)),
        );
    }
    html.push_str("</table>\n");
}
