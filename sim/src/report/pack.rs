//! A consolidation plan's files (`summary.json`, `hosts.csv`,
//! `tenants.csv`) and its printed summary.

use std::fmt::Write as _;

use cutover_models::cost::Money;
use serde_json::{json, Value};

use super::{encode, fmt, write_json, OutputDir, WriteError};
use crate::pack::run::{Host, PackOutcome};
use crate::pack::scenario::PackScenario;

/// A probability as written in files: rounded to 1e-9.
fn prob(p: f64) -> f64 {
    (p * 1e9).round() / 1e9
}

/// Cores, rounded to the thousandth.
fn cores(c: f64) -> f64 {
    (c * 1000.0).round() / 1000.0
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        (a / b * 1000.0).round() / 1000.0
    } else {
        0.0
    }
}

/// The summary of the run as JSON.
pub fn summary(scenario: &PackScenario, seed: u64, o: &PackOutcome) -> Value {
    let currency = scenario.currency.to_string();
    let classes: Vec<Value> = o
        .classes
        .iter()
        .map(|c| {
            let h = scenario.hosts(c.class);
            json!({
                "class": c.class.name(),
                "tenants": c.tenants,
                "hosts": c.hosts,
                "hosts_lower_bound": c.hosts_lower_bound,
                "sku": h.map(|h| format!("{}/{}", h.machine.book, h.machine.sku)),
                "cores": cores(c.cores),
                "memory_gib": cores(c.memory_mib as f64 / 1024.0),
                "vm_cores": cores(c.vm_cores),
                "vm_memory_gib": cores(c.vm_memory_mib as f64 / 1024.0),
                "cpu_overcommit_allowed": h.map(|h| h.cpu_overcommit),
                "memory_overcommit_allowed": h.map(|h| h.memory_overcommit),
                "cpu_overcommit_achieved": ratio(c.vm_cores, c.cores),
                "memory_overcommit_achieved": ratio(c.vm_memory_mib as f64, c.memory_mib as f64),
                "monthly": c.monthly.plain(),
            })
        })
        .collect();
    let hosts: usize = o.classes.iter().map(|c| c.hosts).sum();
    let host_cores: f64 = o.classes.iter().map(|c| c.cores).sum();
    let vm_cores: f64 = o.classes.iter().map(|c| c.vm_cores).sum();
    json!({
        "scenario": scenario.name,
        "model": "pack",
        "seed": seed,
        "heuristic": scenario.heuristic.name(),
        "grid_bins_per_core": scenario.grid,
        "samples_per_host": scenario.samples,
        "verdict": o.passed.map(|p| if p { "pass" } else { "fail" }),
        "reasons": o.reasons,
        "tenants": scenario.tenants.len(),
        "hosts": hosts,
        "host_cores": cores(host_cores),
        "vm_cores": cores(vm_cores),
        "cpu_overcommit_achieved": ratio(vm_cores, host_cores),
        "classes": classes,
        "contention": contention_json(scenario, o),
        "cost": {
            "currency": currency,
            "before_monthly": o.before_monthly.plain(),
            "before": format!("each VM as its share (the larger of cores and memory) of {}/{} ({} cores, {} GiB) at {} a month",
                scenario.before.book, scenario.before.sku, scenario.before.cores,
                scenario.before.memory_mib / 1024, scenario.before.monthly),
            "after_monthly": o.after_monthly.plain(),
            "saving_monthly": (o.before_monthly - o.after_monthly).plain(),
            "setup_one_off": o.setup.plain(),
        },
    })
}

fn contention_json(scenario: &PackScenario, o: &PackOutcome) -> Value {
    let worst = o.worst.map(|(i, p)| {
        let h = &o.hosts[i];
        json!({
            "host": h.id,
            "probability": prob(p),
            "lower_bound": prob(h.contention.lower_bound),
            "simulated": h.simulated.map(|s| prob(s.estimate)),
        })
    });
    let e = &o.expected;
    json!({
        "method": format!(
            "exact convolution of each tenant's peak-hour demand on a grid of 1/{} core, \
             tenants independent; rounded up (the figure) and down (a lower bound); \
             checked by {} drawn peak hours per shared host",
            scenario.grid, scenario.samples
        ),
        "max_contention": scenario.max_contention,
        "worst": worst,
        "expected_hosts_in_contention": prob(e.hosts),
        "expected_hosts_in_contention_lower_bound": prob(e.lower_bound),
        "simulated_expected_hosts_in_contention": prob(e.simulated),
        "simulated_ci95": [prob(e.simulated_ci95.0), prob(e.simulated_ci95.1)],
        "hosts_simulated": o.hosts.iter().filter(|h| h.simulated.is_some()).count(),
        "hosts_outside_ci95": o.disagreements,
    })
}

/// `hosts.csv`: one row per host.
fn hosts_csv(scenario: &PackScenario, o: &PackOutcome) -> Result<Vec<u8>, WriteError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let bad = |e: csv::Error| encode("hosts.csv")(e.to_string());
    w.write_record([
        "host",
        "class",
        "sku",
        "cores",
        "memory_gib",
        "tenants",
        "vm_cores",
        "vm_memory_gib",
        "cpu_overcommit",
        "memory_overcommit",
        "mean_demand_cores",
        "contention",
        "contention_lower_bound",
        "simulated",
        "simulated_ci95_low",
        "simulated_ci95_high",
        "tenant_names",
    ])
    .map_err(bad)?;
    for h in &o.hosts {
        w.write_record(host_row(scenario, h)).map_err(bad)?;
    }
    w.into_inner()
        .map_err(|e| encode("hosts.csv")(e.to_string()))
}

