//! Migration plans on the one world: BGP stages reach what the catchment
//! model says, verdicts cover the SLO, the blackhole of a crash is the
//! drill's, errors are located, and outputs do not depend on threads.

use std::path::{Path, PathBuf};

use cutover::experiment::Experiment;
use cutover::plan::resolve::{Action, Knobs};
use cutover::plan::{run, Plan};
use cutover::scenario::Source;
use cutover::world::World;
use cutover_models::bgp::catchment::{knob_sweep, Knob};

#[path = "invariants/money.rs"]
mod money;
#[path = "invariants/requests.rs"]
mod requests;

fn story() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/story")
}

/// A plan on the story's estate: `moves` (old site tags) each to a
/// bare-metal site `{tag}-bm` beside it; `extra` appended to `[plan]`'s
/// file (failures, other sections).
fn story_plan(moves: &[(&str, &str, &str)], plan_extra: &str, extra: &str) -> String {
    let mut text = format!(
        r#"
[experiment]
name = "t"
estate = "{}"
seed = 3
duration = "1d"
tick = "30s"
[traffic]
base_rate = "3600/s"
diurnal_amplitude = 0.4
diurnal_peak = "20h"
[output]
timeline_interval = "1h"
[plan]
begin = "18h"
on_failure = "abort"
{plan_extra}
[plan.stages]
mechanism = "bgp"
unreachable = "l7"
wait = "60s"
observe = "10m"
{extra}
"#,
        story().join("estate.toml").display()
    );
    for (tag, city, upstreams) in moves {
        text.push_str(&format!(
            "[[sites]]\ntag = \"{tag}-bm\"\ncity = \"{city}\"\nupstreams = {upstreams}\nannounce = false\n\
             nodes = {{ kind = \"bare-metal\", count = 3, allocatable_cpu = \"31\" }}\n\
             [[moves]]\nfrom = \"{tag}\"\nto = \"{tag}-bm\"\n"
        ));
    }
    text
}

fn plan_of(text: &str) -> Plan {
    Plan::from_source(&Source::from_text(Path::new("plan.toml"), text.to_string())).unwrap()
}

#[test]
fn bgp_stages_reach_the_share_the_catchment_model_gives_for_their_knobs() {
    // Hong Kong serves four cities; a site beside it can take some of them
    // by BGP, each city whole.
    let plan = plan_of(&story_plan(&[("hkg1", "hkg", "[65010, 65050]")], "", ""));
    let mv = &plan.moves[0];
    assert_eq!(mv.users.len(), 4, "{:?}", mv.users);
    let exp = &plan.experiment;
    let pops = exp.topology.populations();
    let total: f64 = pops.iter().map(|p| p.weight).sum();
    let region: f64 = mv.users.iter().map(|&p| pops[p].weight).sum::<f64>() / total;
    let announcements = exp.estate.announcements();
    let mut checked = 0;
    for r in &mv.reachable {
        // `cutover catchment --sweep` turns one knob of one site: the new
        // site's prepends with the old site as it is.
        let (Some(n), Some(0)) = (r.knobs.new, r.knobs.old) else {
            continue;
        };
        let share = knob_sweep(
            &exp.topology,
            &announcements,
            mv.new,
            &[Knob::Prepends(n)],
            &exp.estate.network.latency,
            exp.estate.network.bgp.decision,
        )
        .unwrap()[0];
        assert!(
            (share / region - r.share).abs() < 1e-12,
            "prepend {n}: {share} of all users, {} of the region",
            r.share
        );
        checked += 1;
    }
    assert!(checked >= 2, "{:?}", mv.reachable);
    // Every stage reaches the share of the action it took.
    for s in &mv.stages {
        match s.action {
            Action::Bgp(k) => {
                let r = mv.reachable.iter().find(|r| r.knobs == k).unwrap();
                assert_eq!(s.reached, r.share);
            }
            Action::L7 { weight } => assert_eq!(s.reached, weight),
        }
    }
    let last = mv.stages.last().unwrap();
    assert_eq!(
        last.action,
        Action::Bgp(Knobs {
            new: Some(0),
            old: None
        })
    );
}

#[test]
fn a_share_bgp_cannot_reach_is_refused_when_the_plan_says_fail() {
    let text = story_plan(&[("ny1", "nyc", "[65010, 65020]")], "", "")
        .replace("unreachable = \"l7\"", "unreachable = \"fail\"");
    let source = Source::from_text(Path::new("plan.toml"), text);
    let err = Plan::from_source(&source).unwrap_err().to_string();
    assert!(
        err.contains("field `moves[0].to`: asked 1.0 % of ny1's users, nearest by BGP"),
        "{err}"
    );
    assert!(err.contains("allowed:"), "{err}");
}

