//! One file, one seed, one summary: the common face of the M/M/c scenario
//! and of experiments, used where runs are repeated (sweeps).

use cutover_models::SimDuration;
use serde_json::Value;

use cutover_models::bgp::network::NotSettled;

use crate::experiment::Experiment;
use crate::runs::mmc;
use crate::scenario::kind::FileKind;
use crate::scenario::sweep::SweepSpec;
use crate::scenario::{InputError, ModelSpec, Scenario, Source};
use crate::world::World;

/// Why a run gave no summary.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SummaryError {
    /// BGP did not settle within the run's event budget.
    #[error(transparent)]
    NotSettled(#[from] NotSettled),
}

/// What sweeps repeat: the M/M/c scenario or an experiment on an estate.
#[derive(Debug, Clone)]
pub enum Runnable {
    /// The M/M/c scenario.
    Mmc(Scenario),
    /// An experiment.
    Experiment(Box<Experiment>),
}

impl Runnable {
    /// The file in `source` as what its kind says: an experiment, else the
    /// M/M/c scenario.
    pub fn from_source(source: &Source) -> Result<Runnable, InputError> {
        Ok(match FileKind::of(source) {
            FileKind::Experiment => {
                Runnable::Experiment(Box::new(Experiment::from_source(source)?))
            }
            _ => Runnable::Mmc(Scenario::from_source(source)?),
        })
    }

    /// Its name.
    pub fn name(&self) -> &str {
        match self {
            Runnable::Mmc(s) => &s.name,
            Runnable::Experiment(e) => &e.name,
        }
    }

    /// The seed when the command line gives none.
    pub fn seed(&self) -> u64 {
        match self {
            Runnable::Mmc(s) => s.seed,
            Runnable::Experiment(e) => e.seed,
        }
    }

    /// Its `[sweep]`, if it has one.
    pub fn sweep(&self) -> Option<&SweepSpec> {
        match self {
            Runnable::Mmc(s) => s.sweep.as_ref(),
            Runnable::Experiment(e) => e.sweep.as_ref(),
        }
    }
}

/// Runs `what` with `seed` (no files, no progress) and returns its
/// summary as JSON, the same figures `summary.json` would hold.
pub fn summarise(what: &Runnable, seed: u64) -> Result<Value, SummaryError> {
    Ok(match what {
        Runnable::Mmc(scenario) => {
            let interval: SimDuration = scenario.timeline_interval;
            let ModelSpec::Mmc(spec) = &scenario.model;
            let outcome = mmc::run(spec, seed, interval, &mut |_| {});
            serde_json::to_value(&outcome.summary).unwrap_or(Value::Null)
        }
        Runnable::Experiment(exp) => match &exp.load_test {
            // A load test's figures as its summary.json has them: the
            // experiment's, then `load_test` (e.g.
            // `load_test.sites.ams1.knee_level`).
            Some(lt) => {
                let (outcome, result) = crate::world::load_test::run(exp, lt, seed)?;
                let mut summary = serde_json::to_value(&outcome.summary).unwrap_or(Value::Null);
                if let Value::Object(fields) = &mut summary {
                    let load_test = serde_json::to_value(&result).unwrap_or(Value::Null);
                    fields.insert("load_test".to_string(), load_test);
                }
                summary
            }
            None => {
                let outcome = World::new(exp, seed)?.run();
                serde_json::to_value(&outcome.summary).unwrap_or(Value::Null)
            }
        },
    })
}

/// The number at dotted path `path` of a summary (e.g.
/// `erlang_c.mean_wait_s`); in a list of populations or sites, a part of
/// the path picks the entry by its label (`populations.fra.latency_p99_ms`,
/// `sites.ams1.rejected`).
pub fn figure(summary: &Value, path: &str) -> Option<f64> {
    path.split('.')
        .try_fold(summary, |v, key| match v {
            Value::Array(items) => items.iter().find(|item| label(item) == Some(key)),
            _ => v.get(key),
        })
        .and_then(Value::as_f64)
}

/// The label of a list entry: its population or site.
fn label(item: &Value) -> Option<&str> {
    item.get("population")
        .or_else(|| item.get("site"))
        .and_then(Value::as_str)
}

/// The dotted paths of every number in a summary, for error messages.
pub fn figure_names(summary: &Value) -> Vec<String> {
    fn walk(prefix: &str, v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&path, v, out);
                }
            }
            Value::Array(items) => {
                for item in items {
                    if let Some(l) = label(item) {
                        walk(&format!("{prefix}.{l}"), item, out);
                    }
                }
            }
            Value::Number(_) => out.push(prefix.to_string()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", summary, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn figures_are_found_by_dotted_path() {
        let s = json!({"a": 1.5, "b": {"c": 2}, "d": "text"});
        assert_eq!(figure(&s, "a"), Some(1.5));
        assert_eq!(figure(&s, "b.c"), Some(2.0));
        assert_eq!(figure(&s, "d"), None);
        assert_eq!(figure(&s, "b.x"), None);
        assert_eq!(figure_names(&s), vec!["a", "b.c"]);
    }

    #[test]
    fn list_entries_are_found_by_their_label() {
        let s = json!({"populations": [
            {"population": "nyc", "blackholed": 5.0},
            {"population": "fra", "blackholed": 7.0}
        ]});
        assert_eq!(figure(&s, "populations.fra.blackholed"), Some(7.0));
        assert_eq!(figure(&s, "populations.lax.blackholed"), None);
        assert_eq!(
            figure_names(&s),
            vec!["populations.nyc.blackholed", "populations.fra.blackholed"]
        );
    }
}
