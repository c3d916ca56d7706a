//! Plan files: an experiment on an estate (its sites added, traffic and
//! failures) with a `[plan]` that moves traffic from old sites to new ones,
//! stage by stage, and `[[moves]]` naming each pair.
//!
//! ```toml
//! [plan]
//! start = "2027-02-01"          # calendar day of time zero
//! begin = "18h"                 # first stage
//! region_spacing = "7d"         # one move a week
//! decommission_after = "6d"     # old site kept idle, then stopped
//! on_failure = "retry"          # or "abort"
//! retry_delay = "7d"
//! max_retries = 1
//! reorder_on_retry = true       # servers re-ordered at a rollback; the retry waits for them
//! slo = "99.95%"                # default: the estate's [slo]
//! cost = "../cost-migration.toml" # settings that price this plan's own fleet
//! dual_running_budget = "60000 USD"
//! final_monthly_budget = "5500 USD"
//! l7_extra_hop = "1ms"          # the proxy's own hop for L7 stages
//!
//! [plan.stages]
//! mechanism = "bgp"             # or "l7"
//! shares = ["1%", "5%", "10%", "25%", "50%", "75%", "100%"]
//! wait = "120s"
//! observe = "30m"               # or one per stage
//! unreachable = "l7"            # a share BGP cannot reach: "fail", "l7", "proceed"
//! tolerance = "2%"              # how near BGP must come
//! max_prepends = 3
//!
//! [plan.gate]
//! max_error_rate = "1%"
//! max_p99 = "200ms"
//! min_requests = 1000
//! min_availability = "99%"      # share of the window's time up (default: not judged)
//! scope = ["move", "sites", "populations"]   # default ["move"]
//!
//! [plan.gate.populations]       # one scope's own thresholds (else the gate's)
//! max_p99 = "300ms"             # users' latency, network included
//!
//! [[moves]]
//! from = "ams1"
//! to = "ams1-metal"             # a site added in [[sites]], announce = false
//! ```

use std::path::{Path, PathBuf};

use cutover_models::cost::money::parse_money;
use cutover_models::cost::{Currency, Date, Money};
use cutover_models::plan::{
    FailurePolicy, Gate, Gates, Mechanism, PlanSpec, RegionPlan, Scope, StageSpec,
};
use cutover_models::SimDuration;
use serde::Deserialize;

use super::resolve::{self, CatchmentModel, MoveSites, ResolvedStage, Unreachable};
use crate::estate::network::relative_to;
use crate::experiment::{Experiment, Failure, RawExperiment};
use crate::scenario::cost::{parse_percent, CostScenario};
use crate::scenario::fleet::Fleet;
use crate::scenario::units::Duration;
use crate::scenario::{InputError, Source};

/// Default stages: the reference story's 1 -> 5 -> 10 -> 25 -> 50 -> 75 -> 100 %.
pub const DEFAULT_SHARES: [f64; 7] = [0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 1.0];
/// Default wait after each change: the story's 120 s for BGP convergence.
pub const DEFAULT_WAIT: SimDuration = SimDuration::from_secs(120);
/// Default observation window: the story's 30 minutes of health checks.
pub const DEFAULT_OBSERVE: SimDuration = SimDuration::from_secs(1800);
/// Default gate: the story's error rate below 1 % and p99 below 200 ms.
pub const DEFAULT_GATE: Gate = Gate {
    max_error_rate: 0.01,
    max_p99_ms: 200.0,
    min_requests: 1000,
    min_availability: 0.0,
};
/// The scopes a gate may read, as a plan file names them.
pub const SCOPES: [(&str, Scope); 3] = [
    ("move", Scope::Move),
    ("sites", Scope::Site),
    ("populations", Scope::Population),
];
/// Default distance a BGP stage may miss its share by: 2 percentage points
/// (assumption: a planner's "about 1 %" stage is not moved at 3 %).
pub const DEFAULT_TOLERANCE: f64 = 0.02;
/// Default most prepends tried on one site: 3, past which operators see no
/// further effect on most paths (Chang and Lo, "Inter-domain traffic
/// engineering using AS path prepending", 2005: most prepending is 1-3).
pub const DEFAULT_MAX_PREPENDS: u8 = 3;
/// Most prepends a plan may try.
pub const MAX_PREPENDS: i64 = 10;
/// Default plan start, for the cost layer's calendar.
pub const DEFAULT_START: &str = "2027-02-01";

