//! A load test run through the world: each step of the ramp a window per
//! judged site (after the step's warm-up), the window judged by the load
//! test's gate, the knee of each site the highest step before its first
//! failing one.

use cutover_models::bgp::network::NotSettled;
use cutover_models::SimTime;
use serde::Serialize;

use super::control::WindowFigures;
use super::record::Watched;
use super::{Outcome, World};
use crate::experiment::load_test::{LevelUnit, LoadTest, Stop, Target};
use crate::experiment::Experiment;

/// One judged site's window in one step: a row of `steps.csv`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepRow {
    /// Step, from 0.
    pub step: usize,
    /// The step's level (requests/s at a site, percent of the estate's
    /// demand).
    pub level: f64,
    /// The site.
    pub site: String,
    /// The window's span, seconds (the step's hold less its warm-up).
    pub window_s: f64,
    /// Requests that reached the site in the window.
    pub requests: f64,
    /// Of which failed, every cause.
    pub failed: f64,
    /// Requests per second that reached the site.
    pub requests_per_s: f64,
    /// failed / requests (zero without requests).
    pub error_rate: f64,
    /// 99th percentile latency at the site, ms; none when none was served.
    pub p99_ms: Option<f64>,
    /// Share of the window the site was serving.
    pub availability: f64,
    /// Most ready pods at a tick of the window.
    pub max_pods: usize,
    /// Mean CPU used over the CPU its ready pods offer, per tick.
    pub cpu_utilisation: f64,
    /// Whether the window stayed within the limits.
    pub passed: bool,
    /// The limits it broke, in words ("" when it passed).
    pub failed_limits: String,
}

/// A site's knee.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SiteKnee {
    /// The site.
    pub site: String,
    /// "reached": a step failed and the knee is the step before (none
    /// when the first step failed); "not reached": no step failed.
    pub status: &'static str,
    /// The highest step before the first failing one (the last step run
    /// when none failed).
    pub knee_step: Option<usize>,
    /// Its level.
    pub knee_level: Option<f64>,
    /// Requests per second that reached the site at the knee step.
    pub knee_requests_per_s: Option<f64>,
    /// Ready pods at the knee step (its most).
    pub knee_pods: Option<usize>,
    /// Whether the knee step ran at the HPA's `max_replicas`.
    pub knee_at_max_replicas: Option<bool>,
    /// The first failing step.
    pub first_failure_step: Option<usize>,
    /// Its level.
    pub first_failure_level: Option<f64>,
    /// The limits it broke, in words.
    pub first_failure_limits: Option<String>,
}

/// What a load test found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoadTestResult {
    /// A site's tag, or "estate".
    pub target: String,
    /// What a level counts.
    pub unit: LevelUnit,
    /// Each step's duration, seconds.
    pub hold_s: f64,
    /// The start of each step left out of its window, seconds.
    pub warmup_s: f64,
    /// The p99 limit, ms (a window must stay below).
    pub max_p99_ms: f64,
    /// The error-rate limit (a window must stay below).
    pub max_error_rate: f64,
    /// Fewest requests a targeted site's window needs to pass.
    pub min_requests: u64,
    /// When the ramp ends.
    pub stop: Stop,
    /// The steps planned.
    pub steps_planned: usize,
    /// The steps run.
    pub steps_run: usize,
    /// The HPA's `max_replicas`.
    pub max_replicas: i32,
    /// Each judged site's knee.
    pub sites: Vec<SiteKnee>,
    /// Every judged site's window of every step run, step by step.
    #[serde(skip)]
    pub steps: Vec<StepRow>,
}

/// Runs `exp` with its load test `lt` (its `[load_test]`) and `seed`:
/// the world's outcome and what the ramp found.
pub fn run(
    exp: &Experiment,
    lt: &LoadTest,
    seed: u64,
) -> Result<(Outcome, LoadTestResult), NotSettled> {
    let mut world = World::new(exp, seed)?;
    let judged: Vec<usize> = (0..exp.estate.sites.len()).collect();
    let mut steps = Vec::new();
    for n in 0..lt.levels.len() {
        let rows = world.load_step(lt, n, &judged);
        let failed = rows.iter().any(|r| !r.passed);
        steps.extend(rows);
        if failed && lt.stop == Stop::FirstFailure {
            world.end_at(world.now());
            break;
        }
    }
    let result = result(exp, lt, steps);
    Ok((world.run(), result))
}

