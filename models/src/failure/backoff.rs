//! The back-off between restarts of a crash-looping container, as the
//! kubelet applies it: the first restart waits `initial`, each further one
//! twice as long up to `cap`, and a container that ran `reset_after`
//! without crashing starts again from `initial`.

use crate::time::SimDuration;

/// The kubelet's crash-loop back-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrashLoopBackoff {
    /// Wait before the first restart.
    pub initial: SimDuration,
    /// Longest wait.
    pub cap: SimDuration,
    /// A run this long without a crash resets the back-off.
    pub reset_after: SimDuration,
}

impl CrashLoopBackoff {
    /// Kubernetes: "the kubelet restarts them with an exponential back-off
    /// delay (10s, 20s, 40s, ...), that is capped at 300 seconds (5
    /// minutes). Once a container has executed for 10 minutes without any
    /// problems, the kubelet resets the restart backoff timer"
    /// (kubernetes.io, "Pod Lifecycle", Container restarts).
    pub const KUBERNETES: CrashLoopBackoff = CrashLoopBackoff {
        initial: SimDuration::from_secs(10),
        cap: SimDuration::from_secs(300),
        reset_after: SimDuration::from_secs(600),
    };

    /// The wait before the restart that follows `restarts` earlier
    /// restarts since the last reset: `min(initial * 2^restarts, cap)`.
    pub fn delay(&self, restarts: u32) -> SimDuration {
        let doubled = self.initial.saturating_mul(1u64 << restarts.min(63));
        doubled.min(self.cap)
    }

    /// The restart count after a container ran `ran_for` and crashed:
    /// zero when the run reset the back-off, else one more.
    pub fn after_run(&self, restarts: u32, ran_for: SimDuration) -> u32 {
        if ran_for >= self.reset_after {
            0
        } else {
            restarts.saturating_add(1)
        }
    }

    /// Total back-off over the first `n` restarts of a container that
    /// crashes at once each time: `initial * (2^n - 1)` while below the
    /// cap, then `cap` per further restart.
    pub fn total(&self, n: u32) -> SimDuration {
        (0..n).fold(SimDuration::ZERO, |sum, k| sum + self.delay(k))
    }
}

impl Default for CrashLoopBackoff {
    fn default() -> Self {
        CrashLoopBackoff::KUBERNETES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> SimDuration {
        SimDuration::from_secs(secs)
    }

    #[test]
    fn kubernetes_sequence_doubles_to_five_minutes() {
        let b = CrashLoopBackoff::KUBERNETES;
        let seq: Vec<_> = (0..8).map(|k| b.delay(k)).collect();
        assert_eq!(
            seq,
            [s(10), s(20), s(40), s(80), s(160), s(300), s(300), s(300)]
        );
        assert_eq!(b.delay(u32::MAX), s(300));
    }

    #[test]
    fn total_matches_the_geometric_sum_then_the_cap() {
        let b = CrashLoopBackoff::KUBERNETES;
        // Below the cap: 10 x (2^n - 1).
        for n in 0..=5 {
            assert_eq!(b.total(n), s(10 * ((1 << n) - 1)), "n={n}");
        }
        // 310 s for the first five, then 300 s each.
        assert_eq!(b.total(7), s(310 + 2 * 300));
    }

    #[test]
    fn ten_minutes_running_resets_the_backoff() {
        let b = CrashLoopBackoff::KUBERNETES;
        assert_eq!(b.after_run(4, s(599)), 5);
        assert_eq!(b.after_run(4, s(600)), 0);
        assert_eq!(b.delay(b.after_run(4, s(600))), s(10));
    }
}
