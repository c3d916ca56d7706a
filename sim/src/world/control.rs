//! What an operator does to a running world: announce, prepend or
//! withdraw a site's route, set an L7 proxy's weights, decommission a
//! site; and the observation windows a health gate reads.

use cutover_models::bgp::network::Input;
use cutover_models::{SimDuration, SimTime};

use super::latency::LatencyHistogram;
use super::record::{Tally, Watched};
use super::World;

/// An L7 proxy at one site forwarding part of its users' requests to
/// another site.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct L7Split {
    /// The site whose proxy forwards.
    pub from: usize,
    /// Where to.
    pub to: usize,
    /// Share of the site's own arrivals forwarded, 0 to 1.
    pub weight: f64,
    /// The proxy's own added latency, seconds.
    pub extra_hop_s: f64,
}

/// An open observation window on a site or a population.
pub(super) struct Window {
    watched: Watched,
    from: SimTime,
    at_open: Tally,
    /// The site's time down so far, when it watches a site.
    down_at_open: SimDuration,
}

/// What a window saw of what it watched.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WindowFigures {
    /// Requests: those that reached the site, or the population's
    /// wherever they went.
    pub requests: f64,
    /// Of which failed, every cause.
    pub failed: f64,
    /// Of which lost on the way (a population's; none reach a site).
    pub blackholed: f64,
    /// p99 of the served requests' latency, seconds: at the site, or as
    /// the population's users saw it (network included); `None` when none
    /// was served.
    pub p99_s: Option<f64>,
    /// Share of the window's time it was up: the site serving, or the
    /// population routed to a serving site; 1 for an empty window.
    pub availability: f64,
}

impl WindowFigures {
    /// What a gate reads of the window (a plan's stage or a load test's
    /// step): whole requests and failures, p99 in milliseconds (NaN when
    /// none was served).
    pub fn gate_metrics(&self) -> cutover_models::plan::WindowMetrics {
        cutover_models::plan::WindowMetrics {
            requests: self.requests.round() as u64,
            failed: self.failed.round() as u64,
            p99_ms: self.p99_s.map_or(f64::NAN, |s| s * 1e3),
            availability: self.availability,
        }
    }
}

/// Time a site has spent down (not serving), for the windows'
/// availability.
#[derive(Clone, Copy, Debug, Default)]
pub struct Downtime {
    total: SimDuration,
    since: Option<SimTime>,
}

impl Downtime {
    /// The site stops serving at `now`.
    pub(super) fn went_down(&mut self, now: SimTime) {
        self.since.get_or_insert(now);
    }

    /// The site serves again from `now`.
    pub(super) fn came_up(&mut self, now: SimTime) {
        if let Some(since) = self.since.take() {
            self.total = self.total + now.saturating_since(since);
        }
    }

    /// Time down from the start up to `now`.
    fn until(&self, now: SimTime) -> SimDuration {
        self.total
            + self
                .since
                .map_or(SimDuration::ZERO, |s| now.saturating_since(s))
    }
}