#[test]
fn a_plan_below_its_slo_fails_and_says_why() {
    // The gates pass, but a crash elsewhere spends more than a 99.999 %
    // objective allows.
    let text = story_plan(
        &[("ams1", "ams", "[65010, 65020]")],
        "slo = \"99.999%\"",
        "[[failures]]\nsite = \"ny1\"\nat = \"1120m\"\nkind = \"crash\"\n",
    );
    let o = run(&plan_of(&text), 3).unwrap();
    assert!(o.gates_passed && o.finished);
    assert!(o.slo.availability < 0.99999, "{}", o.slo.availability);
    assert!(!o.success());
    let reasons = o.failure_reasons().join("\n");
    assert!(reasons.contains("below the SLO of 99.9990 %"), "{reasons}");
}

#[test]
fn a_crash_blackholes_a_city_as_long_in_a_plan_as_in_a_drill() {
    let crash = "[[failures]]\nsite = \"ny1\"\nat = \"1120m\"\nkind = \"crash\"\n";
    let text = story_plan(&[("ams1", "ams", "[65010, 65020]")], "", crash);
    let in_plan = run(&plan_of(&text), 3).unwrap();
    let drill = format!(
        "[experiment]\nname = \"drill\"\nestate = \"{}\"\nseed = 3\nduration = \"1d\"\ntick = \"30s\"\n\
         [traffic]\nbase_rate = \"3600/s\"\ndiurnal_amplitude = 0.4\ndiurnal_peak = \"20h\"\n{crash}",
        story().join("estate.toml").display()
    );
    let exp = Experiment::from_source(&Source::from_text(Path::new("drill.toml"), drill)).unwrap();
    let alone = World::new(&exp, 3).unwrap().run();
    let blackhole = |pops: &[cutover::world::summary::PopulationSummary]| {
        pops.iter()
            .find(|p| p.population == "nyc")
            .unwrap()
            .blackhole_s
    };
    let (a, b) = (
        blackhole(&in_plan.world.summary.populations),
        blackhole(&alone.summary.populations),
    );
    // The hold timer's draw is the same; only the MRAI timers' phases
    // differ with the plan's added site.
    assert!(a > 30.0 && (a - b).abs() < 1.0, "plan {a} s, drill {b} s");
}

#[test]
fn plan_outputs_are_byte_identical_at_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.toml");
    std::fs::write(
        &file,
        story_plan(&[("ams1", "ams", "[65010, 65020]")], "", ""),
    )
    .unwrap();
    let run_cli = |name: &str, threads: &str| {
        let out = dir.path().join(name);
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
            .args(["plan", file.to_str().unwrap()])
            .args(["--out", out.to_str().unwrap(), "--replications", "3"])
            .args(["--threads", threads, "--seed", "5"])
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stdout)
        );
        out
    };
    let (a, b) = (run_cli("a", "1"), run_cli("b", "2"));
    let mut files: Vec<_> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "run-info.json")
        .collect();
    files.sort();
    for want in [
        "replications.csv",
        "stages.csv",
        "timeline.csv",
        "populations.csv",
    ] {
        assert!(files.contains(&want.to_string()), "{files:?}");
    }
    for name in &files {
        assert_eq!(
            std::fs::read(a.join(name)).unwrap(),
            std::fs::read(b.join(name)).unwrap(),
            "{name} differs between 1 and 2 threads"
        );
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["verdict"], "pass");
    assert_eq!(summary["montecarlo"]["replications"], 3);
}

#[test]
fn plan_errors_name_the_line_and_what_is_allowed() {
    let text = story_plan(&[("ams1", "ams", "[65010, 65020]")], "", "")
        .replace("mechanism = \"bgp\"", "mechanism = \"dns\"");
    let err = Plan::from_source(&Source::from_text(Path::new("bad.toml"), text))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("bad.toml:19:13:"), "{err}");
    assert!(
        err.contains("plan.stages.mechanism") && err.contains("allowed"),
        "{err}"
    );
    let twice = story_plan(&[("ams1", "ams", "[65010, 65020]")], "", "")
        + "[[moves]]\nfrom = \"ams1\"\nto = \"ny1\"\n";
    let err = Plan::from_source(&Source::from_text(Path::new("bad.toml"), twice))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("field `moves[1].to`: site `ny1` announces before the plan"),
        "{err}"
    );
}

