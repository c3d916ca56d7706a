//! Sessions failing: a site's link to one upstream going down (and up);
//! a site's sessions flapping.

use cutover_models::bgp::network::Input;
use cutover_models::bgp::{Asn, RouterId};
use cutover_models::failure::Detection;
use cutover_models::SimDuration;
use rand::RngExt;

use super::super::{Event, World};
use crate::experiment::FailureKind;

impl World<'_> {
    /// Site `k`'s link to `upstream` goes down (failure `i`): each session
    /// over it is dropped at both ends after `detection`'s delay (one draw
    /// per session: both ends see the same loss).
    pub(super) fn link_fails(&mut self, i: usize, k: usize, upstream: Asn, detection: Detection) {
        self.active.links_down.push((i, k, upstream));
        let router = self.network.site_neighbours(k).0;
        for n in self.network.site_upstream(k, upstream) {
            let at = self.now + detection.delay(self.detect_rng.random::<f64>());
            for (a, b) in [(router, n), (n, router)] {
                let down = Input::SessionDown {
                    router: a,
                    neighbour: b,
                };
                self.failure_timer(i, at, Event::Bgp(Box::new(down)));
            }
        }
    }

    /// Failure `i`, which took site `k`'s link to `upstream` down, ends:
    /// unless another failure still holds the link down, its sessions are
    /// established again at both ends (a session that never went down is
    /// left as it is).
    pub(super) fn link_up(&mut self, i: usize, k: usize, upstream: Asn) {
        self.active.links_down.retain(|l| l.0 != i);
        if self
            .active
            .links_down
            .iter()
            .any(|l| (l.1, l.2) == (k, upstream))
        {
            return;
        }
        let router = self.network.site_neighbours(k).0;
        for n in self.network.site_upstream(k, upstream) {
            if self.session_held(i, k, n) {
                continue;
            }
            for (a, b) in [(router, n), (n, router)] {
                self.bgp(Input::SessionUp {
                    router: a,
                    neighbour: b,
                });
            }
        }
    }

    /// Whether a failure in force other than `except` holds the session
    /// between site `k`'s router and its neighbour `n` down: a link-down
    /// of that link, or a flap of it in its down half.
    pub(super) fn session_held(&self, except: usize, k: usize, n: RouterId) -> bool {
        let over = |upstream: Option<Asn>| {
            upstream.is_none_or(|asn| self.network.site_upstream(k, asn).contains(&n))
        };
        let link = self
            .active
            .links_down
            .iter()
            .any(|&(i, s, asn)| i != except && s == k && over(Some(asn)));
        let flap = self.active.flaps.iter().any(|&(i, s, down)| {
            let upstream = match self.failures[i].kind {
                FailureKind::BgpFlap { upstream, .. } => upstream,
                _ => return false,
            };
            i != except && s == k && down && over(upstream)
        });
        link || flap
    }
}

impl World<'_> {
    /// Failure `i` sets site `k`'s sessions flapping: the first loss now.
    pub(super) fn flap_starts(&mut self, i: usize, k: usize) {
        self.active.flaps.push((i, k, false));
        self.flap(i);
    }

    /// Failure `i`'s sessions go down (every period) or come back up (half
    /// a period later).
    pub(in crate::world) fn flap(&mut self, i: usize) {
        let FailureKind::BgpFlap { period, upstream } = self.failures[i].kind else {
            return;
        };
        let Some(f) = self.active.flaps.iter_mut().find(|f| f.0 == i) else {
            return;
        };
        let (k, down) = (f.1, !f.2);
        f.2 = down;
        self.site_sessions(i, k, upstream, down);
        let half = SimDuration::from_nanos(period.as_nanos() / 2);
        let next = if down {
            half
        } else {
            SimDuration::from_nanos(period.as_nanos() - half.as_nanos())
        };
        self.failure_timer(i, self.now + next, Event::Flap(i));
    }

    /// Failure `i`'s flapping ends: sessions down come back up.
    pub(super) fn flap_ends(&mut self, i: usize, k: usize, upstream: Option<Asn>) {
        let down = self.active.flaps.iter().any(|f| f.0 == i && f.2);
        self.active.flaps.retain(|f| f.0 != i);
        if down {
            self.site_sessions(i, k, upstream, false);
        }
    }

    /// Every eBGP session of site `k` (to `upstream` only, if given) goes
    /// down (`down`) or up, at both ends, for failure `i`; a session
    /// another failure holds down stays down.
    fn site_sessions(&mut self, i: usize, k: usize, upstream: Option<Asn>, down: bool) {
        let (router, neighbours) = self.network.site_neighbours(k);
        let neighbours = match upstream {
            Some(asn) => self.network.site_upstream(k, asn),
            None => neighbours,
        };
        for n in neighbours {
            if !down && self.session_held(i, k, n) {
                continue;
            }
            for (a, b) in [(router, n), (n, router)] {
                self.bgp(if down {
                    Input::SessionDown {
                        router: a,
                        neighbour: b,
                    }
                } else {
                    Input::SessionUp {
                        router: a,
                        neighbour: b,
                    }
                });
            }
        }
    }

    /// Failure `i` cuts the sites of `side` off from the others: overflow
    /// across the cut stops at once, the requests there carrying a
    /// synchronous write fail from now on, and the data's fate is watched.
    pub(super) fn partition_starts(&mut self, i: usize, side: Vec<usize>) {
        self.active.partitions.push((i, side.clone()));
        for k in 0..self.sites.len() {
            if let Some(t) = self.sites[k].target.filter(|&t| !self.reachable(k, t)) {
                debug_assert_ne!(t, k);
                self.sites[k].target = None;
                self.sites[k].out_share = 0.0;
            }
        }
        let (estate, now) = (&self.exp.estate, self.now);
        self.recovery.partition_starts(estate, i, side, now);
        self.recovery.set_write_failing(estate, &mut self.rec);
    }

    /// Failure `i`'s partition heals.
    pub(super) fn partition_ends(&mut self, i: usize) {
        self.active.partitions.retain(|p| p.0 != i);
        self.recovery.partition_heals(&self.exp.estate, i, self.now);
        self.recovery
            .set_write_failing(&self.exp.estate, &mut self.rec);
    }

    /// Whether sites `a` and `b` reach each other: no partition in force
    /// puts them on different sides.
    pub(in crate::world) fn reachable(&self, a: usize, b: usize) -> bool {
        self.active
            .partitions
            .iter()
            .all(|(_, side)| side.contains(&a) == side.contains(&b))
    }
}