impl World<'_> {
    /// Site `k` announces the prefix (again, or with new attributes) with
    /// `prepends` extra copies of its origin AS; its other attributes are
    /// the estate's. A site that is down announces so once it recovers.
    pub fn announce_prepended(&mut self, k: usize, prepends: u8) {
        self.sites[k].operator = Some(prepends);
        if self.sites[k].alive {
            self.announce_as_operated(k);
        }
    }

    /// Site `k` withdraws its route (a clean withdrawal: the site keeps
    /// serving what still reaches it), and stays withdrawn if it fails
    /// and recovers.
    pub fn stop_announcing(&mut self, k: usize) {
        self.sites[k].operator = None;
        self.withdraw(k);
    }

    /// Site `k` announces what its operator has it announce, if anything.
    pub(super) fn announce_as_operated(&mut self, k: usize) {
        let Some(prepends) = self.sites[k].operator else {
            return;
        };
        let base = self.exp.estate.sites[k].network.announcement;
        self.sites[k].announcing = true;
        self.bgp(Input::Announce {
            site: k,
            prepends,
            med: base.med,
            requested_local_pref: base.requested_local_pref,
        });
    }

    /// Site `from`'s L7 proxy forwards `weight` of its own arrivals to site
    /// `to`, adding the RTT between the sites and `extra_hop_s`; a weight
    /// of zero removes the split.
    pub fn set_l7_weight(&mut self, from: usize, to: usize, weight: f64, extra_hop_s: f64) {
        self.l7.retain(|s| s.from != from);
        if weight > 0.0 {
            self.l7.push(L7Split {
                from,
                to,
                weight: weight.min(1.0),
                extra_hop_s,
            });
        }
    }

    /// Site `k` is switched off for good: it stops announcing and serving.
    pub fn decommission(&mut self, k: usize) {
        self.sites[k].operator = None;
        self.sites[k].decommissioned = true;
        if self.sites[k].announcing {
            self.withdraw(k);
        }
        self.l7.retain(|s| s.from != k && s.to != k);
        self.kill_site(k);
        self.meter.decommission(self.now, k);
        self.recovery.decommission(k);
    }

    /// Opens a window on `watched`; returns its handle for
    /// [`World::close_window`].
    pub fn open_window(&mut self, watched: Watched) -> usize {
        let (at_open, down_at_open) = match watched {
            Watched::Site(k) => (self.rec.sites[k], self.sites[k].downtime.until(self.now)),
            Watched::Population(p) => (self.rec.populations[p], SimDuration::ZERO),
        };
        let id = self.windows.len();
        self.windows.push(Some(Window {
            watched,
            from: self.now,
            at_open,
            down_at_open,
        }));
        self.rec.watch.push((id, watched, LatencyHistogram::new()));
        id
    }

    /// Closes window `id` and returns what it saw; `None` if it is not open.
    pub fn close_window(&mut self, id: usize) -> Option<WindowFigures> {
        let w = self.windows.get_mut(id)?.take()?;
        let at = self.rec.watch.iter().position(|x| x.0 == id)?;
        let (_, _, mut latency) = self.rec.watch.swap_remove(at);
        let span = self.now.saturating_since(w.from);
        let (now, down) = match w.watched {
            Watched::Site(k) => (
                self.rec.sites[k],
                self.sites[k].downtime.until(self.now).as_nanos() - w.down_at_open.as_nanos(),
            ),
            Watched::Population(p) => (self.rec.populations[p], self.unrouted(p, w.from)),
        };
        Some(WindowFigures {
            requests: now.requests - w.at_open.requests,
            failed: now.failed() - w.at_open.failed(),
            blackholed: now.blackholed - w.at_open.blackholed,
            p99_s: latency.quantile_opt(0.99),
            availability: if span == SimDuration::ZERO {
                1.0
            } else {
                1.0 - down as f64 / span.as_nanos() as f64
            },
        })
    }

    /// Nanoseconds since `from` that population `p` had no route to a
    /// serving site.
    fn unrouted(&self, p: usize, from: SimTime) -> u64 {
        let history = &self.routes[p].history;
        let mut down = 0;
        for (i, &(t, site)) in history.iter().enumerate() {
            let next = history.get(i + 1).map_or(self.now, |h| h.0);
            if site.is_none() && next > from {
                down += next.min(self.now).saturating_since(t.max(from)).as_nanos();
            }
        }
        down
    }

    /// What population `p` has seen so far.
    pub fn population_tally(&self, p: usize) -> Tally {
        self.rec.populations[p]
    }

    /// Ends the run at `t` (not before now): [`World::run`] then runs up
    /// to `t` and closes the books.
    pub fn end_at(&mut self, t: SimTime) {
        self.end = t.max(self.now);
    }
}

impl super::repeat::DayState for Downtime {
    fn encode(&self, w: &mut super::repeat::Words) {
        // The time down so far changes only when the site comes up.
        w.push(self.total.as_nanos());
        w.time_opt(self.since);
    }

    fn shift(&mut self, s: &super::repeat::Shift) {
        self.since = self.since.map(|t| s.at(t));
    }
}