/// `[plan]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPlan {
    start: Option<String>,
    begin: Option<Duration>,
    decommission_after: Option<Duration>,
    cost: Option<String>,
    region_spacing: Option<Duration>,
    on_failure: Option<String>,
    retry_delay: Option<Duration>,
    max_retries: Option<i64>,
    slo: Option<String>,
    dual_running_budget: Option<String>,
    final_monthly_budget: Option<String>,
    l7_extra_hop: Option<Duration>,
    #[serde(default)]
    stages: RawStages,
    #[serde(default)]
    gate: RawGate,
    #[serde(default)]
    drills: Vec<RawDrill>,
    #[serde(default)]
    risks: Vec<crate::scenario::risk::RawRisk>,
    reorder_on_retry: Option<bool>,
}

/// `[[plan.drills]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDrill {
    failure: i64,
    #[serde(rename = "move")]
    move_from: String,
    stage: String,
}

/// A failure that strikes relative to a stage of a move.
#[derive(Debug, Clone)]
pub struct Drill {
    /// The failure; its `at` counts from the stage's first application.
    pub failure: Failure,
    /// Index of the move.
    pub move_index: usize,
    /// The stage's share.
    pub share: f64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStages {
    shares: Option<Vec<String>>,
    mechanism: Option<String>,
    wait: Option<Duration>,
    observe: Option<OneOrMany>,
    unreachable: Option<String>,
    tolerance: Option<String>,
    max_prepends: Option<i64>,
}

/// Thresholds as written, for the gate or one scope.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThresholds {
    max_error_rate: Option<String>,
    max_p99: Option<Duration>,
    min_requests: Option<i64>,
    min_availability: Option<String>,
}

/// `[plan.gate]` as written: thresholds, the scopes they judge, and any
/// scope's own thresholds.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGate {
    max_error_rate: Option<String>,
    max_p99: Option<Duration>,
    min_requests: Option<i64>,
    min_availability: Option<String>,
    scope: Option<Vec<String>>,
    #[serde(rename = "move")]
    on_move: Option<RawThresholds>,
    sites: Option<RawThresholds>,
    populations: Option<RawThresholds>,
}

/// `[[moves]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMove {
    pub(crate) from: String,
    pub(crate) to: String,
    shares: Option<Vec<String>>,
}

/// One duration for every stage, or one per stage.
#[derive(Debug)]
enum OneOrMany {
    One(Duration),
    Many(Vec<Duration>),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("one duration for every stage (e.g. \"1h\") or a list with one per stage (e.g. [\"30m\", \"1h\"])")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<OneOrMany, E> {
                crate::scenario::units::parse_duration(s)
                    .map(|d| OneOrMany::One(Duration(d)))
                    .map_err(E::custom)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<OneOrMany, A::Error> {
                let mut all = Vec::new();
                while let Some(d) = seq.next_element::<Duration>()? {
                    all.push(d);
                }
                Ok(OneOrMany::Many(all))
            }
        }
        d.deserialize_any(V)
    }
}

/// One move: traffic of an old site's users shifted to a new site.
#[derive(Debug, Clone)]
pub struct Move {
    /// The old site's tag, which names the move (and the cost layer's site).
    pub name: String,
    /// Index of the old site.
    pub old: usize,
    /// Index of the new site.
    pub new: usize,
    /// Populations the old site serves before the plan.
    pub users: Vec<usize>,
    /// Every BGP setting tried and the share it reaches.
    pub reachable: Vec<resolve::Reachable>,
    /// The stages as they will run.
    pub stages: Vec<ResolvedStage>,
}

