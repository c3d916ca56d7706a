//! Traffic from the user's own data: a Prometheus range query and a CSV
//! replayed per population give what the hand-written demand gives.

use std::fmt::Write as _;
use std::path::PathBuf;

use cutover::experiment::Experiment;
use cutover::world::World;
use cutover_models::{SimDuration, SimTime};
use serde_json::Value;

fn scenarios() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn load(name: &str) -> Experiment {
    Experiment::load(&scenarios().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn summary(exp: &Experiment) -> Value {
    let s = World::new(exp, exp.seed)
        .expect("BGP settles")
        .run()
        .summary;
    serde_json::to_value(&s).expect("summary as JSON")
}

/// Unix time of the first sample of the bundled samples: 2026-12-01
/// 00:00 UTC.
const START_UNIX: u64 = 1_796_083_200;

/// The range-query JSON that reproduces `exp`'s demand: each population
/// its share of the shared rate, sampled every `step_s` over the run.
fn prometheus_of(exp: &Experiment, step_s: u64) -> String {
    let pops = &exp.estate.populations;
    let total: f64 = pops.iter().map(|p| p.weight).sum();
    let end = exp.duration.as_nanos() / 1_000_000_000;
    let mut out =
        String::from("{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[\n");
    for (i, p) in pops.iter().enumerate() {
        let _ = write!(
            out,
            "{{\"metric\":{{\"__name__\":\"city:http_requests:rate10s\",\"city\":\"{}\",\"job\":\"storefront\"}},\"values\":[",
            p.city
        );
        for (k, t) in (0..=end).step_by(step_s as usize).enumerate() {
            let at = SimTime::ZERO + SimDuration::from_secs(t);
            let rate = exp.demand.shared_rate_at(at) * p.weight / total;
            let sep = if k == 0 { "" } else { "," };
            let _ = write!(out, "{sep}[{},\"{rate}\"]", START_UNIX + t);
        }
        out.push_str(if i + 1 == pops.len() { "]}\n" } else { "]},\n" });
    }
    out.push_str("]}}\n");
    out
}

/// Numbers equal within `rel` (relative), everything else exactly.
fn assert_close(a: &Value, b: &Value, rel: f64, at: &str) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            let tol = rel * x.abs().max(y.abs()).max(1.0);
            assert!((x - y).abs() <= tol, "{at}: {x} against {y}");
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(
                x.keys().collect::<Vec<_>>(),
                y.keys().collect::<Vec<_>>(),
                "{at}"
            );
            for (k, v) in x {
                assert_close(v, &y[k], rel, &format!("{at}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}");
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                assert_close(v, w, rel, &format!("{at}[{i}]"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

#[test]
fn spike_from_prometheus_gives_the_hand_written_spikes_summary() {
    let hand = load("story/spike.toml");
    let sample = scenarios().join("story/import/spike-requests.json");
    let generated = prometheus_of(&hand, 10);
    if std::env::var_os("CUTOVER_WRITE_SAMPLES").is_some() {
        std::fs::write(&sample, &generated).expect("write the sample");
    }
    let committed = std::fs::read_to_string(&sample).expect("the committed sample");
    assert_eq!(
        committed, generated,
        "the sample is what the spike's demand gives"
    );
    let replayed = load("story/spike-prometheus.toml");
    let report = replayed.traffic_import.as_ref().expect("a replay report");
    assert_eq!((report.series, report.step_s), (15, Some(10.0)));
    assert!(report.gaps.is_empty() && report.counter_resets.is_empty());
    let mut a = summary(&hand);
    let mut b = summary(&replayed);
    // What only a model of users knows: their number, when the spike
    // started and the catch-up time after it.
    for s in [&mut a, &mut b] {
        let o = s.as_object_mut().unwrap();
        for k in [
            "peak_users",
            "spike_start_s",
            "catch_up_after_spike_s",
            "traffic_import",
        ] {
            o.remove(k);
        }
    }
    // The straight lines between samples follow the spike's ramps exactly
    // (its corners are on the 10 s grid); what remains is floating-point
    // rounding (the last digit of a few figures).
    assert_close(&a, &b, 1e-9, "summary");
    assert!(a["requests"].as_f64().unwrap() > 1e6, "the spike ran");
}

/// An experiment on the story's estate with `traffic` (TOML), in a
/// temporary directory, files named relative to scenarios/story/.
fn story_experiment(duration: &str, traffic: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let story = scenarios().join("story");
    let text = format!(
        "[experiment]\nname = \"import\"\nestate = \"{}\"\nduration = \"{duration}\"\ntick = \"10s\"\n\n{}",
        story.join("estate.toml").display(),
        traffic.replace("STORY", &story.display().to_string())
    );
    let path = dir.path().join("exp.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn prometheus_counters_report_their_reset_and_gap_and_keep_their_requests() {
    let (_dir, path) = story_experiment(
        "24h",
        "[traffic.replay]\nfile = \"STORY/import/day-requests.json\"\nseries = \"counter\"\n",
    );
    let exp = Experiment::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let r = exp.traffic_import.as_ref().unwrap();
    assert_eq!((r.series, r.step_s), (15, Some(300.0)));
    assert_eq!(r.counter_resets.len(), 1, "{:?}", r.counter_resets);
    assert_eq!(r.counter_resets[0].population, "hkg");
    assert_eq!(r.counter_resets[0].at_s, 14.0 * 3600.0 + 300.0);
    assert_eq!(r.gaps.len(), 1, "{:?}", r.gaps);
    assert_eq!(
        (r.gaps[0].population.as_str(), r.gaps[0].missing_samples),
        ("fra", 3)
    );
    // Frankfurt's counter across the gap: its requests are those the
    // counter counted, spread over the gap.
    let text = std::fs::read_to_string(scenarios().join("story/import/day-requests.json")).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    let fra = json["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["metric"]["city"] == "fra")
        .unwrap();
    let v = |i: usize| {
        fra["values"][i][1]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap()
    };
    let counted = v(36) - v(35); // 02:55 -> 03:15, over the gap
    let p = exp
        .estate
        .populations
        .iter()
        .position(|p| p.city == "fra")
        .unwrap();
    let dt = SimDuration::from_secs(10);
    let replayed: f64 = (10_500..11_700)
        .step_by(10)
        .map(|s| {
            exp.demand
                .population_requests_in(p, SimTime::ZERO + SimDuration::from_secs(s), dt)
        })
        .sum();
    assert!(
        (replayed - counted).abs() < 1e-6 * counted,
        "{replayed} against {counted}"
    );
}

#[test]
fn csv_replay_sends_each_citys_requests_to_its_own_site() {
    // Only New York's rows: every request is New York's and ny1 serves it.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(scenarios().join("story/import/day-requests.csv")).unwrap();
    let mut nyc: Vec<&str> = text.lines().filter(|l| l.contains(",nyc,")).collect();
    nyc.insert(0, text.lines().next().unwrap());
    let file = dir.path().join("nyc.csv");
    std::fs::write(&file, nyc.join("\n") + "\n").unwrap();
    let (_exp_dir, path) = story_experiment(
        "2h",
        &format!("[traffic.replay]\nfile = \"{}\"\n", file.display()),
    );
    let exp = Experiment::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let report = exp.traffic_import.as_ref().unwrap();
    assert_eq!(report.populations_without_series.len(), 14);
    let s = summary(&exp);
    let requests = s["requests"].as_f64().unwrap();
    // 00:00 to 02:00 UTC is 19:00 to 21:00 in New York, its evening peak:
    // the rows' mean rate over the two hours.
    let rows: Vec<f64> = nyc[1..10]
        .iter()
        .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    let trapezoid: f64 = rows.windows(2).map(|w| (w[0] + w[1]) / 2.0 * 900.0).sum();
    assert!(
        (requests - trapezoid).abs() < 1e-3 * trapezoid,
        "{requests} against {trapezoid}"
    );
    for site in s["sites"].as_array().unwrap() {
        let served = site["requests"].as_f64().unwrap();
        if site["site"] == "ny1" {
            assert!((served - requests).abs() < 1e-6 * requests);
        } else {
            assert_eq!(served, 0.0, "{}", site["site"]);
        }
    }
}

#[test]
fn weights_from_a_csv_move_the_users_to_where_people_live() {
    let hand = load("story/spike.toml");
    let weighted = load("story/spike-weighted.toml");
    let share = |exp: &Experiment, city: &str| {
        let total: f64 = exp.estate.populations.iter().map(|p| p.weight).sum();
        exp.estate
            .populations
            .iter()
            .filter(|p| p.city == city)
            .map(|p| p.weight / total)
            .sum::<f64>()
    };
    assert!((share(&hand, "tyo") - 1.0 / 15.0).abs() < 1e-12);
    // Tokyo's 37,393 thousand of the fifteen cities' 206,554 thousand.
    assert!((share(&weighted, "tyo") - 37_393.0 / 206_554.0).abs() < 1e-12);
    assert!((share(&weighted, "fra") - 767.0 / 206_554.0).abs() < 1e-12);
}

#[test]
fn a_bad_replay_setting_is_an_error_in_the_experiment_file() {
    let cases = [
        (
            "[traffic.replay]\nfile = \"STORY/import/day-requests.json\"\nseries = \"gauge\"\n",
            "field `traffic.replay.series`: `gauge`; allowed: \"rate\", \"counter\"",
        ),
        (
            "[traffic.replay]\nfile = \"STORY/import/day-requests.json\"\n",
            "day-requests.json:2:23: field `data.result[0].metric.__name__`: `nginx_http_requests_total` is a counter",
        ),
        (
            "[traffic.replay]\nfile = \"STORY/import/day-requests.json\"\nseries = \"counter\"\nlabel = \"region\"\n",
            "day-requests.json:2:11: field `data.result[0].metric`: no label `region`",
        ),
        (
            "[traffic.replay]\nfile = \"STORY/import/missing.json\"\n",
            "field `traffic.replay.file`: cannot read",
        ),
        (
            "[traffic]\nweights = \"STORY/import/day-requests.csv\"\n",
            "day-requests.csv:1:1: unknown column `timestamp`",
        ),
        (
            "[traffic.replay]\nfile = \"STORY/import/day-requests.csv\"\nlabel = \"city\"\n",
            "field `traffic.replay.label`: a CSV names its populations in its `population` column",
        ),
        (
            "[traffic.replay]\nfile = \"STORY/import/day-requests.csv\"\nmax_gap_steps = 0.5\n",
            "field `traffic.replay.max_gap_steps`: 0.5; allowed: 1 to 1e6 steps",
        ),
    ];
    for (traffic, want) in cases {
        let (_dir, path) = story_experiment("1h", traffic);
        let err = Experiment::load(&path).unwrap_err().to_string();
        assert!(err.contains(want), "{err}\nwanted: {want}");
    }
}

#[test]
fn measured_catchments_are_held_against_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["catchment", "--measured"])
        .arg(scenarios().join("story/import/measured-catchment.csv"))
        .arg(scenarios().join("story/estate.toml"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let m = &summary["measured"];
    // The sample's four clients sent elsewhere than the model says
    // (scripts/samples/story-imports.py, ELSEWHERE) of its 48.
    assert_eq!(m["clients"], 48);
    assert_eq!(m["disagreements"].as_array().unwrap().len(), 4);
    assert!((m["agreement"].as_f64().unwrap() - 44.0 / 48.0).abs() < 1e-12);
    assert!(
        stdout.contains("2001:db8:e1::/48 bom: ams1 / hkg1"),
        "{stdout}"
    );
    // Its RTTs were drawn with a path inflation of 1.9 (+-10 %).
    let fitted = m["fitted_path_inflation"].as_f64().unwrap();
    assert!((fitted - 1.9).abs() < 0.05, "{fitted}");
    let tokyo = m["populations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["population"] == "tyo")
        .unwrap();
    assert_eq!(tokyo["model_site"], "hkg1");
    assert!((tokyo["agreement"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-12);
    let csv = std::fs::read_to_string(out.join("measured.csv")).unwrap();
    assert!(
        csv.starts_with("population,clients,model_site,agreement,"),
        "{csv}"
    );
    // An unknown site is a located error, not a panic.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "client,population,site,rtt_ms\n2001:db8::/48,nyc,nyc1,30\n",
    )
    .unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["catchment", "--measured"])
        .arg(&bad)
        .arg(scenarios().join("story/estate.toml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bad.csv:2:19: field `site`: `nyc1` is not a site of the estate"),
        "{stderr}"
    );
}

#[test]
fn an_estate_can_weigh_its_populations_from_a_csv_too() {
    let story = scenarios().join("story");
    let text = std::fs::read_to_string(story.join("estate.toml")).unwrap();
    let weights = story.join("import/population-weights.csv");
    let text = text
        .replace("\"../", &format!("\"{}/../", story.display()))
        .replacen(
            "[estate]\n",
            &format!("[estate]\npopulation_weights = \"{}\"\n", weights.display()),
            1,
        );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("estate.toml");
    std::fs::write(&path, text).unwrap();
    let (estate, _) = cutover::experiment::load_estate(&path).unwrap_or_else(|e| panic!("{e}"));
    let weighted = load("story/spike-weighted.toml");
    let w = |ps: &[cutover::estate::Population]| ps.iter().map(|p| p.weight).collect::<Vec<_>>();
    assert_eq!(w(&estate.populations), w(&weighted.estate.populations));
    assert_eq!(estate.populations[0].weight, 12_357_000.0);
}

/// Every sample cut short or with a byte replaced, at many places: an
/// error or a result, never a panic.
#[test]
fn damaged_samples_never_panic() {
    use cutover::scenario::{measured, prometheus, trace, weights};
    let import = scenarios().join("story/import");
    let names: Vec<String> = ["szx", "nyc", "fra", "hkg"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let check = |file: &str, text: &str| {
        let path = import.join(file);
        match file {
            "day-requests.json" => {
                let expect = prometheus::Expect {
                    label: Some("city"),
                    kind: None,
                    populations: Some(&names),
                };
                drop(prometheus::parse(&path, text, &expect));
            }
            "day-requests.csv" => drop(trace::parse_series(&path, text, &names)),
            "population-weights.csv" => drop(weights::parse(&path, text, &names)),
            _ => drop(measured::parse(&path, text, None)),
        }
    };
    for file in [
        "day-requests.json",
        "day-requests.csv",
        "population-weights.csv",
        "measured-catchment.csv",
    ] {
        let text = std::fs::read_to_string(import.join(file)).unwrap();
        let bytes = text.as_bytes();
        let stride = (bytes.len() / 400).max(1);
        for at in (0..bytes.len()).step_by(stride) {
            check(file, &String::from_utf8_lossy(&bytes[..at]));
            for b in [b'"', b',', b'[', b'}', b'-', b'9', b'\n', b'x'] {
                let mut damaged = bytes.to_vec();
                damaged[at] = b;
                check(file, &String::from_utf8_lossy(&damaged));
            }
        }
    }
}