#[test]
fn a_drill_strikes_its_time_after_its_stage_starts() {
    let file = story().join("plan-gameday.toml");
    let plan = Plan::load(&file).unwrap();
    assert_eq!(plan.drills.len(), 1);
    assert!(
        plan.experiment.failures.is_empty(),
        "a drill's failure does not strike from the start"
    );
    let o = run(&plan, 3).unwrap();
    let half = o
        .stages
        .iter()
        .find(|s| s.region == "ams1" && s.share_requested == 0.5)
        .unwrap();
    let log = &o.world.summary.failure_log;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].site, "ny1");
    assert_eq!(log[0].start_s, half.applied_s + 600.0);
    assert_eq!(log[0].end_s, Some(half.applied_s + 600.0 + 3600.0));
    // New York's users lost requests; Amsterdam's move still passed.
    let nyc = o
        .world
        .summary
        .populations
        .iter()
        .find(|p| p.population == "nyc")
        .unwrap();
    assert!(nyc.tally.blackholed > 0.0);
    assert!(o.gates_passed && o.success(), "{:?}", o.failure_reasons());
}

#[test]
fn drill_errors_say_what_is_allowed() {
    let base = story_plan(
        &[("ams1", "ams", "[65010, 65020]")],
        "",
        "[[failures]]\nsite = \"ny1\"\nat = \"10m\"\nkind = \"crash\"\n",
    );
    for (drill, want) in [
        (
            "failure = 1\nmove = \"ams1\"\nstage = \"50%\"",
            "field `plan.drills[0].failure`: 1; allowed: the index of one of the 1 [[failures]], from 0",
        ),
        (
            "failure = 0\nmove = \"ny1\"\nstage = \"50%\"",
            "field `plan.drills[0].move`: no move from `ny1`; allowed: ams1",
        ),
        (
            "failure = 0\nmove = \"ams1\"\nstage = \"40%\"",
            "field `plan.drills[0].stage`: `40%` is not a stage of ams1",
        ),
    ] {
        let text = base.replace("[plan.stages]", &format!("[[plan.drills]]\n{drill}\n[plan.stages]"));
        let err = Plan::from_source(&Source::from_text(Path::new("d.toml"), text))
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{err}");
    }
}

/// The game day's move priced by the migration cost scenario, with a
/// cloud price rise of 0 to 20 % and a supplier lead time of 336 to 340
/// hours (against the cost scenario's planned 14 days: servers up to four
/// hours late, so the plan starts a day late, at its 18:00; it may take
/// three days).
fn priced_with_risks() -> Plan {
    let text = story_plan(
        &[("ams1", "ams", "[65010, 65020]")],
        &format!(
            "cost = \"{}\"\n\
             [[plan.risks]]\nname = \"price rise\"\nestate = \"cloud\"\nchange = [\"0%\", \"20%\"]\n\
             [[plan.risks]]\nname = \"delivery\"\nlead_time = [\"336h\", \"340h\"]\n",
            story().join("../cost-migration.toml").display()
        ),
        "",
    )
    .replace("duration = \"1d\"", "duration = \"3d\"");
    plan_of(&text)
}