impl World<'_> {
    /// Runs step `n` of the ramp and judges each site of `judged` over
    /// the step's window.
    fn load_step(&mut self, lt: &LoadTest, n: usize, judged: &[usize]) -> Vec<StepRow> {
        let start = SimTime::ZERO + lt.step_start(n);
        let open = start + lt.warmup;
        let end = start + lt.hold;
        self.run_until(open);
        let windows: Vec<usize> = judged
            .iter()
            .map(|&k| self.open_window(Watched::Site(k)))
            .collect();
        let mut max_pods = vec![0usize; judged.len()];
        let mut load = vec![0.0f64; judged.len()];
        let mut ticks = 0u64;
        let mut t = open;
        while t < end {
            t += self.exp.tick;
            self.run_until(t);
            ticks += 1;
            for (i, &k) in judged.iter().enumerate() {
                max_pods[i] = max_pods[i].max(self.sites[k].ready.len());
                load[i] += self.sites[k].load;
            }
        }
        let window_s = end.saturating_since(open).as_secs_f64();
        judged
            .iter()
            .zip(windows)
            .enumerate()
            .map(|(i, (&k, id))| {
                let figures = self.close_window(id).unwrap_or_default();
                let needs_minimum = matches!(lt.target, Target::Site(_));
                let breaches = lt.gate.breaches(&figures.gate_metrics(), needs_minimum);
                StepRow {
                    step: n,
                    level: lt.levels[n],
                    site: self.exp.estate.sites[k].network.tag.clone(),
                    window_s,
                    requests: figures.requests,
                    failed: figures.failed,
                    requests_per_s: figures.requests / window_s,
                    error_rate: error_rate(&figures),
                    p99_ms: figures.p99_s.map(|s| s * 1e3),
                    availability: figures.availability,
                    max_pods: max_pods[i],
                    cpu_utilisation: load[i] / ticks.max(1) as f64,
                    passed: breaches.is_empty(),
                    failed_limits: breaches.join("; "),
                }
            })
            .collect()
    }
}

fn error_rate(f: &WindowFigures) -> f64 {
    if f.requests > 0.0 {
        f.failed / f.requests
    } else {
        0.0
    }
}

/// Each judged site's knee from the steps' rows.
fn result(exp: &Experiment, lt: &LoadTest, steps: Vec<StepRow>) -> LoadTestResult {
    let max_replicas = exp.estate.deployment.hpa.max_replicas;
    let sites = exp
        .estate
        .sites
        .iter()
        .map(|s| knee(&s.network.tag, &steps, max_replicas))
        .collect();
    LoadTestResult {
        target: match &lt.target {
            Target::Site(tag) => tag.clone(),
            Target::Estate => "estate".to_string(),
        },
        unit: lt.unit,
        hold_s: lt.hold.as_secs_f64(),
        warmup_s: lt.warmup.as_secs_f64(),
        max_p99_ms: lt.gate.max_p99_ms,
        max_error_rate: lt.gate.max_error_rate,
        min_requests: lt.gate.min_requests,
        stop: lt.stop,
        steps_planned: lt.levels.len(),
        steps_run: steps.iter().map(|r| r.step + 1).max().unwrap_or(0),
        max_replicas,
        sites,
        steps,
    }
}

/// Site `tag`'s knee: the step before its first failing one, or its last
/// step run when none failed.
fn knee(tag: &str, steps: &[StepRow], max_replicas: i32) -> SiteKnee {
    let rows: Vec<&StepRow> = steps.iter().filter(|r| r.site == tag).collect();
    let first_failure = rows.iter().position(|r| !r.passed);
    let knee_row = match first_failure {
        Some(i) => i.checked_sub(1).map(|i| rows[i]),
        None => rows.last().copied(),
    };
    let failure_row = first_failure.map(|i| rows[i]);
    SiteKnee {
        site: tag.to_string(),
        status: if first_failure.is_some() {
            "reached"
        } else {
            "not reached"
        },
        knee_step: knee_row.map(|r| r.step),
        knee_level: knee_row.map(|r| r.level),
        knee_requests_per_s: knee_row.map(|r| r.requests_per_s),
        knee_pods: knee_row.map(|r| r.max_pods),
        knee_at_max_replicas: knee_row.map(|r| r.max_pods as i64 >= i64::from(max_replicas)),
        first_failure_step: failure_row.map(|r| r.step),
        first_failure_level: failure_row.map(|r| r.level),
        first_failure_limits: failure_row.map(|r| r.failed_limits.clone()),
    }
}