fn host_row(scenario: &PackScenario, h: &Host) -> Vec<String> {
    let Some(class) = scenario.hosts(h.class) else {
        return vec![];
    };
    let m = &class.machine;
    let vm_cores = h.asked.millicores as f64 / 1000.0;
    let sim = |f: fn(&crate::montecarlo::Proportion) -> f64| {
        h.simulated
            .map_or(String::new(), |s| prob(f(&s)).to_string())
    };
    let names: Vec<&str> = h
        .tenants
        .iter()
        .map(|&t| scenario.tenants[t].name.as_str())
        .collect();
    vec![
        h.id.clone(),
        h.class.name().to_string(),
        format!("{}/{}", m.book, m.sku),
        m.cores.to_string(),
        cores(m.memory_mib as f64 / 1024.0).to_string(),
        h.tenants.len().to_string(),
        cores(vm_cores).to_string(),
        cores(h.asked.memory_mib as f64 / 1024.0).to_string(),
        ratio(vm_cores, m.cores).to_string(),
        ratio(h.asked.memory_mib as f64, m.memory_mib as f64).to_string(),
        cores(h.contention.mean_demand_cores).to_string(),
        prob(h.contention.probability).to_string(),
        prob(h.contention.lower_bound).to_string(),
        sim(|s| s.estimate),
        sim(|s| s.ci95_low),
        sim(|s| s.ci95_high),
        names.join(" "),
    ]
}

/// `tenants.csv`: each tenant's placement.
fn tenants_csv(scenario: &PackScenario, o: &PackOutcome) -> Result<Vec<u8>, WriteError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let bad = |e: csv::Error| encode("tenants.csv")(e.to_string());
    w.write_record([
        "tenant",
        "class",
        "cores",
        "memory_gib",
        "mean_utilisation",
        "host",
    ])
    .map_err(bad)?;
    for (t, &h) in scenario.tenants.iter().zip(&o.placement) {
        w.write_record([
            t.name.clone(),
            t.class.name().to_string(),
            t.cores.to_string(),
            cores(t.memory_mib as f64 / 1024.0).to_string(),
            prob(t.usage.mean()).to_string(),
            o.hosts[h].id.clone(),
        ])
        .map_err(bad)?;
    }
    w.into_inner()
        .map_err(|e| encode("tenants.csv")(e.to_string()))
}

/// Writes the run's files into `out`.
pub fn write(
    out: &OutputDir,
    scenario: &PackScenario,
    seed: u64,
    o: &PackOutcome,
) -> Result<(), WriteError> {
    write_json(out, "summary.json", &summary(scenario, seed, o))?;
    out.write("hosts.csv", &hosts_csv(scenario, o)?)?;
    out.write("tenants.csv", &tenants_csv(scenario, o)?)?;
    Ok(())
}

/// The printed summary.
pub fn render(scenario: &PackScenario, seed: u64, o: &PackOutcome) -> String {
    let cur = scenario.currency.to_string();
    let money = |m: Money| fmt::money_f64(m.as_f64(), &cur);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} (seed {seed}, {}): {} tenants",
        scenario.name,
        scenario.heuristic.name(),
        fmt::count(scenario.tenants.len() as f64)
    );
    let _ = writeln!(
        s,
        "\n{:<10} {:>8} {:>8} {:>8} {:>10} {:>9} {:>9} {:>14}",
        "class", "tenants", "hosts", "(bound)", "host cores", "vm cores", "cpu o/c", "monthly"
    );
    for c in &o.classes {
        let _ = writeln!(
            s,
            "{:<10} {:>8} {:>8} {:>8} {:>10} {:>9} {:>9.2} {:>14}",
            c.class.name(),
            c.tenants,
            c.hosts,
            c.hosts_lower_bound,
            fmt::count(c.cores),
            fmt::count(c.vm_cores),
            ratio(c.vm_cores, c.cores),
            money(c.monthly)
        );
    }
    let e = &o.expected;
    if let Some((i, p)) = o.worst {
        let h = &o.hosts[i];
        let _ = writeln!(
            s,
            "\nworst host {}: contention {:.6} (lower bound {:.6}{})",
            h.id,
            p,
            h.contention.lower_bound,
            h.simulated.map_or(String::new(), |x| format!(
                ", drawn {:.6}, 95 % CI {:.6} to {:.6}",
                x.estimate, x.ci95_low, x.ci95_high
            ))
        );
    }
    let _ = writeln!(s, "hosts expected in contention at the peak hour: {:.4} (lower bound {:.4}; drawn {:.4}, 95 % CI {:.4} to {:.4})",
        e.hosts, e.lower_bound, e.simulated, e.simulated_ci95.0, e.simulated_ci95.1);
    let simulated = o.hosts.iter().filter(|h| h.simulated.is_some()).count();
    let _ = writeln!(
        s,
        "hosts whose draws' 95 % interval misses the convolution: {} of {simulated}",
        o.disagreements
    );
    let _ = writeln!(
        s,
        "\nmonthly cost before {} -> after {} (saving {}); setup {} once",
        money(o.before_monthly),
        money(o.after_monthly),
        money(o.before_monthly - o.after_monthly),
        money(o.setup)
    );
    if let Some(passed) = o.passed {
        let _ = writeln!(
            s,
            "\nverdict: {}{}",
            if passed { "pass" } else { "FAIL: " },
            o.reasons.join("; ")
        );
    }
    s
}