#[test]
fn a_price_risk_gives_the_probability_of_staying_within_budget() {
    use cutover::plan::cost::price;
    use cutover::plan::risk::{adjusted, draw};
    use cutover_models::cost::{Currency, Money};
    use cutover_models::{SimDuration, SimTime};

    let mut plan = priced_with_risks();
    assert_eq!(plan.risks.len(), 2);
    let planned = SimDuration::from_secs(14 * 86_400);
    let orders = cutover::plan::run::orders(&plan);
    assert_eq!((orders.moves, orders.retries), (1, 0));
    // One run for the dates the plan kept; each replication's cost is
    // then its draw of the price rise priced on them.
    let o = run(&plan, 3).unwrap();
    let at = |s: Option<f64>| s.map(|s| SimTime::ZERO + SimDuration::from_secs_f64(s));
    let moved: Vec<_> = o.regions.iter().map(|r| at(r.moved_s)).collect();
    let gone: Vec<_> = o.regions.iter().map(|r| at(r.decommissioned_s)).collect();
    let end = SimTime::ZERO + SimDuration::from_secs_f64(o.duration_s);
    let (_, base) = plan.cost.clone().unwrap();
    let flat = price(&plan, &base, &moved, &gone, end).unwrap();
    let dual = flat.dual_running.as_f64();
    assert!(dual > 0.0);
    // By hand: dual running is the old (cloud) site's cost while both are
    // paid, so it is dual x (1 + r), and a budget of dual x (1 + k) is kept
    // when r <= k: for r uniform on [0, 0.2], with probability k / 0.2.
    let within = |k: f64| -> f64 {
        let budget = Money::from_cents((dual * (1.0 + k) * 100.0).round() as i64);
        let mut plan = plan.clone();
        plan.dual_running_budget = Some((budget, Currency::USD));
        let mut kept = 0;
        for seed in 0..200 {
            let draws = draw(&plan.risks, seed, planned, orders);
            let mut c = base.clone();
            c.model.base = adjusted(&c.model.base, &plan.risks, &draws);
            let priced = price(&plan, &c, &moved, &gone, end).unwrap();
            let r = draws.values[0];
            let over = priced
                .overruns
                .iter()
                .any(|x| x.starts_with("dual running"));
            if (r - k).abs() > 1e-4 {
                assert_eq!(
                    over,
                    r > k,
                    "rise {r}, threshold {k}: {:?}",
                    priced.overruns
                );
            }
            kept += usize::from(!over);
        }
        kept as f64 / 200.0
    };
    let half = within(0.10);
    assert!(half > 0.35 && half < 0.65, "{half}");
    let more = within(0.15);
    assert!(more > half && more < 1.0, "{half} -> {more}");
    assert_eq!(within(0.20), 1.0);
    // In a replication the draws are its seed's and the cost follows; the
    // single run takes the plan as stated.
    plan.dual_running_budget = None;
    let stated = run(&plan, 11).unwrap();
    assert_eq!(stated.risks[0].1, 0.0);
    assert_eq!(stated.risks[1].1, 14.0);
    assert_eq!(stated.stages[0].applied_s, 18.0 * 3600.0);
    let o = cutover::plan::run_replication(&plan, 11).unwrap();
    let d = draw(&plan.risks, 11, planned, orders);
    assert_eq!(o.risks[0], ("price rise".to_string(), d.values[0]));
    assert!((o.risks[1].1 - d.values[1] / 86_400.0).abs() < 1e-9);
    // Its dual running is the unrisen price on its own (later) dates,
    // raised by its draw.
    let dual_11 = o.cost.as_ref().unwrap().dual_running.as_f64();
    let moved_11: Vec<_> = o.regions.iter().map(|r| at(r.moved_s)).collect();
    let gone_11: Vec<_> = o.regions.iter().map(|r| at(r.decommissioned_s)).collect();
    let end_11 = SimTime::ZERO + SimDuration::from_secs_f64(o.duration_s);
    let flat_11 = price(&plan, &base, &moved_11, &gone_11, end_11).unwrap();
    let unrisen = flat_11.dual_running.as_f64();
    assert!(
        (dual_11 / unrisen - (1.0 + d.values[0])).abs() < 1e-3,
        "{dual_11} vs {unrisen}"
    );
    // The delivery came after the planned 14 days: the plan began late,
    // at its 18:00 on the first day the servers were there.
    let late = d.values[1] - 14.0 * 86_400.0;
    assert!(late > 0.0);
    let first = o.stages.first().unwrap().applied_s;
    let whole_days = (late / 86_400.0).ceil() * 86_400.0;
    assert!(
        (first - (18.0 * 3600.0 + whole_days)).abs() < 1e-6,
        "{first}"
    );
    assert!((o.regions[0].servers_at_s - first).abs() < 1e-6);
    assert_eq!(stated.regions[0].servers_at_s, 18.0 * 3600.0);
}

#[test]
fn an_experiment_can_turn_the_estates_overflow_off() {
    let with = |overflow: &str| {
        let text = format!(
            "[experiment]\nname = \"o\"\nestate = \"{}\"\nduration = \"1h\"\n[traffic]\nbase_rate = \"10/s\"\n{overflow}",
            story().join("estate.toml").display()
        );
        Experiment::from_source(&Source::from_text(Path::new("o.toml"), text)).unwrap()
    };
    assert!(with("").estate.overflow.is_some());
    assert!(with("[overflow]\nenabled = false\n")
        .estate
        .overflow
        .is_none());
    let on = with("[overflow]\nthreshold = 0.9\nrelease = 0.8\n");
    assert_eq!(on.estate.overflow.unwrap().threshold, 0.9);
}

