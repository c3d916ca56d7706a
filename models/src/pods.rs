//! Pod start-up: from creation to serving at full speed.
//!
//! A pod waits (pending) until a node has room for its CPU request, is
//! bound by the scheduler, pulls its image (unless the node has it), starts
//! its container, passes its readiness probe and then warms up: until its
//! connection pools and caches are warm it needs more CPU per request and
//! may add latency to each request.

use crate::time::{SimDuration, SimTime};

/// The start-up timings of one deployment's pods.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StartupProfile {
    /// From a node having room to the kubelet accepting the pod
    /// (`status.startTime`).
    pub scheduling: SimDuration,
    /// Image pull when the node already has the image.
    pub image_pull_cached: SimDuration,
    /// Image pull on a node that has never run the image.
    pub image_pull_uncached: SimDuration,
    /// From image present to the container running (phase `Running`).
    pub container_start: SimDuration,
    /// From the container running to the application answering its
    /// readiness probe.
    pub app_start: SimDuration,
    /// Readiness probe `initialDelaySeconds`.
    pub probe_initial_delay: SimDuration,
    /// Readiness probe `periodSeconds`.
    pub probe_period: SimDuration,
    /// Consecutive successful probes before the pod is ready
    /// (`successThreshold`, default 1).
    pub probe_success_threshold: u32,
    /// How long after becoming ready a pod is still cold.
    pub warmup: SimDuration,
    /// CPU per request at the start of warm-up, as a multiple of the warm
    /// figure; falls linearly to 1 over `warmup`.
    pub warmup_cpu_factor: f64,
    /// Latency added to each request at the start of warm-up; falls
    /// linearly to zero over `warmup`.
    pub warmup_added_latency: SimDuration,
}

/// Scheduling plus container start of a schedulable stateless pod: the
/// Kubernetes scalability SLO puts pod start-up latency, excluding image
/// pull, at <= 5 s at the 99th percentile (kubernetes/community
/// sig-scalability/slos/pod_startup_latency.md); split 1 s + 4 s.
pub const DEFAULT_SCHEDULING: SimDuration = SimDuration::from_secs(1);
/// See [`DEFAULT_SCHEDULING`].
pub const DEFAULT_CONTAINER_START: SimDuration = SimDuration::from_secs(4);
/// Uncached pull: assumption, a 500 MB image at 50 MB/s from a registry in
/// the same region; set it from your image size and registry.
pub const DEFAULT_IMAGE_PULL_UNCACHED: SimDuration = SimDuration::from_secs(10);
/// Application start until the readiness probe passes: the story's "pod
/// restart 30 s" less scheduling, container start and a probe period.
pub const DEFAULT_APP_START: SimDuration = SimDuration::from_secs(15);
/// Readiness probe defaults: `initialDelaySeconds` 0, `periodSeconds` 10
/// (Kubernetes docs, "Configure Liveness, Readiness and Startup Probes").
pub const DEFAULT_PROBE_PERIOD: SimDuration = SimDuration::from_secs(10);
/// Warm-up: assumption, 60 s during which a new pod needs up to twice the
/// CPU per request (JIT, cold caches); the story's second account saw up to
/// 10 s of added latency before pools were warm, which
/// `warmup_added_latency` can replay.
pub const DEFAULT_WARMUP: SimDuration = SimDuration::from_secs(60);
/// See [`DEFAULT_WARMUP`].
pub const DEFAULT_WARMUP_CPU_FACTOR: f64 = 2.0;

impl Default for StartupProfile {
    fn default() -> Self {
        StartupProfile {
            scheduling: DEFAULT_SCHEDULING,
            image_pull_cached: SimDuration::ZERO,
            image_pull_uncached: DEFAULT_IMAGE_PULL_UNCACHED,
            container_start: DEFAULT_CONTAINER_START,
            app_start: DEFAULT_APP_START,
            probe_initial_delay: SimDuration::ZERO,
            probe_period: DEFAULT_PROBE_PERIOD,
            probe_success_threshold: 1,
            warmup: DEFAULT_WARMUP,
            warmup_cpu_factor: DEFAULT_WARMUP_CPU_FACTOR,
            warmup_added_latency: SimDuration::ZERO,
        }
    }
}

