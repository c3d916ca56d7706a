//! Health gates: the thresholds a stage's observation window must meet,
//! in each scope the plan gates on (the move as a whole, each site it
//! touches, each population it moves).

use serde::Serialize;

/// What a world observed over one window, in one scope.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WindowMetrics {
    /// Requests that completed or failed during the window.
    pub requests: u64,
    /// Requests that failed (errors, timeouts, blackholed).
    pub failed: u64,
    /// 99th percentile latency of the window's requests, milliseconds.
    pub p99_ms: f64,
    /// Share of the window's time the scope was up, 0 to 1: a site
    /// serving, a population with a route to a serving site.
    pub availability: f64,
}

impl WindowMetrics {
    /// Failed requests as a fraction of all requests; zero when there were none.
    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.failed as f64 / self.requests as f64
        }
    }
}

/// The thresholds of a health gate. The reference migration gates each
/// stage on an error rate below 1 % and a p99 below 200 ms over a
/// 30-minute window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Gate {
    /// The error rate must stay strictly below this fraction.
    pub max_error_rate: f64,
    /// The p99 latency must stay strictly below this, milliseconds.
    pub max_p99_ms: f64,
    /// A window with fewer requests than this cannot pass: too little
    /// traffic to judge (not asked of a site the stage empties).
    pub min_requests: u64,
    /// The share of the window's time the scope was up must be at least
    /// this; zero does not judge it.
    pub min_availability: f64,
}

/// What a gate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The move as a whole: what reached its new site plus its users'
    /// requests lost on the way.
    Move,
    /// One site the move touches, on its own.
    Site,
    /// One population the move touches, wherever its requests went.
    Population,
}

impl Scope {
    /// The scope's name in a plan file and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Move => "move",
            Scope::Site => "site",
            Scope::Population => "population",
        }
    }
}

/// One scope's figures over a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    /// Its scope.
    pub scope: Scope,
    /// What it is, e.g. a site's tag or a population's label.
    pub name: String,
    /// The figures.
    pub metrics: WindowMetrics,
    /// Whether fewer requests than the gate's minimum fail it: true for
    /// what a stage proves (the move, its new site, its users), false for
    /// a site the stage empties (the old site at the last stage).
    pub needs_minimum: bool,
}

impl Observation {
    /// "site ams1-bm".
    pub fn label(&self) -> String {
        format!("{} {}", self.scope.name(), self.name)
    }
}

/// A stage's gates: the thresholds of each scope judged. A scope without
/// thresholds is observed but not judged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gates {
    /// The thresholds of each scope judged, in scope order.
    pub scopes: Vec<(Scope, Gate)>,
}

impl Gates {
    /// One gate on the move as a whole (the reference story's).
    pub fn on_move(gate: Gate) -> Self {
        Gates {
            scopes: vec![(Scope::Move, gate)],
        }
    }

    /// The thresholds of `scope`, if it is judged.
    pub fn of(&self, scope: Scope) -> Option<&Gate> {
        self.scopes
            .iter()
            .find(|(s, _)| *s == scope)
            .map(|(_, g)| g)
    }

    /// Holds every observation of a judged scope against its gate.
    pub fn evaluate(&self, observed: &[Observation]) -> GateVerdict {
        let mut reasons = Vec::new();
        let mut breached = Vec::new();
        for o in observed {
            let Some(gate) = self.of(o.scope) else {
                continue;
            };
            let found = gate.breaches(&o.metrics, o.needs_minimum);
            if !found.is_empty() {
                let label = o.label();
                reasons.extend(found.into_iter().map(|r| format!("{label}: {r}")));
                breached.push(label);
            }
        }
        GateVerdict {
            passed: reasons.is_empty(),
            reasons,
            breached,
        }
    }
}

/// The outcome of holding a window against its gates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateVerdict {
    /// Whether every threshold held in every scope judged.
    pub passed: bool,
    /// Each threshold that failed, in words, led by its scope ("site
    /// ams1-bm: error rate ..."); empty when passed.
    pub reasons: Vec<String>,
    /// The scopes that breached, e.g. "population ams".
    pub breached: Vec<String>,
}