/// Amsterdam's move with its old site crashing for the last 20 s of the
/// 50 % stage's window (applied at 0, window from 60 s to 660 s, crash
/// from 640 s to 660 s: its users have no route to a serving site for
/// those 20 s, and its L7 proxy forwards nothing meanwhile); the gate
/// reads the sites (which may fail 5 % of their requests: the crash
/// resets what the old site holds, 1.7 % of its window's) and, with
/// `populations`, the populations (which need to be up 99 % of the
/// window).
fn crash_during_a_stage(populations: bool) -> Plan {
    let gate = if populations {
        "scope = [\"sites\", \"populations\"]\n[plan.gate.populations]\nmin_availability = \"99%\""
    } else {
        "scope = [\"sites\"]"
    };
    let text = story_plan(
        &[("ams1", "ams", "[65010, 65020]")],
        "[[plan.drills]]\nfailure = 0\nmove = \"ams1\"\nstage = \"50%\"\n",
        &format!(
            "[plan.gate]\n{gate}\n\
             [plan.gate.sites]\nmax_error_rate = \"5%\"\n\
             [[failures]]\nsite = \"ams1\"\nat = \"640s\"\nkind = \"crash\"\ndetection = \"hold-timer\"\nduration = \"20s\"\n"
        ),
    );
    plan_of(&text)
}

#[test]
fn a_population_blackholed_for_part_of_a_window_fails_its_gate_while_the_sites_pass() {
    let plan = crash_during_a_stage(true);
    let fra = &plan.moves[0].users;
    assert_eq!(fra.len(), 1, "ams1 serves Frankfurt's users");
    let o = run(&plan, 3).unwrap();
    let row = |scope: &str, name: &str| {
        o.gates
            .iter()
            .find(|g| g.stage == 5 && g.scope == scope && g.name == name)
            .unwrap_or_else(|| panic!("no {scope} {name} in {:?}", o.gates))
    };
    // By hand: 20 s of the 600 s window without a route, 96.667 %.
    let users = row("population", "fra");
    assert!(
        (users.availability - (1.0 - 20.0 / 600.0)).abs() < 1e-12,
        "{}",
        users.availability
    );
    assert!(users.judged && !users.passed);
    assert!(
        users
            .reasons
            .ends_with("up 96.667 % of the window, below 99.000 %"),
        "{}",
        users.reasons
    );
    // The old site was down the same 20 s, but sites are not held to an
    // availability here; the new site never was down.
    let old = row("site", "ams1");
    assert!((old.availability - (1.0 - 20.0 / 600.0)).abs() < 1e-12);
    assert!(old.judged && old.passed, "{old:?}");
    assert!(old.failed > 0);
    let new = row("site", "ams1-bm");
    assert_eq!(new.availability, 1.0);
    assert!(new.passed && new.requests >= 1000, "{new:?}");
    // The move's figure is observed but not judged.
    let whole = row("move", "ams1");
    assert!(!whole.judged && whole.passed);
    let stage = o.stages.iter().find(|s| s.stage == 5).unwrap();
    assert!(!stage.passed);
    assert_eq!(stage.breached, "population fra");
    assert!(
        stage.reasons.starts_with("population fra: "),
        "{}",
        stage.reasons
    );
    assert!(!o.gates_passed && o.rollbacks.len() == 1);
    // Gated on the sites alone, the same stage passes.
    let sites_only = run(&crash_during_a_stage(false), 3).unwrap();
    assert!(
        sites_only.gates_passed,
        "{:?}",
        sites_only.failure_reasons()
    );
}

#[test]
fn gate_scopes_are_checked() {
    for (gate, want) in [
        (
            "scope = [\"cities\"]",
            "field `plan.gate.scope[0]`: `cities`; allowed: \"move\"",
        ),
        (
            "scope = [\"move\", \"move\"]",
            "field `plan.gate.scope[1]`: `move` twice",
        ),
        ("scope = []", "field `plan.gate.scope`: empty"),
        (
            "[plan.gate.sites]\nmax_p99 = \"1s\"",
            "field `plan.gate.sites`: thresholds for a scope the gate does not read; allowed: add \"sites\" to plan.gate.scope",
        ),
        (
            "scope = [\"populations\"]\n[plan.gate.populations]\nmin_availability = \"120%\"",
            "field `plan.gate.populations.min_availability`: `120%`; allowed: 0% to 100%",
        ),
    ] {
        let text = story_plan(
            &[("ams1", "ams", "[65010, 65020]")],
            "",
            &format!("[plan.gate]\n{gate}\n"),
        );
        let err = Plan::from_source(&Source::from_text(Path::new("g.toml"), text))
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{err}");
    }
}

