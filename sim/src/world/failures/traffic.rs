//! Failures of the service's speed and of the demand: latency added at a
//! site.

use cutover_models::SimDuration;

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