impl Gate {
    /// Each threshold `window` fails, in words; `needs_minimum`: whether
    /// too few requests fail it.
    pub fn breaches(&self, window: &WindowMetrics, needs_minimum: bool) -> Vec<String> {
        let mut reasons = Vec::new();
        if needs_minimum && window.requests < self.min_requests {
            reasons.push(format!(
                "only {} requests in the window (at least {} needed to judge)",
                window.requests, self.min_requests
            ));
        }
        let rate = window.error_rate();
        if rate >= self.max_error_rate {
            reasons.push(format!(
                "error rate {:.3} % is not below {:.3} %",
                rate * 100.0,
                self.max_error_rate * 100.0
            ));
        }
        // A site with no request served has no p99 to judge unless it
        // had to carry some.
        let unmeasured = window.p99_ms.is_nan() && !(needs_minimum || window.requests > 0);
        if !unmeasured && (window.p99_ms.is_nan() || window.p99_ms >= self.max_p99_ms) {
            reasons.push(format!(
                "p99 {:.1} ms is not below {:.1} ms",
                window.p99_ms, self.max_p99_ms
            ));
        }
        if self.min_availability > 0.0 && window.availability < self.min_availability {
            reasons.push(format!(
                "up {:.3} % of the window, below {:.3} %",
                window.availability * 100.0,
                self.min_availability * 100.0
            ));
        }
        reasons
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GATE: Gate = Gate {
        max_error_rate: 0.01,
        max_p99_ms: 200.0,
        min_requests: 100,
        min_availability: 0.0,
    };

    fn window(requests: u64, failed: u64, p99_ms: f64) -> WindowMetrics {
        WindowMetrics {
            requests,
            failed,
            p99_ms,
            availability: 1.0,
        }
    }

    fn on_move(w: WindowMetrics) -> GateVerdict {
        Gates::on_move(GATE).evaluate(&[Observation {
            scope: Scope::Move,
            name: "ams1".into(),
            metrics: w,
            needs_minimum: true,
        }])
    }

    #[test]
    fn a_healthy_window_passes() {
        let v = on_move(window(10_000, 99, 199.9));
        assert!(v.passed, "{:?}", v.reasons);
        assert!(v.breached.is_empty());
    }

    #[test]
    fn thresholds_are_strict() {
        let v = on_move(window(10_000, 100, 150.0));
        assert!(!v.passed);
        assert_eq!(
            v.reasons,
            vec!["move ams1: error rate 1.000 % is not below 1.000 %"]
        );
        assert_eq!(v.breached, vec!["move ams1"]);
        let v = on_move(window(10_000, 0, 200.0));
        assert_eq!(
            v.reasons,
            vec!["move ams1: p99 200.0 ms is not below 200.0 ms"]
        );
    }

    #[test]
    fn every_failing_threshold_is_named() {
        let v = on_move(window(50, 25, f64::NAN));
        assert_eq!(v.reasons.len(), 3, "{:?}", v.reasons);
        assert!(v.reasons[0].starts_with("move ams1: only 50 requests"));
    }

    #[test]
    fn an_empty_window_has_no_errors_but_cannot_pass_a_minimum() {
        assert_eq!(window(0, 0, 0.0).error_rate(), 0.0);
        assert!(!on_move(window(0, 0, 0.0)).passed);
    }

    #[test]
    fn a_scope_is_judged_only_when_gated_and_each_breach_is_named() {
        // Up 28 of 30 minutes: 93.33 %, below a 99 % availability gate;
        // the site saw nothing wrong.
        let city = Observation {
            scope: Scope::Population,
            name: "ams".into(),
            metrics: WindowMetrics {
                availability: 28.0 / 30.0,
                ..window(10_000, 667, 40.0)
            },
            needs_minimum: true,
        };
        let site = Observation {
            scope: Scope::Site,
            name: "ams1-bm".into(),
            metrics: window(9_333, 0, 40.0),
            needs_minimum: true,
        };
        let observed = [site.clone(), city.clone()];
        let strict = Gate {
            min_availability: 0.99,
            max_error_rate: 0.5,
            ..GATE
        };
        assert!(
            Gates {
                scopes: vec![(Scope::Site, strict)]
            }
            .evaluate(&observed)
            .passed
        );
        let v = Gates {
            scopes: vec![(Scope::Site, strict), (Scope::Population, strict)],
        }
        .evaluate(&observed);
        assert!(!v.passed);
        assert_eq!(v.breached, vec!["population ams"]);
        assert_eq!(
            v.reasons,
            vec!["population ams: up 93.333 % of the window, below 99.000 %"]
        );
    }

    #[test]
    fn a_site_the_stage_empties_needs_no_minimum_and_no_p99() {
        let old = Observation {
            scope: Scope::Site,
            name: "ams1".into(),
            metrics: window(0, 0, f64::NAN),
            needs_minimum: false,
        };
        let gates = Gates {
            scopes: vec![(Scope::Site, GATE)],
        };
        assert!(gates.evaluate(std::slice::from_ref(&old)).passed);
        let busy = Observation {
            metrics: window(10, 5, 30.0),
            ..old
        };
        let v = gates.evaluate(&[busy]);
        assert_eq!(
            v.reasons,
            vec!["site ams1: error rate 50.000 % is not below 1.000 %"]
        );
    }
}