/// A validated plan on its world.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The world: the estate with the plan's sites, traffic and failures;
    /// its duration is the longest the plan may take.
    pub experiment: Experiment,
    /// The stages, gates and pacing the plan machine runs.
    pub spec: PlanSpec,
    /// The moves, in plan order.
    pub moves: Vec<Move>,
    /// Failures that strike at a stage (taken out of the experiment's).
    pub drills: Vec<Drill>,
    /// What is uncertain, drawn in every replication: the cost
    /// scenario's `[[risks]]`, then the plan's `[[plan.risks]]`.
    pub risks: Vec<super::risk::Risk>,
    /// Servers are re-ordered for a retry (at the rollback), and the retry
    /// waits for them.
    pub reorder_on_retry: bool,
    /// Calendar day of simulated time zero (midnight).
    pub start: Date,
    /// Time of the first stage, from time zero.
    pub begin: SimDuration,
    /// How long an old site is kept (idle) after its move reached 100 %.
    pub decommission_after: SimDuration,
    /// Availability objective over the plan, e.g. 0.9995.
    pub slo: f64,
    /// Latency the L7 proxy adds to a request it forwards.
    pub l7_extra_hop: SimDuration,
    /// The cost scenario that prices the plan, and its file.
    pub cost: Option<(PathBuf, CostScenario)>,
    /// Limit on the dual-running cost.
    pub dual_running_budget: Option<(Money, Currency)>,
    /// Limit on the monthly cost after the plan.
    pub final_monthly_budget: Option<(Money, Currency)>,
}

impl Plan {
    /// Reads and validates the plan file at `path`, its estate and the cost
    /// scenario it names.
    pub fn load(path: &Path) -> Result<Plan, InputError> {
        Self::from_source(&Source::read(path)?)
    }

    /// Validates a plan file already read into `source`.
    pub fn from_source(source: &Source) -> Result<Plan, InputError> {
        let raw: RawExperiment = source.parse()?;
        let Some(p) = &raw.plan else {
            return Err(source.field_error("plan", "missing; allowed: a [plan] section"));
        };
        let mut experiment = Experiment::from_raw(source, &raw)?;
        let stages = stage_settings(source, &p.stages)?;
        let moves = moves(source, &raw.moves, &experiment, &stages)?;
        let drills = drills(source, &p.drills, &mut experiment, &moves)?;
        let spec = PlanSpec {
            regions: moves
                .iter()
                .map(|m| region_plan(m, &stages, gate(source, &p.gate)))
                .collect::<Result<Vec<_>, _>>()?,
            region_spacing: p.region_spacing.map_or(SimDuration::ZERO, |d| d.0),
            on_failure: failure_policy(source, p)?,
        };
        let start = Date::parse(p.start.as_deref().unwrap_or(DEFAULT_START))
            .map_err(|m| source.field_error("plan.start", m))?;
        experiment.calendar = Some(start);
        let begin = p.begin.map_or(SimDuration::ZERO, |d| d.0);
        if begin >= experiment.duration {
            return Err(source.field_error(
                "plan.begin",
                format!(
                    "{begin} is not before the end of the run ({}); allowed: a time within experiment.duration",
                    experiment.duration
                ),
            ));
        }
        let slo = match &p.slo {
            Some(s) => fraction(source, "plan.slo", s, 0.5, 0.999_999)?,
            None => experiment.estate.slo.availability,
        };
        let fleet = Fleet {
            estate: experiment.estate.clone(),
            moves: raw
                .moves
                .iter()
                .map(|m| (m.from.clone(), m.to.clone()))
                .collect(),
        };
        let cost = cost_scenario(source, p, &fleet)?;
        let risks = risks(source, &p.risks, cost.as_ref())?;
        Ok(Plan {
            spec,
            moves,
            drills,
            risks,
            reorder_on_retry: p.reorder_on_retry.unwrap_or(false),
            start,
            begin,
            decommission_after: p.decommission_after.map_or(SimDuration::ZERO, |d| d.0),
            slo,
            l7_extra_hop: p.l7_extra_hop.map_or(SimDuration::ZERO, |d| d.0),
            cost,
            dual_running_budget: budget(
                source,
                "plan.dual_running_budget",
                &p.dual_running_budget,
            )?,
            final_monthly_budget: budget(
                source,
                "plan.final_monthly_budget",
                &p.final_monthly_budget,
            )?,
            experiment,
        })
    }