/// The story's migration cost scenario, written into `dir` with the plan
/// it prices named by its full path and `risks` (TOML) appended.
fn cost_with_risks(dir: &Path, risks: &str) -> PathBuf {
    let scenarios = story().join("..");
    let text = std::fs::read_to_string(scenarios.join("cost-migration.toml"))
        .unwrap()
        .replace(
            "estate = \"story/plan-migration.toml\"",
            &format!(
                "estate = \"{}\"",
                scenarios.join("story/plan-migration.toml").display()
            ),
        );
    assert!(
        text.contains("/story/plan-migration.toml"),
        "the projection names its plan"
    );
    let file = dir.join("cost.toml");
    std::fs::write(&file, format!("{text}\n{risks}")).unwrap();
    file
}

/// Amsterdam's and New York's moves a week apart, priced by `cost`, with
/// `plan_extra` in `[plan]`.
fn two_moves_priced_by(cost: &Path, plan_extra: &str) -> Result<Plan, String> {
    let text = story_plan(
        &[
            ("ams1", "ams", "[65010, 65020]"),
            ("ny1", "nyc", "[65010, 65020]"),
        ],
        &format!(
            "cost = \"{}\"\nregion_spacing = \"7d\"\n{plan_extra}",
            cost.display()
        ),
        "",
    )
    .replace("duration = \"1d\"", "duration = \"40d\"")
    // Abort is the default; a plan_extra may say otherwise.
    .replace("on_failure = \"abort\"\n", "");
    Plan::from_source(&Source::from_text(Path::new("plan.toml"), text)).map_err(|e| e.to_string())
}

#[test]
fn a_cost_scenario_declares_risks_with_their_distributions_for_the_plans_it_prices() {
    let dir = tempfile::tempdir().unwrap();
    let cost = cost_with_risks(
        dir.path(),
        "[[risks]]\nname = \"rent rise\"\nestate = \"bare metal\"\nchange = [\"0%\", \"20%\"]\n\
         distribution = \"triangular\"\nmode = \"5%\"\n\
         [[risks]]\nname = \"server delivery\"\nlead_time = [\"10d\", \"20d\"]\n",
    );
    let plan = two_moves_priced_by(
        &cost,
        "[[plan.risks]]\nname = \"EUR/USD\"\nfx = true\nchange = [\"-10%\", \"10%\"]\n\
         distribution = \"normal\"\nmean = \"0%\"\nsd = \"4%\"\n",
    )
    .unwrap();
    let names: Vec<&str> = plan.risks.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["rent rise", "server delivery", "EUR/USD"]);
    use cutover::plan::risk::Shape;
    assert_eq!(plan.risks[0].shape, Shape::Triangular { mode: 0.05 });
    assert_eq!(
        plan.risks[2].shape,
        Shape::Normal {
            mean: 0.0,
            sd: 0.04
        }
    );
    // A plan's risk may not take a name the cost scenario already gave.
    let err = two_moves_priced_by(
        &cost,
        "[[plan.risks]]\nname = \"rent rise\"\nfx = true\nchange = [\"0%\", \"1%\"]\n",
    )
    .unwrap_err();
    assert!(
        err.contains("field `plan.risks[0].name`: `rent rise` is declared in the cost scenario"),
        "{err}"
    );
    // The cost scenario's own errors point into its file.
    for (risk, want) in [
        (
            "estate = \"bare metal\"\nchange = [\"0%\", \"20%\"]\ndistribution = \"beta\"",
            "field `risks[0].distribution`: `beta`; allowed: \"uniform\", \"triangular\"",
        ),
        (
            "estate = \"bare metal\"\nchange = [\"0%\", \"20%\"]\ndistribution = \"triangular\"\nmode = \"30%\"",
            "field `risks[0].mode`: outside the range",
        ),
        (
            "lead_time = [\"10d\", \"20d\"]\ndistribution = \"normal\"\nmean = \"14d\"",
            "field `risks[0]`: a normal distribution needs `mean` and `sd`",
        ),
        (
            "estate = \"moon base\"\nchange = [\"0%\", \"20%\"]",
            "field `risks[0].estate`: `moon base` is not in the cost scenario",
        ),
        (
            "fx = true\nchange = [\"0%\", \"20%\"]\nsd = \"1%\"",
            "field `risks[0].sd`: not used by a uniform distribution",
        ),
    ] {
        let file = cost_with_risks(dir.path(), &format!("[[risks]]\nname = \"r\"\n{risk}\n"));
        let err = cutover::scenario::cost::CostScenario::load(&file)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(want) && err.contains("cost.toml:"), "{err}");
    }
}