/// The instants a bound pod passes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodTimeline {
    /// When the kubelet accepted it (`status.startTime`).
    pub started: SimTime,
    /// When its container runs (phase `Running`, `Ready` still false).
    pub running: SimTime,
    /// When the readiness probe first passes (`Ready` true).
    pub ready: SimTime,
    /// When warm-up ends.
    pub warm: SimTime,
}

impl StartupProfile {
    /// The timeline of a pod bound to a node at `bound`.
    pub fn timeline(&self, bound: SimTime, image_cached: bool) -> PodTimeline {
        let started = bound + self.scheduling;
        let pull = if image_cached {
            self.image_pull_cached
        } else {
            self.image_pull_uncached
        };
        let running = started + pull + self.container_start;
        // Probes at running + initial delay + n * period; the first one at or
        // after the application answers succeeds.
        let first = self.probe_initial_delay;
        let ready_after = if self.app_start <= first {
            first
        } else {
            let period = self.probe_period.as_nanos().max(1);
            let extra = (self.app_start.as_nanos() - first.as_nanos()).div_ceil(period);
            first + SimDuration::from_nanos(extra * period)
        };
        // Then successThreshold - 1 more passing probes, one period apart.
        let more = u64::from(self.probe_success_threshold.max(1) - 1);
        let ready = running
            + ready_after
            + SimDuration::from_nanos(self.probe_period.as_nanos().saturating_mul(more));
        PodTimeline {
            started,
            running,
            ready,
            warm: ready + self.warmup,
        }
    }

    /// Fraction of warm-up left at `now` for a pod ready at `ready`: 1 at
    /// readiness, 0 once warm.
    fn coldness(&self, ready: SimTime, now: SimTime) -> f64 {
        let w = self.warmup.as_secs_f64();
        if w <= 0.0 || now < ready {
            return if now < ready { 1.0 } else { 0.0 };
        }
        (1.0 - (now - ready).as_secs_f64() / w).max(0.0)
    }

    /// CPU per request at `now`, as a multiple of the warm figure.
    pub fn cpu_factor(&self, ready: SimTime, now: SimTime) -> f64 {
        1.0 + (self.warmup_cpu_factor.max(1.0) - 1.0) * self.coldness(ready, now)
    }

    /// Latency added to a request at `now`, in seconds.
    pub fn added_latency_s(&self, ready: SimTime, now: SimTime) -> f64 {
        self.warmup_added_latency.as_secs_f64() * self.coldness(ready, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn default_restart_on_a_cached_node_is_about_thirty_seconds() {
        // Story: "pod restart 30 s". Bound at 0: started 1, running 5,
        // app answers at 20, probes at 5, 15, 25: ready at 25.
        let p = StartupProfile::default();
        let tl = p.timeline(t(0), true);
        assert_eq!((tl.started, tl.running, tl.ready), (t(1), t(5), t(25)));
        assert_eq!(tl.warm, t(85));
        // Uncached: ten more seconds of pull.
        assert_eq!(p.timeline(t(0), false).ready, t(35));
    }

    #[test]
    fn probe_delay_longer_than_app_start() {
        let p = StartupProfile {
            probe_initial_delay: SimDuration::from_secs(30),
            ..StartupProfile::default()
        };
        assert_eq!(p.timeline(t(0), true).ready, t(35));
    }

    #[test]
    fn success_threshold_waits_for_more_passing_probes() {
        // successThreshold 3: the probe at 25 s passes, then those at 35
        // and 45 s; ready at 45.
        let p = StartupProfile {
            probe_success_threshold: 3,
            ..StartupProfile::default()
        };
        assert_eq!(p.timeline(t(0), true).ready, t(45));
    }

    #[test]
    fn warm_up_decays_linearly() {
        let p = StartupProfile {
            warmup_added_latency: SimDuration::from_secs(10),
            ..StartupProfile::default()
        };
        assert_eq!(p.cpu_factor(t(100), t(100)), 2.0);
        assert_eq!(p.cpu_factor(t(100), t(130)), 1.5);
        assert_eq!(p.cpu_factor(t(100), t(500)), 1.0);
        assert_eq!(p.added_latency_s(t(100), t(100)), 10.0);
        assert_eq!(p.added_latency_s(t(100), t(145)), 2.5);
        let none = StartupProfile {
            warmup: SimDuration::ZERO,
            ..p
        };
        assert_eq!(none.cpu_factor(t(100), t(100)), 1.0);
    }
}