    /// The plan's name.
    pub fn name(&self) -> &str {
        &self.experiment.name
    }
}

/// `[plan.stages]`, validated.
struct StageSettings {
    mechanism: Mechanism,
    shares: Vec<f64>,
    wait: SimDuration,
    observe: Option<OneOrManyValid>,
    unreachable: Unreachable,
    tolerance: f64,
    max_prepends: u8,
}

enum OneOrManyValid {
    One(SimDuration),
    Many(Vec<SimDuration>),
}

fn stage_settings(source: &Source, raw: &RawStages) -> Result<StageSettings, InputError> {
    let mechanism = match raw.mechanism.as_deref().unwrap_or("bgp") {
        "bgp" => Mechanism::Bgp,
        "l7" => Mechanism::L7Weight,
        other => {
            return Err(source.field_error(
                "plan.stages.mechanism",
                format!(
                    "`{other}`; allowed: \"bgp\" (announce and prepend) or \"l7\" (proxy weights)"
                ),
            ))
        }
    };
    let observe = match &raw.observe {
        None => None,
        Some(OneOrMany::One(d)) => Some(OneOrManyValid::One(positive(
            source,
            "plan.stages.observe",
            d.0,
        )?)),
        Some(OneOrMany::Many(v)) => Some(OneOrManyValid::Many(
            v.iter()
                .map(|d| positive(source, "plan.stages.observe", d.0))
                .collect::<Result<_, _>>()?,
        )),
    };
    let unreachable = match raw.unreachable.as_deref() {
        None => Unreachable::Fail,
        Some(name) => Unreachable::parse(name).ok_or_else(|| {
            source.field_error(
                "plan.stages.unreachable",
                format!("`{name}`; allowed: {}", Unreachable::NAMES),
            )
        })?,
    };
    Ok(StageSettings {
        mechanism,
        shares: match &raw.shares {
            Some(list) => shares(source, "plan.stages.shares", list)?,
            None => DEFAULT_SHARES.to_vec(),
        },
        wait: raw.wait.map_or(DEFAULT_WAIT, |d| d.0),
        observe,
        unreachable,
        tolerance: match &raw.tolerance {
            Some(t) => fraction(source, "plan.stages.tolerance", t, 0.0, 1.0)?,
            None => DEFAULT_TOLERANCE,
        },
        max_prepends: match raw.max_prepends {
            Some(v) => count(source, "plan.stages.max_prepends", v, 0, MAX_PREPENDS)? as u8,
            None => DEFAULT_MAX_PREPENDS,
        },
    })
}

/// The moves, each with its users and its stages resolved on the BGP model.
fn moves(
    source: &Source,
    raw: &[RawMove],
    exp: &Experiment,
    stages: &StageSettings,
) -> Result<Vec<Move>, InputError> {
    if raw.is_empty() {
        return Err(source.field_error("moves", "no [[moves]]; allowed: one or more"));
    }
    let estate = &exp.estate;
    let announcements = estate.announcements();
    let model = CatchmentModel {
        topology: &exp.topology,
        announcements: &announcements,
        latency: &estate.network.latency,
        decision: estate.network.bgp.decision,
    };
    let before = cutover_models::bgp::catchment::compute(
        model.topology,
        model.announcements,
        model.latency,
        model.decision,
    )
    .map_err(|e| {
        source.field_error(
            "moves",
            format!("the estate's BGP has no steady state: {e}"),
        )
    })?;
    let mut out: Vec<Move> = Vec::new();
    for (i, m) in raw.iter().enumerate() {
        let at = format!("moves[{i}]");
        let old = site_of(source, &format!("{at}.from"), exp, &m.from)?;
        let new = site_of(source, &format!("{at}.to"), exp, &m.to)?;
        check_pair(source, &at, exp, old, new, &out)?;
        let users: Vec<usize> = (0..before.rows.len())
            .filter(|&p| before.rows[p].site == Some(old))
            .collect();
        if users.is_empty() {
            return Err(source.field_error(
                &format!("{at}.from"),
                format!("site `{}` serves no users before the plan; allowed: a site whose catchment is not empty", m.from),
            ));
        }
        let sites = MoveSites {
            old,
            new,
            users: &users,
        };
        let reachable = model.reachable(sites, stages.max_prepends).map_err(|e| {
            source.field_error(
                &at,
                format!("BGP has no steady state for a knob setting: {e}"),
            )
        })?;
        let shares = match &m.shares {
            Some(list) => self::shares(source, &format!("{at}.shares"), list)?,
            None => stages.shares.clone(),
        };
        check_stage_count(source, &at, &shares, stages)?;
        let resolved = shares
            .iter()
            .map(|&share| stage(source, &at, m, share, &reachable, stages))
            .collect::<Result<Vec<_>, _>>()?;
        out.push(Move {
            name: m.from.clone(),
            old,
            new,
            users,
            reachable,
            stages: resolved,
        });
    }
    Ok(out)
}

