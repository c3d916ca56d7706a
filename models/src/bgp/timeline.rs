//! Which route each router holds over time: a recorder the caller feeds
//! with the outputs of [`BgpNetwork`] and the time they happened, and a
//! CSV view of it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::network::{BgpNetwork, Output};
use super::topology::Topology;
use super::{Asn, RouterId};
use crate::SimTime;

/// A router's best route from an instant on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineRow {
    /// When the router took this route.
    pub at: SimTime,
    /// The router.
    pub router: RouterId,
    /// The site the route leads to; `None` when the router has no route.
    pub site: Option<usize>,
    /// Its AS_PATH (empty for no route or a route originated here).
    pub as_path: Vec<Asn>,
}

/// The best-route changes of a set of routers, in the order they happened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteTimeline {
    /// Routers followed; `None` follows every router.
    routers: Option<BTreeSet<RouterId>>,
    rows: Vec<TimelineRow>,
    /// Index in `rows` of each router's latest change.
    last: BTreeMap<RouterId, usize>,
}

impl RouteTimeline {
    /// Follows every router.
    pub fn new() -> Self {
        RouteTimeline::default()
    }

    /// Follows only `routers`.
    pub fn for_routers(routers: impl IntoIterator<Item = RouterId>) -> Self {
        RouteTimeline {
            routers: Some(routers.into_iter().collect()),
            ..RouteTimeline::default()
        }
    }

    fn follows(&self, router: RouterId) -> bool {
        self.routers.as_ref().is_none_or(|r| r.contains(&router))
    }

    fn push(&mut self, at: SimTime, net: &BgpNetwork<'_>, router: RouterId) {
        let best = net.best(router);
        let row = TimelineRow {
            at,
            router,
            site: best.map(|b| b.site),
            as_path: best.map(|b| b.as_path.clone()).unwrap_or_default(),
        };
        let same = |r: &TimelineRow| r.site == row.site && r.as_path == row.as_path;
        if self.latest(router).is_some_and(same) {
            return;
        }
        self.last.insert(router, self.rows.len());
        self.rows.push(row);
    }

    /// Records the current best route of every followed router (the
    /// starting state), at `at`.
    pub fn snapshot(&mut self, at: SimTime, net: &BgpNetwork<'_>) {
        for i in 0..net.topology().routers().len() {
            let router = RouterId(i as u32);
            if self.follows(router) {
                self.push(at, net, router);
            }
        }
    }

    /// Records the routers whose best route `outputs` (returned by the
    /// input handled at `at`) say changed.
    pub fn observe(&mut self, at: SimTime, net: &BgpNetwork<'_>, outputs: &[Output]) {
        for o in outputs {
            if let Output::BestChanged { router } = *o {
                if self.follows(router) {
                    self.push(at, net, router);
                }
            }
        }
    }

    /// Every change, in order.
    pub fn rows(&self) -> &[TimelineRow] {
        &self.rows
    }

    /// The changes of one router, in order.
    pub fn of(&self, router: RouterId) -> impl Iterator<Item = &TimelineRow> + '_ {
        self.rows.iter().filter(move |r| r.router == router)
    }

    /// The latest change recorded for `router`.
    pub fn latest(&self, router: RouterId) -> Option<&TimelineRow> {
        self.last.get(&router).map(|&i| &self.rows[i])
    }

    /// The route `router` held at `t` (its last change at or before `t`).
    pub fn at(&self, router: RouterId, t: SimTime) -> Option<&TimelineRow> {
        self.of(router).take_while(|r| r.at <= t).last()
    }

    /// The timeline as CSV: `time_s,router,asn,pop,site,as_path`, the site
    /// by name (empty for no route) and the path as ASNs joined by spaces.
    pub fn to_csv(&self, topo: &Topology) -> String {
        let mut out = String::from("time_s,router,asn,pop,site,as_path\n");
        for r in &self.rows {
            let info = topo.router(r.router);
            let site = r.site.map_or("", |s| topo.sites()[s].name.as_str());
            let path: Vec<String> = r.as_path.iter().map(|a| a.0.to_string()).collect();
            let _ = writeln!(
                out,
                "{},{},{},{},{},{}",
                r.at.as_secs_f64(),
                r.router.0,
                info.asn.0,
                info.name,
                site,
                path.join(" ")
            );
        }
        out
    }
}
