//! A whole site failing (crash, clean shutdown, service down) and coming
//! back: its router up again, its sessions established again, its pods
//! started again cold, and its announcement once the health check sees a
//! ready pod.

use cutover_models::bgp::network::Input;
use cutover_models::failure::Detection;
use cutover_models::{SimDuration, SimTime};
use rand::RngExt;

use super::super::record::{Cause, Stream};
use super::super::{Event, World};

impl World<'_> {
    /// Site `k` is shut down by failure `i`: it withdraws at once and its
    /// node stops after `drain`.
    pub(super) fn shutdown(&mut self, i: usize, k: usize, drain: SimDuration) {
        self.withdraw(k);
        self.failure_timer(i, self.now + drain, Event::PowerOff(i));
    }

    /// Site `k`'s node loses power (failure `i`): its neighbours drop their
    /// sessions after `detection`'s delay.
    pub(super) fn crash(&mut self, i: usize, k: usize, detection: Detection) {
        self.kill_site(k);
        let (router, _) = self.network.site_neighbours(k);
        self.bgp(Input::RouterDown { router });
        // Each session notices by its own detection where the estate sets
        // one ([[network.sessions]]), else by the failure's.
        let rng = &mut self.detect_rng;
        let downs = self
            .network
            .detections(router, detection, &mut || rng.random::<f64>());
        for (delay, down) in downs {
            self.failure_timer(i, self.now + delay, Event::Bgp(Box::new(down)));
        }
    }

    /// Site `k`'s service dies (failure `i`): the health check withdraws
    /// the route after `detection`'s delay.
    pub(super) fn service_down(&mut self, i: usize, k: usize, detection: Detection) {
        self.kill_site(k);
        let delay = detection.delay(self.detect_rng.random::<f64>());
        self.failure_timer(i, self.now + delay, Event::Withdraw(k));
    }

    /// The node of a site shut down by failure `i` goes dark: the closing
    /// sessions send a Cease notification to each neighbour.
    pub(in crate::world) fn power_off(&mut self, i: usize) {
        let Some(k) = self.failures[i].site else {
            return;
        };
        self.kill_site(k);
        let (router, neighbours) = self.network.site_neighbours(k);
        self.bgp(Input::RouterDown { router });
        for n in neighbours {
            let down = Input::SessionDown {
                router: n,
                neighbour: router,
            };
            let at = self.now + self.network.link_delay(router, n);
            self.failure_timer(i, at, Event::Bgp(Box::new(down)));
        }
    }

    /// Site `k` stops serving: its requests in flight are reset, its pods
    /// are gone, and populations routed to it lose their requests until
    /// their route moves.
    pub(in crate::world) fn kill_site(&mut self, k: usize) {
        if !self.sites[k].alive {
            return;
        }
        self.sites[k].alive = false;
        self.sites[k].downtime.went_down(self.now);
        if let Some(t) = self.sites[k].announce_timer.take() {
            self.queue.cancel(t);
        }
        self.reset_in_flight(k);
        let site = &mut self.sites[k];
        let removed = site.pods.resize(self.now, 0);
        site.ready.clear();
        site.out_share = 0.0;
        site.target = None;
        for pod in removed {
            for r in pod.waiting {
                self.rec.fail(k, r.stream, Cause::Reset, 1.0);
            }
        }
        self.reroute();
    }

    /// Every request in flight at site `k`'s pods is reset (requests
    /// waiting in a request-level pod's queue excepted: the caller handles
    /// the pods).
    pub(in crate::world) fn reset_in_flight(&mut self, k: usize) {
        let site = &mut self.sites[k];
        let mix = std::mem::take(&mut site.mix);
        for (s, n) in mix.iter().enumerate() {
            if *n > 0.0 {
                self.rec.fail(k, s as Stream, Cause::Reset, *n);
            }
        }
        site.mix = vec![0.0; mix.len()];
        if let Some(rl) = site.request.as_mut() {
            for r in rl.take_in_service() {
                self.rec.fail(k, r.stream, Cause::Reset, 1.0);
            }
        }
    }

    /// Site `k` comes back (failure `i`'s detections, withdrawal or
    /// power-off still pending were cancelled): a router that stopped starts again and its sessions are
    /// established again at both ends; the deployment's pods start again
    /// through the start-up profile; the site announces once the health
    /// check sees its first ready pod.
    pub(super) fn recover_site(&mut self, k: usize) {
        let (router, neighbours) = self.network.site_neighbours(k);
        if self.network.is_dead(router) {
            self.bgp(Input::RouterUp { router });
            for n in neighbours {
                // A session that a link-down or a flap holds down stays
                // down.
                if self.session_held(usize::MAX, k, n) {
                    continue;
                }
                for input in [
                    Input::SessionDown {
                        router: n,
                        neighbour: router,
                    },
                    Input::SessionUp {
                        router: n,
                        neighbour: router,
                    },
                    Input::SessionUp {
                        router,
                        neighbour: n,
                    },
                ] {
                    self.bgp(input);
                }
            }
        }
        let first_ready = self.restart_pods(k);
        self.sites[k].alive = true;
        self.sites[k].downtime.came_up(self.now);
        self.reroute();
        if self.sites[k].operator.is_some() {
            let health = self.exp.estate.detection.health_check;
            let at = first_ready.unwrap_or(self.now)
                + health.recovery_delay(self.detect_rng.random::<f64>());
            let t = self.queue.set_timer_at(at, Event::Announce(k));
            self.sites[k].announce_timer = Some(t);
        }
    }

    /// Starts site `k`'s deployment again; returns when its first pod is
    /// ready, if one could be placed.
    fn restart_pods(&mut self, k: usize) -> Option<SimTime> {
        let site = &mut self.sites[k];
        let replicas = site.replicas.max(0) as usize;
        let removed = site.pods.resize(self.now, replicas);
        debug_assert!(removed.is_empty(), "a dead site has no pods to remove");
        site.pods.schedule(self.now);
        site.pods
            .pods
            .iter()
            .filter_map(|p| p.timeline.map(|t| t.ready))
            .min()
    }

    /// Site `k`'s health check passes: it announces the prefix again as
    /// its operator has it announce (the estate's announcement, unless a
    /// plan changed or withdrew it since).
    pub(in crate::world) fn announce(&mut self, k: usize) {
        self.sites[k].announce_timer = None;
        if self.sites[k].alive {
            self.announce_as_operated(k);
        }
    }
}