/// The drills, their failures taken out of the experiment's list (which
/// strikes from the start).
fn drills(
    source: &Source,
    raw: &[RawDrill],
    exp: &mut Experiment,
    moves: &[Move],
) -> Result<Vec<Drill>, InputError> {
    let mut out: Vec<(usize, Drill)> = Vec::new();
    for (i, d) in raw.iter().enumerate() {
        let at = format!("plan.drills[{i}]");
        let n = exp.failures.len();
        let index = usize::try_from(d.failure)
            .ok()
            .filter(|&f| f < n)
            .ok_or_else(|| {
                source.field_error(
                    &format!("{at}.failure"),
                    format!(
                        "{}; allowed: the index of one of the {n} [[failures]], from 0",
                        d.failure
                    ),
                )
            })?;
        if out.iter().any(|(f, _)| *f == index) {
            return Err(source.field_error(
                &format!("{at}.failure"),
                format!(
                    "failures[{index}] is already in a drill; allowed: each failure in one drill"
                ),
            ));
        }
        let move_index = moves
            .iter()
            .position(|m| m.name == d.move_from)
            .ok_or_else(|| {
                let names: Vec<&str> = moves.iter().map(|m| m.name.as_str()).collect();
                source.field_error(
                    &format!("{at}.move"),
                    format!(
                        "no move from `{}`; allowed: {}",
                        d.move_from,
                        names.join(", ")
                    ),
                )
            })?;
        let share = fraction(source, &format!("{at}.stage"), &d.stage, 0.0, 1.0)?;
        if !moves[move_index].stages.iter().any(|s| s.asked == share) {
            return Err(source.field_error(
                &format!("{at}.stage"),
                format!(
                    "`{}` is not a stage of {}; allowed: one of its stage shares",
                    d.stage, d.move_from
                ),
            ));
        }
        out.push((
            index,
            Drill {
                failure: exp.failures[index].clone(),
                move_index,
                share,
            },
        ));
    }
    let drilled: Vec<usize> = out.iter().map(|(f, _)| *f).collect();
    let mut i = 0;
    exp.failures.retain(|_| {
        i += 1;
        !drilled.contains(&(i - 1))
    });
    Ok(out.into_iter().map(|(_, d)| d).collect())
}

/// One stage of a move, resolved. The last stage (100 %) announces the
/// new site and withdraws the old one whatever the mechanism, so the old
/// site can be decommissioned.
fn stage(
    source: &Source,
    at: &str,
    m: &RawMove,
    share: f64,
    reachable: &[resolve::Reachable],
    stages: &StageSettings,
) -> Result<ResolvedStage, InputError> {
    if stages.mechanism == Mechanism::L7Weight && share < 1.0 {
        return Ok(ResolvedStage {
            asked: share,
            action: resolve::Action::L7 { weight: share },
            reached: share,
        });
    }
    resolve::resolve(share, reachable, stages.unreachable, stages.tolerance).map_err(|nearest| {
        let mut all: Vec<String> = reachable
            .iter()
            .map(|r| format!("{:.1} %", 100.0 * r.share + 0.0))
            .collect();
        all.dedup();
        source.field_error(
            &format!("{at}.to"),
            format!(
                "asked {:.1} % of {}'s users, nearest by BGP {:.1} % ({}); reachable: {}; allowed: a share within plan.stages.tolerance of one of those, or plan.stages.unreachable = \"l7\" or \"proceed\"",
                100.0 * share,
                m.from,
                100.0 * nearest.share + 0.0,
                resolve::Action::Bgp(nearest.knobs).describe(&m.from, &m.to),
                all.join(", ")
            ),
        )
    })
}

