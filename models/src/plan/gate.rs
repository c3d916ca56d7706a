//! Health gates: the thresholds a stage's observation window must meet.

use serde::Serialize;

/// What a world observed over one window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WindowMetrics {
    /// Requests that completed or failed during the window.
    pub requests: u64,
    /// Requests that failed (errors, timeouts, blackholed).
    pub failed: u64,
    /// 99th percentile latency of the window's requests, milliseconds.
    pub p99_ms: f64,
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

/// A stage's health gate. The reference migration gates each stage on an
/// error rate below 1 % and a p99 below 200 ms over a 30-minute window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Gate {
    /// The error rate must stay strictly below this fraction.
    pub max_error_rate: f64,
    /// The p99 latency must stay strictly below this, milliseconds.
    pub max_p99_ms: f64,
    /// A window with fewer requests than this cannot pass: too little
    /// traffic reached the new site to judge it.
    pub min_requests: u64,
}

/// The outcome of holding a window against a gate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateVerdict {
    /// Whether every threshold held.
    pub passed: bool,
    /// Each threshold that failed, in words; empty when passed.
    pub reasons: Vec<String>,
}

impl Gate {
    /// Holds `window` against the gate.
    pub fn evaluate(&self, window: &WindowMetrics) -> GateVerdict {
        let mut reasons = Vec::new();
        if window.requests < self.min_requests {
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
        if window.p99_ms.is_nan() || window.p99_ms >= self.max_p99_ms {
            reasons.push(format!(
                "p99 {:.1} ms is not below {:.1} ms",
                window.p99_ms, self.max_p99_ms
            ));
        }
        GateVerdict {
            passed: reasons.is_empty(),
            reasons,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GATE: Gate = Gate {
        max_error_rate: 0.01,
        max_p99_ms: 200.0,
        min_requests: 100,
    };

    fn window(requests: u64, failed: u64, p99_ms: f64) -> WindowMetrics {
        WindowMetrics {
            requests,
            failed,
            p99_ms,
        }
    }

    #[test]
    fn a_healthy_window_passes() {
        let v = GATE.evaluate(&window(10_000, 99, 199.9));
        assert!(v.passed, "{:?}", v.reasons);
    }

    #[test]
    fn thresholds_are_strict() {
        let v = GATE.evaluate(&window(10_000, 100, 150.0));
        assert!(!v.passed);
        assert_eq!(v.reasons, vec!["error rate 1.000 % is not below 1.000 %"]);
        let v = GATE.evaluate(&window(10_000, 0, 200.0));
        assert_eq!(v.reasons, vec!["p99 200.0 ms is not below 200.0 ms"]);
    }

    #[test]
    fn every_failing_threshold_is_named() {
        let v = GATE.evaluate(&window(50, 25, f64::NAN));
        assert_eq!(v.reasons.len(), 3, "{:?}", v.reasons);
        assert!(v.reasons[0].starts_with("only 50 requests"));
    }

    #[test]
    fn an_empty_window_has_no_errors_but_cannot_pass_a_minimum() {
        assert_eq!(window(0, 0, 0.0).error_rate(), 0.0);
        assert!(!GATE.evaluate(&window(0, 0, 0.0)).passed);
    }
}
