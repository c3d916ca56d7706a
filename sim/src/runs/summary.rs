//! One scenario, one seed, one summary: the common face of every run type,
//! used where runs are repeated (sweeps, replications).

use cutover_models::SimDuration;
use serde_json::Value;

use cutover_models::bgp::network::NotSettled;

use crate::runs::mmc;
use crate::scenario::{ModelSpec, Scenario};

/// Why a run gave no summary.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SummaryError {
    /// BGP did not settle within the run's event budget.
    #[error(transparent)]
    NotSettled(#[from] NotSettled),
}

/// Runs `scenario` with `seed` (no files, no progress) and returns its
/// summary as JSON, the same figures `summary.json` would hold.
pub fn summarise(scenario: &Scenario, seed: u64) -> Result<Value, SummaryError> {
    let interval: SimDuration = scenario.timeline_interval;
    Ok(match &scenario.model {
        ModelSpec::Mmc(spec) => {
            let outcome = mmc::run(spec, seed, interval, &mut |_| {});
            serde_json::to_value(&outcome.summary).unwrap_or(Value::Null)
        }
    })
}

/// The number at dotted path `path` (e.g. `erlang_c.mean_wait_s`) of a summary.
pub fn figure(summary: &Value, path: &str) -> Option<f64> {
    path.split('.')
        .try_fold(summary, |v, key| v.get(key))
        .and_then(Value::as_f64)
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
}