/// The last stage moves everything (the old site is then withdrawn and
/// decommissioned), and a list of windows has one per stage.
fn check_stage_count(
    source: &Source,
    at: &str,
    shares: &[f64],
    stages: &StageSettings,
) -> Result<(), InputError> {
    if shares.last() != Some(&1.0) {
        return Err(source.field_error(
            &format!("{at}.shares"),
            "the last stage is below 100 %; allowed: shares ending at \"100%\" (the old site is then withdrawn and decommissioned)",
        ));
    }
    if let Some(OneOrManyValid::Many(v)) = &stages.observe {
        if v.len() != shares.len() {
            return Err(source.field_error(
                "plan.stages.observe",
                format!(
                    "{} windows for the {} stages of {at}; allowed: one duration, or one per stage",
                    v.len(),
                    shares.len()
                ),
            ));
        }
    }
    Ok(())
}

fn site_of(source: &Source, field: &str, exp: &Experiment, tag: &str) -> Result<usize, InputError> {
    exp.estate.site_index(tag).ok_or_else(|| {
        source.field_error(
            field,
            format!("unknown site `{tag}`; allowed: {}", exp.estate.site_tags()),
        )
    })
}

/// A move's two sites must differ, the new one must not announce yet, and
/// no site may be in two moves.
fn check_pair(
    source: &Source,
    at: &str,
    exp: &Experiment,
    old: usize,
    new: usize,
    earlier: &[Move],
) -> Result<(), InputError> {
    let sites = &exp.estate.sites;
    if old == new {
        return Err(source.field_error(
            &format!("{at}.to"),
            "the same site as `from`; allowed: another site",
        ));
    }
    if sites[new].network.announcement.announce {
        return Err(source.field_error(
            &format!("{at}.to"),
            format!(
                "site `{}` announces before the plan; allowed: a site with announce = false (the plan announces it)",
                sites[new].network.tag
            ),
        ));
    }
    if !sites[old].network.announcement.announce {
        return Err(source.field_error(
            &format!("{at}.from"),
            format!(
                "site `{}` does not announce; allowed: a site that serves users",
                sites[old].network.tag
            ),
        ));
    }
    for m in earlier {
        for (k, field) in [(old, "from"), (new, "to")] {
            if k == m.old || k == m.new {
                return Err(source.field_error(
                    &format!("{at}.{field}"),
                    format!(
                        "site `{}` is already in an earlier move; allowed: each site in one move",
                        sites[k].network.tag
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn region_plan(
    m: &Move,
    s: &StageSettings,
    gates: Result<Gates, InputError>,
) -> Result<RegionPlan, InputError> {
    let gates = gates?;
    let observe = |i: usize| match &s.observe {
        None => DEFAULT_OBSERVE,
        Some(OneOrManyValid::One(d)) => *d,
        Some(OneOrManyValid::Many(v)) => v.get(i).copied().unwrap_or(DEFAULT_OBSERVE),
    };
    Ok(RegionPlan {
        name: m.name.clone(),
        mechanism: s.mechanism,
        stages: m
            .stages
            .iter()
            .enumerate()
            .map(|(i, st)| StageSpec {
                share: st.asked,
                wait: s.wait,
                observe: observe(i),
            })
            .collect(),
        gates,
        ready_at: cutover_models::SimTime::ZERO,
        reorder_leads: Vec::new(),
    })
}

/// The gates of `[plan.gate]`: each scope named in `scope` with its own
/// thresholds, each defaulting to the gate's, then to [`DEFAULT_GATE`].
fn gate(source: &Source, g: &RawGate) -> Result<Gates, InputError> {
    let written = RawThresholds {
        max_error_rate: g.max_error_rate.clone(),
        max_p99: g.max_p99,
        min_requests: g.min_requests,
        min_availability: g.min_availability.clone(),
    };
    let base = thresholds(source, "plan.gate", &written, &DEFAULT_GATE)?;
    let names: Vec<&str> = match &g.scope {
        None => vec!["move"],
        Some(list) if list.is_empty() => {
            return Err(source.field_error(
                "plan.gate.scope",
                "empty; allowed: one or more of \"move\", \"sites\", \"populations\"",
            ))
        }
        Some(list) => list.iter().map(String::as_str).collect(),
    };
    let mut scopes: Vec<(Scope, Gate)> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let field = format!("plan.gate.scope[{i}]");
        let Some(&(_, scope)) = SCOPES.iter().find(|(n, _)| n == name) else {
            return Err(source.field_error(
                &field,
                format!("`{name}`; allowed: \"move\" (the new site and the users lost on the way), \"sites\" (each of the move's two sites), \"populations\" (each population the move touches)"),
            ));
        };
        if scopes.iter().any(|(s, _)| *s == scope) {
            return Err(
                source.field_error(&field, format!("`{name}` twice; allowed: each scope once"))
            );
        }
        let own = scope_thresholds(g, scope)
            .map(|t| thresholds(source, &format!("plan.gate.{name}"), t, &base))
            .transpose()?;
        scopes.push((scope, own.unwrap_or(base)));
    }
    for (name, scope) in SCOPES {
        if scope_thresholds(g, scope).is_some() && !scopes.iter().any(|(s, _)| *s == scope) {
            return Err(source.field_error(
                &format!("plan.gate.{name}"),
                format!("thresholds for a scope the gate does not read; allowed: add \"{name}\" to plan.gate.scope"),
            ));
        }
    }
    scopes.sort_by_key(|(s, _)| *s);
    Ok(Gates { scopes })
}

/// `[plan.gate.<scope>]`, if written.
fn scope_thresholds(g: &RawGate, scope: Scope) -> Option<&RawThresholds> {
    match scope {
        Scope::Move => g.on_move.as_ref(),
        Scope::Site => g.sites.as_ref(),
        Scope::Population => g.populations.as_ref(),
    }
}

/// Thresholds at `at`, each defaulting to `base`'s.
fn thresholds(
    source: &Source,
    at: &str,
    t: &RawThresholds,
    base: &Gate,
) -> Result<Gate, InputError> {
    Ok(Gate {
        max_error_rate: match &t.max_error_rate {
            Some(s) => fraction(source, &format!("{at}.max_error_rate"), s, 0.0, 1.0)?,
            None => base.max_error_rate,
        },
        max_p99_ms: t
            .max_p99
            .map_or(base.max_p99_ms, |d| d.0.as_secs_f64() * 1e3),
        min_requests: match t.min_requests {
            Some(v) => u64::from(count(
                source,
                &format!("{at}.min_requests"),
                v,
                0,
                i64::from(u32::MAX),
            )?),
            None => base.min_requests,
        },
        min_availability: match &t.min_availability {
            Some(s) => fraction(source, &format!("{at}.min_availability"), s, 0.0, 1.0)?,
            None => base.min_availability,
        },
    })
}

fn failure_policy(source: &Source, p: &RawPlan) -> Result<FailurePolicy, InputError> {
    match p.on_failure.as_deref().unwrap_or("abort") {
        "abort" => Ok(FailurePolicy::Abort),
        "retry" => Ok(FailurePolicy::Retry {
            delay: p
                .retry_delay
                .map_or(SimDuration::from_secs(7 * 86_400), |d| d.0),
            max_retries: count(
                source,
                "plan.max_retries",
                p.max_retries.unwrap_or(1),
                0,
                100,
            )?,
        }),
        other => Err(source.field_error(
            "plan.on_failure",
            format!("`{other}`; allowed: \"abort\" or \"retry\""),
        )),
    }
}

/// The cost scenario's risks, then the plan's own; a name is declared once.
fn risks(
    source: &Source,
    raw: &[crate::scenario::risk::RawRisk],
    cost: Option<&(PathBuf, CostScenario)>,
) -> Result<Vec<super::risk::Risk>, InputError> {
    let own = crate::scenario::risk::validate(source, "plan.risks", raw, cost.map(|c| &c.1))?;
    let mut all = cost.map_or(Vec::new(), |c| c.1.risks.clone());
    for (i, r) in own.into_iter().enumerate() {
        if let Some((file, _)) = cost.filter(|c| c.1.risks.iter().any(|x| x.name == r.name)) {
            return Err(source.field_error(
                &format!("plan.risks[{i}].name"),
                format!(
                    "`{}` is declared in the cost scenario `{}` too; allowed: another name",
                    r.name,
                    file.display()
                ),
            ));
        }
        all.push(r);
    }
    if all.len() > super::risk::MAX_RISKS {
        return Err(source.field_error(
            "plan.risks",
            format!(
                "{} risks with the cost scenario's; allowed: at most {}",
                all.len(),
                super::risk::MAX_RISKS
            ),
        ));
    }
    Ok(all)
}

/// The cost projection `plan.cost` names, pricing the plan's own `fleet`
/// (its estate, new sites and moves) with the projection's settings.
fn cost_scenario(
    source: &Source,
    p: &RawPlan,
    fleet: &Fleet,
) -> Result<Option<(PathBuf, CostScenario)>, InputError> {
    let Some(file) = &p.cost else {
        return Ok(None);
    };
    let path = relative_to(source, file);
    let cost_source = Source::read(&path).map_err(|e| match e {
        InputError::Read { path, reason } => source.field_error(
            "plan.cost",
            format!("cannot read `{}`: {reason}", path.display()),
        ),
        other => other,
    })?;
    let c = CostScenario::with_fleet(&cost_source, Some(fleet))?;
    if c.model.migration.is_none() {
        return Err(source.field_error(
            "plan.cost",
            format!("`{file}` has no [migration]; allowed: a cost scenario with one, whose sites the plan's moves name"),
        ));
    }
    Ok(Some((PathBuf::from(file), c)))
}

fn budget(
    source: &Source,
    field: &str,
    text: &Option<String>,
) -> Result<Option<(Money, Currency)>, InputError> {
    text.as_deref().map(|t| money(source, field, t)).transpose()
}

fn fraction(source: &Source, field: &str, text: &str, lo: f64, hi: f64) -> Result<f64, InputError> {
    let v = parse_percent(text).map_err(|m| source.field_error(field, m))?;
    if !(lo..=hi).contains(&v) {
        return Err(source.field_error(
            field,
            format!("`{text}`; allowed: {}% to {}%", lo * 100.0, hi * 100.0),
        ));
    }
    Ok(v)
}

fn count(source: &Source, field: &str, v: i64, lo: i64, hi: i64) -> Result<u32, InputError> {
    if v < lo || v > hi {
        return Err(source.field_error(field, format!("{v}; allowed: {lo} to {hi}")));
    }
    Ok(v as u32)
}

fn positive(source: &Source, field: &str, d: SimDuration) -> Result<SimDuration, InputError> {
    if d == SimDuration::ZERO {
        return Err(source.field_error(field, "0; allowed: a duration above zero"));
    }
    Ok(d)
}

fn money(source: &Source, field: &str, text: &str) -> Result<(Money, Currency), InputError> {
    let (m, c) = parse_money(text).map_err(|e| source.field_error(field, e))?;
    if m < Money::ZERO {
        return Err(source.field_error(
            field,
            format!("`{text}` is negative; allowed: zero or more"),
        ));
    }
    Ok((m, c))
}

fn shares(source: &Source, field: &str, list: &[String]) -> Result<Vec<f64>, InputError> {
    if list.is_empty() {
        return Err(source.field_error(
            field,
            "empty; allowed: one or more shares, e.g. [\"1%\", \"100%\"]",
        ));
    }
    let mut out: Vec<f64> = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let f = format!("{field}[{i}]");
        let v = fraction(source, &f, s, 0.0, 1.0)?;
        if v == 0.0 || out.last().is_some_and(|&p| v <= p) {
            return Err(source.field_error(
                &f,
                format!("`{s}`; allowed: above 0% and above the previous stage's share"),
            ));
        }
        out.push(v);
    }
    Ok(out)
}
