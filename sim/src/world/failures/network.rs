//! Sessions failing: a site's link to one upstream going down (and up).

use cutover_models::bgp::network::Input;
use cutover_models::bgp::Asn;
use cutover_models::failure::Detection;
use rand::Rng;

use super::super::{Event, World};

impl World<'_> {
    /// Site `k`'s link to `upstream` goes down (failure `i`): each session
    /// over it is dropped at both ends after `detection`'s delay (one draw
    /// per session: both ends see the same loss).
    pub(super) fn link_fails(&mut self, i: usize, k: usize, upstream: Asn, detection: Detection) {
        let router = self.network.site_neighbours(k).0;
        for n in self.network.site_upstream(k, upstream) {
            let at = self.now + detection.delay(self.detect_rng.random::<f64>());
            for (a, b) in [(router, n), (n, router)] {
                let down = Input::SessionDown {
                    router: a,
                    neighbour: b,
                };
                self.failure_timer(i, at, Event::Bgp(down));
            }
        }
    }

    /// Site `k`'s link to `upstream` is back: its sessions are established
    /// again at both ends (a session that never went down is left as it
    /// is).
    pub(super) fn link_up(&mut self, k: usize, upstream: Asn) {
        let router = self.network.site_neighbours(k).0;
        for n in self.network.site_upstream(k, upstream) {
            for (a, b) in [(router, n), (n, router)] {
                self.bgp(Input::SessionUp {
                    router: a,
                    neighbour: b,
                });
            }
        }
    }
}
