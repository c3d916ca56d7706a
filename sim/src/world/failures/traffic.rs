//! Failures of the service's speed and of the demand: latency added at a
//! site, demand multiplied.

use cutover_models::{SimDuration, SimTime};

use super::super::World;

impl World<'_> {
    /// Failure `i` adds `extra` to every request served at site `k`.
    pub(super) fn delay_starts(&mut self, i: usize, k: usize, extra: SimDuration) {
        self.active.delays.push((i, k, extra.as_secs_f64()));
        self.set_site_extra(k);
    }

    /// Failure `i`'s added latency at site `k` ends.
    pub(super) fn delay_ends(&mut self, i: usize, k: usize) {
        self.active.delays.retain(|d| d.0 != i);
        self.set_site_extra(k);
    }

    /// Site `k`'s added latency: the sum of the delays in force there.
    fn set_site_extra(&mut self, k: usize) {
        self.rec.site_extra_s[k] = self
            .active
            .delays
            .iter()
            .filter(|d| d.1 == k)
            .map(|d| d.2)
            .sum();
    }
}

/// A spike in force (or ended within the tick being served).
#[derive(Debug)]
pub(in crate::world) struct Spike {
    failure: usize,
    from: SimTime,
    until: Option<SimTime>,
    factor: f64,
    /// Indexes of the populations; empty for all.
    populations: Vec<usize>,
}

impl World<'_> {
    /// Failure `i` multiplies the demand of `populations` (all if empty)
    /// by `factor` from now.
    pub(super) fn spike_starts(&mut self, i: usize, factor: f64, populations: Vec<usize>) {
        self.active.spikes.push(Spike {
            failure: i,
            from: self.now,
            until: None,
            factor,
            populations,
        });
    }

    /// Failure `i`'s spike ends now (the tick that holds the end still
    /// counts it up to now).
    pub(super) fn spike_ends(&mut self, i: usize) {
        for s in &mut self.active.spikes {
            if s.failure == i {
                s.until = Some(self.now);
            }
        }
    }

    /// The multiplier of population `p`'s demand over `[start, end)`: one
    /// plus each spike's extra over the share of the window it covers.
    pub(in crate::world) fn demand_factor(&self, p: usize, start: SimTime, end: SimTime) -> f64 {
        let span = end.saturating_since(start).as_nanos() as f64;
        let mut factor = 1.0;
        for s in &self.active.spikes {
            if !(s.populations.is_empty() || s.populations.contains(&p)) {
                continue;
            }
            let from = s.from.max(start);
            let until = s.until.map_or(end, |u| u.min(end));
            if until > from && span > 0.0 {
                let covered = until.saturating_since(from).as_nanos() as f64;
                factor += (s.factor - 1.0) * covered / span;
            }
        }
        factor
    }

    /// Forgets spikes that ended by `t`.
    pub(in crate::world) fn forget_spikes(&mut self, t: SimTime) {
        self.active.spikes.retain(|s| s.until.is_none_or(|u| u > t));
    }
}
