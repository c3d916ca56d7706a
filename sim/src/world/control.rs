//! What an operator does to a running world: announce, prepend or
//! withdraw a site's route, set an L7 proxy's weights, decommission a
//! site; and the observation windows a health gate reads.

use cutover_models::bgp::network::Input;
use cutover_models::SimTime;

use super::latency::LatencyHistogram;
use super::record::Tally;
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

/// An open observation window on one site and the users it concerns.
pub(super) struct Window {
    site: usize,
    users: Vec<usize>,
    site_at_open: Tally,
    blackholed_at_open: f64,
}

/// What a window saw: what a health gate at the site reads, plus the
/// users' requests lost on the way.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WindowFigures {
    /// Requests that reached the site, and the users' requests blackholed.
    pub requests: f64,
    /// Of which failed, every cause.
    pub failed: f64,
    /// p99 of the time served requests spent at the site, seconds; `None`
    /// when none was served.
    pub p99_s: Option<f64>,
}

impl World<'_> {
    /// Site `k` announces the prefix (again, or with new attributes) with
    /// `prepends` extra copies of its origin AS; its other attributes are
    /// the estate's.
    pub fn announce_prepended(&mut self, k: usize, prepends: u8) {
        let base = self.exp.estate.sites[k].network.announcement;
        self.sites[k].announcing = true;
        self.bgp(Input::Announce {
            site: k,
            prepends,
            med: base.med,
            requested_local_pref: base.requested_local_pref,
        });
    }

    /// Site `k` withdraws its route (a clean withdrawal: the site keeps
    /// serving what still reaches it).
    pub fn stop_announcing(&mut self, k: usize) {
        self.withdraw(k);
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
        if self.sites[k].announcing {
            self.withdraw(k);
        }
        self.l7.retain(|s| s.from != k && s.to != k);
        self.kill_site(k);
        self.sites[k].decommissioned = true;
    }

    /// Opens a window on site `k` for the users `users` (population
    /// indexes); returns its handle for [`World::close_window`].
    pub fn open_window(&mut self, k: usize, users: &[usize]) -> usize {
        let window = Window {
            site: k,
            users: users.to_vec(),
            site_at_open: self.rec.sites[k],
            blackholed_at_open: self.blackholed(users),
        };
        self.windows.push(Some(window));
        self.rec.watch.push(Some((k, LatencyHistogram::new())));
        self.windows.len() - 1
    }

    /// Closes window `id` and returns what it saw; `None` if it is not open.
    pub fn close_window(&mut self, id: usize) -> Option<WindowFigures> {
        let w = self.windows.get_mut(id)?.take()?;
        let (_, mut latency) = self.rec.watch[id].take()?;
        let now = self.rec.sites[w.site];
        let blackholed = self.blackholed(&w.users) - w.blackholed_at_open;
        let arrived = now.requests - w.site_at_open.requests;
        let failed = now.failed() - w.site_at_open.failed();
        Some(WindowFigures {
            requests: arrived + blackholed,
            failed: failed + blackholed,
            p99_s: latency.quantile_opt(0.99),
        })
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

    fn blackholed(&self, users: &[usize]) -> f64 {
        users
            .iter()
            .map(|&p| self.rec.populations[p].blackholed)
            .sum()
    }
}