#[test]
fn each_moves_servers_are_late_by_their_own_lead_time() {
    // Two moves a week apart, each with its own order of servers whose
    // lead time is uniform on 10 to 20 days against the planned 14: a
    // move starts late by its own lead's excess, and the second also
    // waits for the first (pacing). With S = 18 h + 7 d + the second
    // move's 7 stages (7 x 660 s), the plan ends at S + max(0, L1 - 14 d,
    // L2 - 14 d) taken up to whole days (a late move starts at the plan's
    // 18:00): it ends within S + 3 d when both leads are at most 17 d,
    // with probability (7 / 10)^2 = 0.49 (one draw for both would give
    // 0.7).
    use cutover::plan::risk::draw;
    use cutover::plan::run::{orders, spec_with};
    use cutover_models::plan::{Observation, PlanAction, PlanMachine, Scope, WindowMetrics};
    use cutover_models::{SimDuration, SimTime};

    let dir = tempfile::tempdir().unwrap();
    let cost = cost_with_risks(
        dir.path(),
        "[[risks]]\nname = \"server delivery\"\nlead_time = [\"10d\", \"20d\"]\n",
    );
    let plan = two_moves_priced_by(&cost, "").unwrap();
    let day = 86_400.0;
    let planned = SimDuration::from_secs(14 * 86_400);
    let healthy = vec![Observation {
        scope: Scope::Move,
        name: "m".into(),
        metrics: WindowMetrics {
            requests: 10_000,
            failed: 0,
            p99_ms: 50.0,
            availability: 1.0,
        },
        needs_minimum: true,
    }];
    let end_of = |seed: u64| {
        let draws = draw(&plan.risks, seed, planned, orders(&plan));
        let mut m = PlanMachine::new(spec_with(&plan, &draws));
        let mut pending: Vec<(SimTime, PlanAction)> = m
            .start(SimTime::ZERO + plan.begin)
            .into_iter()
            .map(|a| (SimTime::ZERO + plan.begin, a))
            .collect();
        let mut end = None;
        while let Some((now, a)) = (!pending.is_empty()).then(|| pending.remove(0)) {
            let next = match a {
                PlanAction::WakeAt(t) => (t, m.wake(t)),
                PlanAction::Observe { until, .. } => {
                    (until, m.window_closed(until, healthy.clone()))
                }
                PlanAction::Finished { success } => {
                    assert!(success);
                    end = Some(now);
                    (now, Vec::new())
                }
                _ => (now, Vec::new()),
            };
            pending.extend(next.1.into_iter().map(|x| (next.0, x)));
        }
        (end.unwrap().as_secs_f64(), draws.move_leads)
    };
    let s = 18.0 * 3600.0 + 7.0 * day + 7.0 * 660.0;
    let n = 2000;
    let mut within = 0;
    for seed in 0..n {
        let (end, leads) = end_of(seed);
        let late = leads
            .iter()
            .map(|l| ((l - 14.0 * day).max(0.0) / day).ceil() * day)
            .fold(0.0, f64::max);
        assert!(
            (end - (s + late)).abs() < 1e-3,
            "seed {seed}: {end} vs {}",
            s + late
        );
        within += usize::from(end <= s + 3.0 * day);
    }
    let p = within as f64 / n as f64;
    // 0.49 within three standard errors (sqrt(0.49 x 0.51 / 2000) = 0.011).
    assert!((p - 0.49).abs() < 0.034, "{p}");
}

#[test]
fn a_retry_waits_for_the_servers_it_reordered() {
    use cutover::plan::risk::draw;
    use cutover::plan::run::{orders, spec_with};
    use cutover_models::SimDuration;

    let dir = tempfile::tempdir().unwrap();
    let cost = cost_with_risks(
        dir.path(),
        "[[risks]]\nname = \"server delivery\"\nlead_time = [\"10d\", \"20d\"]\n",
    );
    let plan = two_moves_priced_by(
        &cost,
        "on_failure = \"retry\"\nmax_retries = 2\nreorder_on_retry = true\n",
    )
    .unwrap();
    let o = orders(&plan);
    assert_eq!((o.moves, o.retries), (2, 2));
    let draws = draw(&plan.risks, 7, SimDuration::from_secs(14 * 86_400), o);
    let spec = spec_with(&plan, &draws);
    for (m, region) in spec.regions.iter().enumerate() {
        let want: Vec<SimDuration> = draws.retry_leads[m]
            .iter()
            .map(|&s| SimDuration::from_secs_f64(s))
            .collect();
        assert_eq!(region.reorder_leads, want);
        for lead in &region.reorder_leads {
            assert!((10.0..=20.0).contains(&(lead.as_secs_f64() / 86_400.0)));
        }
    }
}

mod invariants {
    use super::*;
    use proptest::prelude::*;

    /// Moves a random plan may make: (old site, city, upstreams).
    const MOVES: [(&str, &str, &str); 3] = [
        ("ams1", "ams", "[65010, 65020]"),
        ("ny1", "nyc", "[65010, 65020]"),
        ("syd1", "syd", "[65010, 65020]"),
    ];

    /// A short plan: `story_plan` over `hours` at a one-minute tick, its
    /// first stage ten minutes in, moves `spacing_min` apart.
    fn short_plan(
        moves: &[(&str, &str, &str)],
        hours: u32,
        spacing_min: u32,
        extra: &str,
    ) -> String {
        let text = story_plan(
            moves,
            &format!("region_spacing = \"{spacing_min}m\"\ndecommission_after = \"5m\"\n{extra}"),
            "",
        );
        let short = text
            .replace(
                "duration = \"1d\"\ntick = \"30s\"",
                &format!("duration = \"{hours}h\"\ntick = \"60s\""),
            )
            .replace("begin = \"18h\"", "begin = \"10m\"");
        assert!(short.contains("tick = \"60s\"") && short.contains("begin = \"10m\""));
        short
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// In random small plans (one to three moves, staged shares, waits
        /// and windows, with or without a cost scenario and a crash), every
        /// request is served, failed or in flight, and every cost total is
        /// the sum of its lines.
        #[test]
        fn requests_and_money_are_conserved_in_random_plans(
            n_moves in 1usize..=3,
            shares in proptest::sample::subsequence(vec!["5%", "25%", "50%", "75%"], 0..=3),
            wait_s in 30u32..120,
            observe_min in 2u32..8,
            spacing_min in 20u32..90,
            rate in 200u32..4000,
            crash_min in proptest::option::of(15u32..150),
            priced in any::<bool>(),
            seed in 0u64..1000,
        ) {
            let mut stages: Vec<String> = shares.iter().map(|s| format!("\"{s}\"")).collect();
            stages.push("\"100%\"".to_string());
            let cost = if priced {
                format!("cost = \"{}\"\n", story().join("../cost-migration.toml").display())
            } else {
                String::new()
            };
            let mut text = short_plan(&MOVES[..n_moves], 3, spacing_min, &cost)
                .replace("base_rate = \"3600/s\"", &format!("base_rate = \"{rate}/s\""))
                .replace("wait = \"60s\"\nobserve = \"10m\"", &format!(
                    "wait = \"{wait_s}s\"\nobserve = \"{observe_min}m\"\nshares = [{}]", stages.join(", ")
                ));
            let rated = format!("\"{rate}/s\"");
            prop_assert!(text.contains("shares = [") && text.contains(&rated));
            if let Some(at) = crash_min {
                text.push_str(&format!("[[failures]]\nkind = \"crash\"\nsite = \"la1\"\nat = \"{at}m\"\n"));
            }
            let o = run(&plan_of(&text), seed).unwrap();
            prop_assert!(!o.stages.is_empty(), "no stage ran: {text}");
            requests::assert_conserved(&o.world.summary, &text);
            let s = &o.world.summary;
            let failed: f64 = s.populations.iter().map(|p| p.tally.failed()).sum();
            prop_assert!((o.slo.requests - s.tally.requests).abs() <= 1e-9 * s.tally.requests.max(1.0));
            prop_assert!((o.slo.failed - failed).abs() <= 1e-6 * failed.max(1.0), "{} vs {failed}", o.slo.failed);
            prop_assert_eq!(o.cost.is_some(), priced);
            if let Some(c) = &o.cost {
                money::assert_money_adds_up(c, &text);
            }
        }
    }
}

/// A drill's crash judged by the estate's recovery objectives: the game
/// day's New York crash is recovered in 80 s, within the story's 5 min
/// P0 RTO; with a 10 s RTO the plan fails and says why.
#[test]
fn a_drill_that_misses_an_rto_fails_the_plan() {
    let mut plan = Plan::load(&story().join("plan-gameday.toml")).unwrap();
    let passed = run(&plan, 1).unwrap();
    assert!(
        passed.recovery_misses().is_empty(),
        "{:?}",
        passed.recovery_misses()
    );
    plan.experiment.estate.services[0].rto = cutover_models::SimDuration::from_secs(10);
    let o = run(&plan, 1).unwrap();
    assert!(!o.success());
    let reasons = o.failure_reasons();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("core transactions (P0) after ny1 crash")
                && r.ends_with("beyond its RTO of 10 s")),
        "{reasons:?}"
    );
}
